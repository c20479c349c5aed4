// File: src/freelist/freelist.h
// Page allocation. Free pages are either free (reusable now) or pending
// (freed by a transaction that some open reader may still predate). A write
// transaction allocates from the free set; pages it frees become pending
// under its txid and are released once no reader can still see them
// (bbolt's freelist.go). Unlike bbolt, every change a write transaction makes
// here is recorded, so Rollback restores the exact state it began with:
// no page is leaked by a rollback or a failed commit.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "boltpp/options.h"
#include "boltpp/status.h"
#include "format/page.h"

namespace boltpp {

using format::pgid_t;
using format::txid_t;

class Freelist {
 public:
  static std::unique_ptr<Freelist> New(FreelistType type);
  virtual ~Freelist() = default;

  // Replaces all state: `ids` (any order) become the free set; nothing pending.
  // Fails on an id below 2 or a duplicate (a damaged freelist page).
  Status Reload(std::vector<pgid_t> ids);

  // Starts recording the changes of write transaction txid (for Rollback).
  void BeginTx(txid_t txid);
  // Forgets the record: the transaction committed.
  void CommitTx();
  // Undoes every Allocate and Free of the current transaction.
  void RollbackTx();

  // n contiguous free pages for txid, or 0 when no run is long enough.
  // With an allocation limit set, a run that ends below the limit is
  // preferred; any run is taken when none does.
  pgid_t Allocate(txid_t txid, size_t n);
  // Records that txid allocated the pages starting at start past the
  // high-water mark (not from the free set), so that ReleaseRange can reuse
  // them once freed. WAL mode needs this: pages written after the last
  // checkpoint and freed before the next one are in no checkpoint's tree.
  // RollbackTx forgets it.
  void NoteGrowth(txid_t txid, pgid_t start);
  // Forgets the allocation txids <= txid. Their pages then count as old:
  // held until no reader and no checkpoint can see them, which is always
  // safe; it only bounds the memory allocs_ takes.
  void ForgetAllocationsThrough(txid_t txid);
  // Makes Allocate prefer runs that end below limit (kNoAllocLimit: none),
  // for the current write transaction only (BeginTx clears it).
  // Shrink sets it so that moved pages land below the region it empties.
  void SetAllocLimit(pgid_t limit) { alloc_limit_ = limit; }
  static constexpr pgid_t kNoAllocLimit = ~pgid_t{0};
  // Removes from the free set the run of free pages that ends at hwm - 1
  // and returns its first id (hwm when page hwm - 1 is not free), so the
  // caller may lower the high-water mark to it. Only free pages are taken,
  // never pending ones (an open reader may still see those), so every id
  // left in the free and pending sets is below the returned id. Recorded
  // like an allocation: RollbackTx gives the pages back.
  pgid_t TrimTail(pgid_t hwm);
  // Frees pages [id, id + overflow] as pending under txid. kCorruption when a
  // page is already free or pending (a damaged tree), or id < 2.
  // Their allocation txid is the one Allocate or NoteGrowth recorded, else
  // unrecorded_alloc_txid (0: unknown, the pages count as old).
  //
  // The release invariant: pages pending under txid F with allocation txid
  // A are released only once no open reader (and in WAL mode not the
  // checkpoint: DBImpl::ReleasePending) has a snapshot txid in [A, F - 1].
  // So A must be at most the txid of every snapshot that can reach the
  // pages: unrecorded_alloc_txid is a lower bound of that, never a guess
  // (too high, a reader's page is reused under it; too low only holds the
  // pages longer). For the freelist page a commit replaces it is the txid
  // of the commit that wrote it (DBImpl::FreelistWriter).
  Status Free(txid_t txid, pgid_t id, uint32_t overflow, txid_t unrecorded_alloc_txid);
  // Moves pages freed by transactions <= txid to the free set.
  void Release(txid_t txid);
  // Releases pages both allocated and freed within [begin, end].
  // Requires (as every allocation txid is): allocation txid <= free txid.
  // Costs O(pending transactions not yet examined with this begin): once
  // the entry of free txid F has been examined with begin b, no page with
  // allocation txid in [b, F] is left in it (pages are only ever added to
  // the entry of the writer's own txid, later than any examined one), so a
  // later call with the same begin resumes after the last entry examined.
  // In WAL mode, where the checkpoint holds begin fixed for thousands of
  // commits, this keeps each commit's release constant instead of linear.
  void ReleaseRange(txid_t begin, txid_t end);

  size_t FreeCount() const { return FreeCountImpl(); }
  size_t PendingCount() const { return pending_count_; }
  size_t Count() const { return FreeCount() + PendingCount(); }
  bool IsFreed(pgid_t id) const { return cache_.count(id) != 0; }
  // Free and pending ids, sorted: what the freelist page records.
  std::vector<pgid_t> AllIds() const;
  size_t EstimatedWriteSize() const { return format::FreelistSize(Count()); }

 protected:
  // The first id of n contiguous free pages ending at or below limit
  // (taken out of the free set), or 0 if none.
  virtual pgid_t TakeSpan(size_t n, pgid_t limit) = 0;
  // Takes the run of free pages ending at hwm - 1; returns its first id (hwm if none).
  virtual pgid_t TakeTail(pgid_t hwm) = 0;
  virtual void AddFree(std::vector<pgid_t> ids) = 0;  // ids not in the free set
  virtual void ClearFree() = 0;
  virtual void FreeIdsInto(std::vector<pgid_t>* out) const = 0;  // sorted
  virtual size_t FreeCountImpl() const = 0;

 private:
  struct TxPending {
    std::vector<pgid_t> ids;
    std::vector<txid_t> alloctx;
    txid_t last_release_begin = 0;
  };
  struct Undo {
    bool active = false;
    txid_t txid = 0;
    std::vector<std::pair<pgid_t, size_t>> taken;          // spans allocated from the free set
    std::vector<std::pair<pgid_t, txid_t>> allocs_erased;  // allocs_ entries Free removed
    std::vector<std::pair<pgid_t, size_t>> trimmed;        // spans TrimTail removed
    std::vector<pgid_t> grown;                             // starts NoteGrowth recorded
  };

  void ReleaseIds(std::vector<pgid_t> ids);
  // What ReleaseRange examined with one begin: entries up to
  // examined_through (when any) need no second look.
  struct RangeHint {
    txid_t begin = 0;
    bool any = false;
    txid_t examined_through = 0;
  };
  static constexpr size_t kMaxRangeHints = 16;
  RangeHint* HintFor(txid_t begin);

  std::map<txid_t, TxPending> pending_;
  size_t pending_count_ = 0;
  std::vector<RangeHint> range_hints_;         // a few recent begins (readers come and go)
  std::unordered_map<pgid_t, txid_t> allocs_;  // first page of an allocation -> its txid
  std::unordered_set<pgid_t> cache_;           // every free or pending id
  Undo undo_;
  pgid_t alloc_limit_ = kNoAllocLimit;
};

}  // namespace boltpp
