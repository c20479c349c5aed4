// File: apps/jobstore/tests/execution_store_test.cc
// ExecutionStore: layout, every operation, guard and error, history order past
// 999 entries (legacy "%03d" keys included), counters, restart policies,
// locking, and guarded-update races.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "helpers.h"

namespace boltpp::jobstore::testing {
namespace {

class ExecutionStoreTest : public StoreTest<ExecutionStore> {
 protected:
  ExecutionStoreTest() : StoreTest("node-1-compute.db") {}
  std::string Raw(std::string_view bucket, const std::string& key) {
    std::string out;
    EXPECT_TRUE(store_->db()
                    .View([&](Tx& tx) {
                      auto v = tx.GetBucket(bucket).Get(key);
                      if (v) out = std::string(*v);
                      return Status::OK();
                    })
                    .ok());
    return out;
  }
  Error Move(const std::string& id, LocalState from, LocalState to, uint64_t version = 0) {
    return store_->UpdateExecutionState(
        {id, to, {from}, version, "to " + std::string(LocalStateName(to))});
  }
};

TEST_F(ExecutionStoreTest, CreateWritesTheRealLayoutAndNothingElse) {
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-1", "j-1")));
  std::vector<std::string> top;
  ASSERT_OK(store_->db().View([&](Tx& tx) {
    return tx.ForEach([&](Bytes name, Bucket) {
      top.emplace_back(name);
      return Status::OK();
    });
  }));
  EXPECT_EQ(top, (std::vector<std::string>{"execution", "execution-history", "execution-index"}));
  const std::string raw = Raw(kExecutionBucket, "e-1");
  EXPECT_TRUE(raw.starts_with(R"({"Execution":{"ID":"e-1",)")) << raw;
  EXPECT_NE(
      raw.find(
          R"("RequesterNodeID":"requester-0","State":1,"Version":1,"CreateTime":"2023-11-14T22:13:20Z")"),
      std::string::npos)
      << raw;
  auto got = store_->GetExecution("e-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, LocalState::kCreated);
  EXPECT_EQ(got->version, 1u);
  EXPECT_EQ(got->create_time, clock_.now.load());
  EXPECT_EQ(got->job_id(), "j-1");
  auto history = store_->GetExecutionHistory("e-1");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].previous_state, LocalState::kUndefined);
  EXPECT_EQ((*history)[0].new_state, LocalState::kCreated);
  EXPECT_EQ((*history)[0].comment, "LocalExecutionState created");
  EXPECT_EQ((*history)[0].seq, 1u);
  ASSERT_OK(store_->db().View([&](Tx& tx) {
    EXPECT_TRUE(tx.GetBucket(kExecutionIndexBucket).GetBucket("j-1").Get("e-1"));
    EXPECT_TRUE(tx.GetBucket(kExecutionHistoryBucket).GetBucket("e-1").Get(SeqKey(1)));
    return Status::OK();
  }));
  EXPECT_EQ(store_->GetExecutionCount(LocalState::kCreated), 1u);
}

TEST_F(ExecutionStoreTest, CreateRejectsWrongStateVersionDuplicatesAndBadIds) {
  const uint64_t before = Txid();
  EXPECT_ERRC(store_->CreateExecution(NewLocal("e-1", "j-1", LocalState::kRunning)),
              Errc::kInvalidExecutionState);
  auto v2 = NewLocal("e-1", "j-1");
  v2.version = 2;
  EXPECT_ERRC(store_->CreateExecution(v2), Errc::kInvalidExecutionVersion);
  EXPECT_ERRC(store_->CreateExecution(NewLocal("", "j-1")), Errc::kInvalidArgument);
  EXPECT_ERRC(store_->CreateExecution(NewLocal("e 1", "j-1")), Errc::kInvalidArgument);
  EXPECT_ERRC(store_->CreateExecution(NewLocal("e-1", "")), Errc::kInvalidArgument);
  EXPECT_EQ(Txid(), before);
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-1", "j-1", LocalState::kBidAccepted)));
  const uint64_t after = Txid();
  EXPECT_ERRC(store_->CreateExecution(NewLocal("e-1", "j-2")), Errc::kExecutionAlreadyExists);
  EXPECT_EQ(Txid(), after) << "a refused create committed something";
  EXPECT_EQ(store_->GetExecutionCount(LocalState::kBidAccepted), 1u);
}

TEST_F(ExecutionStoreTest, UpdateGuardsRefuseAndChangeNothing) {
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-1", "j-1")));
  const uint64_t before = Txid();
  const std::string raw = Raw(kExecutionBucket, "e-1");
  EXPECT_ERRC(Move("e-missing", LocalState::kCreated, LocalState::kBidAccepted),
              Errc::kExecutionNotFound);
  EXPECT_ERRC(Move("e-1", LocalState::kRunning, LocalState::kPublishing),
              Errc::kInvalidExecutionState);
  EXPECT_ERRC(Move("e-1", LocalState::kCreated, LocalState::kBidAccepted, 7),
              Errc::kInvalidExecutionVersion);
  EXPECT_ERRC(Move("e-1", LocalState::kCreated, LocalState::kUndefined), Errc::kInvalidArgument);
  EXPECT_ERRC(Move("e-1", LocalState::kCreated, static_cast<LocalState>(kLocalStateCount)),
              Errc::kInvalidArgument);
  EXPECT_ERRC(Move("e-1", LocalState::kCreated, static_cast<LocalState>(-1)),
              Errc::kInvalidArgument);
  EXPECT_EQ(Txid(), before);
  EXPECT_EQ(Raw(kExecutionBucket, "e-1"), raw);
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_NO_ERR(Move("e-1", LocalState::kCreated, LocalState::kBidAccepted, 1));
  // No expected states: any non-terminal state moves.
  ASSERT_NO_ERR(store_->UpdateExecutionState({"e-1", LocalState::kCancelled, {}, 0, "cancel"}));
  const uint64_t terminal = Txid();
  EXPECT_ERRC(store_->UpdateExecutionState({"e-1", LocalState::kRunning, {}, 0, ""}),
              Errc::kExecutionAlreadyTerminal);
  EXPECT_EQ(Txid(), terminal);
  auto got = store_->GetExecution("e-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, LocalState::kCancelled);
  EXPECT_EQ(got->version, 3u);
  EXPECT_EQ(got->latest_comment, "cancel");
  EXPECT_EQ(got->update_time - got->create_time, 5'000'000'000);
  auto history = store_->GetExecutionHistory("e-1");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[1].previous_state, LocalState::kCreated);
  EXPECT_EQ((*history)[1].new_state, LocalState::kBidAccepted);
  EXPECT_EQ((*history)[2].new_version, 3u);
  auto counts = store_->GetCounts();
  EXPECT_EQ(counts[int(LocalState::kCancelled)], 1u);
  EXPECT_EQ(counts[int(LocalState::kCreated)], 0u);
  EXPECT_EQ(counts[int(LocalState::kBidAccepted)], 0u);
}

TEST_F(ExecutionStoreTest, ExecutionsOfAJobByUpdateTimeAndDelete) {
  EXPECT_ERRC(store_->GetExecutions("j-1").error(), Errc::kExecutionNotFound);
  for (std::string id : {"e-a", "e-b", "e-c"}) {
    clock_.Advance(std::chrono::seconds(1));
    ASSERT_NO_ERR(store_->CreateExecution(NewLocal(id, "j-1")));
  }
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-other", "j-2")));
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_NO_ERR(Move("e-a", LocalState::kCreated, LocalState::kBidAccepted));
  auto list = store_->GetExecutions("j-1");
  ASSERT_TRUE(list.ok());
  std::vector<std::string> ids;
  for (auto& e : *list) ids.push_back(e.id());
  EXPECT_EQ(ids, (std::vector<std::string>{"e-b", "e-c", "e-a"}));

  EXPECT_ERRC(store_->DeleteExecution("e-missing"), Errc::kExecutionNotFound);
  ASSERT_NO_ERR(store_->DeleteExecution("e-other"));
  EXPECT_ERRC(store_->GetExecution("e-other").error(), Errc::kExecutionNotFound);
  EXPECT_ERRC(store_->GetExecutionHistory("e-other").error(), Errc::kExecutionNotFound);
  ASSERT_OK(store_->db().View([&](Tx& tx) {
    EXPECT_FALSE(tx.GetBucket(kExecutionIndexBucket).GetBucket("j-2"))
        << "empty job index bucket left";
    EXPECT_FALSE(tx.GetBucket(kExecutionHistoryBucket).GetBucket("e-other"));
    return Status::OK();
  }));
  EXPECT_EQ(store_->GetExecutionCount(LocalState::kCreated), 2u);
  // A new record under a deleted id starts a fresh history.
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-other", "j-2")));
  EXPECT_EQ(store_->GetExecutionHistory("e-other")->size(), 1u);
}

TEST_F(ExecutionStoreTest, CountersSurviveReopenAndMatchAFullDecode) {
  boltpp::testing::Random rnd(boltpp::testing::SeedOr(7));
  std::printf("seed %llu\n", static_cast<unsigned long long>(rnd.seed()));
  StateCounts want{};
  for (int i = 0; i < 300; ++i) {
    const std::string id = "e-" + std::to_string(i);
    ASSERT_NO_ERR(store_->CreateExecution(NewLocal(id, "j-" + std::to_string(i % 17))));
    LocalState s = LocalState::kCreated;
    for (LocalState next :
         {LocalState::kBidAccepted, LocalState::kRunning, LocalState::kWaitingVerification,
          LocalState::kResultAccepted, LocalState::kPublishing, LocalState::kCompleted}) {
      if (rnd.OneIn(4)) break;
      ASSERT_NO_ERR(Move(id, s, next));
      s = next;
    }
    if (!IsTerminal(s) && rnd.OneIn(3)) {
      LocalState end = rnd.OneIn(2) ? LocalState::kFailed : LocalState::kCancelled;
      ASSERT_NO_ERR(Move(id, s, end));
      s = end;
    }
    want[int(s)]++;
  }
  EXPECT_EQ(store_->GetCounts(), want);
  Open();
  EXPECT_EQ(store_->GetCounts(), want);
  StateCounts decoded{};
  auto all = store_->ListExecutions();
  ASSERT_TRUE(all.ok());
  for (auto& e : *all) decoded[int(e.state)]++;
  EXPECT_EQ(decoded, want);
}

TEST(ExtractLocalStateTest, ReadsTheTopLevelStateWhateverTheDocumentHolds) {
  auto doc = [](LocalState s, std::string comment, Json execution) {
    LocalExecutionState st;
    st.execution = std::move(execution);
    st.state = s;
    st.version = 3;
    st.latest_comment = std::move(comment);
    return st.ToJson().dump();
  };
  Json nested = {{"ID", "e-1"},
                 {"Job", {{"State", {{"StateType", "Running"}}}, {"Meta", {{"State", 9}}}}}};
  EXPECT_EQ(ExtractLocalState(doc(LocalState::kRunning, "", nested)), LocalState::kRunning);
  EXPECT_EQ(
      ExtractLocalState(doc(LocalState::kFailed, R"(said "State":5, then {"State":2})", nested)),
      LocalState::kFailed);
  // Fields in another order: the fallback decodes.
  EXPECT_EQ(ExtractLocalState(
                R"({"State":6,"Version":2,"Execution":{"Job":{"State":{"StateType":"x"}}}})"),
            LocalState::kPublishing);
  EXPECT_EQ(ExtractLocalState(R"({"State":4,"Execution":{"Meta":{"State":9}}})"),
            LocalState::kWaitingVerification);
  EXPECT_EQ(ExtractLocalState("{not json"), std::nullopt);
  EXPECT_EQ(ExtractLocalState(R"({"Version":1})"), std::nullopt);
}

TEST(SeqKeyTest, BigEndianAndLegacyDecimalKeys) {
  EXPECT_EQ(SeqKey(1), std::string("\0\0\0\0\0\0\0\1", 8));
  EXPECT_EQ(ParseSeqKey(SeqKey(1000)), 1000u);
  EXPECT_EQ(ParseSeqKey("001"), 1u);
  EXPECT_EQ(ParseSeqKey("1000"), 1000u);
  EXPECT_EQ(ParseSeqKey("0000000000000042"), 42u);
  EXPECT_EQ(ParseSeqKey("12345678"), 12345678u);  // eight digits stay decimal
  EXPECT_EQ(ParseSeqKey("x1"), std::nullopt);
  EXPECT_EQ(ParseSeqKey(""), std::nullopt);
}

TEST(TimeTest, Rfc3339NanoRoundTripsAndReadsOffsets) {
  const int64_t t = 1'688'990'400'123'456'789;
  EXPECT_EQ(FormatRfc3339Nano(t), "2023-07-10T12:00:00.123456789Z");
  EXPECT_EQ(FormatRfc3339Nano(1'688'990'400'500'000'000), "2023-07-10T12:00:00.5Z");
  EXPECT_EQ(ParseRfc3339(FormatRfc3339Nano(t)), t);
  EXPECT_EQ(ParseRfc3339("2023-07-10T14:00:00.123456789+02:00"), t);
  EXPECT_EQ(ParseRfc3339("2023-07-10T12:00:00Z"), 1'688'990'400'000'000'000);
  EXPECT_EQ(ParseRfc3339("2023-07-10 12:00:00"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2023-13-10T12:00:00Z"), std::nullopt);
}

TEST_F(ExecutionStoreTest, HistoryStaysInOrderPast999Entries) {
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-long", "j-1", LocalState::kBidAccepted)));
  ASSERT_NO_ERR(Move("e-long", LocalState::kBidAccepted, LocalState::kRunning));
  for (int i = 0; i < 1100; ++i) {
    ASSERT_NO_ERR(store_->UpdateExecutionState({"e-long",
                                                LocalState::kRunning,
                                                {LocalState::kRunning},
                                                uint64_t(i + 2),
                                                "restart " + std::to_string(i)}));
  }
  auto history = store_->GetExecutionHistory("e-long");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1102u);
  for (size_t i = 0; i < history->size(); ++i) {
    EXPECT_EQ((*history)[i].seq, i + 1);
    EXPECT_EQ((*history)[i].new_version, i + 1);
  }
  EXPECT_EQ(history->back().comment, "restart 1099");
}

TEST_F(ExecutionStoreTest, ReadsTheRealStoresLegacyKeysInNumericOrderAndAppendsAfterThem) {
  store_.reset();
  std::filesystem::copy_file(TestData("node-1-compute.db"), path_,
                             std::filesystem::copy_options::overwrite_existing);
  Open();
  // The Go program wrote 1005 rows with "%03d" keys: "1000" sorts before "101".
  const std::string id = "e-00000006-aaaa-4000-8000-000000000006";
  auto history = store_->GetExecutionHistory(id);
  ASSERT_TRUE(history.ok()) << history.error().ToString();
  ASSERT_EQ(history->size(), 1005u);
  for (size_t i = 0; i < history->size(); ++i) ASSERT_EQ((*history)[i].new_version, i + 1) << i;
  EXPECT_EQ(history->back().comment, "restart 1002");
  ASSERT_NO_ERR(store_->UpdateExecutionState(
      {id, LocalState::kCompleted, {LocalState::kRunning}, 1005, "done"}));
  history = store_->GetExecutionHistory(id);
  ASSERT_EQ(history->size(), 1006u);
  EXPECT_EQ(history->back().comment, "done");
  EXPECT_EQ(history->back().seq, 1006u);
  // Counters of the Go-written file, from the key scan.
  auto counts = store_->GetCounts();
  EXPECT_EQ(counts[int(LocalState::kCreated)], 1u);
  EXPECT_EQ(counts[int(LocalState::kRunning)], 1u);
  EXPECT_EQ(counts[int(LocalState::kCompleted)], 2u);
  EXPECT_EQ(counts[int(LocalState::kFailed)], 1u);
  EXPECT_EQ(counts[int(LocalState::kCancelled)], 1u);
  auto e1 = store_->GetExecution("e-00000001-aaaa-4000-8000-000000000001");
  ASSERT_TRUE(e1.ok());
  EXPECT_EQ(e1->create_time, 1'688'990'400'123'456'789);
}

TEST_F(ExecutionStoreTest, RestartPoliciesFailStuckDeleteOldAndCompact) {
  for (int i = 0; i < 200; ++i) {
    const std::string id = "e-old-" + std::to_string(i);
    ASSERT_NO_ERR(store_->CreateExecution(NewLocal(id, "j-old")));
    ASSERT_NO_ERR(Move(id, LocalState::kCreated, LocalState::kCompleted));
  }
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-stuck", "j-1", LocalState::kBidAccepted)));
  ASSERT_NO_ERR(Move("e-stuck", LocalState::kBidAccepted, LocalState::kRunning));
  clock_.Advance(std::chrono::hours(48));
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-young", "j-2")));
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-done-young", "j-2")));
  ASSERT_NO_ERR(Move("e-done-young", LocalState::kCreated, LocalState::kCancelled));
  clock_.Advance(std::chrono::hours(1));

  RestartPolicy none;
  auto noop = store_->Restart(none);
  ASSERT_TRUE(noop.ok());
  EXPECT_TRUE(noop->failed.empty());
  EXPECT_TRUE(noop->deleted.empty());

  RestartPolicy policy{std::chrono::hours(24), std::chrono::hours(24)};
  auto report = store_->Restart(policy);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->failed, std::vector<std::string>{"e-stuck"});
  EXPECT_EQ(report->deleted.size(), 200u);
  EXPECT_EQ(report->counts[int(LocalState::kCompleted)], 0u);
  EXPECT_EQ(report->counts[int(LocalState::kFailed)], 1u);
  EXPECT_EQ(report->counts[int(LocalState::kCreated)], 1u);
  EXPECT_EQ(report->counts[int(LocalState::kCancelled)], 1u);
  auto history = store_->GetExecutionHistory("e-stuck");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->back().new_state, LocalState::kFailed);
  EXPECT_NE(history->back().comment.find("moved to Failed"), std::string::npos);
  EXPECT_ERRC(store_->GetExecutions("j-old").error(), Errc::kExecutionNotFound);

  store_.reset();
  auto compacted = CompactFile(path_, std::chrono::milliseconds(500));
  ASSERT_TRUE(compacted.ok()) << compacted.error().ToString();
  // Commits already give the free tail back (the engine truncates), so a
  // file this small may be at its smallest size before compaction.
  EXPECT_LE(compacted->bytes_after, compacted->bytes_before);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".compact.tmp"));
  Open();
  EXPECT_EQ(store_->GetCounts()[int(LocalState::kFailed)], 1u);
  EXPECT_TRUE(store_->GetExecution("e-young").ok());
}

