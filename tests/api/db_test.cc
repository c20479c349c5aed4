// File: tests/api/db_test.cc
// DB: opening, locking, damaged files, options, stats, close. Names follow
// bbolt's db_test.go (TestOpen_ErrChecksum -> OpenTest.ErrChecksum).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "testutil/fault_fs.h"
#include "testutil/random.h"
#include "testutil/raw_file.h"
#include "testutil/snapshot.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kPS = 4096;

// A database with a few commits, closed: returns its path inside dir.
std::string MakeClosedDB(const TempDir& dir, int buckets = 3) {
  std::string path = dir.File("db");
  auto db = DB::Open(path, TestOptions());
  EXPECT_OK(db);
  if (!db.ok()) return path;
  for (int i = 0; i < buckets; ++i) {
    EXPECT_OK((*db)->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucket("bucket" + std::to_string(i));
      BOLTPP_RETURN_IF_ERROR(b);
      for (int k = 0; k < 50; ++k)
        BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(k), std::string(100, 'a' + i)));
      return Status::OK();
    }));
  }
  EXPECT_OK((*db)->Close());
  return path;
}

// ---------------------------------------------------------------- Open

TEST(OpenTest, Basic) {
  TempDir dir;
  const std::string path = dir.File("db");
  auto db = DB::Open(path, TestOptions());
  ASSERT_OK(db);
  EXPECT_EQ((*db)->Path(), path);
  EXPECT_FALSE((*db)->IsReadOnly());
  EXPECT_TRUE(FileExists(path));
  EXPECT_EQ((*db)->options().page_size, 4096u);
  ASSERT_OK((*db)->Close());
  // Reopen an existing file.
  auto again = DB::Open(path, TestOptions());
  ASSERT_OK(again);
  ASSERT_OK((*again)->Close());
}

TEST(OpenTest, FileMode) {
  TempDir dir;
  Options o = TestOptions();
  o.file_mode = 0640;
  auto db = DB::Open(dir.File("db"), o);
  ASSERT_OK(db);
  ASSERT_OK((*db)->Close());
  auto mode = FileSystem::Default()->FileMode(dir.File("db"));
  ASSERT_OK(mode);
  EXPECT_EQ(*mode & 0777, 0640u);
}

// db.h: an unusable page size for a new file is an argument error.
TEST(OpenTest, ErrInvalidPageSize) {
  TempDir dir;
  for (uint32_t ps : {512u, 1000u, 3000u, 4097u}) {
    SCOPED_TRACE("page size " + std::to_string(ps));
    Options o = TestOptions();
    o.page_size = ps;
    EXPECT_CODE(DB::Open(dir.File("db" + std::to_string(ps)), o), Code::kInvalidArgument);
  }
}

TEST(OpenTest, ErrPathRequired) {
  auto db = DB::Open("", TestOptions());
  EXPECT_FALSE(db.ok());
}

TEST(OpenTest, ErrNotExists) {
  TempDir dir;
  auto db = DB::Open(dir.File("no/such/dir/db"), TestOptions());
  EXPECT_FALSE(db.ok());
}

// A text file is not a database: "invalid database".
TEST(OpenTest, ErrInvalid) {
  TempDir dir;
  const std::string path = dir.File("db");
  WriteFileBytes(path, "this is not a bolt database");
  auto db = DB::Open(path, TestOptions());
  EXPECT_CODE(db, Code::kInvalid);
  EXPECT_EQ(ReadFileBytes(path), "this is not a bolt database") << "a failed open must not write";
}

// Both metas with version 3 (checksums left stale): version is checked
// before the checksum.
TEST(OpenTest, ErrVersionMismatch) {
  TempDir dir;
  const std::string path = MakeClosedDB(dir);
  PatchFile(path, 20, EncodeLE<uint32_t>(3));
  PatchFile(path, kPS + 20, EncodeLE<uint32_t>(3));
  EXPECT_CODE(DB::Open(path, TestOptions()), Code::kVersionMismatch);
}

