// File: apps/jobstore/tests/job_store_test.cc
// JobStore: layout, every operation, guard and error, short ids, queries,
// history filters, DeleteJob's index cleanup, the durable event log resumed
// from a checkpoint after reopening, watchers, and guarded-update races.
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <thread>

#include "helpers.h"

namespace boltpp::jobstore::testing {
namespace {

class JobStoreTest : public StoreTest<JobStore> {
 protected:
  JobStoreTest() : StoreTest("node-1-requester.db") {}
  bool Has(std::vector<std::string> path, const std::string& key) {
    bool found = false;
    EXPECT_OK(store_->db().View([&](Tx& tx) {
      Bucket b = tx.GetBucket(path[0]);
      for (size_t i = 1; i < path.size() && b; ++i) b = b.GetBucket(path[i]);
      found = b && (b.Get(key) || b.GetBucket(key));
      return Status::OK();
    }));
    return found;
  }
  Error MoveExec(const std::string& id, ExecState from, ExecState to, uint64_t revision = 0) {
    UpdateExecutionRequest r;
    r.execution_id = id;
    r.condition.expected_states = {from};
    r.condition.expected_revision = revision;
    r.new_values = {{"ComputeState", {{"StateType", int(to)}, {"Message", "m"}}}};
    r.comment = "to " + std::string(ExecStateName(to));
    return store_->UpdateExecution(r);
  }
};

const std::string kJob1 = "j-1a2b3c4d-0000-4000-8000-000000000001";
const std::string kJob2 = "j-1a2b3c4e-0000-4000-8000-000000000002";
const std::string kJob3 = "j-1a2b3c4e-1111-4000-8000-000000000003";

TEST_F(JobStoreTest, CreateJobWritesSpecIndexesHistoryAndEvent) {
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob1, "team-a", {"GPU", "env"})));
  auto job = store_->GetJob(kJob1);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ((*job)["State"]["StateType"], "Pending");
  EXPECT_EQ((*job)["Revision"], 1);
  EXPECT_EQ((*job)["CreateTime"], clock_.now.load());
  EXPECT_TRUE(Has({"jobs", kJob1}, "spec"));
  for (auto sub : {"executions", "evaluations", "job_history", "execution_history"}) {
    EXPECT_TRUE(Has({"jobs", kJob1}, sub)) << sub;
  }
  EXPECT_TRUE(Has({"idx_inprogress"}, kJob1));
  EXPECT_TRUE(Has({"idx_namespaces", "team-a"}, kJob1));
  EXPECT_TRUE(Has({"idx_tags", "gpu"}, kJob1));
  EXPECT_TRUE(Has({"idx_tags", "env"}, kJob1));
  auto history = store_->GetJobHistory(kJob1);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0]["Type"], "JobLevel");
  EXPECT_EQ((*history)[0]["JobState"]["New"], "Pending");
  EXPECT_EQ((*history)[0]["Comment"], "Job created");
  auto events = store_->ReadEvents(0);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].operation, "CREATE");
  EXPECT_EQ((*events)[0].object_type, "Job");
  EXPECT_EQ((*events)[0].object["ID"], kJob1);

  const uint64_t before = Txid();
  EXPECT_ERRC(store_->CreateJob(NewJob(kJob1)), Errc::kJobAlreadyExists);
  EXPECT_ERRC(store_->CreateJob(NewJob("")), Errc::kInvalidArgument);
  EXPECT_ERRC(store_->CreateJob(NewJob("j-has space")), Errc::kInvalidArgument);
  EXPECT_ERRC(store_->CreateJob(Json::array()), Errc::kInvalidArgument);
  EXPECT_EQ(Txid(), before);
}

