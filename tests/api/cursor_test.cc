// File: tests/api/cursor_test.cc
// Cursor: First/Last/Seek/Next/Prev, the newest edge semantics,
// deleting while iterating (boltpp skips no key), empty pages, buckets.
// Names follow bbolt's cursor_test.go.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "testutil/random.h"
#include "testutil/snapshot.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

class CursorTest : public DBTestBase {};

std::string K5(int i) {
  char b[16];
  snprintf(b, sizeof b, "%05d", i);
  return b;
}

// Keys U64Key(0) .. U64Key(n - 1), each with an empty value.
std::map<std::string, std::string> EmptyU64Keys(int n) {
  std::map<std::string, std::string> kvs;
  for (int i = 0; i < n; ++i) kvs[U64Key(i)] = "";
  return kvs;
}

std::optional<std::string> KeyOf(const std::optional<Entry>& e) {
  if (!e) return std::nullopt;
  return std::string(e->key);
}

TEST_F(CursorTest, Bucket) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    Cursor c = b->NewCursor();
    EXPECT_EQ(c.bucket().impl(), b->impl());
    return Status::OK();
  }));
}

TEST_F(CursorTest, Seek) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    BOLTPP_RETURN_IF_ERROR(b->Put("foo", "0001"));
    BOLTPP_RETURN_IF_ERROR(b->Put("bar", "0002"));
    BOLTPP_RETURN_IF_ERROR(b->Put("baz", "0003"));
    return b->CreateBucket("bkt").status();
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    Cursor c = tx.GetBucket("widgets").NewCursor();
    auto e = c.Seek("bar");
    EXPECT_EQ(KeyOf(e), "bar");
    if (e) {
      EXPECT_EQ(e->value, "0002");
    }
    e = c.Seek("bas");
    EXPECT_EQ(KeyOf(e), "baz") << "inexact match goes to the next key";
    if (e) {
      EXPECT_EQ(e->value, "0003");
    }
    EXPECT_EQ(KeyOf(c.Seek("")), "bar") << "low key goes to the first key";
    EXPECT_FALSE(c.Seek("zzz").has_value()) << "high key returns nothing";
    e = c.Seek("bkt");
    EXPECT_EQ(KeyOf(e), "bkt");
    if (e) {
      EXPECT_TRUE(e->is_bucket);
      EXPECT_TRUE(e->value.empty());
    }
    EXPECT_OK(c.status());
    return Status::OK();
  }));
}

// bbolt TestCursor_Delete, with boltpp's no-skip rule: deleting every key
// below the bound during a Next loop deletes exactly those keys.
TEST_F(CursorTest, Delete) {
  const int count = 1000;
  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    for (int i = 0; i < count; ++i)
      BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(i), std::string(100, '\0')));
    return b->CreateBucket("sub").status();
  }));
  ASSERT_OK(db()->Update([&](Tx& tx) {
    Cursor c = tx.GetBucket("widgets").NewCursor();
    const std::string bound = U64Key(count / 2);
    int deleted = 0;
    for (auto e = c.First(); e && std::string(e->key) < bound; e = c.Next()) {
      EXPECT_EQ(std::string(e->key), U64Key(deleted)) << "a key was skipped";
      EXPECT_OK(c.Delete());
      ++deleted;
    }
    EXPECT_EQ(deleted, count / 2);
    EXPECT_EQ(KeyOf(c.Seek("sub")), "sub");
    EXPECT_CODE(c.Delete(), Code::kIncompatibleValue);
    return Status::OK();
  }));
  ASSERT_OK(db()->View([&](Tx& tx) {
    EXPECT_EQ(tx.GetBucket("widgets").Stats().key_n, count / 2 + 1);
    EXPECT_FALSE(tx.GetBucket("widgets").Get(U64Key(count / 2 - 1)).has_value());
    EXPECT_TRUE(tx.GetBucket("widgets").Get(U64Key(count / 2)).has_value());
    return Status::OK();
  }));
}

