// File: tests/api/compact_test.cc
// Compact (docs/design.md "Compaction"): the page copy (src/compact_pages.cc)
// against the source's contents and against the logical copy's size, on
// files of every shape and page size; its fill rules checked on the raw file;
// damaged sources, failed writes and full destinations (the destination is
// left as it was); the fallbacks to the logical copy. Every database is
// checked with Tx::Check (TestDB's teardown, and MustCheck after copies).
#include <gtest/gtest.h>

#include <functional>

#include "compact.h"
#include "testutil/fault_fs.h"
#include "testutil/mem_fs.h"
#include "testutil/model.h"
#include "testutil/random.h"
#include "testutil/raw_file.h"
#include "testutil/snapshot.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

using Filler = std::function<Status(Tx&, Random&)>;

// No fsync: these tests are about layout and contents (the failed-sync
// test below syncs).
Options WithPageSize(uint32_t page_size) {
  Options o = TestOptions();
  o.page_size = page_size;
  o.no_sync = true;
  return o;
}

Options Fast() { return WithPageSize(4096); }

uint64_t HighWater(DB* db) {
  auto tx = db->Begin(false);
  EXPECT_TRUE(tx.ok());
  return tx.ok() ? static_cast<uint64_t>(tx->Size()) / db->GetInfo().page_size : 0;
}

// ---- the raw layout of a file (read apart from the engine) ----

struct RawLayout {
  uint64_t tree_pages = 0;       // pages of every tree, overflow included
  uint64_t lone_elem_pages = 0;  // no bucket's root, yet fewer elements than bbolt keeps
  uint64_t freelist_pages = 0;
  uint64_t high_water = 0;
};

void WalkRaw(const std::string& file, uint32_t ps, uint64_t id, bool is_root, RawLayout* out,
             int depth = 0) {
  ASSERT_LT(depth, 2000) << "page " << id;
  RawPageHeader h = ParsePageHeader(file, id * ps);
  ASSERT_EQ(h.id, id);
  out->tree_pages += 1 + h.overflow;
  if (!is_root && h.count < 2) {
    // A branch needs two elements; a leaf one, of at least a quarter page.
    const uint64_t e = id * ps + 16;
    const uint64_t leaf_bytes = 32 + LoadLE<uint32_t>(file, e + 8) + LoadLE<uint32_t>(file, e + 12);
    if (h.count == 0 || h.flags == kRawBranch || leaf_bytes < ps / 4) out->lone_elem_pages++;
  }
  for (uint64_t i = 0; i < h.count; i++) {
    const uint64_t e = id * ps + 16 + 16 * i;
    if (h.flags == kRawBranch) {
      WalkRaw(file, ps, LoadLE<uint64_t>(file, e + 8), false, out, depth + 1);
      continue;
    }
    ASSERT_EQ(h.flags, kRawLeaf) << "page " << id;
    if ((LoadLE<uint32_t>(file, e) & 1) == 0) continue;
    const uint64_t value = e + LoadLE<uint32_t>(file, e + 4) + LoadLE<uint32_t>(file, e + 8);
    const uint64_t root = LoadLE<uint64_t>(file, value);
    if (root != 0) WalkRaw(file, ps, root, true, out, depth + 1);
  }
}

RawLayout LayoutOf(const std::string& path, uint32_t ps) {
  const std::string file = ReadFileBytes(path);
  RawMeta m = ActiveMeta(file, ps);
  RawLayout out;
  out.high_water = m.pgid;
  if (m.freelist != kRawNoFreelist) {
    out.freelist_pages = 1 + ParsePageHeader(file, m.freelist * ps).overflow;
  }
  WalkRaw(file, ps, m.root, true, &out);
  return out;
}

// ---- copies ----

struct CopyResult {
  uint64_t file_size = 0;
  uint64_t high_water = 0;
};