// A compute file of n executions, half of them deleted again (free pages to reclaim).
void FillForCompaction(const std::string& path, int n, const std::string& prefix = "e-") {
  FakeClock clock;
  auto store = ExecutionStore::Open(path, TestStoreOptions(&clock));
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  for (int i = 0; i < n; ++i) {
    ASSERT_NO_ERR((*store)->CreateExecution(NewLocal(prefix + std::to_string(i), "j-1")));
  }
  for (int i = 0; i < n; i += 2)
    ASSERT_NO_ERR((*store)->DeleteExecution(prefix + std::to_string(i)));
}

uint64_t CreatedCount(const std::string& path) {
  auto store = ExecutionStore::Open(path, TestStoreOptions());
  EXPECT_TRUE(store.ok()) << store.error().ToString();
  return store.ok() ? (*store)->GetExecutionCount(LocalState::kCreated) : 0;
}

TEST(CompactFileTest, ALockedFileIsRefusedAndLeftAlone) {
  TempDir dir;
  const std::string path = dir.File("c-compute.db");
  FillForCompaction(path, 50);
  const auto size = std::filesystem::file_size(path);
  {
    auto holder = ExecutionStore::Open(path, TestStoreOptions());
    ASSERT_TRUE(holder.ok());
    auto compacted = CompactFile(path, std::chrono::milliseconds(100));
    ASSERT_FALSE(compacted.ok());
    EXPECT_EQ(compacted.error().code(), Errc::kLocked);
    EXPECT_NE(compacted.error().message().find(path), std::string::npos);
  }
  EXPECT_EQ(std::filesystem::file_size(path), size);
  EXPECT_FALSE(std::filesystem::exists(path + ".compact.tmp"));
  EXPECT_EQ(CreatedCount(path), 25u);
  ExpectSoundFile(path);
}