// Deleting while iterating never skips a key, whichever keys are deleted,
// across leaf boundaries, forwards.
TEST_F(CursorTest, DeleteDuringIterationSkipsNothing) {
  for (int pattern = 0; pattern < 4; ++pattern) {
    SCOPED_TRACE("pattern " + std::to_string(pattern));
    const std::string name = "p" + std::to_string(pattern);
    ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucket(name);
      for (int i = 0; i < 2000; ++i)
        BOLTPP_RETURN_IF_ERROR(b->Put(K5(i), std::string(i % 97, 'v')));
      return Status::OK();
    }));
    std::vector<std::string> kept;
    ASSERT_OK(db()->Update([&](Tx& tx) {
      Cursor c = tx.GetBucket(name).NewCursor();
      int i = 0;
      Random rnd(pattern);
      for (auto e = c.First(); e; e = c.Next(), ++i) {
        EXPECT_EQ(std::string(e->key), K5(i)) << "visited out of order or skipped";
        if (std::string(e->key) != K5(i)) break;
        bool del = pattern == 0   ? true
                   : pattern == 1 ? i % 2 == 0
                   : pattern == 2 ? (i / 100) % 2 == 0
                                  : rnd.OneIn(3);
        if (del) {
          EXPECT_OK(c.Delete());
        } else {
          kept.push_back(K5(i));
        }
      }
      EXPECT_EQ(i, 2000);
      return Status::OK();
    }));
    std::vector<std::string> got;
    for (auto& [k, v] : ReadAll(db(), name)) got.push_back(k);
    EXPECT_EQ(got, kept);
  }
}

TEST_F(CursorTest, Seek_Large) {
  const int count = 10000;
  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    for (int i = 0; i < count; i += 100) {
      for (int j = i; j < i + 100; j += 2)
        BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(j), std::string(100, '\0')));
    }
    return Status::OK();
  }));
  ASSERT_OK(db()->View([&](Tx& tx) {
    Cursor c = tx.GetBucket("widgets").NewCursor();
    for (int i = 0; i < count; ++i) {
      auto e = c.Seek(U64Key(i));
      if (i == count - 1) {
        EXPECT_FALSE(e.has_value());
        continue;
      }
      EXPECT_TRUE(e.has_value()) << i;
      if (!e) break;
      uint64_t num = U64FromKey(std::string(e->key));
      EXPECT_EQ(num, static_cast<uint64_t>(i % 2 == 0 ? i : i + 1));
    }
    return Status::OK();
  }));
}

TEST_F(CursorTest, EmptyBucket) {
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.CreateBucket("widgets").status(); }));
  ASSERT_OK(db()->View([](Tx& tx) {
    Cursor c = tx.GetBucket("widgets").NewCursor();
    EXPECT_FALSE(c.First().has_value());
    EXPECT_FALSE(c.Last().has_value());
    EXPECT_FALSE(c.Next().has_value());
    EXPECT_FALSE(c.Prev().has_value());
    EXPECT_FALSE(c.Seek("a").has_value());
    EXPECT_OK(c.status());
    return Status::OK();
  }));
}

TEST_F(CursorTest, Iterate_Leaf) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    BOLTPP_RETURN_IF_ERROR(b->Put("baz", ""));
    BOLTPP_RETURN_IF_ERROR(b->Put("foo", std::string(1, '\0')));
    return b->Put("bar", std::string(1, '\1'));
  }));
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  Cursor c = tx.GetBucket("widgets").NewCursor();
  auto e = c.First();
  ASSERT_EQ(KeyOf(e), "bar");
  EXPECT_EQ(e->value, std::string(1, '\1'));
  e = c.Next();
  ASSERT_EQ(KeyOf(e), "baz");
  EXPECT_EQ(e->value, "");
  e = c.Next();
  ASSERT_EQ(KeyOf(e), "foo");
  EXPECT_EQ(e->value, std::string(1, '\0'));
  EXPECT_FALSE(c.Next().has_value());
  EXPECT_FALSE(c.Next().has_value());
}

