// File: tests/api/freelist_test.cc
// White-box tests of the page allocator (src/freelist), the counterpart of
// bbolt's freelist_test.go:
//  * both free-set layouts (array and hashmap) run a seeded random sequence
//    of transactions (allocate, free, release around open readers, commit
//    or roll back) in lockstep with a reference model written here from the
//    contract in freelist.h; every step compares the whole state;
//  * exact rollback: a rolled-back transaction leaves nothing behind, not
//    even in the allocation records that later range releases consult;
//  * bbolt's allocation table, double frees, damaged reloads;
//  * the freelist page's 0xFFFF count overflow (docs/format.md, "The
//    freelist page"), decoded by testutil's independent reader as well.
//
// Every randomized run prints its seed; BOLTPP_SEED=<seed> replays it, and
// BOLTPP_FREELIST_TXS changes the number of transactions per run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "format/page.h"
#include "freelist/freelist.h"
#include "testutil/random.h"
#include "testutil/raw_file.h"
#include "testutil/status_matchers.h"

namespace boltpp {
namespace {

using testing::Random;

const char* TypeName(FreelistType t) { return t == FreelistType::kHashMap ? "hashmap" : "array"; }

// The freelist's contract in plain containers. Allocation policy per type:
// array takes the lowest run of n free ids (first fit, as bbolt); hashmap
// takes, among the maximal runs of the smallest length >= n, the lowest.
class ModelFreelist {
 public:
  explicit ModelFreelist(FreelistType type) : type_(type) {}

  void Reload(const std::vector<pgid_t>& ids) {
    state_ = State{};
    saved_.reset();
    state_.free.insert(ids.begin(), ids.end());
  }
  void BeginTx() { saved_ = std::make_unique<State>(state_); }
  void CommitTx() { saved_.reset(); }
  void RollbackTx() {
    if (saved_) state_ = *saved_;
    saved_.reset();
  }

  pgid_t Allocate(txid_t txid, size_t n) {
    if (n == 0) return 0;
    const pgid_t start = type_ == FreelistType::kArray ? FirstFit(n) : BestFit(n);
    if (start == 0) return 0;
    for (pgid_t p = start; p < start + n; p++) state_.free.erase(p);
    state_.allocs[start] = txid;
    return start;
  }

  // False (and no change) when a page is already free or pending, or id < 2.
  bool Free(txid_t txid, pgid_t id, uint32_t overflow, txid_t unrecorded_alloc_txid) {
    if (id < 2) return false;
    for (pgid_t p = id; p <= id + overflow; p++) {
      if (IsFreed(p)) return false;
    }
    txid_t alloc_txid = unrecorded_alloc_txid;
    if (auto a = state_.allocs.find(id); a != state_.allocs.end()) {
      alloc_txid = a->second;
      state_.allocs.erase(a);
    }
    for (pgid_t p = id; p <= id + overflow; p++) state_.pending[txid].push_back({p, alloc_txid});
    return true;
  }

  void Release(txid_t txid) {
    for (auto it = state_.pending.begin(); it != state_.pending.end() && it->first <= txid;) {
      for (const auto& [p, atx] : it->second) state_.free.insert(p);
      it = state_.pending.erase(it);
    }
  }

  void ReleaseRange(txid_t begin, txid_t end) {
    if (begin > end) return;
    for (auto it = state_.pending.lower_bound(begin);
         it != state_.pending.end() && it->first <= end;) {
      auto& ids = it->second;
      std::erase_if(ids, [&](const std::pair<pgid_t, txid_t>& e) {
        if (e.second < begin || e.second > end) return false;
        state_.free.insert(e.first);
        return true;
      });
      it = ids.empty() ? state_.pending.erase(it) : std::next(it);
    }
  }