TEST(CompactFileTest, SwapsInAFreshFileAndRetiresTheOldOne) {
  TempDir dir;
  const std::string path = dir.File("c-compute.db");
  FillForCompaction(path, 400);
  // A stale temporary file from an earlier crash is replaced.
  { std::ofstream(path + ".compact.tmp") << "half a file"; }
  // Stands for a process that opened the file before the swap (and waits for its lock).
  const int old_fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(old_fd, 0);
  auto compacted = CompactFile(path, std::chrono::milliseconds(500));
  ASSERT_TRUE(compacted.ok()) << compacted.error().ToString();
  EXPECT_LT(compacted->bytes_after, compacted->bytes_before);
  EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(path)), compacted->bytes_after);
  EXPECT_FALSE(std::filesystem::exists(path + ".compact.tmp"));
  // The old file is no longer a database: whoever still holds it cannot open it.
  const std::string old_copy = dir.File("old-copy.db");
  {
    std::ofstream out(old_copy, std::ios::binary);
    char buf[4096];
    ssize_t n;
    off_t off = 0;
    while ((n = ::pread(old_fd, buf, sizeof buf, off)) > 0) {
      out.write(buf, n);
      off += n;
    }
  }
  ::close(old_fd);
  auto old_db = DB::Open(old_copy, Options{});
  EXPECT_FALSE(old_db.ok()) << "the replaced file still opens";
  {
    auto store = ExecutionStore::Open(path, TestStoreOptions());
    ASSERT_TRUE(store.ok());
    EXPECT_TRUE((*store)->counters_from_record()) << "compaction lost the counters' stamp";
  }
  EXPECT_EQ(CreatedCount(path), 200u);
  ExpectSoundFile(path);
}