TEST_F(CursorTest, LeafRootReverse) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    BOLTPP_RETURN_IF_ERROR(b->Put("baz", ""));
    BOLTPP_RETURN_IF_ERROR(b->Put("foo", std::string(1, '\0')));
    return b->Put("bar", std::string(1, '\1'));
  }));
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  Cursor c = tx.GetBucket("widgets").NewCursor();
  EXPECT_EQ(KeyOf(c.Last()), "foo");
  EXPECT_EQ(KeyOf(c.Prev()), "baz");
  EXPECT_EQ(KeyOf(c.Prev()), "bar");
  EXPECT_FALSE(c.Prev().has_value());
  EXPECT_FALSE(c.Prev().has_value());
}

TEST_F(CursorTest, Restart) {
  ASSERT_OK(PutAll(db(), "widgets", {{"bar", ""}, {"foo", ""}}));
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  Cursor c = tx.GetBucket("widgets").NewCursor();
  EXPECT_EQ(KeyOf(c.First()), "bar");
  EXPECT_EQ(KeyOf(c.Next()), "foo");
  EXPECT_EQ(KeyOf(c.First()), "bar");
  EXPECT_EQ(KeyOf(c.Next()), "foo");
}

// "Newest edge semantics" (bbolt TestCursor_RepeatOperations, #733).
class CursorRepeatTest : public DBTestBase {
 protected:
  void SetUp() override {
    DBTestBase::SetUp();
    ASSERT_OK(db()->Update([](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists("data");
      for (int i = 0; i < 1000; ++i) BOLTPP_RETURN_IF_ERROR(b->Put(K5(i), K5(i)));
      return Status::OK();
    }));
  }
};

TEST_F(CursorRepeatTest, NextPrevNext) {
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  Cursor c = tx.GetBucket("data").NewCursor();
  (void)c.First();
  ASSERT_EQ(KeyOf(c.Seek(K5(2))), K5(2));
  for (int i = 3; i < 1000; ++i) ASSERT_EQ(KeyOf(c.Next()), K5(i));
  for (int i = 0; i < 10; ++i) ASSERT_FALSE(c.Next().has_value());
  for (int i = 998; i >= 0; --i) ASSERT_EQ(KeyOf(c.Prev()), K5(i)) << "after Next ran off the end";
  for (int i = 0; i < 10; ++i) ASSERT_FALSE(c.Prev().has_value());
  for (int i = 1; i < 1000; ++i)
    ASSERT_EQ(KeyOf(c.Next()), K5(i)) << "after Prev ran off the start";
}

TEST_F(CursorRepeatTest, PrevNextPrev) {
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  Cursor c = tx.GetBucket("data").NewCursor();
  ASSERT_EQ(KeyOf(c.Seek(K5(998))), K5(998));
  for (int i = 997; i >= 0; --i) ASSERT_EQ(KeyOf(c.Prev()), K5(i));
  for (int i = 0; i < 10; ++i) ASSERT_FALSE(c.Prev().has_value());
  for (int i = 1; i < 1000; ++i) ASSERT_EQ(KeyOf(c.Next()), K5(i));
  for (int i = 0; i < 10; ++i) ASSERT_FALSE(c.Next().has_value());
  for (int i = 998; i >= 0; --i) ASSERT_EQ(KeyOf(c.Prev()), K5(i));
}

// The same edges inside a write transaction (nodes, not pages).
TEST_F(CursorRepeatTest, EdgesOnNodes) {
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
  Bucket b = tx.GetBucket("data");
  ASSERT_OK(b.Put(K5(500), "changed"));  // materializes a path of nodes
  ASSERT_OK(b.Put(K5(0), "changed"));
  ASSERT_OK(b.Put(K5(999), "changed"));
  Cursor c = b.NewCursor();
  EXPECT_EQ(KeyOf(c.First()), K5(0));
  EXPECT_FALSE(c.Prev().has_value());
  EXPECT_EQ(KeyOf(c.Next()), K5(1));
  EXPECT_EQ(KeyOf(c.Last()), K5(999));
  EXPECT_FALSE(c.Next().has_value());
  EXPECT_EQ(KeyOf(c.Prev()), K5(998));
  auto e = c.Seek(K5(500));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->value, "changed");
}

