// File: src/impl.h
// The engine's internal classes, named after bbolt's: node (an in-memory,
// modifiable copy of a page), BucketImpl, CursorImpl, TxImpl and DBImpl.
//
// Memory: every Node, BucketImpl and copied key/value of a transaction lives
// in that transaction's arena and dies with it. Views into the memory map stay
// valid because a transaction holds the Mapping objects it read through; a
// writer that needs a larger map makes a new one and never unmaps the old one
// while anyone holds it (so, unlike bbolt, remapping neither waits for readers
// nor copies nodes out of the map).
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "boltpp/bucket.h"
#include "boltpp/db.h"
#include "boltpp/file.h"
#include "boltpp/options.h"
#include "boltpp/tx.h"
#include "format/page.h"
#include "freelist/freelist.h"
#include "node_map.h"
#include "thread_annotations.h"
#include "wal/log.h"
#include "wal/sync_thread.h"

namespace boltpp {

using format::PageView;

class BucketImpl;
class TxImpl;
class DBImpl;
class TxPool;
struct ReadSnapshot;

// Key order: boltpp::CompareKeys (include/boltpp/bucket.h).

// One element of a node: a key with flags and a value (leaf) or a key with
// a child page id (branch). 32 bytes: an insert moves the tail of its node's
// vector, and a node's binary search reads the inodes it probes, so the
// value's address and the child's id share a word. value() is meaningful
// only in a leaf's inode, pgid only in a branch's (flags and value_size are
// 0 there).
struct Inode {
  Bytes key;
  union {
    const char* value_data = nullptr;  // leaf
    pgid_t pgid;                       // branch
  };
  uint32_t value_size = 0;
  uint32_t flags = 0;

  static Inode Leaf(uint32_t flags, Bytes key, Bytes value) {
    Inode in;
    in.key = key;
    in.set_value(value);
    in.flags = flags;
    return in;
  }
  static Inode Branch(Bytes key, pgid_t child) {
    Inode in;
    in.key = key;
    in.pgid = child;
    return in;
  }
  Bytes value() const { return Bytes(value_data, value_size); }
  void set_value(Bytes v) {
    value_data = v.data();
    value_size = static_cast<uint32_t>(v.size());
  }
};
static_assert(sizeof(Inode) == 32 && std::is_trivially_copyable_v<Inode>);

// A page materialized for modification (bbolt node.go).
struct Node {
  BucketImpl* bucket = nullptr;
  bool is_leaf = false;
  bool unbalanced = false;
  bool spilled = false;
  Bytes key;        // first key when read (the parent's key for this child)
  pgid_t pgid = 0;  // the page it came from (0 = new or freed)
  Node* parent = nullptr;
  std::vector<Node*> children;  // materialized children (for spill order)
  std::vector<Inode> inodes;
  // Spill: entries of pieces split off this node's children, in key order,
  // merged into inodes before this node spills (MergeSplitEntries).
  std::vector<Inode> split_entries;
  bool last_insert_appended = false;  // the last Put that inserted did so past the end
  // Size(), kept up to date by Read, Put, Del and SplitOversized so that
  // Oversized need not walk the inodes; other changes (commit-time merges,
  // Shrink's packing) leave it stale, and Oversized then confirms with Size().
  size_t tracked_size = format::kPageHeaderSize;

  Node* Root();
  size_t MinKeys() const { return is_leaf ? 1 : 2; }
  size_t Size() const;
  Status ChildAt(size_t index, Node** out);
  size_t ChildIndex(const Node* child) const;
  // Inserts or replaces the inode keyed old_key.
  void Put(Bytes old_key, Bytes new_key, Bytes value, pgid_t child, uint32_t flags);
  void Del(Bytes key);
  Status Read(const PageView& p, pgid_t id);
  // Writes flags, count and elements into a page buffer of span >= Size()
  // bytes whose header holds flags 0, and zeroes the rest of the span.
  void Write(uint8_t* page, size_t span) const;
  // Writes this node and its materialized children to new pages, children
  // first (in key order), splitting any node larger than a page into nodes
  // that fill fill_percent of one (bbolt's split rule, so page layouts match
  // bbolt's). Each written node's old page is freed (pending under this tx)
  // and its parent's entry is re-pointed at the new page; a split that needs
  // a new parent spills that parent too. After Spill, spilled is set and
  // pgid is the new page; a node is never spilled twice in one transaction.
  // Requires: Rebalance has run on the bucket (no underfull node remains
  // except the root), and no node holds 0xFFFF or more inodes (error).
  Status Spill();
  // Merges this node into a sibling (or a sibling into it) when it holds
  // less than a quarter page of data or fewer than MinKeys() inodes, and
  // collapses a root branch with one child; runs only when unbalanced (set
  // by Del). Merging frees the absorbed node's page, drops it from its
  // parent and the bucket's node map, and rebalances the parent after.
  // Invariant kept: every inode of a branch points at a page or node of the
  // same bucket, in key order; the root stays the bucket's root node.
  Status Rebalance();
  void RemoveChild(const Node* target);
  // Gives this node's page back as pending under the transaction and sets
  // pgid to 0. A node with no page yet (pgid 0, or a placeholder id from an
  // in-memory split) frees nothing. Call at most once per page: freeing a
  // page twice would hand it out twice.
  Status Free();
  // Splits this node in two at one of its spill cuts (InMemorySplitIndex)
  // while it holds more than kInMemorySplitInodes, walking up to its parents
  // (a new root takes over the old root's page id).
  void SplitOversized();
  // Whether SplitOversized should run now (see kInMemorySplitInodes).
  bool Oversized();

 private:
  std::vector<size_t> SpillCuts(size_t page_size) const;
  std::vector<Node*> SplitForSpill(size_t page_size);
  void MergeSplitEntries();
  size_t InMemorySplitIndex() const;
  size_t SplitIndex(size_t begin, size_t end, size_t threshold) const;
  bool RangeSizeLessThan(size_t begin, size_t end, size_t v) const;
};

// A cursor position: a page (read path) or a node (modified path).
struct ElemRef {
  PageView page;
  pgid_t id = 0;
  Node* node = nullptr;
  int index = 0;

