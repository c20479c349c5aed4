// File: tests/api/shrink_test.cc
// Files that shrink (docs/design.md "Files that shrink"): the free tail
// given back at commit (TxImpl::TrimFreeTail, DBImpl::TruncateTail) and
// DB::Shrink moving pages down on a live database. Every test runs with both
// freelist types and checks the file (TestDB's teardown runs Tx::Check).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <filesystem>
#include <thread>

#include "freelist/freelist.h"

#include "testutil/fault_fs.h"
#include "testutil/random.h"
#include "testutil/raw_file.h"
#include "testutil/snapshot.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

constexpr uint64_t kPS = 4096;

class ShrinkTest : public ::testing::TestWithParam<FreelistType> {
 protected:
  Options Opts() {
    Options o = TestOptions();
    o.freelist_type = GetParam();
    return o;
  }
};

std::string Value(uint64_t i, size_t n) {
  std::string v(n, 'v');
  for (size_t k = 0; k < n && k < 8; k++) v[k] = static_cast<char>('a' + (i >> (4 * k)) % 16);
  return v;
}

// Puts keys [from, to) into bucket `name`, `per_tx` per transaction.
void Fill(DB* db, const std::string& name, uint64_t from, uint64_t to, size_t value_size,
          uint64_t per_tx = 1000) {
  for (uint64_t i = from; i < to; i += per_tx) {
    ASSERT_OK(db->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists(name);
      BOLTPP_RETURN_IF_ERROR(b);
      for (uint64_t k = i; k < std::min(to, i + per_tx); k++) {
        BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(k), Value(k, value_size)));
      }
      return Status::OK();
    }));
  }
}

uint64_t HighWater(DB* db) {
  auto tx = db->Begin(false);
  EXPECT_TRUE(tx.ok());
  return static_cast<uint64_t>(tx->Size()) / kPS;
}

Status EmptyCommit(DB* db) {
  return db->Update([](Tx&) { return Status::OK(); });
}

// ---------------------------------------------------------------- at commit

// The largest page id below the high-water mark that is not free or
// pending (Tx::Page cannot name the pages inside an overflow run: those
// belong to a page in use).
uint64_t TopUsedPage(DB* db) {
  auto tx = db->Begin(false);
  EXPECT_TRUE(tx.ok());
  for (uint64_t id = static_cast<uint64_t>(tx->Size()) / kPS; id-- > 0;) {
    auto info = tx->Page(id);
    if (!info.ok() || !*info || (*info)->type != "free") return id;
  }
  return 0;
}

// The file size the truncation rule keeps for high-water mark hwm (pages):
// the growth size for hwm + hwm/4 + 1 pages (docs/format.md "Truncation").
uint64_t RuleSize(uint64_t hwm) {
  const uint64_t bytes = (hwm + hwm / 4 + 1) * kPS;
  uint64_t m = 32768;
  while (m < bytes) m *= 2;
  return m <= (16u << 20) ? m : bytes + (16u << 20);
}

// Deleting the data at the end of the file: the commit that frees it keeps
// it pending; the next commits trim it and truncate the file by the rule.
TEST_P(ShrinkTest, CommitTruncatesFreeTail) {
  TestDB t(Opts());
  ASSERT_TRUE(t.Open());
  Fill(t.db(), "keep", 0, 200, 100);
  Fill(t.db(), "tail", 0, 4000, 500);
  const uint64_t big_size = FileSizeOf(t.path());
  const uint64_t big_hwm = HighWater(t.db());
  ASSERT_OK(t->Update([](Tx& tx) { return tx.DeleteBucket("tail"); }));
  EXPECT_EQ(FileSizeOf(t.path()), big_size) << "freed pages are pending under the deleting tx";
  // The deleting commit wrote the new root page at the end (nothing was
  // free yet): the first change to the top level moves it down.
  Fill(t.db(), "keep", 200, 201, 100);
  ASSERT_OK(EmptyCommit(t.db()));
  ASSERT_OK(EmptyCommit(t.db()));
  const uint64_t hwm = HighWater(t.db());
  EXPECT_LT(hwm, big_hwm) << "the free tail is trimmed";
  // The array freelist allocates first fit, lowest first, so the pages in
  // use end up low; the hashmap one takes the best-sized span, which may lie
  // in the freed region and keep part of it (DB::Shrink moves it), the
  // freelist page (pending for a commit after it moves) included.
  if (GetParam() == FreelistType::kArray) {
    EXPECT_EQ(TopUsedPage(t.db()), hwm - 1) << "no free page is left at the end";
    EXPECT_LT(FileSizeOf(t.path()), big_size);
  }
  EXPECT_LE(FileSizeOf(t.path()), RuleSize(hwm));
  t.MustCheck();
  ASSERT_TRUE(t.Reopen());
  EXPECT_EQ(ReadAll(t.db(), "keep").size(), 201u);
  EXPECT_EQ(HighWater(t.db()), hwm);
}

