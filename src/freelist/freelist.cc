// File: src/freelist/freelist.cc
// The shared pending/release/rollback logic, and the two free-set layouts:
// ArrayFreelist (sorted ids, first fit, like bbolt's default) and
// HashMapFreelist (spans indexed by start, end and size: no linear scans,
// and unlike bbolt's it returns the lowest span of the best size).
#include "freelist/freelist.h"

#include <algorithm>
#include <set>
#include <string>

namespace boltpp {

Status Freelist::Reload(std::vector<pgid_t> ids) {
  pending_.clear();
  range_hints_.clear();
  pending_count_ = 0;
  allocs_.clear();
  cache_.clear();
  undo_ = Undo{};
  ClearFree();
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size(); i++) {
    if (ids[i] < 2) {
      return Status(Code::kCorruption, "freelist: lists page " + std::to_string(ids[i]));
    }
    if (i > 0 && ids[i] == ids[i - 1]) {
      return Status(Code::kCorruption,
                    "freelist: page " + std::to_string(ids[i]) + " listed twice");
    }
  }
  cache_.reserve(ids.size());
  cache_.insert(ids.begin(), ids.end());
  AddFree(std::move(ids));
  return Status::OK();
}

void Freelist::BeginTx(txid_t txid) {
  undo_ = Undo{};
  undo_.active = true;
  undo_.txid = txid;
  alloc_limit_ = kNoAllocLimit;
}

void Freelist::CommitTx() { undo_ = Undo{}; }

void Freelist::RollbackTx() {
  if (!undo_.active) return;
  auto it = pending_.find(undo_.txid);
  if (it != pending_.end()) {
    for (pgid_t id : it->second.ids) cache_.erase(id);
    pending_count_ -= it->second.ids.size();
    pending_.erase(it);
  }
  for (const auto& [id, tx] : undo_.allocs_erased) allocs_[id] = tx;
  for (pgid_t start : undo_.grown) allocs_.erase(start);
  std::vector<pgid_t> back;
  for (const auto& [start, n] : undo_.taken) {
    allocs_.erase(start);
    for (size_t i = 0; i < n; i++) {
      back.push_back(start + i);
      cache_.insert(start + i);
    }
  }
  for (const auto& [start, n] : undo_.trimmed) {
    for (size_t i = 0; i < n; i++) {
      back.push_back(start + i);
      cache_.insert(start + i);
    }
  }
  AddFree(std::move(back));
  undo_ = Undo{};
}

pgid_t Freelist::Allocate(txid_t txid, size_t n) {
  if (n == 0) return 0;
  pgid_t start = TakeSpan(n, alloc_limit_);
  if (start == 0 && alloc_limit_ != kNoAllocLimit) start = TakeSpan(n, kNoAllocLimit);
  if (start == 0) return 0;
  for (size_t i = 0; i < n; i++) cache_.erase(start + i);
  allocs_[start] = txid;
  if (undo_.active) undo_.taken.emplace_back(start, n);
  return start;
}

void Freelist::NoteGrowth(txid_t txid, pgid_t start) {
  allocs_[start] = txid;
  if (undo_.active) undo_.grown.push_back(start);
}

void Freelist::ForgetAllocationsThrough(txid_t txid) {
  std::erase_if(allocs_, [txid](const auto& a) { return a.second <= txid; });
}

pgid_t Freelist::TrimTail(pgid_t hwm) {
  const pgid_t start = TakeTail(hwm);
  if (start == hwm) return hwm;
  for (pgid_t id = start; id < hwm; id++) cache_.erase(id);
  if (undo_.active) undo_.trimmed.emplace_back(start, hwm - start);
  return start;
}

Status Freelist::Free(txid_t txid, pgid_t id, uint32_t overflow, txid_t unrecorded_alloc_txid) {
  if (id < 2) return Status(Code::kCorruption, "cannot free page 0 or 1: " + std::to_string(id));
  for (pgid_t p = id; p <= id + overflow; p++) {
    if (cache_.count(p)) return format::Corrupt(p, "already freed");
  }
  txid_t alloc_txid = unrecorded_alloc_txid;
  auto a = allocs_.find(id);
  if (a != allocs_.end()) {
    alloc_txid = a->second;
    if (undo_.active) undo_.allocs_erased.emplace_back(id, a->second);
    allocs_.erase(a);
  }
  TxPending& txp = pending_[txid];
  for (pgid_t p = id; p <= id + overflow; p++) {
    txp.ids.push_back(p);
    txp.alloctx.push_back(alloc_txid);
    cache_.insert(p);
  }
  pending_count_ += size_t{overflow} + 1;
  return Status::OK();
}

