// File: tests/api/tx_test.cc
// Tx: commit, rollback, closed and read-only errors, ids, Size, OnCommit,
// hot backups (WriteTo / CopyFile), Check, Inspect, Page. Names follow
// bbolt's tx_test.go.
#include <gtest/gtest.h>

#include <atomic>
#include <fcntl.h>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include "testutil/random.h"
#include "testutil/raw_file.h"
#include "testutil/snapshot.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

class TxTest : public DBTestBase {};

// A few commits that leave free pages behind.
Status db_helpers_fill(DB* db) {
  BOLTPP_RETURN_IF_ERROR(db->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("b");
    BOLTPP_RETURN_IF_ERROR(b);
    for (uint64_t i = 0; i < 300; ++i)
      BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(i), std::string(100, 'f')));
    return Status::OK();
  }));
  return db->Update([](Tx& tx) -> Status {
    Bucket b = tx.GetBucket("b");
    for (uint64_t i = 0; i < 300; i += 2) BOLTPP_RETURN_IF_ERROR(b.Delete(U64Key(i)));
    return Status::OK();
  });
}

TEST_F(TxTest, Commit) {
  {
    ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
    EXPECT_TRUE(tx.Writable());
    ASSERT_OK(tx.CreateBucket("widgets"));
    ASSERT_OK(tx.GetBucket("widgets").Put("foo", "bar"));
    ASSERT_OK(tx.Commit());
  }
  EXPECT_EQ(ReadAll(db(), "widgets"), (std::map<std::string, std::string>{{"foo", "bar"}}));
}

TEST_F(TxTest, Commit_ErrTxClosed) {
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
  ASSERT_OK(tx.CreateBucket("foo"));
  ASSERT_OK(tx.Commit());
  EXPECT_CODE(tx.Commit(), Code::kTxClosed);
  EXPECT_CODE(tx.Rollback(), Code::kTxClosed);
  EXPECT_CODE(tx.CreateBucket("bar"), Code::kTxClosed);
  EXPECT_CODE(tx.CreateBucketIfNotExists("bar"), Code::kTxClosed);
  EXPECT_CODE(tx.DeleteBucket("foo"), Code::kTxClosed);
}

TEST_F(TxTest, Rollback_ErrTxClosed) {
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
  ASSERT_OK(tx.Rollback());
  EXPECT_CODE(tx.Rollback(), Code::kTxClosed);
  EXPECT_CODE(tx.Commit(), Code::kTxClosed);
  ASSERT_OK_AND_ASSIGN(Tx rtx, db()->Begin(false));
  ASSERT_OK(rtx.Rollback());
  EXPECT_CODE(rtx.Rollback(), Code::kTxClosed);
}

TEST_F(TxTest, Commit_ErrTxNotWritable) {
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  EXPECT_FALSE(tx.Writable());
  EXPECT_CODE(tx.Commit(), Code::kTxNotWritable);
  // A failed commit of a read-only transaction leaves it usable.
  ASSERT_OK(tx.Rollback());
}

TEST_F(TxTest, ReadOnlyTxRefusesWrites) {
  ASSERT_OK(PutAll(db(), "widgets", {{"a", "1"}}));
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  EXPECT_CODE(tx.CreateBucket("foo"), Code::kTxNotWritable);
  EXPECT_CODE(tx.CreateBucketIfNotExists("foo"), Code::kTxNotWritable);
  EXPECT_CODE(tx.DeleteBucket("widgets"), Code::kTxNotWritable);
  Bucket b = tx.GetBucket("widgets");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b.Writable());
  EXPECT_CODE(b.Put("a", "2"), Code::kTxNotWritable);
  EXPECT_CODE(b.Delete("a"), Code::kTxNotWritable);
  EXPECT_CODE(b.CreateBucket("x"), Code::kTxNotWritable);
  EXPECT_CODE(b.SetSequence(3), Code::kTxNotWritable);
  EXPECT_CODE(b.NextSequence(), Code::kTxNotWritable);
  Cursor c = b.NewCursor();
  ASSERT_TRUE(c.First());
  EXPECT_CODE(c.Delete(), Code::kTxNotWritable);
  EXPECT_EQ(Str(b.Get("a")), "1");
}

