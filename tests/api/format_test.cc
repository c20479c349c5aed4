// File: tests/api/format_test.cc
// The bytes boltpp writes, read back with an independent decoder
// (testutil/raw_file.h) and compared with bbolt's verified layout
// (docs/format.md). Any difference here breaks file compatibility.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "testutil/random.h"
#include "testutil/raw_file.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

constexpr uint32_t kPS = 4096;

bool AllZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '\0'; });
}

std::string Bytes(std::initializer_list<uint8_t> b) { return std::string(b.begin(), b.end()); }

// docs/format.md "A new file": page 0 of a fresh 4 KiB database, byte for byte.
TEST(FormatTest, FreshFileLayout) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  t.Close();
  const std::string f = ReadFileBytes(t.path());
  ASSERT_EQ(f.size(), 4u * kPS) << "a new file is exactly 4 pages";

  const std::string meta0 = Bytes({
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0xed, 0xda, 0x0c, 0xed, 0x02, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0xee, 0xfd, 0x89, 0x46, 0x11, 0x6e, 0x51, 0x07,
  });
  EXPECT_EQ(Hex(f.substr(0, 80), 80), Hex(meta0, 80));
  EXPECT_TRUE(AllZero(std::string_view(f).substr(80, kPS - 80))) << "rest of meta0 must be zero";

  RawMeta m0 = ParseMeta(f, 0);
  EXPECT_EQ(m0.checksum, 0x07516e114689fdeeull);
  EXPECT_EQ(m0.computed_checksum, m0.checksum);

  RawMeta m1 = ParseMeta(f, kPS);
  EXPECT_EQ(m1.page_id, 1u);
  EXPECT_EQ(m1.page_flags, kRawMeta);
  EXPECT_EQ(m1.magic, kRawMagic);
  EXPECT_EQ(m1.version, 2u);
  EXPECT_EQ(m1.page_size, kPS);
  EXPECT_EQ(m1.flags, 0u);
  EXPECT_EQ(m1.root, 3u);
  EXPECT_EQ(m1.root_sequence, 0u);
  EXPECT_EQ(m1.freelist, 2u);
  EXPECT_EQ(m1.pgid, 4u);
  EXPECT_EQ(m1.txid, 1u);
  EXPECT_EQ(m1.checksum, 0x264c351a5179480full);
  EXPECT_EQ(m1.computed_checksum, m1.checksum);
  EXPECT_TRUE(AllZero(std::string_view(f).substr(kPS + 80, kPS - 80)));

  RawPageHeader p2 = ParsePageHeader(f, 2 * kPS);
  EXPECT_EQ(p2.id, 2u);
  EXPECT_EQ(p2.flags, kRawFreelist);
  EXPECT_EQ(p2.count, 0u);
  EXPECT_EQ(p2.overflow, 0u);
  EXPECT_TRUE(AllZero(std::string_view(f).substr(2 * kPS + 16, kPS - 16)));

  RawPageHeader p3 = ParsePageHeader(f, 3 * kPS);
  EXPECT_EQ(p3.id, 3u);
  EXPECT_EQ(p3.flags, kRawLeaf);
  EXPECT_EQ(p3.count, 0u);
  EXPECT_EQ(p3.overflow, 0u);
  EXPECT_TRUE(AllZero(std::string_view(f).substr(3 * kPS + 16, kPS - 16)));
}

// Other page sizes: same structure, page N at N * page_size, valid checksums.
class FormatPageSizeTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(FormatPageSizeTest, FreshFile) {
  const uint32_t ps = GetParam();
  Options o = TestOptions();
  o.page_size = ps;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  EXPECT_EQ(t->GetInfo().page_size, ps);
  t.Close();
  const std::string f = ReadFileBytes(t.path());
  ASSERT_EQ(f.size(), 4ull * ps);
  for (uint64_t i = 0; i < 2; ++i) {
    RawMeta m = ParseMeta(f, i * ps);
    EXPECT_EQ(m.page_id, i);
    EXPECT_EQ(m.page_size, ps);
    EXPECT_EQ(m.txid, i);
    EXPECT_EQ(m.root, 3u);
    EXPECT_EQ(m.freelist, 2u);
    EXPECT_EQ(m.pgid, 4u);
    EXPECT_TRUE(m.valid()) << "meta" << i;
  }
  EXPECT_EQ(ParsePageHeader(f, 2ull * ps).flags, kRawFreelist);
  EXPECT_EQ(ParsePageHeader(f, 3ull * ps).flags, kRawLeaf);
  EXPECT_EQ(ParsePageHeader(f, 3ull * ps).id, 3u);