  int count() const { return node ? static_cast<int>(node->inodes.size()) : page.count(); }
  bool is_leaf() const { return node ? node->is_leaf : page.is_leaf(); }
};

// A cursor's path from the root: fixed capacity (trees are at most
// kMaxTreeDepth deep), so a lookup or a scan step never allocates.
class ElemStack {
 public:
  ElemStack() {}  // slots stay uninitialized: only [0, n_) is ever read
  ElemStack(const ElemStack& o) : n_(o.n_) { std::copy(o.s_.items, o.s_.items + o.n_, s_.items); }
  ElemStack& operator=(const ElemStack& o) {
    n_ = o.n_;
    std::copy(o.s_.items, o.s_.items + o.n_, s_.items);
    return *this;
  }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  bool full() const { return n_ == kCapacity; }
  void clear() { n_ = 0; }
  void push_back(const ElemRef& r) { s_.items[n_++] = r; }
  void resize(size_t n) { n_ = n; }
  ElemRef& back() { return s_.items[n_ - 1]; }
  const ElemRef& back() const { return s_.items[n_ - 1]; }
  ElemRef& operator[](size_t i) { return s_.items[i]; }
  const ElemRef& operator[](size_t i) const { return s_.items[i]; }

 private:
  static constexpr size_t kCapacity = format::kMaxTreeDepth;
  union Slots {
    Slots() {}
    ElemRef items[kCapacity];
  };
  static_assert(std::is_trivially_copyable_v<ElemRef> && std::is_trivially_destructible_v<ElemRef>);
  Slots s_;
  size_t n_ = 0;
};

class CursorImpl {
 public:
  explicit CursorImpl(BucketImpl* b);

  std::optional<Entry> First();
  std::optional<Entry> Last();
  std::optional<Entry> Next();
  std::optional<Entry> Prev();
  std::optional<Entry> Seek(Bytes key);
  Status Delete();
  const Status& status() const { return status_; }
  BucketImpl* bucket() const { return bucket_; }
  // The key the last Delete removed (nullopt when it removed nothing).
  std::optional<Bytes> deleted_key() const {
    return after_delete_ ? std::optional<Bytes>(deleted_key_) : std::nullopt;
  }

  // Positions the cursor at the first key >= key in its leaf (possibly one
  // past the leaf's end) and returns what is there. False on damage.
  bool SeekRaw(Bytes key, Inode* found);
  // The leaf node under the cursor, materializing the path from the root;
  // the stack then refers to the nodes.
  Status LeafNode(Node** out);
  // Sets key to value and leaves the cursor on it (Cursor::Put).
  Status Put(Bytes key, Bytes value);

 private:
  bool PushPage(pgid_t id);
  // Pushes page id, then SearchDown.
  bool Search(Bytes key, pgid_t id);
  // Searches the top of the stack for key and descends to the leaf, pushing
  // each level.
  bool SearchDown(Bytes key);
  // Whether the stack was built at the transaction's current tree_version.
  bool StackCurrent() const;
  bool TrimStackFor(Bytes key);
  bool Descend(bool to_last);
  bool StepNext();
  bool StepPrev();
  bool KeyValue(Inode* out) const;
  std::optional<Entry> Current();
  bool Fail(Status s);

  BucketImpl* bucket_;
  ElemStack stack_;
  Status status_;
  bool after_delete_ = false;
  std::string deleted_key_;
  // The tree_version the stack was built at (0: never reuse it). A Seek or
  // Put at that version searches from the deepest level whose branch still
  // holds its key instead of from the root: for keys in ascending order,
  // usually only the leaf and its parent.
  uint64_t version_ = 0;
};

class BucketImpl {
 public:
  BucketImpl(TxImpl* tx, BucketImpl* parent, format::BucketHeader header);

  TxImpl* tx;
  BucketImpl* parent;
  format::BucketHeader header;
  PageView inline_page;  // when header.root == 0 and not yet materialized
  Node* root_node = nullptr;
  NodeMap nodes;  // materialized nodes by page id (placeholder ids included)
  // A writer's opened children, keyed by their name (which they own), in
  // key order (rebalance and spill visit them so); nodes in the tx arena.
  // A reader's opened children are in its TxImpl::child_index instead, and
  // this map stays empty.
  struct KeyLess {
    using is_transparent = void;
    bool operator()(Bytes a, Bytes b) const { return CompareKeys(a, b) < 0; }
  };
  std::pmr::map<Bytes, BucketImpl*, KeyLess> buckets;
  double fill_percent = kDefaultFillPercent;
  // Its key in the parent (empty for the root): in the memory map (a read
  // transaction: the map outlives it) or in the tx arena (a writer).
  Bytes name;
  // WAL mode: the handle the transaction's record names this bucket by
  // (kNoWalHandle until first used; the root is always 0).
  static constexpr uint32_t kNoWalHandle = UINT32_MAX;
  uint32_t wal_handle = kNoWalHandle;
  // Set when this bucket (or an ancestor) was deleted in this transaction:
  // its handle no longer reaches the committed tree, so nothing done
  // through it is logged.
  bool detached = false;
  // The leaf the last Put landed in (a hint: AppendLeaf checks it on every
  // use). A key-order load keeps landing past the last key of the tree's
  // rightmost leaf, which AppendLeaf then finds without a descent.
  Node* append_leaf = nullptr;

  // A writer's: opens the child stored under name with value bytes and adds
  // it to buckets; null on damage. Requires: name and value stay valid for
  // the transaction (map or arena).
  BucketImpl* OpenChild(Bytes name, Bytes value);
  BucketImpl* Child(Bytes name);
  Result<BucketImpl*> CreateChild(Bytes name);
  Status DeleteChild(Bytes name);
  Status MoveChild(Bytes name, BucketImpl* dst);
  std::optional<Bytes> Get(Bytes key);
  Status Put(Bytes key, Bytes value);
  Status Delete(Bytes key);
  Status SetSequence(uint64_t v);
  Result<uint64_t> NextSequence();
  Status ForEach(const std::function<Status(const Entry&)>& fn);
  BucketStats Stats();

