// File: src/shrink.cc
// DB::Shrink: gives a live database's free space back to the file system,
// in place (docs/design.md "Files that shrink").
//
// 1. Pack: runs of sibling leaves that would fit in fewer pages are merged
//    and written at fill percent 1.0, as compact writes them.
// 2. Move: the cut is the number of pages the tree uses; every page at or
//    above it is rewritten. A cursor positioned at a key of the page
//    materializes the page and its ancestors, so the commit writes them to
//    new pages, and the freelist's allocation limit makes those come from
//    free pages below the cut (overflow runs, bucket roots and the freelist
//    page included). Repeated until nothing is left above the cut or a
//    round makes no progress (pages an open reader still sees stay pending).
// 3. Truncate: last commits release what the moves freed, trim the free
//    tail (TxImpl::TrimFreeTail) and cut the file to fit (TruncateTail).
// Every batch is an ordinary write transaction: readers keep their snapshot,
// writers wait at most one batch, and a failure or a crash leaves the last
// committed batch, a complete and consistent tree. In WAL mode the batches
// are logged commits and every settle is a checkpoint (see Settle).
#include <algorithm>
#include <cmath>

#include "impl.h"

namespace boltpp {

using namespace format;

namespace {

// A page (or, when packing, a run of sibling leaves) named so that a later
// transaction finds it again: the bucket that owns it and a key whose
// search passes through it.
struct PageRef {
  pgid_t id = 0;
  uint32_t pages = 0;   // pages to rewrite: the page with its overflow, or the run's leaves
  uint32_t writes = 0;  // pages the commit writes for it: pages, or a packed run's estimate
  uint32_t bucket = 0;  // index into Plan::buckets
  std::string key;
};

struct Plan {
  std::vector<std::vector<std::string>> buckets{{}};  // names from the top level; 0: the top level
  pgid_t hwm = 0;
  uint64_t used = 0;       // pages the snapshot uses: metas, freelist and trees
  uint64_t pack_gain = 0;  // pages the planned packs are expected to save
  std::vector<PageRef> refs;
};

constexpr uint32_t kMaxPackRun = 64;  // leaves merged into one node at most
constexpr int kMaxMoveRounds = 16;

// Bytes a leaf page's elements occupy, header excluded: up to the end of
// the last element's value, since pages are written with the element
// headers first and then keys and values in the same order (bbolt's layout).
// Only a planning estimate: a page laid out otherwise just packs worse.
uint64_t LeafDataBytes(const PageView& p) {
  LeafElem e;
  if (p.count() == 0 || !ReadLeafElem(p, p.count() - 1, &e)) return 0;  // Walk reports damage
  const auto* end = reinterpret_cast<const uint8_t*>(e.value.data()) + e.value.size();
  return static_cast<uint64_t>(end - (p.data + kPageHeaderSize));
}

std::string_view FirstKey(const PageView& p) {
  if (p.count() == 0) return {};
  if (p.is_branch()) {
    BranchElem e;
    return ReadBranchElem(p, 0, &e) ? e.key : std::string_view();
  }
  LeafElem e;
  return ReadLeafElem(p, 0, &e) ? e.key : std::string_view();
}

// Walks every tree of a read snapshot once (nested buckets included),
// counting the pages in use and collecting either every page at or above
// a cut (Move) or the runs of leaves worth packing (Pack). Refuses a page
// met twice or a tree deeper than kMaxTreeDepth (a damaged file).
class Walker {
 public:
  Walker(TxImpl* tx, bool pack, Plan* plan)
      : tx_(tx), pack_(pack), plan_(plan), seen_(tx->meta.pgid, false) {}

  Status Run() {
    plan_->hwm = tx_->meta.pgid;
    plan_->used = 2;
    if (tx_->meta.freelist != kNoFreelist) {
      PageView p;
      if (Status s = tx_->RawPage(tx_->meta.freelist, &p); !s.ok()) return s;
      plan_->used += p.span / tx_->page_size;
    }
    return Walk(tx_->meta.root, 0, 0);
  }

  // Move: the pages at or above the cut, highest first.
  void CollectTail(pgid_t cut) {
    for (const Seen& s : pages_) {
      if (s.id >= cut)
        plan_->refs.push_back({s.id, s.pages, s.pages, s.bucket, std::string(s.key)});
    }
    std::sort(plan_->refs.begin(), plan_->refs.end(),
              [](const PageRef& a, const PageRef& b) { return a.id > b.id; });
  }

 private:
  struct Seen {
    pgid_t id;
    uint32_t pages;
    uint32_t bucket;
    std::string_view key;  // into the map: valid while the snapshot is open
  };