TEST(CompactFileTest, KillNineAtAnyPointLeavesAValidFile) {
  // A child compacts; the parent kills it after a random delay up to the
  // time a whole compaction takes. Every time, path opens, checks and counts.
  TempDir dir;
  const std::string path = dir.File("c-compute.db");
  FillForCompaction(path, 600);
  boltpp::testing::Random rnd(boltpp::testing::SeedOr(20261201));
  const int kills = static_cast<int>(boltpp::testing::EnvInt("BOLTPP_JOBS_COMPACT_KILLS", 8));
  std::printf("seed %llu, %d kills (BOLTPP_JOBS_COMPACT_KILLS)\n",
              static_cast<unsigned long long>(rnd.seed()), kills);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(CompactFile(path, std::chrono::milliseconds(500)).ok());
  const auto full = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count() +
                    1;
  for (int i = 0; i < kills; ++i) {
    FillForCompaction(path, 20, "e-" + std::to_string(i) + "-");  // something to reclaim
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto r = CompactFile(path, std::chrono::milliseconds(2000));
      ::_exit(r.ok() ? 0 : 3);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rnd.Uniform(full)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) || WEXITSTATUS(status) == 0) << "compaction failed";
    EXPECT_EQ(CreatedCount(path), 300u + 10u * (i + 1)) << "kill " << i;
    ExpectSoundFile(path);
  }
}

