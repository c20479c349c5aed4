// bench/src/engine.h: the one interface every C++ engine adapter implements
// (boltpp, LMDB, RocksDB, SQLite). Go bbolt runs the same workloads in
// bench/go/main.go against its native API.
//
// Buckets: bbolt-family engines use real (nested) buckets. Flat engines
// (LMDB, RocksDB, SQLite) map a bucket path to a key prefix: the top-level
// bucket contributes nothing (each suite uses exactly one top-level bucket,
// so the redb and bbolt suites store the bare keys), and each nested bucket
// adds <1-byte length><name>. Creating a nested bucket also writes a marker
// key (the prefix itself, empty value), as bbolt writes a bucket header into
// the parent; opening one looks the marker up.
//
// Errors are thrown as bench::Fail.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common.h"

namespace bench {

// A bucket handle, valid inside the transaction that returned it.
using BucketId = int;
constexpr BucketId kNoBucket = -1;

// Light-weight callback for scans: return false to stop.
class ScanFn {
 public:
  template <typename F>
  ScanFn(F& f)  // NOLINT: implicit by design
      : obj_(&f), call_([](void* o, Bytes k, Bytes v) { return (*static_cast<F*>(o))(k, v); }) {}
  bool operator()(Bytes k, Bytes v) const { return call_(obj_, k, v); }

 private:
  void* obj_;
  bool (*call_)(void*, Bytes, Bytes);
};

class Txn {
 public:
  virtual ~Txn() = default;
  // Top-level bucket (parent == kNoBucket) or nested bucket; kNoBucket when
  // missing and !create.
  virtual BucketId Bucket(BucketId parent, Bytes name, bool create) = 0;
  virtual void DeleteBucket(BucketId parent, Bytes name) = 0;
  // Point read; *out stays valid until the next call on this Txn.
  virtual bool Get(BucketId b, Bytes key, Bytes* out) = 0;
  virtual void Put(BucketId b, Bytes key, Bytes value) = 0;
  virtual void Delete(BucketId b, Bytes key) = 0;
  // Visits up to `limit` entries (0 = no limit) of bucket b in key order,
  // starting at the first key >= from (from empty = the first key). Returns
  // how many were visited. Keys are given without the bucket prefix.
  virtual uint64_t Scan(BucketId b, Bytes from, uint64_t limit, ScanFn fn) = 0;
  // Durable commit (write transactions). Read transactions just end.
  virtual void Commit() = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual void Open(const std::string& dir) = 0;
  virtual void Close() = 0;
  virtual std::unique_ptr<Txn> Begin(bool write) = 0;
  // Compacts into dst_dir (a fresh directory) or in place, whatever the
  // engine's own way is; returns the directory whose size is the compacted
  // size. The engine may be closed afterwards.
  virtual std::string Compact(const std::string& dir, const std::string& dst_dir) = 0;
  // Shrinks the open database's file in place while it stays open (boltpp's
  // DB::Shrink); returns the file's size after, or 0 when the engine has no
  // such operation.
  virtual bool CanShrinkInPlace() const { return false; }
  virtual uint64_t ShrinkInPlace() { return 0; }
  // A note on the configuration, for the report.
  virtual std::string Describe() const = 0;
};

std::unique_ptr<Engine> MakeEngine(const std::string& name);
std::vector<std::string> CompiledEngines();

// Bucket-path to prefix mapping used by the flat engines.
struct FlatBuckets {
  std::vector<std::string> prefix;  // indexed by BucketId
  std::string scratch;
  BucketId Add(std::string p) {
    prefix.push_back(std::move(p));
    return static_cast<BucketId>(prefix.size() - 1);
  }
  // Child prefix of parent for a nested bucket name.
  std::string Child(BucketId parent, Bytes name) const {
    std::string p = parent == kNoBucket ? std::string() : prefix[parent];
    if (parent == kNoBucket) return p;  // top level: empty prefix
    if (name.size() > 255) Die("bucket name too long for the flat mapping");
    p.push_back(static_cast<char>(name.size()));
    p.append(name);
    return p;
  }
  Bytes Key(BucketId b, Bytes key) {
    const std::string& p = prefix[b];
    if (p.empty()) return key;
    scratch.assign(p);
    scratch.append(key);
    return scratch;
  }
  // Smallest string greater than every key with prefix p ("" = none).
  static std::string Successor(const std::string& p) {
    std::string s = p;
    while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xFF) s.pop_back();
    if (!s.empty()) s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
    return s;
  }
};

}  // namespace bench
