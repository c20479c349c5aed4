// CAR indexes (apps-spec 3.5, 3.6): building go-car's MultihashIndexSorted
// (0x0401) and IndexSorted (0x0400) from a CAR, (de)serializing them, and
// looking multihashes up. Index bytes = uvarint(codec) ++ body, exactly what
// sits at a CARv2's index offset and in a dagstore `.full.idx` file.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "boltpp/car/reader.h"
#include "boltpp/status.h"

namespace boltpp::car {

inline constexpr uint64_t kIndexSortedCodec = 0x0400;           // car-index-sorted
inline constexpr uint64_t kMultihashIndexSortedCodec = 0x0401;  // car-multihash-index-sorted
inline constexpr uint64_t kMaxIndexWidth = 32 << 20;  // a record wider than this is damage

// Collects (multihash, offset) records and serializes them sorted.
class IndexBuilder {
 public:
  IndexBuilder();
  ~IndexBuilder();
  IndexBuilder(const IndexBuilder&) = delete;
  IndexBuilder& operator=(const IndexBuilder&) = delete;
  void Add(uint64_t hash_code, std::span<const uint8_t> digest, uint64_t offset);
  size_t record_count() const { return count_; }
  // uvarint(codec) ++ body; records in each bucket sorted by digest bytes,
  // equal digests by offset (go-car leaves their order to an unstable sort).
  // kIndexSortedCodec merges all hash functions (its keys are digests only).
  std::string Serialize(uint64_t codec = kMultihashIndexSortedCodec) const;
  // The same bytes, handed to `sink` in pieces (for writing a file without
  // holding the whole index twice in memory).
  void SerializeTo(uint64_t codec, const std::function<void(std::string_view)>& sink) const;
  // The serialized size.
  size_t SerializedSize(uint64_t codec = kMultihashIndexSortedCodec) const;

  struct Records;  // fixed-width records in 1 MiB chunks (src/index.cc)

 private:
  // (hash code, digest size) -> records of (digest ++ u64le offset).
  std::map<std::pair<uint64_t, uint32_t>, std::unique_ptr<Records>> buckets_;
  Records* last_ = nullptr;  // the bucket of the previous Add
  std::pair<uint64_t, uint32_t> last_key_;
  size_t count_ = 0;
};

struct IndexOptions {
  bool store_identity_cids = false;  // go-car skips identity multihashes
  bool zero_length_section_as_eof = false;
  uint64_t max_cid_size = kMaxIndexCidSize;
  uint64_t codec = kMultihashIndexSortedCodec;
  // For a CARv2 with an index: return its index bytes verbatim.
  bool adopt_existing = true;
};

// Indexes every section of the reader's payload from its first section
// (the reader is rewound when it is seekable). Returns the index bytes.
Result<std::string> BuildIndex(CarReader& reader, const IndexOptions& opts = {});
// Opens `car_path`, builds (or adopts) its index and writes it to
// `out_path` (through a temporary file renamed into place).
Status WriteIndexFile(const std::string& car_path, const std::string& out_path,
                      const IndexOptions& opts = {});

// One record as iterated: the multihash it indexes and its payload offset.
struct IndexEntry {
  uint64_t hash_code;  // 0 for IndexSorted (codes are not stored)
  std::span<const uint8_t> digest;
  uint64_t offset;
};

// A parsed, validated index. Parsing checks every count and width against
// the bytes present, so lookups and iteration never read out of bounds.
class Index {
 public:
  // Copies the bytes (uvarint(codec) ++ body).
  static Result<Index> Parse(std::span<const uint8_t> bytes);
  static Result<Index> Load(const std::string& path);

  uint64_t codec() const { return codec_; }
  size_t record_count() const { return records_; }
  const std::string& bytes() const { return bytes_; }

  // Appends to *offsets every offset recorded for the multihash (code,
  // digest); for IndexSorted the code is ignored. Returns how many.
  size_t Lookup(uint64_t hash_code, std::span<const uint8_t> digest,
                std::vector<uint64_t>* offsets) const;
  size_t Lookup(const Cid& cid, std::vector<uint64_t>* offsets) const {
    return Lookup(cid.hash_code(),
                  {reinterpret_cast<const uint8_t*>(cid.digest().data()), cid.digest().size()},
                  offsets);
  }
  // Calls fn for every record: groups by code, buckets by width, records in
  // order. Stops early when fn returns false.
  void ForEach(const std::function<bool(const IndexEntry&)>& fn) const;

 private:
  struct Bucket {
    uint64_t hash_code;
    uint32_t width;  // digest size + 8
    size_t start;    // offset of the first record in bytes_
    size_t count;
  };
  uint64_t codec_ = 0;
  std::string bytes_;
  std::vector<Bucket> buckets_;
  size_t records_ = 0;
};

// The section holding `cid` (its exact CID bytes, not only its multihash),
// found through `index` in the seekable `reader`; nullopt when the index
// points at no such section. Its spans live until the next call on reader.
Result<std::optional<Section>> FindSection(const Index& index, CarReader& reader, const Cid& cid);

}  // namespace boltpp::car