TEST_F(JobStoreTest, ShortIdsResolveByPrefixAndAmbiguityIsAnError) {
  for (auto& id : {kJob1, kJob2, kJob3}) ASSERT_NO_ERR(store_->CreateJob(NewJob(id)));
  EXPECT_EQ(store_->ResolveJobId("j-1a2b3c4d").value(), kJob1);
  EXPECT_EQ((*store_->GetJob("j-1a2b3c4d"))["ID"], kJob1);
  EXPECT_EQ(store_->GetJob("j-1a2b3c4e").error().code(), Errc::kMultipleJobsFound);
  EXPECT_EQ(store_->GetJob("j-1a2b3c4e-1").value()["ID"], kJob3);
  EXPECT_EQ(store_->GetJob("j-ffffffff").error().code(), Errc::kJobNotFound);
  EXPECT_EQ(store_->GetJob("").error().code(), Errc::kJobNotFound);
  EXPECT_EQ(store_->GetJob(kJob2).value()["ID"], kJob2);
}

TEST_F(JobStoreTest, ListFiltersSortsAndPages) {
  const std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> jobs = {
      {"j-0005", "default", {"gpu"}},
      {"j-0003", "default", {"cpu"}},
      {"j-0001", "team-b", {"gpu", "canary"}},
      {"j-0004", "default", {}},
      {"j-0002", "default", {"GPU"}}};
  for (auto& [id, ns, labels] : jobs) {
    clock_.Advance(std::chrono::seconds(1));
    ASSERT_NO_ERR(store_->CreateJob(NewJob(id, ns, labels)));
  }
  auto ids = [&](JobQuery q) {
    std::vector<std::string> out;
    auto r = store_->GetJobs(q);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    if (r.ok()) {
      for (auto& j : *r) out.push_back(j["ID"]);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({}), (V{"j-0005", "j-0003", "j-0001", "j-0004", "j-0002"}));  // created_at
  EXPECT_EQ(ids({.sort_by = "id"}), (V{"j-0001", "j-0002", "j-0003", "j-0004", "j-0005"}));
  EXPECT_EQ(ids({.sort_by = "id", .sort_reverse = true}),
            (V{"j-0005", "j-0004", "j-0003", "j-0002", "j-0001"}));
  EXPECT_EQ(ids({.namespace_name = "default", .sort_by = "id"}),
            (V{"j-0002", "j-0003", "j-0004", "j-0005"}));
  EXPECT_EQ(ids({.include_tags = {"gpu"}, .sort_by = "id"}), (V{"j-0001", "j-0002", "j-0005"}));
  EXPECT_EQ(ids({.include_tags = {"GPU", "cpu"}, .exclude_tags = {"canary"}, .sort_by = "id"}),
            (V{"j-0002", "j-0003", "j-0005"}));
  EXPECT_EQ(ids({.limit = 2, .offset = 1, .sort_by = "id"}), (V{"j-0002", "j-0003"}));
  EXPECT_EQ(ids({.limit = 10, .offset = 4, .sort_by = "id"}), (V{"j-0005"}));
  EXPECT_EQ(ids({.offset = 9}), V{});
  EXPECT_EQ(ids({.namespace_name = "nobody"}), V{});
}

TEST_F(JobStoreTest, JobStateGuardsAndInProgressIndex) {
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob1)));
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob2)));
  const uint64_t before = Txid();
  UpdateJobStateRequest r{kJob1, {}, JobState::kRunning, "go"};
  r.condition.expected_state = JobState::kRunning;
  EXPECT_ERRC(store_->UpdateJobState(r), Errc::kInvalidJobState);
  r.condition = {};
  r.condition.unexpected_states = {JobState::kPending};
  EXPECT_ERRC(store_->UpdateJobState(r), Errc::kInvalidJobState);
  r.condition = {};
  r.condition.expected_revision = 5;
  EXPECT_ERRC(store_->UpdateJobState(r), Errc::kInvalidJobRevision);
  EXPECT_ERRC(store_->UpdateJobState({"j-missing", {}, JobState::kRunning, ""}),
              Errc::kJobNotFound);
  EXPECT_ERRC(store_->UpdateJobState({kJob1, {}, JobState::kUndefined, ""}),
              Errc::kInvalidArgument);
  EXPECT_ERRC(store_->UpdateJobState({kJob1, {}, static_cast<JobState>(6), ""}),
              Errc::kInvalidArgument);
  EXPECT_ERRC(store_->UpdateJobState({kJob1, {}, static_cast<JobState>(-1), ""}),
              Errc::kInvalidArgument);
  EXPECT_EQ(Txid(), before);
  r.condition = {};
  r.condition.expected_state = JobState::kPending;
  r.condition.expected_revision = 1;
  clock_.Advance(std::chrono::seconds(3));
  ASSERT_NO_ERR(store_->UpdateJobState(r));
  ASSERT_NO_ERR(store_->UpdateJobState({kJob1, {}, JobState::kCompleted, "done"}));
  EXPECT_ERRC(store_->UpdateJobState({kJob1, {}, JobState::kStopped, ""}),
              Errc::kJobAlreadyTerminal);
  auto job = store_->GetJob(kJob1);
  EXPECT_EQ((*job)["State"]["StateType"], "Completed");
  EXPECT_EQ((*job)["Revision"], 3);
  EXPECT_EQ((*job)["ModifyTime"], clock_.now.load());
  EXPECT_FALSE(Has({"idx_inprogress"}, kJob1));
  auto in_progress = store_->GetInProgressJobs();
  ASSERT_TRUE(in_progress.ok());
  ASSERT_EQ(in_progress->size(), 1u);
  EXPECT_EQ((*in_progress)[0]["ID"], kJob2);
  auto history = store_->GetJobHistory(kJob1);
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[2]["JobState"]["Previous"], "Running");
  EXPECT_EQ((*history)[2]["NewRevision"], 3);
}