// Compacts src into a fresh database (dst_options) with `method`; checks
// that the copy holds exactly `want` and passes Tx::Check.
CopyResult CopyAndVerify(DB* src, const DBSnap& want, const Options& dst_options,
                         CompactMethod method, int64_t tx_max_size, const std::string& name) {
  SCOPED_TRACE(name);
  TestDB dst(dst_options, name);
  EXPECT_TRUE(dst.Open());
  CompactMethod used = CompactMethod::kAuto;
  EXPECT_OK(CompactWith(*dst.db(), *src, tx_max_size, method, &used));
  EXPECT_EQ(used, method);
  DBSnap got;
  EXPECT_OK(SnapshotDB(dst.db(), &got));
  EXPECT_EQ(DiffSnaps(want, got), "");
  dst.MustCheck();
  CopyResult r{0, HighWater(dst.db())};
  dst.Close();
  r.file_size = FileSizeOf(dst.path());
  if (method == CompactMethod::kPages) {
    // Dense: every page is a tree's, the freelist's, a meta, or one of the
    // two pages of the fresh file's empty tree; only a bucket's root page
    // may hold fewer elements than bbolt keeps in a page.
    const uint32_t ps = dst_options.page_size;
    RawLayout l = LayoutOf(dst.path(), ps);
    EXPECT_EQ(l.high_water, r.high_water);
    EXPECT_LE(l.high_water, 2 + l.tree_pages + l.freelist_pages + 2);
    EXPECT_EQ(l.lone_elem_pages, 0u);
    // Go bbolt and boltpp open the copy and read on.
    auto reopened = DB::Open(dst.path(), dst_options);
    EXPECT_OK(reopened);
    if (reopened.ok()) {
      DBSnap again;
      EXPECT_OK(SnapshotDB(reopened->get(), &again));
      EXPECT_EQ(DiffSnaps(want, again), "");
    }
  }
  return r;
}

// Builds a source with fill, then checks the page copy into page sizes
// dst_page_sizes against the contents and against the logical copies.
void CheckShape(uint32_t src_page_size, const std::vector<uint32_t>& dst_page_sizes,
                const Filler& fill, uint64_t seed = 1) {
  TestDB src(WithPageSize(src_page_size), "src");
  ASSERT_TRUE(src.Open());
  Random rnd(seed);
  ASSERT_OK(src->Update([&](Tx& tx) { return fill(tx, rnd); }));
  DBSnap want;
  ASSERT_OK(SnapshotDB(src.db(), &want));
  for (uint32_t ps : dst_page_sizes) {
    SCOPED_TRACE("source page size " + std::to_string(src_page_size) + ", copy page size " +
                 std::to_string(ps));
    const Options o = WithPageSize(ps);
    CopyResult pages = CopyAndVerify(src.db(), want, o, CompactMethod::kPages, 0, "pages");
    CopyResult keys = CopyAndVerify(src.db(), want, o, CompactMethod::kKeys, 0, "keys");
    CopyResult keys_64k = CopyAndVerify(src.db(), want, o, CompactMethod::kKeys, 65536, "keys64k");
    EXPECT_LE(pages.high_water, keys.high_water);
    EXPECT_LE(pages.high_water, keys_64k.high_water);
    EXPECT_LE(pages.file_size, keys.file_size);
    EXPECT_LE(pages.file_size, keys_64k.file_size);
  }
  // Compaction only reads the source.
  DBSnap after;
  ASSERT_OK(SnapshotDB(src.db(), &after));
  EXPECT_EQ(DiffSnaps(want, after), "");
}

// ---- shapes ----

Status Empty(Tx&, Random&) { return Status::OK(); }

Status EmptyBuckets(Tx& tx, Random&) {
  for (int i = 0; i < 10; i++) {
    auto b = tx.CreateBucket("empty" + std::to_string(i));
    BOLTPP_RETURN_IF_ERROR(b);
    BOLTPP_RETURN_IF_ERROR(b->CreateBucket("nested-empty"));
  }
  return Status::OK();
}

Status ManyBuckets(Tx& tx, Random& rnd) {
  for (int i = 0; i < 3000; i++) {
    auto b = tx.CreateBucket(U64Key(static_cast<uint64_t>(i) * 7919));
    BOLTPP_RETURN_IF_ERROR(b);
    if (i % 3 == 0) BOLTPP_RETURN_IF_ERROR(b->SetSequence(static_cast<uint64_t>(i)));
    for (uint64_t k = 0, n = rnd.Uniform(4); k < n; k++)
      BOLTPP_RETURN_IF_ERROR(b->Put(rnd.Bytes(1 + rnd.Uniform(20)), rnd.Bytes(rnd.Uniform(40))));
  }
  return Status::OK();
}