  // An existing file keeps its page size whatever the option says.
  Options other = TestOptions();
  other.page_size = ps == 4096 ? 1024 : 4096;
  auto db = DB::Open(t.path(), other);
  ASSERT_OK(db);
  EXPECT_EQ((*db)->GetInfo().page_size, ps);
  ASSERT_OK((*db)->Update([](Tx& tx) { return tx.CreateBucket("x").status(); }));
  ASSERT_OK((*db)->Close());
  EXPECT_EQ(ParseMeta(ReadFileBytes(t.path()), 0).page_size, ps);
}

INSTANTIATE_TEST_SUITE_P(PageSizes, FormatPageSizeTest,
                         ::testing::Values(1024u, 4096u, 8192u, 16384u, 65536u));

// docs/format.md "A new file": after the first commit (one bucket) the root leaf moves to page
// 4, the freelist to page 5 holding [2,3], pgid 6, meta0 gets txid 2 and the
// file grows to 32 KiB.
TEST(FormatTest, FirstBucketCommit) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Update([](Tx& tx) { return tx.CreateBucket("widgets").status(); }));

  {
    ASSERT_OK_AND_ASSIGN(Tx tx, t->Begin(false));
    EXPECT_EQ(tx.ID(), 2u);
    EXPECT_EQ(tx.Size(), 6 * int64_t{kPS});
    auto expect_page = [&](uint64_t id, const char* type, int64_t count) {
      auto p = tx.Page(id);
      ASSERT_OK(p);
      ASSERT_TRUE(p->has_value()) << "page " << id;
      EXPECT_EQ((*p)->id, id);
      EXPECT_EQ((*p)->type, type) << "page " << id;
      EXPECT_EQ((*p)->count, count) << "page " << id;
      EXPECT_EQ((*p)->overflow_count, 0) << "page " << id;
    };
    expect_page(0, "meta", 0);
    expect_page(1, "meta", 0);
    expect_page(2, "free", 0);
    expect_page(3, "free", 0);
    expect_page(4, "leaf", 1);
    expect_page(5, "freelist", 2);
    auto past = tx.Page(6);
    ASSERT_OK(past);
    EXPECT_FALSE(past->has_value()) << "page 6 is past the high-water mark";
    ASSERT_OK(tx.Rollback());
  }
  t.Close();

  const std::string f = ReadFileBytes(t.path());
  EXPECT_EQ(f.size(), 32768u);
  RawMeta m0 = ParseMeta(f, 0);
  EXPECT_TRUE(m0.valid());
  EXPECT_EQ(m0.page_id, 0u);
  EXPECT_EQ(m0.txid, 2u);
  EXPECT_EQ(m0.root, 4u);
  EXPECT_EQ(m0.freelist, 5u);
  EXPECT_EQ(m0.pgid, 6u);
  RawMeta m1 = ParseMeta(f, kPS);
  EXPECT_EQ(m1.txid, 1u) << "meta1 is untouched by txid 2";
  EXPECT_EQ(m1.checksum, 0x264c351a5179480full);

  RawPageHeader root = ParsePageHeader(f, 4 * kPS);
  EXPECT_EQ(root.id, 4u);
  EXPECT_EQ(root.flags, kRawLeaf);
  ASSERT_EQ(root.count, 1u);
  auto elems = ParseLeaf(f, 4 * kPS);
  ASSERT_EQ(elems.size(), 1u);
  EXPECT_EQ(elems[0].flags, 1u) << "bucket leaf flag";
  EXPECT_EQ(elems[0].pos, 16u);
  EXPECT_EQ(elems[0].key, "widgets");
  // A new bucket is an empty inline bucket: header + empty leaf page header.
  const std::string want = Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                  0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(Hex(elems[0].value), Hex(want));

  RawPageHeader fl = ParsePageHeader(f, 5 * kPS);
  EXPECT_EQ(fl.id, 5u);
  EXPECT_EQ(fl.flags, kRawFreelist);
  EXPECT_EQ(ParseFreelist(f, 5 * kPS), (std::vector<uint64_t>{2, 3}));
}

