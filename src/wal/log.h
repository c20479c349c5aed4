// File: src/wal/log.h
// The write-ahead log beside a database in WAL mode (docs/format.md, "The
// write-ahead log"): its byte layout, a scanner that never trusts the file,
// the writer that appends one record per commit, and the codec of the
// logical operations a record holds.
//
// Layout: a 40-byte header (magic, version, salt, base txid, checksum), then
// records, each a 32-byte frame header (payload length, salt, txid,
// checksum) and its payload. The salt changes at every reset, so records of
// an older generation left further on in the file never pass for current
// ones. A scan stops at the first record that is short, has another salt,
// fails its checksum or does not raise the txid.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "boltpp/file.h"
#include "boltpp/status.h"
#include "format/page.h"

namespace boltpp::wal {

using format::txid_t;

constexpr char kMagic[8] = {'b', 'o', 'l', 't', 'W', 'A', 'L', '1'};
// Version 2: the log is two files (PATH-wal, PATH-wal2). Builds from before
// that read PATH-wal only and would silently drop records in PATH-wal2, so
// every header this build writes says 2, which those builds refuse as an
// unknown version. Version 1 (one file) is still read: its records are the
// first generation, and an open rewrites its header to 2 durably before
// any commit (DBImpl::OpenLog).
constexpr uint32_t kVersion = 2;
constexpr uint32_t kOldestReadableVersion = 1;
constexpr size_t kHeaderSize = 40;  // magic 8, version 4, reserved 4, salt 8, base 8, checksum 8
constexpr size_t kFrameSize = 32;   // payload length 8, salt 8, txid 8, checksum 8
// The log grows by this much zeroed space beyond a record that passes its end.
constexpr size_t kPreallocateBytes = size_t{256} << 10;
// A commit whose record is at least this large writes it first and syncs it
// on the log's sync thread while it writes its pages, whatever
// Options::wal_sync_thread says: its page work (hundreds of puts) then
// costs far more than waking the thread (TxImpl::StartLogSync).
constexpr size_t kOverlapSyncBytes = size_t{64} << 10;
// A record larger than this is refused when written and ends a scan.
constexpr uint64_t kMaxPayload = uint64_t{1} << 36;

// The log's paths for the database at db_path: PATH-wal and PATH-wal2
// (SQLite's wal2 naming). A checkpoint switches commits from one to the
// other, so that it can make its meta durable while commits go on
// (docs/format.md, "Two log files").
std::string LogPath(const std::string& db_path);
std::string SecondLogPath(const std::string& db_path);

struct Header {
  uint64_t salt = 0;
  txid_t base_txid = 0;         // the checkpoint the records continue from
  uint32_t version = kVersion;  // as read; written headers are always kVersion
};

// Where one valid record's payload lies in the scanned bytes.
struct RecordRef {
  txid_t txid = 0;
  uint64_t offset = 0;  // of the payload
  uint64_t length = 0;
};

// What a scan of a whole log file found. Never fails on content: damage
// only ends the list of records (stop says why).
struct Scan {
  bool has_header = false;  // false: empty, short, zeroed or damaged header
  Header header;
  std::vector<RecordRef> records;
  uint64_t end = 0;        // byte after the last valid record (0 without a header)
  uint64_t file_size = 0;  // the file's size
  std::string stop;        // "" when the scan ended at the end of the file
  std::string bytes;       // the file's content (payloads point into it)

  std::string_view Payload(const RecordRef& r) const {
    return std::string_view(bytes).substr(r.offset, r.length);
  }
};

// Parses a log held in memory.
Scan ParseLog(std::string bytes);
// Reads and parses the whole file (an I/O error is the only failure).
Result<Scan> ReadLog(File* file);
// The header's bytes (with h.version: LogWriter always writes kVersion).
std::string EncodeHeader(const Header& h);
// One record: frame header and payload.
std::string EncodeRecord(uint64_t salt, txid_t txid, std::string_view payload);

// One open log file of a read-write handle: appends records and resets the
// log after a checkpoint. The active one is used by the writer only (one
// commit at a time, under the writer gate); the inactive one only by the
// checkpoint (DBImpl::Checkpoint), one at a time.
class LogWriter {
 public:
  // Takes over an open file whose valid content ends at `end` (a scan's
  // end; 0 writes a new header before the first record).
  LogWriter(std::unique_ptr<File> file, const Header& header, uint64_t end, uint64_t file_size);

