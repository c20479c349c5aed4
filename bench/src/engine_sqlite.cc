// bench/src/engine_sqlite.cc: SQLite adapter. One table
// kv(key BLOB PRIMARY KEY, value BLOB), as redb's bench. Engine "sqlite":
// default pragmas (rollback journal, journal_mode=DELETE, synchronous=FULL).
// Engine "sqlite-wal": journal_mode=WAL, synchronous=FULL (not in the
// default engine list). A write transaction is BEGIN IMMEDIATE ... COMMIT,
// a read transaction BEGIN ... COMMIT on its own connection (one per thread).
#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine.h"

namespace bench {
namespace {

struct Conn {
  sqlite3* db = nullptr;
  sqlite3_stmt* get = nullptr;
  sqlite3_stmt* put = nullptr;
  sqlite3_stmt* del = nullptr;
  sqlite3_stmt* scan = nullptr;        // key >= ?1 ORDER BY key LIMIT ?2
  sqlite3_stmt* scan_range = nullptr;  // key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3
  sqlite3_stmt* del_range = nullptr;   // key >= ?1 AND key < ?2

  void Check(int rc, const char* what) const {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
      Die(std::string("sqlite ") + what + ": " + sqlite3_errmsg(db));
  }
  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "?";
      sqlite3_free(err);
      Die(std::string("sqlite exec ") + sql + ": " + m);
    }
  }
  sqlite3_stmt* Prep(const char* sql) {
    sqlite3_stmt* s = nullptr;
    Check(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr), sql);
    return s;
  }
  void Open(const std::string& path, bool wal, bool create) {
    int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) Die("sqlite open " + path + ": " + sqlite3_errstr(rc));
    sqlite3_busy_timeout(db, 60000);
    if (wal) {
      Exec("PRAGMA journal_mode=WAL");
      Exec("PRAGMA synchronous=FULL");
    }
    if (create) Exec("CREATE TABLE IF NOT EXISTS kv(key BLOB PRIMARY KEY, value BLOB)");
    get = Prep("SELECT value FROM kv WHERE key = ?1");
    put = Prep("INSERT OR REPLACE INTO kv(key, value) VALUES(?1, ?2)");
    del = Prep("DELETE FROM kv WHERE key = ?1");
    scan = Prep("SELECT key, value FROM kv WHERE key >= ?1 ORDER BY key LIMIT ?2");
    scan_range =
        Prep("SELECT key, value FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3");
    del_range = Prep("DELETE FROM kv WHERE key >= ?1 AND key < ?2");
  }
  void ResetAll() {
    for (sqlite3_stmt* s : {get, put, del, scan, scan_range, del_range}) sqlite3_reset(s);
  }
  void Close() {
    for (sqlite3_stmt* s : {get, put, del, scan, scan_range, del_range}) sqlite3_finalize(s);
    get = put = del = scan = scan_range = del_range = nullptr;
    if (db) sqlite3_close(db);
    db = nullptr;
  }
};

const char* Ptr(Bytes b) { return b.data() ? b.data() : ""; }
void Bind(Conn& c, sqlite3_stmt* s, int i, Bytes b) {
  c.Check(sqlite3_bind_blob(s, i, Ptr(b), static_cast<int>(b.size()), SQLITE_STATIC), "bind");
}
Bytes Col(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  return Bytes(static_cast<const char*>(p), static_cast<size_t>(n));
}

class SqliteEngine;

class SqliteTxn final : public Txn {
 public:
  SqliteTxn(SqliteEngine* e, Conn* c, bool write);
  ~SqliteTxn() override;

