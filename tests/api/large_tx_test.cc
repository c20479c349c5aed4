// File: tests/api/large_tx_test.cc
// Large single transactions: boltpp splits a node in memory once it holds
// more than 256 entries and 8 pages of data (src/format/page.h; bbolt never
// splits before commit, so its random bulk inserts are quadratic).
//
// The story of the first bug here: a bucket's first child kept receiving keys
// smaller than the key its parent files it under; when it split, the right
// half's first key could equal that stale key, the parent's Put replaced the
// left half's entry, and the commit wrote a page referenced twice ("page N:
// multiple references") with ~0.1% of 1,000,000 keys missing. The fix drops
// the child's entry key to its first key before splitting.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "testutil/fault_fs.h"
#include "testutil/random.h"
#include "testutil/raw_file.h"
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

// A key-order load splits in memory at bbolt's spill cuts and merges the
// split-off pieces into their parent in one pass: every key is there, in
// order, and the leaves are as full as the fill percent asks.
TEST_F(LargeTxTest, KeyOrderLoadFillsPagesAsOneSpill) {
  constexpr int kKeys = 60000;
  for (double fill : {0.5, 1.0}) {
    const std::string name = fill == 1.0 ? "full" : "half";
    ASSERT_TRUE(db()->Update([&](Tx& tx) {
                      auto b = tx.CreateBucket(name);
                      if (!b.ok()) return b.status();
                      b->SetFillPercent(fill);
                      for (int i = 0; i < kKeys; i++) {
                        char key[16];
                        std::snprintf(key, sizeof key, "%010d", i);
                        if (Status s = b->Put(key, std::string(100, 'v')); !s.ok()) return s;
                      }
                      return Status::OK();
                    })
                    .ok());
    const auto got = ReadBucket(db(), name);
    ASSERT_EQ(got.size(), size_t{kKeys});
    int i = 0;
    for (const auto& [k, v] : got) {
      char key[16];
      std::snprintf(key, sizeof key, "%010d", i++);
      ASSERT_EQ(k, key);
      ASSERT_EQ(v.size(), 100u);
    }
    ASSERT_TRUE(db()->View([&](Tx& tx) {
                      const BucketStats st = tx.GetBucket(name).Stats();
                      const double used =
                          static_cast<double>(st.leaf_inuse) / static_cast<double>(st.leaf_alloc);
                      // bbolt's rule fills each page but the last of a node to
                      // the fill percent (and one more element).
                      EXPECT_GT(used, fill * 0.95) << name;
                      EXPECT_EQ(st.key_n, kKeys);
                      return Status::OK();
                    })
                    .ok());
  }
}

// Puts past the last key of the tree skip the descent when the last put
// landed in the rightmost leaf (BucketImpl::AppendLeaf). Appends are mixed
// here with what can make that hint stale: puts and deletes before the end,
// deleting or replacing the last key, a nested bucket at the end, in-memory
// splits (a new root, a new right leaf) and later transactions that read the
// path back from pages. Every key lands where a descent puts it: the
// contents match a model, and the commit's check passes.
TEST_F(LargeTxTest, AppendsPastTheRightEdgeMixedWithOtherChangesMatchAModel) {
  const uint64_t seed = SeedOr(20261130);
  std::printf("seed %llu (BOLTPP_SEED to replay)\n", static_cast<unsigned long long>(seed));
  Random rnd(seed);
  std::map<std::string, std::string> model;
  uint64_t next = 1000;  // appended keys: U64Key(next) plus a random suffix
  for (int txn = 0; txn < 6; txn++) {
    ASSERT_TRUE(db()->Update([&](Tx& tx) -> Status {
                      auto b = tx.CreateBucketIfNotExists("edge");
                      BOLTPP_RETURN_IF_ERROR(b);
                      const int puts = txn == 2 ? 30000 : 4000;  // 30,000: splits in memory
                      for (int i = 0; i < puts; i++) {
                        std::string key = U64Key(next++) + rnd.Bytes(rnd.Uniform(3));
                        std::string value = rnd.Bytes(rnd.Uniform(24));
                        if (rnd.OneIn(50)) {
                          // Before the end: a key below the appended ones.
                          key = U64Key(rnd.Uniform(next)) + "x";
                        } else if (rnd.OneIn(200) && !model.empty()) {
                          // The last key again (replaced, not appended).
                          key = model.rbegin()->first;
                        }
                        BOLTPP_RETURN_IF_ERROR(b->Put(key, value));
                        model[key] = value;
                        if (rnd.OneIn(100) && !model.empty()) {
                          // Delete the last key, or one at random.
                          auto it = rnd.OneIn(2) ? std::prev(model.end())
                                                 : model.lower_bound(U64Key(rnd.Uniform(next)));
                          if (it == model.end()) continue;
                          BOLTPP_RETURN_IF_ERROR(b->Delete(it->first));
                          model.erase(it);
                        }
                      }
                      // A nested bucket past the last key: a put of its name
                      // is refused, a put past it is an append.
                      const std::string name = U64Key(next++);
                      BOLTPP_RETURN_IF_ERROR(b->CreateBucket(name));
                      if (Status s = b->Put(name, "v"); s.code() != Code::kIncompatibleValue)
                        return Status(Code::kInvalidArgument, "put over a bucket: " + s.ToString());
                      BOLTPP_RETURN_IF_ERROR(b->DeleteBucket(name));
                      return Status::OK();
                    })
                    .ok());
    tdb().MustCheck();
  }
  EXPECT_EQ(ReadBucket(db(), "edge"), model);

  // A rolled-back transaction of appends leaves nothing behind.
  Status s = db()->Update([&](Tx& tx) {
    Bucket b = tx.GetBucket("edge");
    for (int i = 0; i < 5000; i++) {
      if (Status p = b.Put(U64Key(next + static_cast<uint64_t>(i)), "rolled back"); !p.ok())
        return p;
    }
    return Status(Code::kAborted, "roll back on purpose");
  });
  EXPECT_EQ(s.code(), Code::kAborted);
  ASSERT_TRUE(tdb().Reopen());
  EXPECT_EQ(ReadBucket(db(), "edge"), model);
}

