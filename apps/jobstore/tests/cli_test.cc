// File: apps/jobstore/tests/cli_test.cc
// boltpp-jobs: golden outputs, file resolution through the environment, every
// error a user can hit (exit 1, clear message, nothing changed), verify and
// --repair on the real stores' files, simulate, and kill -9 during simulate
// followed by verify and a check that no committed transition was lost.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "helpers.h"

extern char** environ;

namespace boltpp::jobstore::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  // A requester and a compute file with fixed ids and times.
  void SetUp() override {
    auto o = TestStoreOptions(&clock_);
    {
      auto req = JobStore::Open(req_path_, o);
      ASSERT_TRUE(req.ok());
      auto& r = **req;
      for (int i = 1; i <= 3; ++i) {
        clock_.Advance(std::chrono::seconds(60));
        ASSERT_NO_ERR(
            r.CreateJob(NewJob("j-0000000" + std::to_string(i) + "-aaaa", "default", {"env"})));
      }
      ASSERT_NO_ERR(
          r.CreateExecution(NewExecution("e-00000001-bbbb", "j-00000001-aaaa", "node-1")));
      clock_.Advance(std::chrono::seconds(1));
      UpdateExecutionRequest u;
      u.execution_id = "e-00000001-bbbb";
      u.condition.expected_states = {ExecState::kNew};
      u.new_values = {
          {"ComputeState", {{"StateType", int(ExecState::kBidAccepted)}, {"Message", "running"}}}};
      u.comment = "bid accepted";
      ASSERT_NO_ERR(r.UpdateExecution(u));
      ASSERT_NO_ERR(r.UpdateJobState({"j-00000001-aaaa", {}, JobState::kRunning, "running"}));
    }
    {
      auto comp = ExecutionStore::Open(comp_path_, o);
      ASSERT_TRUE(comp.ok());
      ASSERT_NO_ERR((*comp)->CreateExecution(NewLocal("e-00000001-bbbb", "j-00000001-aaaa")));
      clock_.Advance(std::chrono::seconds(1));
      ASSERT_NO_ERR((*comp)->UpdateExecutionState({"e-00000001-bbbb",
                                                   LocalState::kBidAccepted,
                                                   {LocalState::kCreated},
                                                   1,
                                                   "bid accepted"}));
      ASSERT_NO_ERR((*comp)->CreateExecution(NewLocal("e-00000002-bbbb", "j-00000002-aaaa")));
    }
  }
  void TearDown() override {
    for (auto& p : {req_path_, comp_path_}) {
      if (std::filesystem::exists(p)) ExpectSoundFile(p, check_verify_);
    }
  }
  CommandResult Jobs(const std::string& args, const std::string& env = "") {
    return jobstore::testing::Run(env + " " + Cli() + " " + args);
  }

  TempDir dir_;
  std::string req_path_ = dir_.File("n1-requester.db");
  std::string comp_path_ = dir_.File("n1-compute.db");
  FakeClock clock_;
  bool check_verify_ = true;
};

TEST_F(CliTest, JobListGolden) {
  auto r = Jobs("--db " + req_path_ + " job list");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "CREATED              ID          JOB     TYPE   STATE\n"
            "2023-11-14 22:14:20  j-00000001  docker  batch  Running\n"
            "2023-11-14 22:15:20  j-00000002  docker  batch  Pending\n"
            "2023-11-14 22:16:20  j-00000003  docker  batch  Pending\n");
  r = Jobs("--db " + req_path_ + " job list --order-by id --order-reversed --limit 1");
  EXPECT_EQ(r.out,
            "CREATED              ID          JOB     TYPE   STATE\n"
            "2023-11-14 22:16:20  j-00000003  docker  batch  Pending\n");
}