// The destructor of an open Tx rolls back and releases the writer lock.
TEST_F(TxTest, RollbackOnDestruction) {
  {
    ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
    ASSERT_OK(tx.CreateBucket("ghost"));
  }
  {
    // Would block forever if the writer lock were still held.
    ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
    EXPECT_FALSE(tx.GetBucket("ghost"));
    ASSERT_OK(tx.CreateBucket("real"));
    ASSERT_OK(tx.Commit());
  }
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_FALSE(tx.GetBucket("ghost"));
    EXPECT_TRUE(tx.GetBucket("real"));
    return Status::OK();
  }));
}

TEST_F(TxTest, MoveKeepsTransaction) {
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
  ASSERT_OK(tx.CreateBucket("a"));
  Tx moved = std::move(tx);
  EXPECT_FALSE(static_cast<bool>(tx));  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(static_cast<bool>(moved));
  ASSERT_OK(moved.Commit());
  ASSERT_OK(db()->View([](Tx& t) {
    EXPECT_TRUE(t.GetBucket("a"));
    return Status::OK();
  }));
}

// docs/design.md "Transactions and concurrency": a reader gets the meta's
// txid, a writer txid + 1; a rolled-back writer's id is reused.
TEST_F(TxTest, IDs) {
  EXPECT_EQ(CurrentTxid(db()), 1u);
  {
    ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
    EXPECT_EQ(tx.ID(), 2u);
    ASSERT_OK(tx.Rollback());
  }
  {
    ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
    EXPECT_EQ(tx.ID(), 2u) << "the rolled-back id is reused";
    ASSERT_OK(tx.CreateBucket("a"));
    ASSERT_OK(tx.Commit());
  }
  EXPECT_EQ(CurrentTxid(db()), 2u);
  ASSERT_OK(db()->Update([](Tx& tx) {
    EXPECT_EQ(tx.ID(), 3u);
    return Status::OK();
  }));
  EXPECT_EQ(CurrentTxid(db()), 3u) << "an empty commit still consumes a txid";
  // A failing Update rolls back: its id is reused.
  EXPECT_CODE(db()->Update([](Tx&) { return Status(Code::kAborted, "no"); }), Code::kAborted);
  EXPECT_EQ(CurrentTxid(db()), 3u);
}

TEST_F(TxTest, Size) {
  ASSERT_OK_AND_ASSIGN(Tx r, db()->Begin(false));
  EXPECT_EQ(r.Size(), 4 * 4096);
  ASSERT_OK(r.Rollback());
  ASSERT_OK(db()->Update([](Tx& tx) {
    EXPECT_EQ(tx.Size(), 4 * 4096);
    return tx.CreateBucket("a").status();
  }));
  ASSERT_OK_AND_ASSIGN(Tx r2, db()->Begin(false));
  EXPECT_EQ(r2.Size(), 6 * 4096);
}

TEST_F(TxTest, DBHandle) {
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  EXPECT_EQ(tx.db(), db());
  EXPECT_OK(tx.status());
}

TEST_F(TxTest, OnCommit) {
  int x = 0;
  ASSERT_OK(db()->Update([&](Tx& tx) {
    tx.OnCommit([&] { x += 1; });
    tx.OnCommit([&] { x += 2; });
    EXPECT_EQ(x, 0) << "handlers run after the commit";
    return tx.CreateBucket("foo").status();
  }));
  EXPECT_EQ(x, 3);
}

TEST_F(TxTest, OnCommit_Rollback) {
  int x = 0;
  EXPECT_CODE(db()->Update([&](Tx& tx) {
    tx.OnCommit([&] { x += 1; });
    return Status(Code::kAborted, "rollback this commit");
  }),
              Code::kAborted);
  EXPECT_EQ(x, 0);
  {
    ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
    tx.OnCommit([&] { x += 1; });
    ASSERT_OK(tx.Rollback());
  }
  EXPECT_EQ(x, 0);
}

