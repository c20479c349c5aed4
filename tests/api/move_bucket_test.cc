// File: tests/api/move_bucket_test.cc
// MoveBucket (bbolt 1.4 movebucket_test.go): moving a sub-bucket between
// parents moves its whole subtree; error codes; cyclic moves are refused.
#include <gtest/gtest.h>

#include "testutil/random.h"
#include "testutil/snapshot.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

class MoveBucketTest : public DBTestBase {};

// Opens or creates (with some data) each bucket along path; the top level
// for an empty path (a null Bucket).
Result<Bucket> Prepare(Tx& tx, const BucketPath& path, Random* rnd) {
  Bucket b;
  for (const auto& name : path) {
    Bucket child = b ? b.GetBucket(name) : tx.GetBucket(name);
    if (!child) {
      auto created = b ? b.CreateBucket(name) : tx.CreateBucket(name);
      if (!created.ok()) return created.status();
      child = *created;
      const int n = static_cast<int>(rnd->Uniform(200));
      for (int i = 0; i < n; ++i) {
        Status s = child.Put(rnd->Bytes(1 + rnd->Uniform(60)), rnd->Bytes(rnd->Uniform(600)));
        if (!s.ok()) return s;
      }
    }
    b = child;
  }
  return b;
}

Status CreateWithData(Tx& tx, Bucket parent, const std::string& name, Random* rnd, int n) {
  auto b = parent ? parent.CreateBucket(name) : tx.CreateBucket(name);
  BOLTPP_RETURN_IF_ERROR(b);
  for (int i = 0; i < n; ++i)
    BOLTPP_RETURN_IF_ERROR(b->Put(rnd->Bytes(1 + rnd->Uniform(60)), rnd->Bytes(rnd->Uniform(600))));
  auto sub = b->CreateBucket("inner");
  BOLTPP_RETURN_IF_ERROR(sub);
  BOLTPP_RETURN_IF_ERROR(sub->SetSequence(42));
  return sub->Put("deep", "value");
}

// The subtree under path, re-rooted at the empty path, for comparison.
DBSnap Subtree(const DBSnap& all, const BucketPath& path) {
  DBSnap out;
  for (const auto& [p, snap] : all) {
    if (p.size() >= path.size() && std::equal(path.begin(), path.end(), p.begin())) {
      out[BucketPath(p.begin() + static_cast<long>(path.size()), p.end())] = snap;
    }
  }
  return out;
}

struct MoveCase {
  const char* name;
  BucketPath src, dst;
  bool exist_in_src = true, exist_in_dst = false, key_in_src = false, key_in_dst = false;
  Code want = Code::kOk;
};

void PrintTo(const MoveCase& c, std::ostream* os) { *os << c.name; }

class MoveBucketCaseTest : public DBTestBase, public ::testing::WithParamInterface<MoveCase> {};

