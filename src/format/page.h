// File: src/format/page.h
// bbolt's on-disk layout: constants, little-endian accessors and bounds-checked
// views of pages, elements, meta and bucket headers. All raw byte access of
// the engine goes through this file. See docs/format.md.
#pragma once

#include <bit>
#include <iterator>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "boltpp/status.h"

namespace boltpp::format {

static_assert(std::endian::native == std::endian::little,
              "boltpp writes bbolt's little-endian layout and assumes a little-endian host");

using pgid_t = uint64_t;
using txid_t = uint64_t;

// Sizes pinned to bbolt's structs.
constexpr size_t kPageHeaderSize = 16;
constexpr size_t kBranchElementSize = 16;
constexpr size_t kLeafElementSize = 16;
constexpr size_t kBucketHeaderSize = 16;
constexpr size_t kMetaSize = 64;

// Page header field offsets.
constexpr size_t kPageIdOff = 0;
constexpr size_t kPageFlagsOff = 8;
constexpr size_t kPageCountOff = 10;
constexpr size_t kPageOverflowOff = 12;

// Element field offsets, from the start of the element. `pos` is the
// distance from the element to its key; the value follows the key.
constexpr size_t kLeafElemFlagsOff = 0;
constexpr size_t kLeafElemPosOff = 4;
constexpr size_t kLeafElemKeySizeOff = 8;
constexpr size_t kLeafElemValueSizeOff = 12;
constexpr size_t kBranchElemPosOff = 0;
constexpr size_t kBranchElemKeySizeOff = 4;
constexpr size_t kBranchElemPgidOff = 8;

// Meta field offsets, from the start of the meta page (the meta struct
// follows the page header). The checksum covers the kMetaChecksummedSize
// bytes from kMetaMagicOff, i.e. every field before it.
constexpr size_t kMetaMagicOff = kPageHeaderSize + 0;
constexpr size_t kMetaVersionOff = kPageHeaderSize + 4;
constexpr size_t kMetaPageSizeOff = kPageHeaderSize + 8;
constexpr size_t kMetaFlagsOff = kPageHeaderSize + 12;
constexpr size_t kMetaRootOff = kPageHeaderSize + 16;  // a bucket header: root, sequence
constexpr size_t kMetaRootSequenceOff = kPageHeaderSize + 24;
constexpr size_t kMetaFreelistOff = kPageHeaderSize + 32;
constexpr size_t kMetaPgidOff = kPageHeaderSize + 40;
constexpr size_t kMetaTxidOff = kPageHeaderSize + 48;
constexpr size_t kMetaChecksumOff = kPageHeaderSize + 56;
constexpr size_t kMetaChecksummedSize = kMetaChecksumOff - kMetaMagicOff;
static_assert(kMetaChecksumOff + 8 == kPageHeaderSize + kMetaSize);

// Page flags (exactly one is set on a valid page).
constexpr uint16_t kBranchPage = 0x01;
constexpr uint16_t kLeafPage = 0x02;
constexpr uint16_t kMetaPage = 0x04;
constexpr uint16_t kFreelistPage = 0x10;
// Leaf element flag: the value is a nested bucket.
constexpr uint32_t kBucketLeafFlag = 0x01;

constexpr uint32_t kMagic = 0xED0CDAED;
constexpr uint32_t kVersion = 2;
constexpr pgid_t kNoFreelist = ~pgid_t{0};
constexpr size_t kMinKeysPerPage = 2;
constexpr double kMinFillPercent = 0.1;
constexpr double kMaxFillPercent = 1.0;
constexpr uint32_t kMinPageSize = 1024;
constexpr uint32_t kMaxPageSize = 1u << 24;
constexpr size_t kMaxMmapStep = size_t{1} << 30;
constexpr uint64_t kMaxMapSize = 0xFFFFFFFFFFFFull;
// Deeper trees than this cannot exist (each level at least doubles the keys):
// a deeper path means a cycle in a damaged file.
constexpr int kMaxTreeDepth = 64;
// Nodes split in memory during a transaction get placeholder ids from here
// up; they are never written or freed (a real page id is far below).
constexpr pgid_t kFirstPlaceholderPgid = pgid_t{1} << 62;
inline bool IsPlaceholderPgid(pgid_t id) {
  return id >= kFirstPlaceholderPgid && id != kNoFreelist;
}
// A node is split in memory during a transaction once it holds more than
// kInMemorySplitInodes entries and more than kInMemorySplitPages pages of
// data (checked every kInMemorySplitCheckEvery inserts), or more than
// kInMemorySplitMaxInodes entries: random inserts into one bucket then stay
// cheap (an insert moves at most a few KiB of inodes) instead of bbolt's O(n)
// each. The split is at one of bbolt's spill cuts, so key-order loads, and
// transactions below these sizes, lay out pages exactly as bbolt does.
constexpr size_t kInMemorySplitInodes = 256;
constexpr size_t kInMemorySplitPages = 8;
constexpr size_t kInMemorySplitCheckEvery = 16;
constexpr size_t kInMemorySplitMaxInodes = 4096;
// Walks that follow nested buckets stop (as damage) past this nesting.
constexpr int kMaxBucketNesting = 1000;

// ---- little-endian loads and stores (any alignment) ----
template <typename T>
inline T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
inline void Store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

uint64_t Fnv1a64(const uint8_t* data, size_t n);

// ---- page header ----
inline pgid_t PageId(const uint8_t* p) { return Load<uint64_t>(p + kPageIdOff); }
inline uint16_t PageFlags(const uint8_t* p) { return Load<uint16_t>(p + kPageFlagsOff); }
inline uint16_t PageCount(const uint8_t* p) { return Load<uint16_t>(p + kPageCountOff); }
inline uint32_t PageOverflow(const uint8_t* p) { return Load<uint32_t>(p + kPageOverflowOff); }
inline void SetPageHeader(uint8_t* p, pgid_t id, uint16_t flags, uint16_t count,
                          uint32_t overflow) {
  Store<uint64_t>(p + kPageIdOff, id);
  Store<uint16_t>(p + kPageFlagsOff, flags);
  Store<uint16_t>(p + kPageCountOff, count);
  Store<uint32_t>(p + kPageOverflowOff, overflow);
}
// "branch", "leaf", "meta", "freelist" or "unknown<xx>".
std::string PageTypeName(uint16_t flags);

// ---- elements ----
// A view of a branch or leaf page (or an inline bucket page) with `span`
// readable bytes. Element accessors check every offset against span.
struct PageView {
  const uint8_t* data = nullptr;
  size_t span = 0;

