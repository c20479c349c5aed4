// bench/upsert/sorted_upsert.cc: boltpp_sorted_upsert, the write pattern of
// the DAG store's initialize-all (apps/dagstore: inverted::AddMerged) on the
// engine alone, so that engine changes to it can be measured without the
// CAR reading around it.
//
//   boltpp_sorted_upsert DIR [SHARDS] [GROUP] [KEYS_PER_SHARD] [REPS] [VALUE_BYTES]
//
// SHARDS lists (default 100) of KEYS_PER_SHARD (default 2,400) random
// 34-byte sha2-256-shaped multihashes, sorted. They are committed GROUP
// shards (default 7) per WAL-mode transaction, each transaction taking its
// keys in sorted order and appending a VALUE_BYTES-byte value (default 6;
// a shard id takes 1-4 bytes since the store's schema 2, a shard key took 65
// before) to each key's old one
// (an upsert: read the old value, write the new). Two ways, timed side by
// side in rounds (REPS, default 5, each on a fresh database):
//   bucket  Bucket::Get then Bucket::Put (two descents from the root);
//   cursor  Cursor::Seek then Cursor::Put (searches from the cursor).
// With LMDB found at build time (BENCH_HAVE_LMDB), a third way runs the same
// transactions on LMDB, the fastest B+tree peer: mdb_get then mdb_put in one
// write transaction per group, default durability. This is the peer's floor
// for the store's inverted-index writes (docs/dagstore.md, D2). With LevelDB
// (BENCH_HAVE_LEVELDB), a fourth: the real DAG store's engine, Get then a
// WriteBatch Put per key, one synced batch per group; its CPU is the whole
// process's (getrusage), so that its background compactions count, and the
// writes since the last compaction are drained (CompactRange) inside the
// clock, as a B+tree has them in place at commit.
// Prints the best round's CPU seconds of each way, and the check result of
// the last database.
#include <boltpp/boltpp.h>
#include <time.h>
#include <sys/resource.h>
#ifdef BENCH_HAVE_LMDB
#include <lmdb.h>
#endif
#ifdef BENCH_HAVE_LEVELDB
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace boltpp;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "boltpp_sorted_upsert: %s\n", what.c_str());
  std::exit(1);
}

std::vector<std::vector<std::string>> MakeShards(size_t shards, size_t per) {
  std::mt19937_64 rng(42);
  std::vector<std::vector<std::string>> keys(shards);
  for (auto& list : keys) {
    for (size_t i = 0; i < per; i++) {
      std::string k(34, '\0');
      k[0] = 0x12;  // sha2-256, 32 bytes
      k[1] = 0x20;
      for (size_t j = 2; j < k.size(); j += 8) {
        const uint64_t r = rng();
        std::memcpy(&k[j], &r, std::min<size_t>(8, k.size() - j));
      }
      list.push_back(std::move(k));
    }
    std::sort(list.begin(), list.end());
  }
  return keys;
}