TEST(OpenTest, ErrChecksum) {
  TempDir dir;
  const std::string path = MakeClosedDB(dir);
  for (uint64_t off : {uint64_t{0}, uint64_t{kPS}}) {
    std::string f = ReadFileBytes(path);
    PatchFile(path, off + 72, EncodeLE<uint64_t>(ParseMeta(f, off).checksum ^ 1));
  }
  EXPECT_CODE(DB::Open(path, TestOptions()), Code::kChecksum);
}

TEST(OpenTest, ErrInvalidBothMagics) {
  TempDir dir;
  const std::string path = MakeClosedDB(dir);
  PatchFile(path, 16, EncodeLE<uint32_t>(0x12345678));
  PatchFile(path, kPS + 16, EncodeLE<uint32_t>(0x12345678));
  EXPECT_CODE(DB::Open(path, TestOptions()), Code::kInvalid);
}

// docs/format.md "Meta pages (0 and 1)" [verified]: a damaged newest meta
// makes the database open at the previous transaction; the next writer
// reuses the txid and overwrites the damaged slot.
class OpenMetaFallbackTest : public ::testing::TestWithParam<int> {};

TEST_P(OpenMetaFallbackTest, UsesOlderMeta) {
  const int damage = GetParam();  // 0 checksum, 1 magic, 2 version
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Update([](Tx& tx) { return tx.CreateBucket("a").status(); }));  // txid 2
  ASSERT_OK(t->Update([](Tx& tx) { return tx.CreateBucket("b").status(); }));  // txid 3
  t.Close();
  const uint64_t off = 3 % 2 * kPS;
  ASSERT_EQ(ParseMeta(ReadFileBytes(t.path()), off).txid, 3u);
  switch (damage) {
    case 0:
      PatchFile(t.path(), off + 72, EncodeLE<uint64_t>(0xdeadbeef));
      break;
    case 1:
      PatchFile(t.path(), off + 16, EncodeLE<uint32_t>(0xdeadbeef));
      break;
    case 2:
      PatchFile(t.path(), off + 20, EncodeLE<uint32_t>(99));
      break;
  }
  ASSERT_TRUE(t.Open());
  EXPECT_EQ(CurrentTxid(t.db()), 2u);
  ASSERT_OK(t->View([](Tx& tx) {
    EXPECT_TRUE(tx.GetBucket("a"));
    EXPECT_FALSE(tx.GetBucket("b")) << "bucket of the damaged meta's transaction must be gone";
    return Status::OK();
  }));
  t.MustCheck();
  ASSERT_OK(t->Update([](Tx& tx) {
    EXPECT_EQ(tx.ID(), 3u);
    return tx.CreateBucket("c").status();
  }));
  t.Close();
  RawMeta m = ParseMeta(ReadFileBytes(t.path()), off);
  EXPECT_TRUE(m.valid()) << "txid 3 rewrote the damaged slot";
  EXPECT_EQ(m.txid, 3u);
}

INSTANTIATE_TEST_SUITE_P(Damage, OpenMetaFallbackTest, ::testing::Values(0, 1, 2));

// The older meta damaged instead: nothing changes.
TEST(OpenTest, OlderMetaDamaged) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Update([](Tx& tx) { return tx.CreateBucket("a").status(); }));  // txid 2 -> meta0
  t.Close();
  PatchFile(t.path(), kPS + 72, EncodeLE<uint64_t>(1));  // meta1 (txid 1)
  ASSERT_TRUE(t.Open());
  EXPECT_EQ(CurrentTxid(t.db()), 2u);
  ASSERT_OK(t->View([](Tx& tx) {
    EXPECT_TRUE(tx.GetBucket("a"));
    return Status::OK();
  }));
}

// Whether reading every bucket and key of db, or Check(), reports damage.
bool DamageNoticed(DB* db) {
  DBSnap snap;
  if (!SnapshotDB(db, &snap).ok()) return true;
  auto tx = db->Begin(false);
  return tx.ok() && !tx->Check().empty();
}

