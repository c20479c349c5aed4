// The deterministic CAR generator (apps-spec 3.7).
#include "boltpp/car/gen.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "boltpp/car/cid.h"
#include "boltpp/car/index.h"
#include "boltpp/car/reader.h"
#include "boltpp/car/varint.h"

namespace boltpp::car {

namespace {

// splitmix64: small, fast, and the same on every platform (unlike std::
// distributions), so a seed always gives the same corpus.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  uint64_t Range(uint64_t lo, uint64_t hi) { return hi <= lo ? lo : lo + Next() % (hi - lo + 1); }
  void Fill(uint8_t* p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const uint64_t v = Next();
      std::memcpy(p + i, &v, 8);
    }
    if (i < n) {
      const uint64_t v = Next();
      std::memcpy(p + i, &v, n - i);
    }
  }

 private:
  uint64_t s_;
};

struct Link {
  Cid cid;
  uint64_t tsize;  // the linked block's size plus everything under it
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

class Generator {
 public:
  Generator(const GenOptions& o, uint64_t file_index)
      : o_(o), rng_(o.seed * 0x9e3779b97f4a7c15ULL + file_index * 0xd1b54a32d192ed03ULL + 1) {}

  Result<GenStats> Run(const std::string& path) {
    GenVersion version = o_.version;
    if (version == GenVersion::kMixed) {
      version = static_cast<GenVersion>(rng_.Next() % 3);
    }
    file_.reset(std::fopen(path.c_str(), "wb"));
    if (!file_)
      return Status(Code::kIOError, fmt::format("create {}: {}", path, std::strerror(errno)));
    buffer_.resize(1 << 20);
    std::setvbuf(file_.get(), buffer_.data(), _IOFBF, buffer_.size());
    indexed_ = version == GenVersion::kV2Indexed;
    const bool v2 = version != GenVersion::kV1;
    const uint64_t payload_offset = v2 ? kPragmaSize + kV2HeaderSize : 0;
    payload_start_ = payload_offset;
    if (v2) Write(std::string(payload_offset, '\0'));
    // The root's kind is chosen first so the header's size is known; the
    // header is rewritten with the real root at the end.
    root_v0_ = rng_.Unit() < o_.v0_fraction;
    const std::uint8_t zeros[32] = {};
    const Cid placeholder = root_v0_ ? Cid::V0(zeros) : Cid::V1(kDagCbor, kSha2_256, zeros);
    Write(EncodeV1Header({&placeholder, 1}));

    const uint64_t leaves = LeafCount();
    for (uint64_t i = 0; i < leaves; i++) AddChild(0, MakeLeaf());
    const Cid root = Finish();

    const uint64_t data_size = pos_ - payload_offset;
    if (o_.zero_pad && !v2) {
      uint64_t target = 1;
      while (target < pos_) target <<= 1;
      WriteZeros(target - pos_);
    }
    V2Header h;
    if (v2) {
      h.data_offset = payload_offset;
      h.data_size = data_size;
      if (indexed_) {
        h.index_offset = pos_;
        Write(index_.Serialize());
      }
    }
    const uint64_t file_size = pos_;
    if (std::fseek(file_.get(), static_cast<long>(payload_offset), SEEK_SET) != 0)
      return IoError(path);
    Write(EncodeV1Header({&root, 1}));
    if (v2) {
      if (std::fseek(file_.get(), 0, SEEK_SET) != 0) return IoError(path);
      Write(EncodeV2Header(h));
    }
    if (std::ferror(file_.get()) || std::fclose(file_.release()) != 0) return IoError(path);
    return GenStats{sections_, file_size};
  }

 private:
  Status IoError(const std::string& path) {
    return Status(Code::kIOError, fmt::format("write {}: {}", path, std::strerror(errno)));
  }

  uint64_t LeafCount() {
    const double lo = std::log(static_cast<double>(std::max<uint64_t>(1, o_.min_blocks)));
    const double hi = std::log(static_cast<double>(std::max(o_.min_blocks, o_.max_blocks)) + 1);
    const auto n = static_cast<uint64_t>(std::exp(lo + (hi - lo) * rng_.Unit()));
    return std::clamp<uint64_t>(n, std::max<uint64_t>(1, o_.min_blocks),
                                std::max(o_.min_blocks, o_.max_blocks));
  }

  void Write(const std::string& bytes) { Write(bytes.data(), bytes.size()); }
  void Write(const void* p, size_t n) {
    std::fwrite(p, 1, n, file_.get());
    pos_ += n;
  }
  void WriteZeros(uint64_t n) {
    static const char kZeros[4096] = {};
    while (n > 0) {
      const size_t k = static_cast<size_t>(std::min<uint64_t>(n, sizeof kZeros));
      Write(kZeros, k);
      n -= k;
    }
  }

  // Writes one section (payload-relative offset = pos_ - payload start).
  void Emit(const Cid& cid, const uint8_t* block, size_t size) {
    const uint64_t offset = pos_ - payload_start_;
    if (indexed_ && cid.hash_code() != kIdentity) {
      const std::string_view d = cid.digest();
      index_.Add(cid.hash_code(), {reinterpret_cast<const uint8_t*>(d.data()), d.size()}, offset);
    }
    uint8_t len[10];
    Write(len, PutUvarint(len, cid.bytes().size() + size));
    Write(cid.bytes());
    Write(block, size);
    sections_++;
  }