TEST_F(CliTest, JobListLimitDefaultsTo10AndZeroPrintsEveryJobAsJson) {
  {
    auto req = JobStore::Open(req_path_, TestStoreOptions(&clock_));
    for (int i = 10; i < 22; ++i)
      ASSERT_NO_ERR((*req)->CreateJob(NewJob("j-extra-" + std::to_string(i))));
  }
  auto r = Jobs("--db " + req_path_ + " job list --output json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out).size(), 10u);
  r = Jobs("--db " + req_path_ + " job list --limit 0 --output json");
  ASSERT_EQ(r.status, 0) << r.err;
  Json all = Json::parse(r.out);
  ASSERT_EQ(all.size(), 15u);
  EXPECT_EQ(all[0]["ID"], "j-00000001-aaaa");
  EXPECT_EQ(all[0]["State"]["StateType"], "Running");
  EXPECT_EQ(all[0]["Revision"], 2);
  EXPECT_EQ(all[0]["Labels"]["env"], "1");
}

TEST_F(CliTest, JobExecutionsAndHistoryGolden) {
  auto r = Jobs("--db " + req_path_ + " job executions j-00000001");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "CREATED              MODIFIED             ID          NODE ID  REV.  COMPUTE STATE  "
            "DESIRED STATE  COMMENT\n"
            "2023-11-14 22:16:20  2023-11-14 22:16:21  e-00000001  node-1   2     BidAccepted    "
            "Running        running\n");
  r = Jobs("--db " + req_path_ + " job history j-00000001");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "TIME                 LEVEL      EXEC. ID    NODE ID  REV.  PREVIOUS STATE  NEW STATE    "
      "COMMENT\n"
      "2023-11-14 22:14:20  Job                             1     Pending         Pending      Job "
      "created\n"
      "2023-11-14 22:16:20  Execution  e-00000001  node-1   1     New             New          \n"
      "2023-11-14 22:16:21  Job                             2     Pending         Running      "
      "running\n"
      "2023-11-14 22:16:21  Execution  e-00000001  node-1   2     New             BidAccepted  bid "
      "accepted\n");
  r = Jobs("--db " + req_path_ + " job history j-00000001 --event-type job --output json");
  ASSERT_EQ(r.status, 0) << r.err;
  Json rows = Json::parse(r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["JobState"]["New"], "Running");
  r = Jobs("--db " + req_path_ + " job history j-00000001 --node node-9");
  EXPECT_EQ(r.out, "TIME  LEVEL  EXEC. ID  NODE ID  REV.  PREVIOUS STATE  NEW STATE  COMMENT\n");
}

TEST_F(CliTest, HistoryNodeFilterAndTheGlobalNodeIdBothWork) {
  const std::string env = "env -u BACALHAU_JOB_STORE_PATH BACALHAU_DIR=" + dir_.path();
  // --node-id (before or after the subcommand) picks BACALHAU_DIR/n1-requester.db;
  // --node filters the rows.
  for (const std::string args :
       {"--node-id n1 job history j-00000001 --event-type execution --node node-",
        "job history j-00000001 --event-type execution --node node- --node-id n1"}) {
    auto r = Jobs(args + " -o json", env);
    ASSERT_EQ(r.status, 0) << args << ": " << r.err;
    EXPECT_EQ(Json::parse(r.out).size(), 2u) << args;
  }
  auto r = Jobs("--node-id n1 job history j-00000001 --node node-9 -o json", env);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out).size(), 0u);
  r = Jobs("--node-id n9 job history j-00000001 --node node-1", env);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "boltpp-jobs: open " + dir_.File("n9-requester.db") + ": no such file\n");
}