// Truncated files give errors (or, if they still open, errors on use), never crashes.
TEST(OpenTest, TruncatedFiles) {
  TempDir dir;
  const std::string path = MakeClosedDB(dir, 20);
  const std::string original = ReadFileBytes(path);
  const RawMeta m = ActiveMeta(original, kPS);
  ASSERT_GT(m.pgid, 8u);
  for (uint64_t size : {uint64_t{1}, uint64_t{100}, uint64_t{1024}, uint64_t{4095}, uint64_t{kPS},
                        uint64_t{kPS + 100}, uint64_t{2 * kPS}, uint64_t{3 * kPS},
                        uint64_t{m.pgid / 2 * kPS}, uint64_t{(m.pgid - 1) * kPS}}) {
    SCOPED_TRACE("truncated to " + std::to_string(size));
    WriteFileBytes(path, std::string_view(original).substr(0, size));
    auto db = DB::Open(path, TestOptions());
    if (!db.ok()) {
      EXPECT_NE(db.status().code(), Code::kOk);
      continue;
    }
    // It opened: the missing pages must show up as errors, not crashes.
    const bool noticed = DamageNoticed(db->get());
    // Only a missing page that is in use must be noticed; losing free
    // pages at the end of the file loses nothing.
    // The engine may refuse a meta whose pages are missing and fall back to
    // the older one (as if the last commit was torn): then only the older
    // meta's pages count.
    const uint64_t txid = CurrentTxid(db->get());
    const RawMeta older = ParseMeta(original, (m.txid + 1) % 2 * kPS);
    ASSERT_TRUE(txid == m.txid || txid == older.txid) << "opened at txid " << txid;
    const RawMeta& used = txid == m.txid ? m : older;
    std::string lost;
    for (uint64_t id : ReachablePages(original, kPS, used)) {
      if ((id + 1) * kPS > size) lost += " " + std::to_string(id);
    }
    if (!lost.empty()) {
      EXPECT_TRUE(noticed) << "a file missing pages in use (" << lost << " ; txid " << used.txid
                           << ", root " << used.root << ", freelist " << used.freelist << ", pgid "
                           << used.pgid << ") opened, read and checked clean";
    }
    EXPECT_OK((*db)->Close());
  }
  // A 0-byte file is a new database (bbolt initializes empty files).
  WriteFileBytes(path, "");
  auto db = DB::Open(path, TestOptions());
  ASSERT_OK(db);
  ASSERT_OK((*db)->Close());
  EXPECT_EQ(FileSizeOf(path), 4u * kPS);
}

// Random bytes are not a database.
TEST(OpenTest, GarbageFiles) {
  TempDir dir;
  const std::string path = dir.File("db");
  Random rnd(SeedOr(42));
  for (size_t size : {size_t{1}, size_t{15}, size_t{100}, size_t{4095}, size_t{4096}, size_t{8192},
                      size_t{16384}, size_t{65536}, size_t{100001}}) {
    SCOPED_TRACE("garbage of " + std::to_string(size) + " bytes");
    WriteFileBytes(path, rnd.Bytes(size));
    auto db = DB::Open(path, TestOptions());
    EXPECT_FALSE(db.ok());
    if (db.ok()) {
      EXPECT_OK((*db)->Close());
    }
  }
}

// Valid metas over garbage data pages: reads report corruption, never crash.
TEST(OpenTest, CorruptDataPagesDoNotCrash) {
  TempDir dir;
  const std::string path = MakeClosedDB(dir, 20);
  const std::string original = ReadFileBytes(path);
  const RawMeta m = ActiveMeta(original, kPS);
  const uint64_t seed = SeedOr(7);
  Random rnd(seed);
  RecordProperty("seed", std::to_string(seed));
  int detected = 0;
  for (int round = 0; round < 60; ++round) {
    std::string f = original;
    const uint64_t page = 2 + rnd.Uniform(m.pgid - 2);
    const int mode = static_cast<int>(rnd.Uniform(3));
    if (mode == 0) {  // whole page random
      std::string junk = rnd.Bytes(kPS);
      f.replace(page * kPS, kPS, junk);
    } else if (mode == 1) {  // a few random bytes in the header / element area
      for (int i = 0; i < 4; ++i) f[page * kPS + rnd.Uniform(64)] = static_cast<char>(rnd.Next());
    } else {  // huge counts / overflow
      std::string v = EncodeLE<uint16_t>(static_cast<uint16_t>(rnd.Next()));
      f.replace(page * kPS + 10, 2, v);
      std::string o = EncodeLE<uint32_t>(static_cast<uint32_t>(rnd.Next()));
      f.replace(page * kPS + 12, 4, o);
    }
    WriteFileBytes(path, f);
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round) + " page " +
                 std::to_string(page) + " mode " + std::to_string(mode));
    Options o = TestOptions();
    o.read_only = true;  // do not let a failed open "repair" anything
    auto db = DB::Open(path, o);
    if (!db.ok()) {
      ++detected;
      continue;
    }
    if (DamageNoticed(db->get())) ++detected;
    EXPECT_OK((*db)->Close());
  }
  EXPECT_GT(detected, 0);
}