// A chain of 120 nested buckets; every tenth holds enough to need pages.
Status DeepNesting(Tx& tx, Random& rnd) {
  auto b = tx.CreateBucket("level0");
  BOLTPP_RETURN_IF_ERROR(b);
  Bucket cur = *b;
  for (int level = 1; level <= 120; level++) {
    const uint64_t keys = level % 10 == 0 ? 400 : rnd.Uniform(6);
    for (uint64_t k = 0; k < keys; k++)
      BOLTPP_RETURN_IF_ERROR(cur.Put(rnd.Bytes(1 + rnd.Uniform(16)), rnd.Bytes(rnd.Uniform(120))));
    BOLTPP_RETURN_IF_ERROR(cur.SetSequence(static_cast<uint64_t>(level)));
    auto next = cur.CreateBucket("level" + std::to_string(level));
    BOLTPP_RETURN_IF_ERROR(next);
    cur = *next;
  }
  return Status::OK();
}

// Inline buckets between keys of a bucket that needs pages, inline buckets
// just under and just over a quarter page, and a bucket with pages whose
// only content is inline buckets.
Status InlineBuckets(Tx& tx, Random& rnd) {
  auto big = tx.CreateBucket("big");
  BOLTPP_RETURN_IF_ERROR(big);
  for (int i = 0; i < 600; i++) {
    const std::string key = U64Key(static_cast<uint64_t>(i));
    if (i % 5 != 0) {
      BOLTPP_RETURN_IF_ERROR(big->Put(key, rnd.Bytes(rnd.Uniform(200))));
      continue;
    }
    auto child = big->CreateBucket(key + "-bucket");
    BOLTPP_RETURN_IF_ERROR(child);
    // 16 bytes of page header, then (16 + 8 + v) per key: around 1024 / 4.
    const size_t v = 200 + static_cast<size_t>(i % 30);
    BOLTPP_RETURN_IF_ERROR(child->Put("k0000001", rnd.Bytes(v)));
  }
  auto only = tx.CreateBucket("only-buckets");
  BOLTPP_RETURN_IF_ERROR(only);
  for (int i = 0; i < 500; i++) {
    auto child = only->CreateBucket(U64Key(static_cast<uint64_t>(i)));
    BOLTPP_RETURN_IF_ERROR(child);
    BOLTPP_RETURN_IF_ERROR(child->Put("x", "y"));
  }
  return Status::OK();
}

// Values from a few bytes to several pages and a megabyte; buckets holding
// only one, two or three large values (lone roots, merged tails).
Status OverflowValues(Tx& tx, Random& rnd) {
  auto mixed = tx.CreateBucket("mixed");
  BOLTPP_RETURN_IF_ERROR(mixed);
  const size_t sizes[] = {1, 100, 1000, 4000, 4096, 5000, 9000, 20000, 70000, 1 << 20};
  for (int i = 0; i < 300; i++) {
    const size_t n = sizes[rnd.Uniform(std::size(sizes) - (i % 50 == 0 ? 0 : 1))];
    BOLTPP_RETURN_IF_ERROR(mixed->Put(U64Key(static_cast<uint64_t>(i)), rnd.Bytes(n)));
  }
  for (int count = 1; count <= 3; count++) {
    auto b = tx.CreateBucket("large-" + std::to_string(count));
    BOLTPP_RETURN_IF_ERROR(b);
    for (int i = 0; i < count; i++)
      BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(static_cast<uint64_t>(i)), rnd.Bytes(30000)));
  }
  // Many small values, then one large one: the last leaf gets one element
  // unless the rule gives it a second.
  auto tail = tx.CreateBucket("tail");
  BOLTPP_RETURN_IF_ERROR(tail);
  for (int i = 0; i < 500; i++)
    BOLTPP_RETURN_IF_ERROR(tail->Put(U64Key(static_cast<uint64_t>(i)), rnd.Bytes(50)));
  return tail->Put(U64Key(1000), rnd.Bytes(3000));
}

