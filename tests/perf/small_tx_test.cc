// File: tests/perf/small_tx_test.cc
// Small transactions (issue 16): a read transaction that opens nested
// buckets and gets a few keys allocates nothing once warm, and a driver for
// callgrind's per-transaction instruction counts.
//
// This binary replaces the global operator new/delete with counting ones
// (the reason it is its own binary): the count is per thread, so the
// readers of other threads and gtest itself do not disturb it.
//
//   boltpp_smalltx_tests                       the tests (gtest)
//   boltpp_smalltx_tests profile read|list|put N    N read transactions of
//       the job store's "read one job" shape, N jobs of its "list" (one
//       bucket open and one get each), or N puts, on a fresh database in a
//       temporary directory. Run it under callgrind for two N and divide
//       the difference of the instruction counts by the difference of N
//       (docs/performance.md, "Small reads in the job store").
//   boltpp_smalltx_tests profile listphase|readphase N   the benchmark's
//       list (N transactions, each listing 2,000 jobs through the done
//       bucket) or N read-one-job transactions, in ListPhase / ReadPhase
//       only: valgrind --tool=callgrind --toggle-collect='*ListPhase*' ...
//       and divide by N * 2,000 (list) or N (read).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "boltpp/boltpp.h"
#include "testutil/random.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace {
thread_local uint64_t t_allocations = 0;
}

void* operator new(size_t n) {
  t_allocations++;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  t_allocations++;
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return operator new(n, std::nothrow);
}
void* operator new(size_t n, std::align_val_t a) {
  t_allocations++;
  const size_t align = static_cast<size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

namespace boltpp {
namespace {

using testing::TempDir;

std::string JobId(uint64_t job) {
  char b[32];
  std::snprintf(b, sizeof b, "job-%012llu", static_cast<unsigned long long>(job));
  return b;
}

std::string Document(uint64_t job, const char* field) {
  std::string doc = "{\"job\":" + std::to_string(job) + ",\"field\":\"" + field + "\",\"body\":\"";
  doc.append(300 + job % 300, 'x');
  return doc + "\"}";
}

// The benchmark's job store layout: jobstore/jobs/<job-id>/{spec,state,result}.
Status FillJobs(DB* db, uint64_t jobs) {
  return db->Update([&](Tx& tx) -> Status {
    auto top = tx.CreateBucketIfNotExists("jobstore");
    if (!top.ok()) return top.status();
    auto all = top->CreateBucketIfNotExists("jobs");
    if (!all.ok()) return all.status();
    for (uint64_t j = 0; j < jobs; j++) {
      auto b = all->CreateBucket(JobId(j));
      if (!b.ok()) return b.status();
      for (const char* f : {"spec", "state", "result"}) {
        if (Status s = b->Put(f, Document(j, f)); !s.ok()) return s;
      }
    }
    return Status::OK();
  });
}

// The benchmark's "read one job": a read transaction, three nested bucket
// opens, three gets. Returns the bytes read (0 when something is missing).
size_t ReadJob(DB* db, const std::string& id) {
  auto tx = db->Begin(false);
  if (!tx.ok()) return 0;
  Bucket b = tx->GetBucket("jobstore").GetBucket("jobs").GetBucket(id);
  size_t total = 0;
  for (const char* f : {"spec", "state", "result"}) {
    auto v = b.Get(f);
    if (!v) return 0;
    total += v->size();
  }
  return total;
}

// A store of jobs written without syncs, checked and closed when the test
// ends. Fill(n) writes n jobs (FillJobs) and keeps their ids.
class SmallTx : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.no_sync = true;
    auto db = DB::Open(dir_.File("jobs.db"), o);
    ASSERT_OK(db.status());
    db_ = std::move(*db);
  }
  void TearDown() override {
    if (!db_) return;
    ASSERT_OK(db_->View(
        [](Tx& tx) { return tx.Check().empty() ? Status::OK() : Status(Code::kCorruption); }));
    ASSERT_OK(db_->Close());
  }
  void Fill(uint64_t jobs) {
    ASSERT_OK(FillJobs(db_.get(), jobs));
    for (uint64_t j = 0; j < jobs; j++) ids_.push_back(JobId(j));
  }

  TempDir dir_;
  std::unique_ptr<DB> db_;
  std::vector<std::string> ids_;
};

TEST_F(SmallTx, ReadTransactionAllocatesNothingOnceWarm) {
  constexpr uint64_t kJobs = 300;
  Fill(kJobs);
  for (int i = 0; i < 10; i++) ASSERT_GT(ReadJob(db_.get(), ids_[i]), 900u);  // warm-up

  const uint64_t before = t_allocations;
  size_t total = 0;
  for (uint64_t j = 0; j < kJobs; j++) total += ReadJob(db_.get(), ids_[j]);
  const uint64_t begin_end = t_allocations - before;
  EXPECT_EQ(begin_end, 0u) << "allocations in " << kJobs << " read transactions (Begin/~Tx)";
  EXPECT_GT(total, kJobs * 900);

  // The managed form (View) is as cheap.
  const uint64_t before_view = t_allocations;
  for (uint64_t j = 0; j < kJobs; j++) {
    ASSERT_OK(db_->View([&](Tx& tx) -> Status {
      Bucket b = tx.GetBucket("jobstore").GetBucket("jobs").GetBucket(ids_[j]);
      return b.Get("state") ? Status::OK() : Status(Code::kBucketNotFound);
    }));
  }
  // std::function may allocate for a large capture; this one holds two references.
  EXPECT_EQ(t_allocations - before_view, 0u) << "allocations in " << kJobs << " View calls";
}

// A read transaction that opens many nested buckets (more than a pooled
// reader keeps room for while idle) allocates nothing once warm while such
// transactions keep coming: the pooled reader keeps the handles' storage
// and its child index (freeing and faulting them back in was most of the
// list row's time). After TxImpl::kTrimAfterSmallUses (16) small uses it
// frees that storage, and the next large use allocates again.
TEST_F(SmallTx, LargeReadTransactionsAllocateNothingOnceWarm) {
  constexpr uint64_t kJobs = 500;
  Fill(kJobs);
  auto list = [&] {
    auto tx = db_->Begin(false);
    if (!tx.ok()) return uint64_t{0};
    Bucket jobs = tx->GetBucket("jobstore").GetBucket("jobs");
    uint64_t n = 0;
    for (const std::string& id : ids_) n += jobs.GetBucket(id).Get("state").has_value();
    return n;
  };
  ASSERT_EQ(list(), kJobs);  // warm-up
  ASSERT_EQ(list(), kJobs);

  uint64_t before = t_allocations;
  for (int i = 0; i < 5; i++) ASSERT_EQ(list(), kJobs);
  EXPECT_EQ(t_allocations - before, 0u)
      << "allocations in 5 warm transactions of " << kJobs << " bucket opens";

  for (int i = 0; i < 16; i++) ASSERT_GT(ReadJob(db_.get(), ids_[0]), 900u);
  before = t_allocations;
  ASSERT_EQ(list(), kJobs);
  EXPECT_GT(t_allocations - before, 0u) << "the storage should have been freed after 16 small uses";
}

}  // namespace