  bool IsFreed(pgid_t id) const {
    if (state_.free.count(id)) return true;
    for (const auto& [tx, ids] : state_.pending) {
      for (const auto& e : ids) {
        if (e.first == id) return true;
      }
    }
    return false;
  }
  size_t FreeCount() const { return state_.free.size(); }
  size_t PendingCount() const {
    size_t n = 0;
    for (const auto& [tx, ids] : state_.pending) n += ids.size();
    return n;
  }
  std::vector<pgid_t> AllIds() const {
    std::vector<pgid_t> out(state_.free.begin(), state_.free.end());
    for (const auto& [tx, ids] : state_.pending) {
      for (const auto& e : ids) out.push_back(e.first);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  struct State {
    std::set<pgid_t> free;
    std::map<txid_t, std::vector<std::pair<pgid_t, txid_t>>> pending;  // id, allocating txid
    std::map<pgid_t, txid_t> allocs;  // first page of an allocation -> its txid
  };

  // Maximal runs of free ids: start -> length.
  std::map<pgid_t, size_t> Runs() const {
    std::map<pgid_t, size_t> runs;
    pgid_t start = 0, prev = 0;
    for (pgid_t id : state_.free) {
      if (start == 0 || id != prev + 1) start = id;
      runs[start] = id - start + 1;
      prev = id;
    }
    return runs;
  }
  pgid_t FirstFit(size_t n) const {
    for (const auto& [start, len] : Runs()) {
      if (len >= n) return start;
    }
    return 0;
  }
  pgid_t BestFit(size_t n) const {
    pgid_t best = 0;
    size_t best_len = 0;
    for (const auto& [start, len] : Runs()) {
      if (len >= n && (best == 0 || len < best_len)) best = start, best_len = len;
    }
    return best;
  }

  FreelistType type_;
  State state_;
  std::unique_ptr<State> saved_;  // the state at BeginTx
};

// Compares the engine's freelist with the model: counts and ids, and with
// every_id, IsFreed for every page below hwm.
::testing::AssertionResult SameState(const Freelist& fl, const ModelFreelist& m, pgid_t hwm,
                                     bool every_id) {
  if (fl.FreeCount() != m.FreeCount() || fl.PendingCount() != m.PendingCount() ||
      fl.Count() != m.FreeCount() + m.PendingCount()) {
    return ::testing::AssertionFailure()
           << "counts: free " << fl.FreeCount() << " pending " << fl.PendingCount()
           << ", model free " << m.FreeCount() << " pending " << m.PendingCount();
  }
  const std::vector<pgid_t> ids = fl.AllIds();
  if (ids != m.AllIds()) {
    return ::testing::AssertionFailure() << "AllIds differ (" << ids.size() << " ids)";
  }
  for (pgid_t id = 0; every_id && id < hwm; id++) {
    if (fl.IsFreed(id) != std::binary_search(ids.begin(), ids.end(), id)) {
      return ::testing::AssertionFailure() << "IsFreed(" << id << ") = " << fl.IsFreed(id);
    }
  }
  if (fl.EstimatedWriteSize() != format::FreelistSize(ids.size())) {
    return ::testing::AssertionFailure() << "EstimatedWriteSize " << fl.EstimatedWriteSize();
  }
  return ::testing::AssertionSuccess();
}

// Drives one freelist and its model through random write transactions, as
// DBImpl does: release what no open reader can see, BeginTx, allocate (from
// the high-water mark when the free set has no run) and free pages in use,
// then commit or roll back. Readers open and close at random. With
// hold_checkpoint, one more snapshot stays open for long stretches and then
// jumps to the last commit, as WAL mode's checkpoint does (thousands of
// releases with the same begin: ReleaseRange's resume hint).
class LockstepRun {
 public:
  LockstepRun(FreelistType type, uint64_t seed, bool hold_checkpoint = false)
      : type_(type),
        rnd_(seed),
        fl_(Freelist::New(type)),
        model_(type),
        hold_checkpoint_(hold_checkpoint) {}

  void Run(int txs) {
    for (int i = 0; i < txs && !::testing::Test::HasFailure(); i++) {
      MoveReaders();
      ReleasePending();
      ASSERT_TRUE(SameState(*fl_, model_, hwm_, true)) << Where("release");
      WriteTx();
    }
  }

  size_t allocations() const { return allocations_; }
  size_t rollbacks() const { return rollbacks_; }

 private:
  struct Span {
    pgid_t start;
    uint32_t overflow;
  };

  std::string Where(const char* step) const {
    return std::string(TypeName(type_)) + " seed " + std::to_string(rnd_.seed()) + " txid " +
           std::to_string(txid_) + " step " + step;
  }

  void MoveReaders() {
    if (!readers_.empty() && rnd_.OneIn(3)) {
      auto it = readers_.begin();
      std::advance(it, static_cast<long>(rnd_.Uniform(readers_.size())));
      readers_.erase(it);
    }
    if (rnd_.OneIn(3)) readers_.insert(txid_);  // a reader of the last commit
    if (hold_checkpoint_ && rnd_.OneIn(60)) checkpoint_ = txid_;
  }

  // DBImpl::ReleasePending's calls: everything older than the oldest reader,
  // then the gaps between readers.
  void ReleasePending() {
    std::set<txid_t> snapshots = readers_;
    if (hold_checkpoint_) snapshots.insert(checkpoint_);
    txid_t minid = snapshots.empty() ? ~txid_t{0} : *snapshots.begin();
    if (minid > 0) Both([&](auto& f) { f.Release(minid - 1); });
    for (txid_t t : snapshots) {
      if (t > 0) Both([&](auto& f) { f.ReleaseRange(minid, t - 1); });
      minid = t + 1;
    }
    Both([&](auto& f) { f.ReleaseRange(minid, ~txid_t{0}); });
  }

  template <typename Fn>
  void Both(Fn fn) {
    fn(*fl_);
    fn(model_);
  }

  void WriteTx() {
    const txid_t txid = txid_ + 1;
    fl_->BeginTx(txid);
    model_.BeginTx();
    std::vector<Span> in_use = in_use_;
    pgid_t hwm = hwm_;
    const int ops = 1 + static_cast<int>(rnd_.Uniform(12));
    for (int i = 0; i < ops; i++) {
      if (in_use.empty() || rnd_.Percent(55)) {
        Allocate(txid, &in_use, &hwm);
      } else {
        FreeOne(txid, &in_use, hwm);
      }
      if (::testing::Test::HasFailure()) return;
    }
    if (rnd_.Percent(30)) {
      fl_->RollbackTx();
      model_.RollbackTx();
      rollbacks_++;
    } else {
      fl_->CommitTx();
      model_.CommitTx();
      in_use_ = std::move(in_use);
      hwm_ = hwm;
      txid_ = txid;
    }
    ASSERT_TRUE(SameState(*fl_, model_, hwm_, true)) << Where("end of transaction");
  }

  void Allocate(txid_t txid, std::vector<Span>* in_use, pgid_t* hwm) {
    const size_t n = 1 + rnd_.Skewed(3);
    pgid_t start = fl_->Allocate(txid, n);
    ASSERT_EQ(start, model_.Allocate(txid, n)) << Where("allocate") << " n=" << n;
    if (start == 0) {
      start = *hwm;  // as the engine: grow past the high-water mark
      *hwm += n;
    } else {
      allocations_++;
    }
    in_use->push_back({start, static_cast<uint32_t>(n - 1)});
    ASSERT_TRUE(SameState(*fl_, model_, *hwm, false)) << Where("allocate");
  }

  void FreeOne(txid_t txid, std::vector<Span>* in_use, pgid_t hwm) {
    const size_t k = rnd_.Uniform(in_use->size());
    const Span span = (*in_use)[k];
    // Now and then the way the old freelist page is freed: its allocation
    // txid given when unrecorded.
    const txid_t unrecorded_alloc_txid = rnd_.OneIn(10) ? txid - 1 : 0;
    ASSERT_OK(fl_->Free(txid, span.start, span.overflow, unrecorded_alloc_txid)) << Where("free");
    ASSERT_TRUE(model_.Free(txid, span.start, span.overflow, unrecorded_alloc_txid));
    (*in_use)[k] = in_use->back();
    in_use->pop_back();
    // Freeing it again is a damaged tree: refused, nothing changes.
    if (rnd_.OneIn(4)) {
      EXPECT_CODE(fl_->Free(txid, span.start, span.overflow, 0), Code::kCorruption);
    }
    ASSERT_TRUE(SameState(*fl_, model_, hwm, false)) << Where("free");
  }

  FreelistType type_;
  Random rnd_;
  std::unique_ptr<Freelist> fl_;
  ModelFreelist model_;
  std::vector<Span> in_use_;  // committed pages in use (pages 0..3: metas, freelist, root)
  std::set<txid_t> readers_;
  const bool hold_checkpoint_;
  txid_t checkpoint_ = 1;
  pgid_t hwm_ = 4;
  txid_t txid_ = 1;
  size_t allocations_ = 0;
  size_t rollbacks_ = 0;
};

class FreelistLockstep : public ::testing::TestWithParam<FreelistType> {};

TEST_P(FreelistLockstep, RandomTransactionsMatchTheModel) {
  const int txs = static_cast<int>(testing::EnvInt("BOLTPP_FREELIST_TXS", 400));
  for (uint64_t base = 1; base <= 20; base++) {
    const uint64_t seed = testing::SeedOr(base * 7919);
    std::printf("[freelist] %s seed %llu (BOLTPP_SEED=%llu replays it)\n", TypeName(GetParam()),
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
    LockstepRun run(GetParam(), seed);
    run.Run(txs);
    if (HasFailure()) return;
    EXPECT_GT(run.allocations(), 0u) << "seed " << seed << ": the free set was never used";
    EXPECT_GT(run.rollbacks(), 0u) << "seed " << seed;
    if (testing::SeedFromEnv()) return;  // one replayed seed
  }
}

TEST_P(FreelistLockstep, RandomTransactionsUnderAHeldCheckpointMatchTheModel) {
  const int txs = static_cast<int>(testing::EnvInt("BOLTPP_FREELIST_TXS", 400)) * 2;
  for (uint64_t base = 1; base <= 10; base++) {
    const uint64_t seed = testing::SeedOr(base * 104729);
    std::printf("[freelist] %s held checkpoint, seed %llu (BOLTPP_SEED=%llu replays it)\n",
                TypeName(GetParam()), static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(seed));
    LockstepRun run(GetParam(), seed, /*hold_checkpoint=*/true);
    run.Run(txs);
    if (HasFailure()) return;
    EXPECT_GT(run.allocations(), 0u) << "seed " << seed << ": the free set was never used";
    if (testing::SeedFromEnv()) return;  // one replayed seed
  }
}

INSTANTIATE_TEST_SUITE_P(Types, FreelistLockstep,
                         ::testing::Values(FreelistType::kArray, FreelistType::kHashMap),
                         [](const auto& type) { return std::string(TypeName(type.param)); });

class FreelistTest : public ::testing::TestWithParam<FreelistType> {
 protected:
  std::unique_ptr<Freelist> fl_ = Freelist::New(GetParam());
};

// Two freelists with the same history, one of them with an extra
// transaction that is rolled back, must be indistinguishable afterwards:
// same ids, and the same answers to the same later calls -- including range
// releases, which depend on the allocation records a rollback restores.
TEST_P(FreelistTest, RollbackIsExact) {
  const uint64_t seed = testing::SeedOr(4711);
  std::printf("[freelist] seed %llu\n", static_cast<unsigned long long>(seed));
  for (int round = 0; round < 50 && !HasFailure(); round++) {
    Random rnd(seed + static_cast<uint64_t>(round));
    std::vector<pgid_t> ids;
    for (pgid_t id = 2; id < 200; id++) {
      if (rnd.Percent(60)) ids.push_back(id);
    }
    auto plain = Freelist::New(GetParam());
    auto rolled = Freelist::New(GetParam());
    ASSERT_OK(plain->Reload(ids));
    ASSERT_OK(rolled->Reload(ids));
    // A shared committed history: allocations by tx 2, freed by tx 3.
    std::vector<std::pair<pgid_t, size_t>> spans;
    for (auto* fl : {plain.get(), rolled.get()}) {
      Random same(seed * 31 + static_cast<uint64_t>(round));
      fl->BeginTx(2);
      spans.clear();
      for (int i = 0; i < 10; i++) {
        const size_t n = 1 + same.Uniform(3);
        if (pgid_t s = fl->Allocate(2, n); s != 0) spans.emplace_back(s, n);
      }
      fl->CommitTx();
    }
    // The rolled-back transaction 3: allocates, frees committed and its
    // own pages, frees a freelist page.
    rolled->BeginTx(3);
    for (int i = 0; i < 8; i++) (void)rolled->Allocate(3, 1 + rnd.Uniform(4));
    for (size_t i = 0; i < spans.size(); i += 2) {
      ASSERT_OK(rolled->Free(3, spans[i].first, static_cast<uint32_t>(spans[i].second - 1), 0));
    }
    if (pgid_t s = rolled->Allocate(3, 2); s != 0) {
      ASSERT_OK(rolled->Free(3, s, 1, 0));
    }
    ASSERT_OK(rolled->Free(3, 500, 0, 2));
    rolled->RollbackTx();

    EXPECT_EQ(rolled->AllIds(), plain->AllIds());
    EXPECT_EQ(rolled->FreeCount(), plain->FreeCount());
    EXPECT_EQ(rolled->PendingCount(), plain->PendingCount());
    // The same transaction 3 on both, committed, then released by range.
    for (auto* fl : {plain.get(), rolled.get()}) {
      fl->BeginTx(3);
      for (size_t i = 1; i < spans.size(); i += 2) {
        ASSERT_OK(fl->Free(3, spans[i].first, static_cast<uint32_t>(spans[i].second - 1), 0));
      }
      fl->CommitTx();
      fl->ReleaseRange(2, 3);  // pages allocated by 2 and freed by 3
    }
    EXPECT_EQ(rolled->AllIds(), plain->AllIds()) << "round " << round;
    EXPECT_EQ(rolled->PendingCount(), plain->PendingCount()) << "round " << round;
    for (size_t n = 1; n <= 4; n++) EXPECT_EQ(rolled->Allocate(4, n), plain->Allocate(4, n));
  }
}

TEST_P(FreelistTest, FreeAndRelease) {
  ASSERT_OK(fl_->Reload({}));
  ASSERT_OK(fl_->Free(100, 12, 0, 0));
  ASSERT_OK(fl_->Free(100, 9, 2, 0));  // 9, 10, 11
  ASSERT_OK(fl_->Free(101, 39, 0, 0));
  EXPECT_EQ(fl_->PendingCount(), 5u);
  EXPECT_EQ(fl_->FreeCount(), 0u);
  EXPECT_TRUE(fl_->IsFreed(10));
  EXPECT_FALSE(fl_->IsFreed(13));
  EXPECT_CODE(fl_->Free(102, 11, 0, 0), Code::kCorruption);  // already pending
  EXPECT_CODE(fl_->Free(102, 1, 0, 0), Code::kCorruption);   // a meta page
  fl_->Release(100);
  EXPECT_EQ(fl_->FreeCount(), 4u);
  EXPECT_EQ(fl_->PendingCount(), 1u);
  fl_->Release(101);
  EXPECT_EQ(fl_->AllIds(), (std::vector<pgid_t>{9, 10, 11, 12, 39}));
  EXPECT_EQ(fl_->PendingCount(), 0u);
}

// bbolt's TestFreelist_releaseRange in short: pages allocated and freed
// between two readers are released; others wait.
TEST_P(FreelistTest, ReleaseRangeFreesOnlyWhatNoReaderSees) {
  ASSERT_OK(fl_->Reload({3, 4, 5, 6}));
  fl_->BeginTx(2);
  ASSERT_EQ(fl_->Allocate(2, 1), 3u);
  fl_->CommitTx();
  fl_->BeginTx(4);
  ASSERT_OK(fl_->Free(4, 3, 0, 0));   // allocated by 2, freed by 4
  ASSERT_OK(fl_->Free(4, 20, 0, 0));  // allocated before the freelist knew it
  fl_->CommitTx();
  fl_->ReleaseRange(3, 4);  // 2 is outside [3, 4]: nothing
  EXPECT_EQ(fl_->PendingCount(), 2u);
  fl_->ReleaseRange(2, 4);
  EXPECT_EQ(fl_->PendingCount(), 1u);
  EXPECT_TRUE(fl_->IsFreed(3));
  fl_->ReleaseRange(0, 4);  // page 20 has allocating txid 0
  EXPECT_EQ(fl_->PendingCount(), 0u);
  EXPECT_EQ(fl_->FreeCount(), 5u);
}

TEST_P(FreelistTest, ReloadRefusesDamagedLists) {
  EXPECT_CODE(fl_->Reload({5, 3, 5}), Code::kCorruption);
  EXPECT_CODE(fl_->Reload({1, 3}), Code::kCorruption);
  ASSERT_OK(fl_->Reload({7, 3, 4}));
  EXPECT_EQ(fl_->AllIds(), (std::vector<pgid_t>{3, 4, 7}));
}

INSTANTIATE_TEST_SUITE_P(Types, FreelistTest,
                         ::testing::Values(FreelistType::kArray, FreelistType::kHashMap),
                         [](const auto& type) { return std::string(TypeName(type.param)); });

// bbolt's TestFreelistArray_allocate, and the same free set on the hashmap
// layout, which takes the lowest span of the best size.
TEST(FreelistAllocate, ArrayFirstFitAsBbolt) {
  auto fl = Freelist::New(FreelistType::kArray);
  ASSERT_OK(fl->Reload({3, 4, 5, 6, 7, 9, 12, 13, 18}));
  EXPECT_EQ(fl->Allocate(1, 3), 3u);
  EXPECT_EQ(fl->Allocate(1, 1), 6u);
  EXPECT_EQ(fl->Allocate(1, 3), 0u);
  EXPECT_EQ(fl->Allocate(1, 2), 12u);
  EXPECT_EQ(fl->Allocate(1, 1), 7u);
  EXPECT_EQ(fl->Allocate(1, 0), 0u);
  EXPECT_EQ(fl->Allocate(1, 0), 0u);
  EXPECT_EQ(fl->AllIds(), (std::vector<pgid_t>{9, 18}));
  EXPECT_EQ(fl->Allocate(1, 1), 9u);
  EXPECT_EQ(fl->Allocate(1, 1), 18u);
  EXPECT_EQ(fl->Allocate(1, 1), 0u);
  EXPECT_TRUE(fl->AllIds().empty());
}

TEST(FreelistAllocate, HashmapLowestSpanOfBestSize) {
  auto fl = Freelist::New(FreelistType::kHashMap);
  ASSERT_OK(fl->Reload({3, 4, 5, 6, 7, 9, 12, 13, 18}));
  EXPECT_EQ(fl->Allocate(1, 3), 3u);  // the only span >= 3: 3..7, leaves 6..7
  EXPECT_EQ(fl->Allocate(1, 1), 9u);  // size-1 spans 9 and 18
  EXPECT_EQ(fl->Allocate(1, 3), 0u);
  EXPECT_EQ(fl->Allocate(1, 2), 6u);  // size-2 spans 6 and 12
  EXPECT_EQ(fl->Allocate(1, 1), 18u);
  EXPECT_EQ(fl->Allocate(1, 0), 0u);
  EXPECT_EQ(fl->AllIds(), (std::vector<pgid_t>{12, 13}));
}

// ---- the freelist page: count overflow at 0xFFFF ids ----

std::vector<pgid_t> Ids(size_t n) {
  std::vector<pgid_t> ids(n);
  for (size_t i = 0; i < n; i++) ids[i] = 2 + 3 * i;
  return ids;
}

// Encodes ids into a freelist page (header id 2) and returns the bytes.
std::string EncodePage(const std::vector<pgid_t>& ids) {
  std::string page(format::FreelistSize(ids.size()), '\0');
  auto* p = reinterpret_cast<uint8_t*>(page.data());
  format::SetPageHeader(p, 2, format::kFreelistPage, 0, 0);
  format::EncodeFreelist(p, ids);
  return page;
}

TEST(FreelistPage, CountOverflowAt0xFFFF) {
  for (size_t n :
       {size_t{0}, size_t{1}, size_t{0xFFFE}, size_t{0xFFFF}, size_t{0x10000}, size_t{200000}}) {
    SCOPED_TRACE("ids: " + std::to_string(n));
    const std::vector<pgid_t> ids = Ids(n);
    const std::string page = EncodePage(ids);
    const bool overflow = n >= 0xFFFF;
    EXPECT_EQ(page.size(), 16 + 8 * n + (overflow ? 8 : 0));
    // Header count: the real count below 0xFFFF, else 0xFFFF and the count in
    // the first u64 (docs/format.md, "The freelist page").
    EXPECT_EQ(size_t{testing::LoadLE<uint16_t>(page, 10)}, overflow ? size_t{0xFFFF} : n);
    if (overflow) {
      EXPECT_EQ(testing::LoadLE<uint64_t>(page, 16), n);
    }
    // testutil's own reader and the engine's decoder agree with the input.
    EXPECT_EQ(testing::ParseFreelist(page, 0), ids);
    std::vector<pgid_t> decoded;
    ASSERT_OK(format::DecodeFreelist(reinterpret_cast<const uint8_t*>(page.data()), page.size(), 2,
                                     &decoded));
    EXPECT_EQ(decoded, ids);
  }
}

TEST(FreelistPage, DecodeRefusesCountsPastThePage) {
  std::string page = EncodePage(Ids(0x10000));
  auto* p = reinterpret_cast<const uint8_t*>(page.data());
  std::vector<pgid_t> ids;
  // The overflow count claims one id more than the page holds.
  std::string longer = page;
  std::memcpy(longer.data() + 16, testing::EncodeLE<uint64_t>(0x10001).data(), 8);
  EXPECT_CODE(format::DecodeFreelist(reinterpret_cast<const uint8_t*>(longer.data()), longer.size(),
                                     2, &ids),
              Code::kCorruption);
  // The count word itself cut off.
  EXPECT_CODE(format::DecodeFreelist(p, 16 + 4, 2, &ids), Code::kCorruption);
}

// The engine sizes the page it writes from Count(): 8 more bytes from 0xFFFF ids.
TEST_P(FreelistTest, EstimatedWriteSizeCrossesTheOverflow) {
  ASSERT_OK(fl_->Reload(Ids(0xFFFE)));
  EXPECT_EQ(fl_->EstimatedWriteSize(), 16u + 8u * 0xFFFE);
  ASSERT_OK(fl_->Free(9, 1000000, 0, 0));
  EXPECT_EQ(fl_->Count(), 0xFFFFu);
  EXPECT_EQ(fl_->EstimatedWriteSize(), 16u + 8u * 0xFFFF + 8u);
  const std::string page = EncodePage(fl_->AllIds());
  EXPECT_EQ(testing::ParseFreelist(page, 0), fl_->AllIds());
}

}  // namespace
}  // namespace boltpp