// Update returns fn's error and rolls back (bbolt TestDB_Update_Closed / _ManualCommit).
TEST_F(TxTest, UpdateErrorRollsBack) {
  Status s = db()->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    if (!b.ok()) return b.status();
    return Status(Code::kInvalidArgument, "marker");
  });
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.ToString().find("marker"), std::string::npos) << s.ToString();
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_FALSE(tx.GetBucket("widgets"));
    return Status::OK();
  }));
}

// bbolt TestDB_Update_Panic: a throwing fn rolls back and the DB stays usable.
TEST_F(TxTest, UpdateThrows) {
  bool threw = false;
  Status s;
  try {
    s = db()->Update([](Tx& tx) -> Status {
      EXPECT_OK(tx.CreateBucket("widgets"));
      throw std::runtime_error("omg");
    });
  } catch (const std::runtime_error&) {
    threw = true;
  }
  EXPECT_TRUE(threw || !s.ok()) << "a throwing callback must not look like a successful commit";
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.CreateBucket("other").status(); }));
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_FALSE(tx.GetBucket("widgets"));
    EXPECT_TRUE(tx.GetBucket("other"));
    return Status::OK();
  }));
}

TEST_F(TxTest, ViewReturnsError) {
  EXPECT_CODE(db()->View([](Tx&) { return Status(Code::kAborted, "view failed"); }),
              Code::kAborted);
  // View never commits.
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_CODE(tx.CreateBucket("x"), Code::kTxNotWritable);
    return Status::OK();
  }));
}

TEST_F(TxTest, ForEachAndRootCursor) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    for (const char* n : {"c", "a", "b"}) {
      auto b = tx.CreateBucket(n);
      BOLTPP_RETURN_IF_ERROR(b);
      BOLTPP_RETURN_IF_ERROR(b->Put("k", n));
    }
    return Status::OK();
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    std::vector<std::string> names;
    EXPECT_OK(tx.ForEach([&](Bytes name, Bucket b) {
      names.emplace_back(name);
      EXPECT_EQ(Str(b.Get("k")), std::string(name));
      return Status::OK();
    }));
    EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
    // Stopping early returns the callback's error.
    int calls = 0;
    EXPECT_CODE(tx.ForEach([&](Bytes, Bucket) {
      ++calls;
      return Status(Code::kAborted);
    }),
                Code::kAborted);
    EXPECT_EQ(calls, 1);
    // The root cursor lists buckets with empty values.
    Cursor c = tx.NewCursor();
    std::vector<std::string> seen;
    for (auto e = c.First(); e; e = c.Next()) {
      EXPECT_TRUE(e->is_bucket);
      EXPECT_TRUE(e->value.empty());
      seen.emplace_back(e->key);
    }
    EXPECT_EQ(seen, names);
    EXPECT_FALSE(tx.GetBucket("zzz"));
    return Status::OK();
  }));
}

// Builds a database with nested buckets, overflow values and free pages.
void Populate(DB* db, uint64_t seed) {
  Random rnd(seed);
  for (int t = 0; t < 10; ++t) {
    ASSERT_OK(db->Update([&](Tx& tx) -> Status {
      for (int i = 0; i < 3; ++i) {
        auto b = tx.CreateBucketIfNotExists("b" + std::to_string(rnd.Uniform(5)));
        BOLTPP_RETURN_IF_ERROR(b);
        for (int k = 0; k < 30; ++k)
          BOLTPP_RETURN_IF_ERROR(b->Put(rnd.Bytes(1 + rnd.Uniform(20)), rnd.Bytes(rnd.Skewed(13))));
        auto sub = b->CreateBucketIfNotExists("sub");
        BOLTPP_RETURN_IF_ERROR(sub);
        BOLTPP_RETURN_IF_ERROR(sub->Put(rnd.Bytes(4), rnd.Bytes(100)));
        BOLTPP_RETURN_IF_ERROR(sub->NextSequence());
      }
      if (rnd.OneIn(3)) {
        Status s = tx.DeleteBucket("b" + std::to_string(rnd.Uniform(5)));
        if (!s.ok() && s.code() != Code::kBucketNotFound) return s;
      }
      return Status::OK();
    }));
  }
}