// The benchmark's job store list (bench/src/workloads.cc JobStore::List):
// jobstore/done maps an 8-byte big-endian job number to the job id; one
// read transaction scans it and, for each job, opens jobstore/jobs/<id> and
// gets its state. Not inlined, so that callgrind can collect exactly it
// (--toggle-collect='*ListPhase*'). Returns the jobs listed (0 on a miss).
static __attribute__((noinline)) uint64_t ListPhase(DB* db, uint64_t rounds) {
  uint64_t listed = 0;
  for (uint64_t r = 0; r < rounds; r++) {
    auto tx = db->Begin(false);
    if (!tx.ok()) return 0;
    Bucket top = tx->GetBucket("jobstore");
    Bucket jobs = top.GetBucket("jobs");
    Cursor c = top.GetBucket("done").NewCursor();
    for (auto e = c.First(); e; e = c.Next()) {
      auto v = jobs.GetBucket(e->value).Get("state");
      if (!v || v->size() < 300) return 0;
      listed++;
    }
  }
  return listed;
}

// n "read one job" transactions (ReadJob) on random jobs; collect
// '*ReadPhase*'. Returns the bytes read.
static __attribute__((noinline)) size_t ReadPhase(DB* db, const std::vector<std::string>& ids,
                                                  uint64_t n) {
  testing::Random rng(1);
  size_t total = 0;
  for (uint64_t i = 0; i < n; i++) total += ReadJob(db, ids[rng.Uniform(ids.size())]);
  return total;
}