TEST_F(JobStoreTest, ExecutionsGuardsMergeAndHistory) {
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob1)));
  EXPECT_ERRC(store_->CreateExecution(NewExecution("e-1", "j-missing")), Errc::kJobNotFound);
  auto bad = NewExecution("e-1", kJob1);
  bad["Namespace"] = "";
  EXPECT_ERRC(store_->CreateExecution(bad), Errc::kInvalidArgument);
  ASSERT_NO_ERR(store_->CreateExecution(NewExecution("e-1", kJob1, "node-a")));
  EXPECT_ERRC(store_->CreateExecution(NewExecution("e-1", kJob1)), Errc::kExecutionAlreadyExists);
  EXPECT_TRUE(Has({"idx_executions", "e-1"}, kJob1));
  const uint64_t before = Txid();
  EXPECT_ERRC(MoveExec("e-missing", ExecState::kNew, ExecState::kAskForBid),
              Errc::kExecutionNotFound);
  EXPECT_ERRC(MoveExec("e-1", ExecState::kAskForBid, ExecState::kBidAccepted),
              Errc::kInvalidExecutionState);
  EXPECT_ERRC(MoveExec("e-1", ExecState::kNew, ExecState::kAskForBid, 4),
              Errc::kInvalidExecutionVersion);
  UpdateExecutionRequest unexpected;
  unexpected.execution_id = "e-1";
  unexpected.condition.unexpected_states = {ExecState::kNew};
  EXPECT_ERRC(store_->UpdateExecution(unexpected), Errc::kInvalidExecutionState);
  EXPECT_EQ(Txid(), before);
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_NO_ERR(MoveExec("e-1", ExecState::kNew, ExecState::kAskForBid, 1));
  ASSERT_NO_ERR(MoveExec("e-1", ExecState::kAskForBid, ExecState::kBidRejected, 2));
  EXPECT_ERRC(MoveExec("e-1", ExecState::kBidRejected, ExecState::kBidAccepted),
              Errc::kExecutionAlreadyTerminal);
  auto exec = store_->GetExecution("e-1");
  ASSERT_TRUE(exec.ok());
  EXPECT_EQ((*exec)["ComputeState"]["StateType"], int(ExecState::kBidRejected));
  EXPECT_EQ((*exec)["ComputeState"]["Message"], "m");
  EXPECT_EQ((*exec)["DesiredState"]["StateType"], 1) << "merge dropped a field";
  EXPECT_EQ((*exec)["NodeID"], "node-a");
  EXPECT_EQ((*exec)["Revision"], 3);
  EXPECT_EQ((*exec)["CreateTime"], clock_.now.load() - 2'000'000'000);
  EXPECT_EQ((*exec)["ModifyTime"], clock_.now.load());
  ASSERT_NO_ERR(store_->CreateExecution(NewExecution("e-2", kJob1, "node-b")));
  auto list = store_->GetExecutions("j-1a2b3c4d");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0]["ID"], "e-1");
  EXPECT_EQ(store_->GetExecution("e-9").error().code(), Errc::kExecutionNotFound);

  auto all = store_->GetJobHistory(kJob1);
  EXPECT_EQ(all->size(), 5u);  // job created + 3 rows of e-1 + 1 of e-2
  auto only_exec = store_->GetJobHistory(kJob1, {.exclude_job_level = true, .execution_id = "e-1"});
  ASSERT_EQ(only_exec->size(), 3u);
  EXPECT_EQ((*only_exec)[2]["ExecutionState"]["Previous"], int(ExecState::kAskForBid));
  EXPECT_EQ((*only_exec)[2]["ExecutionState"]["New"], int(ExecState::kBidRejected));
  EXPECT_EQ((*only_exec)[2]["NewRevision"], 3);
  EXPECT_EQ(store_->GetJobHistory(kJob1, {.node_id = "node-b"})->size(), 1u);
  EXPECT_EQ(store_->GetJobHistory(kJob1, {.exclude_execution_level = true})->size(), 1u);
  const int64_t later = clock_.now.load() / 1'000'000'000 + 1;
  EXPECT_EQ(store_->GetJobHistory(kJob1, {.since = later})->size(), 0u);
  EXPECT_EQ(store_->GetJobHistory("j-zzz").error().code(), Errc::kJobNotFound);
}