void Freelist::ReleaseIds(std::vector<pgid_t> ids) {
  if (!ids.empty()) AddFree(std::move(ids));
}

void Freelist::Release(txid_t txid) {
  std::vector<pgid_t> ids;
  for (auto it = pending_.begin(); it != pending_.end() && it->first <= txid;) {
    ids.insert(ids.end(), it->second.ids.begin(), it->second.ids.end());
    pending_count_ -= it->second.ids.size();
    it = pending_.erase(it);
  }
  ReleaseIds(std::move(ids));
}

Freelist::RangeHint* Freelist::HintFor(txid_t begin) {
  for (RangeHint& h : range_hints_) {
    if (h.begin == begin) return &h;
  }
  if (range_hints_.size() >= kMaxRangeHints) range_hints_.erase(range_hints_.begin());
  range_hints_.push_back(RangeHint{begin, false, 0});
  return &range_hints_.back();
}

void Freelist::ReleaseRange(txid_t begin, txid_t end) {
  if (begin > end) return;
  RangeHint* hint = HintFor(begin);
  auto it = hint->any ? pending_.upper_bound(hint->examined_through) : pending_.lower_bound(begin);
  std::vector<pgid_t> ids;
  for (; it != pending_.end() && it->first <= end;) {
    TxPending& txp = it->second;
    hint->any = true;
    hint->examined_through = it->first;
    if (txp.last_release_begin == begin) {
      ++it;
      continue;
    }
    for (size_t i = 0; i < txp.ids.size();) {
      txid_t atx = txp.alloctx[i];
      if (atx < begin || atx > end) {
        i++;
        continue;
      }
      ids.push_back(txp.ids[i]);
      txp.ids[i] = txp.ids.back();
      txp.ids.pop_back();
      txp.alloctx[i] = txp.alloctx.back();
      txp.alloctx.pop_back();
      pending_count_--;
    }
    txp.last_release_begin = begin;
    it = txp.ids.empty() ? pending_.erase(it) : std::next(it);
  }
  ReleaseIds(std::move(ids));
}

std::vector<pgid_t> Freelist::AllIds() const {
  std::vector<pgid_t> ids;
  ids.reserve(Count());
  FreeIdsInto(&ids);
  const size_t free_n = ids.size();
  for (const auto& [txid, txp] : pending_) ids.insert(ids.end(), txp.ids.begin(), txp.ids.end());
  std::sort(ids.begin() + static_cast<std::ptrdiff_t>(free_n), ids.end());
  std::inplace_merge(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(free_n), ids.end());
  return ids;
}

namespace {

class ArrayFreelist final : public Freelist {
 protected:
  pgid_t TakeSpan(size_t n, pgid_t limit) override {
    pgid_t initial = 0, previd = 0;
    for (size_t i = head_; i < ids_.size(); i++) {
      const pgid_t id = ids_[i];
      if (id >= limit) return 0;  // first fit: every later run ends higher
      if (previd == 0 || id - previd != 1) initial = id;
      if (id - initial + 1 == n) {
        const size_t first = i + 1 - n;
        if (first == head_) {
          // The lowest ids (always, for one page): dropped from the front
          // without moving the rest.
          head_ += n;
        } else {
          ids_.erase(ids_.begin() + static_cast<std::ptrdiff_t>(first),
                     ids_.begin() + static_cast<std::ptrdiff_t>(i + 1));
        }
        return initial;
      }
      previd = id;
    }
    return 0;
  }
  pgid_t TakeTail(pgid_t hwm) override {
    pgid_t start = hwm;
    while (ids_.size() > head_ && ids_.back() == start - 1) {
      ids_.pop_back();
      start--;
    }
    return start;
  }
  void AddFree(std::vector<pgid_t> ids) override {
    std::sort(ids.begin(), ids.end());
    if (Live() == 0) {
      ids_ = std::move(ids);
      head_ = 0;
      return;
    }
    std::vector<pgid_t> merged;
    merged.reserve(Live() + ids.size());
    std::merge(ids_.begin() + static_cast<std::ptrdiff_t>(head_), ids_.end(), ids.begin(),
               ids.end(), std::back_inserter(merged));
    ids_ = std::move(merged);
    head_ = 0;
  }
  void ClearFree() override {
    ids_.clear();
    head_ = 0;
  }
  void FreeIdsInto(std::vector<pgid_t>* out) const override {
    out->insert(out->end(), ids_.begin() + static_cast<std::ptrdiff_t>(head_), ids_.end());
  }
  size_t FreeCountImpl() const override { return Live(); }

