// File: apps/jobstore/tests/query_paths_test.cc
// The job store's fast read paths against the straightforward ones they
// replace, on random documents and stores (seed printed; BOLTPP_SEED
// replays):
//   - ParseCanonicalJson (src/internal.h) builds the tree nlohmann's parser
//     builds, node for node, or declines; DumpJson writes nlohmann's bytes;
//   - ScanSpecSortKey reads what Str(spec, "ID") / Int(spec, "CreateTime")
//     read from the parsed spec, or declines;
//   - GetJobs (sort fields read from the text, only the page decoded) gives
//     the v1.2 query's result: index sets, every spec parsed, sorted, sliced;
//   - GetJobHistory gives the rows of the copy-and-sort reading;
//   - the events the store writes directly are Dump of the documents the
//     store built before (field order, bytes).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "../src/internal.h"
#include "../src/record_scan.h"
#include "helpers.h"

namespace boltpp::jobstore::testing {
namespace {

using boltpp::testing::Random;
using boltpp::testing::SeedOr;

std::string DumpLikeTheStore(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

// The same tree node for node: types (signed / unsigned integers) and
// member order included.
bool SameTree(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto x = a.items().begin(), y = b.items().begin(); x != a.items().end(); ++x, ++y) {
      if (x.key() != y.key() || !SameTree(x.value(), y.value())) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!SameTree(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

std::string RandomString(Random& rnd) {
  static const char* const kPieces[] = {"a",  "Z",  "0",   " ",  "\"",   "\\",   "/",    "\n",
                                        "\t", "\b", "\f",  "\r", "\x01", "\x1f", "\x7f", "é",
                                        "€",  "😀",  "id-", "ID", ":",    ","};
  std::string s;
  for (uint64_t n = rnd.Uniform(10); n > 0; --n) s += kPieces[rnd.Uniform(std::size(kPieces))];
  return s;
}

Json RandomValue(Random& rnd, int depth) {
  switch (rnd.Uniform(depth > 3 ? 4 : 6)) {
    case 0:
      return RandomString(rnd);
    case 1:
      if (rnd.OneIn(6)) return 0.25 + static_cast<double>(rnd.Range(-1000, 1000));
      return rnd.OneIn(2) ? Json(rnd.Range(-1000000, 1000000))
                          : Json(rnd.Next() >> rnd.Uniform(64));
    case 2:
      return rnd.OneIn(3) ? Json(nullptr) : Json(rnd.OneIn(2));
    case 3:
      return Json(std::string(rnd.Uniform(100), 'o'));
    case 4: {
      Json a = Json::array();
      for (uint64_t n = rnd.Uniform(4); n > 0; --n) a.push_back(RandomValue(rnd, depth + 1));
      return a;
    }
    default: {
      Json o = Json::object();
      for (uint64_t n = rnd.Uniform(6); n > 0; --n)
        o[RandomString(rnd) + std::to_string(n)] = RandomValue(rnd, depth + 1);
      return o;
    }
  }
}

TEST(QueryPathsTest, CanonicalParserBuildsNlohmannsTree) {
  const uint64_t seed = SeedOr(20261130);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  Random rnd(seed);
  int built = 0, declined_valid = 0;
  for (int i = 0; i < 6000; ++i) {
    std::string text = DumpLikeTheStore(RandomValue(rnd, 0));
    for (uint64_t n = rnd.Uniform(3); n > 0; --n) text = MutateJson(rnd, text);
    const auto fast = internal::ParseCanonicalJson(text);
    const Json slow = Json::parse(text, nullptr, false);
    if (slow.is_discarded()) {
      EXPECT_FALSE(fast.has_value()) << "built a tree from invalid JSON: " << text;
      EXPECT_FALSE(internal::ParseJson(text, "x").ok()) << text;
      continue;
    }
    auto through = internal::ParseJson(text, "x");
    ASSERT_TRUE(through.ok()) << text;
    EXPECT_TRUE(SameTree(*through, slow)) << text;
    if (!fast) {
      declined_valid++;
      continue;
    }
    built++;
    EXPECT_TRUE(SameTree(*fast, slow)) << text << "\nfast: " << fast->dump();
    EXPECT_EQ(DumpLikeTheStore(*fast), text);
  }
  std::printf("canonical parser: %d built, %d valid texts declined\n", built, declined_valid);
  EXPECT_GT(built, 2000);
  EXPECT_GT(declined_valid, 100);
}

TEST(QueryPathsTest, DirectDumpWritesNlohmannsBytes) {
  const uint64_t seed = SeedOr(37);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  Random rnd(seed);
  static const char* const kOdd[] = {"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\x7f", "\x00"};
  for (int i = 0; i < 6000; ++i) {
    Json j = RandomValue(rnd, 0);
    if (rnd.OneIn(4)) {  // invalid UTF-8, DEL and NUL in a key and a value
      std::string odd = RandomString(rnd) + std::string(kOdd[rnd.Uniform(std::size(kOdd))]);
      if (rnd.OneIn(3)) odd += std::string(1, '\0');
      j = Json::object({{odd, odd}, {"n", rnd.OneIn(2) ? Json(INT64_MIN) : Json(UINT64_MAX)}});
    }
    EXPECT_EQ(internal::DumpJson(j), DumpLikeTheStore(j))
        << j.dump(-1, ' ', true, nlohmann::detail::error_handler_t::replace);
  }
}

// A spec-like object with the sort fields in every form a writer may use.
std::string RandomSpecText(Random& rnd) {
  Json spec = Json::object();
  auto put_id = [&] {
    switch (rnd.Uniform(6)) {
      case 0:
        spec["ID"] = RandomString(rnd);  // escapes now and then
        break;
      case 1:
        spec["ID"] = rnd.Range(-5, 5);
        break;
      case 2:
        spec["ID"] = nullptr;
        break;
      case 3:
        break;  // missing
      default:
        spec["ID"] = "j-" + std::to_string(rnd.Uniform(1000));
    }
  };
  auto put_time = [&] {
    switch (rnd.Uniform(8)) {
      case 0:
        spec["CreateTime"] = 1.5e3 + static_cast<double>(rnd.Uniform(100));
        break;
      case 1:
        spec["CreateTime"] = rnd.Next() | (uint64_t{1} << 63);  // beyond int64
        break;
      case 2:
        spec["CreateTime"] = RandomString(rnd);
        break;
      case 3:
        spec["CreateTime"] = Json::object({{"CreateTime", 5}});
        break;
      case 4:
        break;  // missing
      case 5:
        spec["CreateTime"] = rnd.Range(-1000000, 0);
        break;
      default:
        spec["CreateTime"] = rnd.Next() >> (1 + rnd.Uniform(63));
    }
  };
  for (uint64_t n = rnd.Uniform(4); n > 0; --n) spec[RandomString(rnd)] = RandomValue(rnd, 1);
  if (rnd.OneIn(2)) {
    put_id();
    put_time();
  } else {
    put_time();
    put_id();
  }
  for (uint64_t n = rnd.Uniform(3); n > 0; --n) spec[RandomString(rnd)] = RandomValue(rnd, 1);
  std::string text = rnd.OneIn(10) ? spec.dump(1) : DumpLikeTheStore(spec);
  if (rnd.OneIn(3)) text = MutateJson(rnd, text);
  return text;
}

TEST(QueryPathsTest, SpecSortKeyReadsWhatStrAndIntRead) {
  const uint64_t seed = SeedOr(41);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  Random rnd(seed);
  int taken = 0, declined = 0;
  for (int i = 0; i < 6000; ++i) {
    const std::string text = RandomSpecText(rnd);
    const auto fast = internal::ScanSpecSortKey(text);
    const Json slow = Json::parse(text, nullptr, false);
    if (!fast) {
      declined++;
      continue;
    }
    taken++;
    ASSERT_FALSE(slow.is_discarded()) << "took invalid JSON: " << text;
    EXPECT_EQ(std::string(fast->id), Str(slow, "ID")) << text;
    EXPECT_EQ(fast->create_time, Int(slow, "CreateTime")) << text;
  }
  std::printf("sort key scan: %d taken, %d declined\n", taken, declined);
  EXPECT_GT(taken, 2000);
  EXPECT_GT(declined, 500);
}

TEST(QueryPathsTest, SeqRowViewsAreTheCopiedRows) {
  const uint64_t seed = SeedOr(43);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  Random rnd(seed);
  TempDir dir;
  auto db = DB::Open(dir.File("rows.db"));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  for (int round = 0; round < 60; ++round) {
    const std::string name = "b" + std::to_string(round);
    ASSERT_OK((*db)->Update([&](Tx& tx) {
      auto b = tx.CreateBucket(name);
      if (!b.ok()) return b.status();
      for (uint64_t n = rnd.Uniform(40); n > 0; --n) {
        const uint64_t seq = rnd.Uniform(2000);
        std::string key;
        switch (rnd.Uniform(round % 3 == 0 ? 1 : 4)) {
          case 0:
            key = SeqKey(seq + 1);
            break;
          case 1: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%03llu", static_cast<unsigned long long>(seq));
            key = buf;
            break;
          }
          case 2: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%016llu", static_cast<unsigned long long>(seq));
            key = buf;
            break;
          }
          default:
            key = "x" + RandomString(rnd);
        }
        if (Status s = b->Put(key, std::to_string(n)); !s.ok()) return s;
      }
      if (rnd.OneIn(4)) return b->CreateBucket("sub").status();
      return Status::OK();
    }));
    ASSERT_OK((*db)->View([&](Tx& tx) {
      auto copied = internal::ReadSeqRows(tx.GetBucket(name));
      auto views = internal::ReadSeqRowViews(tx.GetBucket(name));
      EXPECT_EQ(copied.size(), views.size());
      for (size_t i = 0; i < std::min(copied.size(), views.size()); ++i) {
        EXPECT_EQ(copied[i].seq, views[i].seq);
        EXPECT_EQ(copied[i].key, views[i].key);
        EXPECT_EQ(copied[i].value, views[i].value);
      }
      return Status::OK();
    }));
  }
  ASSERT_OK((*db)->Close());
  ExpectSoundFile(dir.File("rows.db"), /*expect_verify_clean=*/false);
}

// v1.2's GetJobs as the store did it before its fast path: index sets,
// every selected spec parsed, sorted, sliced.
Expected<std::vector<Json>> ReferenceGetJobs(DB& db, const JobQuery& q) {
  std::vector<Json> jobs;
  Error err;
  Status s = db.View([&](Tx& tx) {
    auto keys_of = [](Bucket b) {
      std::set<std::string> out;
      if (!b) return out;
      auto c = b.NewCursor();
      for (auto e = c.First(); e; e = c.Next()) out.emplace(e->key);
      return out;
    };
    std::set<std::string> ids;
    if (!q.namespace_name.empty()) {
      Bucket ns = tx.GetBucket(kNamespaceIndex);
      ids = keys_of(ns ? ns.GetBucket(q.namespace_name) : Bucket());
    } else {
      ids = keys_of(tx.GetBucket(kJobsBucket));
    }
    Bucket tags = tx.GetBucket(kTagIndex);
    if (!q.include_tags.empty()) {
      std::set<std::string> wanted;
      for (auto& t : q.include_tags) {
        auto k = keys_of(tags ? tags.GetBucket(internal::Lower(t)) : Bucket());
        wanted.insert(k.begin(), k.end());
      }
      std::erase_if(ids, [&](const std::string& id) { return !wanted.count(id); });
    }
    for (auto& t : q.exclude_tags) {
      for (auto& id : keys_of(tags ? tags.GetBucket(internal::Lower(t)) : Bucket())) ids.erase(id);
    }
    for (auto& id : ids) {
      Bucket b = tx.GetBucket(kJobsBucket).GetBucket(id);
      auto text = b ? b.Get(kSpecKey) : std::nullopt;
      if (!text) continue;
      Json j = Json::parse(*text, nullptr, false);
      if (j.is_discarded()) {
        err = Error(Errc::kBadRecord, "job " + id + " spec: invalid JSON");
        return Status::OK();
      }
      jobs.push_back(std::move(j));
    }
    return Status::OK();
  });
  if (!s.ok()) return Error::FromStatus(s);
  if (!err.ok()) return err;
  const bool by_id = q.sort_by == "id";
  std::stable_sort(jobs.begin(), jobs.end(), [&](const Json& a, const Json& b) {
    return by_id ? Str(a, "ID") < Str(b, "ID")
                 : std::make_pair(Int(a, "CreateTime"), Str(a, "ID")) <
                       std::make_pair(Int(b, "CreateTime"), Str(b, "ID"));
  });
  if (q.sort_reverse) std::reverse(jobs.begin(), jobs.end());
  if (q.offset >= jobs.size()) return std::vector<Json>{};
  auto first = jobs.begin() + static_cast<ptrdiff_t>(q.offset);
  auto last = q.limit == 0 || q.offset + q.limit >= jobs.size()
                  ? jobs.end()
                  : first + static_cast<ptrdiff_t>(q.limit);
  return std::vector<Json>(first, last);
}

JobQuery RandomQuery(Random& rnd) {
  static const char* const kNamespaces[] = {"", "", "a", "b", "c", "none"};
  static const char* const kTags[] = {"env", "tier", "TIER", "canary", "gpu", "nope"};
  JobQuery q;
  q.namespace_name = kNamespaces[rnd.Uniform(std::size(kNamespaces))];
  for (uint64_t n = rnd.Uniform(3); n > 0; --n)
    q.include_tags.push_back(kTags[rnd.Uniform(std::size(kTags))]);
  for (uint64_t n = rnd.Uniform(3); n > 0; --n)
    q.exclude_tags.push_back(kTags[rnd.Uniform(std::size(kTags))]);
  q.limit = rnd.Uniform(16);
  q.offset = rnd.OneIn(3) ? 0 : rnd.Uniform(50);
  q.sort_by = rnd.OneIn(3) ? "id" : rnd.OneIn(5) ? "other" : "created_at";
  q.sort_reverse = rnd.OneIn(3);
  return q;
}

void ExpectSameResult(const Expected<std::vector<Json>>& got,
                      const Expected<std::vector<Json>>& want, const std::string& what) {
  ASSERT_EQ(got.ok(), want.ok()) << what << ": "
                                 << (got.ok() ? want.error() : got.error()).ToString();
  if (!got.ok()) {
    EXPECT_EQ(got.error().ToString(), want.error().ToString()) << what;
    return;
  }
  ASSERT_EQ(got->size(), want->size()) << what;
  for (size_t i = 0; i < got->size(); ++i) {
    EXPECT_TRUE(SameTree((*got)[i], (*want)[i]))
        << what << " row " << i << ": " << (*got)[i].dump() << " vs " << (*want)[i].dump();
  }
}

TEST(QueryPathsTest, GetJobsGivesTheStraightforwardQuerysResult) {
  const uint64_t seed = SeedOr(47);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  Random rnd(seed);
  TempDir dir;
  const std::string path = dir.File("node-1-requester.db");
  FakeClock clock;
  {
    auto store = JobStore::Open(path, TestStoreOptions(&clock));
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    static const char* const kLabels[] = {"env", "Tier", "canary", "gpu"};
    std::vector<std::string> ids;
    for (int i = 0; i < 150; ++i) {
      const std::string id = "j-" + std::to_string(rnd.Uniform(1u << 30)) + "-" + std::to_string(i);
      std::vector<std::string> labels;
      for (auto l : kLabels) {
        if (rnd.OneIn(2)) labels.push_back(l);
      }
      Json job = NewJob(id, std::string(1, char('a' + rnd.Uniform(3))), labels);
      job["CreateTime"] = 100 * int64_t(rnd.Uniform(20));  // ties, and 0 (store's clock)
      ASSERT_NO_ERR((*store)->CreateJob(job));
      ids.push_back(id);
    }
    // Specs in forms the sort-key scan does not take (other writers), with
    // the same namespace and labels.
    ASSERT_OK((*store)->db().Update([&](Tx& tx) {
      Bucket jobs = tx.GetBucket(kJobsBucket);
      for (auto& id : ids) {
        if (!rnd.OneIn(4)) continue;
        Bucket b = jobs.GetBucket(id);
        Json spec = Json::parse(*b.Get(kSpecKey));
        std::string text;
        switch (rnd.Uniform(6)) {
          case 0:
            text = spec.dump(2);
            break;
          case 1:
            spec["CreateTime"] = 250.5;
            text = spec.dump();
            break;
          case 2:
            spec["ID"] = id + "\"q";
            text = spec.dump();
            break;
          case 3:
            spec.erase("CreateTime");
            text = spec.dump();
            break;
          case 4:
            spec["CreateTime"] = "soon";
            text = spec.dump();
            break;
          default:
            text = spec.dump();
            text.insert(1, "\"CreateTime\":-3,");  // a key twice: nlohmann keeps the last
        }
        if (Status s = b.Put(kSpecKey, text); !s.ok()) return s;
      }
      return Status::OK();
    }));
    for (int i = 0; i < 400; ++i) {
      const JobQuery q = RandomQuery(rnd);
      ExpectSameResult((*store)->GetJobs(q), ReferenceGetJobs((*store)->db(), q),
                       "query " + std::to_string(i));
    }
    // A damaged spec: the queries that select it fail the same way.
    const std::string damaged = ids[rnd.Uniform(ids.size())];
    ASSERT_OK((*store)->db().Update([&](Tx& tx) {
      return tx.GetBucket(kJobsBucket).GetBucket(damaged).Put(kSpecKey, "{\"ID\":");
    }));
    int failed = 0;
    for (int i = 0; i < 100; ++i) {
      const JobQuery q = RandomQuery(rnd);
      auto want = ReferenceGetJobs((*store)->db(), q);
      failed += !want.ok();
      ExpectSameResult((*store)->GetJobs(q), want, "damaged query " + std::to_string(i));
    }
    EXPECT_GT(failed, 0);
    ASSERT_OK((*store)->db().Update([&](Tx& tx) {
      return tx.GetBucket(kJobsBucket)
          .GetBucket(damaged)
          .Put(kSpecKey, DumpLikeTheStore(NewJob(damaged)));
    }));
  }
  ExpectSoundFile(path, /*expect_verify_clean=*/false);
}

// GetJobHistory as the store read it before: copied rows, sorted, every
// row parsed and filtered.
Expected<std::vector<Json>> ReferenceHistory(DB& db, const std::string& job_id,
                                             const HistoryQuery& q) {
  std::vector<std::pair<int64_t, Json>> timed;
  Error err;
  Status s = db.View([&](Tx& tx) {
    Bucket job = tx.GetBucket(kJobsBucket).GetBucket(job_id);
    auto read = [&](std::string_view sub, bool job_level) {
      if (job_level && (!q.execution_id.empty() || !q.node_id.empty())) return;
      for (auto& row : internal::ReadSeqRows(job.GetBucket(sub))) {
        Json j = Json::parse(row.value, nullptr, false);
        if (j.is_discarded()) {
          err = Error(Errc::kBadRecord, "history of " + job_id + ": invalid JSON");
          return;
        }
        if (!job_level && (Str(j, "ExecutionID").rfind(q.execution_id, 0) != 0 ||
                           Str(j, "NodeID").rfind(q.node_id, 0) != 0)) {
          continue;
        }
        const int64_t time = ParseRfc3339(Str(j, "Time")).value_or(0);
        if (q.since > 0 && time != 0 && time / 1'000'000'000 < q.since) continue;
        timed.emplace_back(time, std::move(j));
      }
    };
    if (!q.exclude_job_level) read(kJobHistory, true);
    if (!q.exclude_execution_level) read(kJobExecutionHistory, false);
    return Status::OK();
  });
  if (!s.ok()) return Error::FromStatus(s);
  if (!err.ok()) return err;
  std::stable_sort(timed.begin(), timed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Json> rows;
  for (auto& [time, row] : timed) rows.push_back(std::move(row));
  return rows;
}

TEST(QueryPathsTest, HistoryGivesTheCopyAndSortReadingsRows) {
  const uint64_t seed = SeedOr(53);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  Random rnd(seed);
  TempDir dir;
  const std::string path = dir.File("node-1-requester.db");
  FakeClock clock;
  {
    auto store = JobStore::Open(path, TestStoreOptions(&clock));
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    const std::string job = "j-history";
    ASSERT_NO_ERR((*store)->CreateJob(NewJob(job)));
    std::vector<std::string> execs;
    for (int e = 0; e < 4; ++e) {
      execs.push_back("e-" + std::to_string(e) + std::to_string(rnd.Uniform(100)));
      ASSERT_NO_ERR((*store)->CreateExecution(
          NewExecution(execs.back(), job, "node-" + std::to_string(rnd.Uniform(3)))));
    }
    for (int i = 0; i < 120; ++i) {
      if (rnd.OneIn(3)) clock.Advance(std::chrono::seconds(rnd.Uniform(3)));  // equal times too
      UpdateExecutionRequest u;
      u.execution_id = execs[rnd.Uniform(execs.size())];
      u.new_values = {{"ComputeState", {{"StateType", 2}, {"Message", RandomString(rnd)}}}};
      u.comment = RandomString(rnd);
      ASSERT_NO_ERR((*store)->UpdateExecution(u));
    }
    // Rows another writer left: legacy %016d keys, odd times, another form.
    ASSERT_OK((*store)->db().Update([&](Tx& tx) {
      Bucket jb = tx.GetBucket(kJobsBucket).GetBucket(job);
      for (auto sub : {kJobHistory, kJobExecutionHistory}) {
        Bucket h = jb.GetBucket(sub);
        for (int i = 0; i < 15; ++i) {
          char key[32];
          std::snprintf(key, sizeof key, "%016llu",
                        static_cast<unsigned long long>(rnd.Uniform(200)));
          Json row = {{"Type", "ExecutionLevel"},
                      {"JobID", job},
                      {"NodeID", "node-" + std::to_string(rnd.Uniform(3))},
                      {"ExecutionID", execs[rnd.Uniform(execs.size())]},
                      {"NewRevision", i}};
          switch (rnd.Uniform(4)) {
            case 0:
              row["Time"] = "not a time";
              break;
            case 1:
              break;
            default:
              row["Time"] = FormatRfc3339Nano(clock.now - int64_t(rnd.Uniform(100)) * 1000000000);
          }
          if (Status s = h.Put(key, rnd.OneIn(3) ? row.dump(1) : row.dump()); !s.ok()) return s;
        }
      }
      return Status::OK();
    }));
    for (int i = 0; i < 200; ++i) {
      HistoryQuery q;
      q.exclude_job_level = rnd.OneIn(3);
      q.exclude_execution_level = rnd.OneIn(5);
      if (rnd.OneIn(3)) q.execution_id = execs[rnd.Uniform(execs.size())].substr(0, rnd.Uniform(5));
      if (rnd.OneIn(3))
        q.node_id = "node-" + std::to_string(rnd.Uniform(4)).substr(0, rnd.Uniform(2));
      if (rnd.OneIn(3)) q.since = clock.now / 1000000000 - int64_t(rnd.Uniform(150));
      ExpectSameResult((*store)->GetJobHistory(job, q), ReferenceHistory((*store)->db(), job, q),
                       "history query " + std::to_string(i));
    }
  }
  ExpectSoundFile(path, /*expect_verify_clean=*/false);
}

TEST(QueryPathsTest, EventsAreDumpsOfTheEventDocuments) {
  const uint64_t seed = SeedOr(59);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  Random rnd(seed);
  TempDir dir;
  const std::string path = dir.File("node-1-requester.db");
  FakeClock clock;
  {
    auto store = JobStore::Open(path, TestStoreOptions(&clock));
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    std::vector<Event> seen;
    (*store)->Watch(kWatchJob | kWatchExecution | kWatchEvaluation,
                    kWatchCreate | kWatchUpdate | kWatchDelete,
                    [&](const Event& e) { seen.push_back(e); });
    for (int j = 0; j < 12; ++j) {
      clock.Advance(std::chrono::nanoseconds(rnd.Uniform(3'000'000'000)));
      const std::string job = "j-" + std::to_string(j), exec = "e-" + std::to_string(j),
                        eval = "v-" + std::to_string(j);
      Json spec = NewJob(job, "ns", {"env"});
      spec["Name"] = RandomString(rnd);
      ASSERT_NO_ERR((*store)->CreateJob(spec));
      ASSERT_NO_ERR(
          (*store)->CreateEvaluation({{"ID", eval}, {"JobID", job}, {"Note", RandomString(rnd)}}));
      ASSERT_NO_ERR((*store)->CreateExecution(NewExecution(exec, job)));
      UpdateExecutionRequest u;
      u.execution_id = exec;
      u.new_values = {{"ComputeState", {{"StateType", 5}, {"Message", RandomString(rnd)}}}};
      ASSERT_NO_ERR((*store)->UpdateExecution(u));
      ASSERT_NO_ERR((*store)->UpdateJobState({job, {}, JobState::kRunning, RandomString(rnd)}));
      if (rnd.OneIn(2)) ASSERT_NO_ERR((*store)->DeleteEvaluation(eval));
      if (rnd.OneIn(2)) ASSERT_NO_ERR((*store)->DeleteJob(job));
    }
    std::vector<std::string> stored;
    ASSERT_OK((*store)->db().View([&](Tx& tx) {
      auto c = tx.GetBucket(kEventsBucket).NewCursor();
      for (auto e = c.First(); e; e = c.Next()) stored.emplace_back(e->value);
      return Status::OK();
    }));
    size_t rows = 0;
    for (; rows < stored.size(); ++rows) {
      const std::string& text = stored[rows];
      Json doc = Json::parse(text, nullptr, false);
      ASSERT_TRUE(doc.is_object()) << text;
      std::vector<std::string> keys;
      for (auto& [k, v] : doc.items()) keys.push_back(k);
      EXPECT_EQ(keys, (std::vector<std::string>{"SeqNum", "Operation", "ObjectType", "Object",
                                                "Timestamp"}));
      // What the store wrote before: Dump of the document it built.
      EXPECT_EQ(DumpLikeTheStore(doc), text);
      ASSERT_LT(rows, seen.size());
      EXPECT_EQ(seen[rows].seq, doc["SeqNum"].get<uint64_t>());
      EXPECT_EQ(seen[rows].operation, doc["Operation"]);
      EXPECT_EQ(seen[rows].object_type, doc["ObjectType"]);
      EXPECT_EQ(DumpLikeTheStore(seen[rows].object), DumpLikeTheStore(doc["Object"]));
      EXPECT_EQ(FormatRfc3339Nano(seen[rows].timestamp), doc["Timestamp"]);
    }
    EXPECT_EQ(rows, seen.size());
    EXPECT_GT(rows, 50u);
  }
  ExpectSoundFile(path);
}

}  // namespace
}  // namespace boltpp::jobstore::testing
