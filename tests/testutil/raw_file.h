// File: tests/testutil/raw_file.h
// Reads and patches database files byte by byte, independently of the
// engine's own format code, so format tests check the engine against bbolt's
// documented layout (docs/format.md) rather than against
// itself. Little-endian, as bbolt writes on every supported host.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace boltpp::testing {

// ---- whole files ----
std::string ReadFileBytes(const std::string& path);
void WriteFileBytes(const std::string& path, std::string_view data);
// Overwrites bytes at offset (the file must already be long enough or it grows).
void PatchFile(const std::string& path, uint64_t offset, std::string_view bytes);
uint64_t FileSizeOf(const std::string& path);
void TruncateFile(const std::string& path, uint64_t size);
bool FileExists(const std::string& path);

// ---- little-endian loads from a byte string ----
template <typename T>
T LoadLE(std::string_view buf, size_t off) {
  T v{};
  if (off + sizeof(T) <= buf.size()) std::memcpy(&v, buf.data() + off, sizeof(T));
  return v;
}
template <typename T>
std::string EncodeLE(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &v, sizeof(T));
  return s;
}

// 64-bit FNV-1a (bbolt's meta checksum).
uint64_t Fnv1a64(const void* data, size_t n);

// ---- on-disk constants (bbolt) ----
inline constexpr uint32_t kRawMagic = 0xED0CDAED;
inline constexpr uint32_t kRawVersion = 2;
inline constexpr uint16_t kRawBranch = 0x01;
inline constexpr uint16_t kRawLeaf = 0x02;
inline constexpr uint16_t kRawMeta = 0x04;
inline constexpr uint16_t kRawFreelist = 0x10;
inline constexpr uint64_t kRawNoFreelist = ~uint64_t{0};

struct RawPageHeader {
  uint64_t id = 0;
  uint16_t flags = 0;
  uint16_t count = 0;
  uint32_t overflow = 0;
};
RawPageHeader ParsePageHeader(std::string_view file, uint64_t offset);

struct RawMeta {
  uint64_t page_id = 0;
  uint16_t page_flags = 0;
  uint32_t magic = 0;
  uint32_t version = 0;
  uint32_t page_size = 0;
  uint32_t flags = 0;
  uint64_t root = 0;
  uint64_t root_sequence = 0;
  uint64_t freelist = 0;
  uint64_t pgid = 0;
  uint64_t txid = 0;
  uint64_t checksum = 0;
  uint64_t computed_checksum = 0;  // FNV-1a over bytes [16, 72) of the page
  bool valid() const {
    return magic == kRawMagic && version == kRawVersion && checksum == computed_checksum;
  }
};
// Meta page at byte offset (0 for meta0, page_size for meta1).
RawMeta ParseMeta(std::string_view file, uint64_t offset);
// The meta bbolt would use: the valid one with the higher txid.
RawMeta ActiveMeta(std::string_view file, uint32_t page_size);
// Rewrites the checksum of the meta page at offset so that it validates.
void FixMetaChecksum(std::string* file, uint64_t offset);

struct RawLeafElem {
  uint32_t flags = 0;
  uint32_t pos = 0;
  uint32_t ksize = 0;
  uint32_t vsize = 0;
  std::string key;
  std::string value;
};
// Leaf elements of the page starting at byte offset (count from its header).
std::vector<RawLeafElem> ParseLeaf(std::string_view file, uint64_t offset);

struct RawBranchElem {
  uint32_t pos = 0;
  uint32_t ksize = 0;
  uint64_t pgid = 0;
  std::string key;
};
std::vector<RawBranchElem> ParseBranch(std::string_view file, uint64_t offset);

// Ids of the freelist page at offset (handles the 0xFFFF count overflow).
std::vector<uint64_t> ParseFreelist(std::string_view file, uint64_t offset);

// The value of top-level bucket `name` in the root bucket tree of the
// active meta, following branch pages. Empty when missing.
struct RawBucketRef {
  bool found = false;
  uint32_t elem_flags = 0;
  std::string value;  // bucket header (+ inline page)
  uint64_t root() const { return LoadLE<uint64_t>(value, 0); }
  uint64_t sequence() const { return LoadLE<uint64_t>(value, 8); }
};
RawBucketRef FindRawBucket(std::string_view file, uint32_t page_size, uint64_t root_pgid,
                           std::string_view name);

// Leaf key counts of every leaf under page pgid, left to right.
std::vector<int> LeafCountsUnder(std::string_view file, uint32_t page_size, uint64_t pgid);

}  // namespace boltpp::testing

namespace boltpp::testing {
// Every page id reachable from the meta's root (bucket trees, overflow pages
// included) plus the freelist pages, in the file as written.
std::vector<uint64_t> ReachablePages(std::string_view file, uint32_t page_size,
                                     const RawMeta& meta);
}  // namespace boltpp::testing