// bbolt TestCursor_First_EmptyPages / Last_EmptyPages: empty nodes left by
// deletes in the same transaction are skipped.
TEST_F(CursorTest, First_EmptyPages) {
  ASSERT_OK(PutAll(db(), "widgets", EmptyU64Keys(1000)));
  ASSERT_OK(db()->Update([](Tx& tx) {
    Bucket b = tx.GetBucket("widgets");
    for (int i = 0; i < 600; ++i) EXPECT_OK(b.Delete(U64Key(i)));
    Cursor c = b.NewCursor();
    int n = 0;
    for (auto e = c.First(); e; e = c.Next()) ++n;
    EXPECT_EQ(n, 400);
    EXPECT_EQ(KeyOf(c.First()), U64Key(600));
    EXPECT_EQ(KeyOf(c.Seek(U64Key(10))), U64Key(600)) << "seek into an emptied page moves on";
    return Status::OK();
  }));
}

TEST_F(CursorTest, Last_EmptyPages) {
  ASSERT_OK(PutAll(db(), "widgets", EmptyU64Keys(1000)));
  ASSERT_OK(db()->Update([](Tx& tx) {
    Bucket b = tx.GetBucket("widgets");
    for (int i = 200; i < 1000; ++i) EXPECT_OK(b.Delete(U64Key(i)));
    Cursor c = b.NewCursor();
    int n = 0;
    for (auto e = c.Last(); e; e = c.Prev()) ++n;
    EXPECT_EQ(n, 200);
    EXPECT_EQ(KeyOf(c.Last()), U64Key(199));
    EXPECT_FALSE(c.Seek(U64Key(500)).has_value());
    return Status::OK();
  }));
}

// Empty pages in the middle, both directions, and after the commit.
TEST_F(CursorTest, EmptyPagesInTheMiddle) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    for (int i = 0; i < 3000; ++i) BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(i), std::string(20, 'e')));
    return Status::OK();
  }));
  auto verify = [](Bucket b) {
    Cursor c = b.NewCursor();
    std::vector<uint64_t> fwd, bwd;
    for (auto e = c.First(); e; e = c.Next()) fwd.push_back(U64FromKey(std::string(e->key)));
    for (auto e = c.Last(); e; e = c.Prev()) bwd.push_back(U64FromKey(std::string(e->key)));
    std::reverse(bwd.begin(), bwd.end());
    EXPECT_EQ(fwd, bwd);
    ASSERT_EQ(fwd.size(), 1000u);
    for (size_t i = 0; i < 500; ++i) EXPECT_EQ(fwd[i], i);
    for (size_t i = 500; i < 1000; ++i) EXPECT_EQ(fwd[i], i + 2000);
    // Step across the gap both ways.
    EXPECT_EQ(KeyOf(c.Seek(U64Key(499))), U64Key(499));
    EXPECT_EQ(KeyOf(c.Next()), U64Key(2500));
    EXPECT_EQ(KeyOf(c.Prev()), U64Key(499));
    EXPECT_EQ(KeyOf(c.Seek(U64Key(1000))), U64Key(2500));
  };
  ASSERT_OK(db()->Update([&](Tx& tx) {
    Bucket b = tx.GetBucket("widgets");
    for (int i = 500; i < 2500; ++i) EXPECT_OK(b.Delete(U64Key(i)));
    verify(b);
    return Status::OK();
  }));
  ASSERT_OK(db()->View([&](Tx& tx) {
    verify(tx.GetBucket("widgets"));
    return Status::OK();
  }));
}

