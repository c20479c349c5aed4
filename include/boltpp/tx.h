// File: boltpp/tx.h
// Tx: a read-only or read-write transaction.
//
// A Tx that goes out of scope without Commit rolls back. Read-only
// transactions see one stable snapshot and may run in many threads at once;
// one read-write transaction runs at a time. A Tx must not outlive its DB.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "boltpp/export.h"
#include "boltpp/bucket.h"
#include "boltpp/stats.h"
#include "boltpp/status.h"

namespace boltpp {

class DB;
class TxImpl;

struct CheckOptions {
  // Check only the page tree under this page id (0 = the whole file).
  uint64_t from_page = 0;
  // Show keys as hex (the default) or as text when printable.
  bool printable_keys = false;
};

class BOLTPP_EXPORT Tx {
 public:
  Tx();
  explicit Tx(std::unique_ptr<TxImpl> impl);
  Tx(Tx&&) noexcept;
  Tx& operator=(Tx&&) noexcept;
  ~Tx();  // rolls back if still open

  explicit operator bool() const { return impl_ != nullptr; }

  uint64_t ID() const;
  bool Writable() const;
  // Bytes of the database as this transaction sees it (high-water mark * page size).
  int64_t Size() const;
  DB* db() const;
  TxStats Stats() const;
  // OK, or the first damage this transaction met.
  Status status() const;

  // The top-level bucket namespace, as a Bucket (its values are buckets).
  Bucket Root() const;
  Bucket GetBucket(Bytes name) const;
  Result<Bucket> CreateBucket(Bytes name);
  Result<Bucket> CreateBucketIfNotExists(Bytes name);
  Status DeleteBucket(Bytes name);
  // Moves bucket `name` from src to dst (null = the top level).
  Status MoveBucket(Bytes name, Bucket src, Bucket dst);
  Status ForEach(const std::function<Status(Bytes name, Bucket b)>& fn) const;
  Cursor NewCursor() const;

  // Runs fn after a successful commit.
  void OnCommit(std::function<void()> fn);
  Status Commit();
  Status Rollback();

  // Hot backup: writes a consistent copy of the database as of this
  // transaction (exactly Size() bytes). Writers may go on meanwhile.
  Result<int64_t> WriteTo(std::ostream& out) const;
  Result<int64_t> WriteToFd(int fd) const;
  Status CopyFile(const std::string& path, uint32_t mode = 0600) const;

  // The full consistency check: every error found, as bbolt words it.
  // An empty vector means the file is sound.
  std::vector<std::string> Check(const CheckOptions& opts = {}) const;
  BucketStructure Inspect() const;
  // Page information, or a null optional past the high-water mark.
  Result<std::optional<PageInfo>> Page(uint64_t id) const;

  TxImpl* impl() const { return impl_.get(); }

 private:
  std::unique_ptr<TxImpl> impl_;
};

}  // namespace boltpp