TEST_F(CliTest, NodeHistoryJsonPrintsTheStoredDocumentsOldestFirst) {
  // Rows as another writer stored them: legacy "%03d" keys out of lexical
  // order past 999, field order of its own, a field this library does not
  // know. The output is those documents, in numeric order, unchanged.
  std::vector<Json> stored;
  {
    auto db = DB::Open(comp_path_);
    ASSERT_TRUE(db.ok());
    ASSERT_OK((*db)->Update([&](Tx& tx) {
      Bucket h = tx.GetBucket(kExecutionHistoryBucket);
      if (Status s = h.DeleteBucket("e-00000002-bbbb"); !s.ok()) return s;
      auto b = h.CreateBucket("e-00000002-bbbb");
      if (!b.ok()) return b.status();
      for (int seq : {1, 2, 999, 1000}) {
        Json row = Json::parse(R"({"Time":"2023-07-10T12:00:00.5+02:00","NewState":1,
          "ExecutionID":"e-00000002-bbbb","PreviousState":0,"NewVersion":1,"Comment":"c",
          "Extra":{"Z":1,"A":[true]}})");
        row["Comment"] = "row " + std::to_string(seq);
        stored.push_back(row);
        char key[8];
        std::snprintf(key, sizeof key, "%03d", seq);
        if (Status s = b->Put(key, row.dump()); !s.ok()) return s;
      }
      return Status::OK();
    }));
  }
  auto r = Jobs("--db " + comp_path_ + " node history e-00000002-bbbb --output json");
  ASSERT_EQ(r.status, 0) << r.err;
  Json out = Json::parse(r.out);
  ASSERT_EQ(out.size(), stored.size());
  for (size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(out[i].dump(), stored[i].dump()) << "row " << i;  // same fields, same order
  }
  check_verify_ = false;  // the made-up history does not match the record
}

TEST_F(CliTest, VerifyChecksEveryFileTheEnvironmentNamesAndReportsMissingOnes) {
  const std::string clean =
      "env -u BACALHAU_DIR -u BACALHAU_JOB_STORE_PATH -u BACALHAU_COMPUTE_STORE_PATH ";
  // BACALHAU_DIR + --node-id: both default files.
  auto r = Jobs("--node-id n1 verify", clean + "BACALHAU_DIR=" + dir_.path());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            req_path_ + " (requester): 0 problems\n" + comp_path_ + " (compute): 0 problems\n");
  // A specific variable replaces its default; the other default is still checked.
  r = Jobs("--node-id n1 verify",
           clean + "BACALHAU_DIR=" + dir_.path() + " BACALHAU_COMPUTE_STORE_PATH=" + comp_path_);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            req_path_ + " (requester): 0 problems\n" + comp_path_ + " (compute): 0 problems\n");
  // Both variables, no BACALHAU_DIR.
  r = Jobs("verify", clean + "BACALHAU_JOB_STORE_PATH=" + req_path_ +
                         " BACALHAU_COMPUTE_STORE_PATH=" + comp_path_);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            req_path_ + " (requester): 0 problems\n" + comp_path_ + " (compute): 0 problems\n");
  // A missing file is named with what named it, the others are still verified, exit 1.
  const std::string gone = dir_.File("gone-compute.db");
  r = Jobs("verify",
           clean + "BACALHAU_JOB_STORE_PATH=" + req_path_ + " BACALHAU_COMPUTE_STORE_PATH=" + gone);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, req_path_ + " (requester): 0 problems\n");
  EXPECT_EQ(r.err, "boltpp-jobs: " + gone +
                       ": missing: no such file (named by BACALHAU_COMPUTE_STORE_PATH)\n");
  EXPECT_FALSE(std::filesystem::exists(gone));
  r = Jobs("--node-id n2 verify -o json", clean + "BACALHAU_DIR=" + dir_.path());
  EXPECT_EQ(r.status, 1);
  Json j = Json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["Error"], dir_.File("n2-requester.db") +
                               ": missing: no such file (named by BACALHAU_DIR and --node-id)");
  EXPECT_EQ(j[1]["File"], dir_.File("n2-compute.db"));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("n2-compute.db")));
  // BACALHAU_DIR without --node-id names no file: say so.
  r = Jobs("verify", clean + "BACALHAU_DIR=" + dir_.path());
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "boltpp-jobs: BACALHAU_DIR is set but --node-id is not: pass --node-id to verify "
            "BACALHAU_DIR/<node-id>-requester.db and -compute.db\n");
}