TEST_F(JobStoreTest, ExecutionUpdateMayNotMoveTheKeyOrSkipRevisions) {
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob1)));
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob2)));
  ASSERT_NO_ERR(store_->CreateExecution(NewExecution("e-1", kJob1)));
  const std::string raw = store_->GetExecution("e-1")->dump();
  const uint64_t before = Txid();
  auto update = [&](Json values) {
    UpdateExecutionRequest r;
    r.execution_id = "e-1";
    r.new_values = std::move(values);
    return store_->UpdateExecution(r);
  };
  EXPECT_ERRC(update({{"ID", "e-2"}}), Errc::kInvalidArgument);
  EXPECT_ERRC(update({{"JobID", kJob2}}), Errc::kInvalidArgument);
  EXPECT_ERRC(update({{"Namespace", "other"}}), Errc::kInvalidArgument);
  EXPECT_ERRC(update({{"Revision", 1}}), Errc::kInvalidArgument);  // stored, not stored+1
  EXPECT_ERRC(update({{"Revision", 5}}), Errc::kInvalidArgument);
  EXPECT_ERRC(update({{"Revision", "2"}}), Errc::kInvalidArgument);
  EXPECT_EQ(Txid(), before);
  EXPECT_EQ(store_->GetExecution("e-1")->dump(), raw);
  // Unchanged keys, null and the next revision are accepted.
  const Json same = *store_->GetExecution("e-1");
  ASSERT_NO_ERR(update({{"ID", same["ID"]},
                        {"JobID", same["JobID"]},
                        {"Namespace", same["Namespace"]},
                        {"Revision", 2},
                        {"NodeID", nullptr}}));
  EXPECT_EQ((*store_->GetExecution("e-1"))["Revision"], 2);
  ASSERT_NO_ERR(update({{"Revision", 0}}));  // 0: not given, next revision
  EXPECT_EQ((*store_->GetExecution("e-1"))["Revision"], 3);
  store_.reset();
  auto report = VerifyFile(path_, false, std::chrono::milliseconds(500));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->problems.front().ToString();
}