// docs/format.md "Buckets" example: bucket "foo" {k1: v1, k2: value2} with sequence 7.
TEST(FormatTest, InlineBucketBytes) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("foo");
    BOLTPP_RETURN_IF_ERROR(b);
    BOLTPP_RETURN_IF_ERROR(b->Put("k1", "v1"));
    BOLTPP_RETURN_IF_ERROR(b->Put("k2", "value2"));
    return b->SetSequence(7);
  }));
  t.Close();
  const std::string f = ReadFileBytes(t.path());
  RawMeta m = ActiveMeta(f, kPS);
  ASSERT_TRUE(m.valid());
  auto elems = ParseLeaf(f, m.root * kPS);
  ASSERT_EQ(elems.size(), 1u);
  EXPECT_EQ(elems[0].flags, 1u);
  EXPECT_EQ(elems[0].pos, 0x10u);
  EXPECT_EQ(elems[0].ksize, 3u);
  EXPECT_EQ(elems[0].vsize, 0x4cu);
  const std::string want =
      Bytes({
          0, 0, 0, 0, 0,    0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0,  // root 0, sequence 7
          0, 0, 0, 0, 0,    0, 0, 0, 2, 0, 2, 0, 0, 0, 0, 0,  // inline page: leaf, count 2
          0, 0, 0, 0, 0x20, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0,  // {0, 0x20, 2, 2}
          0, 0, 0, 0, 0x14, 0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0,  // {0, 0x14, 2, 6}
      }) +
      "k1v1k2value2";
  EXPECT_EQ(Hex(elems[0].value, 200), Hex(want, 200));
}

// docs/format.md "Buckets": 1 + 991 bytes is inline with 4 KiB pages (exactly 1024), 992 is not.
TEST(FormatTest, InlineBucketThreshold) {
  for (size_t vlen : {size_t{991}, size_t{992}}) {
    SCOPED_TRACE("value length " + std::to_string(vlen));
    TestDB t(TestOptions());
    ASSERT_TRUE(t.Open());
    ASSERT_OK(t->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucket("b");
      BOLTPP_RETURN_IF_ERROR(b);
      return b->Put("k", std::string(vlen, 'v'));
    }));
    {
      ASSERT_OK_AND_ASSIGN(Tx tx, t->Begin(false));
      Bucket b = tx.GetBucket("b");
      ASSERT_TRUE(b);
      if (vlen == 991) {
        EXPECT_EQ(b.Root(), 0u) << "should be inline";
      } else {
        EXPECT_NE(b.Root(), 0u) << "should not be inline";
      }
      EXPECT_EQ(Str(b.Get("k")), std::string(vlen, 'v'));
    }
    t.Close();
    const std::string f = ReadFileBytes(t.path());
    RawMeta m = ActiveMeta(f, kPS);
    RawBucketRef ref = FindRawBucket(f, kPS, m.root, "b");
    ASSERT_TRUE(ref.found);
    EXPECT_EQ(ref.elem_flags, 1u);
    if (vlen == 991) {
      EXPECT_EQ(ref.root(), 0u);
      EXPECT_EQ(ref.value.size(), 16u + 16 + 16 + 1 + 991);
      RawPageHeader inl = ParsePageHeader(ref.value, 16);
      EXPECT_EQ(inl.flags, kRawLeaf);
      EXPECT_EQ(inl.count, 1u);
    } else {
      EXPECT_EQ(ref.value.size(), 16u);
      EXPECT_NE(ref.root(), 0u);
      EXPECT_EQ(ParsePageHeader(f, ref.root() * kPS).flags, kRawLeaf);
    }
  }
}