 private:
  size_t Live() const { return ids_.size() - head_; }
  // The free ids are ids_[head_, end), sorted: allocations take the lowest
  // first, so they advance head_ instead of erasing the vector's front (an
  // O(free pages) move per allocated page, quadratic in a commit that
  // allocates thousands of pages from a large free list).
  std::vector<pgid_t> ids_;
  size_t head_ = 0;
};

class HashMapFreelist final : public Freelist {
 protected:
  // The lowest span of the smallest size >= n that ends below limit.
  pgid_t TakeSpan(size_t n, pgid_t limit) override {
    for (auto it = by_size_.lower_bound(n); it != by_size_.end(); ++it) {
      const size_t size = it->first;
      const pgid_t start = *it->second.begin();
      if (start + n > limit) continue;  // the lowest of this size is too high
      RemoveSpan(start, size);
      if (size > n) InsertSpan(start + n, size - n);
      return start;
    }
    return 0;
  }
  pgid_t TakeTail(pgid_t hwm) override {
    auto it = backward_.find(hwm - 1);
    if (it == backward_.end()) return hwm;
    const size_t size = it->second;
    RemoveSpan(hwm - size, size);
    return hwm - size;
  }
  void AddFree(std::vector<pgid_t> ids) override {
    for (pgid_t id : ids) AddOne(id);
  }
  void ClearFree() override {
    forward_.clear();
    backward_.clear();
    by_size_.clear();
    count_ = 0;
  }
  void FreeIdsInto(std::vector<pgid_t>* out) const override {
    std::vector<std::pair<pgid_t, size_t>> spans(forward_.begin(), forward_.end());
    std::sort(spans.begin(), spans.end());
    for (const auto& [start, size] : spans) {
      for (size_t i = 0; i < size; i++) out->push_back(start + i);
    }
  }
  size_t FreeCountImpl() const override { return count_; }

 private:
  void InsertSpan(pgid_t start, size_t size) {
    forward_[start] = size;
    backward_[start + size - 1] = size;
    by_size_[size].insert(start);
    count_ += size;
  }
  void RemoveSpan(pgid_t start, size_t size) {
    forward_.erase(start);
    backward_.erase(start + size - 1);
    auto it = by_size_.find(size);
    it->second.erase(start);
    if (it->second.empty()) by_size_.erase(it);
    count_ -= size;
  }
  // Adds one id, merging with the spans that end just before or start just after it.
  void AddOne(pgid_t id) {
    pgid_t start = id;
    size_t size = 1;
    if (auto prev = backward_.find(id - 1); prev != backward_.end()) {
      const size_t psize = prev->second;
      start = id - psize;
      RemoveSpan(start, psize);
      size += psize;
    }
    if (auto next = forward_.find(id + 1); next != forward_.end()) {
      const size_t nsize = next->second;
      RemoveSpan(id + 1, nsize);
      size += nsize;
    }
    InsertSpan(start, size);
  }

  std::unordered_map<pgid_t, size_t> forward_;   // start -> size
  std::unordered_map<pgid_t, size_t> backward_;  // last id -> size
  std::map<size_t, std::set<pgid_t>> by_size_;   // size -> starts
  size_t count_ = 0;
};

}  // namespace

std::unique_ptr<Freelist> Freelist::New(FreelistType type) {
  if (type == FreelistType::kHashMap) return std::make_unique<HashMapFreelist>();
  return std::make_unique<ArrayFreelist>();
}

}  // namespace boltpp
