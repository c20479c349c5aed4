// File: tests/api/fault_test.cc
// Error paths through the FaultFileSystem: a failed write, sync, truncate
// or map during a commit returns an error, leaves the database usable and
// the file at the previous commit; a failed meta write or sync makes the
// database refuse writes (kDatabaseFailed) until it is reopened. Every case
// ends with a reopen on the real file system and a clean Check().
#include <gtest/gtest.h>

#include "testutil/fault_fs.h"
#include "testutil/random.h"
#include "testutil/raw_file.h"
#include "testutil/snapshot.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

constexpr uint32_t kPS = 4096;

// The base content every case starts from.
Status Base(DB* db) {
  return db->Update([](Tx& tx) -> Status {
    auto data = tx.CreateBucket("data");
    BOLTPP_RETURN_IF_ERROR(data);
    for (uint64_t i = 0; i < 100; ++i)
      BOLTPP_RETURN_IF_ERROR(data->Put(U64Key(i), std::string(60, 'b')));
    auto other = tx.CreateBucket("other");
    BOLTPP_RETURN_IF_ERROR(other);
    return other->Put("k", "v");
  });
}

// The commit that faults: grows the file, rewrites, deletes, nests.
Status Change(DB* db) {
  return db->Update([](Tx& tx) -> Status {
    Bucket data = tx.GetBucket("data");
    for (uint64_t i = 100; i < 400; ++i)
      BOLTPP_RETURN_IF_ERROR(data.Put(U64Key(i), std::string(500, 'c')));
    for (uint64_t i = 0; i < 20; ++i) BOLTPP_RETURN_IF_ERROR(data.Delete(U64Key(i)));
    auto n = data.CreateBucket("nested");
    BOLTPP_RETURN_IF_ERROR(n);
    BOLTPP_RETURN_IF_ERROR(n->Put("big", std::string(9000, 'n')));
    BOLTPP_RETURN_IF_ERROR(data.SetSequence(5));
    return tx.DeleteBucket("other").ok() ? tx.CreateBucket("other").status()
                                         : Status(Code::kCorruption);
  });
}

Status FollowUp(DB* db) {
  return db->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucketIfNotExists("after");
    BOLTPP_RETURN_IF_ERROR(b);
    return b->Put("x", "1");
  });
}

DBSnap WithFollowUp(DBSnap s) {
  s[{}].buckets.insert("after");
  s[{"after"}].kv["x"] = "1";
  return s;
}

Status Snapshot(const std::string& path, DBSnap* out) {
  Options o = TestOptions();
  auto db = DB::Open(path, o);
  if (!db.ok()) return db.status();
  Status s = SnapshotDB(db->get(), out);
  Status c = (*db)->Close();
  return s.ok() ? c : s;
}

bool IsMetaWrite(const FaultEvent& ev) { return ev.op == FaultOp::kWrite && ev.offset < 2 * kPS; }

// The states before and after Change(), computed once without faults.
struct States {
  DBSnap old_state, new_state;
};
const States& Reference() {
  static const States* states = [] {
    auto* st = new States;
    TestDB t(TestOptions(), "reference");
    EXPECT_TRUE(t.Open());
    EXPECT_OK(Base(t.db()));
    EXPECT_OK(SnapshotDB(t.db(), &st->old_state));
    EXPECT_OK(Change(t.db()));
    EXPECT_OK(SnapshotDB(t.db(), &st->new_state));
    return st;
  }();
  return *states;
}

struct SweepParam {
  FaultOp op;
  bool no_freelist_sync;
  FreelistType freelist;
};

void PrintTo(const SweepParam& p, std::ostream* os) {
  *os << FaultOpName(p.op) << (p.no_freelist_sync ? " no_freelist_sync " : " ")
      << FreelistName(p.freelist);
}

class FaultSweepTest : public ::testing::TestWithParam<SweepParam> {};