// docs/format.md "Pages": one 10 000-byte value makes a leaf with overflow = 2 (3 pages).
TEST(FormatTest, OverflowPage) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  Random rnd(1);
  const std::string value = rnd.Bytes(10000);
  ASSERT_OK(t->Update([&](Tx& tx) -> Status {
    auto b = tx.CreateBucket("b");
    BOLTPP_RETURN_IF_ERROR(b);
    return b->Put("key", value);
  }));
  uint64_t root = 0;
  {
    ASSERT_OK_AND_ASSIGN(Tx tx, t->Begin(false));
    Bucket b = tx.GetBucket("b");
    ASSERT_TRUE(b);
    root = b.Root();
    ASSERT_NE(root, 0u);
    auto p = tx.Page(root);
    ASSERT_OK(p);
    ASSERT_TRUE(p->has_value());
    EXPECT_EQ((*p)->type, "leaf");
    EXPECT_EQ((*p)->count, 1);
    EXPECT_EQ((*p)->overflow_count, 2);
    EXPECT_EQ(Str(b.Get("key")), value);
  }
  t.Close();
  const std::string f = ReadFileBytes(t.path());
  RawPageHeader h = ParsePageHeader(f, root * kPS);
  EXPECT_EQ(h.id, root);
  EXPECT_EQ(h.flags, kRawLeaf);
  EXPECT_EQ(h.count, 1u);
  EXPECT_EQ(h.overflow, 2u);
  auto elems = ParseLeaf(f, root * kPS);
  ASSERT_EQ(elems.size(), 1u);
  EXPECT_EQ(elems[0].pos, 16u);
  EXPECT_EQ(elems[0].ksize, 3u);
  EXPECT_EQ(elems[0].vsize, 10000u);
  EXPECT_EQ(elems[0].key, "key");
  EXPECT_TRUE(elems[0].value == value) << "overflow data must continue across pages";
  // The pages after the first have no headers of their own: the bytes at
  // the second page are value bytes.
  EXPECT_EQ(f.substr((root + 1) * kPS, 16), value.substr((root + 1) * kPS - (root * kPS + 35), 16));
}

// docs/format.md "Branch and leaf pages", docs/design.md "The commit protocol"
// (split): 300 keys of 8 bytes with 32-byte values split into leaves of 36,36,...,48 keys
// at fill 0.5 and 72,...,12 at 1.0, with elements laid out as bbolt does.
class FormatSplitTest : public ::testing::TestWithParam<double> {};

TEST_P(FormatSplitTest, LeafSplitAndElementLayout) {
  const double fill = GetParam();
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Update([&](Tx& tx) -> Status {
    auto b = tx.CreateBucket("b");
    BOLTPP_RETURN_IF_ERROR(b);
    b->SetFillPercent(fill);
    for (uint64_t i = 0; i < 300; ++i)
      BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(i), std::string(32, 'x')));
    return Status::OK();
  }));
  uint64_t root = 0;
  {
    ASSERT_OK_AND_ASSIGN(Tx tx, t->Begin(false));
    root = tx.GetBucket("b").Root();
    BucketStats st = tx.GetBucket("b").Stats();
    EXPECT_EQ(st.key_n, 300);
    EXPECT_EQ(st.branch_page_n, 1);
    EXPECT_EQ(st.depth, 2);
  }
  t.Close();
  const std::string f = ReadFileBytes(t.path());
  std::vector<int> want = fill == 0.5 ? std::vector<int>{36, 36, 36, 36, 36, 36, 36, 48}
                                      : std::vector<int>{72, 72, 72, 72, 12};
  EXPECT_EQ(LeafCountsUnder(f, kPS, root), want);

  // Branch layout: pos from each element's own start; keys packed in order.
  ASSERT_EQ(ParsePageHeader(f, root * kPS).flags, kRawBranch);
  auto branch = ParseBranch(f, root * kPS);
  ASSERT_EQ(branch.size(), want.size());
  uint64_t first_key = 0;
  for (size_t i = 0; i < branch.size(); ++i) {
    EXPECT_EQ(branch[i].pos, (branch.size() - i) * 16 + 8 * i) << "branch element " << i;
    EXPECT_EQ(branch[i].ksize, 8u);
    EXPECT_EQ(branch[i].key, U64Key(first_key)) << "branch key " << i << " = first key of child";
    // Leaf layout: pos(i) = (n - i) * 16 + sum(k + v of j < i).
    auto leaf = ParseLeaf(f, branch[i].pgid * kPS);
    ASSERT_EQ(leaf.size(), static_cast<size_t>(want[i]));
    for (size_t j = 0; j < leaf.size(); ++j) {
      EXPECT_EQ(leaf[j].pos, (leaf.size() - j) * 16 + 40 * j);
      EXPECT_EQ(leaf[j].key, U64Key(first_key + j));
      EXPECT_EQ(leaf[j].flags, 0u);
    }
    first_key += leaf.size();
  }
}

INSTANTIATE_TEST_SUITE_P(Fill, FormatSplitTest, ::testing::Values(0.5, 1.0));

// docs/format.md "The freelist page": with 1 KiB pages and more than 0xFFFF free ids, the freelist
// header count is 0xFFFF and the first u64 holds the real count.
class FormatFreelistTest : public ::testing::TestWithParam<FreelistType> {};

