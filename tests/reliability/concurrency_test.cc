// File: tests/reliability/concurrency_test.cc
// Concurrency stress, meant for TSan (sanitizers.sh runs it there) and run
// briefly in every build. For a bounded time:
//  * a writer moves money between accounts (the sum is invariant), stamps
//    every commit's version on 50 keys, and churns a "junk" bucket whose
//    values encode their own key and generation: it grows the file well past
//    several map sizes, deletes ranges, and now and then drops the whole
//    bucket (freeing many pages at once);
//  * two Batch callers do transfers and stamps too;
//  * readers check in every snapshot that the sum holds, all stamps agree
//    with the version, and every junk value they read is intact (a partial
//    commit or a freed, reused page would break one of these), and some run
//    Tx::Check() on their snapshot;
//  * long readers hold a snapshot while the map grows under them and check
//    it is unchanged at the end;
//  * a backup thread copies the database with Tx::WriteTo while all this
//    goes on and checks the copy.
// A watchdog aborts the process if the threads do not stop in time (a
// deadlock). BOLTPP_STRESS_SECONDS sets the duration (default 6 s).
//
// The MemFileSystem variant matters under TSan: there the writer's page
// writes are plain memcpy into the memory readers map, so a reader touching
// a page the writer is rewriting is reported as a data race.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "testutil/mem_fs.h"
#include "testutil/model.h"
#include "testutil/random.h"
#include "testutil/temp_dir.h"
#include "reliability/stats.h"

namespace boltpp::reliability {
using namespace boltpp::testing;  // the shared test toolkit (tests/testutil)
namespace {

constexpr int kAccounts = 100;
constexpr int64_t kStart = 1000;
constexpr int kStamps = 50;

std::string AcctKey(int i) {
  char b[8];
  std::snprintf(b, sizeof b, "a%03d", i);
  return b;
}
std::string StampKey(int i) {
  char b[8];
  std::snprintf(b, sizeof b, "s%03d", i);
  return b;
}

// A junk value: "<gen:16>" then bytes derived from key and generation.
std::string JunkValue(const std::string& key, uint64_t gen, size_t len) {
  char head[17];
  std::snprintf(head, sizeof head, "%016llx", static_cast<unsigned long long>(gen));
  std::string v(head, 16);
  uint64_t h = 1469598103934665603ull ^ gen;
  for (char c : key) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  v.resize(std::max<size_t>(len, 16));
  for (size_t i = 16; i < v.size(); i++) v[i] = static_cast<char>('a' + (h + i * 7) % 26);
  return v;
}

bool JunkValueOk(std::string_view key, std::string_view v) {
  if (v.size() < 16) return false;
  const uint64_t gen = std::strtoull(std::string(v.substr(0, 16)).c_str(), nullptr, 16);
  return JunkValue(std::string(key), gen, v.size()) == v;
}

struct Shared {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0}, checks{0}, commits{0}, batches{0}, backups{0}, long_reads{0},
      remaps{0};
  std::mutex mu;
  std::string first_error;
  std::atomic<int> errors{0};