// The freelist written after a trim names no page at or past the new
// high-water mark (Check verifies every id, and the reopened freelist
// loads without "beyond the high-water mark").
TEST_P(ShrinkTest, FreelistBelowHighWaterAfterTrim) {
  TestDB t(Opts());
  ASSERT_TRUE(t.Open());
  Random rnd(SeedOr(7));
  SCOPED_TRACE("seed " + std::to_string(rnd.seed()));
  for (int round = 0; round < 20; round++) {
    const uint64_t base = rnd.Uniform(50) * 100;
    Fill(t.db(), "b" + std::to_string(rnd.Uniform(3)), base, base + rnd.Uniform(600), 300, 200);
    ASSERT_OK(t->Update([&](Tx& tx) -> Status {
      Bucket b = tx.GetBucket("b" + std::to_string(rnd.Uniform(3)));
      if (!b) return Status::OK();
      Cursor c = b.NewCursor();
      for (auto e = c.First(); e; e = c.Next()) {
        if (rnd.Percent(70)) BOLTPP_RETURN_IF_ERROR(c.Delete());
      }
      return Status::OK();
    }));
    ASSERT_OK(EmptyCommit(t.db()));
    t.MustCheck();
    EXPECT_GE(FileSizeOf(t.path()), HighWater(t.db()) * kPS);
  }
  ASSERT_TRUE(t.Reopen());
  const Stats s = t->GetStats();
  EXPECT_LT(static_cast<uint64_t>(s.free_page_n), HighWater(t.db()));
}

// The growth rule and its slack: one page more or less at the end never
// makes the file grow and shrink in turn.
TEST_P(ShrinkTest, NoOscillation) {
  TestDB t(Opts());
  ASSERT_TRUE(t.Open());
  Fill(t.db(), "b", 0, 3000, 200);
  const uint64_t size = FileSizeOf(t.path());
  int changes = 0;
  uint64_t last = size;
  for (int i = 0; i < 30; i++) {
    ASSERT_OK(t->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists("x");
      BOLTPP_RETURN_IF_ERROR(b);
      return i % 2 == 0 ? b->Put("big", std::string(3 * kPS, 'x')) : b->Delete("big");
    }));
    const uint64_t now = FileSizeOf(t.path());
    if (now != last) changes++;
    last = now;
  }
  EXPECT_LE(changes, 1) << "the file size must settle";
}