Status Upsert(Tx& tx, const std::vector<std::string_view>& sorted, bool cursor,
              const std::string& shard_key) {
  Bucket bucket = tx.GetBucket("inverted");
  Cursor at = bucket.NewCursor();
  std::string value;
  for (std::string_view key : sorted) {
    value.clear();
    if (cursor) {
      const std::optional<Entry> found = at.Seek(key);
      if (found && found->key == key) value.assign(found->value);
    } else if (const std::optional<Bytes> old = bucket.Get(key)) {
      value.assign(*old);
    }
    value += shard_key;
    Status s = cursor ? at.Put(key, value) : bucket.Put(key, value);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// Each transaction's keys in one sorted run, made before the clock starts
// (the store merges its shards' sorted lists; the engine is what is timed).
std::vector<std::vector<std::string_view>> Runs(const std::vector<std::vector<std::string>>& shards,
                                                size_t group) {
  std::vector<std::vector<std::string_view>> runs;
  for (size_t first = 0; first < shards.size(); first += group) {
    std::vector<std::string_view>& sorted = runs.emplace_back();
    for (size_t i = first; i < std::min(shards.size(), first + group); i++)
      sorted.insert(sorted.end(), shards[i].begin(), shards[i].end());
    std::sort(sorted.begin(), sorted.end());
  }
  return runs;
}

// One round on a fresh database; returns the CPU seconds of the commits.
double Round(const std::string& path, const std::vector<std::vector<std::string>>& shards,
             size_t group, bool cursor, const std::string& shard_key,
             std::vector<std::string>* problems) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-wal2");
  Options o;
  o.wal = true;
  auto db = DB::Open(path, o);
  if (!db.ok()) Fail("open " + path + ": " + db.status().ToString());
  Status s = (*db)->Update([](Tx& tx) { return tx.CreateBucket("inverted").status(); });
  if (!s.ok()) Fail(s.ToString());
  const std::vector<std::vector<std::string_view>> runs = Runs(shards, group);
  const double start = ThreadCpuSeconds();
  for (const auto& sorted : runs) {
    s = (*db)->Update([&](Tx& tx) { return Upsert(tx, sorted, cursor, shard_key); });
    if (!s.ok()) Fail(s.ToString());
  }
  const double secs = ThreadCpuSeconds() - start;
  s = (*db)->View([&](Tx& tx) {
    *problems = tx.Check();
    return Status::OK();
  });
  if (!s.ok()) Fail(s.ToString());
  if (Status c = (*db)->Close(); !c.ok()) Fail(c.ToString());
  return secs;
}

#ifdef BENCH_HAVE_LMDB
void CheckLmdb(int rc, const char* what) {
  if (rc != MDB_SUCCESS) Fail(std::string(what) + ": " + mdb_strerror(rc));
}

// The same transactions on LMDB (a fresh environment); returns the CPU
// seconds of the commits. Each key's value is read back at the end and must
// hold one shard_key per shard that listed it (here: exactly one).
double LmdbRound(const std::string& dir, const std::vector<std::vector<std::string>>& shards,
                 size_t group, const std::string& shard_key) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  MDB_env* env = nullptr;
  CheckLmdb(mdb_env_create(&env), "mdb_env_create");
  CheckLmdb(mdb_env_set_mapsize(env, size_t{4} << 30), "mdb_env_set_mapsize");
  CheckLmdb(mdb_env_open(env, dir.c_str(), 0, 0644), "mdb_env_open");
  const std::vector<std::vector<std::string_view>> runs = Runs(shards, group);
  MDB_dbi dbi = 0;
  std::string value;
  const double start = ThreadCpuSeconds();
  for (const auto& sorted : runs) {
    MDB_txn* txn = nullptr;
    CheckLmdb(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    CheckLmdb(mdb_dbi_open(txn, nullptr, 0, &dbi), "mdb_dbi_open");
    for (std::string_view key : sorted) {
      MDB_val k{key.size(), const_cast<char*>(key.data())}, old{};
      value.clear();
      const int rc = mdb_get(txn, dbi, &k, &old);
      if (rc == MDB_SUCCESS) {
        value.assign(static_cast<const char*>(old.mv_data), old.mv_size);
      } else if (rc != MDB_NOTFOUND) {
        CheckLmdb(rc, "mdb_get");
      }
      value += shard_key;
      MDB_val v{value.size(), value.data()};
      CheckLmdb(mdb_put(txn, dbi, &k, &v, 0), "mdb_put");
    }
    CheckLmdb(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  const double secs = ThreadCpuSeconds() - start;
  MDB_txn* txn = nullptr;
  CheckLmdb(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
  for (const auto& list : shards) {
    for (const std::string& key : list) {
      MDB_val k{key.size(), const_cast<char*>(key.data())}, v{};
      CheckLmdb(mdb_get(txn, dbi, &k, &v), "lmdb read-back");
      if (v.mv_size % shard_key.size() != 0 || v.mv_size == 0) Fail("lmdb read-back: bad value");
    }
  }
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return secs;
}
#endif

#ifdef BENCH_HAVE_LEVELDB
// The same transactions on LevelDB (a fresh database); returns the process's
// CPU seconds for the batches and the compaction that settles them.
double LevelDbRound(const std::string& dir, const std::vector<std::vector<std::string>>& shards,
                    size_t group, const std::string& shard_key) {
  std::filesystem::remove_all(dir);
  leveldb::Options o;
  o.create_if_missing = true;
  leveldb::DB* raw = nullptr;
  leveldb::Status st = leveldb::DB::Open(o, dir, &raw);
  if (!st.ok()) Fail("leveldb open: " + st.ToString());
  std::unique_ptr<leveldb::DB> db(raw);
  const std::vector<std::vector<std::string_view>> runs = Runs(shards, group);
  leveldb::WriteOptions sync;
  sync.sync = true;
  std::string value;
  const double start = ProcessCpuSeconds();
  for (const auto& sorted : runs) {
    leveldb::WriteBatch batch;
    for (std::string_view key : sorted) {
      value.clear();
      st = db->Get(leveldb::ReadOptions(), leveldb::Slice(key.data(), key.size()), &value);
      if (!st.ok() && !st.IsNotFound()) Fail("leveldb get: " + st.ToString());
      value += shard_key;
      batch.Put(leveldb::Slice(key.data(), key.size()), value);
    }
    st = db->Write(sync, &batch);
    if (!st.ok()) Fail("leveldb write: " + st.ToString());
  }
  db->CompactRange(nullptr, nullptr);
  const double secs = ProcessCpuSeconds() - start;
  for (const auto& list : shards) {
    for (const std::string& key : list) {
      st = db->Get(leveldb::ReadOptions(), key, &value);
      if (!st.ok() || value.empty() || value.size() % shard_key.size() != 0)
        Fail("leveldb read-back: " + st.ToString());
    }
  }
  return secs;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: boltpp_sorted_upsert DIR [SHARDS] [GROUP] [KEYS_PER_SHARD] [REPS] "
                 "[VALUE_BYTES]\n");
    return 2;
  }
  auto arg = [&](int i, size_t def) {
    return argc > i ? static_cast<size_t>(std::strtoull(argv[i], nullptr, 10)) : def;
  };
  const std::string dir = argv[1];
  const size_t shards = arg(2, 100), group = std::max<size_t>(1, arg(3, 7)), per = arg(4, 2400),
               reps = std::max<size_t>(1, arg(5, 5)), value_bytes = std::max<size_t>(1, arg(6, 6));
  // What each shard appends to a key's value (a length byte, then filler:
  // the size is what matters to the engine).
  const std::string shard_key =
      std::string(1, static_cast<char>(value_bytes - 1)) + std::string(value_bytes - 1, 's');
  std::filesystem::create_directories(dir);
  const auto keys = MakeShards(shards, per);
  double best[4] = {1e18, 1e18, 1e18, 1e18};
  std::vector<std::string> problems;
  for (size_t r = 0; r < reps; r++) {
    for (int way = 0; way < 2; way++) {
      best[way] = std::min(best[way],
                           Round(dir + "/upsert.db", keys, group, way == 1, shard_key, &problems));
      if (!problems.empty()) Fail("check: " + problems[0]);
    }
#ifdef BENCH_HAVE_LMDB
    best[2] = std::min(best[2], LmdbRound(dir + "/upsert.lmdb", keys, group, shard_key));
#endif
#ifdef BENCH_HAVE_LEVELDB
    best[3] = std::min(best[3], LevelDbRound(dir + "/upsert.leveldb", keys, group, shard_key));
#endif
  }
  const double puts = static_cast<double>(shards * per);
  std::printf(
      "sorted upsert, %zu shards x %zu keys, %zu-byte values, %zu shards per WAL commit, "
      "best of %zu rounds: "
      "bucket Get+Put %.3f s CPU (%.2f us/key), cursor Seek+Put %.3f s (%.2f us/key), %.2fx; "
      "check OK\n",
      shards, per, value_bytes, group, reps, best[0], best[0] / puts * 1e6, best[1],
      best[1] / puts * 1e6, best[0] / best[1]);
#ifdef BENCH_HAVE_LMDB
  std::printf(
      "    LMDB mdb_get+mdb_put, same transactions: %.3f s CPU (%.2f us/key); boltpp cursor "
      "way %.2fx LMDB's CPU\n",
      best[2], best[2] / puts * 1e6, best[1] / best[2]);
#endif
#ifdef BENCH_HAVE_LEVELDB
  std::printf(
      "    LevelDB Get+WriteBatch, same batches, compacted, process CPU: %.3f s (%.2f "
      "us/key); boltpp cursor way %.2fx LevelDB's CPU\n",
      best[3], best[3] / puts * 1e6, best[1] / best[3]);
#endif
  return 0;
}