  void Error(const std::string& e) {
    if (errors.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> lk(mu);
      first_error = e;
    }
    stop = true;
  }
};

// What a snapshot must satisfy. Returns "" or the problem; *version gets
// the stamped version.
std::string VerifySnapshot(const Tx& tx, bool deep, uint64_t* version, int64_t* sum_out = nullptr) {
  Bucket acct = tx.GetBucket("acct"), stamp = tx.GetBucket("stamp"), junk = tx.GetBucket("junk");
  if (!acct || !stamp) return "missing bucket: " + tx.status().ToString();
  int64_t sum = 0;
  int n = 0;
  Cursor c = acct.NewCursor();
  for (auto e = c.First(); e; e = c.Next(), n++) sum += std::stoll(std::string(e->value));
  if (n != kAccounts) return "account count " + std::to_string(n);
  if (sum != kAccounts * kStart) return "partial commit: account sum " + std::to_string(sum);
  if (sum_out) *sum_out = sum;
  std::string v0;
  for (int i = 0; i < kStamps; i++) {
    auto v = stamp.Get(StampKey(i));
    if (!v) return "missing stamp " + std::to_string(i);
    if (i == 0) v0 = std::string(*v);
    if (*v != v0)
      return "partial commit: stamp " + std::to_string(i) + " = " + std::string(*v) + " vs " + v0;
  }
  *version = std::stoull(v0);
  if (junk) {
    Cursor j = junk.NewCursor();
    int i = 0;
    for (auto e = j.First(); e; e = j.Next(), i++) {
      if ((deep || i % 8 == 0) && !JunkValueOk(e->key, e->value)) {
        return "damaged junk value under key " + std::string(e->key) + " (freed page read?)";
      }
    }
    if (!j.status().ok()) return j.status().ToString();
  }
  if (deep) {
    auto errs = tx.Check();
    if (!errs.empty()) return "check: " + errs.front();
  }
  return tx.status().ok() ? "" : tx.status().ToString();
}

Status Transfer(Tx& tx, std::mt19937_64& rng) {
  Bucket acct = tx.GetBucket("acct"), stamp = tx.GetBucket("stamp");
  if (!acct || !stamp) return Status(Code::kBucketNotFound, "acct/stamp");
  std::uniform_int_distribution<int> pick(0, kAccounts - 1);
  for (int k = 0; k < 3; k++) {
    const std::string a = AcctKey(pick(rng)), b = AcctKey(pick(rng));
    const int64_t amt = std::uniform_int_distribution<int>(-50, 50)(rng);
    const int64_t va = std::stoll(std::string(acct.Get(a).value_or("0")));
    if (Status s = acct.Put(a, std::to_string(va - amt)); !s.ok()) return s;
    const int64_t vb = std::stoll(std::string(acct.Get(b).value_or("0")));
    if (Status s = acct.Put(b, std::to_string(vb + amt)); !s.ok()) return s;
  }
  const uint64_t v = std::stoull(std::string(stamp.Get(StampKey(0)).value_or("0"))) + 1;
  for (int i = 0; i < kStamps; i++) {
    if (Status s = stamp.Put(StampKey(i), std::to_string(v)); !s.ok()) return s;
  }
  return Status::OK();
}

struct StressParam {
  const char* name;
  bool mem;
  FreelistType freelist;
  bool wal = false;          // WAL mode, with the checkpointer thread running every 30 ms
  bool sync_thread = false;  // WAL: Options::wal_sync_thread (the log's sync thread)
};

void PrintTo(const StressParam& p, std::ostream* os) { *os << p.name; }

class Concurrency : public ::testing::TestWithParam<StressParam> {};

TEST_P(Concurrency, ReadersNeverSeePartialCommitsOrFreedPages) {
  const StressParam& p = GetParam();
  double seconds = 6;
  if (const char* e = std::getenv("BOLTPP_STRESS_SECONDS")) seconds = std::atof(e);
  const uint64_t seed = SeedOr(4242);
  std::printf("config=%s seconds=%.0f seed=%llu\n", p.name, seconds,
              static_cast<unsigned long long>(seed));

  MemFileSystem mem(size_t{1} << 30);
  TempDir dir(TempDirOptions{.prefix = "boltpp-stress"});
  Options o;
  o.freelist_type = p.freelist;
  o.timeout = std::chrono::milliseconds(-1);
  o.max_batch_delay = std::chrono::milliseconds(2);
  o.file_system = p.mem ? static_cast<FileSystem*>(&mem) : nullptr;
  o.wal = p.wal;
  o.wal_sync_thread = p.sync_thread;
  o.wal_checkpoint_bytes = 256 * 1024;
  o.wal_checkpoint_interval = std::chrono::milliseconds(30);
  const std::string path = p.mem ? "/stress.db" : dir.File("stress.db");
  auto dbr = DB::Open(path, o);
  ASSERT_TRUE(dbr.ok()) << dbr.status().ToString();
  DB* db = dbr->get();
  ASSERT_TRUE(db->Update([](Tx& tx) {
                  auto a = tx.CreateBucket("acct");
                  auto s = tx.CreateBucket("stamp");
                  if (!a.ok() || !s.ok()) return Status(Code::kAborted, "create");
                  for (int i = 0; i < kAccounts; i++) {
                    if (Status st = a->Put(AcctKey(i), std::to_string(kStart)); !st.ok()) return st;
                  }
                  for (int i = 0; i < kStamps; i++) {
                    if (Status st = s->Put(StampKey(i), "0"); !st.ok()) return st;
                  }
                  return Status::OK();
                }).ok());

  Shared sh;
  std::vector<std::thread> threads;

  // The writer.
  threads.emplace_back([&] {
    std::mt19937_64 rng(seed);
    uint64_t gen = 0;
    size_t junk_bytes = 0;
    const size_t limit = (rng() % 2 ? 6 : 10) << 20;
    const uint8_t* last_map = nullptr;
    while (!sh.stop) {
      gen++;
      Status s = db->Update([&](Tx& tx) {
        if (Status t = Transfer(tx, rng); !t.ok()) return t;
        if (junk_bytes > limit) {
          junk_bytes = 0;
          return tx.DeleteBucket("junk");  // frees every junk page at once
        }
        auto j = tx.CreateBucketIfNotExists("junk");
        if (!j.ok()) return j.status();
        const int puts = std::uniform_int_distribution<int>(5, 120)(rng);
        for (int i = 0; i < puts; i++) {
          char k[16];
          std::snprintf(k, sizeof k, "j%06d", static_cast<int>(rng() % 20000));
          const size_t len = rng() % 50 == 0 ? 4000 + rng() % 30000 : 16 + rng() % 1500;
          if (Status t = j->Put(k, JunkValue(k, gen, len)); !t.ok()) return t;
          junk_bytes += len;
        }
        if (rng() % 4 == 0) {  // delete a range (merges)
          char k[16];
          std::snprintf(k, sizeof k, "j%06d", static_cast<int>(rng() % 20000));
          Cursor c = j->NewCursor();
          int n = 0;
          for (auto e = c.Seek(k); e && n < 300; e = c.Next(), n++) {
            if (Status t = c.Delete(); !t.ok()) return t;
          }
        }
        return Status::OK();
      });
      if (!s.ok()) {
        sh.Error("writer: " + s.ToString());
        break;
      }
      sh.commits++;
      if (p.mem) {
        sh.remaps = mem.maps() - 1;  // the first map is the open's
      } else if (const uint8_t* m = db->GetInfo().data; m != last_map) {
        if (last_map) sh.remaps++;
        last_map = m;
      }
    }
  });

  // Batch callers.
  for (int b = 0; b < 2; b++) {
    threads.emplace_back([&, b] {
      std::mt19937_64 rng(seed + 100 + b);
      while (!sh.stop) {
        Status s = db->Batch([&](Tx& tx) { return Transfer(tx, rng); });
        if (!s.ok()) {
          sh.Error("batch: " + s.ToString());
          break;
        }
        sh.batches++;
      }
    });
  }

  // Readers: versions only go forward, every snapshot is whole.
  for (int r = 0; r < 3; r++) {
    threads.emplace_back([&, r] {
      uint64_t last = 0;
      int64_t i = 0;
      while (!sh.stop) {
        uint64_t v = 0;
        std::string why;
        Status s = db->View([&](Tx& tx) {
          why = VerifySnapshot(tx, ++i % 25 == 0, &v);
          return Status::OK();
        });
        if (!s.ok()) why = "view: " + s.ToString();
        if (why.empty() && v < last)
          why = "version went back from " + std::to_string(last) + " to " + std::to_string(v);
        if (!why.empty()) {
          sh.Error("reader " + std::to_string(r) + ": " + why);
          break;
        }
        last = v;
        sh.reads++;
        if (i % 25 == 0) sh.checks++;
      }
    });
  }

  // A long reader: the snapshot stays the same while the map grows.
  threads.emplace_back([&] {
    while (!sh.stop) {
      auto t = db->Begin(false);
      if (!t.ok()) {
        sh.Error("long reader begin: " + t.status().ToString());
        break;
      }
      uint64_t v1 = 0, v2 = 0;
      std::string why = VerifySnapshot(*t, false, &v1);
      const int64_t c0 = sh.commits;
      for (int w = 0; w < 40 && !sh.stop && sh.commits < c0 + 20; w++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (why.empty()) why = VerifySnapshot(*t, true, &v2);
      if (why.empty() && v1 != v2)
        why = "snapshot changed from version " + std::to_string(v1) + " to " + std::to_string(v2);
      (void)t->Rollback();
      if (!why.empty()) {
        sh.Error("long reader: " + why);
        break;
      }
      sh.long_reads++;
    }
  });

  // Hot backups.
  threads.emplace_back([&] {
    while (!sh.stop) {
      std::ostringstream out;
      Status s = db->View([&](Tx& tx) {
        auto n = tx.WriteTo(out);
        return n.ok() ? Status::OK() : n.status();
      });
      std::string why = s.ok() ? "" : "WriteTo: " + s.ToString();
      if (why.empty()) {
        MemFileSystem fs;
        fs.PutFile("/b.db", out.str());
        Options bo;
        bo.file_system = &fs;
        bo.read_only = true;
        auto b = DB::Open("/b.db", bo);
        if (!b.ok()) {
          why = "backup open: " + b.status().ToString();
        } else {
          uint64_t v = 0;
          Status vs = (*b)->View([&](Tx& tx) {
            why = VerifySnapshot(tx, true, &v);
            return Status::OK();
          });
          if (why.empty() && !vs.ok()) why = vs.ToString();
        }
      }
      if (!why.empty()) {
        sh.Error("backup: " + why);
        break;
      }
      sh.backups++;
      for (int w = 0; w < 20 && !sh.stop; w++)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  // Run, then stop under a watchdog.
  std::mutex wmu;
  std::condition_variable wcv;
  bool joined = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lk(wmu);
    if (!wcv.wait_for(lk, std::chrono::duration<double>(seconds + 120), [&] { return joined; })) {
      std::fprintf(stderr,
                   "concurrency_test: threads did not finish: deadlock suspected (seed %llu)\n",
                   static_cast<unsigned long long>(seed));
      std::abort();
    }
  });
  for (int i = 0; i < seconds * 10 && !sh.stop; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  sh.stop = true;
  for (auto& t : threads) t.join();
  {
    std::lock_guard<std::mutex> lk(wmu);
    joined = true;
  }
  wcv.notify_all();
  watchdog.join();

  EXPECT_EQ(sh.errors.load(), 0) << sh.first_error;
  uint64_t v = 0;
  std::string why;
  ASSERT_TRUE(db->View([&](Tx& tx) {
                  why = VerifySnapshot(tx, true, &v);
                  return Status::OK();
                }).ok());
  EXPECT_EQ(why, "");
  EXPECT_EQ(CheckDB(db), "");
  EXPECT_GT(sh.commits.load(), 10);
  EXPECT_GT(sh.batches.load(), 0);
  EXPECT_GT(sh.reads.load(), 10);
  EXPECT_GT(sh.backups.load(), 0);
  EXPECT_GE(sh.remaps.load(), 3) << "the map should have grown several times under open readers";
  ASSERT_TRUE(db->Close().ok());
  PrintStats(std::string("stress_") + p.name, {{"stress_commits", sh.commits},
                                               {"stress_batch_calls", sh.batches},
                                               {"stress_reads", sh.reads},
                                               {"stress_reader_checks", sh.checks},
                                               {"stress_long_reads", sh.long_reads},
                                               {"stress_backups", sh.backups},
                                               {"stress_remaps", sh.remaps},
                                               {"stress_errors", sh.errors}});
}

// The reader registry (issue 16): more readers at once than it has lock-free
// slots (64), so the locked fallback list is used too, while a writer
// rewrites every page of a bucket in each commit (each commit frees all of
// the previous one's pages, which the next writers reuse as soon as no
// reader holds them). A reader checks that every value of its snapshot
// names the snapshot's version, before and after holding it across several
// commits: a page released while a reader could see it would be reused and
// break that. Over MemFileSystem, so TSan also reports such a reuse as a
// race. BOLTPP_STRESS_SECONDS sets the duration (default 2 s here).
TEST(ReaderRegistryConcurrency, ManyReadersNeverSeeAPageReleasedEarly) {
  double seconds = 2;
  if (const char* e = std::getenv("BOLTPP_STRESS_SECONDS")) seconds = std::atof(e) / 3;
  constexpr int kReaders = 72;
  constexpr int kKeys = 120;
  MemFileSystem mem(size_t{1} << 28);
  Options o;
  o.file_system = &mem;
  auto dbr = DB::Open("/registry.db", o);
  ASSERT_TRUE(dbr.ok()) << dbr.status().ToString();
  DB* db = dbr->get();
  auto value = [](int key, uint64_t version) {
    std::string v = "k" + std::to_string(key) + "@" + std::to_string(version) + ":";
    v.resize(700, static_cast<char>('a' + (key + version) % 26));
    return v;
  };
  auto write_version = [&](uint64_t version) {
    return db->Update([&](Tx& tx) {
      auto b = tx.CreateBucketIfNotExists("data");
      if (!b.ok()) return b.status();
      if (Status s = b->Put("version", std::to_string(version)); !s.ok()) return s;
      for (int k = 0; k < kKeys; k++) {
        if (Status s = b->Put("key" + std::to_string(k), value(k, version)); !s.ok()) return s;
      }
      return Status::OK();
    });
  };
  ASSERT_TRUE(write_version(0).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> holding{0};
  std::atomic<bool> release{false};
  std::atomic<int64_t> reads{0}, errors{0};
  std::mutex err_mu;
  std::string first_error;
  auto fail = [&](const std::string& e) {
    errors++;
    std::lock_guard<std::mutex> lk(err_mu);
    if (first_error.empty()) first_error = e;
  };
  // Checks the snapshot tx sees; false on a mismatch.
  auto check = [&](Tx& tx) {
    Bucket b = tx.GetBucket("data");
    auto ver = b.Get("version");
    if (!ver) return fail("no version"), false;
    const uint64_t version = std::stoull(std::string(*ver));
    for (int k = 0; k < kKeys; k++) {
      auto v = b.Get("key" + std::to_string(k));
      if (!v || *v != value(k, version)) {
        fail("key" + std::to_string(k) + " does not match version " + std::to_string(version));
        return false;
      }
    }
    return true;
  };
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (uint64_t version = 1; !stop; version++) {
      if (Status s = write_version(version); !s.ok()) return fail("writer: " + s.ToString());
    }
  });
  for (int r = 0; r < kReaders; r++) {
    threads.emplace_back([&, r] {
      bool first = true;
      while (!stop) {
        auto tx = db->Begin(false);
        if (!tx.ok()) return fail("begin: " + tx.status().ToString());
        if (!check(*tx)) return;
        if (first) {  // every reader holds a snapshot at once, once
          first = false;
          holding++;
          while (!release && !stop) std::this_thread::yield();
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(200 * (r % 5)));
        }
        if (!check(*tx)) return;
        reads++;
      }
    });
  }
  while (holding < kReaders && errors == 0) std::this_thread::yield();
  const int64_t open_at_once = db->GetStats().open_tx_n;
  release = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0) << first_error;
  EXPECT_EQ(open_at_once, kReaders) << "readers registered at once (slots and fallback)";
  EXPECT_EQ(db->GetStats().open_tx_n, 0);
  EXPECT_GT(reads.load(), kReaders);
  std::printf("reads=%lld\n", static_cast<long long>(reads.load()));
  ASSERT_TRUE(db->View([](Tx& tx) {
                  return tx.Check().empty() ? Status::OK() : Status(Code::kCorruption, "check");
                }).ok());
  ASSERT_TRUE(db->Close().ok());
}

INSTANTIATE_TEST_SUITE_P(
    Files, Concurrency,
    ::testing::Values(StressParam{"posix_array", false, FreelistType::kArray},
                      StressParam{"mem_hashmap", true, FreelistType::kHashMap},
                      StressParam{"posix_array_wal", false, FreelistType::kArray, true},
                      StressParam{"mem_hashmap_wal_syncthread", true, FreelistType::kHashMap, true,
                                  true}),
    [](const ::testing::TestParamInfo<StressParam>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace boltpp::reliability