// ---------------------------------------------------------------- read-only and locks

TEST(OpenTest, ReadOnlyMissingFile) {
  TempDir dir;
  Options o = TestOptions();
  o.read_only = true;
  auto db = DB::Open(dir.File("missing"), o);
  EXPECT_FALSE(db.ok());
  EXPECT_FALSE(FileExists(dir.File("missing"))) << "read-only open must not create the file";
}

TEST(DBTest, ReadOnly) {
  TempDir dir;
  const std::string path = MakeClosedDB(dir);
  const std::string before = ReadFileBytes(path);
  Options o = TestOptions();
  o.read_only = true;
  auto db = DB::Open(path, o);
  ASSERT_OK(db);
  EXPECT_TRUE((*db)->IsReadOnly());
  // A second read-only handle shares the lock.
  auto db2 = DB::Open(path, o);
  ASSERT_OK(db2);
  ASSERT_OK((*db)->View([](Tx& tx) {
    Bucket b = tx.GetBucket("bucket1");
    EXPECT_TRUE(b);
    if (b) {
      EXPECT_EQ(Str(b.Get(U64Key(3))), std::string(100, 'b'));
    }
    EXPECT_FALSE(tx.Writable());
    return Status::OK();
  }));
  EXPECT_CODE((*db)->Begin(true), Code::kDatabaseReadOnly);
  EXPECT_CODE((*db)->Update([](Tx&) { return Status::OK(); }), Code::kDatabaseReadOnly);
  EXPECT_CODE((*db)->Batch([](Tx&) { return Status::OK(); }), Code::kDatabaseReadOnly);
  {
    ASSERT_OK_AND_ASSIGN(Tx tx, (*db)->Begin(false));
    EXPECT_CODE(tx.CreateBucket("x"), Code::kTxNotWritable);
    EXPECT_CODE(tx.Commit(), Code::kTxNotWritable);
  }
  ASSERT_OK((*db2)->Close());
  ASSERT_OK((*db)->Close());
  EXPECT_TRUE(ReadFileBytes(path) == before) << "a read-only session must not change the file";
}

TEST(DBTest, ReadOnlyDoesNoWriteCalls) {
  TempDir dir;
  const std::string path = MakeClosedDB(dir);
  FaultFileSystem fs;
  Options o = TestOptions();
  o.read_only = true;
  o.file_system = &fs;
  auto db = DB::Open(path, o);
  ASSERT_OK(db);
  DBSnap snap;
  ASSERT_OK(SnapshotDB(db->get(), &snap));
  EXPECT_EQ(snap.size(), 4u);
  ASSERT_OK((*db)->Close());
  EXPECT_EQ(fs.injector().count(FaultOp::kWrite), 0);
  EXPECT_EQ(fs.injector().count(FaultOp::kTruncate), 0);
}

