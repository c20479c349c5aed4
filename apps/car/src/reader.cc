// CARv1/CARv2 reading: headers, then sections one by one.
#include "boltpp/car/reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "boltpp/car/varint.h"
#include "source.h"

namespace boltpp::car {

namespace {

Status Damage(std::string what) { return Status(Code::kCorruption, std::move(what)); }

// "8 MiB" for whole MiB, else "N-byte".
// Bytes fetched for a section's length and CID when its block is skipped.
constexpr size_t kHeadBytes = 4096;

std::string LimitText(uint64_t limit) {
  return limit % (1 << 20) == 0 ? fmt::format("{} MiB", limit >> 20)
                                : fmt::format("{}-byte", limit);
}

uint64_t LoadLE64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

void StoreLE64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// A bounded reader of the DAG-CBOR subset CAR headers use.
class CborIn {
 public:
  CborIn(std::span<const uint8_t> b, uint64_t base) : b_(b), base_(base) {}
  uint64_t where() const { return base_ + pos_; }
  size_t left() const { return b_.size() - pos_; }

  // Reads an item head: major type and argument.
  Status Head(int* major, uint64_t* arg) {
    const uint64_t at = where();
    if (left() < 1) return Damage(fmt::format("CAR header at byte {}: truncated CBOR item", at));
    const uint8_t ib = b_[pos_++];
    *major = ib >> 5;
    const int info = ib & 31;
    if (info < 24) {
      *arg = static_cast<uint64_t>(info);
      return Status::OK();
    }
    if (info > 27) {
      return Damage(fmt::format(
          "CAR header at byte {}: indefinite or reserved CBOR length (0x{:02x})", at, ib));
    }
    const size_t n = size_t{1} << (info - 24);
    if (left() < n) return Damage(fmt::format("CAR header at byte {}: truncated CBOR length", at));
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | b_[pos_++];
    *arg = v;
    return Status::OK();
  }
  Status Expect(int want_major, const char* what, uint64_t* arg) {
    const uint64_t at = where();
    int major;
    Status s = Head(&major, arg);
    if (!s.ok()) return s;
    if (major != want_major) {
      return Damage(fmt::format("CAR header at byte {}: expected {}, found CBOR major type {}", at,
                                what, major));
    }
    return Status::OK();
  }
  // n bytes of a string whose head was just read.
  Status Take(uint64_t n, std::span<const uint8_t>* out) {
    if (n > left()) {
      return Damage(fmt::format(
          "CAR header at byte {}: string of {} bytes runs past the header end", where(), n));
    }
    *out = b_.subspan(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return Status::OK();
  }

 private:
  std::span<const uint8_t> b_;
  uint64_t base_;
  size_t pos_ = 0;
};

Status DecodeRoots(CborIn& in, std::vector<Cid>* roots) {
  uint64_t count;
  Status s = in.Expect(4, "the roots array", &count);
  if (!s.ok()) return s;
  if (count > in.left()) {
    return Damage(
        fmt::format("CAR header at byte {}: {} roots cannot fit in the header", in.where(), count));
  }
  for (uint64_t i = 0; i < count; i++) {
    const uint64_t at = in.where();
    uint64_t tag, len;
    if (!(s = in.Expect(6, "a CID link (tag 42)", &tag)).ok()) return s;
    if (tag != 42)
      return Damage(fmt::format("CAR header at byte {}: tag {} is not a CID link (42)", at, tag));
    if (!(s = in.Expect(2, "CID link bytes", &len)).ok()) return s;
    std::span<const uint8_t> bytes;
    if (!(s = in.Take(len, &bytes)).ok()) return s;
    if (bytes.empty() || bytes[0] != 0) {
      return Damage(fmt::format(
          "CAR header at byte {}: CID link does not start with the 0x00 multibase prefix", at));
    }
    auto cid = Cid::FromBytes(
        std::string_view(reinterpret_cast<const char*>(bytes.data()) + 1, bytes.size() - 1));
    if (!cid.ok())
      return Damage(
          fmt::format("CAR header at byte {}: root {}: {}", at, i, cid.status().detail()));
    roots->push_back(std::move(*cid));
  }
  return Status::OK();
}

}  // namespace

Status DecodeHeaderBody(std::span<const uint8_t> body, uint64_t base, uint64_t* version,
                        std::vector<Cid>* roots, bool* has_roots) {
  CborIn in(body, base);
  uint64_t entries;
  Status s = in.Expect(5, "a map", &entries);
  if (!s.ok()) return s;
  bool has_version = false;
  *has_roots = false;
  for (uint64_t i = 0; i < entries; i++) {
    const uint64_t at = in.where();
    uint64_t klen;
    if (!(s = in.Expect(3, "a text key", &klen)).ok()) return s;
    std::span<const uint8_t> key;
    if (!(s = in.Take(klen, &key)).ok()) return s;
    const std::string_view k(reinterpret_cast<const char*>(key.data()), key.size());
    if (k == "roots" && !*has_roots) {
      *has_roots = true;
      if (!(s = DecodeRoots(in, roots)).ok()) return s;
    } else if (k == "version" && !has_version) {
      has_version = true;
      if (!(s = in.Expect(0, "an unsigned version", version)).ok()) return s;
    } else {
      return Damage(fmt::format("CAR header at byte {}: unexpected or repeated key \"{}\"", at, k));
    }
  }
  if (!has_version) return Damage(fmt::format("CAR header at byte {}: no version", base));
  if (in.left() != 0) {
    return Damage(
        fmt::format("CAR header at byte {}: {} bytes after the header map", in.where(), in.left()));
  }
  return Status::OK();
}

std::string EncodeV1Header(std::span<const Cid> roots) {
  std::string body;
  auto head = [&body](int major, uint64_t v) {
    const uint8_t m = static_cast<uint8_t>(major << 5);
    if (v < 24) {
      body.push_back(static_cast<char>(m | v));
    } else {
      int n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
      body.push_back(static_cast<char>(m | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27)));
      for (int i = n - 1; i >= 0; i--) body.push_back(static_cast<char>(v >> (8 * i)));
    }
  };
  head(5, 2);
  head(3, 5);
  body += "roots";
  head(4, roots.size());
  for (const Cid& c : roots) {
    head(6, 42);
    head(2, c.bytes().size() + 1);
    body.push_back('\0');
    body += c.bytes();
  }
  head(3, 7);
  body += "version";
  head(0, 1);
  std::string out;
  AppendUvarint(&out, body.size());
  return out + body;
}

std::string EncodeV2Header(const V2Header& h) {
  std::string out(reinterpret_cast<const char*>(kV2Pragma.data()), kPragmaSize);
  uint8_t b[kV2HeaderSize];
  std::memcpy(b, h.characteristics.data(), 16);
  StoreLE64(b + 16, h.data_offset);
  StoreLE64(b + 24, h.data_size);
  StoreLE64(b + 32, h.index_offset);
  out.append(reinterpret_cast<const char*>(b), sizeof b);
  return out;
}

const uint8_t* StreamSource::Fetch(uint64_t pos, size_t n, size_t* got, Status* error) {
  if (pos < buf_pos_) {
    *error = Status(Code::kInvalidArgument, "a stream cannot go back");
    return nullptr;
  }
  // Drop what lies before pos (reading and discarding when pos is further on).
  while (pos > buf_pos_) {
    const size_t have = end_ - begin_;
    const uint64_t drop = pos - buf_pos_;
    if (drop <= have) {
      begin_ += static_cast<size_t>(drop);
      buf_pos_ = pos;
      break;
    }
    begin_ = end_ = 0;
    buf_pos_ += have;
    if (eof_) {
      static const uint8_t kNothing = 0;
      *got = 0;
      return &kNothing;
    }
    if (buf_.size() < (1u << 20)) buf_.resize(1u << 20);
    const ssize_t r = read(fd_, buf_.data(),
                           static_cast<size_t>(std::min<uint64_t>(buf_.size(), pos - buf_pos_)));
    if (r < 0) {
      if (errno == EINTR) continue;
      *error = Status(Code::kIOError, fmt::format("read: {}", std::strerror(errno)));
      return nullptr;
    }
    if (r == 0) eof_ = true;
    end_ = static_cast<size_t>(r);
  }
  while (end_ - begin_ < n && !eof_) {
    if (buf_.size() - begin_ < n || buf_.size() < (1u << 20)) {
      // Compact, then grow to hold n bytes (plus room for a large read).
      if (end_ > begin_) std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
      if (buf_.size() < n + (1u << 20)) buf_.resize(n + (1u << 20));
    }
    const ssize_t r = read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (r < 0) {
      if (errno == EINTR) continue;
      *error = Status(Code::kIOError, fmt::format("read: {}", std::strerror(errno)));
      return nullptr;
    }
    if (r == 0) eof_ = true;
    end_ += static_cast<size_t>(r);
  }
  *got = std::min(n, end_ - begin_);
  static const uint8_t kNothing = 0;
  return buf_.empty() ? &kNothing : buf_.data() + begin_;  // never nullptr (= I/O error)
}

CarReader::CarReader(std::unique_ptr<ByteSource> source, ReadOptions opts)
    : source_(std::move(source)), opts_(opts) {}
CarReader::~CarReader() = default;

bool CarReader::seekable() const { return source_->seekable(); }
uint64_t CarReader::input_size() const { return source_->size(); }

namespace {
// The calling thread's spare FileSource buffer (FileSource's contract).
struct SpareBuffer {
  std::unique_ptr<uint8_t[]> buf;
  size_t capacity = 0;
};
thread_local SpareBuffer t_spare_buffer;
}  // namespace

FileSource::FileSource(int fd, uint64_t size)
    : fd_(fd),
      size_(size),
      buf_(std::move(t_spare_buffer.buf)),
      capacity_(std::exchange(t_spare_buffer.capacity, 0)) {}

FileSource::~FileSource() {
  close(fd_);
  if (capacity_ > t_spare_buffer.capacity && capacity_ <= kMaxSpareBuffer) {
    t_spare_buffer.buf = std::move(buf_);
    t_spare_buffer.capacity = capacity_;
  }
}

const uint8_t* FileSource::Fetch(uint64_t pos, size_t n, size_t* got, Status* error) {
  static const uint8_t kNothing = 0;
  if (pos >= size_) {
    *got = 0;
    return &kNothing;
  }
  const size_t want = static_cast<size_t>(std::min<uint64_t>(n, size_ - pos));
  if (pos >= window_pos_ && pos + want <= window_pos_ + window_len_) {
    *got = want;
    return buf_.get() + (pos - window_pos_);
  }
  const size_t len =
      static_cast<size_t>(std::min<uint64_t>(std::max(want, read_ahead_), size_ - pos));
  if (capacity_ < len) {
    buf_.reset(new uint8_t[len]);  // uninitialized: pread fills it
    capacity_ = len;
  }
  size_t done = 0;
  while (done < len) {
    const ssize_t r = pread(fd_, buf_.get() + done, len - done, static_cast<off_t>(pos + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      window_len_ = 0;
      *error = Status(Code::kIOError,
                      fmt::format("read at byte {}: {}", pos + done, std::strerror(errno)));
      return nullptr;
    }
    if (r == 0) break;  // the file shrank
    done += static_cast<size_t>(r);
  }
  window_pos_ = pos;
  window_len_ = done;
  *got = std::min(want, done);
  return buf_.get();
}

Result<std::unique_ptr<CarReader>> CarReader::OpenFile(const std::string& path, ReadOptions opts) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(Code::kIOError, fmt::format("open {}: {}", path, std::strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    close(fd);
    return Status(Code::kIOError, fmt::format("stat {}: {}", path, std::strerror(e)));
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return Status(Code::kIOError, fmt::format("open {}: is a directory", path));
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<CarReader> r(
      new CarReader(std::make_unique<FileSource>(fd, static_cast<uint64_t>(st.st_size)), opts));
  Status s = r->ReadHeaders();
  if (!s.ok()) return Status(s.code(), fmt::format("{}: {}", path, s.detail()));
  return r;
}

Result<std::unique_ptr<CarReader>> CarReader::OpenBytes(std::span<const uint8_t> bytes,
                                                        ReadOptions opts) {
  std::unique_ptr<CarReader> r(new CarReader(std::make_unique<MemorySource>(bytes), opts));
  Status s = r->ReadHeaders();
  if (!s.ok()) return s;
  return r;
}

Result<std::unique_ptr<CarReader>> CarReader::OpenStream(int fd, ReadOptions opts) {
  std::unique_ptr<CarReader> r(new CarReader(std::make_unique<StreamSource>(fd), opts));
  Status s = r->ReadHeaders();
  if (!s.ok()) return s;
  return r;
}

namespace {

// Reads a length-prefixed CAR header at abs: sets *end to the byte after it.
Status ReadLengthPrefixedHeader(ByteSource& src, uint64_t abs, uint64_t limit, uint64_t max_size,
                                uint64_t* version, std::vector<Cid>* roots, bool* has_roots,
                                uint64_t* end, std::string* raw) {
  Status io;
  size_t got;
  const uint8_t* p = src.Fetch(abs, kMaxVarintBytes, &got, &io);
  if (!p) return io;
  if (got == 0) return Damage(fmt::format("CAR header at byte {}: no data (empty input)", abs));
  uint64_t len;
  VarintError err{};
  const size_t vs = DecodeUvarint(p, std::min<uint64_t>(got, limit - abs), &len, &err);
  if (vs == 0)
    return Damage(fmt::format("CAR header length at byte {}: {}", abs, VarintErrorText(err)));
  if (len == 0) return Damage(fmt::format("CAR header length at byte {}: zero", abs));
  if (len > max_size) {
    return Damage(fmt::format("CAR header length at byte {}: {} exceeds the {} limit", abs, len,
                              LimitText(max_size)));
  }
  p = src.Fetch(abs + vs, static_cast<size_t>(len), &got, &io);
  if (!p) return io;
  if (got < len || abs + vs + len > limit) {
    return Damage(fmt::format(
        "CAR header at byte {}: length {} runs past the end of the data ({} bytes left)", abs, len,
        std::min<uint64_t>(got, limit - abs - vs)));
  }
  if (raw) raw->assign(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
  *end = abs + vs + len;
  return DecodeHeaderBody({p, static_cast<size_t>(len)}, abs + vs, version, roots, has_roots);
}

}  // namespace

Status CarReader::ReadHeaders() {
  ByteSource& src = *source_;
  const uint64_t size = src.size();
  uint64_t version = 0, end = 0;
  bool has_roots = false;
  std::string raw;
  Status s = ReadLengthPrefixedHeader(src, 0, size, opts_.max_header_size, &version, &roots_,
                                      &has_roots, &end, &raw);
  if (!s.ok()) return s;
  if (version == 1) {
    version_ = 1;
    payload_offset_ = 0;
    payload_size_ = size;
    first_section_ = next_ = end;
    return Status::OK();
  }
  if (version != 2)
    return Damage(fmt::format("CAR header at byte 0: version {} is not 1 or 2", version));
  if (end != kPragmaSize || has_roots) {
    return Damage("CARv2 pragma at byte 0: not the 11-byte {\"version\": 2} pragma");
  }
  version_ = 2;
  size_t got;
  const uint8_t* p = src.Fetch(kPragmaSize, kV2HeaderSize, &got, &s);
  if (!p) return s;
  if (got < kV2HeaderSize) {
    return Damage(fmt::format("CARv2 header at byte 11: truncated ({} of 40 bytes)", got));
  }
  V2Header h;
  std::memcpy(h.characteristics.data(), p, 16);
  h.data_offset = LoadLE64(p + 16);
  h.data_size = LoadLE64(p + 24);
  h.index_offset = LoadLE64(p + 32);
  v2_ = h;
  if (h.data_offset < kPragmaSize + kV2HeaderSize) {
    return Damage(fmt::format(
        "CARv2 header at byte 27: data offset {} lies inside the 51-byte header", h.data_offset));
  }
  if (h.data_size == 0) return Damage("CARv2 header at byte 35: data size is 0");
  if (h.data_size > UINT64_MAX - h.data_offset || h.data_offset + h.data_size > size) {
    return Damage(fmt::format(
        "CARv2 header at byte 27: data (offset {}, size {}) points outside the file ({} bytes)",
        h.data_offset, h.data_size, size));
  }
  if (h.index_offset != 0 && h.index_offset >= size) {
    return Damage(
        fmt::format("CARv2 header at byte 43: index offset {} points outside the file ({} bytes)",
                    h.index_offset, size));
  }
  payload_offset_ = h.data_offset;
  payload_size_ = h.data_size;
  s = ReadLengthPrefixedHeader(src, h.data_offset, h.data_offset + h.data_size,
                               opts_.max_header_size, &version, &roots_, &has_roots, &end, nullptr);
  if (!s.ok()) return s;
  if (version != 1) {
    return Damage(fmt::format("CARv2 inner CARv1 header at byte {}: version {} (expected 1)",
                              h.data_offset, version));
  }
  first_section_ = next_ = end - h.data_offset;
  return Status::OK();
}

Status CarReader::ParseSection(uint64_t rel, Section* out, bool want_block, bool* end) {
  *end = false;
  if (rel >= payload_size_) {
    *end = true;
    return Status::OK();
  }
  const uint64_t abs = payload_offset_ + rel;
  const uint64_t left = payload_size_ - rel;  // bytes of payload from here
  // Skipping large blocks: read only around each section's head.
  const bool head_only = !want_block && source_->seekable();
  source_->SetReadAhead(head_only && last_length_ > (64 << 10) ? kHeadBytes : (1 << 20));
  Status io;
  size_t got;
  const uint8_t* p = source_->Fetch(abs, kMaxVarintBytes, &got, &io);
  if (!p) return io;
  if (got == 0) {
    *end = true;
    return Status::OK();
  }
  uint64_t len;
  VarintError err{};
  const size_t vs = DecodeUvarint(p, std::min<uint64_t>(got, left), &len, &err);
  if (vs == 0)
    return Damage(fmt::format("section at byte {}: length {}", abs, VarintErrorText(err)));
  if (len == 0) {
    if (opts_.zero_length_section_as_eof) {
      *end = true;
      return Status::OK();
    }
    return Damage(fmt::format(
        "section at byte {}: zero length (padding? use the zero-length-as-end option)", abs));
  }
  if (len > opts_.max_section_size) {
    return Damage(fmt::format("section at byte {}: length {} exceeds the {} limit", abs, len,
                              LimitText(opts_.max_section_size)));
  }
  last_length_ = len;
  const uint64_t total = vs + len;
  const uint64_t available = std::min<uint64_t>(left, source_->size() - abs);
  if (total > available) {
    // A seekable source knows its size: report truncation before reading.
    if (source_->seekable()) {
      return Damage(fmt::format(
          "section at byte {}: length {} runs past the end of the data ({} bytes left): truncated",
          abs, len, available - vs));
    }
  }
  // The CID is parsed from the section's head; the whole section is fetched
  // when the block is wanted, when the head does not hold the CID, or from a stream.
  size_t fetch = static_cast<size_t>(total);
  if (head_only && total > kHeadBytes) fetch = kHeadBytes;
  p = source_->Fetch(abs, fetch, &got, &io);
  if (!p) return io;
  if (got < fetch || total > left) {
    return Damage(fmt::format(
        "section at byte {}: length {} runs past the end of the data ({} bytes left): truncated",
        abs, len, std::min<uint64_t>(got, left) - vs));
  }
  auto info = ParseCid(p + vs, static_cast<size_t>(std::min<uint64_t>(len, got - vs)));
  if (!info.ok() && fetch < total) {
    p = source_->Fetch(abs, static_cast<size_t>(total), &got, &io);
    if (!p) return io;
    if (got < total) return Damage(fmt::format("section at byte {}: truncated", abs));
    info = ParseCid(p + vs, static_cast<size_t>(len));
  }
  if (!info.ok()) {
    return Damage(fmt::format("section at byte {}: CID at byte {}: {}", abs, abs + vs,
                              info.status().detail()));
  }
  out->offset = rel;
  out->length = len;
  out->varint_size = static_cast<uint32_t>(vs);
  out->cid_info = *info;
  out->cid = {p + vs, info->size};
  if (want_block) {
    out->block = {p + vs + info->size, static_cast<size_t>(len - info->size)};
  } else {
    out->block = {};
  }
  return Status::OK();
}

Result<bool> CarReader::Next(Section* out, bool want_block) {
  if (done_) return false;
  bool end;
  Status s = ParseSection(next_, out, want_block, &end);
  if (!s.ok()) {
    done_ = true;
    return s;
  }
  if (end) {
    done_ = true;
    return false;
  }
  next_ = out->end();
  return true;
}

Status CarReader::Rewind() {
  if (!seekable()) return Status(Code::kInvalidArgument, "cannot rewind a stream");
  next_ = first_section_;
  done_ = false;
  return Status::OK();
}

Result<Section> CarReader::ReadSectionAt(uint64_t offset) {
  if (!seekable()) return Status(Code::kInvalidArgument, "cannot seek in a stream");
  if (offset < first_section_ || offset >= payload_size_) {
    return Damage(fmt::format("offset {} is outside the payload's sections [{}, {})", offset,
                              first_section_, payload_size_));
  }
  Section s;
  bool end;
  Status st = ParseSection(offset, &s, true, &end);
  if (!st.ok()) return st;
  if (end) return Damage(fmt::format("offset {}: zero-length section (end of data)", offset));
  return s;
}

Result<std::string> CarReader::IndexBytes() {
  if (!v2_ || !v2_->has_index()) return Status(Code::kInvalidArgument, "the CAR has no index");
  if (!seekable()) return Status(Code::kInvalidArgument, "cannot read the index of a stream");
  const uint64_t size = source_->size() - v2_->index_offset;  // index_offset < size (checked)
  Status io;
  size_t got;
  const uint8_t* p = source_->Fetch(v2_->index_offset, static_cast<size_t>(size), &got, &io);
  if (!p) return io;
  return std::string(reinterpret_cast<const char*>(p), got);
}

Result<uint64_t> CarReader::IndexCodec() {
  if (!v2_ || !v2_->has_index()) return Status(Code::kInvalidArgument, "the CAR has no index");
  if (!seekable()) return Status(Code::kInvalidArgument, "cannot read the index of a stream");
  Status io;
  size_t got = 0;
  const uint8_t* p = source_->Fetch(v2_->index_offset, kMaxVarintBytes, &got, &io);
  if (!p) return io;
  uint64_t codec = 0;
  VarintError err{};
  if (DecodeUvarint(p, std::min(got, kMaxVarintBytes), &codec, &err) == 0) {
    return Damage(
        fmt::format("index at byte {}: codec {}", v2_->index_offset, VarintErrorText(err)));
  }
  return codec;
}

}  // namespace boltpp::car