  // A lookup without a cursor (Get, Child): sets *found to the element at
  // the first key >= key in the leaf a cursor's Seek reaches (Inode{} when
  // past the leaf's end), as CursorImpl::SeekRaw does, without keeping the
  // path. False on damage, which poisons the transaction as a cursor does.
  bool Lookup(Bytes key, Inode* found);
  // The node for page id (materialized on first use).
  Status NodeFor(pgid_t id, Node* parent_node, Node** out);
  // The page or node at id (bbolt pageNode).
  Status PageNode(pgid_t id, PageView* page, Node** node);
  Status Rebalance();
  Status Spill();
  bool Inlineable() const;
  Bytes WriteInline();
  Status Free();
  // Checks that this bucket can be changed (a live writer, no sticky error,
  // not deleted) and moves the transaction's tree_version on: every change
  // to a tree starts here, so a cursor stack built at an older version is
  // never reused (CursorImpl::TrimStackFor).
  Status BeginChange();
  // Puts key/value (copied into the arena) into leaf, the leaf a search for
  // key reaches. True when the leaf was then split in memory (the tree's
  // shape changed).
  bool PutInLeaf(Node* leaf, Bytes key, Bytes value);

 private:
  Status MaterializeRoot();
  // The leaf a cursor's descent would reach for key and where Put would
  // append it, or null, found without the descent: when append_leaf's
  // path up to root_node is materialized, each node on it is its parent's
  // last entry, key is at least each ancestor's last key (so the descent
  // takes the last child at every level) and greater than the leaf's last
  // key (so the key is new and goes past the end).
  Node* AppendLeaf(Bytes key) const;
};

// The bucket handles a read transaction has opened, keyed by (parent
// handle, name), so that opening a child twice gives the same handle (and
// a loop that opens the same bucket again allocates nothing). An
// open-addressing table with linear probing, at most half full; each slot
// holds the key's hash and the child, whose parent and name are the key.
// Its storage is kept across Clear, so a pooled reader opens its first
// children without allocating. Why not the writer's ordered map: a reader
// opens a child with no other bookkeeping, and the map's insert and find
// (a tree descent comparing names, often with a long shared prefix) cost
// about 1,400 instructions an open in a transaction that lists 2,000 jobs
// (docs/performance.md, "Opening nested buckets in a read transaction").
class ChildIndex {
 public:
  static uint64_t Hash(const BucketImpl* parent, Bytes name);
  // The child of parent named name, or null; hash is Hash(parent, name).
  BucketImpl* Find(const BucketImpl* parent, Bytes name, uint64_t hash) const;
  // Adds child (its parent and name set) under hash = Hash(parent, name).
  // Requires: no child of that parent and name is in the index.
  void Insert(BucketImpl* child, uint64_t hash);
  size_t size() const { return count_; }
  // Forgets every child, keeping the storage. A few children are cleared
  // slot by slot: a pooled reader may keep a large table from a larger use.
  void Clear() {
    if (count_ <= kFirstFew) {
      for (size_t i = 0; i < count_; i++) slots_[first_few_[i]] = Slot{};
    } else {
      std::fill(slots_.begin(), slots_.end(), Slot{});
    }
    count_ = 0;
  }
  // Frees the storage when it has more than max_slots slots. Requires: empty.
  void Trim(size_t max_slots) {
    if (slots_.size() > max_slots) std::vector<Slot>().swap(slots_);
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    BucketImpl* child = nullptr;  // null: free
  };
  void Grow();
  std::vector<Slot> slots_;  // empty, or a power of two
  size_t count_ = 0;
  // While count_ <= kFirstFew: the slots in use (for Clear).
  static constexpr size_t kFirstFew = 8;
  uint32_t first_few_[kFirstFew] = {};
};

// Objects with stable addresses whose storage is kept across clear(), so a
// reused transaction makes its bucket handles without allocating. Iterable
// in creation order, like the std::deque it stands in for.
template <typename T>
class StablePool {
  static constexpr size_t kChunk = 8;
  struct Chunk {
    alignas(T) unsigned char slots[kChunk][sizeof(T)];
  };

 public:
  StablePool() = default;
  StablePool(const StablePool&) = delete;
  StablePool& operator=(const StablePool&) = delete;
  ~StablePool() { clear(); }

  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == chunks_.size() * kChunk) chunks_.push_back(std::make_unique<Chunk>());
    T* t = new (Slot(size_)) T(std::forward<Args>(args)...);
    size_++;
    return *t;
  }
  // Destroys every object, keeping the storage.
  void clear() {
    while (size_ > 0) std::destroy_at(std::launder(reinterpret_cast<T*>(Slot(--size_))));
  }
  size_t size() const { return size_; }
  // Frees the storage beyond what max_kept objects need. Requires: empty.
  void Trim(size_t max_kept) {
    const size_t chunks = (max_kept + kChunk - 1) / kChunk;
    if (chunks_.size() > chunks) chunks_.resize(chunks);
  }

  template <typename P, typename R>
  class Iter {
   public:
    Iter(P* pool, size_t i) : pool_(pool), i_(i) {}
    R& operator*() const { return *std::launder(reinterpret_cast<R*>(pool_->Slot(i_))); }
    Iter& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iter& o) const { return i_ != o.i_; }

   private:
    P* pool_;
    size_t i_;
  };
  Iter<StablePool, T> begin() { return {this, 0}; }
  Iter<StablePool, T> end() { return {this, size_}; }
  Iter<const StablePool, const T> begin() const { return {this, 0}; }
  Iter<const StablePool, const T> end() const { return {this, size_}; }

 private:
  unsigned char* Slot(size_t i) const { return chunks_[i / kChunk]->slots[i % kChunk]; }
  std::vector<std::unique_ptr<Chunk>> chunks_;
  size_t size_ = 0;
};

// Where a transaction's arena gets its buffers: from operator new, except
// those of kHugeChunkBytes or more (a transaction holding many megabytes of
// keys, values and nodes), which are mapped 2 MiB-aligned and marked for
// transparent huge pages (Linux, madvise mode), so the kernel faults them in
// 2 MiB at a time instead of 4 KiB (in a key-order bulk load the page
// faults on fresh arena memory were a third of the wall time).
std::pmr::memory_resource* ArenaUpstream();