TEST_F(JobStoreTest, EvaluationsAndDeleteJobCleansEveryIndex) {
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob1, "team-a", {"gpu"})));
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob2, "team-a", {"gpu"})));
  ASSERT_NO_ERR(store_->CreateExecution(NewExecution("e-1", kJob1)));
  ASSERT_NO_ERR(store_->CreateExecution(NewExecution("e-2", kJob1)));
  Json eval = {{"ID", "v-1"}, {"JobID", kJob1}, {"Status", "pending"}};
  EXPECT_ERRC(store_->CreateEvaluation({{"ID", "v-x"}, {"JobID", "j-missing"}}),
              Errc::kJobNotFound);
  ASSERT_NO_ERR(store_->CreateEvaluation(eval));
  EXPECT_ERRC(store_->CreateEvaluation(eval), Errc::kEvaluationAlreadyExists);
  ASSERT_NO_ERR(store_->CreateEvaluation({{"ID", "v-2"}, {"JobID", kJob1}}));
  EXPECT_EQ(store_->GetEvaluation("v-1").value()["Status"], "pending");
  ASSERT_NO_ERR(store_->DeleteEvaluation("v-2"));
  EXPECT_ERRC(store_->GetEvaluation("v-2").error(), Errc::kEvaluationNotFound);
  EXPECT_ERRC(store_->DeleteEvaluation("v-2"), Errc::kEvaluationNotFound);
  EXPECT_FALSE(Has({"idx_evaluations"}, "v-2"));

  EXPECT_ERRC(store_->DeleteJob("j-missing"), Errc::kJobNotFound);
  ASSERT_NO_ERR(store_->DeleteJob(kJob1));
  EXPECT_ERRC(store_->GetJob(kJob1).error(), Errc::kJobNotFound);
  EXPECT_FALSE(Has({"jobs"}, kJob1));
  EXPECT_FALSE(Has({"idx_inprogress"}, kJob1));
  EXPECT_FALSE(Has({"idx_namespaces", "team-a"}, kJob1));
  EXPECT_FALSE(Has({"idx_tags", "gpu"}, kJob1));
  EXPECT_FALSE(Has({"idx_executions"}, "e-1"));
  EXPECT_FALSE(Has({"idx_executions"}, "e-2"));
  EXPECT_FALSE(Has({"idx_evaluations"}, "v-1"));
  EXPECT_TRUE(Has({"idx_namespaces", "team-a"}, kJob2));
  EXPECT_TRUE(Has({"idx_tags", "gpu"}, kJob2));
  EXPECT_ERRC(store_->GetExecution("e-1").error(), Errc::kExecutionNotFound);
  // The ids can be used again.
  ASSERT_NO_ERR(store_->CreateExecution(NewExecution("e-1", kJob2)));
}

TEST_F(JobStoreTest, EventsResumeFromACheckpointAfterReopen) {
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob1)));
  ASSERT_NO_ERR(store_->CreateExecution(NewExecution("e-1", kJob1)));
  ASSERT_NO_ERR(store_->UpdateJobState({kJob1, {}, JobState::kRunning, ""}));
  auto first = store_->ReadEvents(0, 2);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  ASSERT_NO_ERR(store_->SetCheckpoint("orchestrator", first->back().seq));
  EXPECT_ERRC(store_->SetCheckpoint("", 1), Errc::kInvalidArgument);
  // A failed guard writes no event.
  EXPECT_ERRC(store_->UpdateJobState(
                  {kJob1, {.expected_state = JobState::kPending}, JobState::kFailed, ""}),
              Errc::kInvalidJobState);
  Open();  // restart
  ASSERT_NO_ERR(store_->DeleteJob(kJob1));
  auto cp = store_->GetCheckpoint("orchestrator");
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(*cp, 2u);
  EXPECT_EQ(store_->GetCheckpoint("nobody").value(), 0u);
  auto rest = store_->ReadEvents(*cp);
  ASSERT_TRUE(rest.ok());
  std::vector<std::string> seen;
  for (auto& e : *rest)
    seen.push_back(e.operation + " " + e.object_type + " " + std::to_string(e.seq));
  EXPECT_EQ(seen, (std::vector<std::string>{"UPDATE Job 3", "DELETE Job 4"}));
  EXPECT_EQ((*rest)[0].object["State"]["StateType"], "Running");
  EXPECT_EQ((*rest)[0].timestamp, clock_.now.load());

  // Pruning keeps what a checkpoint has not passed.
  clock_.Advance(std::chrono::hours(25));
  auto pruned = store_->PruneEvents(clock_.now.load() -
                                    std::chrono::nanoseconds(std::chrono::hours(24)).count());
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 2u);
  EXPECT_EQ(store_->ReadEvents(0)->size(), 2u);
  ASSERT_NO_ERR(store_->SetCheckpoint("orchestrator", 4));
  EXPECT_EQ(store_->PruneEvents(clock_.now.load()).value(), 2u);
  EXPECT_TRUE(store_->ReadEvents(0)->empty());
}

