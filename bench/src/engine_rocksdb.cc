// bench/src/engine_rocksdb.cc: RocksDB adapter. A write transaction is a
// WriteBatch applied with WriteOptions::sync = true (WAL fsync per commit);
// a read transaction reads from one snapshot. Configuration as redb's bench:
// 4 GiB LRU block cache, 10-bit bloom filter, otherwise defaults.
// Reads inside a write transaction see the last commit, not the batch's own
// writes (no workload here reads its own uncommitted writes).
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <string>
#include <vector>

#include "engine.h"

namespace bench {
namespace {

void Check(const rocksdb::Status& s, const char* what) {
  if (!s.ok()) Die(std::string("rocksdb ") + what + ": " + s.ToString());
}
rocksdb::Slice S(Bytes b) { return rocksdb::Slice(b.data(), b.size()); }
Bytes V(const rocksdb::Slice& s) { return Bytes(s.data(), s.size()); }

class RocksTxn final : public Txn {
 public:
  RocksTxn(rocksdb::DB* db, bool write) : db_(db), write_(write) {
    if (!write) {
      snap_ = db_->GetSnapshot();
      ro_.snapshot = snap_;
    }
  }
  ~RocksTxn() override {
    it_.reset();
    if (snap_) db_->ReleaseSnapshot(snap_);
  }

  BucketId Bucket(BucketId parent, Bytes name, bool create) override {
    std::string p = fb_.Child(parent, name);
    if (parent != kNoBucket) {
      pin_.Reset();
      rocksdb::Status s = db_->Get(ro_, db_->DefaultColumnFamily(), S(p), &pin_);
      if (s.IsNotFound()) {
        if (!create) return kNoBucket;
        Check(batch_.Put(S(p), rocksdb::Slice()), "put marker");
      } else {
        Check(s, "get marker");
      }
    }
    return fb_.Add(std::move(p));
  }

  void DeleteBucket(BucketId parent, Bytes name) override {
    std::string p = fb_.Child(parent, name);
    rocksdb::Iterator* it = Iter();
    for (it->Seek(S(p)); it->Valid(); it->Next()) {
      if (V(it->key()).substr(0, p.size()) != p) break;
      Check(batch_.Delete(it->key()), "delete");
    }
    Check(it->status(), "iterator");
  }

  bool Get(BucketId b, Bytes key, Bytes* out) override {
    pin_.Reset();
    rocksdb::Status s = db_->Get(ro_, db_->DefaultColumnFamily(), S(fb_.Key(b, key)), &pin_);
    if (s.IsNotFound()) return false;
    Check(s, "get");
    *out = V(pin_);
    return true;
  }
  void Put(BucketId b, Bytes key, Bytes value) override {
    Check(batch_.Put(S(fb_.Key(b, key)), S(value)), "put");
  }
  void Delete(BucketId b, Bytes key) override {
    Check(batch_.Delete(S(fb_.Key(b, key))), "delete");
  }

  uint64_t Scan(BucketId b, Bytes from, uint64_t limit, ScanFn fn) override {
    const std::string& p = fb_.prefix[b];
    rocksdb::Iterator* it = Iter();
    if (p.empty() && from.empty()) {
      it->SeekToFirst();
    } else {
      std::string start = p;
      start.append(from);
      it->Seek(S(start));
    }
    uint64_t n = 0;
    for (; it->Valid(); it->Next()) {
      Bytes key = V(it->key());
      if (!p.empty()) {
        if (key.substr(0, p.size()) != p) break;
        key.remove_prefix(p.size());
        if (key.empty()) continue;  // marker
      }
      n++;
      if (!fn(key, V(it->value()))) break;
      if (limit != 0 && n >= limit) break;
    }
    Check(it->status(), "iterator");
    return n;
  }

  void Commit() override {
    it_.reset();
    if (write_) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      Check(db_->Write(wo, &batch_), "write");
      batch_.Clear();
    }
  }

 private:
  rocksdb::Iterator* Iter() {
    if (!it_) it_.reset(db_->NewIterator(ro_));
    return it_.get();
  }
  rocksdb::DB* db_;
  bool write_;
  const rocksdb::Snapshot* snap_ = nullptr;
  rocksdb::ReadOptions ro_;
  rocksdb::WriteBatch batch_;
  rocksdb::PinnableSlice pin_;
  std::unique_ptr<rocksdb::Iterator> it_;
  FlatBuckets fb_;
};

class RocksEngine final : public Engine {
 public:
  void Open(const std::string& dir) override {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = rocksdb::NewLRUCache(size_t{4} << 30);
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    rocksdb::DB* db = nullptr;
    Check(rocksdb::DB::Open(o, dir, &db), "open");
    db_.reset(db);
  }
  void Close() override {
    if (db_) {
      Check(db_->Close(), "close");
      db_.reset();
    }
  }
  std::unique_ptr<Txn> Begin(bool write) override {
    return std::make_unique<RocksTxn>(db_.get(), write);
  }
  std::string Compact(const std::string& dir, const std::string& /*dst_dir*/) override {
    rocksdb::CompactRangeOptions c;
    c.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    Check(db_->Flush(rocksdb::FlushOptions()), "flush");
    Check(db_->CompactRange(c, nullptr, nullptr), "compact_range");
    Close();  // lets obsolete files go before the size is taken
    return dir;
  }
  std::string Describe() const override {
    return "RocksDB " + std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." +
           std::to_string(ROCKSDB_PATCH) +
           ": WriteBatch per transaction with sync=true (WAL fsync), snapshot reads, 4 GiB LRU "
           "block cache, "
           "bloom 10 bits/key, default compression; compaction = Flush + CompactRange(kForce)";
  }
  ~RocksEngine() override {
    if (db_) (void)db_->Close();
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

std::unique_ptr<Engine> NewRocksdbEngine() { return std::make_unique<RocksEngine>(); }

}  // namespace bench