// Keys compare as unsigned bytes; a prefix sorts first.
TEST_F(CursorTest, ByteOrder) {
  const std::vector<std::string> keys = {std::string("\x00", 1),
                                         std::string("\x00\x00", 2),
                                         "A",
                                         "a",
                                         std::string("a\x00", 2),
                                         "ab",
                                         "b",
                                         "\x7f",
                                         "\x80",
                                         "\xff",
                                         "\xff\xff"};
  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    auto b = tx.CreateBucket("order");
    for (auto it = keys.rbegin(); it != keys.rend(); ++it) BOLTPP_RETURN_IF_ERROR(b->Put(*it, *it));
    return Status::OK();
  }));
  ASSERT_OK(db()->View([&](Tx& tx) {
    std::vector<std::string> got;
    Cursor c = tx.GetBucket("order").NewCursor();
    for (auto e = c.First(); e; e = c.Next()) got.emplace_back(e->key);
    EXPECT_EQ(got, keys);
    EXPECT_EQ(KeyOf(c.Seek("\x7f\xff")), "\x80");
    return Status::OK();
  }));
}

// Key order is bytewise (unsigned bytes, a prefix before its extensions),
// also where keys share a prefix of 7 to 31 bytes or end around a multiple
// of 8 (the comparison takes the first 32 bytes as 8-byte words). Half the keys are read
// back from pages, half from the writing transaction's nodes.
TEST_F(CursorTest, KeyOrderIsBytewise) {
  const uint64_t seed = SeedOr(77);
  RecordProperty("seed", std::to_string(seed));
  Random rnd(seed);
  const std::string alphabet("\x00\x01\x7f\x80\xfe\xff", 6);
  const std::vector<std::string> prefixes = {"",
                                             std::string(8, '\xff'),
                                             std::string("\x80\x00\x00\x00\x00\x00\x00", 7),
                                             "abcdefgh",
                                             "job-00000000",
                                             std::string(16, '\x80'),
                                             std::string(24, '\x01'),
                                             std::string(31, 'z')};
  std::set<std::string> keys;
  while (keys.size() < 2000) {
    std::string k = prefixes[rnd.Uniform(prefixes.size())];
    const size_t tail = rnd.Uniform(12);
    for (size_t i = 0; i < tail; i++) k += alphabet[rnd.Uniform(alphabet.size())];
    if (!k.empty()) keys.insert(k);
  }
  std::vector<std::string> order(keys.begin(), keys.end());
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  auto put_half = [&](size_t from, size_t to) {
    return db()->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists("k");
      BOLTPP_RETURN_IF_ERROR(b.status());
      for (size_t i = from; i < to; i++) BOLTPP_RETURN_IF_ERROR(b->Put(order[i], order[i]));
      return Status::OK();
    });
  };
  ASSERT_OK(put_half(0, order.size() / 2));
  ASSERT_OK(put_half(order.size() / 2, order.size()));
  ASSERT_OK(db()->View([&](Tx& tx) {
    Bucket b = tx.GetBucket("k");
    std::vector<std::string> got;
    Cursor c = b.NewCursor();
    for (auto e = c.First(); e; e = c.Next()) got.emplace_back(e->key);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), keys.begin(), keys.end())) << "seed " << seed;
    for (int probe = 0; probe < 500; probe++) {
      std::string k = order[rnd.Uniform(order.size())];
      if (rnd.OneIn(2)) k += alphabet[rnd.Uniform(alphabet.size())];  // often absent
      auto want = keys.lower_bound(k);
      EXPECT_EQ(KeyOf(c.Seek(k)),
                want == keys.end() ? std::nullopt : std::optional<std::string>(*want))
          << "seed " << seed;
      EXPECT_EQ(b.Get(k).has_value(), keys.count(k) == 1) << "seed " << seed;
    }
    return Status::OK();
  }));
}