TEST_F(ExecutionStoreTest, ALockedFileFailsWithinTheTimeoutNamingTheFile) {
  auto o = TestStoreOptions();
  o.lock_timeout = std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  auto second = ExecutionStore::Open(path_, o);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Errc::kLocked);
  EXPECT_NE(second.error().message().find(path_), std::string::npos) << second.error().message();
  EXPECT_LT(waited, std::chrono::seconds(2));
  o.read_only = true;
  EXPECT_EQ(ExecutionStore::Open(dir_.File("missing.db"), o).error().code(),
            Errc::kInvalidArgument);
}

// Many clients race the same guarded transition: exactly one wins each round.
void RaceRounds(ExecutionStore& store, int clients, int rounds) {
  ASSERT_NO_ERR(store.CreateExecution(NewLocal("e-race", "j-race", LocalState::kBidAccepted)));
  ASSERT_NO_ERR(store.UpdateExecutionState(
      {"e-race", LocalState::kRunning, {LocalState::kBidAccepted}, 1, ""}));
  for (int round = 0; round < rounds; ++round) {
    const uint64_t version = 2 + static_cast<uint64_t>(round);
    std::atomic<int> winners{0}, losers{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        Error e = store.UpdateExecutionState({"e-race",
                                              LocalState::kRunning,
                                              {LocalState::kRunning},
                                              version,
                                              "client " + std::to_string(c)});
        if (e.ok()) {
          winners++;
        } else if (e.code() == Errc::kInvalidExecutionVersion) {
          losers++;
        } else {
          ADD_FAILURE() << e.ToString();
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(winners.load(), 1) << "round " << round;
    EXPECT_EQ(losers.load(), clients - 1);
  }
  auto history = store.GetExecutionHistory("e-race");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), static_cast<size_t>(rounds) + 2);
  EXPECT_EQ(store.GetExecution("e-race")->version, static_cast<uint64_t>(rounds) + 2);
}