TEST_F(CliTest, JobDescribeHasEverySection) {
  auto r = Jobs("--db " + req_path_ + " job describe j-00000001");
  ASSERT_EQ(r.status, 0) << r.err;
  for (auto want : {"ID             = j-00000001-aaaa\n", "State          = Running\n",
                    "\nSummary\n  BidAccepted : 1\n", "\nJob History\n", "\nExecutions\n",
                    "\nExecution e-00000001 History\n"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
  r = Jobs("--db " + req_path_ + " job describe j-00000001 -o json");
  ASSERT_EQ(r.status, 0);
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["Executions"].size(), 1u);
  EXPECT_EQ(j["History"].size(), 2u);
}

TEST_F(CliTest, JobStopStopsCancelsAndRefusesCompletedJobs) {
  auto r = Jobs("--db " + req_path_ + " job stop j-00000001 --reason 'user asked'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "Job j-00000001-aaaa stopped (revision 3), 1 executions cancelled\n");
  r = Jobs("--db " + req_path_ + " job stop j-00000001");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "Job j-00000001-aaaa is already stopped\n");
  {
    auto req = JobStore::Open(req_path_, TestStoreOptions(&clock_));
    ASSERT_NO_ERR((*req)->UpdateJobState({"j-00000002-aaaa", {}, JobState::kCompleted, ""}));
    auto exec = (*req)->GetExecution("e-00000001-bbbb");
    EXPECT_EQ((*exec)["ComputeState"]["StateType"], int(ExecState::kCancelled));
    EXPECT_EQ((*exec)["DesiredState"]["StateType"], int(DesiredState::kStopped));
  }
  r = Jobs("--db " + req_path_ + " job stop j-00000002");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "boltpp-jobs: job j-00000002-aaaa is Completed, expected not Completed\n");
}

TEST_F(CliTest, NodeCountersExecutionsAndHistory) {
  auto r = Jobs("--db " + comp_path_ + " node counters --output json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out),
            Json::parse(R"({"Created":1,"BidAccepted":1,"Running":0,"WaitingVerification":0,
      "ResultAccepted":0,"Publishing":0,"Completed":0,"Failed":0,"Cancelled":0})"));
  EXPECT_EQ(Json::parse(r.out).begin().key(), "Created");
  r = Jobs("--db " + comp_path_ + " node counters");
  EXPECT_EQ(r.out,
            "STATE                COUNT\n"
            "Created              1\n"
            "BidAccepted          1\n"
            "Running              0\n"
            "WaitingVerification  0\n"
            "ResultAccepted       0\n"
            "Publishing           0\n"
            "Completed            0\n"
            "Failed               0\n"
            "Cancelled            0\n");
  r = Jobs("--db " + comp_path_ + " node history e-00000001-bbbb --output json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out), Json::parse(R"([
    {"ExecutionID":"e-00000001-bbbb","PreviousState":0,"NewState":1,"NewVersion":1,
     "Comment":"LocalExecutionState created","Time":"2023-11-14T22:16:21Z"},
    {"ExecutionID":"e-00000001-bbbb","PreviousState":1,"NewState":2,"NewVersion":2,
     "Comment":"bid accepted","Time":"2023-11-14T22:16:22Z"}])"));
  r = Jobs("--db " + comp_path_ + " node executions --state BidAccepted");
  EXPECT_EQ(r.out,
            "ID               JOB ID           STATE        VERSION  UPDATED              COMMENT\n"
            "e-00000001-bbbb  j-00000001-aaaa  BidAccepted  2        2023-11-14 22:16:22  bid "
            "accepted\n");
  r = Jobs("--db " + comp_path_ + " node executions --state Nope");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "boltpp-jobs: unknown state Nope\n");
  r = Jobs("--db " + comp_path_ + " node history e-missing");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "boltpp-jobs: execution e-missing not found\n");
}