// SQLite-style: fail the 1st, 2nd, ... call of one kind during the commit
// (transiently) until the commit gets through without a fault.
TEST_P(FaultSweepTest, FailNthDuringCommit) {
  const SweepParam p = GetParam();
  const States& ref = Reference();
  int faults = 0, meta_faults = 0;
  for (int n = 1; n < 500; ++n) {
    SCOPED_TRACE(std::string("failing ") + FaultOpName(p.op) + " #" + std::to_string(n));
    FaultFileSystem fs;
    Options o = TestOptions();
    o.file_system = &fs;
    o.no_sync = p.op != FaultOp::kSync;
    o.no_freelist_sync = p.no_freelist_sync;
    o.freelist_type = p.freelist;
    TestDB t(o);
    ASSERT_TRUE(t.Open());
    ASSERT_OK(Base(t.db()));
    FaultInjector& inj = fs.injector();
    inj.set_recording(true);
    inj.ClearEvents();
    inj.ResetCounts();
    inj.FailNth(p.op, n);
    Status s = Change(t.db());
    const bool fired = inj.injected(p.op) > 0;
    const auto events = inj.events();
    inj.ClearAll();
    inj.set_recording(false);
    if (!fired) {
      ASSERT_OK(s);
      t.Close();
      DBSnap got;
      ASSERT_OK(Snapshot(t.path(), &got));
      EXPECT_EQ(DiffSnaps(ref.new_state, got), "");
      break;
    }
    ++faults;
    EXPECT_FALSE(s.ok()) << "a commit whose " << FaultOpName(p.op) << " failed reported success";
    // Was it the meta page (its write, or the sync after writing it)?
    bool meta = false, meta_written = false;
    for (const auto& ev : events) {
      if (ev.op == p.op && ev.seq == n) {
        meta = IsMetaWrite(ev) || (p.op == FaultOp::kSync && meta_written);
        break;
      }
      meta_written = meta_written || IsMetaWrite(ev);
    }
    Status follow = FollowUp(t.db());
    std::vector<const DBSnap*> allowed;
    DBSnap old_plus = WithFollowUp(ref.old_state);
    if (meta) {
      ++meta_faults;
      EXPECT_CODE(follow, Code::kDatabaseFailed) << "after a failed meta " << FaultOpName(p.op);
      EXPECT_CODE(t->Begin(true), Code::kDatabaseFailed);
      allowed = {&ref.old_state, &ref.new_state};
    } else {
      EXPECT_OK(follow) << "the database must stay usable after a failed data "
                        << FaultOpName(p.op);
      // Reads in the same handle show the previous commit plus the follow-up.
      DBSnap live;
      EXPECT_OK(SnapshotDB(t.db(), &live));
      EXPECT_EQ(DiffSnaps(follow.ok() ? old_plus : ref.old_state, live), "");
      allowed = {follow.ok() ? &old_plus : &ref.old_state};
    }
    t.Close();
    DBSnap got;
    ASSERT_OK(Snapshot(t.path(), &got));
    std::string diffs;
    bool matched = false;
    for (const DBSnap* a : allowed) {
      std::string d = DiffSnaps(*a, got);
      if (d.empty()) matched = true;
      diffs += d + "--\n";
    }
    EXPECT_TRUE(matched) << "after reopen the file holds neither allowed state:\n" << diffs;
    // t's teardown checks the file.
  }
  EXPECT_GT(faults, 0);
  RecordProperty("faults", faults);
  RecordProperty("meta_faults", meta_faults);
  if (p.op == FaultOp::kSync || p.op == FaultOp::kWrite) {
    EXPECT_EQ(meta_faults, 1) << "one meta page write and one sync after it per commit";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Ops, FaultSweepTest,
    ::testing::Values(SweepParam{FaultOp::kWrite, false, FreelistType::kArray},
                      SweepParam{FaultOp::kWrite, true, FreelistType::kArray},
                      SweepParam{FaultOp::kWrite, false, FreelistType::kHashMap},
                      SweepParam{FaultOp::kSync, false, FreelistType::kArray},
                      SweepParam{FaultOp::kSync, true, FreelistType::kHashMap},
                      SweepParam{FaultOp::kTruncate, false, FreelistType::kArray},
                      SweepParam{FaultOp::kTruncate, true, FreelistType::kHashMap}),
    [](const auto& pi) {
      return std::string(FaultOpName(pi.param.op)) +
             (pi.param.no_freelist_sync ? "_nofreelistsync_" : "_") +
             FreelistName(pi.param.freelist);
    });

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o = TestOptions();
    o.file_system = &fs_;
    t_ = std::make_unique<TestDB>(o);
    ASSERT_TRUE(t_->Open());
    ASSERT_OK(Base(db()));
  }
  void TearDown() override {
    fs_.injector().ClearAll();
    t_->Finish();
  }
  DB* db() { return t_->db(); }
  FaultInjector& inj() { return fs_.injector(); }

  FaultFileSystem fs_;  // outlives t_
  std::unique_ptr<TestDB> t_;
};