// A reader that began before the delete keeps the deleted pages pending:
// they are not trimmed (nor the file cut below that reader's snapshot)
// until it ends, and it reads its data meanwhile.
TEST_P(ShrinkTest, PendingPagesOfOpenReaderAreKept) {
  TestDB t(Opts());
  ASSERT_TRUE(t.Open());
  Fill(t.db(), "keep", 0, 100, 100);
  Fill(t.db(), "tail", 0, 3000, 500);
  const uint64_t big_size = FileSizeOf(t.path());
  ASSERT_OK_AND_ASSIGN(Tx reader, t->Begin(false));
  ASSERT_OK(t->Update([](Tx& tx) { return tx.DeleteBucket("tail"); }));
  for (int i = 0; i < 3; i++) ASSERT_OK(EmptyCommit(t.db()));
  EXPECT_EQ(FileSizeOf(t.path()), big_size);
  size_t n = 0;
  Cursor c = reader.GetBucket("tail").NewCursor();
  for (auto e = c.First(); e; e = c.Next()) {
    ASSERT_EQ(e->value, Value(U64FromKey(std::string(e->key)), 500));
    n++;
  }
  EXPECT_EQ(n, 3000u);
  EXPECT_TRUE(reader.Check().empty());
  ASSERT_OK(reader.Rollback());
  Fill(t.db(), "keep", 100, 101, 100);  // moves the root page down (see above)
  ASSERT_OK(EmptyCommit(t.db()));
  ASSERT_OK(EmptyCommit(t.db()));
  if (GetParam() == FreelistType::kArray) {  // see CommitTruncatesFreeTail
    EXPECT_LT(FileSizeOf(t.path()), big_size);
    EXPECT_EQ(TopUsedPage(t.db()), HighWater(t.db()) - 1);
  }
}

// no_freelist_sync: the trimmed file reopens (the scan finds no page past
// the mark), with and without the option.
TEST_P(ShrinkTest, NoFreelistSyncReopen) {
  Options o = Opts();
  o.no_freelist_sync = true;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  Fill(t.db(), "keep", 0, 100, 100);
  Fill(t.db(), "tail", 0, 3000, 500);
  const uint64_t big = FileSizeOf(t.path());
  ASSERT_OK(t->Update([](Tx& tx) { return tx.DeleteBucket("tail"); }));
  Fill(t.db(), "keep", 100, 101, 100);  // moves the root page down
  ASSERT_OK(EmptyCommit(t.db()));
  ASSERT_OK(EmptyCommit(t.db()));
  // The hashmap freelist may place "keep" in the freed region (see
  // CommitTruncatesFreeTail): whether the tail is trimmed then depends on
  // how the deleted bucket's pages lay; DB::Shrink moves them down.
  if (GetParam() == FreelistType::kHashMap) {
    ASSERT_TRUE(t->Shrink().ok());
  }
  EXPECT_LT(FileSizeOf(t.path()), big);
  ASSERT_TRUE(t.Reopen());
  EXPECT_EQ(ReadAll(t.db(), "keep").size(), 101u);
  t.MustCheck();
  t.options().no_freelist_sync = false;
  ASSERT_TRUE(t.Reopen());
  EXPECT_EQ(ReadAll(t.db(), "keep").size(), 101u);
}

// ------------------------------------------------------------------ Shrink

// Shrinks, then checks contents, the file and the result's figures.
ShrinkResult ShrinkAndCheck(TestDB& t, const ShrinkOptions& so = {}) {
  DBSnap before, after;
  EXPECT_OK(SnapshotDB(t.db(), &before));
  auto r = t->Shrink(so);
  EXPECT_OK(r.status());
  if (!r.ok()) return {};
  EXPECT_OK(SnapshotDB(t.db(), &after));
  EXPECT_EQ(DiffSnaps(before, after), "");
  EXPECT_EQ(r->size_after, FileSizeOf(t.path()));
  EXPECT_LE(r->size_after, r->size_before);
  EXPECT_LE(r->high_water_after, r->high_water_before);
  t.MustCheck();
  return *r;
}

// Puts n random keys (100-byte values) into bucket "b", 2000 per
// transaction, then deletes every other one in one transaction: leaves about
// half full all over the file. Returns the keys, deleted ones included.
std::vector<uint64_t> FillThenDeleteHalf(DB* db, Random& rnd, size_t n) {
  std::vector<uint64_t> ids(n);
  for (uint64_t& id : ids) id = rnd.Next();
  for (size_t i = 0; i < ids.size(); i += 2000) {
    EXPECT_OK(db->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists("b");
      BOLTPP_RETURN_IF_ERROR(b);
      for (size_t k = i; k < std::min(ids.size(), i + 2000); k++)
        BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(ids[k]), Value(k, 100)));
      return Status::OK();
    }));
  }
  EXPECT_OK(db->Update([&](Tx& tx) -> Status {
    for (size_t k = 0; k < ids.size(); k += 2)
      BOLTPP_RETURN_IF_ERROR(tx.GetBucket("b").Delete(U64Key(ids[k])));
    return Status::OK();
  }));
  return ids;
}