TEST_F(CliTest, FilesAreFoundThroughTheEnvironment) {
  const std::string dir_env = "BACALHAU_DIR=" + dir_.path();
  auto r = Jobs("job list", "BACALHAU_JOB_STORE_PATH=" + req_path_);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("j-00000003"), std::string::npos);
  r = Jobs("node counters -o json", "BACALHAU_COMPUTE_STORE_PATH=" + comp_path_);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["BidAccepted"], 1);
  r = Jobs("--node-id n1 node counters -o json", dir_env);
  EXPECT_EQ(r.status, 0) << r.err;
  r = Jobs("--node-id n1 job list", dir_env);
  EXPECT_EQ(r.status, 0) << r.err;
  // The specific variable wins over BACALHAU_DIR, --db over both.
  r = Jobs("--node-id n1 job list", dir_env + " BACALHAU_JOB_STORE_PATH=" + dir_.File("other.db"));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "boltpp-jobs: open " + dir_.File("other.db") + ": no such file\n");
  r = Jobs("--db " + req_path_ + " job list", "BACALHAU_JOB_STORE_PATH=" + dir_.File("other.db"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("other.db")));
  // Nothing configured.
  r = Jobs("job list", "env -u BACALHAU_JOB_STORE_PATH -u BACALHAU_DIR");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(
      r.err,
      "boltpp-jobs: no requester database: pass --db FILE, set BACALHAU_JOB_STORE_PATH, or set "
      "BACALHAU_DIR and pass --node-id\n");
}

TEST_F(CliTest, UserErrorsExit1WithAClearMessage) {
  auto r = Jobs("--db " + req_path_ + " job describe j-ffffffff");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "boltpp-jobs: job j-ffffffff not found\n");
  r = Jobs("--db " + req_path_ + " job describe j-0000000");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("multiple jobs found for id j-0000000"), std::string::npos) << r.err;
  r = Jobs("--db " + req_path_ + " job list --order-by name");
  EXPECT_EQ(r.status, 1);
  EXPECT_FALSE(r.err.empty());
  r = Jobs("--db " + req_path_ + " job");
  EXPECT_EQ(r.status, 1);
  r = Jobs("--db " + req_path_ + " frobnicate");
  EXPECT_EQ(r.status, 1);
  r = Jobs("--db " + comp_path_ + " node restart --fail-stuck-after 3x");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "boltpp-jobs: bad duration 3x (use e.g. 90s, 30m, 12h, 7d)\n");
  r = Jobs("--db " + dir_.File("garbage.db") + " job list");
  EXPECT_EQ(r.status, 1);
  std::ofstream(dir_.File("garbage.db")) << std::string(8192, 'x');
  r = Jobs("--db " + dir_.File("garbage.db") + " verify");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("invalid database"), std::string::npos) << r.err;
  std::filesystem::remove(dir_.File("garbage.db"));
}

TEST_F(CliTest, ALockedFileFailsWithinTheLockTimeoutNamingIt) {
  auto holder = ExecutionStore::Open(comp_path_, TestStoreOptions());
  ASSERT_TRUE(holder.ok());
  const auto start = std::chrono::steady_clock::now();
  auto r = Jobs("--lock-timeout-ms 300 --db " + comp_path_ + " node counters");
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "boltpp-jobs: timed out while opening database, is file " + comp_path_ + " in use?\n");
  EXPECT_LT(waited, std::chrono::seconds(3));
  r = Jobs("--lock-timeout-ms 300 --db " + comp_path_ + " verify --repair");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("in use?"), std::string::npos);
}

TEST_F(CliTest, VerifyAndRepairTheRealStoresFiles) {
  for (auto name : {"node-1-compute.db", "node-1-requester.db"}) {
    std::filesystem::copy_file(TestData(name), dir_.File(name));
  }
  const std::string env = "BACALHAU_DIR=" + dir_.path();
  auto r = Jobs("--node-id node-1 verify", env);
  EXPECT_EQ(r.status, 1);
  const std::string req = dir_.File("node-1-requester.db"), comp = dir_.File("node-1-compute.db");
  const std::string job = "j-20000004-bbbb-4000-8000-000000000004";
  EXPECT_EQ(r.out, req + ": idx_executions/e-40000003-eeee-4000-8000-000000000000 " + job +
                       ": orphaned index entry: no job " + job + "\n" + req +
                       ": idx_executions/e-40000003-eeee-4000-8000-000000000001 " + job +
                       ": orphaned index entry: no job " + job + "\n" + req +
                       ": idx_evaluations/v-30000003-dddd-4000-8000-000000000003 " + job +
                       ": orphaned index entry: no job " + job + "\n" + req +
                       " (requester): 3 problems\n" + comp + " (compute): 0 problems\n");
  r = Jobs("--db " + req + " verify --repair");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out,
            req + ": repaired: dropped idx_executions/e-40000003-eeee-4000-8000-000000000000/" +
                job + "\n" + req +
                ": repaired: dropped idx_executions/e-40000003-eeee-4000-8000-000000000001/" + job +
                "\n" + req +
                ": repaired: dropped idx_evaluations/v-30000003-dddd-4000-8000-000000000003/" +
                job + "\n" + req + " (requester): 0 problems, 3 repaired\n");
  r = Jobs("--node-id node-1 verify --output json", env);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Json::parse(r.out).size(), 2u);
  ExpectSoundFile(req);
  ExpectSoundFile(comp);
  r = Jobs("verify",
           "env -u BACALHAU_DIR -u BACALHAU_JOB_STORE_PATH -u BACALHAU_COMPUTE_STORE_PATH");
  EXPECT_EQ(r.status, 1);
}