// WriteTo writes a consistent copy of exactly Size() bytes; meta0
// is the transaction's meta, meta1 the same with txid - 1.
TEST_F(TxTest, WriteToAndCopyFile) {
  Populate(db(), 21);
  DBSnap want;
  ASSERT_OK(SnapshotDB(db(), &want));
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  const uint64_t txid = tx.ID();
  const int64_t size = tx.Size();

  std::ostringstream out;
  auto n = tx.WriteTo(out);
  ASSERT_OK(n);
  EXPECT_EQ(*n, size);
  const std::string image = out.str();
  ASSERT_EQ(static_cast<int64_t>(image.size()), size);

  const std::string copy = tdb().dir().File("copy.db");
  ASSERT_OK(tx.CopyFile(copy, 0600));
  EXPECT_TRUE(ReadFileBytes(copy) == image) << "CopyFile and WriteTo must write the same bytes";

  const std::string fd_copy = tdb().dir().File("fd.db");
  int fd = ::open(fd_copy.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  auto m = tx.WriteToFd(fd);
  ::close(fd);
  ASSERT_OK(m);
  EXPECT_EQ(*m, size);
  EXPECT_TRUE(ReadFileBytes(fd_copy) == image);
  ASSERT_OK(tx.Rollback());

  RawMeta m0 = ParseMeta(image, 0), m1 = ParseMeta(image, 4096);
  EXPECT_TRUE(m0.valid());
  EXPECT_TRUE(m1.valid());
  EXPECT_EQ(m0.page_id, 0u);
  EXPECT_EQ(m1.page_id, 1u);
  EXPECT_EQ(m0.txid, txid);
  EXPECT_EQ(m1.txid, txid - 1);
  EXPECT_EQ(m0.pgid * 4096, static_cast<uint64_t>(size));

  TestDB backup(TestOptions(), "copy.db");
  WriteFileBytes(backup.path(), image);
  ASSERT_TRUE(backup.Open());
  DBSnap got;
  ASSERT_OK(SnapshotDB(backup.db(), &got));
  EXPECT_EQ(DiffSnaps(want, got), "");
}

// A hot backup while a writer keeps committing: the copy is the reader's snapshot.
TEST_F(TxTest, CopyFileWhileWriting) {
  Populate(db(), 22);
  ASSERT_OK_AND_ASSIGN(Tx reader, db()->Begin(false));
  DBSnap want;
  ASSERT_OK(SnapshotTx(reader, &want));
  std::atomic<bool> stop{false};
  std::atomic<int> commits{0};
  std::thread writer([&] {
    Random rnd(99);
    while (!stop.load()) {
      Status s = db()->Update([&](Tx& tx) -> Status {
        auto b = tx.CreateBucketIfNotExists("b" + std::to_string(rnd.Uniform(6)));
        BOLTPP_RETURN_IF_ERROR(b);
        for (int k = 0; k < 20; ++k)
          BOLTPP_RETURN_IF_ERROR(b->Put(rnd.Bytes(8), rnd.Bytes(rnd.Skewed(12))));
        if (rnd.OneIn(4)) {
          Status d = tx.DeleteBucket("b" + std::to_string(rnd.Uniform(6)));
          if (!d.ok() && d.code() != Code::kBucketNotFound) return d;
        }
        return Status::OK();
      });
      EXPECT_OK(s);
      if (!s.ok()) break;
      ++commits;
    }
  });
  while (commits.load() < 3) std::this_thread::yield();
  const std::string copy = tdb().dir().File("hot.db");
  Status cs = reader.CopyFile(copy);
  while (commits.load() < 6) std::this_thread::yield();
  stop = true;
  writer.join();
  ASSERT_OK(cs);
  ASSERT_OK(reader.Rollback());
  EXPECT_EQ(FileSizeOf(copy), static_cast<uint64_t>(ParseMeta(ReadFileBytes(copy), 0).pgid * 4096));

  TestDB backup(TestOptions(), "hot.db");
  WriteFileBytes(backup.path(), ReadFileBytes(copy));
  ASSERT_TRUE(backup.Open());
  DBSnap got;
  ASSERT_OK(SnapshotDB(backup.db(), &got));
  EXPECT_EQ(DiffSnaps(want, got), "");
}

TEST_F(TxTest, CheckFromPage) {
  Populate(db(), 23);
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  EXPECT_EQ(tx.Check(), std::vector<std::string>{});
  CheckOptions o;
  o.from_page = 1;
  auto errors = tx.Check(o);
  ASSERT_EQ(errors.size(), 1u);
  const std::string want = "page ID (1) out of range [2, " + std::to_string(tx.Size() / 4096) + ")";
  EXPECT_EQ(errors[0], want);
  // Checking from a bucket's root page checks that subtree only.
  Bucket b;
  for (int i = 0; i < 5 && !b; ++i) b = tx.GetBucket("b" + std::to_string(i));
  ASSERT_TRUE(b);
  if (b.Root() != 0) {
    o.from_page = b.Root();
    EXPECT_EQ(tx.Check(o), std::vector<std::string>{});
  }
}

// Bucket "widgets" with 500 keys of 50-byte values (a two-level tree);
// returns its root page.
uint64_t WriteWidgets(DB& db) {
  EXPECT_OK(db.Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    BOLTPP_RETURN_IF_ERROR(b);
    for (uint64_t i = 0; i < 500; ++i)
      BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(i), std::string(50, 'v')));
    return Status::OK();
  }));
  auto tx = db.Begin(false);
  EXPECT_OK(tx);
  return tx.ok() ? tx->GetBucket("widgets").Root() : 0;
}