  Status Walk(pgid_t id, uint32_t bucket, int depth) {
    if (depth > kMaxTreeDepth) return Corrupt(id, "tree too deep (a cycle?)");
    PageView p;
    if (Status s = tx_->NodePage(id, &p); !s.ok()) return s;
    const uint32_t pages = static_cast<uint32_t>(p.span / tx_->page_size);
    for (pgid_t i = id; i < id + pages; i++) {
      if (seen_[i]) return tx_->Poison(Corrupt(i, "multiple references"));
      seen_[i] = true;
    }
    plan_->used += pages;
    if (!pack_) pages_.push_back({id, pages, bucket, FirstKey(p)});
    if (p.is_branch()) return WalkBranch(p, id, bucket, depth);
    return WalkLeaf(p, id, bucket);
  }

  Status WalkBranch(const PageView& p, pgid_t id, uint32_t bucket, int depth) {
    if (pack_) {
      if (Status s = CollectRuns(p, bucket); !s.ok()) return s;
    }
    BranchElem e;
    for (size_t i = 0; i < p.count(); i++) {
      if (!ReadBranchElem(p, i, &e))
        return tx_->Poison(Corrupt(id, "branch element out of bounds"));
      if (Status s = Walk(e.pgid, bucket, depth + 1); !s.ok()) return s;
    }
    return Status::OK();
  }

  Status WalkLeaf(const PageView& p, pgid_t id, uint32_t bucket) {
    LeafElem e;
    for (size_t i = 0; i < p.count(); i++) {
      // Only a bucket's element needs decoding: read the flags alone first.
      const uint64_t elem_off = kPageHeaderSize + i * kLeafElementSize;
      if (elem_off + kLeafElementSize > p.span)
        return tx_->Poison(Corrupt(id, "leaf element out of bounds"));
      if (!(Load<uint32_t>(p.data + elem_off + kLeafElemFlagsOff) & kBucketLeafFlag)) continue;
      if (!ReadLeafElem(p, i, &e)) return tx_->Poison(Corrupt(id, "leaf element out of bounds"));
      if (e.value.size() < kBucketHeaderSize)
        return tx_->Poison(Corrupt(id, "bucket value too short"));
      BucketHeader h = BucketHeader::Decode(reinterpret_cast<const uint8_t*>(e.value.data()));
      if (h.root == 0) continue;  // inline: no page of its own
      if (plan_->buckets.size() > (uint64_t{1} << 31)) return Corrupt(id, "too many buckets");
      std::vector<std::string> path = plan_->buckets[bucket];
      path.emplace_back(e.key);
      plan_->buckets.push_back(std::move(path));
      const auto child = static_cast<uint32_t>(plan_->buckets.size() - 1);
      if (Status s = Walk(h.root, child, 0); !s.ok()) return s;
    }
    return Status::OK();
  }

  // Splits the single-page leaf children of branch p into runs of at most
  // kMaxPackRun and plans to pack each run whose data fits in at least an
  // eighth fewer pages (90 % full pages: splits fall on element boundaries).
  Status CollectRuns(const PageView& p, uint32_t bucket) {
    const double usable = 0.9 * (tx_->page_size - kPageHeaderSize);
    PageRef run;
    uint64_t bytes = 0;
    auto flush = [&] {
      const auto need = static_cast<uint32_t>(std::ceil(static_cast<double>(bytes) / usable));
      const uint32_t gain = run.pages > need ? run.pages - need : 0;
      if (run.pages >= 2 && gain >= std::max<uint32_t>(1, run.pages / 8)) {
        plan_->pack_gain += gain;
        run.writes = need;
        plan_->refs.push_back(run);
      }
      run = PageRef{};
      bytes = 0;
    };
    BranchElem e;
    for (size_t i = 0; i < p.count(); i++) {
      if (!ReadBranchElem(p, i, &e)) return Status::OK();  // Walk reports it
      PageView child;
      if (Status s = tx_->NodePage(e.pgid, &child); !s.ok()) return s;
      if (!child.is_leaf() || child.span != tx_->page_size || child.count() == 0) {
        flush();
        continue;
      }
      if (run.pages == 0) run = PageRef{e.pgid, 0, 0, bucket, std::string(FirstKey(child))};
      run.pages++;
      bytes += LeafDataBytes(child);
      if (run.pages == kMaxPackRun) flush();
    }
    flush();
    return Status::OK();
  }

