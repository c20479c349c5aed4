// File: tests/api/node_map_test.cc
// White-box tests of NodeMap (src/node_map.h), the open-addressing table of
// a bucket's materialized nodes: a seeded random sequence of sets, erases,
// finds and clears in lockstep with std::unordered_map, the whole content
// (iteration and every lookup) compared every 97 steps and after each find
// or clear; erasing inside long probe runs in a table near its load limit,
// which backward-shift erasure must get right; page id 0, which an inline
// bucket's root uses.
//
// The randomized run prints its seed; BOLTPP_SEED=<seed> replays it.
#include <gtest/gtest.h>

#include <cstdio>
#include <unordered_map>
#include <vector>

#include "node_map.h"
#include "testutil/random.h"

namespace boltpp {
namespace {

using format::pgid_t;

// Distinct fake node pointers (never dereferenced).
Node* FakeNode(uint64_t i) { return reinterpret_cast<Node*>(static_cast<uintptr_t>(i + 1) * 16); }

void ExpectSame(const NodeMap& map, const std::unordered_map<pgid_t, Node*>& model,
                const std::string& where) {
  ASSERT_EQ(map.size(), model.size()) << where;
  ASSERT_EQ(map.empty(), model.empty()) << where;
  size_t seen = 0;
  for (auto& [id, node] : map) {
    auto it = model.find(id);
    ASSERT_NE(it, model.end()) << where << ": iteration yields id " << id << " not in the model";
    ASSERT_EQ(node, it->second) << where << ": id " << id;
    seen++;
  }
  ASSERT_EQ(seen, model.size()) << where << ": iteration count";
  for (auto& [id, node] : model) {
    const NodeMap::Slot* s = map.find(id);
    ASSERT_NE(s, nullptr) << where << ": id " << id << " not found";
    ASSERT_EQ(s->second, node) << where << ": id " << id;
  }
}

TEST(NodeMapTest, RandomOperationsMatchUnorderedMap) {
  const uint64_t seed = testing::SeedOr(20261201);
  std::printf("[node_map] seed %llu (BOLTPP_SEED=%llu replays it)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  testing::Random rnd(seed);
  NodeMap map;
  std::unordered_map<pgid_t, Node*> model;
  for (int step = 0; step < 60000; step++) {
    const std::string where = "seed " + std::to_string(seed) + " step " + std::to_string(step);
    // Ids from a small range so that sets replace, erases hit and probe
    // runs collide; sometimes from the whole 64-bit range.
    const pgid_t id = rnd.OneIn(10) ? rnd.Next() : rnd.Uniform(3000);
    const uint64_t op = rnd.Uniform(100);
    if (op < 55) {
      Node* n = FakeNode(rnd.Uniform(1000000));
      map.set(id, n);
      model[id] = n;
    } else if (op < 90) {
      map.erase(id);
      model.erase(id);
    } else if (op < 99) {
      const NodeMap::Slot* s = map.find(id);
      auto it = model.find(id);
      ASSERT_EQ(s != nullptr, it != model.end()) << where << ": find " << id;
      if (s) {
        ASSERT_EQ(s->second, it->second) << where;
      }
    } else if (rnd.OneIn(20)) {
      map.clear();
      model.clear();
    }
    if (step % 97 == 0 || op >= 99) ExpectSame(map, model, where);
    if (HasFatalFailure()) return;
  }
  ExpectSame(map, model, "end");
}

TEST(NodeMapTest, EraseKeepsEveryProbeRunReachable) {
  // 500 ids in 1,024 slots (just under the half-full limit), so probe runs
  // are long; then erase every third, opening holes inside runs.
  NodeMap map;
  std::unordered_map<pgid_t, Node*> model;
  for (pgid_t id = 0; id < 500; id++) {
    map.set(id * 64, FakeNode(id));
    model[id * 64] = FakeNode(id);
  }
  ExpectSame(map, model, "filled");
  for (pgid_t id = 0; id < 500; id += 3) {
    map.erase(id * 64);
    model.erase(id * 64);
    ExpectSame(map, model, "erased " + std::to_string(id * 64));
    if (HasFatalFailure()) return;
  }
  map.erase(123456789);  // absent: no change
  ExpectSame(map, model, "erased an absent id");
}

TEST(NodeMapTest, PageIdZeroAndReplacement) {
  NodeMap map;
  EXPECT_EQ(map.find(0), nullptr);
  map.set(0, FakeNode(1));  // an inline bucket's root node
  ASSERT_NE(map.find(0), nullptr);
  EXPECT_EQ(map.find(0)->second, FakeNode(1));
  map.set(0, FakeNode(2));
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(map.find(0)->second, FakeNode(2));
  map.erase(0);
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.find(0), nullptr);
}

TEST(NodeMapTest, ClearEmptiesLargeAndSmallTablesAndTheyAreReusable) {
  NodeMap map;
  for (pgid_t id = 0; id < 5000; id++) map.set(id, FakeNode(id));  // a large table: freed
  map.clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.find(42), nullptr);
  size_t n = 0;
  for (auto& slot : map) n += slot.second != nullptr;
  EXPECT_EQ(n, 0u);
  for (pgid_t id = 0; id < 10; id++) map.set(id, FakeNode(id));  // a small table: kept
  map.clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.find(3), nullptr);
  map.set(3, FakeNode(3));
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(map.find(3)->second, FakeNode(3));
}

}  // namespace
}  // namespace boltpp