// bbolt TestCursor_QuickCheck{,_Reverse}: random items, sorted iteration.
TEST_F(CursorTest, QuickCheck) {
  const uint64_t seed = SeedOr(2024);
  RecordProperty("seed", std::to_string(seed));
  Random rnd(seed);
  for (int round = 0; round < 5; ++round) {
    const std::string name = "q" + std::to_string(round);
    std::map<std::string, std::string> items;
    ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucket(name);
      const int n = 1 + static_cast<int>(rnd.Uniform(1000));
      for (int i = 0; i < n; ++i) {
        std::string k = rnd.Bytes(1 + rnd.Uniform(1024)), v = rnd.Bytes(rnd.Uniform(1024));
        items[k] = v;
        BOLTPP_RETURN_IF_ERROR(b->Put(k, v));
      }
      return Status::OK();
    }));
    ASSERT_OK(db()->View([&](Tx& tx) {
      Cursor c = tx.GetBucket(name).NewCursor();
      auto it = items.begin();
      for (auto e = c.First(); e; e = c.Next(), ++it) {
        if (it == items.end()) {
          ADD_FAILURE() << "too many items";
          break;
        }
        EXPECT_EQ(std::string(e->key), it->first);
        EXPECT_EQ(std::string(e->value), it->second);
      }
      EXPECT_TRUE(it == items.end()) << "seed " << seed;
      auto rit = items.rbegin();
      for (auto e = c.Last(); e; e = c.Prev(), ++rit) {
        if (rit == items.rend()) {
          ADD_FAILURE() << "too many items (reverse)";
          break;
        }
        EXPECT_EQ(std::string(e->key), rit->first);
      }
      EXPECT_TRUE(rit == items.rend()) << "seed " << seed;
      return Status::OK();
    }));
  }
}

// bbolt TestCursor_QuickCheck_BucketsOnly{,_Reverse}.
TEST_F(CursorTest, BucketsOnly) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    for (const char* n : {"foo", "bar", "baz"}) BOLTPP_RETURN_IF_ERROR(b->CreateBucket(n));
    return Status::OK();
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    Cursor c = tx.GetBucket("widgets").NewCursor();
    std::vector<std::string> fwd, bwd;
    for (auto e = c.First(); e; e = c.Next()) {
      fwd.emplace_back(e->key);
      EXPECT_TRUE(e->is_bucket);
      EXPECT_TRUE(e->value.empty());
    }
    for (auto e = c.Last(); e; e = c.Prev()) bwd.emplace_back(e->key);
    EXPECT_EQ(fwd, (std::vector<std::string>{"bar", "baz", "foo"}));
    EXPECT_EQ(bwd, (std::vector<std::string>{"foo", "baz", "bar"}));
    return Status::OK();
  }));
}

// A cursor sees the transaction's own uncommitted writes.
TEST_F(CursorTest, SeesOwnWrites) {
  ASSERT_OK(PutAll(db(), "w", {{"b", "1"}, {"d", "2"}}));
  ASSERT_OK(db()->Update([](Tx& tx) {
    Bucket b = tx.GetBucket("w");
    EXPECT_OK(b.Put("a", "0"));
    EXPECT_OK(b.Put("c", "x"));
    EXPECT_OK(b.Delete("d"));
    EXPECT_OK(b.CreateBucket("e"));
    Cursor c = b.NewCursor();
    std::vector<std::string> got;
    for (auto e = c.First(); e; e = c.Next()) got.emplace_back(e->key);
    EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "c", "e"}));
    return Status::OK();
  }));
}

// ---- Cursor::Put, and searches that start from the cursor's position ----

TEST_F(CursorTest, PutLeavesTheCursorOnTheKey) {
  ASSERT_OK(PutAll(db(), "w", {{"b", "1"}, {"d", "2"}}));
  ASSERT_OK(db()->Update([](Tx& tx) {
    Cursor c = tx.GetBucket("w").NewCursor();
    EXPECT_OK(c.Put("c", "3"));
    EXPECT_EQ(KeyOf(c.Next()), "d");
    EXPECT_OK(c.Put("a", "0"));
    EXPECT_EQ(KeyOf(c.Next()), "b");
    EXPECT_OK(c.Put("b", "replaced"));
    EXPECT_EQ(KeyOf(c.Prev()), "a");
    return Status::OK();
  }));
  EXPECT_EQ(ReadAll(db(), "w"), (std::map<std::string, std::string>{
                                    {"a", "0"}, {"b", "replaced"}, {"c", "3"}, {"d", "2"}}));
}