// Check finds damage: a zeroed leaf page of a bucket.
TEST_F(TxTest, CheckFindsCorruption) {
  const uint64_t root = WriteWidgets(*db());
  ASSERT_NE(root, 0u);
  const std::string path = tdb().path();
  tdb().Close();
  tdb().SkipFinalCheck();
  std::string f = ReadFileBytes(path);
  auto children = ParseBranch(f, root * 4096);
  ASSERT_GE(children.size(), 2u);
  const uint64_t victim = children[1].pgid;
  PatchFile(path, victim * 4096 + 8, std::string(8, '\0'));  // flags, count, overflow = 0
  ASSERT_TRUE(tdb().Open());
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  auto errors = tx.Check();
  ASSERT_FALSE(errors.empty());
  bool mentions = false;
  for (const auto& e : errors)
    mentions = mentions || e.find(std::to_string(victim)) != std::string::npos;
  EXPECT_TRUE(mentions) << "errors should name page " << victim << ": " << errors[0];
  // Reading through the damaged page reports corruption, not garbage.
  Cursor c = tx.GetBucket("widgets").NewCursor();
  int n = 0;
  for (auto e = c.First(); e; e = c.Next()) ++n;
  EXPECT_CODE(c.status(), Code::kCorruption);
  EXPECT_LT(n, 500);
  EXPECT_CODE(tx.status(), Code::kCorruption);
  ASSERT_OK(tx.Rollback());
  EXPECT_CODE(db()->View([](Tx& t) -> Status {
    Cursor cc = t.GetBucket("widgets").NewCursor();
    for (auto e = cc.First(); e; e = cc.Next()) {
    }
    return Status::OK();
  }),
              Code::kCorruption);
}

