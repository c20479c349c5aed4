// bench/src/engine_boltpp.cc: boltpp adapter. Default Options (array
// freelist, fdatasync on every commit, freelist synced), as Go bbolt's
// defaults in bench/go/main.go.
#include <boltpp/boltpp.h>

#include <memory>
#include <string>
#include <vector>

#include "engine.h"

namespace bench {
namespace {

void Check(const boltpp::Status& s, const char* what) {
  if (!s.ok()) Die(std::string("boltpp ") + what + ": " + s.ToString());
}

class BoltTxn final : public Txn {
 public:
  BoltTxn(boltpp::Tx tx, bool write) : tx_(std::move(tx)), write_(write) {}
  ~BoltTxn() override {
    if (tx_) (void)tx_.Rollback();
  }

  BucketId Bucket(BucketId parent, Bytes name, bool create) override {
    boltpp::Bucket b;
    if (parent == kNoBucket) {
      if (create) {
        auto r = tx_.CreateBucketIfNotExists(name);
        Check(r.status(), "CreateBucketIfNotExists");
        b = *r;
      } else {
        b = tx_.GetBucket(name);
      }
    } else {
      boltpp::Bucket& p = buckets_[parent];
      if (create) {
        auto r = p.CreateBucketIfNotExists(name);
        Check(r.status(), "CreateBucketIfNotExists");
        b = *r;
      } else {
        b = p.GetBucket(name);
      }
    }
    if (!b) return kNoBucket;
    buckets_.push_back(b);
    return static_cast<BucketId>(buckets_.size() - 1);
  }

  void DeleteBucket(BucketId parent, Bytes name) override {
    if (parent == kNoBucket) {
      Check(tx_.DeleteBucket(name), "DeleteBucket");
    } else {
      Check(buckets_[parent].DeleteBucket(name), "DeleteBucket");
    }
  }

  bool Get(BucketId b, Bytes key, Bytes* out) override {
    auto v = buckets_[b].Get(key);
    if (!v) return false;
    *out = *v;
    return true;
  }
  void Put(BucketId b, Bytes key, Bytes value) override {
    Check(buckets_[b].Put(key, value), "Put");
  }
  void Delete(BucketId b, Bytes key) override { Check(buckets_[b].Delete(key), "Delete"); }

  uint64_t Scan(BucketId b, Bytes from, uint64_t limit, ScanFn fn) override {
    boltpp::Cursor c = buckets_[b].NewCursor();
    uint64_t n = 0;
    for (auto e = from.empty() ? c.First() : c.Seek(from); e; e = c.Next()) {
      n++;
      if (!fn(e->key, e->value)) break;
      if (limit != 0 && n >= limit) break;
    }
    Check(c.status(), "cursor");
    return n;
  }

  void Commit() override {
    if (write_) {
      Check(tx_.Commit(), "Commit");
    } else {
      Check(tx_.Rollback(), "Rollback");
    }
    tx_ = boltpp::Tx();
  }

 private:
  boltpp::Tx tx_;
  bool write_;
  std::vector<boltpp::Bucket> buckets_;
};

class BoltEngine final : public Engine {
 public:
  explicit BoltEngine(bool wal) : wal_(wal) {}
  void Open(const std::string& dir) override {
    path_ = dir + "/bolt.db";
    boltpp::Options o;
    o.wal = wal_;
    auto r = boltpp::DB::Open(path_, o);
    if (!r.ok()) Die("boltpp open " + path_ + ": " + r.status().ToString());
    db_ = std::move(*r);
  }
  void Close() override {
    if (db_) {
      Check(db_->Close(), "Close");
      db_.reset();
    }
  }
  std::unique_ptr<Txn> Begin(bool write) override {
    auto r = db_->Begin(write);
    if (!r.ok()) Die("boltpp begin: " + r.status().ToString());
    return std::make_unique<BoltTxn>(std::move(*r), write);
  }
  std::string Compact(const std::string& /*dir*/, const std::string& dst_dir) override {
    auto dst = boltpp::DB::Open(dst_dir + "/bolt.db", boltpp::Options{});
    if (!dst.ok()) Die("boltpp open compact dst: " + dst.status().ToString());
    // 64 KiB per transaction, as `bbolt compact`'s default --tx-max-size.
    Check(boltpp::Compact(**dst, *db_, 65536), "Compact");
    Check((*dst)->Close(), "Close dst");
    return dst_dir;
  }
  bool CanShrinkInPlace() const override { return true; }
  uint64_t ShrinkInPlace() override {
    auto r = db_->Shrink();
    if (!r.ok()) Die("boltpp shrink: " + r.status().ToString());
    return r->size_after;
  }
  std::string Describe() const override {
    if (wal_) {
      return "boltpp WAL mode (Options::wal): each commit writes its pages unsynced and appends a "
             "record to the log with one fdatasync; checkpoints every 16 MiB of log, every 10 s "
             "and at close; a transaction whose record would pass 16 MiB commits as a checkpoint";
    }
    return "boltpp defaults: array freelist, freelist synced, fdatasync per commit, page size = OS "
           "page; compaction = boltpp::Compact (the page copy into a fresh file)";
  }

 private:
  bool wal_;
  std::string path_;
  std::unique_ptr<boltpp::DB> db_;
};

}  // namespace

std::unique_ptr<Engine> NewBoltppEngine(bool wal) { return std::make_unique<BoltEngine>(wal); }

}  // namespace bench