// Half the keys deleted at random: Shrink packs and moves, and the file
// ends near the size compact gives.
TEST_P(ShrinkTest, HalfDeletedEndsNearCompactSize) {
  TestDB t(Opts());
  ASSERT_TRUE(t.Open());
  Random rnd(SeedOr(11));
  SCOPED_TRACE("seed " + std::to_string(rnd.seed()));
  const std::vector<uint64_t> ids = FillThenDeleteHalf(t.db(), rnd, 20000);
  TestDB compacted(Opts(), "compacted");
  ASSERT_TRUE(compacted.Open());
  ASSERT_OK(Compact(*compacted.db(), *t.db(), 65536));
  const uint64_t compact_hwm = HighWater(compacted.db());
  ShrinkResult r = ShrinkAndCheck(t, ShrinkOptions{256});
  EXPECT_GT(r.pages_moved, 0u);
  EXPECT_GT(r.transactions, 1) << "bounded batches";
  EXPECT_LE(r.high_water_after, compact_hwm + compact_hwm / 10) << "compact: " << compact_hwm;
  EXPECT_LE(r.size_after, FileSizeOf(compacted.path()) + FileSizeOf(compacted.path()) / 10);
  EXPECT_EQ(r.size_after, (r.high_water_after + 1) * kPS) << "cut to fit, no growth slack";
  ASSERT_TRUE(t.Reopen());
  EXPECT_EQ(ReadAll(t.db(), "b").size(), ids.size() / 2);
}

// A batch's pages land on runs of free pages and go out in few write calls
// (TxImpl::WritePages joins consecutive ids; one call per page before), and
// no batch writes much more than pages_per_tx pages (a packed run counts
// the pages it writes, not the leaves it reads).
TEST_P(ShrinkTest, BatchesWriteRunsOfPages) {
  FaultFileSystem fs;
  Options o = Opts();
  o.file_system = &fs;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  Random rnd(SeedOr(12));
  SCOPED_TRACE("seed " + std::to_string(rnd.seed()));
  FillThenDeleteHalf(t.db(), rnd, 20000);
  const int64_t pages_before = t->GetStats().tx_stats.write;
  fs.injector().ResetCounts();
  const ShrinkResult r = ShrinkAndCheck(t, ShrinkOptions{128});
  const int64_t pages = t->GetStats().tx_stats.write - pages_before;
  const int64_t calls = fs.injector().count(FaultOp::kWrite);
  std::cout << "pages written " << pages << ", write calls " << calls << ", transactions "
            << r.transactions << "\n";
  EXPECT_GT(pages, 300);
  EXPECT_LT(calls * 2, pages) << "consecutive pages are written with one call";
  // Settles write a freelist each; batches write <= 128 pages plus the
  // estimate's error and the branches above the packed leaves.
  EXPECT_GE(r.transactions, 2);
  EXPECT_LE(pages / r.transactions, 2 * 128);
}

// Large values (overflow pages) at the end of the file move into a hole
// lower down that is large enough.
TEST_P(ShrinkTest, OverflowPagesAtTail) {
  TestDB t(Opts());
  ASSERT_TRUE(t.Open());
  Fill(t.db(), "hole", 0, 400, 1000, 100);
  Fill(t.db(), "big", 0, 20, 5 * kPS, 5);
  ASSERT_OK(t->Update([](Tx& tx) { return tx.DeleteBucket("hole"); }));
  const uint64_t hwm = HighWater(t.db());
  ShrinkResult r = ShrinkAndCheck(t);
  EXPECT_LT(r.high_water_after, hwm / 2 + 20);
  EXPECT_EQ(ReadAll(t.db(), "big").size(), 20u);
}

