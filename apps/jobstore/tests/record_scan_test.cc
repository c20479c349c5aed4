// File: apps/jobstore/tests/record_scan_test.cc
// The compute store's transition fast path (src/record_scan.h) against the
// slow path it replaces (nlohmann parse, FromJson, ToJson, dump): on random
// records, and on random damage to them, every record the fast path takes
// must give the slow path's bytes, state and version. Seed: BOLTPP_SEED.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "../src/record_scan.h"
#include "helpers.h"

namespace boltpp::jobstore::testing {
namespace {

using boltpp::testing::Random;
using boltpp::testing::SeedOr;
using internal::IsCanonicalJson;
using internal::RewriteLocalStateRecord;
using internal::ScanLocalStateRecord;

std::string DumpLikeTheStore(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

// Strings with what JSON escapes, multi-byte UTF-8 and plain text.
std::string RandomString(Random& rnd) {
  static const char* const kPieces[] = {"a",    "Z",  "0",  " ",  "\"", "\\",   "/",
                                        "\n",   "\t", "\b", "\f", "\r", "\x01", "\x1f",
                                        "\x7f", "é",  "€",  "😀",  "<",  "&",    "id-"};
  std::string s;
  for (uint64_t n = rnd.Uniform(12); n > 0; --n) s += kPieces[rnd.Uniform(std::size(kPieces))];
  return s;
}

// A random document: objects, arrays, strings, integers, literals, and
// (when floats) numbers the fast path must refuse.
Json RandomValue(Random& rnd, int depth, bool floats) {
  switch (rnd.Uniform(depth > 3 ? 4 : 6)) {
    case 0:
      return RandomString(rnd);
    case 1:
      if (floats && rnd.OneIn(4)) return 0.5 + static_cast<double>(rnd.Uniform(1000));
      return rnd.OneIn(2) ? Json(rnd.Range(-1000000, 1000000))
                          : Json(rnd.Next() >> rnd.Uniform(64));
    case 2:
      return rnd.OneIn(3) ? Json(nullptr) : Json(rnd.OneIn(2));
    case 3:
      return Json(std::string(rnd.Uniform(600), 'o'));
    case 4: {
      Json a = Json::array();
      for (uint64_t n = rnd.Uniform(4); n > 0; --n)
        a.push_back(RandomValue(rnd, depth + 1, floats));
      return a;
    }
    default: {
      Json o = Json::object();
      for (uint64_t n = rnd.Uniform(6); n > 0; --n)
        o[RandomString(rnd) + std::to_string(n)] = RandomValue(rnd, depth + 1, floats);
      return o;
    }
  }
}

std::string RandomRecord(Random& rnd, bool floats) {
  LocalExecutionState s;
  s.execution = Json::object();
  s.execution["ID"] = "e-" + std::to_string(rnd.Uniform(1000));
  s.execution["JobID"] = "j-1";
  for (uint64_t n = rnd.Uniform(8); n > 0; --n)
    s.execution["F" + std::to_string(n)] = RandomValue(rnd, 1, floats);
  s.requester_node_id = RandomString(rnd);
  s.state = LocalState(rnd.Range(0, 9));
  s.version = rnd.Uniform(1000);
  s.create_time = rnd.Range(0, 4000000000LL) * 1000000000LL + rnd.Range(0, 999999999);
  s.update_time = s.create_time + rnd.Range(0, 1000000);
  s.latest_comment = RandomString(rnd);
  return DumpLikeTheStore(s.ToJson());
}

struct SlowResult {
  LocalExecutionState before;
  std::string after;
};

// The slow path of ExecutionStore::UpdateExecutionState.
std::optional<SlowResult> SlowPath(const std::string& text, LocalState to, int64_t now,
                                   const std::string& comment) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  auto s = LocalExecutionState::FromJson(j);
  if (!s.ok()) return std::nullopt;
  SlowResult r{*s, ""};
  s->state = to;
  s->version += 1;
  s->update_time = now;
  s->latest_comment = comment;
  r.after = DumpLikeTheStore(s->ToJson());
  return r;
}

// Checks one record; returns whether the fast path took it.
bool CheckAgainstSlowPath(Random& rnd, const std::string& text) {
  const auto fast = ScanLocalStateRecord(text);
  if (!fast) return false;
  const LocalState to = LocalState(rnd.Range(1, 9));
  const int64_t now = rnd.Range(0, 4000000000LL) * 1000000000LL;
  const std::string comment = RandomString(rnd);
  const auto slow = SlowPath(text, to, now, comment);
  EXPECT_TRUE(slow.has_value()) << "fast path took a record the slow path refuses: " << text;
  if (!slow) return true;
  EXPECT_EQ(fast->state, int(slow->before.state)) << text;
  EXPECT_EQ(fast->version, slow->before.version) << text;
  EXPECT_EQ(RewriteLocalStateRecord(*fast, int(to), fast->version + 1, now, comment), slow->after)
      << text;
  return true;
}

TEST(RecordScanTest, FastPathGivesTheSlowPathsBytesOnRandomAndDamagedRecords) {
  const uint64_t seed = SeedOr(20261130);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  Random rnd(seed);
  int canonical_taken = 0, float_records = 0, float_taken = 0, damaged_taken = 0;
  const int kRecords = 1500;
  for (int i = 0; i < kRecords; ++i) {
    const std::string record = RandomRecord(rnd, false);
    // Every record as the store writes it (integers only) takes the fast path.
    EXPECT_TRUE(CheckAgainstSlowPath(rnd, record)) << "not taken: " << record;
    canonical_taken++;
    const std::string with_floats = RandomRecord(rnd, true);
    float_records++;
    if (CheckAgainstSlowPath(rnd, with_floats)) float_taken++;
    std::string damaged = record;
    for (uint64_t n = 1 + rnd.Uniform(3); n > 0 && !damaged.empty(); --n)
      damaged = MutateJson(rnd, damaged);
    if (CheckAgainstSlowPath(rnd, damaged)) damaged_taken++;
  }
  std::printf("fast path: %d/%d store records, %d/%d with floats, %d/%d damaged\n", canonical_taken,
              kRecords, float_taken, float_records, damaged_taken, kRecords);
  EXPECT_LT(float_taken, float_records) << "no record with a float took the slow path";
  EXPECT_LT(damaged_taken, kRecords / 2) << "damage rarely sends a record to the slow path";
}

TEST(RecordScanTest, CanonicalJsonIsExactlyWhatNlohmannWritesBack) {
  const uint64_t seed = SeedOr(7);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  Random rnd(seed);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = DumpLikeTheStore(RandomValue(rnd, 0, true));
    if (rnd.OneIn(2)) text = MutateJson(rnd, text);
    if (!IsCanonicalJson(text)) continue;
    accepted++;
    Json j = Json::parse(text, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "accepted invalid JSON: " << text;
    EXPECT_EQ(DumpLikeTheStore(j), text);
  }
  EXPECT_GT(accepted, 1000);
  // Objects with more keys than the scanner keeps in place.
  Json wide = Json::object();
  for (int k = 0; k < 40; ++k) wide["k" + std::to_string(k)] = k;
  const std::string wide_text = DumpLikeTheStore(wide);
  EXPECT_TRUE(IsCanonicalJson(wide_text));
  for (int dup : {3, 30}) {
    std::string twice = wide_text;
    twice.insert(twice.size() - 1, ",\"k" + std::to_string(dup) + "\":1");
    EXPECT_FALSE(IsCanonicalJson(twice)) << twice;
  }
  // What nlohmann would write differently.
  for (const char* text :
       {"{\"a\":1,\"a\":2}", "1.0", "-0", "\"\\/\"", "\"\\u0041\"", "\"\\u001F\"", "[1, 2]", "1e3",
        "0123", "18446744073709551616", "-9223372036854775809", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
        "{\"a\":1", "tru"}) {
    EXPECT_FALSE(IsCanonicalJson(text)) << text;
  }
  for (const char* text :
       {"{\"a\":1,\"b\":[true,false,null]}", "\"\\u001f\\n\"", "-12", "18446744073709551615",
        "-9223372036854775808", "\"\xf0\x9f\x98\x80\""}) {
    EXPECT_TRUE(IsCanonicalJson(text)) << text;
  }
}

TEST(RecordScanTest, HistoryAndCounterRecordsAreWhatNlohmannWrites) {
  const uint64_t seed = SeedOr(11);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  Random rnd(seed);
  int counters_read = 0;
  for (int i = 0; i < 2000; ++i) {
    LocalStateHistory h{RandomString(rnd),
                        LocalState(rnd.Range(-3, 12)),
                        LocalState(rnd.Range(0, 9)),
                        rnd.Next() >> rnd.Uniform(64),
                        RandomString(rnd),
                        rnd.Range(0, 4000000000LL) * 1000000000LL + rnd.Range(0, 999999999)};
    EXPECT_EQ(internal::LocalStateHistoryRecord(h), DumpLikeTheStore(h.ToJson()));

    StateCounts counts{};
    for (auto& c : counts) c = rnd.Next() >> rnd.Uniform(64);
    const uint64_t stamp = rnd.Next() >> rnd.Uniform(64);
    const std::string text = internal::WriteCountersRecord(stamp, counts);
    EXPECT_EQ(text, Json({{"Tx", stamp}, {"Counts", counts}}).dump());
    const std::string damaged = rnd.OneIn(2) ? MutateJson(rnd, text) : text;
    auto fast = internal::ScanCountersRecord(damaged);
    if (!fast) continue;
    counters_read++;
    // Whatever the direct reader takes, nlohmann reads the same numbers.
    Json j = Json::parse(damaged, nullptr, false);
    ASSERT_TRUE(j.is_object()) << damaged;
    ASSERT_TRUE(j["Tx"].is_number_unsigned()) << damaged;
    EXPECT_EQ(j["Tx"].get<uint64_t>(), fast->stamp) << damaged;
    ASSERT_EQ(j["Counts"].size(), counts.size()) << damaged;
    for (size_t k = 0; k < counts.size(); ++k) {
      ASSERT_TRUE(j["Counts"][k].is_number_unsigned()) << damaged;
      EXPECT_EQ(j["Counts"][k].get<uint64_t>(), fast->counts[k]) << damaged;
    }
  }
  EXPECT_GT(counters_read, 1000);
}

class RecordScanStoreTest : public StoreTest<ExecutionStore> {
 protected:
  RecordScanStoreTest() : StoreTest("node-1-compute.db") {}
};

TEST_F(RecordScanStoreTest, RecordsTheFastPathDoesNotTakeAreStillUpdated) {
  // A record as another writer might leave it: spaces, an extra member.
  // The update takes the slow path (which keeps LocalExecutionState's fields).
  auto* store = &store_;
  ASSERT_NO_ERR((*store)->CreateExecution(NewLocal("e-1", "j-1")));
  const std::string odd =
      R"({"Execution": {"ID": "e-1", "JobID": "j-1", "Cost": 5}, "RequesterNodeID": "r",)"
      R"( "State": 1, "Version": 1, "CreateTime": "2023-11-14T22:13:20Z",)"
      R"( "UpdateTime": "2023-11-14T22:13:20Z", "LatestComment": "", "Extra": 1})";
  ASSERT_FALSE(ScanLocalStateRecord(odd).has_value());
  ASSERT_OK((*store)->db().Update(
      [&](Tx& tx) { return tx.GetBucket(kExecutionBucket).Put("e-1", odd); }));
  ASSERT_NO_ERR((*store)->UpdateExecutionState(
      {"e-1", LocalState::kBidAccepted, {LocalState::kCreated}, 1, "bid"}));
  auto e = (*store)->GetExecution("e-1");
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  EXPECT_EQ(e->state, LocalState::kBidAccepted);
  EXPECT_EQ(e->version, 2u);
  EXPECT_EQ(e->execution["Cost"], 5);
  EXPECT_EQ(e->latest_comment, "bid");
  // The rewritten record is the store's own form: the next update is fast.
  std::string stored;
  ASSERT_OK((*store)->db().View([&](Tx& tx) {
    stored = std::string(*tx.GetBucket(kExecutionBucket).Get("e-1"));
    return Status::OK();
  }));
  EXPECT_TRUE(ScanLocalStateRecord(stored).has_value()) << stored;
}

}  // namespace
}  // namespace boltpp::jobstore::testing