// One transaction. State flags and their rules:
//   writable   fixed at begin; only the one writer (DBImpl's writer gate) has it.
//   managed    set while Update/View/Batch run the callback: the public
//              Commit/Rollback refuse to end a managed transaction.
//   committing set while Commit rebalances, spills and writes: the freelist
//              then holds this transaction's allocations, so the strict-mode
//              Check run inside Commit reads the free set from it rather
//              than from the (not yet written) freelist page.
//   closed     set exactly once, by Close (after commit or rollback); every
//              operation on a closed tx is kTxClosed, and the arena, nodes
//              and maps are released then.
// The map is replaced only through SetMap, which keeps the old map alive
// (old_maps_) until the transaction closes, so no view handed out dies early.
//
// Pooling: a read transaction comes from its DB's TxPool and goes back to it
// when its Tx handle dies (not at Close: handles of a closed transaction
// still read `closed`). Reuse resets every field to what the constructor
// gives; a field added here must be reset there too.
class TxImpl {
 public:
  TxImpl(DBImpl* db, bool writable, const format::Meta& meta, std::shared_ptr<const Mapping> map);
  ~TxImpl();
  // Makes a closed pooled reader a fresh one on meta and map.
  // Requires: closed, !writable, and no handle to it remains.
  void Reuse(const format::Meta& meta, std::shared_ptr<const Mapping> map);
  // A closed pooled reader going back to its pool: destroys its bucket
  // handles, keeping their storage (and the child index's). Storage beyond
  // kKeptBuckets handles and kKeptChildSlots index slots is freed once
  // kTrimAfterSmallUses uses in a row needed no more (so an idle reader
  // that once opened thousands of buckets does not keep their memory), but
  // kept while uses keep needing it: freed at every use, it went back to the
  // kernel (glibc trims the heap's top) and was faulted in again by the next
  // use, which was most of the time of a transaction listing 2,000 jobs.
  // Requires: closed, and no handle to it remains.
  void Park();
  static constexpr size_t kKeptBuckets = 64;
  static constexpr int kTrimAfterSmallUses = 16;

  DBImpl* db;
  bool writable;
  bool managed = false;
  bool closed = false;
  format::Meta meta;
  format::Meta begin_meta;
  uint32_t page_size;

 private:
  // The arena's first buffer: a small read transaction needs no more.
  alignas(std::max_align_t) std::byte arena_start_[2048];

 public:
  std::pmr::monotonic_buffer_resource arena{arena_start_, sizeof arena_start_, ArenaUpstream()};
  std::deque<Node> node_pool;
  StablePool<BucketImpl> bucket_pool;
  // A reader's opened children (a writer's are in each BucketImpl::buckets).
  ChildIndex child_index;
  static constexpr size_t kKeptChildSlots = 128;  // see Park
  // Park: the uses in a row (up to kTrimAfterSmallUses) that opened at most
  // kKeptBuckets handles (kept across Reuse: it describes the pooled
  // object, not one use).
  int small_uses = 0;
  BucketImpl* root = nullptr;
  // Pages allocated by this transaction and not yet written, in allocation
  // order (see Allocate). Their bytes live in write_buffer_ or, for a run
  // larger than it, in large_pages_.
  struct DirtyPage {
    pgid_t id;
    size_t pages;
    uint8_t* buf;
  };
  std::vector<DirtyPage> dirty;
  // Moved on by every change to any bucket's tree in this transaction
  // (BucketImpl::BeginChange); cursors compare it with the version their
  // stack was built at. Never changes in a read-only transaction.
  uint64_t tree_version = 1;
  Status error;  // first damage met (sticky)
  TxStats stats;
  std::vector<std::function<void()>> on_commit;
  bool committing = false;
  // A checkpoint: writes only the freelist and the meta (WAL mode; see
  // DBImpl::Checkpoint). It does not own the writer gate: its caller does.
  bool checkpoint = false;
  // A checkpoint whose meta is written after the writer gate opens
  // (TxImpl::CommitCheckpointPages): EndWrite publishes its meta but does
  // not truncate the file (the data file's meta is still the previous
  // checkpoint, whose pages may lie past the new high-water mark).
  bool meta_deferred = false;
  // WAL mode: the logical operations of this transaction, in order (null
  // when not logging: not WAL mode, a reader, a replay or a checkpoint).
  std::unique_ptr<wal::OpWriter> wal_ops;
  // Set by Shrink: its commits trim the free tail even with no_truncate, and
  // with truncate_to_fit the file is then cut to fit the new high-water
  // mark (one page more), without the usual slack (DBImpl::TruncateTail).
  bool by_shrink = false;
  bool truncate_to_fit = false;
  // Set by the page copy of Compact: past alloc_size the commit grows the
  // file to exactly its pages, without growth's slack (DBImpl::Grow).
  bool grow_to_fit = false;
  std::vector<bool> reachable;  // Page(): pages the snapshot uses (no freelist page), computed once
  pgid_t next_placeholder = format::kFirstPlaceholderPgid;
  // A pooled reader: the pool its handle returns it to (null: deleted).
  std::shared_ptr<TxPool> pool;
  // A reader's entry in DBImpl's registry: its slot (kFallbackReader: the
  // locked list) and the snapshot it registered, which owns its map.
  static constexpr int kFallbackReader = -1;
  int reader_slot = kFallbackReader;
  const ReadSnapshot* snapshot = nullptr;

  // The map pages are read through (null once closed), its base address and
  // how many whole pages it covers.
  const Mapping* mapping() const { return map_.get(); }
  const uint8_t* map_base() const { return map_base_; }
  uint64_t mapped_pages() const { return mapped_pages_; }
  // Makes m the map pages are read through (the old one moves to old_maps).
  void SetMap(std::shared_ptr<const Mapping> m);
  Bytes Copy(Bytes b);
  Node* NewNode(BucketImpl* b);
  BucketImpl* NewBucket(BucketImpl* parent, format::BucketHeader h);
  // Records damage; returns it.
  Status Poison(Status s);

