// MultihashIndexSorted / IndexSorted: building, serializing, parsing, lookup.
#include "boltpp/car/index.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <memory>
#include <sstream>

#include "boltpp/car/file_io.h"
#include "boltpp/car/varint.h"

namespace boltpp::car {

namespace {

Status Damage(std::string what) { return Status(Code::kCorruption, std::move(what)); }

uint64_t GetLE(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

}  // namespace

namespace {

// Memory for records and sort keys. Blocks of 2 MiB and more are anonymous
// mappings marked for transparent huge pages: a million records fault in a
// few dozen pages instead of tens of thousands (page faults dominated
// indexing in a VM). Smaller ones come from the heap, so indexing a small
// CAR costs no more than its records.
class Buffer {
 public:
  static constexpr size_t kHuge = 2 << 20;
  explicit Buffer(size_t bytes) {
    if (bytes < kHuge) {
      heap_.reset(new uint8_t[std::max<size_t>(bytes, 1)]);
      data_ = heap_.get();
      return;
    }
    mapped_ = (bytes + kHuge - 1) / kHuge * kHuge;
    void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    madvise(p, mapped_, MADV_HUGEPAGE);
    data_ = static_cast<uint8_t*>(p);
  }
  ~Buffer() {
    if (mapped_ != 0) munmap(data_, mapped_);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  uint8_t* data() const { return data_; }

 private:
  std::unique_ptr<uint8_t[]> heap_;
  size_t mapped_ = 0;
  uint8_t* data_ = nullptr;
};

}  // namespace

// Records of one width, appended into chunks that double from 64 records up
// to 2 MiB: no reallocation copies while a large CAR is indexed.
struct IndexBuilder::Records {
  struct Chunk {
    std::unique_ptr<Buffer> memory;
    size_t capacity;  // records
    size_t count = 0;
  };
  explicit Records(size_t w) : width(w) {}
  uint8_t* Append() {
    if (chunks.empty() || chunks.back().count == chunks.back().capacity) {
      const size_t max_records = std::max<size_t>(1, Buffer::kHuge / width);
      const size_t capacity = chunks.empty() ? std::min<size_t>(64, max_records)
                                             : std::min(chunks.back().capacity * 2, max_records);
      chunks.push_back({std::make_unique<Buffer>(capacity * width), capacity});
    }
    Chunk& c = chunks.back();
    count++;
    return c.memory->data() + (c.count++) * width;
  }
  size_t width;
  size_t count = 0;
  std::vector<Chunk> chunks;
};

namespace {

using Records = IndexBuilder::Records;
using Sink = std::function<void(std::string_view)>;

// Output in 1 MiB pieces.
class Writer {
 public:
  explicit Writer(const Sink& sink) : sink_(sink) { buf_.reserve(kSize); }
  ~Writer() { Flush(); }
  void Put(const void* p, size_t n) {
    if (buf_.size() + n > kSize) Flush();
    buf_.append(static_cast<const char*>(p), n);
  }
  void PutLE(uint64_t v, int bytes) {
    char b[8];
    for (int i = 0; i < bytes; i++) b[i] = static_cast<char>(v >> (8 * i));
    Put(b, static_cast<size_t>(bytes));
  }
  void Flush() {
    if (!buf_.empty()) sink_(buf_);
    buf_.clear();
  }