// Nested buckets, many buckets, inline buckets and the freelist page at the
// tail all move, and a second shrink finds nothing left to do.
TEST_P(ShrinkTest, NestedAndManyBuckets) {
  TestDB t(Opts());
  ASSERT_TRUE(t.Open());
  Fill(t.db(), "hole", 0, 3000, 300);
  ASSERT_OK(t->Update([](Tx& tx) -> Status {
    for (int i = 0; i < 60; i++) {
      auto b = tx.CreateBucket("top" + std::to_string(i));
      BOLTPP_RETURN_IF_ERROR(b);
      BOLTPP_RETURN_IF_ERROR(b->SetSequence(static_cast<uint64_t>(i) + 5));
      for (int j = 0; j < (i % 3 == 0 ? 3 : 0); j++) {
        auto c = b->CreateBucket("nested" + std::to_string(j));
        BOLTPP_RETURN_IF_ERROR(c);
        auto d = c->CreateBucket("deeper");
        BOLTPP_RETURN_IF_ERROR(d);
        for (int k = 0; k < 40; k++) BOLTPP_RETURN_IF_ERROR(d->Put(U64Key(k), Value(k, 200)));
        BOLTPP_RETURN_IF_ERROR(c->Put("small", "inline"));
      }
      BOLTPP_RETURN_IF_ERROR(b->Put("k", "v"));
    }
    return Status::OK();
  }));
  ASSERT_OK(t->Update([](Tx& tx) { return tx.DeleteBucket("hole"); }));
  const uint64_t hwm = HighWater(t.db());
  ShrinkResult r = ShrinkAndCheck(t, ShrinkOptions{64});
  EXPECT_LT(r.high_water_after, hwm / 2);
  ShrinkResult again = ShrinkAndCheck(t);
  EXPECT_LE(again.high_water_after, r.high_water_after + 2) << "nothing much left to do";
  EXPECT_GE(again.high_water_after + 4, r.high_water_after) << "nothing much left to do";
  EXPECT_EQ(TopUsedPage(t.db()), again.high_water_after - 1);
}

// An empty database and a fresh one: nothing to do, nothing broken.
TEST_P(ShrinkTest, EmptyDatabase) {
  TestDB t(Opts());
  ASSERT_TRUE(t.Open());
  ShrinkResult r = ShrinkAndCheck(t);
  EXPECT_LE(r.high_water_after, 6u);
  Fill(t.db(), "b", 0, 2000, 200);
  ASSERT_OK(t->Update([](Tx& tx) { return tx.DeleteBucket("b"); }));
  r = ShrinkAndCheck(t);
  EXPECT_LE(r.high_water_after, 6u);
  EXPECT_EQ(r.size_after, (r.high_water_after + 1) * kPS) << "cut to fit, no growth slack";
  ASSERT_TRUE(t.Reopen());
}

// Readers verify their snapshot while Shrink runs in small batches and a
// writer keeps committing; afterwards the file checks clean and reopens.
TEST_P(ShrinkTest, ConcurrentReadersAndWriter) {
  TestDB t(Opts());
  ASSERT_TRUE(t.Open());
  Fill(t.db(), "hole", 0, 3000, 400);
  Fill(t.db(), "data", 0, 3000, 150);
  ASSERT_OK(t->Update([](Tx& tx) { return tx.DeleteBucket("hole"); }));
  const uint64_t hwm = HighWater(t.db());
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::string failure;
  std::thread reader([&] {
    while (!done) {
      Status s = t->View([&](Tx& tx) -> Status {
        Cursor c = tx.GetBucket("data").NewCursor();
        uint64_t n = 0;
        for (auto e = c.First(); e; e = c.Next(), n++) {
          if (e->value != Value(U64FromKey(std::string(e->key)), 150)) {
            return Status(Code::kCorruption, "bad value under " + Hex(e->key));
          }
        }
        if (n < 3000) return Status(Code::kCorruption, "lost keys: " + std::to_string(n));
        return c.status();
      });
      if (!s.ok() && failure.empty()) failure = s.ToString();
      reads++;
    }
  });
  std::thread writer([&] {
    for (uint64_t i = 0; !done; i++) {
      Status s = t->Update([&](Tx& tx) -> Status {
        auto b = tx.CreateBucketIfNotExists("w");
        BOLTPP_RETURN_IF_ERROR(b);
        return b->Put(U64Key(i % 50), Value(i, 100));
      });
      if (!s.ok() && failure.empty()) failure = "writer: " + s.ToString();
    }
  });
  while (reads.load() == 0) std::this_thread::yield();  // a loaded machine may start it late
  auto r = t->Shrink(ShrinkOptions{32});
  done = true;
  reader.join();
  writer.join();
  ASSERT_OK(r.status());
  EXPECT_EQ(failure, "");
  EXPECT_GT(reads.load(), 0);
  t.MustCheck();
  // Readers pinned pages and the writer allocated freely meanwhile; alone,
  // a second shrink finishes the job.
  auto alone = t->Shrink();
  ASSERT_OK(alone.status());
  EXPECT_LT(HighWater(t.db()), hwm * 6 / 10);
  ASSERT_TRUE(t.Reopen());
  EXPECT_EQ(ReadAll(t.db(), "data").size(), 3000u);
}

