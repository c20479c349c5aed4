// File: src/wal/log.cc
// The log's bytes: header, record frames, checksums, the scan, the writer,
// and the operation codec. Every read of the file's bytes is bounds-checked.
#include "wal/log.h"

#include <chrono>
#include <cstring>
#include <random>

namespace boltpp::wal {

using format::Load;
using format::Store;

namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

// FNV-1a over 64-bit little-endian words, then the tail bytes one by one:
// the FNV construction at a word per multiply (about 8x FNV-1a's byte
// speed), so large records checksum at memory speed. It guards against torn
// and stale writes, not against an adversary.
uint64_t Checksum(uint64_t h, const uint8_t* p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * kFnvPrime;
  }
  for (; i < n; i++) h = (h ^ p[i]) * kFnvPrime;
  return h;
}

// Header field offsets.
constexpr size_t kHdrVersionOff = 8;
constexpr size_t kHdrSaltOff = 16;
constexpr size_t kHdrBaseOff = 24;
constexpr size_t kHdrChecksumOff = 32;
// Frame field offsets; the checksum covers the frame before it and the payload.
constexpr size_t kFrameLengthOff = 0;
constexpr size_t kFrameSaltOff = 8;
constexpr size_t kFrameTxidOff = 16;
constexpr size_t kFrameChecksumOff = 24;

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

uint64_t FrameChecksum(const uint8_t* frame, const uint8_t* payload, size_t n) {
  return Checksum(Checksum(kFnvOffset, frame, kFrameChecksumOff), payload, n);
}

bool AllZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) return false;
  }
  return true;
}

// Parses the header; "" when valid, else why not.
std::string ParseHeader(const std::string& b, Header* h) {
  if (b.size() < kHeaderSize) return b.empty() ? "" : "short header";
  const uint8_t* p = U8(b);
  if (AllZero(p, kHeaderSize)) return "zeroed header";
  if (std::memcmp(p, kMagic, sizeof kMagic) != 0) return "bad magic";
  const uint32_t version = Load<uint32_t>(p + kHdrVersionOff);
  if (version < kOldestReadableVersion || version > kVersion) {
    return "unknown version " + std::to_string(version) + " (this build reads " +
           std::to_string(kOldestReadableVersion) + " to " + std::to_string(kVersion) + ")";
  }
  if (Load<uint64_t>(p + kHdrChecksumOff) != Checksum(kFnvOffset, p, kHdrChecksumOff))
    return "header checksum mismatch";
  h->salt = Load<uint64_t>(p + kHdrSaltOff);
  h->base_txid = Load<uint64_t>(p + kHdrBaseOff);
  h->version = version;
  return "";
}

// Checks the record at off; "" and *out when valid, else why not.
std::string ParseRecord(const std::string& b, uint64_t off, const Header& h, txid_t prev,
                        RecordRef* out) {
  if (b.size() - off < kFrameSize) return "torn record frame";
  const uint8_t* f = U8(b) + off;
  const uint64_t len = Load<uint64_t>(f + kFrameLengthOff);
  if (Load<uint64_t>(f + kFrameSaltOff) != h.salt) return "salt mismatch (an older generation)";
  if (len > kMaxPayload || len > b.size() - off - kFrameSize) return "torn record";
  if (Load<uint64_t>(f + kFrameChecksumOff) != FrameChecksum(f, f + kFrameSize, len))
    return "record checksum mismatch";
  const txid_t txid = Load<uint64_t>(f + kFrameTxidOff);
  if (txid <= prev) return "record txid does not increase";
  *out = RecordRef{txid, off + kFrameSize, len};
  return "";
}

}  // namespace

std::string LogPath(const std::string& db_path) { return db_path + "-wal"; }
std::string SecondLogPath(const std::string& db_path) { return db_path + "-wal2"; }

Scan ParseLog(std::string bytes) {
  Scan s;
  s.bytes = std::move(bytes);
  s.file_size = s.bytes.size();
  s.stop = ParseHeader(s.bytes, &s.header);
  if (!s.stop.empty() || s.bytes.empty()) return s;
  s.has_header = true;
  uint64_t off = kHeaderSize;
  txid_t prev = s.header.base_txid;
  while (off < s.bytes.size()) {
    RecordRef r;
    std::string why = ParseRecord(s.bytes, off, s.header, prev, &r);
    if (!why.empty()) {
      // Zeroes after the last record are free space, not damage.
      if (!AllZero(U8(s.bytes) + off, std::min<size_t>(kFrameSize, s.bytes.size() - off)))
        s.stop = why + " at offset " + std::to_string(off);
      break;
    }
    s.records.push_back(r);
    prev = r.txid;
    off = r.offset + r.length;
  }
  s.end = s.records.empty() ? kHeaderSize : s.records.back().offset + s.records.back().length;
  return s;
}

