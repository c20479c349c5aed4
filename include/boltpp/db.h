// File: boltpp/db.h
// DB: one open database file (bbolt's format, read and written as bbolt does).
//
//   auto db = boltpp::DB::Open("my.db");
//   if (!db.ok()) { ... db.status().ToString() ... }
//   Status s = (*db)->Update([](boltpp::Tx& tx) {
//     auto b = tx.CreateBucketIfNotExists("widgets");
//     if (!b.ok()) return b.status();
//     return b->Put("foo", "bar");
//   });
//
// Thread safety: a DB may be used from any number of threads. One read-write
// transaction runs at a time (Begin(true) waits for the previous one); any
// number of read-only transactions run beside it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "boltpp/export.h"
#include "boltpp/options.h"
#include "boltpp/stats.h"
#include "boltpp/status.h"
#include "boltpp/tx.h"

namespace boltpp {

class DBImpl;

// DB::Shrink's tuning.
struct ShrinkOptions {
  // Pages moved per write transaction: each batch is one ordinary commit, so
  // other writers wait at most one batch and readers are never blocked.
  size_t pages_per_tx = 4096;
};

// What DB::Shrink did.
struct ShrinkResult {
  uint64_t pages_moved = 0;  // pages rewritten lower down (ancestors included)
  uint64_t size_before = 0;  // file size in bytes
  uint64_t size_after = 0;
  uint64_t high_water_before = 0;  // pages in use up to the high-water mark
  uint64_t high_water_after = 0;
  int transactions = 0;  // write transactions committed
};

class BOLTPP_EXPORT DB {
 public:
  // Opens (or, unless read_only, creates) the database at path.
  // Errors: kTimeout (locked), kInvalid, kVersionMismatch, kChecksum,
  // kCorruption, kIOError, kInvalidArgument.
  static Result<std::unique_ptr<DB>> Open(const std::string& path, const Options& options = {});

  ~DB();  // closes
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;

  // Waits for open transactions to end, then releases the file. Idempotent.
  Status Close();

  // Starts a transaction. A read-write one waits for the current writer.
  Result<Tx> Begin(bool writable);
  // Runs fn in a read-write transaction and commits when it returns OK;
  // rolls back and returns its error otherwise (or when it throws).
  Status Update(const std::function<Status(Tx&)>& fn);
  // Runs fn in a read-only transaction, always rolled back. Returns fn's
  // error, or the transaction's corruption error if it met one.
  Status View(const std::function<Status(Tx&)>& fn);
  // Like Update, but concurrent callers are coalesced into one commit. fn may
  // run more than once, so it must be idempotent: if it fails, it is re-run
  // alone and that result is returned.
  Status Batch(const std::function<Status(Tx&)>& fn);

  // Shrinks the file in place while it stays open for readers and writers:
  // packs under-filled leaves, moves the pages nearest the end of the file
  // into free pages lower down (copy-on-write, in ordinary write
  // transactions of at most pages_per_tx pages each), then truncates the
  // free tail. Pages an open reader still sees are moved but their old
  // copies are given back only after that reader ends. Errors: those of
  // Update (kDatabaseReadOnly, kCorruption, kIOError, ...); on an error the
  // file holds the last committed batch, which is complete and consistent.
  Result<ShrinkResult> Shrink(const ShrinkOptions& options = {});

  // fdatasync the file.
  Status Sync();
  // WAL mode: makes the data file hold every commit (syncs it, writes the
  // freelist and meta) and empties the log. Commits wait only for the last
  // part (one sync of the pages written since the start, and the meta's).
  // OK and nothing done when not in WAL mode. Must not be called from a
  // thread that holds a read-write transaction (it waits for the writer).
  // Errors: kDatabaseReadOnly, kDatabaseNotOpen, kDatabaseFailed, kIOError
  // (the handle then fails: reopen to replay the log).
  Status Checkpoint();
  // The log's state (see WalInfo).
  WalInfo GetWalInfo() const;
  // Whether the log holds commits the data file does not (a read-only
  // handle then shows the last checkpoint: open read-write to replay).
  bool WalPending() const { return GetWalInfo().pending_records > 0; }
  Stats GetStats() const;
  Info GetInfo() const;
  const std::string& Path() const;
  bool IsReadOnly() const;
  const Options& options() const;

  DBImpl* impl() const { return impl_.get(); }
  explicit DB(std::unique_ptr<DBImpl> impl);

 private:
  std::unique_ptr<DBImpl> impl_;
};

// Copies every bucket, key, value and sequence of src into dst, leaves
// filled to 100%. Into a dst with no bucket (a fresh file), not in WAL mode,
// every tree is rebuilt from src's pages in key order and written in one
// commit (docs/design.md, "Compaction"); otherwise keys are copied through
// ordinary transactions, committing dst every tx_max_size bytes of keys and
// values (0 = one transaction), and a bucket both hold is kBucketExists.
// Errors: kCorruption (a damaged src: dst is left as it was when it was
// fresh), kMaxSizeReached, kIOError, those of Begin.
BOLTPP_EXPORT Status Compact(DB& dst, DB& src, int64_t tx_max_size);

}  // namespace boltpp