TEST_F(JobStoreTest, WatchersSeeCommittedChangesOnly) {
  std::vector<std::string> seen;
  std::mutex mu;
  int id =
      store_->Watch(kWatchJob | kWatchExecution, kWatchCreate | kWatchUpdate, [&](const Event& e) {
        std::lock_guard lock(mu);
        seen.push_back(e.operation + " " + e.object_type);
      });
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob1)));
  ASSERT_NO_ERR(store_->CreateExecution(NewExecution("e-1", kJob1)));
  ASSERT_NO_ERR(store_->CreateEvaluation({{"ID", "v-1"}, {"JobID", kJob1}}));  // not watched
  EXPECT_ERRC(store_->CreateJob(NewJob(kJob1)), Errc::kJobAlreadyExists);      // rolled back
  ASSERT_NO_ERR(store_->DeleteJob(kJob1));  // delete: not watched
  store_->Unwatch(id);
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob2)));
  EXPECT_EQ(seen, (std::vector<std::string>{"CREATE Job", "CREATE Execution"}));
}

TEST_F(JobStoreTest, AWatcherMayWatchAndUnwatchFromItsCallback) {
  int calls = 0, added_calls = 0;
  int self = 0;
  self = store_->Watch(kWatchJob, kWatchCreate, [&](const Event&) {
    ++calls;
    store_->Unwatch(self);  // would deadlock if callbacks ran under the watch lock
    store_->Watch(kWatchJob, kWatchCreate, [&](const Event&) { ++added_calls; });
  });
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob1)));
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob2)));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(added_calls, 1);
}

TEST_F(JobStoreTest, ReadsTheRealStoresFileWithLegacyHistoryKeys) {
  store_.reset();
  std::filesystem::copy_file(TestData("node-1-requester.db"), path_,
                             std::filesystem::copy_options::overwrite_existing);
  Open();
  auto job = store_->GetJob("j-20000002");
  ASSERT_TRUE(job.ok()) << job.error().ToString();
  EXPECT_EQ((*job)["State"]["StateType"], "Running");
  EXPECT_EQ(store_->GetJob("j-2000aaaa").error().code(), Errc::kMultipleJobsFound);
  auto execs = store_->GetExecutions("j-20000002");
  ASSERT_EQ(execs->size(), 2u);
  auto history = store_->GetJobHistory("j-20000002");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 2u + 2 * 4);
  auto gpu = store_->GetJobs({.include_tags = {"gpu"}});
  ASSERT_EQ(gpu->size(), 1u);
  // Appending after the 16-digit keys keeps numeric order.
  const std::string full = (*job)["ID"];
  ASSERT_NO_ERR(
      store_->UpdateJobState({full, {.expected_revision = 2}, JobState::kCompleted, "done"}));
  history = store_->GetJobHistory(full, {.exclude_execution_level = true});
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ(history->back()["JobState"]["New"], "Completed");
  // Repair drops the orphans the real DeleteJob left; then everything is sound.
  store_.reset();
  auto report = VerifyFile(path_, true, std::chrono::milliseconds(500));
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->repairs.size(), 3u);
  auto recheck = VerifyFile(path_, false, std::chrono::milliseconds(500));
  ASSERT_TRUE(recheck.ok());
  EXPECT_TRUE(recheck->ok()) << recheck->problems.front().ToString();
}

