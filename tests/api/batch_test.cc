// File: tests/api/batch_test.cc
// DB::Batch (docs/design.md "Batch"): concurrent callers are coalesced into fewer
// commits; a failing function is re-run alone and only its caller sees the
// error. Names follow bbolt's db_test.go (TestDB_Batch*).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "testutil/random.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

class BatchTest : public DBTestBase {
 protected:
  Options MakeOptions() override {
    Options o = TestOptions();
    // Long enough that threads started together land in the same batch even
    // on a loaded machine.
    o.max_batch_delay = std::chrono::milliseconds(100);
    return o;
  }
};

// Starts n threads that wait on a common start signal, then run fn(i).
template <typename Fn>
void RunTogether(int n, Fn fn) {
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return go; });
      }
      fn(i);
    });
  }
  {
    std::lock_guard<std::mutex> l(mu);
    go = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
}

// bbolt TestDB_Batch: every call's write lands, in fewer commits than calls.
TEST_F(BatchTest, Basic) {
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.CreateBucket("widgets").status(); }));
  const uint64_t txid0 = CurrentTxid(db());
  const int n = 20;
  std::mutex mu;
  std::set<uint64_t> ids;
  std::vector<Status> results(n);
  RunTogether(n, [&](int i) {
    results[i] = db()->Batch([&, i](Tx& tx) {
      {
        std::lock_guard<std::mutex> l(mu);
        ids.insert(tx.ID());
      }
      return tx.GetBucket("widgets").Put(U64Key(i), std::to_string(i));
    });
  });
  for (int i = 0; i < n; ++i) EXPECT_OK(results[i]) << "call " << i;
  auto all = ReadAll(db(), "widgets");
  EXPECT_EQ(all.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(all[U64Key(i)], std::to_string(i));
  const uint64_t commits = CurrentTxid(db()) - txid0;
  EXPECT_GE(commits, 1u);
  EXPECT_LT(commits, static_cast<uint64_t>(n) / 2) << "batch calls were not coalesced";
  EXPECT_LE(ids.size(), commits) << "transaction ids seen by the functions";
}

// A single call still commits after max_batch_delay.
TEST_F(BatchTest, Single) {
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK(db()->Batch([](Tx& tx) { return tx.CreateBucket("one").status(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_TRUE(tx.GetBucket("one"));
    return Status::OK();
  }));
}

// bbolt TestDB_BatchFull: a full batch (max_batch_size calls) runs at once,
// without waiting for the delay.
TEST_F(BatchTest, Full) {
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.CreateBucket("widgets").status(); }));
  TestDB t(
      [] {
        Options o = TestOptions();
        o.max_batch_size = 3;
        o.max_batch_delay = std::chrono::hours(1);
        return o;
      }(),
      "full");
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Update([](Tx& tx) { return tx.CreateBucket("widgets").status(); }));
  std::vector<Status> results(3);
  const auto start = std::chrono::steady_clock::now();
  RunTogether(3, [&](int i) {
    results[i] = t->Batch([i](Tx& tx) { return tx.GetBucket("widgets").Put(U64Key(i), "x"); });
  });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30))
      << "the full batch waited for the delay";
  for (auto& s : results) EXPECT_OK(s);
  EXPECT_EQ(ReadAll(t.db(), "widgets").size(), 3u);
}

// docs/design.md "Batch": a failing function is removed from the batch and re-run alone;
// its caller gets its own error, the others commit.
TEST_F(BatchTest, FailingCallRetriedAlone) {
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.CreateBucket("widgets").status(); }));
  const int n = 10, bad = 3;
  std::atomic<int> bad_runs{0};
  std::vector<std::atomic<int>> runs(n);
  std::vector<Status> results(n);
  RunTogether(n, [&](int i) {
    results[i] = db()->Batch([&, i](Tx& tx) -> Status {
      ++runs[i];
      BOLTPP_RETURN_IF_ERROR(tx.GetBucket("widgets").Put(U64Key(i), "ok"));
      if (i == bad) {
        ++bad_runs;
        return Status(Code::kInvalidArgument, "boom " + std::to_string(i));
      }
      return Status::OK();
    });
  });
  for (int i = 0; i < n; ++i) {
    if (i == bad) {
      EXPECT_EQ(results[i].code(), Code::kInvalidArgument) << results[i].ToString();
      EXPECT_NE(results[i].ToString().find("boom 3"), std::string::npos) << results[i].ToString();
    } else {
      EXPECT_OK(results[i]) << "call " << i << " got another call's error";
    }
  }
  EXPECT_GE(bad_runs.load(), 2)
      << "the failing function is re-run alone after failing in the batch";
  auto all = ReadAll(db(), "widgets");
  EXPECT_EQ(all.size(), static_cast<size_t>(n - 1));
  EXPECT_FALSE(all.count(U64Key(bad)));
}

// Every call failing: each caller gets its own error, nothing is written.
TEST_F(BatchTest, AllFail) {
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.CreateBucket("widgets").status(); }));
  const uint64_t txid0 = CurrentTxid(db());
  const int n = 6;
  std::vector<Status> results(n);
  RunTogether(n, [&](int i) {
    results[i] = db()->Batch([i](Tx& tx) -> Status {
      BOLTPP_RETURN_IF_ERROR(tx.GetBucket("widgets").Put(U64Key(i), "x"));
      return Status(Code::kAborted, "fail " + std::to_string(i));
    });
  });
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(results[i].code(), Code::kAborted);
    EXPECT_NE(results[i].ToString().find("fail " + std::to_string(i)), std::string::npos)
        << results[i].ToString();
  }
  EXPECT_TRUE(ReadAll(db(), "widgets").empty());
  EXPECT_EQ(CurrentTxid(db()), txid0) << "nothing committed";
}

// With batching disabled (max_batch_size <= 0), Batch still works like Update.
TEST_F(BatchTest, Disabled) {
  TestDB t(
      [] {
        Options o = TestOptions();
        o.max_batch_size = 0;
        return o;
      }(),
      "nobatch");
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Update([](Tx& tx) { return tx.CreateBucket("widgets").status(); }));
  std::vector<Status> results(4);
  RunTogether(4, [&](int i) {
    results[i] = t->Batch([i](Tx& tx) { return tx.GetBucket("widgets").Put(U64Key(i), "x"); });
  });
  for (auto& s : results) EXPECT_OK(s);
  EXPECT_EQ(ReadAll(t.db(), "widgets").size(), 4u);
}

// Batch calls from many threads over time, mixed with Updates.
TEST_F(BatchTest, Stress) {
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.CreateBucket("counters").status(); }));
  const int threads = 8, per_thread = 25;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        Status s =
            (i % 5 == 0)
                ? db()->Update([&](Tx& tx) { return tx.GetBucket("counters").Put(key, "u"); })
                : db()->Batch([&](Tx& tx) { return tx.GetBucket("counters").Put(key, "b"); });
        EXPECT_OK(s);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ReadAll(db(), "counters").size(), static_cast<size_t>(threads * per_thread));
}

}  // namespace
}  // namespace boltpp::testing