TEST_P(FormatFreelistTest, CountOverflow) {
  Options o = TestOptions();
  o.page_size = 1024;
  o.no_sync = true;
  o.freelist_type = GetParam();
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  // One value spanning ~66 000 overflow pages, then delete it.
  const size_t kValue = 66000 * 1024;
  ASSERT_OK(t->Update([&](Tx& tx) -> Status {
    auto b = tx.CreateBucket("b");
    BOLTPP_RETURN_IF_ERROR(b);
    return b->Put("big", std::string(kValue, 'z'));
  }));
  ASSERT_OK(t->Update([&](Tx& tx) { return tx.GetBucket("b").Delete("big"); }));
  Stats st = t->GetStats();
  const int64_t free_pages = st.free_page_n + st.pending_page_n;
  EXPECT_GT(free_pages, 0xFFFF);

  t.Close();
  const std::string f = ReadFileBytes(t.path());
  RawMeta m = ActiveMeta(f, 1024);
  ASSERT_TRUE(m.valid());
  ASSERT_NE(m.freelist, kRawNoFreelist);
  RawPageHeader h = ParsePageHeader(f, m.freelist * 1024);
  EXPECT_EQ(h.flags, kRawFreelist);
  EXPECT_EQ(h.count, 0xFFFFu);
  const uint64_t n = LoadLE<uint64_t>(f, m.freelist * 1024 + 16);
  EXPECT_EQ(static_cast<int64_t>(n), free_pages);
  EXPECT_GE((h.overflow + 1ull) * 1024, 16 + 8 + 8 * n) << "freelist must fit its pages";
  auto ids = ParseFreelist(f, m.freelist * 1024);
  ASSERT_EQ(ids.size(), n);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_TRUE(std::adjacent_find(ids.begin(), ids.end()) == ids.end()) << "duplicate free id";
  EXPECT_GE(ids.front(), 2u);
  EXPECT_LT(ids.back(), m.pgid);

  // The count survives a reopen (bbolt TestBucket_Delete_FreelistOverflow).
  ASSERT_TRUE(t.Open());
  EXPECT_EQ(t->GetStats().free_page_n, free_pages);
  // And the space is reused: a new large value does not raise the
  // high-water mark (the commit even lowers it: the free tail is trimmed).
  const uint64_t pgid_before = m.pgid;
  ASSERT_OK(t->Update(
      [&](Tx& tx) { return tx.GetBucket("b").Put("again", std::string(1000 * 1024, 'y')); }));
  {
    ASSERT_OK_AND_ASSIGN(Tx tx, t->Begin(false));
    EXPECT_LE(static_cast<uint64_t>(tx.Size()), pgid_before * 1024)
        << "allocation should reuse free pages";
  }
}

INSTANTIATE_TEST_SUITE_P(Freelists, FormatFreelistTest,
                         ::testing::Values(FreelistType::kArray, FreelistType::kHashMap),
                         [](const auto& p) { return std::string(FreelistName(p.param)); });