TEST_F(JobStoreTest, ConcurrentGuardedJobAndExecutionUpdatesHaveOneWinner) {
  auto o = TestStoreOptions(&clock_);
  o.batch = true;
  Open(o);
  ASSERT_NO_ERR(store_->CreateJob(NewJob(kJob1)));
  constexpr int kExecs = 10, kClients = 6;
  for (int i = 0; i < kExecs; ++i) {
    ASSERT_NO_ERR(store_->CreateExecution(NewExecution("e-" + std::to_string(i), kJob1)));
  }
  std::atomic<int> exec_wins{0}, job_wins{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&] {
      for (int i = 0; i < kExecs; ++i) {
        if (MoveExec("e-" + std::to_string(i), ExecState::kNew, ExecState::kAskForBid).ok())
          exec_wins++;
      }
      UpdateJobStateRequest r{
          kJob1, {.expected_state = JobState::kPending}, JobState::kRunning, ""};
      if (store_->UpdateJobState(r).ok()) job_wins++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(exec_wins.load(), kExecs);
  EXPECT_EQ(job_wins.load(), 1);
  EXPECT_EQ(store_->GetJobHistory(kJob1)->size(), 1u + 1 + 2 * kExecs);
}

TEST_F(JobStoreTest, FailedGuardsInsideABatchLeaveTheirDataUnchanged) {
  // Six callers share one batch: two valid updates on kJob1 and four that
  // fail a guard on kJob2/kJob3. Their jobs, indexes and events stay as they were.
  auto o = TestStoreOptions(&clock_);
  o.batch = true;
  o.batch_size = 6;
  o.batch_delay = std::chrono::milliseconds(500);
  for (auto& id : {kJob1, kJob2, kJob3}) ASSERT_NO_ERR(store_->CreateJob(NewJob(id)));
  ASSERT_NO_ERR(store_->CreateExecution(NewExecution("e-1", kJob1)));
  ASSERT_NO_ERR(store_->CreateExecution(NewExecution("e-2", kJob2)));
  Open(o);  // set up without waiting for batches
  auto snapshot = [&] {
    std::string out;
    EXPECT_OK(store_->db().View([&](Tx& tx) {
      for (auto& id : {kJob2, kJob3}) {
        out += SnapshotPath(tx, {std::string(kJobsBucket), id}) + "|" +
               SnapshotPath(tx, {std::string(kInProgressIndex), id}) + "|";
      }
      out += SnapshotPath(tx, {std::string(kExecutionIndex), "e-2"});
      return Status::OK();
    }));
    return out;
  };
  const std::string before = snapshot();
  const uint64_t last_event = store_->ReadEvents(0)->back().seq;
  const uint64_t txid_before = Txid();
  std::vector<Error> results(6);
  std::vector<std::function<Error()>> calls = {
      [&] {
        return store_->UpdateJobState({kJob1, {}, JobState::kRunning, "go"});
      },
      [&] { return MoveExec("e-1", ExecState::kNew, ExecState::kAskForBid); },
      [&] {
        return store_->UpdateJobState(
            {kJob2, {.expected_state = JobState::kRunning}, JobState::kCompleted, ""});
      },
      [&] {
        return store_->UpdateJobState({kJob3, {.expected_revision = 9}, JobState::kRunning, ""});
      },
      [&] { return MoveExec("e-2", ExecState::kAskForBid, ExecState::kBidAccepted); },
      [&] { return store_->CreateJob(NewJob(kJob3)); },
  };
  std::vector<std::thread> threads;
  for (size_t i = 0; i < calls.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = calls[i](); });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_TRUE(results[1].ok()) << results[1].ToString();
  EXPECT_ERRC(results[2], Errc::kInvalidJobState);
  EXPECT_ERRC(results[3], Errc::kInvalidJobRevision);
  EXPECT_ERRC(results[4], Errc::kInvalidExecutionState);
  EXPECT_ERRC(results[5], Errc::kJobAlreadyExists);
  EXPECT_EQ(Txid(), txid_before + 1) << "the six calls did not share one commit";
  EXPECT_EQ(snapshot(), before);
  auto events = store_->ReadEvents(last_event);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 2u);
  for (auto& e : *events) {
    const std::string id = Str(e.object, "ID");
    EXPECT_TRUE(id == kJob1 || id == "e-1") << id;
  }
  EXPECT_EQ(store_->GetExecutions(kJob1)->at(0)["ComputeState"]["StateType"],
            int(ExecState::kAskForBid));
}