  BucketId Bucket(BucketId parent, Bytes name, bool create) override {
    std::string p = fb_.Child(parent, name);
    if (parent != kNoBucket) {
      Bytes v;
      if (!RawGet(p, &v)) {
        if (!create) return kNoBucket;
        RawPut(p, Bytes());
      }
    }
    return fb_.Add(std::move(p));
  }
  void DeleteBucket(BucketId parent, Bytes name) override {
    std::string p = fb_.Child(parent, name);
    std::string hi = FlatBuckets::Successor(p);
    sqlite3_stmt* s = c_->del_range;
    sqlite3_reset(s);
    Bind(*c_, s, 1, p);
    Bind(*c_, s, 2, hi);
    c_->Check(sqlite3_step(s), "delete range");
    sqlite3_reset(s);
  }
  bool Get(BucketId b, Bytes key, Bytes* out) override { return RawGet(fb_.Key(b, key), out); }
  void Put(BucketId b, Bytes key, Bytes value) override { RawPut(fb_.Key(b, key), value); }
  void Delete(BucketId b, Bytes key) override {
    sqlite3_stmt* s = c_->del;
    Bind(*c_, s, 1, fb_.Key(b, key));
    c_->Check(sqlite3_step(s), "delete");
    sqlite3_reset(s);
  }
  uint64_t Scan(BucketId b, Bytes from, uint64_t limit, ScanFn fn) override {
    const std::string& p = fb_.prefix[b];
    std::string start = p;
    start.append(from);
    std::string hi = p.empty() ? std::string() : FlatBuckets::Successor(p);
    sqlite3_int64 lim = limit == 0 ? -1 : static_cast<sqlite3_int64>(limit) + (p.empty() ? 0 : 1);
    sqlite3_stmt* s = hi.empty() ? c_->scan : c_->scan_range;
    sqlite3_reset(s);
    Bind(*c_, s, 1, start);
    if (hi.empty()) {
      sqlite3_bind_int64(s, 2, lim);
    } else {
      Bind(*c_, s, 2, hi);
      sqlite3_bind_int64(s, 3, lim);
    }
    uint64_t n = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Bytes key = Col(s, 0);
      if (!p.empty()) {
        key.remove_prefix(p.size());
        if (key.empty()) continue;  // marker
      }
      n++;
      if (!fn(key, Col(s, 1))) break;
      if (limit != 0 && n >= limit) break;
    }
    if (rc != SQLITE_ROW) c_->Check(rc, "scan");
    sqlite3_reset(s);
    return n;
  }
  void Commit() override {
    c_->ResetAll();
    c_->Exec("COMMIT");
    done_ = true;
  }

 private:
  bool RawGet(Bytes key, Bytes* out) {
    sqlite3_stmt* s = c_->get;
    sqlite3_reset(s);
    Bind(*c_, s, 1, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return false;
    if (rc != SQLITE_ROW) c_->Check(rc, "get");
    *out = Col(s, 0);  // valid until the next reset of `get`
    return true;
  }
  void RawPut(Bytes key, Bytes value) {
    sqlite3_stmt* s = c_->put;
    Bind(*c_, s, 1, key);
    Bind(*c_, s, 2, value);
    c_->Check(sqlite3_step(s), "put");
    sqlite3_reset(s);
  }

  SqliteEngine* e_;
  Conn* c_;
  bool done_ = false;
  FlatBuckets fb_;
};

class SqliteEngine final : public Engine {
 public:
  explicit SqliteEngine(bool wal) : wal_(wal) {}
  void Open(const std::string& dir) override {
    path_ = dir + "/kv.sqlite";
    writer_.Open(path_, wal_, true);
  }
  void Close() override {
    std::lock_guard<std::mutex> l(mu_);
    for (Conn* c : pool_) {
      c->Close();
      delete c;
    }
    pool_.clear();
    writer_.Close();
  }
  std::unique_ptr<Txn> Begin(bool write) override {
    Conn* c = &writer_;
    if (!write) {
      std::lock_guard<std::mutex> l(mu_);
      if (pool_.empty()) {
        c = new Conn;
        c->Open(path_, false, false);
      } else {
        c = pool_.back();
        pool_.pop_back();
      }
    }
    return std::make_unique<SqliteTxn>(this, c, write);
  }
  void Release(Conn* c) {
    if (c == &writer_) return;
    std::lock_guard<std::mutex> l(mu_);
    pool_.push_back(c);
  }
  std::string Compact(const std::string& dir, const std::string& /*dst_dir*/) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      for (Conn* c : pool_) {
        c->Close();
        delete c;
      }
      pool_.clear();
    }
    writer_.ResetAll();
    writer_.Exec("VACUUM");
    if (wal_) writer_.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return dir;
  }
  std::string Describe() const override {
    return std::string("SQLite ") + sqlite3_libversion() +
           (wal_ ? ": journal_mode=WAL, synchronous=FULL"
                 : ": default pragmas (journal_mode=DELETE, synchronous=FULL)") +
           ", table kv(key BLOB PRIMARY KEY, value BLOB), prepared statements; compaction = VACUUM";
  }
  ~SqliteEngine() override { Close(); }

 private:
  bool wal_;
  std::string path_;
  Conn writer_;
  std::mutex mu_;
  std::vector<Conn*> pool_;
};

SqliteTxn::SqliteTxn(SqliteEngine* e, Conn* c, bool write) : e_(e), c_(c) {
  c_->Exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
}
SqliteTxn::~SqliteTxn() {
  if (!done_) {
    c_->ResetAll();
    sqlite3_exec(c_->db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  e_->Release(c_);
}

}  // namespace

std::unique_ptr<Engine> NewSqliteEngine(bool wal) { return std::make_unique<SqliteEngine>(wal); }

}  // namespace bench
