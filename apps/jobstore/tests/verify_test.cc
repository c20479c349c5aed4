// File: apps/jobstore/tests/verify_test.cc
// verify and verify --repair: every invariant violation is found and named by
// bucket and key; repair fixes index problems in one transaction and leaves
// what it cannot fix reported; the real stores' files (written by Go bbolt)
// verify with exactly their known orphans.
#include <gtest/gtest.h>

#include <filesystem>

#include "helpers.h"

namespace boltpp::jobstore::testing {
namespace {

std::vector<std::string> Lines(const VerifyReport& r) {
  std::vector<std::string> out;
  for (auto& p : r.problems) out.push_back(p.ToString());
  return out;
}

VerifyReport VerifyOk(const std::string& path, bool repair) {
  auto r = VerifyFile(path, repair, std::chrono::milliseconds(500));
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return r.ok() ? *r : VerifyReport{};
}

// Changes the file behind the store's back.
void Damage(const std::string& path, const std::function<Status(Tx&)>& fn) {
  auto db = DB::Open(path);
  ASSERT_TRUE(db.ok());
  ASSERT_OK((*db)->Update(fn));
}

TEST(VerifyTest, ComputeStoreProblemsAreNamedAndIndexProblemsRepaired) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  {
    auto store = ExecutionStore::Open(path, TestStoreOptions());
    ASSERT_TRUE(store.ok());
    for (std::string id : {"e-1", "e-2", "e-3"})
      ASSERT_NO_ERR((*store)->CreateExecution(NewLocal(id, "j-1")));
    for (int i = 0; i < 3; ++i) {
      ASSERT_NO_ERR((*store)->UpdateExecutionState({"e-3", LocalState::kBidAccepted, {}, 0, ""}));
    }
  }
  EXPECT_TRUE(VerifyOk(path, false).ok());
  Damage(path, [](Tx& tx) {
    Bucket index = tx.GetBucket(kExecutionIndexBucket);
    EXPECT_OK(index.GetBucket("j-1").Delete("e-1"));          // record without index entry
    EXPECT_OK(index.CreateBucket("j-9")->Put("e-gone", ""));  // index entry without record
    EXPECT_OK(tx.GetBucket(kExecutionHistoryBucket).CreateBucket("e-ghost")->Put(SeqKey(1), "{}"));
    return tx.GetBucket(kExecutionHistoryBucket).GetBucket("e-3").Delete(SeqKey(2));  // a gap
  });
  auto report = VerifyOk(path, false);
  EXPECT_EQ(report.kind, StoreKind::kCompute);
  EXPECT_EQ(Lines(report),
            (std::vector<std::string>{
                "execution-index/j-1 e-1: missing index entry for execution e-1",
                "execution-history/e-3 #3: history sequence gap: expected #2",
                "execution-history/e-3 #3: version 3 after 1",
                "execution-index/j-9 e-gone: orphaned index entry: no execution e-gone",
                "execution-history/e-ghost: orphaned history: no execution e-ghost"}));
  auto repaired = VerifyOk(path, true);
  EXPECT_EQ(repaired.repairs, (std::vector<std::string>{"added execution-index/j-1/e-1",
                                                        "dropped execution-index/j-9/e-gone",
                                                        "dropped execution-history/e-ghost"}));
  // Lost history cannot be invented: still reported.
  EXPECT_EQ(Lines(repaired),
            (std::vector<std::string>{"execution-history/e-3 #3: history sequence gap: expected #2",
                                      "execution-history/e-3 #3: version 3 after 1"}));
  ExpectSoundFile(path, /*expect_verify_clean=*/false);
}

TEST(VerifyTest, ComputeRecordAndHistoryDisagreeing) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  {
    auto store = ExecutionStore::Open(path, TestStoreOptions());
    ASSERT_TRUE(store.ok());
    ASSERT_NO_ERR((*store)->CreateExecution(NewLocal("e-1", "j-1")));
  }
  Damage(path, [](Tx& tx) {
    auto st = NewLocal("e-1", "j-1", LocalState::kRunning);
    st.version = 4;
    return tx.GetBucket(kExecutionBucket).Put("e-1", st.ToJson().dump());
  });
  auto report = VerifyOk(path, false);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].bucket, "execution");
  EXPECT_EQ(report.problems[0].key, "e-1");
  EXPECT_NE(report.problems[0].message.find("last history row"), std::string::npos);
}