  // Writes record txid at the end of the log, then syncs the log (unless
  // no_sync). On failure nobody knows whether the record is durable.
  Status Append(txid_t txid, std::string_view payload, bool no_sync);
  // The same for a record built in place: framed holds kFrameSize bytes of
  // room for the frame, then the payload (OpWriter::framed). Fills in the
  // frame and writes it all with one write, without copying the payload.
  Status AppendFramed(txid_t txid, std::string& framed, bool no_sync);
  // Takes back the last record appended (its commit failed after it was
  // written): zeroes its frame, which ends a scan cleanly there, and syncs.
  // Requires: no record appended since. On failure the record may stay.
  Status Withdraw();
  // Starts a new generation continuing from checkpoint base: a new salt and
  // header at offset 0, records from the start again. The header is not
  // synced: the next Append's sync makes it durable with its record, and
  // until then a crash leaves either header, both of which mean "nothing
  // after the checkpoint". Shrinks a file grown past keep_bytes.
  Status Reset(txid_t base, uint64_t keep_bytes);
  // Writes a fresh header, and zeroes up to kPreallocateBytes past it when
  // the file is shorter, and syncs them (a new log file).
  Status Create(txid_t base);
  // Reset, then syncs the header: for a header of an older version, which
  // must not outlive this open (a crash would leave it for older builds).
  Status ResetDurably(txid_t base, uint64_t keep_bytes);

  uint64_t end() const { return end_; }
  int64_t records() const { return records_; }
  txid_t base_txid() const { return header_.base_txid; }
  File* file() { return file_.get(); }

 private:
  std::unique_ptr<File> file_;
  Header header_;
  uint64_t end_;
  uint64_t last_record_ = 0;  // offset of the last record appended
  uint64_t file_size_;
  int64_t records_ = 0;
  std::string frame_;  // reused buffer for one record

  // Writes the complete record at `framed` at the end of the log, then syncs.
  Status WriteRecord(std::string_view framed, bool no_sync);
};

// A new random salt, never equal to avoid.
uint64_t NewSalt(uint64_t avoid);

// ---- the logical operations of a transaction ----
//
// A record's payload is a sequence of operations. Buckets are named by
// handles: 0 is the root (the top-level namespace); kOpen and kCreate give
// the next handle (1, 2, ...) to the bucket they open or create, and later
// operations use it even after the bucket moved.
enum class OpCode : uint8_t {
  kOpen = 1,          // parent, name       -> new handle
  kCreate = 2,        // parent, name       -> new handle
  kPut = 3,           // bucket, key, value
  kDelete = 4,        // bucket, key
  kDeleteBucket = 5,  // bucket, name
  kMoveBucket = 6,    // source, name, destination
  kSetSequence = 7,   // bucket, value
};

// Appends encoded operations to a buffer (varint handles and lengths),
// after kFrameSize bytes of room for the record's frame, so that the log can
// write the record without copying it (LogWriter::AppendFramed).
class OpWriter {
 public:
  // Builds in `recycled` (its contents dropped, its capacity kept), so that
  // a writer reusing one buffer across transactions neither grows a fresh
  // one nor faults in its pages again.
  explicit OpWriter(std::string recycled = {}) : buf_(std::move(recycled)) {
    buf_.assign(kFrameSize, '\0');
  }
  void Open(uint32_t parent, std::string_view name) { Two(OpCode::kOpen, parent, name); }
  void Create(uint32_t parent, std::string_view name) { Two(OpCode::kCreate, parent, name); }
  void Put(uint32_t b, std::string_view key, std::string_view value);
  void Delete(uint32_t b, std::string_view key) { Two(OpCode::kDelete, b, key); }
  void DeleteBucket(uint32_t b, std::string_view name) { Two(OpCode::kDeleteBucket, b, name); }
  void Move(uint32_t src, std::string_view name, uint32_t dst);
  void SetSequence(uint32_t b, uint64_t v);

  // The payload: the operations so far.
  std::string_view bytes() const {
    return buf_.size() > kFrameSize ? std::string_view(buf_).substr(kFrameSize)
                                    : std::string_view();
  }
  // The frame's room, then the payload.
  std::string& framed() { return buf_; }
  // The buffer, for the next OpWriter; this one records nothing after.
  std::string TakeBuffer() { return std::move(buf_); }
  // The handle the next kOpen/kCreate assigns.
  uint32_t next_handle() const { return next_handle_; }

 private:
  void Two(OpCode op, uint32_t b, std::string_view s);
  void Varint(uint64_t v);
  void Str(std::string_view s);

  std::string buf_;
  uint32_t next_handle_ = 1;
};

// One decoded operation (views into the payload).
struct Op {
  OpCode code{};
  uint32_t bucket = 0;    // the bucket it works in (kOpen/kCreate: the parent)
  std::string_view name;  // key or bucket name
  std::string_view value;
  uint32_t dst = 0;     // kMoveBucket
  uint64_t number = 0;  // kSetSequence
};

// Reads the operations of a payload one by one; bounds-checked.
class OpReader {
 public:
  explicit OpReader(std::string_view payload) : p_(payload) {}
  // False at the end; kCorruption on a malformed operation.
  Result<bool> Next(Op* op);

 private:
  bool Varint(uint64_t* v);
  bool Str(std::string_view* s);
  std::string_view p_;
  size_t pos_ = 0;
};

}  // namespace boltpp::wal