TEST_F(CliTest, RestartAppliesPoliciesAndCompacts) {
  auto r = Jobs("--db " + comp_path_ + " node restart --delete-terminal-after 1d");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("moved to Failed: 0\ndeleted: 0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("at open (persisted record)"), std::string::npos) << r.out;
  // The fixed clock of SetUp is in 2023: everything is older than a day.
  r = Jobs("--db " + comp_path_ + " restart --fail-stuck-after 1d --compact -o json");
  ASSERT_EQ(r.status, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["MovedToFailed"].size(), 2u);
  EXPECT_EQ(j["Counters"]["Failed"], 2);
  EXPECT_TRUE(j.contains("Compacted"));
  // Moved to Failed just now (real clock): older than 1 s a moment later.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  r = Jobs("--db " + comp_path_ + " restart --delete-terminal-after 1s");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("deleted: 2\n"), std::string::npos) << r.out;
}

TEST_F(CliTest, SimulateRunsBothStoresAndVerifies) {
  const std::string req = dir_.File("sim-requester.db"), comp = dir_.File("sim-compute.db");
  auto r =
      Jobs("simulate --jobs 40 --clients 4 --no-sync --requester " + req + " --compute " + comp);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("jobs: 40 in "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(requester): 0 problems"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(compute): 0 problems"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "") << "no progress bar when stderr is not a terminal";
  auto listed = Jobs("--db " + req + " job list --limit 0 -o json");
  EXPECT_EQ(Json::parse(listed.out).size(), 40u);
  ExpectSoundFile(req);
  ExpectSoundFile(comp);
}

TEST_F(CliTest, WalWritesLeaveCompleteFilesAndAPendingLogIsReported) {
  const std::string req = dir_.File("wal-requester.db"), comp = dir_.File("wal-compute.db");
  auto r = Jobs("--wal simulate --jobs 30 --clients 4 --requester " + req + " --compute " + comp);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("(compute): 0 problems"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(req + "-wal")) << "exit checkpoints and removes the log";
  EXPECT_FALSE(std::filesystem::exists(comp + "-wal"));
  ExpectSoundFile(req);
  ExpectSoundFile(comp);
  r = Jobs("--wal --db " + req_path_ + " job stop j-00000002-aaaa --reason test");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(req_path_ + "-wal"));
  ExpectSoundFile(req_path_);

  // A WAL-mode writer crashes with a transition in the log only.
  RunThenCrash([&] {
    StoreOptions o = TestStoreOptions();
    o.wal = true;
    o.no_sync = false;
    auto s = ExecutionStore::Open(comp_path_, o);
    if (!s.ok()) return false;
    std::unique_ptr<ExecutionStore> store = std::move(*s);
    if (!store->CreateExecution(NewLocal("e-00000009-cccc", "j-00000009-aaaa")).ok()) return false;
    (void)store.release();
    return true;
  });
  ExpectSoundFile(comp_path_);  // the data file alone: the last checkpoint
  for (const char* command : {" node counters -o json", " verify"}) {
    r = Jobs("--db " + comp_path_ + command);
    EXPECT_EQ(r.status, 0) << command << ": " << r.out << r.err;
    EXPECT_NE(r.err.find(comp_path_ + "-wal2) holds 1 commits past the data file's last checkpoint"),
              std::string::npos)
        << command << ": " << r.err;
  }
  r = Jobs("--db " + comp_path_ + " node counters -o json");
  EXPECT_EQ(Json::parse(r.out)["Created"], 1) << "read-only: the checkpoint";
  r = Jobs("--db " + comp_path_ + " -o json verify");
  EXPECT_EQ(Json::parse(r.out)[0]["PendingLogRecords"], 1) << r.out;
  r = Jobs("--db " + comp_path_ + " verify --repair");  // a write: replays the log first
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  r = Jobs("--db " + comp_path_ + " node counters -o json");
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(Json::parse(r.out)["Created"], 2) << "replayed";
  ExpectSoundFile(comp_path_);
}