  uint16_t flags() const { return PageFlags(data); }
  uint16_t count() const { return PageCount(data); }
  bool is_leaf() const { return flags() == kLeafPage; }
  bool is_branch() const { return flags() == kBranchPage; }
};

struct LeafElem {
  uint32_t flags;
  std::string_view key;
  std::string_view value;
};
struct BranchElem {
  std::string_view key;
  pgid_t pgid;
};

// Decode element i; false when its offsets leave the page (damage).
inline bool ReadLeafElem(const PageView& p, size_t i, LeafElem* out) {
  const uint64_t elem_off = kPageHeaderSize + i * kLeafElementSize;
  if (elem_off + kLeafElementSize > p.span) return false;
  const uint8_t* e = p.data + elem_off;
  const uint32_t pos = Load<uint32_t>(e + kLeafElemPosOff);
  const uint32_t ksize = Load<uint32_t>(e + kLeafElemKeySizeOff);
  const uint32_t vsize = Load<uint32_t>(e + kLeafElemValueSizeOff);
  const uint64_t key_off = elem_off + pos;
  if (key_off + uint64_t{ksize} + uint64_t{vsize} > p.span) return false;
  out->flags = Load<uint32_t>(e + kLeafElemFlagsOff);
  out->key = std::string_view(reinterpret_cast<const char*>(p.data + key_off), ksize);
  out->value = std::string_view(reinterpret_cast<const char*>(p.data + key_off + ksize), vsize);
  return true;
}

inline bool ReadBranchElem(const PageView& p, size_t i, BranchElem* out) {
  const uint64_t elem_off = kPageHeaderSize + i * kBranchElementSize;
  if (elem_off + kBranchElementSize > p.span) return false;
  const uint8_t* e = p.data + elem_off;
  const uint32_t pos = Load<uint32_t>(e + kBranchElemPosOff);
  const uint32_t ksize = Load<uint32_t>(e + kBranchElemKeySizeOff);
  const uint64_t key_off = elem_off + pos;
  if (key_off + uint64_t{ksize} > p.span) return false;
  out->key = std::string_view(reinterpret_cast<const char*>(p.data + key_off), ksize);
  out->pgid = Load<uint64_t>(e + kBranchElemPgidOff);
  return true;
}

// An inode-like struct's value: a `value` member, or value() and
// set_value() (the engine's Inode, whose value shares storage with pgid).
template <typename InodeT>
std::string_view InodeValue(const InodeT& in) {
  if constexpr (requires { in.value(); }) {
    return in.value();
  } else {
    return in.value;
  }
}
template <typename InodeT>
void SetInodeValue(InodeT* out, std::string_view v) {
  if constexpr (requires { out->set_value(v); }) {
    out->set_value(v);
  } else {
    out->value = v;
  }
}

// Decodes element i of a leaf or branch page into an inode-like struct (any
// type with flags, pgid and key members and a value (InodeValue) that accept
// the element's fields; a leaf sets no pgid, a branch no flags or value).
// False when the element's offsets leave the page (damage).
template <typename InodeT>
bool ReadInode(const PageView& p, size_t i, InodeT* out) {
  if (p.is_leaf()) {
    LeafElem e;
    if (!ReadLeafElem(p, i, &e)) return false;
    out->flags = e.flags;
    out->key = e.key;
    SetInodeValue(out, e.value);
  } else {
    BranchElem e;
    if (!ReadBranchElem(p, i, &e)) return false;
    out->pgid = e.pgid;
    out->key = e.key;
  }
  return true;
}

// bbolt's WriteInodeToPage: sets the page type flag (kept ORed with what the
// header holds) and the count, then writes the elements followed by each
// key and its value, in order. inodes is a range of structs with flags,
// pgid, key and value (size()/data()); the page must have room for
// NodePageSize(...) bytes. Returns the bytes written from the page start.
template <typename InodeRange>
size_t WriteInodes(uint8_t* page, bool is_leaf, const InodeRange& inodes) {
  const size_t n = std::size(inodes);
  Store<uint16_t>(page + kPageFlagsOff, PageFlags(page) | (is_leaf ? kLeafPage : kBranchPage));
  Store<uint16_t>(page + kPageCountOff, static_cast<uint16_t>(n));
  size_t off = kPageHeaderSize + kLeafElementSize * n;
  size_t i = 0;
  for (const auto& in : inodes) {
    uint8_t* e = page + kPageHeaderSize + i * kLeafElementSize;
    const auto pos = static_cast<uint32_t>(off - static_cast<size_t>(e - page));
    const auto ksize = static_cast<uint32_t>(in.key.size());
    if (is_leaf) {
      const std::string_view value = InodeValue(in);
      Store<uint32_t>(e + kLeafElemFlagsOff, in.flags);
      Store<uint32_t>(e + kLeafElemPosOff, pos);
      Store<uint32_t>(e + kLeafElemKeySizeOff, ksize);
      Store<uint32_t>(e + kLeafElemValueSizeOff, static_cast<uint32_t>(value.size()));
      if (value.data() == in.key.data() + in.key.size()) {
        // Key and value side by side (a put's copy, or a page's element): one copy.
        std::memcpy(page + off, in.key.data(), in.key.size() + value.size());
      } else {
        std::memcpy(page + off, in.key.data(), in.key.size());
        if (!value.empty()) std::memcpy(page + off + in.key.size(), value.data(), value.size());
      }
      off += in.key.size() + value.size();
    } else {
      Store<uint32_t>(e + kBranchElemPosOff, pos);
      Store<uint32_t>(e + kBranchElemKeySizeOff, ksize);
      Store<uint64_t>(e + kBranchElemPgidOff, in.pgid);
      std::memcpy(page + off, in.key.data(), in.key.size());
      off += in.key.size();
    }
    ++i;
  }
  return off;
}

// Bytes of a leaf/branch page in use (bbolt's stats formula).
size_t LeafBytesUsed(const PageView& p);
size_t BranchBytesUsed(const PageView& p);

// Checks the header of a branch/leaf page: flags, and that the element
// array fits in span. On failure returns kCorruption "page N: ...".
Status ValidateNodePage(const PageView& p, pgid_t id);

// ---- meta ----
struct Meta {
  uint32_t magic = kMagic;
  uint32_t version = kVersion;
  uint32_t page_size = 0;
  uint32_t flags = 0;
  pgid_t root = 0;
  uint64_t root_sequence = 0;
  pgid_t freelist = 0;
  pgid_t pgid = 0;
  txid_t txid = 0;
  uint64_t checksum = 0;