TEST_F(ExecutionStoreTest, GuardedUpdateRaceHasExactlyOneWinner) { RaceRounds(*store_, 8, 20); }

TEST_F(ExecutionStoreTest, GuardedUpdateRaceHasExactlyOneWinnerInBatches) {
  auto o = TestStoreOptions(&clock_);
  o.batch = true;
  Open(o);
  RaceRounds(*store_, 8, 20);
}

TEST_F(ExecutionStoreTest, FailedGuardsInsideABatchLeaveTheirDataUnchanged) {
  // Eight callers share one batch (long delay, size 8): four valid
  // transitions and four that fail a guard (state, version, terminal, exists).
  auto o = TestStoreOptions(&clock_);
  o.batch = true;
  o.batch_size = 8;
  o.batch_delay = std::chrono::milliseconds(500);
  for (int i = 0; i < 8; ++i) {
    ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-" + std::to_string(i), "j-1")));
  }
  ASSERT_NO_ERR(Move("e-6", LocalState::kCreated, LocalState::kCancelled));
  Open(o);  // set up without waiting for batches
  auto snapshot = [&](int i) {
    std::string out;
    EXPECT_OK(store_->db().View([&](Tx& tx) {
      const std::string id = "e-" + std::to_string(i);
      out = SnapshotPath(tx, {std::string(kExecutionBucket), id}) + "|" +
            SnapshotPath(tx, {std::string(kExecutionHistoryBucket), id}) + "|" +
            SnapshotPath(tx, {std::string(kExecutionIndexBucket), "j-1"});
      return Status::OK();
    }));
    return out;
  };
  std::vector<std::string> before;
  for (int i = 4; i < 8; ++i) before.push_back(snapshot(i));
  const StateCounts counts_before = store_->GetCounts();
  const uint64_t txid_before = Txid();
  std::vector<Error> results(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      results[i] = Move("e-" + std::to_string(i), LocalState::kCreated, LocalState::kBidAccepted);
    });
  }
  threads.emplace_back(
      [&] { results[4] = Move("e-4", LocalState::kRunning, LocalState::kFailed); });
  threads.emplace_back(
      [&] { results[5] = Move("e-5", LocalState::kCreated, LocalState::kBidAccepted, 7); });
  threads.emplace_back([&] {
    results[6] = store_->UpdateExecutionState({"e-6", LocalState::kFailed, {}, 0, ""});
  });
  threads.emplace_back(
      [&] { results[7] = store_->CreateExecution(NewLocal("e-7", "j-1", LocalState::kCreated)); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(results[i].ok()) << results[i].ToString();
  EXPECT_ERRC(results[4], Errc::kInvalidExecutionState);
  EXPECT_ERRC(results[5], Errc::kInvalidExecutionVersion);
  EXPECT_ERRC(results[6], Errc::kExecutionAlreadyTerminal);
  EXPECT_ERRC(results[7], Errc::kExecutionAlreadyExists);
  EXPECT_EQ(Txid(), txid_before + 1) << "the eight calls did not share one commit";
  for (int i = 4; i < 8; ++i) EXPECT_EQ(snapshot(i), before[i - 4]) << "e-" << i;
  StateCounts want = counts_before;
  want[int(LocalState::kCreated)] -= 4;
  want[int(LocalState::kBidAccepted)] += 4;
  EXPECT_EQ(store_->GetCounts(), want);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(store_->GetExecution("e-" + std::to_string(i))->state, LocalState::kBidAccepted);
  }
}