// Two read-write handles in one process conflict (flock is per open file
// description): the second open times out within its timeout.
TEST(OpenTest, Timeout) {
  TempDir dir;
  const std::string path = dir.File("db");
  auto db1 = DB::Open(path, TestOptions());
  ASSERT_OK(db1);
  Options o = TestOptions();
  o.timeout = milliseconds(300);
  auto start = Clock::now();
  auto db2 = DB::Open(path, o);
  auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  EXPECT_CODE(db2, Code::kTimeout);
  EXPECT_GE(elapsed.count(), 200) << "gave up too early";
  EXPECT_LE(elapsed.count(), 1500) << "waited far past the timeout";

  // A negative timeout tries once.
  o.timeout = milliseconds(-1);
  start = Clock::now();
  EXPECT_CODE(DB::Open(path, o), Code::kTimeout);
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(Clock::now() - start).count(), 500);

  // Read-only handles are refused too while a writer holds the file.
  o.read_only = true;
  EXPECT_CODE(DB::Open(path, o), Code::kTimeout);

  // Close releases the lock.
  ASSERT_OK((*db1)->Close());
  o.read_only = false;
  auto db3 = DB::Open(path, o);
  ASSERT_OK(db3);
  ASSERT_OK((*db3)->Close());
}

TEST(OpenTest, ReadOnlyBlocksWriter) {
  TempDir dir;
  const std::string path = MakeClosedDB(dir);
  Options ro = TestOptions();
  ro.read_only = true;
  auto reader = DB::Open(path, ro);
  ASSERT_OK(reader);
  Options rw = TestOptions();
  rw.timeout = milliseconds(150);
  EXPECT_CODE(DB::Open(path, rw), Code::kTimeout);
  ASSERT_OK((*reader)->Close());
  auto writer = DB::Open(path, rw);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->Close());
}

// The lock is retried until it is released (within the timeout).
TEST(OpenTest, WaitsForLock) {
  TempDir dir;
  const std::string path = dir.File("db");
  auto db1 = DB::Open(path, TestOptions());
  ASSERT_OK(db1);
  std::thread closer([&] {
    std::this_thread::sleep_for(milliseconds(200));
    EXPECT_OK((*db1)->Close());
  });
  Options o = TestOptions();
  o.timeout = milliseconds(5000);
  auto start = Clock::now();
  auto db2 = DB::Open(path, o);
  auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  closer.join();
  ASSERT_OK(db2);
  EXPECT_GE(elapsed, 100);
  ASSERT_OK((*db2)->Close());
}

// A lock call that fails for another reason than contention is an error.
TEST(OpenTest, LockError) {
  TempDir dir;
  FaultFileSystem fs;
  Options o = TestOptions();
  o.file_system = &fs;
  fs.injector().FailAlways(FaultOp::kLock);
  auto db = DB::Open(dir.File("db"), o);
  EXPECT_FALSE(db.ok());
  EXPECT_NE(db.status().code(), Code::kOk);
  fs.injector().ClearAll();
  auto again = DB::Open(dir.File("db"), o);
  ASSERT_OK(again);
  ASSERT_OK((*again)->Close());
}

// ---------------------------------------------------------------- options

TEST(DBTest, MaxSize) {
  Options o = TestOptions();
  o.max_size = 1 << 20;
  o.no_sync = true;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Update([](Tx& tx) { return tx.CreateBucket("b").status(); }));
  Status last;
  int committed = 0;
  for (int i = 0; i < 100; ++i) {
    last = t->Update(
        [&](Tx& tx) { return tx.GetBucket("b").Put(U64Key(i), std::string(60000, 'm')); });
    if (!last.ok()) break;
    ++committed;
  }
  EXPECT_CODE(last, Code::kMaxSizeReached);
  EXPECT_GT(committed, 5);
  EXPECT_LE(FileSizeOf(t.path()), uint64_t{1} << 20);
  // Still usable: data intact, small changes that fit still commit.
  auto all = ReadAll(t.db(), "b");
  EXPECT_EQ(all.size(), static_cast<size_t>(committed));
  EXPECT_FALSE(all.count(U64Key(committed))) << "the failed put must be rolled back";
  ASSERT_OK(t->Update([](Tx& tx) { return tx.GetBucket("b").Delete(U64Key(0)); }));
  ASSERT_TRUE(t.Reopen());
  EXPECT_EQ(ReadAll(t.db(), "b").size(), static_cast<size_t>(committed - 1));
}