TEST_F(JobStoreTest, RandomOperationsKeepEveryIndexExact) {
  // Every operation, in random order with random arguments (guard failures
  // included); after each one verify finds nothing: idx_inprogress,
  // idx_namespaces, idx_tags, idx_executions and idx_evaluations are exact.
  boltpp::testing::Random rnd(boltpp::testing::SeedOr(20261202));
  const int ops = static_cast<int>(boltpp::testing::EnvInt("BOLTPP_JOBS_RANDOM_OPS", 300));
  std::printf("seed %llu, %d operations (BOLTPP_JOBS_RANDOM_OPS)\n",
              static_cast<unsigned long long>(rnd.seed()), ops);
  auto job_id = [&] { return "j-" + std::to_string(rnd.Uniform(12)); };
  auto exec_id = [&] { return "e-" + std::to_string(rnd.Uniform(30)); };
  auto eval_id = [&] { return "v-" + std::to_string(rnd.Uniform(20)); };
  int succeeded = 0;
  for (int i = 0; i < ops; ++i) {
    const int kind = static_cast<int>(rnd.Uniform(7));
    std::string what;
    switch (kind) {
      case 0: {
        std::vector<std::string> labels;
        for (auto l : {"env", "Tier", "canary"}) {
          if (rnd.OneIn(2)) labels.push_back(l);
        }
        const std::string id = job_id();
        what = "create job " + id;
        succeeded +=
            store_->CreateJob(NewJob(id, "ns-" + std::to_string(rnd.Uniform(3)), labels)).ok();
        break;
      }
      case 1: {
        const std::string id = job_id();
        const auto state = JobState(1 + rnd.Uniform(5));
        what = "job " + id + " -> " + std::string(JobStateName(state));
        succeeded += store_->UpdateJobState({id, {}, state, "random"}).ok();
        break;
      }
      case 2: {
        const std::string id = exec_id(), job = job_id();
        what = "create execution " + id + " of " + job;
        succeeded += store_->CreateExecution(NewExecution(id, job)).ok();
        break;
      }
      case 3: {
        UpdateExecutionRequest u;
        u.execution_id = exec_id();
        u.new_values = {
            {"ComputeState", {{"StateType", int(1 + rnd.Uniform(9))}, {"Message", "random"}}}};
        what = "update execution " + u.execution_id;
        succeeded += store_->UpdateExecution(u).ok();
        break;
      }
      case 4: {
        const std::string id = eval_id(), job = job_id();
        what = "create evaluation " + id + " of " + job;
        succeeded +=
            store_->CreateEvaluation({{"ID", id}, {"JobID", job}, {"Status", "pending"}}).ok();
        break;
      }
      case 5: {
        const std::string id = eval_id();
        what = "delete evaluation " + id;
        succeeded += store_->DeleteEvaluation(id).ok();
        break;
      }
      default: {
        const std::string id = job_id();
        what = "delete job " + id;
        succeeded += store_->DeleteJob(id).ok();
        break;
      }
    }
    VerifyReport report;
    ASSERT_OK(store_->db().View([&](Tx& tx) {
      report = VerifyStore(tx, false);
      return Status::OK();
    }));
    ASSERT_TRUE(report.ok()) << "after op " << i << " (" << what
                             << "): " << report.problems[0].ToString();
  }
  EXPECT_GT(succeeded, ops / 5) << "too few operations changed anything";
}

}  // namespace
}  // namespace boltpp::jobstore::testing