// WAL mode: the batches are logged commits and the settles checkpoints
// (docs/design.md "Files that shrink"). Shrink ends on a checkpoint, so the
// data file alone (no log) is the shrunk database with every key.
TEST_P(ShrinkTest, InWalMode) {
  Options o = Opts();
  o.wal = true;
  o.wal_checkpoint_interval = std::chrono::milliseconds(0);
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  Fill(t.db(), "hole", 0, 3000, 300);
  Fill(t.db(), "data", 0, 2000, 150);
  ASSERT_OK(t->Update([](Tx& tx) { return tx.DeleteBucket("hole"); }));
  const uint64_t hwm = HighWater(t.db());
  ShrinkResult r = ShrinkAndCheck(t, ShrinkOptions{64});
  EXPECT_GT(r.transactions, 1);
  EXPECT_LT(r.high_water_after, hwm / 2);
  EXPECT_LT(r.size_after, r.size_before);
  const WalInfo w = t->GetWalInfo();
  EXPECT_TRUE(w.present);
  EXPECT_EQ(w.pending_records, 0) << "Shrink ends on a checkpoint";
  const std::string copy = t.dir().File("data-file-alone.db");
  std::filesystem::copy_file(t.path(), copy);
  Options ro = TestOptions();
  ro.read_only = true;
  auto alone = DB::Open(copy, ro);
  ASSERT_OK(alone.status());
  EXPECT_EQ(HighWater(alone->get()), r.high_water_after);
  EXPECT_EQ(ReadAll(alone->get(), "data").size(), 2000u);
  ASSERT_OK((*alone)->Close());
  // Logged commits after the shrink replay over the shrunk file.
  Fill(t.db(), "data", 2000, 2100, 150);
  ASSERT_TRUE(t.Reopen());
  EXPECT_EQ(ReadAll(t.db(), "data").size(), 2100u);
}

// Freelist::TrimTail, exactly: it takes the run of free pages that ends at
// the high-water mark and nothing else -- not a pending page, not a free run
// below an id in use -- and a rollback gives the run back.
TEST_P(ShrinkTest, TrimTailTakesExactlyTheFreeRunAtTheEnd) {
  auto fl = Freelist::New(GetParam());
  ASSERT_OK(fl->Reload({10, 11, 12, 15, 16, 17, 18, 19}));
  fl->BeginTx(5);
  ASSERT_OK(fl->Free(5, 20, 0, false));  // pending under txid 5
  EXPECT_EQ(fl->TrimTail(21), 21u) << "a pending page at the end stays";
  EXPECT_EQ(fl->TrimTail(20), 15u);
  EXPECT_EQ(fl->AllIds(), (std::vector<pgid_t>{10, 11, 12, 20}));
  EXPECT_EQ(fl->Allocate(5, 5), 0u) << "trimmed pages are not handed out";
  fl->RollbackTx();
  EXPECT_EQ(fl->AllIds(), (std::vector<pgid_t>{10, 11, 12, 15, 16, 17, 18, 19}));
  // Page 20 freed and released: the runs join and the trim takes all of it.
  fl->BeginTx(6);
  ASSERT_OK(fl->Free(6, 20, 0, false));
  fl->CommitTx();
  fl->Release(6);
  fl->BeginTx(7);
  EXPECT_EQ(fl->TrimTail(21), 15u);
  EXPECT_EQ(fl->TrimTail(15), 15u) << "page 14 is in use";
  EXPECT_EQ(fl->TrimTail(13), 10u);
  EXPECT_EQ(fl->FreeCount(), 0u);
  fl->CommitTx();
  EXPECT_TRUE(fl->AllIds().empty());
}

