// bench/src/engine_lmdb.cc: LMDB adapter. Durable defaults (no MDB_NOSYNC,
// no MDB_WRITEMAP); 64 GiB map (sparse, only the used part is written).
#include <lmdb.h>

#include <memory>
#include <string>
#include <vector>

#include "engine.h"

namespace bench {
namespace {

void Check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) Die(std::string("lmdb ") + what + ": " + mdb_strerror(rc));
}
MDB_val Val(Bytes b) { return MDB_val{b.size(), const_cast<char*>(b.data())}; }
Bytes View(const MDB_val& v) { return Bytes(static_cast<const char*>(v.mv_data), v.mv_size); }

class LmdbTxn final : public Txn {
 public:
  LmdbTxn(MDB_env* env, MDB_dbi dbi, bool write) : dbi_(dbi), write_(write) {
    Check(mdb_txn_begin(env, nullptr, write ? 0 : MDB_RDONLY, &txn_), "txn_begin");
  }
  ~LmdbTxn() override {
    if (cur_) mdb_cursor_close(cur_);
    if (txn_) mdb_txn_abort(txn_);
  }

  BucketId Bucket(BucketId parent, Bytes name, bool create) override {
    std::string p = fb_.Child(parent, name);
    if (parent != kNoBucket) {
      MDB_val k = Val(p), v;
      int rc = mdb_get(txn_, dbi_, &k, &v);
      if (rc == MDB_NOTFOUND) {
        if (!create) return kNoBucket;
        MDB_val e{0, nullptr};
        Check(mdb_put(txn_, dbi_, &k, &e, 0), "put marker");
      } else {
        Check(rc, "get marker");
      }
    }
    return fb_.Add(std::move(p));
  }

  void DeleteBucket(BucketId parent, Bytes name) override {
    // Collect, then delete: the bucket's keys and its marker.
    std::string p = fb_.Child(parent, name);
    std::vector<std::string> keys;
    MDB_cursor* c = Cursor();
    MDB_val k = Val(p), v;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      if (View(k).substr(0, p.size()) != p) break;
      keys.emplace_back(View(k));
    }
    for (const std::string& key : keys) {
      MDB_val dk = Val(key);
      Check(mdb_del(txn_, dbi_, &dk, nullptr), "del");
    }
  }

  bool Get(BucketId b, Bytes key, Bytes* out) override {
    MDB_val k = Val(fb_.Key(b, key)), v;
    int rc = mdb_get(txn_, dbi_, &k, &v);
    if (rc == MDB_NOTFOUND) return false;
    Check(rc, "get");
    *out = View(v);
    return true;
  }
  void Put(BucketId b, Bytes key, Bytes value) override {
    MDB_val k = Val(fb_.Key(b, key)), v = Val(value);
    Check(mdb_put(txn_, dbi_, &k, &v, 0), "put");
  }
  void Delete(BucketId b, Bytes key) override {
    MDB_val k = Val(fb_.Key(b, key));
    int rc = mdb_del(txn_, dbi_, &k, nullptr);
    if (rc != MDB_NOTFOUND) Check(rc, "del");
  }

  uint64_t Scan(BucketId b, Bytes from, uint64_t limit, ScanFn fn) override {
    const std::string& p = fb_.prefix[b];
    MDB_cursor* c = Cursor();
    std::string start = p;
    start.append(from);
    MDB_val k = Val(start), v;
    int rc = start.empty() ? mdb_cursor_get(c, &k, &v, MDB_FIRST)
                           : mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    uint64_t n = 0;
    for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      Bytes key = View(k);
      if (!p.empty()) {
        if (key.substr(0, p.size()) != p) break;
        key.remove_prefix(p.size());
        if (key.empty()) continue;  // the bucket's own marker
      }
      n++;
      if (!fn(key, View(v))) break;
      if (limit != 0 && n >= limit) break;
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) Check(rc, "cursor");
    return n;
  }

  void Commit() override {
    if (cur_) {
      mdb_cursor_close(cur_);
      cur_ = nullptr;
    }
    MDB_txn* t = txn_;
    txn_ = nullptr;
    if (write_) {
      Check(mdb_txn_commit(t), "commit");
    } else {
      mdb_txn_abort(t);
    }
  }

 private:
  MDB_cursor* Cursor() {
    if (!cur_) Check(mdb_cursor_open(txn_, dbi_, &cur_), "cursor_open");
    return cur_;
  }
  MDB_txn* txn_ = nullptr;
  MDB_cursor* cur_ = nullptr;
  MDB_dbi dbi_;
  bool write_;
  FlatBuckets fb_;
};

class LmdbEngine final : public Engine {
 public:
  void Open(const std::string& dir) override {
    Check(mdb_env_create(&env_), "env_create");
    Check(mdb_env_set_mapsize(env_, size_t{64} << 30), "set_mapsize");
    Check(mdb_env_set_maxreaders(env_, 126), "set_maxreaders");
    Check(mdb_env_open(env_, dir.c_str(), MDB_NOTLS, 0644), "env_open");
    MDB_txn* t;
    Check(mdb_txn_begin(env_, nullptr, 0, &t), "txn_begin");
    Check(mdb_dbi_open(t, nullptr, 0, &dbi_), "dbi_open");
    Check(mdb_txn_commit(t), "commit");
  }
  void Close() override {
    if (env_) {
      mdb_env_close(env_);
      env_ = nullptr;
    }
  }
  std::unique_ptr<Txn> Begin(bool write) override {
    return std::make_unique<LmdbTxn>(env_, dbi_, write);
  }
  std::string Compact(const std::string& /*dir*/, const std::string& dst_dir) override {
    Check(mdb_env_copy2(env_, dst_dir.c_str(), MDB_CP_COMPACT), "env_copy2(MDB_CP_COMPACT)");
    return dst_dir;
  }
  std::string Describe() const override {
    return std::string(MDB_VERSION_STRING) +
           ": default flags + MDB_NOTLS (durable: fsync per commit), 64 GiB map; compaction = "
           "mdb_env_copy2(MDB_CP_COMPACT)";
  }
  ~LmdbEngine() override { Close(); }

 private:
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
};

}  // namespace

std::unique_ptr<Engine> NewLmdbEngine() { return std::make_unique<LmdbEngine>(); }

}  // namespace bench
