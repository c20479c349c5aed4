// File: tests/api/large_tx_test.cc
// Large single transactions: boltpp splits a node in memory once it holds
// more than 1024 entries (bbolt never splits before commit, so its random
// bulk inserts are quadratic).
//
// The story of the first bug here: a bucket's first child kept receiving keys
// smaller than the key its parent files it under; when it split, the right
// half's first key could equal that stale key, the parent's Put replaced the
// left half's entry, and the commit wrote a page referenced twice ("page N:
// multiple references") with ~0.1% of 1,000,000 keys missing. The fix drops
// the child's entry key to its first key before splitting.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

class LargeTxTest : public DBTestBase {};

std::map<std::string, std::string> ReadBucket(DB* db, const std::string& name) {
  std::map<std::string, std::string> out;
  Status s = db->View([&](Tx& tx) {
    Bucket b = tx.GetBucket(name);
    if (!b) return Status(Code::kBucketNotFound);
    return b.ForEach([&](const Entry& e) {
      out.emplace(std::string(e.key), std::string(e.value));
      return Status::OK();
    });
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Descending keys always land in the first child, below its entry key.
TEST_F(LargeTxTest, DescendingInsertsIntoFirstChild) {
  std::map<std::string, std::string> model;
  ASSERT_TRUE(db()->Update([&](Tx& tx) {
                    auto b = tx.CreateBucket("desc");
                    if (!b.ok()) return b.status();
                    for (int i = 200000; i > 0; i--) {
                      char key[16];
                      std::snprintf(key, sizeof key, "%08d", i);
                      model[key] = std::to_string(i);
                      if (Status s = b->Put(key, std::to_string(i)); !s.ok()) return s;
                    }
                    return Status::OK();
                  })
                  .ok());
  EXPECT_EQ(ReadBucket(db(), "desc"), model);
}

TEST_F(LargeTxTest, RandomInsertsDeletesAndRollbackInOneTransaction) {
  const uint64_t seed = 20261120;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::map<std::string, std::string> model;
  auto random_key = [&] {
    std::string k(1 + rng() % 24, '\0');
    for (auto& c : k) c = static_cast<char>(rng());
    return k;
  };
  ASSERT_TRUE(db()->Update([&](Tx& tx) {
                    auto b = tx.CreateBucket("rnd");
                    if (!b.ok()) return b.status();
                    for (int i = 0; i < 120000; i++) {
                      std::string k = random_key();
                      std::string v(rng() % 64, static_cast<char>('a' + i % 26));
                      if (Status s = b->Put(k, v); !s.ok()) return s;
                      model[k] = v;
                      if (i % 5 == 0) {
                        auto it = model.lower_bound(random_key());
                        if (it == model.end()) continue;
                        if (Status s = b->Delete(it->first); !s.ok()) return s;
                        model.erase(it);
                      }
                    }
                    return Status::OK();
                  })
                  .ok());
  EXPECT_EQ(ReadBucket(db(), "rnd"), model);

  // A rolled-back large transaction leaves neither keys nor pages behind.
  Status s = db()->Update([&](Tx& tx) {
    Bucket b = tx.GetBucket("rnd");
    for (int i = 0; i < 50000; i++) {
      if (Status p = b.Put(random_key(), "rolled back"); !p.ok()) return p;
    }
    return Status(Code::kAborted, "roll back on purpose");
  });
  EXPECT_EQ(s.code(), Code::kAborted);
  EXPECT_EQ(ReadBucket(db(), "rnd"), model);
  ASSERT_TRUE(tdb().Reopen());
  EXPECT_EQ(ReadBucket(db(), "rnd"), model);
}

// Many nested buckets created in one transaction split the parent in memory too.
TEST_F(LargeTxTest, ThousandsOfNestedBucketsInOneTransaction) {
  ASSERT_TRUE(db()->Update([&](Tx& tx) {
                    auto top = tx.CreateBucket("jobs");
                    if (!top.ok()) return top.status();
                    for (int i = 5000; i > 0; i--) {
                      auto child = top->CreateBucket("job-" + std::to_string(i));
                      if (!child.ok()) return child.status();
                      if (Status s = child->Put("state", "queued"); !s.ok()) return s;
                    }
                    return Status::OK();
                  })
                  .ok());
  int buckets = 0;
  ASSERT_TRUE(db()->View([&](Tx& tx) {
                    return tx.GetBucket("jobs").ForEachBucket([&](Bytes) {
                      buckets++;
                      return Status::OK();
                    });
                  })
                  .ok());
  EXPECT_EQ(buckets, 5000);
}

}  // namespace
}  // namespace boltpp::testing