 private:
  static constexpr size_t kSize = 1 << 20;
  const Sink& sink_;
  std::string buf_;
};

// The records of `parts` (all one width) sorted by digest bytes, then offset.
// Sorts 16-byte keys (the digest's first 8 bytes big-endian, the record's
// position) rather than moving the records, then writes each record once.
void WriteSorted(const std::vector<const Records*>& parts, size_t width, Writer* out) {
  const size_t digest = width - 8;
  size_t n = 0;
  for (const Records* r : parts) n += r->count;
  struct Key {
    uint64_t prefix;
    const uint8_t* record;
  };
  Buffer key_memory(n * sizeof(Key));
  Key* keys = reinterpret_cast<Key*>(key_memory.data());
  size_t k = 0;
  for (const Records* r : parts) {
    for (const auto& chunk : r->chunks) {
      for (size_t i = 0; i < chunk.count; i++) {
        const uint8_t* d = chunk.memory->data() + i * width;
        uint64_t prefix = 0;
        for (size_t b = 0; b < 8; b++) prefix = (prefix << 8) | (b < digest ? d[b] : 0);
        keys[k++] = {prefix, d};
      }
    }
  }
  std::sort(keys, keys + n, [&](const Key& a, const Key& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    if (digest > 8) {
      const int c = std::memcmp(a.record + 8, b.record + 8, digest - 8);
      if (c != 0) return c < 0;
    }
    return GetLE(a.record + digest, 8) < GetLE(b.record + digest, 8);
  });
  // The records are gathered in digest order, i.e. from random places:
  // prefetch a few ahead to hide the cache misses.
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < n; i++) {
    if (i + kAhead < n) __builtin_prefetch(keys[i + kAhead].record);
    out->Put(keys[i].record, width);
  }
}

// An IndexSorted body: i32 bucket count, then width/length/records per bucket.
void WriteSortedBody(const std::map<uint32_t, std::vector<const Records*>>& by_width, Writer* out) {
  out->PutLE(by_width.size(), 4);
  for (const auto& [width, parts] : by_width) {
    size_t n = 0;
    for (const Records* r : parts) n += r->count;
    out->PutLE(width, 4);
    out->PutLE(n * width, 8);
    WriteSorted(parts, width, out);
  }
}

}  // namespace

IndexBuilder::IndexBuilder() = default;
IndexBuilder::~IndexBuilder() = default;

void IndexBuilder::Add(uint64_t hash_code, std::span<const uint8_t> digest, uint64_t offset) {
  // Consecutive records nearly always share a bucket: skip the map lookup.
  const std::pair<uint64_t, uint32_t> key{hash_code, static_cast<uint32_t>(digest.size())};
  if (last_ == nullptr || last_key_ != key) {
    auto& slot = buckets_[key];
    if (!slot) slot = std::make_unique<Records>(digest.size() + 8);
    last_ = slot.get();
    last_key_ = key;
  }
  uint8_t* r = last_->Append();
  if (!digest.empty()) std::memcpy(r, digest.data(), digest.size());
  for (int i = 0; i < 8; i++)
    r[digest.size() + static_cast<size_t>(i)] = static_cast<uint8_t>(offset >> (8 * i));
  count_++;
}

void IndexBuilder::SerializeTo(uint64_t codec, const Sink& sink) const {
  Writer out(sink);
  uint8_t v[10];
  out.Put(v, PutUvarint(v, codec));
  if (codec == kIndexSortedCodec) {
    // Keys are digests only: hash functions with the same digest size share a bucket.
    std::map<uint32_t, std::vector<const Records*>> by_width;
    for (const auto& [key, records] : buckets_) by_width[key.second + 8].push_back(records.get());
    WriteSortedBody(by_width, &out);
    return;
  }
  std::map<uint64_t, std::map<uint32_t, std::vector<const Records*>>> groups;
  for (const auto& [key, records] : buckets_)
    groups[key.first][key.second + 8].push_back(records.get());
  out.PutLE(groups.size(), 4);
  for (const auto& [code, by_width] : groups) {
    out.PutLE(code, 8);
    WriteSortedBody(by_width, &out);
  }
}

size_t IndexBuilder::SerializedSize(uint64_t codec) const {
  size_t n = UvarintSize(codec) + 4;
  std::set<uint64_t> codes;
  std::set<uint32_t> widths;
  for (const auto& [key, records] : buckets_) {
    n += records->count * records->width;
    codes.insert(key.first);
    widths.insert(key.second);
  }
  if (codec == kIndexSortedCodec) return n + widths.size() * 12;
  return n + codes.size() * 12 + buckets_.size() * 12;
}

std::string IndexBuilder::Serialize(uint64_t codec) const {
  std::string out;
  out.reserve(SerializedSize(codec));
  SerializeTo(codec, [&out](std::string_view piece) { out.append(piece); });
  return out;
}

namespace {

// Indexes the reader's sections into *builder (or reports an adoptable index).
Status Collect(CarReader& reader, const IndexOptions& opts, IndexBuilder* builder) {
  if (reader.seekable()) {
    Status s = reader.Rewind();
    if (!s.ok()) return s;
  }
  Section s;
  for (;;) {
    auto more = reader.Next(&s, false);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (s.cid_info.hash_code == kIdentity && !opts.store_identity_cids) continue;
    if (s.cid_info.size > opts.max_cid_size) {
      return Damage(
          fmt::format("section at byte {}: CID of {} bytes exceeds the {}-byte index limit",
                      reader.payload_offset() + s.offset, s.cid_info.size, opts.max_cid_size));
    }
    builder->Add(s.cid_info.hash_code,
                 s.cid.subspan(s.cid_info.digest_offset, s.cid_info.digest_size), s.offset);
  }
  return Status::OK();
}

// True when the CARv2's embedded index is what opts asks for: adoption is on,
// the embedded index has the requested codec, and identity CIDs are not to be
// stored (go-car's embedded indexes skip them). An unreadable codec means build.
bool Adopts(CarReader& reader, const IndexOptions& opts) {
  if (!opts.adopt_existing || opts.store_identity_cids || !reader.v2_header() ||
      !reader.v2_header()->has_index() || !reader.seekable()) {
    return false;
  }
  auto codec = reader.IndexCodec();
  return codec.ok() && *codec == opts.codec;
}

}  // namespace

Result<std::string> BuildIndex(CarReader& reader, const IndexOptions& opts) {
  if (Adopts(reader, opts)) return reader.IndexBytes();
  IndexBuilder builder;
  Status s = Collect(reader, opts, &builder);
  if (!s.ok()) return s;
  return builder.Serialize(opts.codec);
}

Status WriteIndexFile(const std::string& car_path, const std::string& out_path,
                      const IndexOptions& opts) {
  ReadOptions ro;
  ro.zero_length_section_as_eof = opts.zero_length_section_as_eof;
  auto reader = CarReader::OpenFile(car_path, ro);
  if (!reader.ok()) return reader.status();
  // Build first (a damaged CAR leaves no file behind), then stream the
  // sorted records to a temporary file, sync it and rename it into place.
  IndexBuilder builder;
  std::string adopted;
  if (Adopts(**reader, opts)) {
    auto bytes = (*reader)->IndexBytes();
    if (!bytes.ok()) return bytes.status();
    adopted = std::move(*bytes);
  } else {
    Status s = Collect(**reader, opts, &builder);
    if (!s.ok()) return Status(s.code(), fmt::format("{}: {}", car_path, s.detail()));
  }
  return WriteFileAtomically(out_path, [&](const PieceWriter& write) {
    if (!adopted.empty()) return write(adopted);
    Status s;
    builder.SerializeTo(opts.codec, [&](std::string_view piece) {
      if (s.ok()) s = write(piece);
    });
    return s;
  });
}

namespace {

// Parses one IndexSorted body at *pos, appending its buckets.
template <typename Bucket>
Status ParseSortedBody(const std::string& b, size_t* pos, uint64_t code,
                       std::vector<Bucket>* buckets, size_t* records) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  auto need = [&](size_t n, const char* what) -> Status {
    if (b.size() - *pos < n) {
      return Damage(fmt::format("index byte {}: {} truncated ({} of {} bytes)", *pos, what,
                                b.size() - *pos, n));
    }
    return Status::OK();
  };
  Status s = need(4, "bucket count");
  if (!s.ok()) return s;
  const auto count = static_cast<int32_t>(GetLE(p + *pos, 4));
  if (count < 0 || static_cast<uint64_t>(count) > (b.size() - *pos - 4) / 12) {
    return Damage(fmt::format("index byte {}: bucket count {} does not fit in the {} bytes left",
                              *pos, count, b.size() - *pos - 4));
  }
  *pos += 4;
  for (int32_t i = 0; i < count; i++) {
    if (!(s = need(12, "bucket header")).ok()) return s;
    const uint32_t width = static_cast<uint32_t>(GetLE(p + *pos, 4));
    const auto length = static_cast<int64_t>(GetLE(p + *pos + 4, 8));
    if (width < 8 || width > kMaxIndexWidth) {
      return Damage(fmt::format("index byte {}: record width {} outside [8, {}]", *pos, width,
                                kMaxIndexWidth));
    }
    if (length < 0 || static_cast<uint64_t>(length) > b.size() - *pos - 12 || length % width != 0) {
      return Damage(
          fmt::format("index byte {}: records length {} is negative, not a multiple of width {} or "
                      "runs past the end ({} bytes left)",
                      *pos + 4, length, width, b.size() - *pos - 12));
    }
    *pos += 12;
    const size_t n = static_cast<size_t>(length) / width;
    const size_t digest = width - 8;
    for (size_t r = 1; r < n; r++) {
      if (std::memcmp(p + *pos + (r - 1) * width, p + *pos + r * width, digest) > 0) {
        return Damage(fmt::format("index byte {}: records not sorted by digest", *pos + r * width));
      }
    }
    buckets->push_back({code, width, *pos, n});
    *records += n;
    *pos += static_cast<size_t>(length);
  }
  return Status::OK();
}

}  // namespace

Result<Index> Index::Parse(std::span<const uint8_t> bytes) {
  Index idx;
  idx.bytes_.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  VarintError err{};
  size_t pos = DecodeUvarint(bytes.data(), bytes.size(), &idx.codec_, &err);
  if (pos == 0) return Damage(fmt::format("index byte 0: codec {}", VarintErrorText(err)));
  Status s;
  if (idx.codec_ == kIndexSortedCodec) {
    s = ParseSortedBody(idx.bytes_, &pos, 0, &idx.buckets_, &idx.records_);
  } else if (idx.codec_ == kMultihashIndexSortedCodec) {
    if (bytes.size() - pos < 4)
      return Damage(fmt::format("index byte {}: group count truncated", pos));
    const auto groups = static_cast<int32_t>(GetLE(bytes.data() + pos, 4));
    if (groups < 0 || static_cast<uint64_t>(groups) > (bytes.size() - pos - 4) / 12) {
      return Damage(fmt::format("index byte {}: group count {} does not fit in the {} bytes left",
                                pos, groups, bytes.size() - pos - 4));
    }
    pos += 4;
    for (int32_t g = 0; g < groups && s.ok(); g++) {
      if (bytes.size() - pos < 8)
        return Damage(fmt::format("index byte {}: hash code truncated", pos));
      const uint64_t code = GetLE(bytes.data() + pos, 8);
      pos += 8;
      s = ParseSortedBody(idx.bytes_, &pos, code, &idx.buckets_, &idx.records_);
    }
  } else {
    return Damage(
        fmt::format("index byte 0: codec 0x{:x} ({}) is not car-index-sorted or "
                    "car-multihash-index-sorted",
                    idx.codec_, MulticodecName(idx.codec_)));
  }
  if (!s.ok()) return s;
  if (pos != bytes.size()) {
    return Damage(fmt::format("index byte {}: {} bytes after the index", pos, bytes.size() - pos));
  }
  return idx;
}

Result<Index> Index::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kIOError, fmt::format("open {}: {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  auto idx = Parse({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  if (!idx.ok())
    return Status(idx.status().code(), fmt::format("{}: {}", path, idx.status().detail()));
  return idx;
}

size_t Index::Lookup(uint64_t hash_code, std::span<const uint8_t> digest,
                     std::vector<uint64_t>* offsets) const {
  const auto* base = reinterpret_cast<const uint8_t*>(bytes_.data());
  size_t found = 0;
  for (const Bucket& b : buckets_) {
    if (b.width != digest.size() + 8) continue;
    if (codec_ == kMultihashIndexSortedCodec && b.hash_code != hash_code) continue;
    size_t lo = 0, hi = b.count;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (std::memcmp(base + b.start + mid * b.width, digest.data(), digest.size()) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    for (; lo < b.count &&
           std::memcmp(base + b.start + lo * b.width, digest.data(), digest.size()) == 0;
         lo++) {
      offsets->push_back(GetLE(base + b.start + lo * b.width + digest.size(), 8));
      found++;
    }
  }
  return found;
}

void Index::ForEach(const std::function<bool(const IndexEntry&)>& fn) const {
  const auto* base = reinterpret_cast<const uint8_t*>(bytes_.data());
  for (const Bucket& b : buckets_) {
    const size_t digest = b.width - 8;
    for (size_t i = 0; i < b.count; i++) {
      const uint8_t* r = base + b.start + i * b.width;
      if (!fn(IndexEntry{b.hash_code, {r, digest}, GetLE(r + digest, 8)})) return;
    }
  }
}

Result<std::optional<Section>> FindSection(const Index& index, CarReader& reader, const Cid& cid) {
  std::vector<uint64_t> offsets;
  index.Lookup(cid, &offsets);
  for (uint64_t off : offsets) {
    auto section = reader.ReadSectionAt(off);
    if (!section.ok()) return section.status();
    const std::string_view got(reinterpret_cast<const char*>(section->cid.data()),
                               section->cid.size());
    if (got == cid.bytes()) return std::optional<Section>(*section);
  }
  return std::optional<Section>();
}

}  // namespace boltpp::car