TEST_P(MoveBucketCaseTest, Move) {
  const MoveCase& tc = GetParam();
  const std::string kName = "bucketToMove";
  Random rnd(SeedOr(77));
  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    auto src = Prepare(tx, tc.src, &rnd);
    BOLTPP_RETURN_IF_ERROR(src);
    auto dst = Prepare(tx, tc.dst, &rnd);
    BOLTPP_RETURN_IF_ERROR(dst);
    if (tc.exist_in_src) BOLTPP_RETURN_IF_ERROR(CreateWithData(tx, *src, kName, &rnd, 300));
    if (tc.exist_in_dst) BOLTPP_RETURN_IF_ERROR(CreateWithData(tx, *dst, kName, &rnd, 10));
    if (tc.key_in_src) BOLTPP_RETURN_IF_ERROR(src->Put(kName, "bar"));
    if (tc.key_in_dst) BOLTPP_RETURN_IF_ERROR(dst->Put(kName, "bar"));
    return Status::OK();
  }));
  DBSnap before;
  ASSERT_OK(SnapshotDB(db(), &before));
  BucketPath from = tc.src, to = tc.dst;
  from.push_back(kName);
  to.push_back(kName);

  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    auto src = Prepare(tx, tc.src, &rnd);
    auto dst = Prepare(tx, tc.dst, &rnd);
    EXPECT_CODE(tx.MoveBucket(kName, *src, *dst), tc.want);
    if (tc.want == Code::kOk) {
      // Visible in the same transaction.
      EXPECT_FALSE(BucketAt(tx, from));
      EXPECT_TRUE(BucketAt(tx, to));
      DBSnap mid;
      EXPECT_OK(SnapshotTx(tx, &mid));
      EXPECT_EQ(DiffSnaps(Subtree(before, from), Subtree(mid, to)), "");
    }
    return Status::OK();
  }));
  DBSnap after;
  ASSERT_OK(SnapshotDB(db(), &after));
  if (tc.want != Code::kOk) {
    EXPECT_EQ(DiffSnaps(before, after), "") << "a refused move must change nothing";
    return;
  }
  EXPECT_EQ(DiffSnaps(Subtree(before, from), Subtree(after, to)), "");
  EXPECT_TRUE(Subtree(after, from).empty());
  ASSERT_TRUE(tdb().Reopen());
  DBSnap reopened;
  ASSERT_OK(SnapshotDB(db(), &reopened));
  EXPECT_EQ(DiffSnaps(after, reopened), "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MoveBucketCaseTest,
    ::testing::Values(MoveCase{"normal", {"sb1", "sb2"}, {"db1", "db2"}},
                      MoveCase{"same_grandparent", {"grandparent", "sb2"}, {"grandparent", "db2"}},
                      MoveCase{"from_top_level", {}, {"db1", "db2"}},
                      MoveCase{"to_top_level", {"sb1", "sb2"}, {}},
                      MoveCase{"not_in_source",
                               {"sb1", "sb2"},
                               {"db1", "db2"},
                               false,
                               false,
                               false,
                               false,
                               Code::kBucketNotFound},
                      MoveCase{"exists_in_target",
                               {"sb1", "sb2"},
                               {"db1", "db2"},
                               true,
                               true,
                               false,
                               false,
                               Code::kBucketExists},
                      MoveCase{"key_in_source",
                               {"sb1", "sb2"},
                               {"db1", "db2"},
                               false,
                               false,
                               true,
                               false,
                               Code::kIncompatibleValue},
                      MoveCase{"key_in_target",
                               {"sb1", "sb2"},
                               {"db1", "db2"},
                               true,
                               false,
                               false,
                               true,
                               Code::kIncompatibleValue},
                      MoveCase{"same_bucket",
                               {"sb1", "sb2"},
                               {"sb1", "sb2"},
                               true,
                               false,
                               false,
                               false,
                               Code::kSameBuckets},
                      MoveCase{
                          "both_top_level", {}, {}, true, false, false, false, Code::kSameBuckets}),
    [](const auto& p) { return std::string(p.param.name); });

// Moving a bucket into itself or any descendant would detach it from the
// tree: it must be refused and change nothing.
class MoveBucketCyclicTest : public DBTestBase, public ::testing::WithParamInterface<int> {};

TEST_P(MoveBucketCyclicTest, Refused) {
  const int depth = GetParam();  // 0: itself, 1: child, 2: grandchild
  Random rnd(5);
  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    auto src = Prepare(tx, {"sb1", "sb2"}, &rnd);
    BOLTPP_RETURN_IF_ERROR(src);
    auto moved = src->CreateBucket("bucketToMove");
    BOLTPP_RETURN_IF_ERROR(moved);
    for (int i = 0; i < 100; ++i)
      BOLTPP_RETURN_IF_ERROR(moved->Put(U64Key(i), std::string(80, 'm')));
    Bucket cur = *moved;
    for (int i = 0; i < depth; ++i) {
      auto c = cur.CreateBucket(i == 0 ? "child" : "grandchild");
      BOLTPP_RETURN_IF_ERROR(c);
      cur = *c;
      BOLTPP_RETURN_IF_ERROR(cur.Put("k", "v"));
    }
    return Status::OK();
  }));
  DBSnap before;
  ASSERT_OK(SnapshotDB(db(), &before));
  ASSERT_OK(db()->Update([&](Tx& tx) {
    Bucket src = BucketAt(tx, {"sb1", "sb2"});
    BucketPath dst_path = {"sb1", "sb2", "bucketToMove"};
    if (depth >= 1) dst_path.push_back("child");
    if (depth >= 2) dst_path.push_back("grandchild");
    Bucket dst = BucketAt(tx, dst_path);
    EXPECT_TRUE(dst);
    Status s = tx.MoveBucket("bucketToMove", src, dst);
    EXPECT_FALSE(s.ok()) << "moving a bucket into " << PathString(dst_path) << " must be refused";
    EXPECT_TRUE(BucketAt(tx, {"sb1", "sb2", "bucketToMove"}));
    return Status::OK();
  }));
  DBSnap after;
  ASSERT_OK(SnapshotDB(db(), &after));
  EXPECT_EQ(DiffSnaps(before, after), "");
}