  // A page with its header checked (id, overflow within the high-water mark).
  Status RawPage(pgid_t id, PageView* out) const;
  // RawPage, and the page must be a branch or leaf.
  Status NodePage(pgid_t id, PageView* out);
  // Allocates count contiguous pages and a buffer of count * page_size bytes
  // for them: the header's id and overflow are set, flags and count are 0,
  // every other byte is uninitialized and the caller writes all of it
  // (zeroing what its layout leaves unused: the file must not get stale
  // memory). The buffer stays the caller's to fill until its next Allocate
  // call or the commit's write; from then on its content may be written to
  // the file at any time (a transaction that fills the write buffer writes
  // its pages while it spills; see FlushDirty).
  // free_set_only: only from the free set; *id = 0 when it has no such run.
  Status Allocate(size_t count, pgid_t* id, uint8_t** buf, bool free_set_only = false);
  // Frees page id (and its overflow) as pending under this tx; see
  // Freelist::Free for unrecorded_alloc_txid (0 for tree pages: one whose
  // allocation the freelist did not record counts as old).
  Status FreePage(pgid_t id, txid_t unrecorded_alloc_txid = 0);

  Status Commit();
  void Rollback();
  // The checkpoint's commit: frees the old freelist page, writes the free
  // and pending ids to a new one, syncs the data file, writes the meta to
  // page txid % 2 and syncs. Rolls back on failure.
  Status CommitCheckpoint();
  // The part of a checkpoint under the writer gate (DBImpl::Checkpoint):
  // frees the old freelist page, writes the free and pending ids to a new
  // one, writes the pages, and publishes the meta in memory only. No sync,
  // no meta page: the caller writes those outside the gate. Rolls back on
  // failure.
  Status CommitCheckpointPages();
  // WAL mode: commits this transaction as a checkpoint instead of logging
  // it (its record would fill the log: DBImpl::CommitsAsCheckpoint).
  Status CommitAsCheckpoint();

  // WAL mode: the log's handle for b, emitting kOpen for it (and its
  // unnamed ancestors) on first use. Requires: Logs(b).
  uint32_t WalHandle(BucketImpl* b);
  // WAL mode: records that parent created child (which takes the next handle).
  void LogCreate(BucketImpl* parent, BucketImpl* child);
  // Whether operations through b are to be logged.
  bool Logs(const BucketImpl* b) const { return wal_ops && !b->detached; }

  std::vector<std::string> Check(const CheckOptions& opts);
  Result<int64_t> WriteTo(const std::function<Status(const uint8_t*, size_t)>& sink);
  // Visits every page of the tree under root (bucket pages, nested buckets
  // included when recurse_buckets), depth first. Stops on damage.
  Status ForEachTreePage(pgid_t root, bool recurse_buckets,
                         const std::function<void(pgid_t, const PageView&, int depth)>& fn);
  // used[id]: page id is a meta page or part of this snapshot's trees.
  Status ReachablePages(std::vector<bool>* used);

 private:
  Status CommitFreelist();
  // WAL mode: writes the record and starts its sync early (see tx.cc).
  Status StartLogSync(bool* started);
  // Waits for that sync and takes the record back; fails the handle when
  // it cannot.
  void WithdrawLogRecord();
  Status CommitToLog(bool log_sync_started);
  bool MayTrim() const;
  void TrimFreeTail();
  Status WriteTree(bool sync, bool check);
  Status WritePages(bool sync);
  // A buffer for count pages from the write buffer, writing the pages
  // already in it first when it is full.
  Status PageBuffer(size_t count, uint8_t** out);
  // Writes every dirty page to the file (runs adjacent in the file and in
  // memory as one write each), then empties dirty and the write buffer.
  Status FlushDirty();
  // Hands the write buffer back to the DB (Close).
  void ReleaseWriteBuffer();
  Status WriteMeta();
  void Close();

  // The DB's write buffer while this transaction holds it (see
  // DBImpl::TakeWriteBuffer), and how much of it dirty pages use.
  std::unique_ptr<uint8_t[]> write_buffer_;
  size_t write_buffer_used_ = 0;
  std::vector<std::unique_ptr<uint8_t[]>> large_pages_;  // runs larger than the write buffer

  std::shared_ptr<const Mapping> map_;  // replaced only through SetMap
  std::vector<std::shared_ptr<const Mapping>> old_maps_;
  const uint8_t* map_base_ = nullptr;  // map_->data(), cached for the page lookups
  uint64_t mapped_pages_ = 0;          // whole pages in map_
  Status WalkTree(pgid_t id, int depth, bool recurse_buckets,
                  const std::function<void(pgid_t, const PageView&, int)>& fn);
};

struct BatchGroup;

// What a read transaction begins from: a committed meta and a map that
// covers it. Immutable once published; DBImpl frees it once no reader has
// it registered.
struct ReadSnapshot {
  format::Meta meta;
  std::shared_ptr<const Mapping> map;
};

// Closed read transactions kept for reuse (lock-free: a reader never waits
// for another). Owned by its DB and by the pooled transactions themselves,
// so a Tx handle that outlives its DB still finds it (Drain then makes it
// delete what comes back).
class TxPool {
 public:
  // A pooled reader, or null when the pool is empty.
  std::unique_ptr<TxImpl> Take();
  // Keeps tx for reuse, or deletes it (pool full or drained). tx is closed.
  void Give(TxImpl* tx);
  // Deletes the kept transactions; from now on Give deletes.
  void Drain();

 private:
  static constexpr int kSize = 16;
  std::atomic<TxImpl*> kept_[kSize] = {};
  std::atomic<bool> drained_{false};
};

// A slot of the reader registry (see DBImpl::BeginRead), on its own cache line.
struct alignas(64) ReaderSlot {
  // Null when free; kClaimed while a reader registers; else the reader's
  // snapshot (written only by the slot's owner).
  std::atomic<const ReadSnapshot*> snapshot{nullptr};
  std::atomic<int64_t> begun{0};  // read transactions begun here (owner-written)
  std::mutex stats_mu;
  int64_t ended GUARDED_BY(stats_mu) = 0;
  TxStats stats GUARDED_BY(stats_mu);  // of the transactions ended here
  static inline const ReadSnapshot* const kClaimed = reinterpret_cast<const ReadSnapshot*>(1);
};