// Point lookups (Get, GetBucket) in a read transaction search the mapped
// pages directly: damage on the path is reported as corruption, as through a
// cursor, for a zeroed page and for a branch that points back at the root.
TEST_F(TxTest, GetThroughDamagedPagesReportsCorruption) {
  const uint64_t root = WriteWidgets(*db());
  const std::string path = tdb().path();
  tdb().Close();
  tdb().SkipFinalCheck();
  const std::string original = ReadFileBytes(path);
  auto children = ParseBranch(original, root * 4096);
  ASSERT_GE(children.size(), 3u);
  const std::string in_first = children[0].key, in_second = children[1].key;
  struct Damage {
    const char* what;
    uint64_t offset;
    std::string bytes;
    const char* detail;
  };
  const Damage damages[] = {
      {"zeroed leaf", children[1].pgid * 4096 + 8, std::string(8, '\0'), "page type"},
      // The second branch element's pgid (element i at 16 + 16 i: pos, ksize, pgid).
      {"cycle", root * 4096 + 16 + 16 + 8, EncodeLE<uint64_t>(root), "deeper than"},
  };
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.what);
    WriteFileBytes(path, original);
    PatchFile(path, d.offset, d.bytes);
    ASSERT_TRUE(tdb().Open());
    {
      ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
      Bucket b = tx.GetBucket("widgets");
      ASSERT_TRUE(b);
      // The undamaged first child still answers.
      auto first = b.Get(in_first);
      ASSERT_TRUE(first.has_value());
      EXPECT_EQ(*first, std::string(50, 'v'));
      EXPECT_FALSE(b.Get(in_second).has_value());
      EXPECT_CODE(tx.status(), Code::kCorruption);
      EXPECT_NE(tx.status().ToString().find(d.detail), std::string::npos) << tx.status().ToString();
      EXPECT_FALSE(b.GetBucket(in_second));
      ASSERT_OK(tx.Rollback());
    }
    tdb().Close();
  }
}

// bbolt TestBucket_Inspect.
TEST_F(TxTest, Inspect) {
  struct Spec {
    std::string name;
    int keys;
    std::vector<Spec> children;
  };
  const Spec root{"root",
                  0,
                  {{"b1", 3, {{"b1_1", 6, {}}, {"b1_2", 7, {}}, {"b1_3", 8, {}}}},
                   {"b2",
                    4,
                    {{"b2_1", 10, {}},
                     {"b2_2", 12, {{"b2_2_1", 2, {}}, {"b2_2_2", 3, {}}}},
                     {"b2_3", 11, {}}}}}};
  std::function<Status(Bucket, const Spec&)> fill = [&](Bucket b, const Spec& s) -> Status {
    for (int i = 0; i < s.keys; ++i) {
      char k[16];
      snprintf(k, sizeof k, "%02d", i);
      BOLTPP_RETURN_IF_ERROR(b.Put(k, k));
    }
    for (const auto& c : s.children) {
      auto child = b.CreateBucket(c.name);
      BOLTPP_RETURN_IF_ERROR(child);
      BOLTPP_RETURN_IF_ERROR(fill(*child, c));
    }
    return Status::OK();
  };
  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    for (const auto& c : root.children) {
      auto b = tx.CreateBucket(c.name);
      BOLTPP_RETURN_IF_ERROR(b);
      BOLTPP_RETURN_IF_ERROR(fill(*b, c));
    }
    return Status::OK();
  }));
  std::function<void(const BucketStructure&, const Spec&)> compare = [&](const BucketStructure& got,
                                                                         const Spec& want) {
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.key_n, want.keys) << want.name;
    ASSERT_EQ(got.children.size(), want.children.size()) << want.name;
    for (size_t i = 0; i < want.children.size(); ++i) compare(got.children[i], want.children[i]);
  };
  ASSERT_OK(db()->View([&](Tx& tx) {
    compare(tx.Inspect(), root);
    return Status::OK();
  }));
}

TEST_F(TxTest, PageInfo) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("b");
    BOLTPP_RETURN_IF_ERROR(b);
    return b->Put("big", std::string(10000, 'x'));
  }));
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.GetBucket("b").Delete("big"); }));
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  const uint64_t hwm = static_cast<uint64_t>(tx.Size()) / 4096;
  int metas = 0, freelists = 0, leaves = 0, frees = 0;
  for (uint64_t id = 0; id < hwm; ++id) {
    auto p = tx.Page(id);
    ASSERT_OK(p);
    ASSERT_TRUE(p->has_value()) << id;
    const std::string& type = (*p)->type;
    if (type == "meta")
      ++metas;
    else if (type == "freelist")
      ++freelists;
    else if (type == "leaf")
      ++leaves;
    else if (type == "free")
      ++frees;
    else
      ADD_FAILURE() << "page " << id << " has type " << type;
    id += static_cast<uint64_t>((*p)->overflow_count);
  }
  EXPECT_EQ(metas, 2);
  EXPECT_EQ(freelists, 1);
  EXPECT_EQ(leaves, 1) << "the root leaf; bucket b is inline again";
  EXPECT_GE(frees, 3) << "the overflow value's pages are free";
  auto past = tx.Page(hwm);
  ASSERT_OK(past);
  EXPECT_FALSE(past->has_value());
}