TEST_F(ExecutionStoreTest, CountersArePersistedAndTrustedOnlyWhenCurrent) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-" + std::to_string(i), "j-1")));
  }
  ASSERT_NO_ERR(Move("e-0", LocalState::kCreated, LocalState::kBidAccepted));
  ASSERT_NO_ERR(store_->DeleteExecution("e-4"));
  StateCounts want{};
  want[int(LocalState::kCreated)] = 3;
  want[int(LocalState::kBidAccepted)] = 1;
  Open();
  EXPECT_TRUE(store_->counters_from_record());
  EXPECT_EQ(store_->GetCounts(), want);
  // Another writer (the real store, bbolt) changes the file without the record.
  store_.reset();
  {
    auto db = DB::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_OK((*db)->Update([](Tx& tx) {
      return tx.GetBucket(kExecutionBucket).Delete("e-3");  // verify will miss its history: fine
    }));
  }
  Open();
  EXPECT_FALSE(store_->counters_from_record()) << "a stale record was trusted";
  want[int(LocalState::kCreated)] = 2;
  EXPECT_EQ(store_->GetCounts(), want);
  Open();
  EXPECT_TRUE(store_->counters_from_record()) << "the recount was not persisted";
  EXPECT_EQ(store_->GetCounts(), want);
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-3", "j-1")));  // history starts over
}

TEST_F(ExecutionStoreTest, WrongPersistedCountersAreFoundAndRepaired) {
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-1", "j-1")));
  store_.reset();
  {
    // A current stamp (this transaction's id) with wrong counts.
    auto db = DB::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_OK((*db)->Update([](Tx& tx) {
      StateCounts wrong{};
      wrong[int(LocalState::kRunning)] = 7;
      return WritePersistedCounts(tx, wrong);
    }));
  }
  auto report = VerifyFile(path_, false, std::chrono::milliseconds(300));
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems[0].ToString(),
            "execution-index boltpp state counters: persisted counters [0,0,0,7,0,0,0,0,0,0] != "
            "full decode [0,1,0,0,0,0,0,0,0,0]");
  report = VerifyFile(path_, true, std::chrono::milliseconds(300));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->repairs,
            std::vector<std::string>{"rewrote execution-index/boltpp state counters"});
  Open();
  EXPECT_EQ(store_->GetExecutionCount(LocalState::kCreated), 1u);
  EXPECT_EQ(store_->GetExecutionCount(LocalState::kRunning), 0u);
}

