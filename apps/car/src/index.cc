// MultihashIndexSorted / IndexSorted: building, serializing, parsing, lookup.
#include "boltpp/car/index.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "boltpp/car/varint.h"

namespace boltpp::car {

namespace {

Status Damage(std::string what) { return Status(Code::kCorruption, std::move(what)); }

void PutLE(std::string* out, uint64_t v, int bytes) {
  char b[8];
  for (int i = 0; i < bytes; i++) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, static_cast<size_t>(bytes));
}

uint64_t GetLE(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

// Appends fixed-width records (digest ++ u64le offset) to *out sorted by
// digest bytes, then offset. Sorts 16-byte keys (the digest's first 8 bytes
// big-endian, the record number) rather than moving the records, then
// copies each record once.
void AppendSorted(const std::string& records, size_t width, std::string* out) {
  const size_t digest = width - 8;
  const size_t n = records.size() / width;
  const auto* base = reinterpret_cast<const uint8_t*>(records.data());
  struct Key {
    uint64_t prefix;
    uint64_t index;
  };
  std::unique_ptr<Key[]> keys(new Key[n]);
  for (size_t i = 0; i < n; i++) {
    uint64_t prefix = 0;
    const uint8_t* d = base + i * width;
    for (size_t b = 0; b < 8; b++) prefix = (prefix << 8) | (b < digest ? d[b] : 0);
    keys[i] = {prefix, i};
  }
  std::sort(keys.get(), keys.get() + n, [&](const Key& a, const Key& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    const uint8_t* ra = base + a.index * width;
    const uint8_t* rb = base + b.index * width;
    if (digest > 8) {
      const int c = std::memcmp(ra + 8, rb + 8, digest - 8);
      if (c != 0) return c < 0;
    }
    return GetLE(ra + digest, 8) < GetLE(rb + digest, 8);
  });
  const size_t at = out->size();
  out->resize(at + records.size());
  char* dst = out->data() + at;
  for (size_t i = 0; i < n; i++) std::memcpy(dst + i * width, base + keys[i].index * width, width);
}

// An IndexSorted body: i32 bucket count, then width/length/records per bucket.
void SerializeSorted(const std::map<uint32_t, const std::string*>& by_width, std::string* out) {
  PutLE(out, by_width.size(), 4);
  for (const auto& [width, records] : by_width) {
    PutLE(out, width, 4);
    PutLE(out, records->size(), 8);
    AppendSorted(*records, width, out);
  }
}

}  // namespace

void IndexBuilder::Add(uint64_t hash_code, std::span<const uint8_t> digest, uint64_t offset) {
  std::string& b = buckets_[{hash_code, static_cast<uint32_t>(digest.size())}];
  b.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  PutLE(&b, offset, 8);
  count_++;
}

std::string IndexBuilder::Serialize(uint64_t codec) const {
  size_t total = 64;
  for (const auto& [key, records] : buckets_) total += records.size() + 32;
  std::string out;
  out.reserve(total);
  AppendUvarint(&out, codec);
  if (codec == kIndexSortedCodec) {
    // Keys are digests only: hash functions with the same digest size share a bucket.
    std::map<uint32_t, std::string> merged;
    for (const auto& [key, records] : buckets_) merged[key.second + 8] += records;
    std::map<uint32_t, const std::string*> by_width;
    for (const auto& [width, records] : merged) by_width[width] = &records;
    SerializeSorted(by_width, &out);
    return out;
  }
  std::map<uint64_t, std::map<uint32_t, const std::string*>> groups;
  for (const auto& [key, records] : buckets_) groups[key.first][key.second + 8] = &records;
  PutLE(&out, groups.size(), 4);
  for (const auto& [code, by_width] : groups) {
    PutLE(&out, code, 8);
    SerializeSorted(by_width, &out);
  }
  return out;
}

Result<std::string> BuildIndex(CarReader& reader, const IndexOptions& opts) {
  if (opts.adopt_existing && reader.v2_header() && reader.v2_header()->has_index() &&
      reader.seekable()) {
    return reader.IndexBytes();
  }
  if (reader.seekable()) {
    Status s = reader.Rewind();
    if (!s.ok()) return s;
  }
  IndexBuilder builder;
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
    builder.Add(s.cid_info.hash_code,
                s.cid.subspan(s.cid_info.digest_offset, s.cid_info.digest_size), s.offset);
  }
  return builder.Serialize(opts.codec);
}

Status WriteIndexFile(const std::string& car_path, const std::string& out_path,
                      const IndexOptions& opts) {
  ReadOptions ro;
  ro.zero_length_section_as_eof = opts.zero_length_section_as_eof;
  auto reader = CarReader::OpenFile(car_path, ro);
  if (!reader.ok()) return reader.status();
  auto bytes = BuildIndex(**reader, opts);
  if (!bytes.ok())
    return Status(bytes.status().code(), fmt::format("{}: {}", car_path, bytes.status().detail()));
  const std::string tmp = out_path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return Status(Code::kIOError, fmt::format("create {}: {}", tmp, std::strerror(errno)));
  size_t done = 0;
  while (done < bytes->size()) {
    const ssize_t w = write(fd, bytes->data() + done, bytes->size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int e = errno;
      close(fd);
      unlink(tmp.c_str());
      return Status(Code::kIOError, fmt::format("write {}: {}", tmp, std::strerror(e)));
    }
    done += static_cast<size_t>(w);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(tmp.c_str());
    return Status(Code::kIOError, fmt::format("sync {}: {}", tmp, std::strerror(errno)));
  }
  if (rename(tmp.c_str(), out_path.c_str()) != 0) {
    const int e = errno;
    unlink(tmp.c_str());
    return Status(Code::kIOError,
                  fmt::format("rename {} to {}: {}", tmp, out_path, std::strerror(e)));
  }
  return Status::OK();
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

}  // namespace boltpp::car