Status BigKeys(Tx& tx, Random& rnd) {
  auto b = tx.CreateBucket("bigkeys");
  BOLTPP_RETURN_IF_ERROR(b);
  for (int i = 0; i < 200; i++) {
    const size_t n = i % 20 == 0 ? 32760 : 500 + rnd.Uniform(3000);
    BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(static_cast<uint64_t>(i)) + rnd.Bytes(n), "v"));
  }
  return Status::OK();
}

Status Sequences(Tx& tx, Random& rnd) {
  const uint64_t seqs[] = {0, 1, 42, uint64_t{1} << 40, ~uint64_t{0}};
  for (size_t i = 0; i < std::size(seqs); i++) {
    auto b = tx.CreateBucket("seq" + std::to_string(i));
    BOLTPP_RETURN_IF_ERROR(b);
    BOLTPP_RETURN_IF_ERROR(b->SetSequence(seqs[i]));
    // Odd ones need pages, even ones stay inline.
    for (int k = 0; k < (i % 2 ? 300 : 2); k++)
      BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(static_cast<uint64_t>(k)), rnd.Bytes(60)));
    auto n = b->CreateBucket("nested");
    BOLTPP_RETURN_IF_ERROR(n);
    BOLTPP_RETURN_IF_ERROR(n->SetSequence(seqs[std::size(seqs) - 1 - i]));
  }
  return Status::OK();
}

class CompactShapes : public ::testing::TestWithParam<uint32_t> {};

TEST_P(CompactShapes, EmptyDatabase) { CheckShape(GetParam(), {GetParam()}, Empty); }
TEST_P(CompactShapes, EmptyBuckets) { CheckShape(GetParam(), {GetParam()}, EmptyBuckets); }
TEST_P(CompactShapes, ManyBuckets) { CheckShape(GetParam(), {GetParam()}, ManyBuckets); }
TEST_P(CompactShapes, DeepNesting) { CheckShape(GetParam(), {GetParam()}, DeepNesting); }
TEST_P(CompactShapes, InlineBuckets) { CheckShape(GetParam(), {GetParam()}, InlineBuckets); }
TEST_P(CompactShapes, OverflowValues) { CheckShape(GetParam(), {GetParam()}, OverflowValues); }
TEST_P(CompactShapes, BigKeys) { CheckShape(GetParam(), {GetParam()}, BigKeys); }
TEST_P(CompactShapes, Sequences) { CheckShape(GetParam(), {GetParam()}, Sequences); }

INSTANTIATE_TEST_SUITE_P(PageSizes, CompactShapes, ::testing::Values(1024u, 4096u, 16384u),
                         [](const auto& p) { return "ps" + std::to_string(p.param); });

// The copy's page size need not be the source's: inline buckets and page
// fill follow the copy's.
TEST(CompactTest, OtherPageSizeThanTheSource) {
  CheckShape(4096, {1024, 16384}, InlineBuckets);
  CheckShape(1024, {4096, 65536}, OverflowValues);
}

// A source with many free pages: the copy holds its contents in far fewer.
TEST(CompactTest, SourceWithManyFreePages) {
  TestDB src(Fast(), "src");
  ASSERT_TRUE(src.Open());
  Random rnd(3);
  for (int round = 0; round < 4; round++) {
    ASSERT_OK(src->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists("data");
      BOLTPP_RETURN_IF_ERROR(b);
      for (int i = 0; i < 3000; i++) BOLTPP_RETURN_IF_ERROR(b->Put(rnd.Bytes(16), rnd.Bytes(100)));
      return Status::OK();
    }));
  }
  ASSERT_OK(src->Update([&](Tx& tx) -> Status {
    Cursor c = tx.GetBucket("data").NewCursor();
    int i = 0;
    for (auto e = c.First(); e; e = c.Next()) {
      if (i++ % 10 != 0) BOLTPP_RETURN_IF_ERROR(c.Delete());
    }
    return c.status();
  }));
  DBSnap want;
  ASSERT_OK(SnapshotDB(src.db(), &want));
  CopyResult pages = CopyAndVerify(src.db(), want, Fast(), CompactMethod::kPages, 0, "pages");
  CopyResult keys = CopyAndVerify(src.db(), want, Fast(), CompactMethod::kKeys, 0, "keys");
  EXPECT_LE(pages.high_water, keys.high_water);
  EXPECT_LT(pages.high_water * 4, HighWater(src.db()));
}