TEST(VerifyTest, RequesterStoreProblemsAreNamedAndIndexProblemsRepaired) {
  TempDir dir;
  const std::string path = dir.File("r.db");
  {
    auto store = JobStore::Open(path, TestStoreOptions());
    ASSERT_TRUE(store.ok());
    ASSERT_NO_ERR((*store)->CreateJob(NewJob("j-1", "ns", {"gpu"})));
    ASSERT_NO_ERR((*store)->CreateJob(NewJob("j-2")));
    ASSERT_NO_ERR((*store)->CreateExecution(NewExecution("e-1", "j-1")));
    ASSERT_NO_ERR((*store)->CreateEvaluation({{"ID", "v-1"}, {"JobID", "j-1"}}));
    ASSERT_NO_ERR((*store)->UpdateJobState({"j-2", {}, JobState::kCompleted, ""}));
  }
  EXPECT_TRUE(VerifyOk(path, false).ok());
  Damage(path, [](Tx& tx) {
    EXPECT_OK(tx.GetBucket(kInProgressIndex).Delete("j-1"));
    EXPECT_OK(tx.GetBucket(kInProgressIndex).Put("j-2", ""));  // terminal job in progress
    EXPECT_OK(tx.GetBucket(kTagIndex).GetBucket("gpu").Put("j-2", ""));
    EXPECT_OK(tx.GetBucket(kExecutionIndex).DeleteBucket("e-1"));
    EXPECT_OK(tx.GetBucket(kEvaluationIndex).CreateBucket("v-old")->Put("j-gone", ""));
    return tx.GetBucket(kNamespaceIndex).GetBucket("ns").Delete("j-1");
  });
  auto report = VerifyOk(path, false);
  EXPECT_EQ(report.kind, StoreKind::kRequester);
  EXPECT_EQ(Lines(report), (std::vector<std::string>{
                               "idx_inprogress j-1: job not terminal but missing from the index",
                               "idx_namespaces/ns j-1: missing index entry for job j-1",
                               "idx_inprogress j-2: job is terminal but still in progress",
                               "idx_tags/gpu j-2: orphaned index entry: job j-2 has no gpu",
                               "idx_evaluations/v-old j-gone: orphaned index entry: no job j-gone",
                               "idx_executions/e-1 j-1: missing index entry for e-1"}));
  auto repaired = VerifyOk(path, true);
  EXPECT_EQ(repaired.repairs.size(), 6u);
  EXPECT_TRUE(repaired.ok()) << ::testing::PrintToString(Lines(repaired));
  ExpectSoundFile(path);
}

TEST(VerifyTest, RequesterHistoryGapsAndRevisionMismatch) {
  TempDir dir;
  const std::string path = dir.File("r.db");
  {
    auto store = JobStore::Open(path, TestStoreOptions());
    ASSERT_TRUE(store.ok());
    ASSERT_NO_ERR((*store)->CreateJob(NewJob("j-1")));
    ASSERT_NO_ERR((*store)->UpdateJobState({"j-1", {}, JobState::kRunning, ""}));
    ASSERT_NO_ERR((*store)->UpdateJobState({"j-1", {}, JobState::kCompleted, ""}));
  }
  Damage(path, [](Tx& tx) {
    return tx.GetBucket(kJobsBucket).GetBucket("j-1").GetBucket(kJobHistory).Delete(SeqKey(3));
  });
  auto report = VerifyOk(path, false);
  EXPECT_EQ(Lines(report),
            (std::vector<std::string>{"jobs/j-1 spec: Revision 3 but history ends at 2"}));
  Damage(path, [](Tx& tx) {
    return tx.GetBucket(kJobsBucket).GetBucket("j-1").GetBucket(kJobHistory).Delete(SeqKey(1));
  });
  report = VerifyOk(path, false);
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_EQ(report.problems[0].ToString(),
            "jobs/j-1/job_history #2: history sequence gap: expected #1");
}

TEST(VerifyTest, TheRealStoresFilesHaveExactlyTheirKnownOrphans) {
  TempDir dir;
  for (auto name : {"node-1-compute.db", "node-1-requester.db"}) {
    std::filesystem::copy_file(TestData(name), dir.File(name));
  }
  EXPECT_TRUE(VerifyOk(dir.File("node-1-compute.db"), false).ok());
  auto report = VerifyOk(dir.File("node-1-requester.db"), false);
  const std::string job = "j-20000004-bbbb-4000-8000-000000000004";
  EXPECT_EQ(Lines(report),
            (std::vector<std::string>{"idx_executions/e-40000003-eeee-4000-8000-000000000000 " +
                                          job + ": orphaned index entry: no job " + job,
                                      "idx_executions/e-40000003-eeee-4000-8000-000000000001 " +
                                          job + ": orphaned index entry: no job " + job,
                                      "idx_evaluations/v-30000003-dddd-4000-8000-000000000003 " +
                                          job + ": orphaned index entry: no job " + job}));
  auto repaired = VerifyOk(dir.File("node-1-requester.db"), true);
  EXPECT_EQ(repaired.repairs.size(), 3u);
  EXPECT_TRUE(repaired.ok());
  ExpectSoundFile(dir.File("node-1-requester.db"));
  ExpectSoundFile(dir.File("node-1-compute.db"));
}

TEST(VerifyTest, NeitherStoreAndMissingFile) {
  TempDir dir;
  {
    auto db = DB::Open(dir.File("x.db"));
    ASSERT_TRUE(db.ok());
    ASSERT_OK(boltpp::testing::PutAll(db->get(), "other", {{"k", "v"}}));
  }
  auto report = VerifyOk(dir.File("x.db"), false);
  EXPECT_EQ(report.kind, StoreKind::kUnknown);
  EXPECT_EQ(report.problems.size(), 1u);
  auto missing = VerifyFile(dir.File("nope.db"), false, std::chrono::milliseconds(100));
  EXPECT_FALSE(missing.ok());
  EXPECT_FALSE(std::filesystem::exists(dir.File("nope.db"))) << "verify created a file";
  auto missing_repair = VerifyFile(dir.File("nope.db"), true, std::chrono::milliseconds(100));
  EXPECT_FALSE(missing_repair.ok());
  EXPECT_FALSE(std::filesystem::exists(dir.File("nope.db")));
}

}  // namespace
}  // namespace boltpp::jobstore::testing