// A persistent write failure: every commit fails until the disk recovers;
// reads keep working; then commits succeed again.
TEST_F(FaultTest, PersistentWriteFailure) {
  inj().FailAlways(FaultOp::kWrite);
  for (int i = 0; i < 3; ++i) {
    Status s = db()->Update(
        [&](Tx& tx) { return tx.GetBucket("data").Put("attempt" + std::to_string(i), "x"); });
    EXPECT_CODE(s, Code::kIOError);
  }
  DBSnap live;
  EXPECT_OK(SnapshotDB(db(), &live));
  EXPECT_EQ(DiffSnaps(Reference().old_state, live), "");
  inj().ClearAll();
  ASSERT_OK(FollowUp(db()));
  ASSERT_OK(Change(db()));
  ASSERT_TRUE(t_->Reopen());
  DBSnap got;
  ASSERT_OK(SnapshotDB(db(), &got));
  EXPECT_EQ(DiffSnaps(WithFollowUp(Reference().new_state), got), "");
}

// The error a commit returns is the file's error.
TEST_F(FaultTest, WriteErrorIsReported) {
  inj().FailNth(FaultOp::kWrite, 1, false, Status(Code::kIOError, "disk on fire"));
  Status s = Change(db());
  EXPECT_EQ(s.code(), Code::kIOError);
  EXPECT_NE(s.ToString().find("disk on fire"), std::string::npos) << s.ToString();
}

// docs/design.md "The commit protocol": a failed meta write leaves a sticky failed state.
TEST_F(FaultTest, MetaWriteFailure) {
  inj().SetHook([](const FaultEvent& ev) {
    return IsMetaWrite(ev) ? Status(Code::kIOError, "meta write") : Status::OK();
  });
  EXPECT_FALSE(Change(db()).ok());
  inj().ClearAll();
  EXPECT_CODE(FollowUp(db()), Code::kDatabaseFailed);
  EXPECT_CODE(db()->Begin(true), Code::kDatabaseFailed);
  EXPECT_CODE(db()->Batch([](Tx&) { return Status::OK(); }), Code::kDatabaseFailed);
  t_->Close();
  DBSnap got;
  ASSERT_OK(Snapshot(t_->path(), &got));
  EXPECT_EQ(DiffSnaps(Reference().old_state, got), "") << "the meta never reached the file";
  // A fresh handle works again.
  ASSERT_TRUE(t_->Open());
  ASSERT_OK(FollowUp(db()));
}

TEST_F(FaultTest, MetaSyncFailure) {
  bool meta_written = false;
  inj().SetHook([&](const FaultEvent& ev) {
    if (IsMetaWrite(ev)) meta_written = true;
    if (ev.op == FaultOp::kSync && meta_written) return Status(Code::kIOError, "meta sync");
    return Status::OK();
  });
  EXPECT_FALSE(Change(db()).ok());
  inj().ClearAll();
  EXPECT_TRUE(meta_written);
  EXPECT_CODE(FollowUp(db()), Code::kDatabaseFailed);
  EXPECT_CODE(db()->Begin(true), Code::kDatabaseFailed);
  t_->Close();
  DBSnap got;
  ASSERT_OK(Snapshot(t_->path(), &got));
  EXPECT_TRUE(DiffSnaps(Reference().old_state, got).empty() ||
              DiffSnaps(Reference().new_state, got).empty())
      << DiffSnaps(Reference().new_state, got);
}