  Link MakeLeaf() {
    if (!recent_.empty() && rng_.Unit() < o_.duplicate_fraction) {
      const auto& [cid, bytes] = recent_[rng_.Next() % recent_.size()];
      Emit(cid, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      return {cid, bytes.size()};
    }
    if (rng_.Unit() < o_.identity_fraction) {
      uint8_t data[32];
      const size_t n = rng_.Range(1, 32);
      rng_.Fill(data, n);
      Cid cid = Cid::V1(kRaw, kIdentity, {data, n});
      Emit(cid, data, n);
      return {std::move(cid), n};
    }
    const size_t size =
        rng_.Range(o_.min_block_size, std::max(o_.min_block_size, o_.max_block_size));
    block_.resize(size + 16);
    size_t at = 0, total = size;
    const bool v0 = rng_.Unit() < o_.v0_fraction;
    if (v0) {  // a dag-pb node holding only Data: 0a <len> <bytes>
      block_[0] = 0x0a;
      at = 1 + PutUvarint(block_.data() + 1, size);
      total = at + size;
    }
    rng_.Fill(block_.data() + at, size);
    uint8_t digest[32];
    SHA256(block_.data(), total, digest);
    Cid cid = v0 ? Cid::V0(digest) : Cid::V1(kRaw, kSha2_256, digest);
    Emit(cid, block_.data(), total);
    if (o_.duplicate_fraction > 0 && total <= 64 * 1024) {
      if (recent_.size() < 16) {
        recent_.emplace_back(cid, std::string(reinterpret_cast<const char*>(block_.data()), total));
      } else {
        recent_[rng_.Next() % 16] = {
            cid, std::string(reinterpret_cast<const char*>(block_.data()), total)};
      }
    }
    return {std::move(cid), total};
  }

  // An interior node over `children`: dag-pb (CIDv0) or a DAG-CBOR array of links.
  Link MakeNode(const std::vector<Link>& children, bool v0) {
    std::string b;
    uint64_t tsize = 0;
    for (const Link& c : children) tsize += c.tsize;
    if (v0) {
      for (const Link& c : children) {
        std::string link;
        link.push_back(0x0a);
        AppendUvarint(&link, c.cid.bytes().size());
        link += c.cid.bytes();
        link.push_back(0x18);
        AppendUvarint(&link, c.tsize);
        b.push_back(0x12);
        AppendUvarint(&b, link.size());
        b += link;
      }
    } else {
      auto head = [&b](int major, uint64_t v) {
        const auto m = static_cast<char>(major << 5);
        if (v < 24) {
          b.push_back(static_cast<char>(m | static_cast<char>(v)));
        } else if (v < 256) {
          b.push_back(static_cast<char>(m | 24));
          b.push_back(static_cast<char>(v));
        } else {
          b.push_back(static_cast<char>(m | 25));
          b.push_back(static_cast<char>(v >> 8));
          b.push_back(static_cast<char>(v));
        }
      };
      head(4, children.size());
      for (const Link& c : children) {
        head(6, 42);
        head(2, c.cid.bytes().size() + 1);
        b.push_back('\0');
        b += c.cid.bytes();
      }
    }
    uint8_t digest[32];
    SHA256(reinterpret_cast<const uint8_t*>(b.data()), b.size(), digest);
    Cid cid = v0 ? Cid::V0(digest) : Cid::V1(kDagCbor, kSha2_256, digest);
    Emit(cid, reinterpret_cast<const uint8_t*>(b.data()), b.size());
    return {std::move(cid), tsize + b.size()};
  }

  void AddChild(size_t level, Link link) {
    if (levels_.size() <= level) levels_.resize(level + 1);
    levels_[level].push_back(std::move(link));
    if (levels_[level].size() >= std::max<uint32_t>(2, o_.fanout)) {
      Link parent = MakeNode(levels_[level], rng_.Unit() < o_.v0_fraction);
      levels_[level].clear();
      AddChild(level + 1, std::move(parent));
    }
  }

  // Closes every level bottom-up; the last node made is the root.
  Cid Finish() {
    for (size_t k = 0; k < levels_.size(); k++) {
      if (levels_[k].empty()) continue;
      bool above_empty = true;
      for (size_t j = k + 1; j < levels_.size(); j++)
        above_empty = above_empty && levels_[j].empty();
      if (above_empty) {
        Link root = MakeNode(levels_[k], root_v0_);
        return root.cid;
      }
      Link parent = MakeNode(levels_[k], rng_.Unit() < o_.v0_fraction);
      levels_[k].clear();
      if (levels_.size() <= k + 1) levels_.resize(k + 2);
      levels_[k + 1].push_back(std::move(parent));
    }
    return Cid();  // not reached: there is at least one leaf
  }

  const GenOptions& o_;
  Rng rng_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::vector<char> buffer_;
  std::vector<uint8_t> block_;
  std::vector<std::vector<Link>> levels_;
  std::vector<std::pair<Cid, std::string>> recent_;
  IndexBuilder index_;
  uint64_t pos_ = 0;
  uint64_t payload_start_ = 0;
  uint64_t sections_ = 0;
  bool indexed_ = false;
  bool root_v0_ = false;
};

}  // namespace

Result<GenStats> GenerateCar(const std::string& path, const GenOptions& opts, uint64_t file_index) {
  Generator g(opts, file_index);
  return g.Run(path);
}

Result<GenVersion> ParseGenVersion(const std::string& text) {
  if (text == "1") return GenVersion::kV1;
  if (text == "2") return GenVersion::kV2;
  if (text == "2i") return GenVersion::kV2Indexed;
  if (text == "mix") return GenVersion::kMixed;
  return Status(Code::kInvalidArgument, fmt::format("version \"{}\" is not 1, 2, 2i or mix", text));
}

}  // namespace boltpp::car