// The free set handed out from its lowest ids on, one page at a time (as a
// Shrink batch takes it), with runs taken from the middle and the tail
// trimmed between: every step agrees with a model, and a rollback gives
// back exactly what the transaction took.
TEST_P(ShrinkTest, LowestFreePagesTakenInOrderThenRolledBack) {
  auto fl = Freelist::New(GetParam());
  std::vector<pgid_t> model;
  for (pgid_t id = 2; id < 400; id++) {
    if (id % 10 != 0) model.push_back(id);
  }
  ASSERT_OK(fl->Reload(model));
  const std::vector<pgid_t> original = model;
  fl->BeginTx(3);
  fl->SetAllocLimit(300);
  auto take = [&](pgid_t id, size_t n) {
    const auto at = std::find(model.begin(), model.end(), id);
    ASSERT_NE(at, model.end()) << id << " was not free";
    for (size_t k = 0; k < n; k++) ASSERT_EQ(at[static_cast<std::ptrdiff_t>(k)], id + k);
    model.erase(at, at + static_cast<std::ptrdiff_t>(n));
  };
  for (int step = 0; step < 200; step++) {
    const size_t n = step % 25 == 7 ? 3 : 1;  // now and then a run further on
    const pgid_t got = fl->Allocate(3, n);
    ASSERT_NE(got, 0u) << "step " << step;
    if (GetParam() == FreelistType::kArray && n == 1) {
      EXPECT_EQ(got, model.front()) << "first fit: the lowest free page";
    }
    take(got, n);
    if (step % 50 == 49) {
      const pgid_t hwm = model.back() + 1;
      const pgid_t start = fl->TrimTail(hwm);
      while (!model.empty() && model.back() >= start) model.pop_back();
    }
    ASSERT_EQ(fl->AllIds(), model) << "step " << step;
    ASSERT_EQ(fl->FreeCount(), model.size());
  }
  fl->RollbackTx();
  EXPECT_EQ(fl->AllIds(), original);
  // The same again, committed: the state carries over to the next transaction.
  fl->BeginTx(4);
  for (int i = 0; i < 100; i++) ASSERT_NE(fl->Allocate(4, 1), 0u);
  fl->CommitTx();
  EXPECT_EQ(fl->FreeCount(), original.size() - 100);
  fl->BeginTx(5);
  ASSERT_OK(fl->Free(5, original.front(), 0, false));
  fl->CommitTx();
  fl->Release(5);
  std::vector<pgid_t> ids = fl->AllIds();
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(ids.size(), original.size() - 99);
  EXPECT_EQ(ids.front(), original.front());
}

// A read-only handle cannot shrink.
TEST_P(ShrinkTest, ReadOnlyRefused) {
  TestDB t(Opts());
  ASSERT_TRUE(t.Open());
  Fill(t.db(), "b", 0, 10, 10);
  t.Close();
  t.options().read_only = true;
  ASSERT_TRUE(t.Open());
  auto r = t->Shrink();
  EXPECT_EQ(r.status().code(), Code::kDatabaseReadOnly);
}

INSTANTIATE_TEST_SUITE_P(Freelists, ShrinkTest,
                         ::testing::Values(FreelistType::kArray, FreelistType::kHashMap),
                         [](const ::testing::TestParamInfo<FreelistType>& p) {
                           return std::string(FreelistName(p.param));
                         });

}  // namespace
}  // namespace boltpp::testing