// Page() says "free" for free and pending pages (bbolt consults the
// freelist) -- also when the file has no persisted freelist
// (no_freelist_sync). In a read-only database bbolt refuses without a
// pre-loaded freelist (kFreePagesNotLoaded); boltpp may instead answer from
// the snapshot, but must not report a free page as a live one. The free set
// is computed independently from the raw file (pages unreachable from the
// meta's root and freelist).
class TxPageReadOnlyTest : public ::testing::TestWithParam<bool> {};

TEST_P(TxPageReadOnlyTest, FreePagesReported) {
  const bool no_freelist_sync = GetParam();
  Options o = TestOptions();
  o.no_freelist_sync = no_freelist_sync;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  ASSERT_OK(db_helpers_fill(t.db()));
  t.Close();
  const std::string f = ReadFileBytes(t.path());
  const RawMeta m = ActiveMeta(f, 4096);
  std::set<uint64_t> used;
  for (uint64_t id : ReachablePages(f, 4096, m)) used.insert(id);
  std::set<uint64_t> free_ids;
  for (uint64_t id = 2; id < m.pgid; ++id) {
    if (!used.count(id)) free_ids.insert(id);
  }
  ASSERT_FALSE(free_ids.empty()) << "the workload leaves free pages";

  for (bool read_only : {false, true}) {
    SCOPED_TRACE(read_only ? "read-only" : "read-write");
    t.options().read_only = read_only;
    ASSERT_TRUE(t.Open());
    ASSERT_OK_AND_ASSIGN(Tx tx, t->Begin(false));
    std::string wrong;
    for (uint64_t id : free_ids) {
      auto p = tx.Page(id);
      if (read_only && !p.ok()) {
        EXPECT_EQ(p.status().code(), Code::kFreePagesNotLoaded) << "page " << id;
        continue;
      }
      ASSERT_OK(p) << "page " << id;
      ASSERT_TRUE(p->has_value());
      if ((*p)->type != "free") wrong += " " + std::to_string(id) + ":" + (*p)->type;
    }
    EXPECT_EQ(wrong, "")
        << "pages unreachable from the meta (free or pending) reported as live, of "
        << free_ids.size() << " free";
    auto root = tx.Page(m.root);
    if (root.ok()) {
      ASSERT_TRUE(root->has_value());
      EXPECT_EQ((*root)->type, "leaf");
    } else {
      EXPECT_TRUE(read_only) << root.status().ToString();
    }
    ASSERT_OK(tx.Rollback());
    t.Close();
  }
}

INSTANTIATE_TEST_SUITE_P(FreelistSync, TxPageReadOnlyTest, ::testing::Bool(), [](const auto& p) {
  return std::string(p.param ? "no_freelist_sync" : "freelist");
});

TEST_F(TxTest, Stats) {
  const Stats s0 = db()->GetStats();
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
  auto b = tx.CreateBucket("b");
  ASSERT_OK(b);
  for (uint64_t i = 0; i < 2000; ++i) ASSERT_OK(b->Put(U64Key(i), std::string(30, 's')));
  Cursor c = b->NewCursor();
  (void)c.First();
  EXPECT_GE(tx.Stats().cursor_count, 1);
  ASSERT_OK(tx.Commit());
  const TxStats d = db()->GetStats().tx_stats.Sub(s0.tx_stats);
  EXPECT_GT(d.spill, 0);
  EXPECT_GT(d.split, 0) << "2000 keys do not fit one page";
  EXPECT_GT(d.write, 10);
  EXPECT_GT(d.page_count, 10);
  EXPECT_EQ(d.page_alloc, d.page_count * 4096);
  EXPECT_GE(d.cursor_count, 1);
}

}  // namespace
}  // namespace boltpp::testing