class DBImpl {
 public:
  DBImpl(std::string path, const Options& opts);
  ~DBImpl();

  Status Open();
  Status Close();
  Result<std::unique_ptr<TxImpl>> BeginTx(bool writable);
  Status Update(const std::function<Status(Tx&)>& fn);
  Status View(const std::function<Status(Tx&)>& fn);
  Status Batch(const std::function<Status(Tx&)>& fn);
  Stats GetStats() const EXCLUDES(meta_mu_);

  // Called by TxImpl::Close, exactly once per transaction.
  // EndRead: unregisters a read transaction's txid (so its pages may be
  // released once no older reader remains), adds its stats and wakes Close.
  void EndRead(TxImpl* tx) EXCLUDES(meta_mu_);
  // EndWrite: commits (committed) or rolls back the freelist's pending
  // changes, publishes the new meta for new transactions when committed,
  // updates the stats, then opens the writer gate for the next writer
  // (except for a checkpoint, whose caller holds the gate).
  // Requires: tx is the writer and its data and meta are on disk when
  // committed (the meta is published only after it is durable), or, in WAL
  // mode, its record is.
  void EndWrite(TxImpl* tx, bool committed) EXCLUDES(meta_mu_, writer_mu_);
  // Grows the file for a high-water mark of min_needed bytes, aiming at
  // target; syncs the new size when sync and not no_grow_sync.
  // Grows the file to GrowthSize(target) (to target itself when exact),
  // within max_size; kMaxSizeReached when even min_needed does not fit.
  Status Grow(uint64_t min_needed, uint64_t target, bool sync, bool exact = false);
  // The growth rule: the file size Grow gives for target bytes in use. A
  // power of two from 32 KiB (at least the initial map size) up to
  // alloc_size, then target + alloc_size; never past max_size.
  uint64_t GrowthSize(uint64_t target) const;
  // Shrink (src/shrink.cc): moves the pages nearest the end down, then truncates.
  Result<ShrinkResult> Shrink(const ShrinkOptions& o);
  uint64_t file_size() const { return file_size_; }  // writer-owned
  // The write buffer: the memory a write transaction stages its new pages
  // in before writing them (TxImpl::Allocate), kept across transactions so
  // that each commit reuses memory already touched instead of faulting in
  // fresh pages. A writer takes it and gives it back when it closes; a second
  // transaction that needs one meanwhile (a checkpoint) gets a new one.
  // Holds at least kWriteBufferPages pages and kWriteBufferBytes bytes.
  static constexpr size_t kWriteBufferBytes = size_t{1} << 20;
  static constexpr size_t kWriteBufferPages = 16;
  size_t write_buffer_size() const {
    return std::max<size_t>(kWriteBufferBytes, kWriteBufferPages * size_t{page_size});
  }
  std::unique_ptr<uint8_t[]> TakeWriteBuffer() EXCLUDES(write_buffer_mu_) {
    std::lock_guard<std::mutex> lk(write_buffer_mu_);
    if (write_buffer_) return std::move(write_buffer_);
    return std::unique_ptr<uint8_t[]>(new uint8_t[write_buffer_size()]);
  }
  void GiveWriteBuffer(std::unique_ptr<uint8_t[]> b) EXCLUDES(write_buffer_mu_) {
    std::lock_guard<std::mutex> lk(write_buffer_mu_);
    if (!write_buffer_) write_buffer_ = std::move(b);
  }
  // WAL mode: the buffer a writer records its operations in (OpWriter),
  // kept across transactions for the same reason as the write buffer (the
  // record of a large transaction is megabytes, faulted in again each time
  // otherwise). One larger than kKeptOpsBufferBytes is not kept.
  static constexpr size_t kKeptOpsBufferBytes = size_t{16} << 20;
  std::string TakeOpsBuffer() EXCLUDES(write_buffer_mu_) {
    std::lock_guard<std::mutex> lk(write_buffer_mu_);
    return std::move(ops_buffer_);
  }
  void GiveOpsBuffer(std::string b) EXCLUDES(write_buffer_mu_) {
    if (b.capacity() > kKeptOpsBufferBytes) return;
    std::lock_guard<std::mutex> lk(write_buffer_mu_);
    if (b.capacity() > ops_buffer_.capacity()) ops_buffer_ = std::move(b);
  }
  // Makes the map cover at least min_size bytes; returns the current map.
  Result<std::shared_ptr<const Mapping>> EnsureMapped(uint64_t min_size);
  void SetFailed(const Status& s);