// Random trees of buckets, keys and values (seed printed; BOLTPP_SEED replays).
TEST(CompactTest, Randomized) {
  const uint64_t seed = SeedOr(20261130);
  std::printf("[compact] Randomized seed %llu (BOLTPP_SEED=%llu to replay)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  Random pick(seed);
  const int rounds = static_cast<int>(EnvInt("BOLTPP_COMPACT_ROUNDS", 3));
  for (int round = 0; round < rounds; round++) {
    const uint32_t sizes[] = {1024, 4096, 8192};
    const uint32_t src_ps = sizes[pick.Uniform(3)], dst_ps = sizes[pick.Uniform(3)];
    const uint64_t round_seed = pick.Next();
    SCOPED_TRACE("round " + std::to_string(round) + " seed " + std::to_string(round_seed));
    std::function<Status(Bucket, Random&, int)> fill_bucket = [&](Bucket b, Random& rnd,
                                                                  int depth) -> Status {
      const uint64_t keys = rnd.Skewed(9);
      const size_t max_value = rnd.OneIn(4) ? 3 * src_ps : 200;
      for (uint64_t k = 0; k < keys; k++) {
        BOLTPP_RETURN_IF_ERROR(
            b.Put("k" + rnd.Bytes(rnd.Skewed(6)), rnd.Bytes(rnd.Uniform(max_value + 1))));
      }
      if (rnd.OneIn(3)) BOLTPP_RETURN_IF_ERROR(b.SetSequence(rnd.Next()));
      const uint64_t children = depth < 6 ? rnd.Skewed(3) : 0;
      for (uint64_t c = 0; c < children; c++) {
        auto child = b.CreateBucketIfNotExists("b" + rnd.Printable(1 + rnd.Uniform(6)));
        BOLTPP_RETURN_IF_ERROR(child);
        BOLTPP_RETURN_IF_ERROR(fill_bucket(*child, rnd, depth + 1));
      }
      return Status::OK();
    };
    CheckShape(
        src_ps, {dst_ps},
        [&](Tx& tx, Random& rnd) -> Status {
          for (uint64_t i = 0, n = 1 + rnd.Uniform(6); i < n; i++) {
            auto b = tx.CreateBucketIfNotExists("top" + std::to_string(i));
            BOLTPP_RETURN_IF_ERROR(b);
            BOLTPP_RETURN_IF_ERROR(fill_bucket(*b, rnd, 0));
          }
          return Status::OK();
        },
        round_seed);
    if (HasFailure()) break;
  }
}

// ---- fallbacks and options ----

Status SmallContents(Tx& tx) {
  auto b = tx.CreateBucket("a");
  BOLTPP_RETURN_IF_ERROR(b);
  for (int i = 0; i < 500; i++)
    BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(static_cast<uint64_t>(i)), std::string(50, 'v')));
  return b->CreateBucket("inner").status();
}

TEST(CompactTest, NonEmptyDestinationFallsBackToTheLogicalCopy) {
  TestDB src(Fast(), "src");
  ASSERT_TRUE(src.Open());
  ASSERT_OK(src->Update(SmallContents));
  TestDB dst(Fast(), "dst");
  ASSERT_TRUE(dst.Open());
  ASSERT_OK(dst->Update([](Tx& tx) { return tx.CreateBucket("other").status(); }));
  EXPECT_NE(PageCopyRefusal(*dst.db()), "");
  EXPECT_CODE(CompactWith(*dst.db(), *src.db(), 0, CompactMethod::kPages), Code::kInvalidArgument);
  CompactMethod used = CompactMethod::kAuto;
  ASSERT_OK(CompactWith(*dst.db(), *src.db(), 0, CompactMethod::kAuto, &used));
  EXPECT_EQ(used, CompactMethod::kKeys);
  EXPECT_EQ(ReadAll(dst.db(), "a").size(), 501u);
  EXPECT_EQ(ReadAll(dst.db(), "other").size(), 0u);
  // A bucket both hold: bbolt's error, as before.
  EXPECT_CODE(Compact(*dst.db(), *src.db(), 0), Code::kBucketExists);
}