Result<Scan> ReadLog(File* file) {
  auto size = file->Size();
  if (!size.ok()) return size.status();
  std::string bytes(*size, '\0');
  if (*size > 0) {
    if (Status s = file->ReadAt(0, bytes.data(), bytes.size()); !s.ok()) return s;
  }
  return ParseLog(std::move(bytes));
}

std::string EncodeHeader(const Header& h) {
  std::string b(kHeaderSize, '\0');
  auto* p = reinterpret_cast<uint8_t*>(b.data());
  std::memcpy(p, kMagic, sizeof kMagic);
  Store<uint32_t>(p + kHdrVersionOff, h.version);
  Store<uint64_t>(p + kHdrSaltOff, h.salt);
  Store<uint64_t>(p + kHdrBaseOff, h.base_txid);
  Store<uint64_t>(p + kHdrChecksumOff, Checksum(kFnvOffset, p, kHdrChecksumOff));
  return b;
}

// Fills in the frame at the start of `framed`, whose payload follows it.
static void FillFrame(std::string* framed, uint64_t salt, txid_t txid) {
  auto* f = reinterpret_cast<uint8_t*>(framed->data());
  const size_t payload = framed->size() - kFrameSize;
  Store<uint64_t>(f + kFrameLengthOff, payload);
  Store<uint64_t>(f + kFrameSaltOff, salt);
  Store<uint64_t>(f + kFrameTxidOff, txid);
  Store<uint64_t>(f + kFrameChecksumOff, FrameChecksum(f, f + kFrameSize, payload));
}

static void EncodeRecordInto(std::string* out, uint64_t salt, txid_t txid,
                             std::string_view payload) {
  out->assign(kFrameSize, '\0');
  out->append(payload);
  FillFrame(out, salt, txid);
}

std::string EncodeRecord(uint64_t salt, txid_t txid, std::string_view payload) {
  std::string out;
  EncodeRecordInto(&out, salt, txid, payload);
  return out;
}

uint64_t NewSalt(uint64_t avoid) {
  static thread_local std::mt19937_64 rng(
      std::random_device{}() ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  uint64_t s;
  do {
    s = rng();
  } while (s == avoid || s == 0);
  return s;
}

LogWriter::LogWriter(std::unique_ptr<File> file, const Header& header, uint64_t end,
                     uint64_t file_size)
    : file_(std::move(file)), header_(header), end_(end), file_size_(file_size) {}

Status LogWriter::Append(txid_t txid, std::string_view payload, bool no_sync) {
  if (payload.size() > kMaxPayload) {
    return Status(Code::kInvalidArgument, "transaction too large for the write-ahead log");
  }
  EncodeRecordInto(&frame_, header_.salt, txid, payload);
  return WriteRecord(frame_, no_sync);
}

Status LogWriter::AppendFramed(txid_t txid, std::string& framed, bool no_sync) {
  if (framed.size() < kFrameSize) return Status(Code::kInvalidArgument, "record without a frame");
  if (framed.size() - kFrameSize > kMaxPayload) {
    return Status(Code::kInvalidArgument, "transaction too large for the write-ahead log");
  }
  FillFrame(&framed, header_.salt, txid);
  return WriteRecord(framed, no_sync);
}

Status LogWriter::WriteRecord(std::string_view framed, bool no_sync) {
  if (Status s = file_->WriteAt(end_, framed.data(), framed.size()); !s.ok()) return s;
  last_record_ = end_;
  end_ += framed.size();
  records_++;
  if (end_ > file_size_) {
    // Zeroes past the end, synced with this record: the next records then
    // overwrite allocated blocks, and their syncs need not also change the
    // file's size (about half the cost of a sync that does, on ext4).
    static const std::string kZeros(kPreallocateBytes, '\0');
    if (Status s = file_->WriteAt(end_, kZeros.data(), kZeros.size()); !s.ok()) return s;
    file_size_ = end_ + kZeros.size();
  }
  if (no_sync) return Status::OK();
  return file_->Sync();
}

Status LogWriter::Withdraw() {
  static const char kZeroFrame[kFrameSize] = {};
  if (Status s = file_->WriteAt(last_record_, kZeroFrame, kFrameSize); !s.ok()) return s;
  if (Status s = file_->Sync(); !s.ok()) return s;
  end_ = last_record_;
  records_--;
  return Status::OK();
}

Status LogWriter::Reset(txid_t base, uint64_t keep_bytes) {
  Header h{NewSalt(header_.salt), base};
  const std::string b = EncodeHeader(h);
  if (Status s = file_->WriteAt(0, b.data(), b.size()); !s.ok()) return s;
  header_ = h;
  end_ = kHeaderSize;
  records_ = 0;
  if (file_size_ > keep_bytes && file_size_ > kHeaderSize) {
    if (Status s = file_->Truncate(kHeaderSize, false); !s.ok()) return s;
    file_size_ = kHeaderSize;
  }
  return Status::OK();
}

Status LogWriter::ResetDurably(txid_t base, uint64_t keep_bytes) {
  if (Status s = Reset(base, keep_bytes); !s.ok()) return s;
  return file_->Sync();
}

Status LogWriter::Create(txid_t base) {
  Header h{NewSalt(header_.salt), base};
  std::string b = EncodeHeader(h);
  // Zeroes up to the first growth step, synced with the header: the first
  // records' syncs then change no file size (a size change makes the file
  // system commit its journal, which on ext4 first writes out every dirty
  // page of the data file). A checkpoint switches commits to a log that
  // may never have been used: without this its first commit waited for
  // that, during the checkpoint's own data sync.
  if (file_size_ < kPreallocateBytes) b.resize(kPreallocateBytes, '\0');
  if (Status s = file_->WriteAt(0, b.data(), b.size()); !s.ok()) return s;
  if (Status s = file_->Sync(); !s.ok()) return s;
  header_ = h;
  end_ = kHeaderSize;
  records_ = 0;
  file_size_ = std::max<uint64_t>(file_size_, b.size());
  return Status::OK();
}

// ---- operations ----

void OpWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<char>(v));
}