TEST(DBTest, StrictMode) {
  Options o = TestOptions();
  o.strict_mode = true;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  Random rnd(3);
  for (int i = 0; i < 30; ++i) {
    ASSERT_OK(t->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists("b" + std::to_string(i % 3));
      BOLTPP_RETURN_IF_ERROR(b);
      for (int k = 0; k < 50; ++k)
        BOLTPP_RETURN_IF_ERROR(b->Put(rnd.Bytes(8), rnd.Bytes(rnd.Uniform(300))));
      if (i % 5 == 4) BOLTPP_RETURN_IF_ERROR(tx.DeleteBucket("b" + std::to_string((i + 1) % 3)));
      return Status::OK();
    }));
  }
}

// bbolt syncs twice per commit: data pages, then the meta page.
TEST(DBTest, SyncsPerCommit) {
  FaultFileSystem fs;
  Options o = TestOptions();
  o.file_system = &fs;
  o.initial_mmap_size = 1 << 20;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Update([](Tx& tx) { return tx.CreateBucket("b").status(); }));  // grows the file
  fs.injector().ResetCounts();
  ASSERT_OK(t->Update([](Tx& tx) { return tx.GetBucket("b").Put("k", "v"); }));
  EXPECT_EQ(fs.injector().count(FaultOp::kSync), 2);
  EXPECT_EQ(fs.injector().count(FaultOp::kTruncate), 0) << "no growth, no truncate";
  EXPECT_GE(fs.injector().count(FaultOp::kWrite), 2);
  fs.injector().ResetCounts();
  ASSERT_OK(t->Sync());
  EXPECT_EQ(fs.injector().count(FaultOp::kSync), 1);
}

TEST(DBTest, NoSync) {
  FaultFileSystem fs;
  Options o = TestOptions();
  o.file_system = &fs;
  o.no_sync = true;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  fs.injector().ResetCounts();
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(t->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists("b");
      BOLTPP_RETURN_IF_ERROR(b);
      return b->Put(U64Key(i), std::string(3000, 'n'));
    }));
  }
  EXPECT_EQ(fs.injector().count(FaultOp::kSync), 0) << "no_sync commits must not fdatasync";
  ASSERT_TRUE(t.Reopen());
  EXPECT_EQ(ReadAll(t.db(), "b").size(), 5u) << "data still reaches the file";
}

TEST(DBTest, NoGrowSync) {
  for (bool no_grow_sync : {false, true}) {
    SCOPED_TRACE(no_grow_sync ? "no_grow_sync" : "grow sync");
    FaultFileSystem fs;
    Options o = TestOptions();
    o.file_system = &fs;
    o.no_grow_sync = no_grow_sync;
    TestDB t(o);
    ASSERT_TRUE(t.Open());
    fs.injector().set_recording(true);
    ASSERT_OK(t->Update([](Tx& tx) -> Status {
      auto b = tx.CreateBucket("b");
      BOLTPP_RETURN_IF_ERROR(b);
      return b->Put("k", std::string(200000, 'x'));
    }));
    int truncates = 0;
    for (const auto& ev : fs.injector().events()) {
      if (ev.op != FaultOp::kTruncate) continue;
      ++truncates;
      EXPECT_EQ(ev.flag, !no_grow_sync) << "Truncate(size=" << ev.offset << ", sync)";
      EXPECT_GT(ev.offset, 16384u) << "the file only grows";
    }
    EXPECT_GE(truncates, 1) << "the commit grew the file";
    t.Finish();
  }
}

// mlock and MAP_POPULATE are accepted (mlock may be refused by the OS limit).
TEST(DBTest, MmapFlags) {
  Options o = TestOptions();
  o.mmap_populate = true;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  ASSERT_OK(PutAll(t.db(), "b", {{"a", "1"}}));
  EXPECT_EQ(ReadAll(t.db(), "b").at("a"), "1");
}