// kill -9 at random points of a durable simulate (WAL mode: wal); then the
// files check clean (in WAL mode: the data files alone, before any replay),
// verify finds nothing, and every transition the journal saw committed is
// there (in WAL mode after the reopen replayed the logs).
void KillDuringSimulate(bool wal, int default_kills) {
  const int kills = static_cast<int>(boltpp::testing::EnvInt("BOLTPP_JOBS_KILLS", default_kills));
  boltpp::testing::Random rnd(boltpp::testing::SeedOr(20261130));
  std::printf("seed %llu, %d kills (BOLTPP_JOBS_KILLS)%s\n",
              static_cast<unsigned long long>(rnd.seed()), kills, wal ? ", WAL mode" : "");
  TempDir dir;
  const std::string req = dir.File("r.db"), comp = dir.File("c.db"), journal = dir.File("journal");
  size_t total_checked = 0;
  for (int k = 0; k < kills; ++k) {
    std::vector<std::string> args = {
        Cli(),         "simulate", "--jobs",    "100000",
        "--clients",   "4",        "--seed",    std::to_string(rnd.Next() % 1000000),
        "--requester", req,        "--compute", comp,
        "--journal",   journal};
    if (wal) args.insert(args.begin() + 1, "--wal");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    ASSERT_EQ(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    std::this_thread::sleep_for(std::chrono::milliseconds(rnd.Range(150, 700)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "simulate ended before the kill";

    // The files open, check clean and verify clean.
    for (auto& p : {req, comp}) {
      if (std::filesystem::exists(p)) ExpectSoundFile(p);
    }
    // Every journaled (committed) transition is present.
    auto rs = JobStore::Open(req, TestStoreOptions());
    auto cs = ExecutionStore::Open(comp, TestStoreOptions());
    ASSERT_TRUE(rs.ok() && cs.ok());
    std::map<std::pair<char, std::string>, uint64_t> latest;
    std::ifstream in(journal);
    char kind;
    std::string id;
    uint64_t version;
    while (in >> kind >> id >> version) {
      auto& v = latest[{kind, id}];
      v = std::max(v, version);
    }
    size_t checked = 0;
    for (auto& [key, want] : latest) {
      uint64_t have = 0;
      if (key.first == 'c') {
        auto e = (*cs)->GetExecution(key.second);
        ASSERT_TRUE(e.ok()) << key.second;
        have = e->version;
      } else if (key.first == 'r') {
        auto e = (*rs)->GetExecution(key.second);
        ASSERT_TRUE(e.ok()) << key.second;
        have = (*e)["Revision"].get<uint64_t>();
      } else {
        auto j = (*rs)->GetJob(key.second);
        ASSERT_TRUE(j.ok()) << key.second;
        have = (*j)["Revision"].get<uint64_t>();
      }
      EXPECT_GE(have, want) << key.first << " " << key.second << " lost a committed transition";
      ++checked;
    }
    total_checked += checked;
  }
  EXPECT_GT(total_checked, 0u) << "every kill came before the first commit";
}

TEST(CliCrashTest, KillNineDuringSimulateLosesNothingCommitted) { KillDuringSimulate(false, 3); }

TEST(CliCrashTest, KillNineDuringWalSimulateLosesNothingCommitted) { KillDuringSimulate(true, 3); }

}  // namespace
}  // namespace boltpp::jobstore::testing
