// File: apps/jobstore/tests/wal_test.cc
// Both stores in WAL mode (StoreOptions::wal): a clean close leaves a complete
// data file without a pending log, a crash leaves the last checkpoint (Go
// bbolt's check and verify clean) plus a log the next read-write open
// replays, losing no committed transition; and the stores' group commit
// (StoreOptions::batch): shared commits, a lone caller, an aborting call.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "helpers.h"

namespace boltpp::jobstore::testing {
namespace {

StoreOptions WalOptions(FakeClock* clock) {
  StoreOptions o = TestStoreOptions(clock);
  o.wal = true;
  o.no_sync = false;  // the log is synced: what a crash keeps is what returned
  return o;
}

// Moves e through Created -> BidAccepted -> Running -> Completed.
Error RunExecution(ExecutionStore& store, const std::string& id, const std::string& job) {
  if (Error e = store.CreateExecution(NewLocal(id, job)); !e.ok()) return e;
  LocalState from = LocalState::kCreated;
  uint64_t version = 1;
  for (auto to : {LocalState::kBidAccepted, LocalState::kRunning, LocalState::kCompleted}) {
    if (Error e = store.UpdateExecutionState({id, to, {from}, version++, "step"}); !e.ok())
      return e;
    from = to;
  }
  return {};
}

class WalExecutionStoreTest : public StoreTest<ExecutionStore> {
 protected:
  WalExecutionStoreTest() : StoreTest("node-1-compute.db") {}
  void SetUp() override { Open(WalOptions(&clock_)); }
  std::string Log() const { return path_ + "-wal"; }
};

TEST_F(WalExecutionStoreTest, ACleanCloseLeavesACompleteDataFileAndTrustedCounters) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_NO_ERR(RunExecution(*store_, "e-" + std::to_string(i), "j-" + std::to_string(i % 2)));
  }
  EXPECT_TRUE(store_->db().GetWalInfo().present) << "commits went to the log";
  store_.reset();
  EXPECT_FALSE(std::filesystem::exists(Log())) << "Close checkpoints and removes the log";
  ExpectSoundFile(path_);
  // Opened without WAL mode, the persisted counters are current (their stamp
  // is the data file's last transaction), so Open does not recount.
  {
    Options ro;
    ro.read_only = true;
    auto db = DB::Open(path_, ro);
    ASSERT_TRUE(db.ok());
    ASSERT_OK((*db)->View([&](Tx& tx) {
      auto counts = ReadPersistedCounts(tx);
      EXPECT_TRUE(counts.has_value())
          << "txid " << tx.ID() << ", record "
          << std::string(tx.GetBucket(kExecutionIndexBucket).Get(kCountersKey).value_or(""));
      return Status::OK();
    }));
  }
  Open(TestStoreOptions(&clock_));
  EXPECT_TRUE(store_->counters_from_record());
  EXPECT_EQ(store_->GetCounts()[int(LocalState::kCompleted)], 5u);
  EXPECT_EQ(store_->GetExecutionHistory("e-3")->size(), 4u);
}

TEST_F(WalExecutionStoreTest, CountersStayTrustedAcrossCheckpointsButNotOtherWrites) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-" + std::to_string(i), "j-1")));
  }
  // e-2's record has no State a recount could read, while the counters stay
  // current: a write that recounts fails, one that trusts the record works.
  std::string original;
  ASSERT_OK(store_->db().Update([&](Tx& tx) {
    auto counts = ReadPersistedCounts(tx);
    if (!counts) return Status(Code::kCorruption, "counters not current");
    original = std::string(*tx.GetBucket(kExecutionBucket).Get("e-2"));
    if (Status s = tx.GetBucket(kExecutionBucket).Put("e-2", "{}"); !s.ok()) return s;
    return WritePersistedCounts(tx, *counts);
  }));
  // A store write after it: the record is the store's own again.
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-3", "j-1")));
  ASSERT_NO_ERR(Error::FromStatus(store_->db().Checkpoint()));
  ASSERT_NO_ERR(store_->UpdateExecutionState({"e-0", LocalState::kBidAccepted, {}, 0, ""}));
  ASSERT_NO_ERR(Error::FromStatus(store_->db().Checkpoint()));
  ASSERT_NO_ERR(store_->UpdateExecutionState({"e-1", LocalState::kBidAccepted, {}, 0, ""}));
  // Writes the store did not make (then a checkpoint): the record is no
  // longer trusted, and the recount meets e-2. (Two: a single one that lands
  // on the txid a checkpoint would have skipped is the documented limit.)
  for (int k = 0; k < 2; ++k) {
    ASSERT_OK(store_->db().Update(
        [](Tx& tx) { return tx.GetBucket(kExecutionIndexBucket).Put("other", ""); }));
  }
  ASSERT_NO_ERR(Error::FromStatus(store_->db().Checkpoint()));
  EXPECT_FALSE(store_->UpdateExecutionState({"e-0", LocalState::kRunning, {}, 0, ""}).ok());
  ASSERT_OK(store_->db().Update([&](Tx& tx) {
    if (Status s = tx.GetBucket(kExecutionIndexBucket).Delete("other"); !s.ok()) return s;
    return tx.GetBucket(kExecutionBucket).Put("e-2", original);
  }));
  ASSERT_NO_ERR(store_->UpdateExecutionState({"e-0", LocalState::kRunning, {}, 0, ""}));
  EXPECT_EQ(store_->GetCounts()[int(LocalState::kRunning)], 1u);
  store_.reset();
  Open(TestStoreOptions(&clock_));
  EXPECT_TRUE(store_->counters_from_record()) << "the closing checkpoint's stamp";
}