// Nodes hold views into the map for every element a transaction did not
// change. A commit whose first bucket grows the file (and so the map) spills
// the next bucket's many modified nodes after the remap: their views into
// the old map must stay valid (run this under ASan too).
TEST_F(LargeTxTest, GrowsTheMapMidCommitWithManyModifiedNodes) {
  constexpr int kKeys = 30000;
  auto key_of = [](int i) {
    char key[16];
    std::snprintf(key, sizeof key, "key-%08d", i);
    return std::string(key);
  };
  ASSERT_TRUE(db()->Update([&](Tx& tx) {
                    auto b = tx.CreateBucket("z-data");
                    if (!b.ok()) return b.status();
                    for (int i = 0; i < kKeys; i++) {
                      if (Status s = b->Put(key_of(i), std::string(40, 'o')); !s.ok()) return s;
                    }
                    return tx.CreateBucket("a-big").status();
                  })
                  .ok());
  ASSERT_TRUE(tdb().Reopen());
  const uint64_t size_before = std::filesystem::file_size(tdb().path());
  std::map<std::string, std::string> model = ReadBucket(db(), "z-data");
  ASSERT_TRUE(db()->Update([&](Tx& tx) {
                    Bucket data = tx.GetBucket("z-data");
                    // Every leaf gets a changed key; the rest stay views into the map.
                    for (int i = 0; i < kKeys; i += 7) {
                      const std::string v = "new-" + std::to_string(i);
                      if (Status s = data.Put(key_of(i), v); !s.ok()) return s;
                      model[key_of(i)] = v;
                    }
                    Bucket big = tx.GetBucket("a-big");
                    for (int i = 0; i < 64; i++) {
                      if (Status s = big.Put(key_of(i), std::string(512 << 10, 'b')); !s.ok())
                        return s;
                    }
                    return Status::OK();
                  })
                  .ok());
  EXPECT_GT(std::filesystem::file_size(tdb().path()), size_before * 8)
      << "the commit must grow the file (and remap) while spilling";
  EXPECT_EQ(ReadBucket(db(), "z-data"), model);
  tdb().MustCheck();
  ASSERT_TRUE(tdb().Reopen());
  EXPECT_EQ(ReadBucket(db(), "z-data"), model);
}