TEST_F(CursorTest, PutRefusesWhatBucketPutRefuses) {
  ASSERT_OK(PutAll(db(), "w", {{"a", "1"}}));
  ASSERT_OK(db()->Update([](Tx& tx) {
    Bucket b = tx.GetBucket("w");
    EXPECT_OK(b.CreateBucket("sub"));
    Cursor c = b.NewCursor();
    EXPECT_CODE(c.Put("", "v"), Code::kKeyRequired);
    EXPECT_CODE(c.Put(std::string(kMaxKeySize + 1, 'k'), "v"), Code::kKeyTooLarge);
    EXPECT_CODE(c.Put("sub", "v"), Code::kIncompatibleValue);
    EXPECT_OK(c.Put("b", "2"));  // a refused Put leaves the cursor usable
    return Status::OK();
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    Cursor c = tx.GetBucket("w").NewCursor();
    EXPECT_CODE(c.Put("c", "3"), Code::kTxNotWritable);
    return Status::OK();
  }));
  auto tx = db()->Begin(true);
  ASSERT_OK(tx);
  Cursor c = tx->GetBucket("w").NewCursor();
  ASSERT_OK(tx->Rollback());
  EXPECT_CODE(c.Put("c", "3"), Code::kTxClosed);
  EXPECT_CODE(Cursor().Put("c", "3"), Code::kBucketNotFound);
  EXPECT_EQ(ReadAll(db(), "w"),
            (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}, {"sub", "<bucket>"}}));
}

// A cursor's Seek and Put search from where it stands when nothing changed
// the trees since; any other change makes them start from the root. Every
// answer is checked against a std::map: ascending runs of Seek + Put (the
// fast path), backward jumps, Next/Prev, Bucket::Put/Delete and another
// cursor's Puts in between (which must invalidate the stack), Cursor::Delete,
// and runs long enough to split nodes in memory. 1 KiB pages make the trees
// four and five levels deep.
class CursorPutModelTest : public DBTestBase {
 protected:
  Options MakeOptions() override {
    Options o = TestOptions();
    o.page_size = 1024;
    return o;
  }
};