  // Decodes the meta struct of a meta page (page header included), as it
  // stands: nothing is validated.
  static Meta Decode(const uint8_t* page);
  // Writes the page header (id txid%2 unless given) and meta struct with a
  // fresh checksum into page (page_size bytes, zeroed by the caller).
  void EncodePage(uint8_t* page, pgid_t page_id) const;
  // Writes only the meta struct, with a fresh checksum, leaving the page
  // header and the rest of the page as they are (surgery edits metas so).
  void EncodeFields(uint8_t* page) const;
  uint64_t ComputeChecksum() const;
  // bbolt's Meta.Validate: magic (kInvalid), version (kVersionMismatch),
  // checksum (kChecksum), in that order.
  Status ValidateBasic() const;
  // ValidateBasic, then boltpp's own sanity checks (kInvalid with detail).
  Status Validate() const;
};

// ---- bucket header (16 bytes at the start of a bucket value) ----
struct BucketHeader {
  pgid_t root = 0;
  uint64_t sequence = 0;
  static BucketHeader Decode(const uint8_t* p) {
    return {Load<uint64_t>(p), Load<uint64_t>(p + 8)};
  }
  void Encode(uint8_t* p) const {
    Store<uint64_t>(p, root);
    Store<uint64_t>(p + 8, sequence);
  }
};

// ---- freelist page ----
// A freelist page's count of ids and where they start: a count of 0xFFFF
// in the header means the real count is the first u64 after the header.
struct FreelistHeader {
  uint64_t count = 0;
  size_t ids_offset = kPageHeaderSize;
};
// False when the page is too short to hold the header (and overflow count).
bool ReadFreelistHeader(const uint8_t* page, size_t span, FreelistHeader* out);
// Decodes the ids of a freelist page with `span` readable bytes.
Status DecodeFreelist(const uint8_t* page, size_t span, pgid_t id, std::vector<pgid_t>* ids);
// Serialized size of a freelist of n ids (header included).
inline size_t FreelistSize(size_t n) { return kPageHeaderSize + 8 * n + (n >= 0xFFFF ? 8 : 0); }
// Writes ids (sorted) into page (FreelistSize(ids) bytes available).
void EncodeFreelist(uint8_t* page, const std::vector<pgid_t>& ids);

// bbolt's mmap size for a request of `size` bytes.
uint64_t MmapSize(uint64_t size, uint32_t page_size);

Status Corrupt(pgid_t id, const std::string& what);

}  // namespace boltpp::format