TEST(CompactTest, WalDestinationTakesTheLogicalCopy) {
  TestDB src(Fast(), "src");
  ASSERT_TRUE(src.Open());
  ASSERT_OK(src->Update(SmallContents));
  DBSnap want;
  ASSERT_OK(SnapshotDB(src.db(), &want));
  Options o = Fast();
  o.wal = true;
  TestDB dst(o, "dst");
  ASSERT_TRUE(dst.Open());
  EXPECT_CODE(CompactWith(*dst.db(), *src.db(), 0, CompactMethod::kPages), Code::kInvalidArgument);
  CompactMethod used = CompactMethod::kAuto;
  ASSERT_OK(CompactWith(*dst.db(), *src.db(), 0, CompactMethod::kAuto, &used));
  EXPECT_EQ(used, CompactMethod::kKeys);
  DBSnap got;
  ASSERT_OK(SnapshotDB(dst.db(), &got));
  EXPECT_EQ(DiffSnaps(want, got), "");
}

// The page copy takes the destination's options: tx_max_size does not
// change the result, max_size bounds it, no_sync and no_freelist_sync hold.
TEST(CompactTest, DestinationOptions) {
  TestDB src(Fast(), "src");
  ASSERT_TRUE(src.Open());
  ASSERT_OK(src->Update([](Tx& tx) -> Status {
    BOLTPP_RETURN_IF_ERROR(SmallContents(tx));
    auto b = tx.CreateBucket("big");
    BOLTPP_RETURN_IF_ERROR(b);
    return b->Put("v", std::string(200000, 'x'));
  }));
  DBSnap want;
  ASSERT_OK(SnapshotDB(src.db(), &want));
  Options o = Fast();
  o.no_sync = true;
  o.no_freelist_sync = true;
  CopyResult a = CopyAndVerify(src.db(), want, o, CompactMethod::kPages, 1, "tx1");
  CopyResult b = CopyAndVerify(src.db(), want, o, CompactMethod::kPages, 0, "tx0");
  EXPECT_EQ(a.high_water, b.high_water);

  o = Fast();
  o.max_size = 64 * 1024;
  TestDB full(o, "full");
  ASSERT_TRUE(full.Open());
  EXPECT_CODE(Compact(*full.db(), *src.db(), 0), Code::kMaxSizeReached);
  EXPECT_EQ(PageCopyRefusal(*full.db()), "");  // still empty
  EXPECT_LE(FileSizeOf(full.path()), o.max_size);
}

// The page copy writes its pages itself, not through the commit's dirty
// pages: they must be durable before the meta that points at them, also
// when the commit writes no freelist (no_freelist_sync) and so no page of
// its own. Every sync that makes a meta write durable carries nothing else.
TEST(CompactTest, CopiedPagesAreDurableBeforeTheMeta) {
  TestDB src(Fast(), "src");
  ASSERT_TRUE(src.Open());
  Random rnd(7);
  ASSERT_OK(src->Update([&](Tx& tx) { return ManyBuckets(tx, rnd); }));
  for (bool no_freelist_sync : {false, true}) {
    SCOPED_TRACE(no_freelist_sync ? "no_freelist_sync" : "freelist synced");
    auto mem = std::make_shared<MemFileSystem>();
    Options o = Fast();
    o.file_system = mem.get();
    o.no_freelist_sync = no_freelist_sync;
    o.no_sync = false;
    auto dst = DB::Open("/dst.db", o);
    ASSERT_OK(dst);
    int meta_syncs = 0;
    std::string bad;
    mem->SetSyncHook([&](const std::string&, const CrashState& st) {
      bool meta = false;
      size_t others = 0;
      for (const PendingOp& op : *st.pending) {
        if (op.kind == PendingOp::kWrite && op.offset < 2 * 4096) {
          meta = true;
        } else {
          others++;
        }
      }
      if (!meta) return;
      meta_syncs++;
      if (others > 0) bad = "a meta became durable with " + std::to_string(others) + " ops";
    });
    ASSERT_OK(Compact(**dst, *src.db(), 0));
    mem->SetSyncHook(nullptr);
    EXPECT_EQ(bad, "");
    EXPECT_EQ(meta_syncs, 1);
    EXPECT_EQ(CheckDB(dst->get()), "") << "after the copy";
  }
}