TEST_F(WalExecutionStoreTest, ACrashKeepsTheCheckpointAndTheNextOpenReplaysTheLog) {
  for (int i = 0; i < 3; ++i) ASSERT_NO_ERR(RunExecution(*store_, "e-" + std::to_string(i), "j-1"));
  store_.reset();  // checkpoint: e-0..e-2 are in the data file
  RunThenCrash([&] {
    auto s = ExecutionStore::Open(path_, WalOptions(&clock_));
    if (!s.ok()) return false;
    std::unique_ptr<ExecutionStore> store = std::move(*s);
    for (int i = 3; i < 8; ++i) {
      if (!RunExecution(*store, "e-" + std::to_string(i), "j-2").ok()) return false;
    }
    (void)store.release();  // no Close: the commits stay in the log only
    return true;
  });
  ASSERT_TRUE(std::filesystem::exists(Log()));
  // The data file alone is the last checkpoint: checks clean everywhere.
  ExpectSoundFile(path_);
  auto report = VerifyFile(path_, false, std::chrono::milliseconds(500));
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_GT(report->wal_pending_records, 0);
  {
    StoreOptions ro = TestStoreOptions(&clock_);
    ro.read_only = true;
    auto checkpoint = ExecutionStore::Open(path_, ro);
    ASSERT_TRUE(checkpoint.ok());
    EXPECT_EQ((*checkpoint)->GetCounts()[int(LocalState::kCompleted)], 3u);
    EXPECT_ERRC((*checkpoint)->GetExecution("e-3").error(), Errc::kExecutionNotFound);
  }
  // A read-write open, WAL mode or not, replays: nothing committed is lost.
  Open(TestStoreOptions(&clock_));
  EXPECT_EQ(store_->db().GetWalInfo().pending_records, 0);
  EXPECT_EQ(store_->GetCounts()[int(LocalState::kCompleted)], 8u);
  for (int i = 0; i < 8; ++i) {
    auto e = store_->GetExecution("e-" + std::to_string(i));
    ASSERT_TRUE(e.ok()) << i;
    EXPECT_EQ(e->version, 4u);
  }
  EXPECT_EQ(store_->GetExecutions("j-2")->size(), 5u);
}

TEST_F(WalExecutionStoreTest, GroupCommitSharesCommitsAndKeepsEveryTransition) {
  StoreOptions o = WalOptions(&clock_);
  o.batch = true;
  o.batch_delay = std::chrono::milliseconds(50);
  Open(o);
  constexpr int kClients = 8, kPerClient = 10;
  const uint64_t txid_before = Txid();
  std::vector<std::thread> threads;
  std::vector<Error> errors(kClients);
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < kPerClient && errors[c].ok(); ++i) {
        errors[c] = RunExecution(*store_, "e-" + std::to_string(c) + "-" + std::to_string(i),
                                 "j-" + std::to_string(c));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) EXPECT_TRUE(e.ok()) << e.ToString();
  const uint64_t commits = Txid() - txid_before, calls = kClients * kPerClient * 4;
  std::printf("%llu calls in %llu commits\n", static_cast<unsigned long long>(calls),
              static_cast<unsigned long long>(commits));
  EXPECT_LE(commits, calls / 2) << "concurrent callers did not share commits";
  EXPECT_EQ(store_->GetCounts()[int(LocalState::kCompleted)], uint64_t(kClients * kPerClient));
  // The group commit's own counts agree (a checkpoint may take txids too).
  const GroupCommitStats stats = store_->group_commit_stats();
  EXPECT_EQ(stats.calls, calls);
  EXPECT_LE(stats.commits, commits);
  EXPECT_GT(stats.largest, 1u);
  EXPECT_LE(stats.largest, uint64_t(kClients));
  EXPECT_GT(stats.commit_seconds, 0.0);
}

TEST_F(WalExecutionStoreTest, ALoneCallerInGroupCommitDoesNotWaitForOthers) {
  StoreOptions o = TestStoreOptions(&clock_);
  o.batch = true;
  o.batch_delay = std::chrono::seconds(1);
  Open(o);
  const auto start = std::chrono::steady_clock::now();
  // The first group waits (at most batch_delay) for batch_size callers;
  // once a group of one has committed, later calls expect one and go at once.
  for (int i = 0; i < 5; ++i) ASSERT_NO_ERR(RunExecution(*store_, "e-" + std::to_string(i), "j"));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_LT(waited, std::chrono::milliseconds(1900)) << "later calls waited for the delay too";
  EXPECT_EQ(store_->GetCounts()[int(LocalState::kCompleted)], 5u);
}