// A failed remap while growing: the commit fails, the database stays usable.
TEST_F(FaultTest, MapFailureDuringGrowth) {
  inj().FailNth(FaultOp::kMap, 1);
  Status s = db()->Update(
      [](Tx& tx) { return tx.GetBucket("data").Put("huge", std::string(1 << 20, 'h')); });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(inj().injected(FaultOp::kMap), 1) << "a 1 MiB value must remap a 32 KiB map";
  inj().ClearAll();
  DBSnap live;
  EXPECT_OK(SnapshotDB(db(), &live));
  EXPECT_EQ(DiffSnaps(Reference().old_state, live), "");
  ASSERT_OK(FollowUp(db()));
  ASSERT_OK(db()->Update(
      [](Tx& tx) { return tx.GetBucket("data").Put("huge", std::string(1 << 20, 'h')); }));
  ASSERT_TRUE(t_->Reopen());
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_EQ(tx.GetBucket("data").Get("huge")->size(), size_t{1} << 20);
    EXPECT_TRUE(tx.GetBucket("after"));
    return Status::OK();
  }));
}

// A failed sync from DB::Sync is reported and changes nothing.
TEST_F(FaultTest, SyncError) {
  inj().FailNth(FaultOp::kSync, 1);
  EXPECT_FALSE(db()->Sync().ok());
  EXPECT_OK(db()->Sync());
  EXPECT_OK(FollowUp(db()));
}

// Faults while opening: open fails cleanly and a later open works.
TEST(FaultOpenTest, FailuresWhileOpening) {
  TempDir dir;
  const std::string path = dir.File("db");
  {
    auto db = DB::Open(path, TestOptions());
    ASSERT_OK(db);
    ASSERT_OK(Base(db->get()));
    ASSERT_OK((*db)->Close());
  }
  for (FaultOp op :
       {FaultOp::kOpen, FaultOp::kSize, FaultOp::kMap, FaultOp::kLock, FaultOp::kRead}) {
    SCOPED_TRACE(FaultOpName(op));
    FaultFileSystem fs;
    fs.injector().FailAlways(op);
    Options o = TestOptions();
    o.file_system = &fs;
    auto db = DB::Open(path, o);
    if (op == FaultOp::kRead) {
      // boltpp may read the metas through the map; if it opened, it must be right.
      if (db.ok()) {
        DBSnap got;
        EXPECT_OK(SnapshotDB(db->get(), &got));
        EXPECT_EQ(DiffSnaps(Reference().old_state, got), "");
        EXPECT_OK((*db)->Close());
      }
    } else {
      EXPECT_FALSE(db.ok()) << "open succeeded although every " << FaultOpName(op) << " failed";
      EXPECT_GT(fs.injector().injected(op), 0);
    }
    fs.injector().ClearAll();
    auto again = DB::Open(path, o);
    ASSERT_OK(again);
    DBSnap got;
    EXPECT_OK(SnapshotDB(again->get(), &got));
    EXPECT_EQ(DiffSnaps(Reference().old_state, got), "");
    EXPECT_OK((*again)->Close());
  }
}

// Creating a new file whose initial write fails: an error, and a retry works.
TEST(FaultOpenTest, InitWriteFails) {
  TempDir dir;
  const std::string path = dir.File("db");
  for (FaultOp op : {FaultOp::kWrite, FaultOp::kSync}) {
    SCOPED_TRACE(FaultOpName(op));
    std::remove(path.c_str());
    FaultFileSystem fs;
    fs.injector().FailAlways(op);
    Options o = TestOptions();
    o.file_system = &fs;
    auto db = DB::Open(path, o);
    EXPECT_FALSE(db.ok());
    fs.injector().ClearAll();
    auto again = DB::Open(path, o);
    ASSERT_OK(again) << "a failed creation must not leave a file that cannot be opened";
    ASSERT_OK(FollowUp(again->get()));
    auto tx = (*again)->Begin(false);
    ASSERT_OK(tx);
    EXPECT_EQ(tx->Check(), std::vector<std::string>{});
    ASSERT_OK(tx->Rollback());
    ASSERT_OK((*again)->Close());
  }
}

}  // namespace
}  // namespace boltpp::testing