// ---- damage and failures: a clear error, the destination as it was ----

struct SourcePages {
  uint64_t branch = 0;       // the "data" bucket's root (a branch)
  uint64_t leaf = 0;         // a leaf under it
  uint64_t nested_leaf = 0;  // the leaf holding the "nested" bucket's header
};

// A source with a two-level "data" bucket and a bucket "nested" with pages.
void MakeDamageSource(const std::string& path, SourcePages* pages) {
  {
    auto db = DB::Open(path, Fast());
    ASSERT_OK(db);
    ASSERT_OK((*db)->Update([](Tx& tx) -> Status {
      auto b = tx.CreateBucket("data");
      BOLTPP_RETURN_IF_ERROR(b);
      for (int i = 0; i < 1000; i++)
        BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(static_cast<uint64_t>(i)), std::string(40, 'v')));
      auto n = tx.CreateBucket("nested");
      BOLTPP_RETURN_IF_ERROR(n);
      auto inner = n->CreateBucket("inner");
      BOLTPP_RETURN_IF_ERROR(inner);
      for (int i = 0; i < 300; i++)
        BOLTPP_RETURN_IF_ERROR(inner->Put(U64Key(static_cast<uint64_t>(i)), std::string(40, 'w')));
      return Status::OK();
    }));
  }
  const std::string file = ReadFileBytes(path);
  RawMeta m = ActiveMeta(file, 4096);
  // The root leaf holds "data" then "nested" (bucket headers).
  RawPageHeader root = ParsePageHeader(file, m.root * 4096);
  ASSERT_EQ(root.count, 2);
  auto value_of = [&](uint64_t page, uint64_t i) {
    const uint64_t e = page * 4096 + 16 + 16 * i;
    return e + LoadLE<uint32_t>(file, e + 4) + LoadLE<uint32_t>(file, e + 8);
  };
  pages->branch = LoadLE<uint64_t>(file, value_of(m.root, 0));
  ASSERT_EQ(ParsePageHeader(file, pages->branch * 4096).flags, kRawBranch);
  pages->leaf = LoadLE<uint64_t>(file, pages->branch * 4096 + 16 + 16 + 8);  // element 1
  pages->nested_leaf = LoadLE<uint64_t>(file, value_of(m.root, 1));
  ASSERT_EQ(ParsePageHeader(file, pages->nested_leaf * 4096).flags, kRawLeaf);
}

struct Damage {
  const char* name;
  std::function<void(const std::string& path, const SourcePages& p)> apply;
  const char* message;  // part of the error
};