TEST_F(WalExecutionStoreTest, AStorageErrorInAGroupFailsOnlyItsCallerAfterARerunAlone) {
  for (int i = 0; i < 4; ++i)
    ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-" + std::to_string(i), "j-1")));
  // e-3's record no longer parses: its update fails with kBadRecord, which
  // aborts the shared transaction; the others are re-run alone and commit.
  std::string original;
  auto corrupt = [&](const std::string& value) {
    // Restamps the counters so that they stay trusted (no recount, which
    // would stop at the unreadable record).
    return store_->db().Update([&](Tx& tx) {
      auto counts = ReadPersistedCounts(tx);
      if (!counts) return Status(Code::kCorruption, "counters not current");
      if (original.empty()) original = std::string(*tx.GetBucket(kExecutionBucket).Get("e-3"));
      if (Status s = tx.GetBucket(kExecutionBucket).Put("e-3", value); !s.ok()) return s;
      return WritePersistedCounts(tx, *counts);
    });
  };
  ASSERT_OK(corrupt("{not json"));
  StoreOptions o = WalOptions(&clock_);
  o.batch = true;
  o.batch_size = 4;  // the first group waits for the four callers
  o.batch_delay = std::chrono::milliseconds(500);
  Open(o);
  std::vector<Error> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      results[i] = store_->UpdateExecutionState(
          {"e-" + std::to_string(i), LocalState::kBidAccepted, {LocalState::kCreated}, 1, ""});
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(results[i].ok()) << results[i].ToString();
    EXPECT_EQ(store_->GetExecution("e-" + std::to_string(i))->state, LocalState::kBidAccepted);
  }
  EXPECT_ERRC(results[3], Errc::kBadRecord);
  ASSERT_OK(corrupt(original));  // a sound file for TearDown's checks
}

class WalJobStoreTest : public StoreTest<JobStore> {
 protected:
  WalJobStoreTest() : StoreTest("node-1-requester.db") {}
};

// One job: created, an execution through its states, the job completed.
Error RunJob(JobStore& store, const std::string& job, const std::string& exec) {
  if (Error e = store.CreateJob(NewJob(job)); !e.ok()) return e;
  if (Error e = store.CreateExecution(NewExecution(exec, job)); !e.ok()) return e;
  ExecState from = ExecState::kNew;
  for (auto to : {ExecState::kAskForBid, ExecState::kBidAccepted, ExecState::kCompleted}) {
    UpdateExecutionRequest r;
    r.execution_id = exec;
    r.condition.expected_states = {from};
    r.new_values = {{"ComputeState", {{"StateType", int(to)}, {"Message", ""}}}};
    if (Error e = store.UpdateExecution(r); !e.ok()) return e;
    from = to;
  }
  if (Error e = store.UpdateJobState({job, {}, JobState::kRunning, ""}); !e.ok()) return e;
  return store.UpdateJobState({job, {}, JobState::kCompleted, ""});
}

TEST_F(WalJobStoreTest, GroupCommittedJobsSurviveACrashAndEventsResume) {
  StoreOptions o = WalOptions(&clock_);
  o.batch = true;
  Open(o);
  ASSERT_NO_ERR(RunJob(*store_, "j-first", "e-first"));
  const size_t events_per_job = store_->ReadEvents(0)->size();
  ASSERT_NO_ERR(store_->SetCheckpoint("watcher", store_->ReadEvents(0)->back().seq));
  store_.reset();
  RunThenCrash([&] {
    auto s = JobStore::Open(path_, o);
    if (!s.ok()) return false;
    std::unique_ptr<JobStore> store = std::move(*s);
    std::vector<std::thread> threads;
    std::atomic<bool> ok{true};
    for (int c = 0; c < 4; ++c) {
      threads.emplace_back([&, c] {
        const std::string n = std::to_string(c);
        if (!RunJob(*store, "j-" + n, "e-" + n).ok()) ok = false;
      });
    }
    for (auto& t : threads) t.join();
    (void)store.release();
    return ok.load();
  });
  ExpectSoundFile(path_);  // the checkpoint: j-first only, every index exact
  Open(o);                 // replays
  auto jobs = store_->GetJobs({.limit = 0});
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), 5u);
  for (int c = 0; c < 4; ++c) {
    auto job = store_->GetJob("j-" + std::to_string(c));
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(Str((*job)["State"], "StateType"), JobStateName(JobState::kCompleted));
  }
  // The watcher resumes after its checkpoint: the 4 jobs' events.
  auto after = store_->GetCheckpoint("watcher");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(store_->ReadEvents(*after)->size(), 4 * events_per_job);
}

}  // namespace
}  // namespace boltpp::jobstore::testing