TEST_F(ExecutionStoreTest, TheRealStoresLiveIndexIsKeptExactWhenTheFileHasIt) {
  auto live_keys = [&] {
    std::vector<std::string> keys;
    EXPECT_OK(store_->db().View([&](Tx& tx) {
      Bucket live = tx.GetBucket(kExecutionLiveIndexBucket);
      if (!live) return Status::OK();
      return live.ForEach([&](const Entry& e) {
        keys.emplace_back(e.key);
        return Status::OK();
      });
    }));
    return keys;
  };
  using V = std::vector<std::string>;
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-1", "j-1")));
  ASSERT_NO_ERR(Move("e-1", LocalState::kCreated, LocalState::kRunning));
  EXPECT_EQ(live_keys(), V{}) << "created a bucket the file did not have";
  store_.reset();
  {
    auto db = DB::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_OK((*db)->Update([](Tx& tx) {
      auto live = tx.CreateBucket(kExecutionLiveIndexBucket);
      if (!live.ok()) return live.status();
      return live->Put("e-1", "");
    }));
  }
  Open();
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-2", "j-1")));
  ASSERT_NO_ERR(store_->CreateExecution(NewLocal("e-3", "j-2")));
  EXPECT_EQ(live_keys(), V{"e-1"});
  ASSERT_NO_ERR(Move("e-2", LocalState::kCreated, LocalState::kRunning));
  ASSERT_NO_ERR(Move("e-3", LocalState::kCreated, LocalState::kBidAccepted));
  EXPECT_EQ(live_keys(), (V{"e-1", "e-2"}));
  ASSERT_NO_ERR(Move("e-2", LocalState::kRunning, LocalState::kPublishing));
  ASSERT_NO_ERR(Move("e-1", LocalState::kRunning, LocalState::kCompleted));
  EXPECT_EQ(live_keys(), V{"e-2"});
  ASSERT_NO_ERR(Move("e-3", LocalState::kBidAccepted, LocalState::kRunning));
  ASSERT_NO_ERR(store_->DeleteExecution("e-3"));
  EXPECT_EQ(live_keys(), V{"e-2"});
  store_.reset();
  auto clean = VerifyFile(path_, false, std::chrono::milliseconds(300));
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->ok()) << clean->problems[0].ToString();
  // Broken by hand: verify names each problem, repair fixes them.
  {
    auto db = DB::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_OK((*db)->Update([](Tx& tx) {
      Bucket live = tx.GetBucket(kExecutionLiveIndexBucket);
      if (Status s = live.Delete("e-2"); !s.ok()) return s;
      if (Status s = live.Put("e-1", ""); !s.ok()) return s;
      return live.Put("e-9", "");
    }));
  }
  auto broken = VerifyFile(path_, false, std::chrono::milliseconds(300));
  ASSERT_TRUE(broken.ok());
  std::vector<std::string> problems;
  for (auto& p : broken->problems) problems.push_back(p.ToString());
  EXPECT_EQ(problems, (V{"execution-live-index e-2: executing (Publishing) but not in the index",
                         "execution-live-index e-1: not executing (Completed) but in the index",
                         "execution-live-index e-9: orphaned index entry: no execution e-9"}));
  auto repaired = VerifyFile(path_, true, std::chrono::milliseconds(300));
  ASSERT_TRUE(repaired.ok());
  EXPECT_TRUE(repaired->ok());
  EXPECT_EQ(repaired->repairs.size(), 3u);
  Open();
  EXPECT_EQ(live_keys(), V{"e-2"});
}

TEST_F(ExecutionStoreTest, RandomOperationsKeepCountersAndLiveIndexExact) {
  // On a file with the real store's live index: random creates, guarded
  // updates and deletes; after each, verify is clean (index, live index,
  // persisted counters) and the in-memory counters equal the record.
  store_.reset();
  {
    auto db = DB::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_OK((*db)->Update(
        [](Tx& tx) { return tx.CreateBucketIfNotExists(kExecutionLiveIndexBucket).status(); }));
  }
  Open();
  boltpp::testing::Random rnd(boltpp::testing::SeedOr(20261203));
  const int ops = static_cast<int>(boltpp::testing::EnvInt("BOLTPP_JOBS_RANDOM_OPS", 300));
  std::printf("seed %llu, %d operations (BOLTPP_JOBS_RANDOM_OPS)\n",
              static_cast<unsigned long long>(rnd.seed()), ops);
  int succeeded = 0;
  for (int i = 0; i < ops; ++i) {
    const std::string id = "e-" + std::to_string(rnd.Uniform(25));
    const int kind = static_cast<int>(rnd.Uniform(5));
    if (kind == 0) {
      succeeded += store_
                       ->CreateExecution(
                           NewLocal(id, "j-" + std::to_string(rnd.Uniform(5)),
                                    rnd.OneIn(2) ? LocalState::kCreated : LocalState::kBidAccepted))
                       .ok();
    } else if (kind == 4) {
      succeeded += store_->DeleteExecution(id).ok();
    } else {
      succeeded +=
          store_->UpdateExecutionState({id, LocalState(1 + rnd.Uniform(9)), {}, 0, "random"}).ok();
    }
    VerifyReport report;
    std::optional<StateCounts> persisted;
    ASSERT_OK(store_->db().View([&](Tx& tx) {
      report = VerifyStore(tx, false);
      persisted = ReadPersistedCounts(tx);
      return Status::OK();
    }));
    ASSERT_TRUE(report.ok()) << "after op " << i << ": " << report.problems[0].ToString();
    ASSERT_TRUE(persisted.has_value()) << "after op " << i;
    ASSERT_EQ(*persisted, store_->GetCounts()) << "after op " << i;
  }
  EXPECT_GT(succeeded, ops / 5) << "too few operations changed anything";
}

}  // namespace
}  // namespace boltpp::jobstore::testing