void OpWriter::Str(std::string_view s) {
  Varint(s.size());
  buf_.append(s);
}

void OpWriter::Two(OpCode op, uint32_t b, std::string_view s) {
  buf_.push_back(static_cast<char>(op));
  Varint(b);
  Str(s);
  if (op == OpCode::kOpen || op == OpCode::kCreate) next_handle_++;
}

void OpWriter::Put(uint32_t b, std::string_view key, std::string_view value) {
  Two(OpCode::kPut, b, key);
  Str(value);
}

void OpWriter::Move(uint32_t src, std::string_view name, uint32_t dst) {
  Two(OpCode::kMoveBucket, src, name);
  Varint(dst);
}

void OpWriter::SetSequence(uint32_t b, uint64_t v) {
  buf_.push_back(static_cast<char>(OpCode::kSetSequence));
  Varint(b);
  Varint(v);
}

bool OpReader::Varint(uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= p_.size()) return false;
    const auto c = static_cast<uint8_t>(p_[pos_++]);
    *v |= uint64_t{c & 0x7fu} << shift;
    if (!(c & 0x80)) return true;
  }
  return false;
}

bool OpReader::Str(std::string_view* s) {
  uint64_t n;
  if (!Varint(&n) || n > p_.size() - pos_) return false;
  *s = p_.substr(pos_, n);
  pos_ += n;
  return true;
}

Result<bool> OpReader::Next(Op* op) {
  if (pos_ >= p_.size()) return false;
  const size_t at = pos_;
  auto bad = [at](const char* what) {
    return Status(Code::kCorruption,
                  std::string("wal: ") + what + " at payload offset " + std::to_string(at));
  };
  *op = Op{};
  op->code = static_cast<OpCode>(static_cast<uint8_t>(p_[pos_++]));
  uint64_t b = 0;
  if (!Varint(&b) || b > UINT32_MAX) return bad("bad bucket handle");
  op->bucket = static_cast<uint32_t>(b);
  switch (op->code) {
    case OpCode::kSetSequence:
      if (!Varint(&op->number)) return bad("bad sequence");
      return true;
    case OpCode::kPut:
      if (!Str(&op->name) || !Str(&op->value)) return bad("bad put");
      return true;
    case OpCode::kMoveBucket: {
      uint64_t d = 0;
      if (!Str(&op->name) || !Varint(&d) || d > UINT32_MAX) return bad("bad move");
      op->dst = static_cast<uint32_t>(d);
      return true;
    }
    case OpCode::kOpen:
    case OpCode::kCreate:
    case OpCode::kDelete:
    case OpCode::kDeleteBucket:
      if (!Str(&op->name)) return bad("bad operation");
      return true;
  }
  return bad("unknown operation");
}

}  // namespace boltpp::wal