INSTANTIATE_TEST_SUITE_P(Depths, MoveBucketCyclicTest, ::testing::Values(0, 1, 2));

// Upstream TestTx_MoveBucket_Cyclic_With_InlineBucket: b1/b2/b3 (inline),
// move b2 into b3.
TEST_F(MoveBucketTest, Cyclic_InlineDescendant) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto b1 = tx.CreateBucketIfNotExists("b1");
    auto b2 = b1->CreateBucketIfNotExists("b2");
    auto b3 = b2->CreateBucketIfNotExists("b3");
    return b3->Put("key", "value");
  }));
  Status s = db()->Update([](Tx& tx) {
    Bucket b1 = tx.GetBucket("b1");
    Bucket b3 = b1.GetBucket("b2").GetBucket("b3");
    return tx.MoveBucket("b2", b1, b3);
  });
  EXPECT_FALSE(s.ok());
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_EQ(Str(BucketAt(tx, {"b1", "b2", "b3"}).Get("key")), "value");
    return Status::OK();
  }));
}

TEST_F(MoveBucketTest, DiffDB) {
  TestDB other(TestOptions(), "other");
  ASSERT_TRUE(other.Open());
  Random rnd(1);
  ASSERT_OK(db()->Update([&](Tx& tx) { return Prepare(tx, {"sb1", "sb2"}, &rnd).status(); }));
  ASSERT_OK(other->Update([&](Tx& tx) { return Prepare(tx, {"db1", "db2"}, &rnd).status(); }));
  ASSERT_OK_AND_ASSIGN(Tx stx, db()->Begin(true));
  Bucket src = BucketAt(stx, {"sb1", "sb2"});
  ASSERT_OK(src.CreateBucket("bucketToMove"));
  ASSERT_OK(other->Update([&](Tx& tx) {
    EXPECT_CODE(src.MoveBucket("bucketToMove", BucketAt(tx, {"db1", "db2"})), Code::kDifferentDB);
    return Status::OK();
  }));
  ASSERT_OK(stx.Rollback());
}

// Upstream TestBucket_MoveBucket_DiffTx: one side read-only -> tx not writable.
TEST_F(MoveBucketTest, DiffTx) {
  Random rnd(2);
  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    auto s = Prepare(tx, {"sb1", "sb2"}, &rnd);
    BOLTPP_RETURN_IF_ERROR(s);
    BOLTPP_RETURN_IF_ERROR(s->CreateBucket("bucketToMove"));
    return Prepare(tx, {"db1", "db2"}, &rnd).status();
  }));
  {
    SCOPED_TRACE("src read-write, dst read-only");
    ASSERT_OK_AND_ASSIGN(Tx rtx, db()->Begin(false));
    ASSERT_OK_AND_ASSIGN(Tx wtx, db()->Begin(true));
    EXPECT_CODE(
        BucketAt(wtx, {"sb1", "sb2"}).MoveBucket("bucketToMove", BucketAt(rtx, {"db1", "db2"})),
        Code::kTxNotWritable);
  }
  {
    SCOPED_TRACE("src read-only, dst read-write");
    ASSERT_OK_AND_ASSIGN(Tx rtx, db()->Begin(false));
    ASSERT_OK_AND_ASSIGN(Tx wtx, db()->Begin(true));
    EXPECT_CODE(
        BucketAt(rtx, {"sb1", "sb2"}).MoveBucket("bucketToMove", BucketAt(wtx, {"db1", "db2"})),
        Code::kTxNotWritable);
  }
}