// FillJobs plus jobstore/done listing every job.
static Status FillJobsDone(DB* db, uint64_t jobs) {
  if (Status s = FillJobs(db, jobs); !s.ok()) return s;
  return db->Update([&](Tx& tx) -> Status {
    auto done = tx.GetBucket("jobstore").CreateBucketIfNotExists("done");
    if (!done.ok()) return done.status();
    for (uint64_t j = 0; j < jobs; j++) {
      char key[8];
      for (int i = 0; i < 8; i++) key[i] = static_cast<char>((j >> (56 - 8 * i)) & 0xFF);
      if (Status s = done->Put(Bytes(key, 8), JobId(j)); !s.ok()) return s;
    }
    return Status::OK();
  });
}

// The callgrind driver (see the header comment).
static int Profile(const std::string& what, uint64_t n) {
  TempDir dir;
  auto db = DB::Open(dir.File("jobs.db"), Options{});
  if (!db.ok()) return 1;
  constexpr uint64_t kJobs = 2000;
  if (what == "read") {
    if (!FillJobs(db->get(), kJobs).ok()) return 1;
    std::vector<std::string> ids;
    for (uint64_t j = 0; j < kJobs; j++) ids.push_back(JobId(j));
    testing::Random rng(1);
    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) total += ReadJob(db->get(), ids[rng.Uniform(kJobs)]);
    std::printf("%llu read transactions, %zu bytes\n", static_cast<unsigned long long>(n), total);
  } else if (what == "list") {
    // n jobs' states read in read transactions of 2,000 (the benchmark's list).
    if (!FillJobs(db->get(), kJobs).ok()) return 1;
    std::vector<std::string> ids;
    for (uint64_t j = 0; j < kJobs; j++) ids.push_back(JobId(j));
    size_t total = 0;
    for (uint64_t done = 0; done < n;) {
      auto tx = (*db)->Begin(false);
      if (!tx.ok()) return 1;
      Bucket jobs = tx->GetBucket("jobstore").GetBucket("jobs");
      for (uint64_t j = 0; j < kJobs && done < n; j++, done++) {
        auto v = jobs.GetBucket(ids[j]).Get("state");
        if (!v) return 1;
        total += v->size();
      }
    }
    std::printf("%llu jobs listed, %zu bytes\n", static_cast<unsigned long long>(n), total);
  } else if (what == "listphase" || what == "readphase") {
    // The collected phases: 2,000 jobs loaded (not collected), then n list
    // transactions of 2,000 jobs each (listphase) or n read-one-job
    // transactions (readphase).
    if (!FillJobsDone(db->get(), kJobs).ok()) return 1;
    if (what == "listphase") {
      const uint64_t listed = ListPhase(db->get(), n);
      if (listed != n * kJobs) return 1;
      std::printf("%llu jobs listed in %llu transactions\n",
                  static_cast<unsigned long long>(listed), static_cast<unsigned long long>(n));
    } else {
      std::vector<std::string> ids;
      for (uint64_t j = 0; j < kJobs; j++) ids.push_back(JobId(j));
      const size_t total = ReadPhase(db->get(), ids, n);
      if (total < n * 900) return 1;
      std::printf("%llu read transactions, %zu bytes\n", static_cast<unsigned long long>(n), total);
    }
  } else if (what == "put") {
    // n random 16-byte keys with 100-byte values, in transactions of 1,000.
    testing::Random rng(1);
    std::string value(100, 'v');
    for (uint64_t done = 0; done < n;) {
      Status s = (*db)->Update([&](Tx& tx) -> Status {
        auto b = tx.CreateBucketIfNotExists("bench");
        if (!b.ok()) return b.status();
        for (int i = 0; i < 1000 && done < n; i++, done++) {
          char key[17];
          std::snprintf(key, sizeof key, "%016llx", static_cast<unsigned long long>(rng.Next()));
          if (Status p = b->Put(Bytes(key, 16), value); !p.ok()) return p;
        }
        return Status::OK();
      });
      if (!s.ok()) return 1;
    }
    std::printf("%llu puts\n", static_cast<unsigned long long>(n));
  } else {
    return 2;
  }
  return (*db)->Close().ok() ? 0 : 1;
}

}  // namespace boltpp

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "profile") == 0) {
    if (argc != 4) {
      std::fprintf(stderr, "usage: %s profile read|list|listphase|readphase|put N\n", argv[0]);
      return 2;
    }
    return boltpp::Profile(argv[2], std::strtoull(argv[3], nullptr, 10));
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