  // ---- WAL mode (src/wal_db.cc) ----
  // A record to replay: which log file's scan holds it, and where.
  struct PendingRecord {
    int file = 0;
    wal::RecordRef ref;
  };
  // Whether commits go to the log (WAL mode, or a replay at open).
  bool logging() const { return logs_[0] != nullptr; }
  // The active log: the one commits append to (the gate's holder only).
  wal::LogWriter* wal() const { return logs_[active_log_].get(); }
  // The thread that syncs the active log while a commit writes its pages.
  // Requires: the writer gate is held.
  wal::SyncThread* LogSyncThread() {
    if (!log_sync_) log_sync_ = std::make_unique<wal::SyncThread>();
    return log_sync_.get();
  }
  // Writes meta m to its page (txid % 2) and syncs (unless no_sync).
  Status WriteMetaPage(const format::Meta& m);
  // DB::Checkpoint: syncs the data file outside the writer gate, then takes
  // the gate for CheckpointLocked. OK with nothing to do (no log).
  // force: even when no commit came since the last checkpoint (to write a
  // freelist the file lacks). by_shrink, to_fit: the checkpoint's commit is
  // Shrink's (TxImpl::by_shrink, TxImpl::truncate_to_fit).
  Status Checkpoint(bool force = false, bool by_shrink = false, bool to_fit = false)
      EXCLUDES(writer_mu_, meta_mu_);
  WalInfo GetWalInfo() const EXCLUDES(meta_mu_);
  // Whether a WAL commit whose record has record_bytes of operations
  // commits as a checkpoint rather than being logged: when the record alone
  // would fill the log to wal_checkpoint_bytes. Logging it would write its
  // data twice and leave a checkpoint of all its pages to run right after,
  // while the next commits wait behind its sync.
  bool CommitsAsCheckpoint(size_t record_bytes) const {
    return wal::kHeaderSize + wal::kFrameSize + record_bytes >= opts.wal_checkpoint_bytes;
  }
  // The txid a checkpoint takes at or after txid: one whose parity differs
  // from the last checkpoint's, so that its meta goes to the other page.
  txid_t CheckpointTxidFrom(txid_t txid) const EXCLUDES(meta_mu_);
  // Requires: the writer gate is held, no checkpoint is in flight, and the
  // meta of checkpoint txid is durable. Makes it the checkpoint (pages freed
  // before it may be reused once no reader needs them) and resets both log
  // files to continue it. A failed reset fails the handle (the checkpoint
  // stands; the next open skips the old records).
  Status CheckpointDurable(txid_t txid) EXCLUDES(meta_mu_);
  // The size a reset log file may keep (its zeroed space is reused; past
  // this it is cut back to its header).
  uint64_t KeepLogBytes() const {
    return std::max<uint64_t>(2 * opts.wal_checkpoint_bytes, uint64_t{4} << 20);
  }
  // Requires: the writer gate is held. Waits until no checkpoint is in
  // flight (its meta durable or failed); the handle's failure if it failed.
  // A commit that checkpoints itself (TxImpl::CommitAsCheckpoint) calls it
  // first: its meta would otherwise go to the page the in-flight one writes.
  Status WaitForCheckpointInFlight() EXCLUDES(meta_mu_);
  // Called by a WAL commit after it released the gate: checkpoints (on the
  // checkpointer thread if there is one) when the log passed its size.
  void AfterLogCommit(bool log_full);
  // Tx::Check of a snapshot whose freelist page is older than the snapshot
  // (WAL mode, between checkpoints): true and the free and pending ids when
  // txid is still the newest commit and no writer runs, else false.
  bool FreeIdsAt(txid_t txid, std::vector<pgid_t>* ids) EXCLUDES(writer_mu_, meta_mu_);
  // Whether meta's freelist page predates meta (WAL mode, between checkpoints).
  bool FreelistStale(const format::Meta& meta) const EXCLUDES(meta_mu_);
  // For the writer of txid writer_txid: the txid of the commit that wrote
  // the freelist page the newest commit names. The previous commit
  // (writer_txid - 1: outside WAL mode every commit writes one), or in WAL
  // mode the last checkpoint (logged commits write no freelist page, so
  // their snapshots name the checkpoint's). Every snapshot that names the
  // page has a txid at least this.
  txid_t FreelistWriter(txid_t writer_txid) const EXCLUDES(meta_mu_);

  std::string path;
  Options opts;
  DB* owner = nullptr;  // the public handle
  FileSystem* fs;
  std::unique_ptr<File> file;
  uint32_t page_size = 0;
  std::unique_ptr<Freelist> freelist;  // used by the writer only
  Status failed;                       // sticky after a failed meta write

 private:
  Status Lock();
  Status Init();
  Status DetectPageSize(uint64_t file_size);
  Status LoadMetas();
  Status LoadFreelist();
  Status ScanFreePages(std::vector<pgid_t>* ids);
  void ReleasePending();
  // The reader registry. A reader registers the published snapshot in a
  // free slot without a lock: it stores the snapshot pointer, then checks
  // that it is still the published one (else retries). All of it is
  // sequentially consistent, so a writer that scans the slots either sees
  // the reader, or the reader then sees the writer's newer snapshot and
  // retries: the writer's oldest-reader txid (ReleasePending) and the
  // readers' high-water marks (EndWrite) are exact for every reader that
  // can read a page. When every slot is taken, readers register in the
  // locked list fallback_readers_. Both fill tx->reader_slot and snapshot.
  Status BeginRead(TxImpl* tx) EXCLUDES(meta_mu_);
  // Publishes meta_ with map_ for new readers; frees the snapshots no
  // reader has registered any more.
  void Publish() REQUIRES(meta_mu_);
  // Calls fn(snapshot) for each registered reader (a snapshot a slot holds
  // but that is no longer in snapshots_ is a reader that will retry).
  template <typename Fn>
  void ForEachReader(Fn&& fn) const REQUIRES(meta_mu_);
  bool HasReaders() const REQUIRES(meta_mu_);
  // After a commit of high-water mark hwm is durable and published: truncates
  // the file when it is larger than the growth rule needs (docs/design.md
  // "Files that shrink"), never below what an open reader's snapshot spans.
  void TruncateTail(pgid_t hwm, uint64_t reader_bytes, bool to_fit);
  Status RunBatch(BatchGroup* group);
  // Passes the writer gate (waits for the current writer). first: ahead of
  // every writer waiting without it (a checkpoint: a stream of commits
  // would otherwise keep taking the gate back, while the pages they write
  // add to what the checkpoint syncs while holding it).
  void EnterWriterGate(bool first = false) EXCLUDES(writer_mu_);
  void LeaveWriterGate() EXCLUDES(writer_mu_);
  // A write transaction for the gate's holder: txid = the newest + 1, or
  // force_txid (a replayed record's) when not 0; a checkpoint's txid has the
  // other parity than the last checkpoint's, so it writes the other meta
  // page. Null with *refuse when the handle is closed or failed.
  std::unique_ptr<TxImpl> NewWriter(bool checkpoint, txid_t force_txid, Status* refuse)
      EXCLUDES(meta_mu_);