TEST(CompactTest, DamagedSourceIsAnErrorAndLeavesTheDestinationEmpty) {
  auto patch64 = [](const std::string& path, uint64_t off, uint64_t v) {
    PatchFile(path, off, EncodeLE<uint64_t>(v));
  };
  auto patch32 = [](const std::string& path, uint64_t off, uint32_t v) {
    PatchFile(path, off, EncodeLE<uint32_t>(v));
  };
  const std::vector<Damage> damages = {
      {"child beyond the high-water mark",
       [&](auto& f, auto& p) { patch64(f, p.branch * 4096 + 16 + 8, uint64_t{1} << 40); },
       "beyond the high-water mark"},
      {"child is its own parent",
       [&](auto& f, auto& p) { patch64(f, p.branch * 4096 + 16 + 16 + 8, p.branch); },
       "multiple references"},
      {"child is a meta page", [&](auto& f, auto& p) { patch64(f, p.branch * 4096 + 16 + 8, 1); },
       "meta page"},
      {"leaf element past the page",
       [&](auto& f, auto& p) { patch32(f, p.leaf * 4096 + 16 + 4, 1u << 30); }, "out of bounds"},
      {"keys out of order",
       [&](auto& f, auto& p) {
         // The leaf's second key (8 bytes, big-endian) becomes the largest.
         const std::string file = ReadFileBytes(f);
         const uint64_t e = p.leaf * 4096 + 16 + 16;
         PatchFile(f, e + LoadLE<uint32_t>(file, e + 4), std::string(8, '\xff'));
       },
       "keys out of order"},
      {"page type",
       [&](auto& f, auto& p) { PatchFile(f, p.leaf * 4096 + 8, EncodeLE<uint16_t>(0x10)); },
       "invalid page type"},
      {"bucket value too short",
       [&](auto& f, auto& p) { patch32(f, p.nested_leaf * 4096 + 16 + 12, 8); },
       "bucket value too short"},
      {"empty key", [&](auto& f, auto& p) { patch32(f, p.leaf * 4096 + 16 + 8, 0); }, "empty key"},
      {"element count past the page",
       [&](auto& f, auto& p) { PatchFile(f, p.leaf * 4096 + 10, EncodeLE<uint16_t>(0xFFFF)); },
       "does not fit"},
  };
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.name);
    TempDir dir;
    const std::string src_path = dir.File("src.db");
    SourcePages pages;
    ASSERT_NO_FATAL_FAILURE(MakeDamageSource(src_path, &pages));
    d.apply(src_path, pages);
    auto src = DB::Open(src_path, Fast());
    ASSERT_OK(src);
    TestDB dst(Fast(), "dst");
    ASSERT_TRUE(dst.Open());
    const uint64_t size_before = FileSizeOf(dst.path());
    Status s = Compact(*dst.db(), **src, 0);
    EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
    EXPECT_NE(s.ToString().find(d.message), std::string::npos) << s.ToString();
    EXPECT_EQ(PageCopyRefusal(*dst.db()), "");  // nothing was committed
    EXPECT_EQ(FileSizeOf(dst.path()), size_before);
  }
}

// A failed write or sync of the destination: the error, and the
// destination as it was (empty, consistent, reusable).
TEST(CompactTest, FailedWritesLeaveTheDestinationEmpty) {
  TestDB src(Fast(), "src");
  ASSERT_TRUE(src.Open());
  ASSERT_OK(src->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("a");
    BOLTPP_RETURN_IF_ERROR(b);
    for (int i = 0; i < 5000; i++)  // more than one write chunk
      BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(static_cast<uint64_t>(i)), std::string(2000, 'v')));
    return Status::OK();
  }));
  DBSnap want;
  ASSERT_OK(SnapshotDB(src.db(), &want));
  for (FaultOp op : {FaultOp::kWrite, FaultOp::kSync}) {
    for (int nth : {1, 2}) {
      SCOPED_TRACE(std::string(FaultOpName(op)) + " #" + std::to_string(nth));
      FaultFileSystem fs;
      Options o = TestOptions();
      o.file_system = &fs;
      TestDB dst(o, "dst");
      ASSERT_TRUE(dst.Open());
      fs.injector().FailNth(op, nth);
      EXPECT_CODE(Compact(*dst.db(), *src.db(), 0), Code::kIOError);
      fs.injector().ClearAll();
      if (op == FaultOp::kWrite) {
        // Nothing reached a meta: the handle goes on, empty, and takes the copy.
        EXPECT_EQ(PageCopyRefusal(*dst.db()), "");
        ASSERT_OK(Compact(*dst.db(), *src.db(), 0));
        DBSnap got;
        ASSERT_OK(SnapshotDB(dst.db(), &got));
        EXPECT_EQ(DiffSnaps(want, got), "");
      }
      dst.Close();
      // Reopened, the file is consistent (TestDB's teardown checks it).
      ASSERT_TRUE(dst.Open());
    }
  }
}

}  // namespace
}  // namespace boltpp::testing