uint64_t Pow2Ceil(uint64_t v) {
  uint64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

// docs/format.md "Growth and the memory map": the file grows to the mmap size
// (a power of two from 32 KiB) while that is at most 16 MiB, then to
// (pgid + 1) * page_size + 16 MiB. It never shrinks.
TEST(FormatTest, FileGrowth) {
  Options o = TestOptions();
  o.no_sync = true;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  uint64_t size = FileSizeOf(t.path());
  ASSERT_EQ(size, 16384u);
  std::vector<uint64_t> sizes{size};
  const std::string value(512 * 1024, 'g');
  int past_alloc_steps = 0;
  for (int i = 0; i < 200 && past_alloc_steps < 2; ++i) {
    ASSERT_OK(t->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists("b");
      BOLTPP_RETURN_IF_ERROR(b);
      return b->Put(U64Key(i), value);
    }));
    ASSERT_OK_AND_ASSIGN(Tx tx, t->Begin(false));
    const uint64_t pgid = static_cast<uint64_t>(tx.Size()) / kPS;
    ASSERT_OK(tx.Rollback());
    const uint64_t target = (pgid + 1) * kPS;
    uint64_t want = size;
    if (target > size) {
      const uint64_t mmap = std::max<uint64_t>(32768, Pow2Ceil(target));
      want = mmap <= (16u << 20) ? mmap : target + (16u << 20);
      if (mmap > (16u << 20)) ++past_alloc_steps;
    }
    const uint64_t got = FileSizeOf(t.path());
    ASSERT_EQ(got, want) << "commit " << i << ", pgid " << pgid << ", previous size " << size;
    if (got != size) sizes.push_back(got);
    size = got;
  }
  EXPECT_EQ(past_alloc_steps, 2);
  EXPECT_GE(sizes.size(), 8u);
  // Deleting everything does not shrink the file at once: the freed pages
  // are pending under the deleting transaction. The next commit releases
  // them, trims the free tail and cuts the file to the growth size of the
  // new high-water mark plus a quarter (docs/format.md "Truncation").
  ASSERT_OK(t->Update([](Tx& tx) { return tx.DeleteBucket("b"); }));
  EXPECT_EQ(FileSizeOf(t.path()), size);
  ASSERT_OK(t->Update([](Tx&) { return Status::OK(); }));
  ASSERT_OK_AND_ASSIGN(Tx tx, t->Begin(false));
  const uint64_t pgid = static_cast<uint64_t>(tx.Size()) / kPS;
  ASSERT_OK(tx.Rollback());
  const uint64_t keep = (pgid + pgid / 4 + 1) * kPS;
  EXPECT_EQ(FileSizeOf(t.path()), std::max<uint64_t>(32768, Pow2Ceil(keep)));
  EXPECT_LT(FileSizeOf(t.path()), size);
}

// initial_mmap_size: the first growth goes straight to the (pre-sized) map
// size and the map is not replaced while the data fits in it.
TEST(FormatTest, InitialMmapSize) {
  Options o = TestOptions();
  o.initial_mmap_size = 1 << 20;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  const uint8_t* data = t->GetInfo().data;
  ASSERT_NE(data, nullptr);
  ASSERT_OK(t->Update([](Tx& tx) { return tx.CreateBucket("b").status(); }));
  EXPECT_EQ(FileSizeOf(t.path()), uint64_t{1} << 20);
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(t->Update(
        [&](Tx& tx) { return tx.GetBucket("b").Put(U64Key(i), std::string(20000, 'q')); }));
  }
  EXPECT_EQ(t->GetInfo().data, data) << "no remap while the data fits the initial map";
  EXPECT_EQ(FileSizeOf(t.path()), uint64_t{1} << 20);
}

// docs/format.md "The freelist page": NoFreelistSync writes meta.freelist = 0xFFFFFFFFFFFFFFFF; a
// normal open then writes a freelist in one extra transaction.
TEST(FormatTest, NoFreelistSync) {
  Options o = TestOptions();
  o.no_freelist_sync = true;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  ASSERT_OK(PutAll(t.db(), "b", {{"a", "1"}, {"b", "2"}}));
  ASSERT_OK(t->Update([](Tx& tx) { return tx.GetBucket("b").Delete("a"); }));
  const Stats before = t->GetStats();
  t.Close();

  std::string f = ReadFileBytes(t.path());
  RawMeta m = ActiveMeta(f, kPS);
  ASSERT_TRUE(m.valid());
  EXPECT_EQ(m.freelist, kRawNoFreelist);
  EXPECT_EQ(f.substr((m.txid % 2) * kPS + 48, 8), std::string(8, '\xff'));

  // Reopen with no_freelist_sync: the freelist is rebuilt by a scan.
  ASSERT_TRUE(t.Open());
  EXPECT_EQ(t->GetStats().free_page_n, before.free_page_n + before.pending_page_n);
  EXPECT_EQ(ReadAll(t.db(), "b"), (std::map<std::string, std::string>{{"b", "2"}}));
  t.Close();
  EXPECT_EQ(ActiveMeta(ReadFileBytes(t.path()), kPS).txid, m.txid) << "opening must not commit";

  // Reopen without it: one transaction writes a freelist.
  t.options().no_freelist_sync = false;
  ASSERT_TRUE(t.Open());
  t.Close();
  f = ReadFileBytes(t.path());
  RawMeta m2 = ActiveMeta(f, kPS);
  EXPECT_EQ(m2.txid, m.txid + 1);
  ASSERT_NE(m2.freelist, kRawNoFreelist);
  EXPECT_EQ(ParsePageHeader(f, m2.freelist * kPS).flags, kRawFreelist);
  EXPECT_LT(m2.freelist, m2.pgid);
}

}  // namespace
}  // namespace boltpp::testing