// A commit stages its new pages in the DB's write buffer (1 MiB) and writes
// them out whenever it fills, while the spill is still running. A write
// that fails there, at any point, fails the commit and leaves the database
// exactly as the last commit left it, usable by the same handle.
TEST(LargeTxFaultTest, WriteFailsWhileTheSpillFlushesTheWriteBuffer) {
  constexpr int kBase = 2000, kKeys = 20000;
  auto key_of = [](int i) {
    char key[24];
    std::snprintf(key, sizeof key, "key-%010d", (i * 7919) % 1000003);
    return std::string(key);
  };
  auto load = [&](DB* db, std::map<std::string, std::string>* model) {
    return db->Update([&](Tx& tx) {
      auto b = tx.CreateBucketIfNotExists("data");
      if (!b.ok()) return b.status();
      for (int i = kBase; i < kBase + kKeys; i++) {
        const std::string v(150 + i % 50, static_cast<char>('a' + i % 26));
        if (Status s = b->Put(key_of(i), v); !s.ok()) return s;
        if (model) (*model)[key_of(i)] = v;
      }
      for (int i = 0; i < kBase; i += 3) {
        if (Status s = b->Delete(key_of(i)); !s.ok()) return s;
        if (model) model->erase(key_of(i));
      }
      return Status::OK();
    });
  };
  int failed_commits = 0;
  for (int n = 1; n < 200; n++) {
    SCOPED_TRACE("failing write #" + std::to_string(n));
    FaultFileSystem fs;
    Options o = TestOptions();
    o.file_system = &fs;
    TestDB t(o);
    ASSERT_TRUE(t.Open());
    std::map<std::string, std::string> base;
    ASSERT_TRUE(t.db()
                    ->Update([&](Tx& tx) {
                      auto b = tx.CreateBucket("data");
                      if (!b.ok()) return b.status();
                      for (int i = 0; i < kBase; i++) {
                        if (Status s = b->Put(key_of(i), "base"); !s.ok()) return s;
                        base[key_of(i)] = "base";
                      }
                      return Status::OK();
                    })
                    .ok());
    FaultInjector& inj = fs.injector();
    inj.set_recording(true);
    inj.ClearEvents();
    inj.ResetCounts();
    inj.FailNth(FaultOp::kWrite, n);
    std::map<std::string, std::string> model = base;
    Status s = load(t.db(), &model);
    const bool fired = inj.injected(FaultOp::kWrite) > 0;
    const std::vector<FaultEvent> events = inj.events();
    inj.ClearAll();
    inj.set_recording(false);
    if (!fired) {
      ASSERT_TRUE(s.ok()) << s.ToString();
      // The pages went out in buffer-sized writes, several of them.
      int data_writes = 0;
      for (const FaultEvent& ev : events) {
        if (ev.op != FaultOp::kWrite || ev.offset < 2 * 4096) continue;
        data_writes++;
        EXPECT_LE(ev.length, size_t{1} << 20);
      }
      EXPECT_GE(data_writes, 4);
      EXPECT_GE(failed_commits, 4);
      EXPECT_EQ(ReadBucket(t.db(), "data"), model);
      t.MustCheck();
      ASSERT_TRUE(t.Reopen());
      EXPECT_EQ(ReadBucket(t.db(), "data"), model);
      return;
    }
    EXPECT_FALSE(s.ok());
    const std::vector<FaultEvent> injected = inj.injected_events();
    if (!injected.empty() && injected.back().offset < 2 * 4096) continue;  // the meta write
    failed_commits++;
    // A data page write failed: the commit is rolled back and the handle
    // still works.
    EXPECT_EQ(ReadBucket(t.db(), "data"), base);
    t.MustCheck();
    std::map<std::string, std::string> retried = base;
    ASSERT_TRUE(load(t.db(), &retried).ok());
    EXPECT_EQ(ReadBucket(t.db(), "data"), retried);
    ASSERT_TRUE(t.Reopen());
    EXPECT_EQ(ReadBucket(t.db(), "data"), retried);
  }
  FAIL() << "the commit kept failing";
}

// Page buffers are reused across commits without being cleared first: each
// page's bytes past its elements, keys and values must still reach the file
// as zeros (bbolt's files carry no stale memory). Commits of long values
// fill the write buffer with non-zero bytes; then shorter ones rewrite
// every page; every branch, leaf and freelist page is checked byte by byte.
TEST_F(LargeTxTest, UnusedPageBytesAreWrittenAsZeros) {
  constexpr uint32_t kPS = 4096;
  for (size_t len : {1500, 700, 90, 3}) {
    ASSERT_TRUE(db()->Update([&](Tx& tx) {
                      auto b = tx.CreateBucketIfNotExists("data");
                      if (!b.ok()) return b.status();
                      for (int i = 0; i < 3000; i++) {
                        char key[16];
                        std::snprintf(key, sizeof key, "k%06d", (i * 37) % 3000);
                        if (Status s = b->Put(key, std::string(len + i % 7, '\xAB')); !s.ok())
                          return s;
                      }
                      return Status::OK();
                    })
                    .ok());
  }
  tdb().Close();
  const std::string file = ReadFileBytes(tdb().path());
  int checked = 0;
  for (uint64_t off = 2 * kPS; off + kPS <= file.size(); off += kPS) {
    const std::string_view page(file.data() + off, kPS);
    const uint16_t flags = LoadLE<uint16_t>(page, 8);
    const uint16_t count = LoadLE<uint16_t>(page, 10);
    const uint32_t overflow = LoadLE<uint32_t>(page, 12);
    if (LoadLE<uint64_t>(page, 0) != off / kPS || overflow != 0) continue;
    size_t end = 16;
    if (flags == 0x02 || flags == 0x01) {  // leaf, branch: elements then data
      end = 16 + 16 * size_t{count};
      for (size_t i = 0; i < count; i++) {
        const size_t e = 16 + 16 * i;
        const size_t pos = LoadLE<uint32_t>(page, e + (flags == 0x02 ? 4 : 0));
        const size_t ksize = LoadLE<uint32_t>(page, e + (flags == 0x02 ? 8 : 4));
        const size_t vsize = flags == 0x02 ? LoadLE<uint32_t>(page, e + 12) : 0;
        end = std::max(end, e + pos + ksize + vsize);
      }
    } else if (flags == 0x10 && count < 0xFFFF) {  // freelist: the ids
      end = 16 + 8 * size_t{count};
    } else {
      continue;
    }
    ASSERT_LE(end, page.size()) << "page " << off / kPS;
    for (size_t b = end; b < page.size(); b++) {
      ASSERT_EQ(page[b], '\0') << "page " << off / kPS << " byte " << b << " of " << end;
    }
    checked++;
  }
  EXPECT_GT(checked, 50);
  ASSERT_TRUE(tdb().Open());
}

}  // namespace
}  // namespace boltpp::testing