// Stats (docs/design.md "Transactions and concurrency"): after the first bucket commit the
// two old pages are pending; the next writer releases them and takes one for its freelist.
TEST(DBTest, Stats) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  Stats s0 = t->GetStats();
  EXPECT_EQ(s0.open_tx_n, 0);
  ASSERT_OK(t->Update([](Tx& tx) { return tx.CreateBucket("widgets").status(); }));
  Stats s1 = t->GetStats();
  EXPECT_EQ(s1.free_page_n, 0);
  EXPECT_EQ(s1.pending_page_n, 2);
  EXPECT_EQ(s1.free_alloc, 2 * 4096);
  EXPECT_EQ(s1.freelist_inuse, 16 + 2 * 8);
  EXPECT_GT(s1.tx_stats.write, 0);
  EXPECT_GT(s1.tx_stats.page_count, 0);

  ASSERT_OK(t->Update([](Tx&) { return Status::OK(); }));  // an empty commit
  Stats s2 = t->GetStats();
  EXPECT_EQ(s2.free_page_n, 1) << "pages 2,3 released; one reused for the freelist";
  EXPECT_EQ(s2.pending_page_n, 1) << "the previous freelist page";

  // Read transactions are counted.
  const int64_t tx_n = s2.tx_n;
  ASSERT_OK(t->View([](Tx&) { return Status::OK(); }));
  ASSERT_OK(t->View([](Tx&) { return Status::OK(); }));
  EXPECT_EQ(t->GetStats().tx_n, tx_n + 2);
  {
    ASSERT_OK_AND_ASSIGN(Tx r1, t->Begin(false));
    ASSERT_OK_AND_ASSIGN(Tx r2, t->Begin(false));
    EXPECT_EQ(t->GetStats().open_tx_n, 2);
  }
  EXPECT_EQ(t->GetStats().open_tx_n, 0);

  TxStats diff = t->GetStats().tx_stats.Sub(s1.tx_stats);
  EXPECT_GE(diff.write, 1);
}

TEST(DBTest, Info) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  Info info = t->GetInfo();
  EXPECT_EQ(info.page_size, 4096u);
  ASSERT_NE(info.data, nullptr);
  // The map starts at page 0: meta0's magic at offset 16.
  EXPECT_EQ(LoadLE<uint32_t>(std::string_view(reinterpret_cast<const char*>(info.data), 32), 16),
            kRawMagic);
}

TEST(DBTest, CloseIdempotent) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Close());
  ASSERT_OK(t->Close());
  EXPECT_CODE(t->Begin(false), Code::kDatabaseNotOpen);
  EXPECT_CODE(t->Begin(true), Code::kDatabaseNotOpen);
  EXPECT_CODE(t->Update([](Tx&) { return Status::OK(); }), Code::kDatabaseNotOpen);
  EXPECT_CODE(t->View([](Tx&) { return Status::OK(); }), Code::kDatabaseNotOpen);
  EXPECT_CODE(t->Batch([](Tx&) { return Status::OK(); }), Code::kDatabaseNotOpen);
}

// Close waits for open transactions (bbolt: Close "waits for all transactions").
TEST(DBTest, CloseWaitsForReadTx) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  ASSERT_OK(PutAll(t.db(), "b", {{"k", "v"}}));
  auto tx = t->Begin(false);
  ASSERT_OK(tx);
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    EXPECT_OK(t->Close());
    closed = true;
  });
  std::this_thread::sleep_for(milliseconds(150));
  EXPECT_FALSE(closed.load()) << "Close returned while a read transaction was open";
  // The reader still works.
  EXPECT_EQ(Str(tx->GetBucket("b").Get("k")), "v");
  ASSERT_OK(tx->Rollback());
  closer.join();
  EXPECT_TRUE(closed.load());
}

TEST(DBTest, CloseWaitsForWriteTx) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  auto tx = t->Begin(true);
  ASSERT_OK(tx);
  ASSERT_OK(tx->CreateBucket("b"));
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    EXPECT_OK(t->Close());
    closed = true;
  });
  std::this_thread::sleep_for(milliseconds(150));
  EXPECT_FALSE(closed.load()) << "Close returned while a write transaction was open";
  ASSERT_OK(tx->Commit());
  closer.join();
  ASSERT_TRUE(t.Reopen());
  EXPECT_TRUE(ReadAll(t.db(), "b").empty());
  ASSERT_OK(t->View([](Tx& tx2) {
    EXPECT_TRUE(tx2.GetBucket("b"));
    return Status::OK();
  }));
}