  TxImpl* tx_;
  bool pack_;
  Plan* plan_;
  std::vector<bool> seen_;
  std::vector<Seen> pages_;
};

// The bucket at path in a write transaction, or null if it is gone (deleted
// since the plan) or damaged (then the transaction is poisoned).
BucketImpl* OpenPath(TxImpl* tx, const std::vector<std::string>& path) {
  BucketImpl* b = tx->root;
  for (const std::string& name : path) {
    if (!b) return nullptr;
    b = b->Child(name);
  }
  return b;
}

// Materializes the leaf holding ref.key in its bucket and every node above
// it: the commit then writes all of them to new pages. *leaf is null when
// the bucket is gone or inline now (nothing to move).
Status Touch(TxImpl* tx, const Plan& plan, const PageRef& ref, Node** leaf) {
  *leaf = nullptr;
  BucketImpl* b = OpenPath(tx, plan.buckets[ref.bucket]);
  if (!b || b->header.root == 0) return tx->error;
  CursorImpl c(b);
  Inode in;
  if (!c.SeekRaw(ref.key, &in)) return c.status().ok() ? tx->error : c.status();
  return c.LeafNode(leaf);
}

// Merges the leaves after ref's leaf under the same parent into it (ref.pages
// leaves in all, at most kMaxPackRun pages of data), as Node::Rebalance
// merges siblings; the bucket spills at fill percent 1.0, so the merged node
// is written to as few full pages as the split rule allows.
Status Pack(TxImpl* tx, const Plan& plan, const PageRef& ref) {
  Node* n;
  if (Status s = Touch(tx, plan, ref, &n); !s.ok() || !n || !n->parent) return s;
  Node* parent = n->parent;
  const size_t at = parent->ChildIndex(n);
  // The parent names n by its first key; if it does not (n changed in this
  // transaction), leave the run alone rather than guess.
  if (at >= parent->inodes.size() || parent->inodes[at].pgid != n->pgid) return Status::OK();
  n->bucket->fill_percent = kMaxFillPercent;
  size_t size = n->Size();  // kept up to date as siblings join (Size() walks every inode)
  for (uint32_t merged = 1; merged < ref.pages; merged++) {
    const size_t next = at + 1;
    if (next >= parent->inodes.size() || size > kMaxPackRun * tx->page_size) break;
    Node* sibling;
    if (Status s = parent->ChildAt(next, &sibling); !s.ok()) return s;
    if (!sibling->is_leaf) break;
    size += sibling->Size() - kPageHeaderSize;
    n->inodes.insert(n->inodes.end(), sibling->inodes.begin(), sibling->inodes.end());
    parent->inodes.erase(parent->inodes.begin() + static_cast<std::ptrdiff_t>(next));
    parent->unbalanced = true;  // a branch that lost children may merge too
    parent->RemoveChild(sibling);
    n->bucket->nodes.erase(sibling->pgid);
    if (Status s = sibling->Free(); !s.ok()) return s;
  }
  return Status::OK();
}

// Pages materialized in tx: each is rewritten at commit.
uint64_t MaterializedPages(TxImpl* tx) {
  uint64_t n = 0;
  for (const BucketImpl& b : tx->bucket_pool) n += b.nodes.size();
  return n;
}

}  // namespace

// Plans in a read snapshot, which ends before any batch begins (so the
// pages the batches free are not held pending by the planner itself).
static Result<Plan> MakePlan(DBImpl* db, bool pack) {
  auto t = db->BeginTx(false);
  if (!t.ok()) return t.status();
  Tx tx(std::move(*t));
  Plan plan;
  Walker w(tx.impl(), pack, &plan);
  if (Status s = w.Run(); !s.ok()) return s;
  if (!pack) w.CollectTail(plan.used);
  return plan;
}

// Whether no page the tree uses lies at or above the cut a move plan would
// take, known from the freelist alone: the writer's free and pending ids
// number n of the hwm pages, so the tree, metas and freelist use hwm - n;
// when every page from there up to the mark is free or pending, a walk would
// find nothing to move (the settles trim and cut the rest). Pages counted
// neither free nor in use (none in a sound file) only make this say no.
static Status TailIsFree(DBImpl* db, bool* tail_free) {
  auto t = db->BeginTx(true);
  if (!t.ok()) return t.status();
  Tx tx(std::move(*t));
  TxImpl* ti = tx.impl();
  const pgid_t hwm = ti->meta.pgid;
  const std::vector<pgid_t> ids = db->freelist->AllIds();
  const pgid_t cut = hwm - std::min<pgid_t>(hwm, ids.size());
  auto above = static_cast<pgid_t>(ids.end() - std::lower_bound(ids.begin(), ids.end(), cut));
  if (ti->meta.freelist != kNoFreelist) {  // the settles rewrite it lower down
    PageView p;
    if (Status s = ti->RawPage(ti->meta.freelist, &p); !s.ok()) return s;
    const pgid_t end = ti->meta.freelist + p.span / ti->page_size;
    if (end > cut) above += end - std::max(cut, ti->meta.freelist);
  }
  *tail_free = above == hwm - cut;
  return Status::OK();  // tx rolls back
}

// One write transaction over refs [begin, end): packs or touches each, with
// allocations preferring pages below limit, then commits.
static Status RunBatch(DBImpl* db, const Plan& plan, size_t begin, size_t end, pgid_t limit,
                       bool pack, ShrinkResult* r) {
  auto t = db->BeginTx(true);
  if (!t.ok()) return t.status();
  Tx tx(std::move(*t));
  TxImpl* ti = tx.impl();
  ti->by_shrink = true;
  db->freelist->SetAllocLimit(limit);
  for (size_t i = begin; i < end; i++) {
    Node* leaf;
    Status s = pack ? Pack(ti, plan, plan.refs[i]) : Touch(ti, plan, plan.refs[i], &leaf);
    if (!s.ok()) return s;  // tx rolls back
  }
  const uint64_t moved = MaterializedPages(ti);
  if (Status s = tx.Commit(); !s.ok()) return s;
  r->pages_moved += moved;
  r->transactions++;
  return Status::OK();
}

// Runs plan.refs in batches that write about pages_per_tx pages each.
static Status RunBatches(DBImpl* db, const Plan& plan, pgid_t limit, bool pack,
                         const ShrinkOptions& o, ShrinkResult* r) {
  const size_t per_tx = std::max<size_t>(1, o.pages_per_tx);
  for (size_t begin = 0; begin < plan.refs.size();) {
    size_t end = begin, pages = 0;
    while (end < plan.refs.size() && (end == begin || pages + plan.refs[end].writes <= per_tx)) {
      pages += plan.refs[end++].writes;
    }
    if (Status s = RunBatch(db, plan, begin, end, limit, pack, r); !s.ok()) return s;
    begin = end;
  }
  return Status::OK();
}

// An empty commit: releases the pages earlier batches freed (when no reader
// holds them), trims the free tail and, with to_fit, cuts the file to the
// size the growth rule gives. Reports the high-water mark and file size.
// In WAL mode only a checkpoint writes a meta and trims, and pages freed
// since the last checkpoint stay pending until the next one: two
// checkpoints, the first makes the batches' commits the data file's state
// (none when it already is), the second (its writer releases what they
// freed) trims and cuts.
static Status Settle(DBImpl* db, bool to_fit, pgid_t* hwm, uint64_t* file_size) {
  if (db->logging()) {
    if (Status s = db->Checkpoint(); !s.ok()) return s;  // nothing to do if just checkpointed
    if (Status s = db->Checkpoint(true, true, to_fit); !s.ok()) return s;
  } else {
    auto t = db->BeginTx(true);
    if (!t.ok()) return t.status();
    Tx tx(std::move(*t));
    tx.impl()->by_shrink = true;
    tx.impl()->truncate_to_fit = to_fit;
    if (Status s = tx.Commit(); !s.ok()) return s;
  }
  auto probe = db->BeginTx(true);  // the writer owns file_size_
  if (!probe.ok()) return probe.status();
  *hwm = (*probe)->meta.pgid;
  *file_size = db->file_size();
  (*probe)->Rollback();
  return Status::OK();
}

Result<ShrinkResult> DBImpl::Shrink(const ShrinkOptions& o) {
  if (opts.read_only) return Status(Code::kDatabaseReadOnly);
  ShrinkResult r;
  pgid_t hwm;
  if (Status s = Settle(this, false, &hwm, &r.size_before); !s.ok()) return s;
  r.high_water_before = hwm;
  auto packs = MakePlan(this, true);
  if (!packs.ok()) return packs.status();
  if (!packs->refs.empty()) {
    const pgid_t limit = packs->used - std::min(packs->used, packs->pack_gain);
    if (Status s = RunBatches(this, *packs, limit, true, o, &r); !s.ok()) return s;
  }
  // Stops after two rounds that do not lower the best mark so far: a page
  // with no free run below the cut that fits it (an overflow run among
  // scattered free pages) can move up and down in turn.
  int stalls = 0;
  pgid_t best = r.high_water_before;
  for (int round = 0; round < kMaxMoveRounds && stalls < 2; round++) {
    bool tail_free = false;
    if (Status s = TailIsFree(this, &tail_free); !s.ok()) return s;
    if (tail_free) break;
    auto plan = MakePlan(this, false);
    if (!plan.ok()) return plan.status();
    if (plan->refs.empty()) break;
    if (Status s = RunBatches(this, *plan, plan->used, false, o, &r); !s.ok()) return s;
    pgid_t after;
    uint64_t size;
    if (Status s = Settle(this, false, &after, &size); !s.ok()) return s;
    stalls = after < best ? 0 : stalls + 1;
    best = std::min(best, after);
  }
  // Two settles: the first may free the old freelist page at the very top.
  for (int i = 0; i < 2; i++) {
    if (Status s = Settle(this, true, &r.high_water_after, &r.size_after); !s.ok()) return s;
  }
  return r;
}

}  // namespace boltpp