// A large (non-inline) bucket moved, then its old parent deleted: pages
// stay reachable exactly once (teardown Check), data intact.
TEST_F(MoveBucketTest, LargeBucketThenDeleteOldParent) {
  Random rnd(3);
  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    auto a = tx.CreateBucket("a");
    BOLTPP_RETURN_IF_ERROR(a);
    BOLTPP_RETURN_IF_ERROR(CreateWithData(tx, *a, "big", &rnd, 2000));
    return tx.CreateBucket("b").status();
  }));
  DBSnap before;
  ASSERT_OK(SnapshotDB(db(), &before));
  ASSERT_OK(db()->Update(
      [](Tx& tx) { return tx.MoveBucket("big", tx.GetBucket("a"), tx.GetBucket("b")); }));
  tdb().MustCheck();
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.DeleteBucket("a"); }));
  tdb().MustCheck();
  DBSnap after;
  ASSERT_OK(SnapshotDB(db(), &after));
  EXPECT_EQ(DiffSnaps(Subtree(before, {"a", "big"}), Subtree(after, {"b", "big"})), "");
  // Move it back to the top level and modify it in the same transaction.
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    BOLTPP_RETURN_IF_ERROR(tx.MoveBucket("big", tx.GetBucket("b"), Bucket()));
    Bucket big = tx.GetBucket("big");
    if (!big) return Status(Code::kBucketNotFound, "big after move");
    BOLTPP_RETURN_IF_ERROR(big.Put("new", "key"));
    return big.GetBucket("inner").Put("deep", "changed");
  }));
  ASSERT_TRUE(tdb().Reopen());
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_EQ(Str(BucketAt(tx, {"big"}).Get("new")), "key");
    EXPECT_EQ(Str(BucketAt(tx, {"big", "inner"}).Get("deep")), "changed");
    EXPECT_EQ(BucketAt(tx, {"big", "inner"}).Sequence(), 42u);
    EXPECT_FALSE(BucketAt(tx, {"b", "big"}));
    return Status::OK();
  }));
}

// A moved bucket that was modified before the move keeps its changes.
TEST_F(MoveBucketTest, ModifiedBeforeMove) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto a = tx.CreateBucket("a");
    auto child = a->CreateBucket("child");
    for (int i = 0; i < 500; ++i)
      BOLTPP_RETURN_IF_ERROR(child->Put(U64Key(i), std::string(30, 'c')));
    return tx.CreateBucket("b").status();
  }));
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    Bucket child = BucketAt(tx, {"a", "child"});
    for (int i = 0; i < 500; i += 2) BOLTPP_RETURN_IF_ERROR(child.Delete(U64Key(i)));
    BOLTPP_RETURN_IF_ERROR(child.SetSequence(9));
    BOLTPP_RETURN_IF_ERROR(tx.MoveBucket("child", tx.GetBucket("a"), tx.GetBucket("b")));
    // The old handle's bucket now lives under b; write through a fresh one.
    return BucketAt(tx, {"b", "child"}).Put("after", "move");
  }));
  ASSERT_TRUE(tdb().Reopen());
  ASSERT_OK(db()->View([](Tx& tx) {
    Bucket child = BucketAt(tx, {"b", "child"});
    EXPECT_TRUE(child);
    if (!child) return Status::OK();
    EXPECT_EQ(child.Sequence(), 9u);
    EXPECT_EQ(child.Stats().key_n, 251);
    EXPECT_EQ(Str(child.Get("after")), "move");
    EXPECT_FALSE(child.Get(U64Key(0)).has_value());
    EXPECT_TRUE(child.Get(U64Key(1)).has_value());
    return Status::OK();
  }));
}

}  // namespace
}  // namespace boltpp::testing