TEST(DBTest, Sync) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  EXPECT_OK(t->Sync());
}

// Both freelist types give the same data and reopen each other's files.
TEST(DBTest, FreelistTypesInterchangeable) {
  TempDir dir;
  const std::string path = dir.File("db");
  DBSnap previous;
  for (FreelistType type : {FreelistType::kArray, FreelistType::kHashMap, FreelistType::kArray}) {
    SCOPED_TRACE(FreelistName(type));
    Options o = TestOptions();
    o.freelist_type = type;
    auto db = DB::Open(path, o);
    ASSERT_OK(db);
    DBSnap at_open;
    ASSERT_OK(SnapshotDB(db->get(), &at_open));
    if (!previous.empty()) {
      EXPECT_EQ(DiffSnaps(previous, at_open), "");
    }
    Random rnd(static_cast<uint64_t>(type) + 11);
    for (int i = 0; i < 20; ++i) {
      ASSERT_OK((*db)->Update([&](Tx& tx) -> Status {
        auto b = tx.CreateBucketIfNotExists("b" + std::to_string(rnd.Uniform(4)));
        BOLTPP_RETURN_IF_ERROR(b);
        for (int k = 0; k < 40; ++k) {
          BOLTPP_RETURN_IF_ERROR(b->Put(rnd.SmallAlphabet(3), rnd.Bytes(rnd.Uniform(2000))));
        }
        if (rnd.OneIn(4)) {
          Status s = tx.DeleteBucket("b" + std::to_string(rnd.Uniform(4)));
          if (!s.ok() && s.code() != Code::kBucketNotFound) return s;
        }
        return Status::OK();
      }));
    }
    ASSERT_OK(SnapshotDB(db->get(), &previous));
    auto tx = (*db)->Begin(false);
    ASSERT_OK(tx);
    EXPECT_EQ(tx->Check(), std::vector<std::string>{});
    ASSERT_OK(tx->Rollback());
    ASSERT_OK((*db)->Close());
  }
}

// bbolt TestCompact: every bucket, key, value and sequence is copied.
TEST(DBTest, Compact) {
  TestDB src(TestOptions(), "src");
  ASSERT_TRUE(src.Open());
  Random rnd(5);
  ASSERT_OK(src->Update([&](Tx& tx) -> Status {
    for (int i = 0; i < 5; ++i) {
      auto b = tx.CreateBucket("top" + std::to_string(i));
      BOLTPP_RETURN_IF_ERROR(b);
      BOLTPP_RETURN_IF_ERROR(b->SetSequence(100 + i));
      for (int k = 0; k < 200; ++k)
        BOLTPP_RETURN_IF_ERROR(b->Put(rnd.Bytes(10), rnd.Bytes(rnd.Uniform(500))));
      auto nested = b->CreateBucket("nested");
      BOLTPP_RETURN_IF_ERROR(nested);
      BOLTPP_RETURN_IF_ERROR(nested->SetSequence(7));
      BOLTPP_RETURN_IF_ERROR(nested->Put("big", rnd.Bytes(9000)));
      BOLTPP_RETURN_IF_ERROR(nested->CreateBucket("empty"));
    }
    return Status::OK();
  }));
  // Churn so that the source has free pages.
  ASSERT_OK(src->Update([&](Tx& tx) { return tx.DeleteBucket("top2"); }));
  DBSnap want;
  ASSERT_OK(SnapshotDB(src.db(), &want));

  TestDB dst(TestOptions(), "dst");
  ASSERT_TRUE(dst.Open());
  ASSERT_OK(Compact(*dst.db(), *src.db(), 4096));
  DBSnap got;
  ASSERT_OK(SnapshotDB(dst.db(), &got));
  EXPECT_EQ(DiffSnaps(want, got), "");
  dst.MustCheck();
  EXPECT_LE(FileSizeOf(dst.path()), FileSizeOf(src.path()));
  // Compacting into a non-empty database fails like bbolt.
  EXPECT_CODE(Compact(*dst.db(), *src.db(), 0), Code::kBucketExists);
}

}  // namespace
}  // namespace boltpp::testing