  // WAL mode (src/wal_db.cc).
  Status OpenLog();
  Status InspectLogs(const bool exist[2]);
  Status ReplayLog(const wal::Scan scans[2], const std::vector<PendingRecord>& todo);
  Status ApplyRecord(TxImpl* tx, std::string_view payload);
  // Requires: the writer gate is held. Writes the freelist and the meta of
  // the newest commit (unless it already is the checkpoint and !force),
  // then resets the log. Any failure fails the handle: the log still holds
  // every commit since the last checkpoint, and a reopen replays it.
  Status CheckpointLocked(bool force, bool by_shrink = false, bool to_fit = false)
      EXCLUDES(meta_mu_);
  // The checkpoint that holds commits for no sync (DBImpl::Checkpoint):
  // under the gate, CheckpointGatePart writes the freelist and pages and
  // switches commits to the other log file; then, outside it,
  // CheckpointOutsidePart syncs the data file, writes and syncs the meta,
  // and retires the old log.
  Status CheckpointGatePart(format::Meta* meta) EXCLUDES(meta_mu_);
  Status CheckpointOutsidePart(const format::Meta& meta) EXCLUDES(meta_mu_, writer_mu_);
  // After a checkpoint's meta became durable outside the gate: takes the
  // gate briefly (no sync) and gives back the free tail it trimmed, which
  // the previous durable meta may have spanned until then.
  void TrimAfterCheckpoint() EXCLUDES(writer_mu_, meta_mu_);
  // The newest checkpoint: the one in flight, else the data file's.
  txid_t LatestCheckpoint() const REQUIRES(meta_mu_) {
    return checkpoint_in_flight_ != 0 ? checkpoint_in_flight_ : checkpoint_txid_;
  }

  void StartCheckpointer();
  void StopCheckpointer();
  void CheckpointLoop();
  void CloseLog(bool remove);

  mutable std::mutex meta_mu_;
  format::Meta meta_ GUARDED_BY(meta_mu_);
  std::shared_ptr<const Mapping> map_ GUARDED_BY(meta_mu_);
  // Open readers (see BeginRead): the published snapshot, the ones readers
  // may still hold (the published one first), the slots and the fallback.
  std::atomic<const ReadSnapshot*> published_{nullptr};
  std::vector<std::unique_ptr<ReadSnapshot>> snapshots_ GUARDED_BY(meta_mu_);
  static constexpr size_t kReaderSlots = 64;
  std::unique_ptr<ReaderSlot[]> reader_slots_{new ReaderSlot[kReaderSlots]};
  std::vector<const ReadSnapshot*> fallback_readers_ GUARDED_BY(meta_mu_);
  std::shared_ptr<TxPool> tx_pool_ = std::make_shared<TxPool>();
  Stats stats_ GUARDED_BY(meta_mu_);
  // Written under meta_mu_; read without it by readers as they register.
  std::atomic<bool> open_{false};
  uint64_t file_size_ = 0;  // writer-owned after open
  std::condition_variable readers_cv_;

  std::mutex writer_mu_;  // the writer gate (a Tx may end on another thread)
  std::condition_variable writer_cv_;
  bool writer_active_ GUARDED_BY(writer_mu_) = false;
  int first_waiters_ GUARDED_BY(writer_mu_) = 0;  // EnterWriterGate(true) callers waiting

  // WAL mode: the two log files (PATH-wal, PATH-wal2), set at open and
  // dropped at close. logs_[active_log_] is the active one (commits append
  // to it: the gate's holder only); the other is the checkpoint's, which
  // switches active_log_ under the gate (docs/design.md, "Checkpoint").
  std::unique_ptr<wal::LogWriter> logs_[2];
  std::unique_ptr<wal::SyncThread> log_sync_;  // made by the first logged commit
  int active_log_ = 0;
  // Set at the end of open: from then on checkpoints run their syncs
  // outside the gate (at open nothing else commits, and both log files may
  // hold records to keep until the replay's checkpoint is durable).
  bool split_checkpoints_ = false;
  bool replaying_ = false;                           // commits of a replay append no record
  txid_t checkpoint_txid_ GUARDED_BY(meta_mu_) = 0;  // the data file's meta
  // A checkpoint whose meta is not durable yet (0: none): set under the
  // gate, cleared when its meta is durable (or failed). While set, both it
  // and checkpoint_txid_ count as readers (ReleasePending): commits reuse
  // no page of either tree. checkpoint_done_cv_ (with meta_mu_) wakes
  // WaitForCheckpointInFlight.
  txid_t checkpoint_in_flight_ GUARDED_BY(meta_mu_) = 0;
  std::condition_variable checkpoint_done_cv_;
  int64_t log_records_ GUARDED_BY(meta_mu_) = 0;  // since the checkpoint
  int64_t log_bytes_ GUARDED_BY(meta_mu_) = 0;
  // WalInfo::last_change_txid: the newest commit that changed data.
  txid_t last_change_txid_ GUARDED_BY(meta_mu_) = 0;
  WalInfo read_only_wal_;     // what a read-only open found
  std::mutex checkpoint_mu_;  // one checkpoint at a time; Close waits for it
  std::mutex ckpt_thread_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_stop_ GUARDED_BY(ckpt_thread_mu_) = false;
  bool ckpt_requested_ GUARDED_BY(ckpt_thread_mu_) = false;
  std::thread checkpointer_;
  bool has_checkpointer_ = false;  // set at open, before any commit
  bool log_open_ GUARDED_BY(meta_mu_) = false;

  std::mutex write_buffer_mu_;
  std::unique_ptr<uint8_t[]> write_buffer_ GUARDED_BY(write_buffer_mu_);
  std::string ops_buffer_ GUARDED_BY(write_buffer_mu_);

  std::mutex batch_mu_;
  std::condition_variable batch_cv_;
  std::shared_ptr<BatchGroup> batch_ GUARDED_BY(batch_mu_);

  friend class TxImpl;
};

// Runs fn, turning an exception into an error (bbolt turns a panic into one).
Status CallUser(const std::function<Status(Tx&)>& fn, Tx& tx);
// The argument checks of a Put: kKeyRequired, kKeyTooLarge, kValueTooLarge.
Status CheckPut(Bytes key, Bytes value);

// Tx::Inspect and Tx::Page (tx_check.cc).
BucketStructure InspectTx(TxImpl* tx);
Result<std::optional<PageInfo>> PageInfoOf(TxImpl* tx, pgid_t id);

}  // namespace boltpp