TEST_F(CursorPutModelTest, SeeksAndPutsMatchAModel) {
  const uint64_t seed = SeedOr(20261201);
  std::cout << "[cursor put model] seed=" << seed << std::endl;
  Random rnd(seed);
  std::map<std::string, std::string> model;
  auto key = [&](uint64_t n) { return U64Key(n * 7); };  // gaps: seeks land between keys
  auto expect_at = [&](const std::optional<Entry>& e,
                       std::map<std::string, std::string>::const_iterator it, const char* what) {
    if (it == model.end()) {
      EXPECT_FALSE(e.has_value()) << what << " past the end, seed " << seed;
      return;
    }
    ASSERT_TRUE(e.has_value()) << what << " expected " << Hex(it->first) << ", seed " << seed;
    EXPECT_EQ(std::string(e->key), it->first) << what << ", seed " << seed;
    EXPECT_EQ(std::string(e->value), it->second) << what << ", seed " << seed;
  };
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.CreateBucket("b").status(); }));
  for (int txn = 0; txn < 12; txn++) {
    const bool commit = !rnd.OneIn(5);
    std::map<std::string, std::string> before = model;
    auto tx = db()->Begin(true);
    ASSERT_OK(tx);
    Bucket bucket = tx->GetBucket("b");
    Cursor c = bucket.NewCursor();
    Cursor other = bucket.NewCursor();
    std::optional<std::string> at;        // the cursor's key, when it is on one
    const int ops = txn == 3 ? 8 : 1500;  // transaction 3: long runs (in-memory splits)
    for (int op = 0; op < ops && !HasFailure(); op++) {
      const uint64_t r = rnd.Uniform(100);
      if (r < 55) {
        // An ascending run of Seek then Put, as a sorted merge does.
        uint64_t n = rnd.Uniform(40000);
        const int run = 1 + static_cast<int>(rnd.Uniform(txn == 3 ? 3000 : 60));
        for (int i = 0; i < run && !HasFailure(); i++, n += 1 + rnd.Uniform(txn == 3 ? 2 : 30)) {
          const std::string k = key(n) + (rnd.OneIn(4) ? "x" : "");
          auto it = model.lower_bound(k);
          expect_at(c.Seek(k), it, "seek in a run");
          at = it == model.end() ? std::nullopt : std::optional<std::string>(it->first);
          if (rnd.OneIn(5)) continue;  // a seek without a put
          const std::string v = rnd.Printable(rnd.Uniform(40));
          ASSERT_OK(c.Put(k, v));
          model[k] = v;
          at = k;
        }
      } else if (r < 65) {
        const std::string k = key(rnd.Uniform(40000));  // anywhere, often backwards
        auto it = model.lower_bound(k);
        expect_at(c.Seek(k), it, "seek");
        at = it == model.end() ? std::nullopt : std::optional<std::string>(it->first);
      } else if (r < 75 && at) {
        const bool next = rnd.OneIn(2);
        auto it = model.find(*at);
        ASSERT_NE(it, model.end());
        if (next) {
          ++it;
          expect_at(c.Next(), it, "next");
          if (it != model.end()) at = it->first;
        } else if (it != model.begin()) {
          --it;
          expect_at(c.Prev(), it, "prev");
          at = it->first;
        }
      } else if (r < 83) {
        // A write that does not go through c: c's next search starts over
        // (and, as in bbolt, Next/Prev wait for a new Seek).
        at.reset();
        const std::string k = key(rnd.Uniform(40000));
        if (rnd.OneIn(2)) {
          ASSERT_OK(bucket.Put(k, "bucket"));
          model[k] = "bucket";
        } else if (rnd.OneIn(2)) {
          ASSERT_OK(bucket.Delete(k));
          model.erase(k);
        } else {
          ASSERT_OK(other.Put(k, "other"));
          model[k] = "other";
        }
      } else if (r < 88 && at) {
        ASSERT_OK(c.Delete());
        const std::string gone = *at;
        model.erase(gone);
        auto it = model.upper_bound(gone);
        expect_at(c.Next(), it, "next after delete");
        at = it == model.end() ? std::nullopt : std::optional<std::string>(it->first);
      } else {
        const std::string k = key(rnd.Uniform(40000));
        auto it = model.find(k);
        EXPECT_EQ(Str(bucket.Get(k)),
                  it == model.end() ? std::nullopt : std::optional<std::string>(it->second))
            << "get, seed " << seed;
      }
    }
    EXPECT_OK(c.status());
    if (commit) {
      ASSERT_OK(tx->Commit());
    } else {
      ASSERT_OK(tx->Rollback());
      model = before;
    }
    tdb().MustCheck();
    // A reader's ascending seeks take the fast path every time.
    ASSERT_OK(db()->View([&](Tx& rtx) {
      Cursor rc = rtx.GetBucket("b").NewCursor();
      for (uint64_t n = rnd.Uniform(50); n < 40000 && !HasFailure(); n += 1 + rnd.Uniform(100)) {
        expect_at(rc.Seek(key(n)), model.lower_bound(key(n)), "reader's seek");
      }
      EXPECT_EQ(ReadAll(db(), "b").size(), model.size());
      return Status::OK();
    }));
    ASSERT_FALSE(HasFailure()) << "seed " << seed;
  }
  EXPECT_EQ(ReadAll(db(), "b"), model);
}

}  // namespace
}  // namespace boltpp::testing
