// File: src/tx.cc
// Transactions: page access, allocation, and the commit protocol
// (bbolt tx.go): rebalance, spill, write the freelist, grow the file, write
// dirty pages, fdatasync, write the meta to page txid % 2, fdatasync.
#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "impl.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace boltpp {

using namespace format;
using Clock = std::chrono::steady_clock;

static int64_t NanosSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count();
}

namespace {

class ArenaUpstreamResource final : public std::pmr::memory_resource {
  static constexpr size_t kHugeChunkBytes = size_t{4} << 20;
  static constexpr size_t kHugePage = size_t{2} << 20;

  static size_t Rounded(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

  void* do_allocate(size_t bytes, size_t align) override {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= kHugeChunkBytes && align <= kHugePage) {
      // Map one huge page more than needed, then cut the unaligned head and
      // the rest of the tail: what remains starts on a 2 MiB boundary.
      const size_t len = Rounded(bytes);
      void* m = mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
      if (m == MAP_FAILED) throw std::bad_alloc();
      auto* base = static_cast<uint8_t*>(m);
      auto* start = reinterpret_cast<uint8_t*>(Rounded(reinterpret_cast<uintptr_t>(base)));
      if (start > base) munmap(base, static_cast<size_t>(start - base));
      const size_t tail = kHugePage - static_cast<size_t>(start - base);
      if (tail > 0) munmap(start + len, tail);
      madvise(start, len, MADV_HUGEPAGE);
      return start;
    }
#endif
    return ::operator new (bytes, std::align_val_t{align});
  }
  void do_deallocate(void* p, size_t bytes, size_t align) override {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= kHugeChunkBytes && align <= kHugePage) {
      munmap(p, Rounded(bytes));
      return;
    }
#endif
    // The unsized form: clang enables sized deallocation only with
    // -fsized-deallocation (the fuzz build), GCC always.
    ::operator delete (p, std::align_val_t{align});
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
    return this == &o;
  }
};

}  // namespace

std::pmr::memory_resource* ArenaUpstream() {
  // Never destroyed: a transaction (and its arena) may outlive static destruction.
  static auto* resource = new ArenaUpstreamResource;
  return resource;
}

TxImpl::TxImpl(DBImpl* d, bool w, const Meta& m, std::shared_ptr<const Mapping> mp)
    : db(d), writable(w), meta(m), begin_meta(m), page_size(m.page_size) {
  SetMap(std::move(mp));
  root = NewBucket(nullptr, BucketHeader{meta.root, 0});
}

void TxImpl::SetMap(std::shared_ptr<const Mapping> m) {
  if (map_) old_maps_.push_back(std::move(map_));
  map_ = std::move(m);
  map_base_ = map_ ? map_->data() : nullptr;
  mapped_pages_ = map_ ? map_->size() / page_size : 0;
}

TxImpl::~TxImpl() {
  if (!closed) Rollback();
  bucket_pool.clear();  // the buckets' maps live in the arena: destroy them first
}

void TxImpl::Park() {
  const bool small = bucket_pool.size() <= kKeptBuckets;
  bucket_pool.clear();
  small_uses = small ? std::min(small_uses + 1, kTrimAfterSmallUses) : 0;
  if (small_uses == kTrimAfterSmallUses) {
    bucket_pool.Trim(kKeptBuckets);
    child_index.Trim(kKeptChildSlots);
  }
  root = nullptr;
}

// Close has already emptied the arena, the nodes, the dirty pages, the log
// and the maps; what is left is reset here, keeping the containers' storage.
void TxImpl::Reuse(const Meta& m, std::shared_ptr<const Mapping> mp) {
  bucket_pool.clear();
  node_pool.clear();
  managed = false;
  closed = false;
  meta = m;
  begin_meta = m;
  page_size = m.page_size;
  error = Status::OK();
  stats = TxStats{};
  on_commit.clear();
  committing = false;
  checkpoint = false;
  meta_deferred = false;
  by_shrink = false;
  truncate_to_fit = false;
  grow_to_fit = false;
  reachable.clear();
  next_placeholder = kFirstPlaceholderPgid;
  SetMap(std::move(mp));
  old_maps_.clear();
  root = NewBucket(nullptr, BucketHeader{meta.root, 0});
}

Bytes TxImpl::Copy(Bytes b) {
  if (b.empty()) return Bytes("", 0);
  auto* p = static_cast<char*>(arena.allocate(b.size(), 1));
  std::memcpy(p, b.data(), b.size());
  return Bytes(p, b.size());
}

Node* TxImpl::NewNode(BucketImpl* b) {
  Node& n = node_pool.emplace_back();
  n.bucket = b;
  return &n;
}

BucketImpl* TxImpl::NewBucket(BucketImpl* parent, BucketHeader h) {
  return &bucket_pool.emplace_back(this, parent, h);
}

Status TxImpl::Poison(Status s) {
  if (error.ok() && s.code() == Code::kCorruption) error = s;
  return s;
}

Status TxImpl::RawPage(pgid_t id, PageView* out) const {
  // A page this transaction allocated past the old high-water mark is in
  // dirty until written; once written (or when below the old mark) the map
  // has it. Only a damaged tree reaches a page allocated in this
  // transaction before the commit has written it.
  if (writable && id >= begin_meta.pgid && !dirty.empty()) {
    for (const DirtyPage& d : dirty) {
      if (d.id != id) continue;
      out->data = d.buf;
      out->span = d.pages * page_size;
      return Status::OK();
    }
  }
  if (id >= meta.pgid) {
    return Corrupt(id, "beyond the high-water mark " + std::to_string(meta.pgid));
  }
  // Compare page counts, never byte offsets: id * page_size can overflow.
  if (id >= mapped_pages_) return Corrupt(id, "beyond the mapped file");
  const uint8_t* p = map_base_ + id * page_size;
  if (PageId(p) != id) return Corrupt(id, "header names page " + std::to_string(PageId(p)));
  const uint64_t last = id + PageOverflow(p);
  if (last >= meta.pgid || last >= mapped_pages_) {
    return Corrupt(
        id, "overflow " + std::to_string(PageOverflow(p)) + " runs past the high-water mark");
  }
  out->data = p;
  out->span = (last - id + 1) * page_size;
  return Status::OK();
}

Status TxImpl::NodePage(pgid_t id, PageView* out) {
  if (Status s = RawPage(id, out); !s.ok()) return Poison(s);
  if (Status s = ValidateNodePage(*out, id); !s.ok()) return Poison(s);
  return Status::OK();
}

Status TxImpl::Allocate(size_t count, pgid_t* id, uint8_t** buf, bool free_set_only) {
  pgid_t start = db->freelist->Allocate(meta.txid, count);
  if (start == 0 && free_set_only) {
    *id = 0;
    return Status::OK();
  }
  const size_t bytes = count * page_size;
  if (start == 0) {
    start = meta.pgid;
    if (db->opts.max_size > 0 && (start + count) * page_size > db->opts.max_size) {
      return Status(Code::kMaxSizeReached);
    }
    const uint64_t min_size = (start + count + 1) * page_size;
    if (min_size >= map_->size()) {
      auto m = db->EnsureMapped(min_size);
      if (!m.ok()) return m.status();
      SetMap(std::move(*m));
    }
    meta.pgid += count;
    if (db->logging()) db->freelist->NoteGrowth(meta.txid, start);
  }
  uint8_t* mem;
  if (Status s = PageBuffer(count, &mem); !s.ok()) return s;
  SetPageHeader(mem, start, 0, 0, static_cast<uint32_t>(count - 1));
  dirty.push_back(DirtyPage{start, count, mem});
  *id = start;
  *buf = mem;
  if (!db->opts.no_statistics) {
    stats.page_count += static_cast<int64_t>(count);
    stats.page_alloc += static_cast<int64_t>(bytes);
  }
  return Status::OK();
}

Status TxImpl::PageBuffer(size_t count, uint8_t** out) {
  const size_t bytes = count * page_size;
  const size_t capacity = db->write_buffer_size();
  if (bytes > capacity) {
    large_pages_.emplace_back(new uint8_t[bytes]);
    *out = large_pages_.back().get();
    return Status::OK();
  }
  if (!write_buffer_) write_buffer_ = db->TakeWriteBuffer();
  if (write_buffer_used_ + bytes > capacity) {
    // Every page in the buffer is complete (Allocate's contract): write them
    // now and reuse the memory, so a large transaction stages its pages in
    // one buffer's worth of memory.
    if (Status s = FlushDirty(); !s.ok()) return s;
  }
  *out = write_buffer_.get() + write_buffer_used_;
  write_buffer_used_ += bytes;
  return Status::OK();
}

Status TxImpl::FlushDirty() {
  std::sort(dirty.begin(), dirty.end(),
            [](const DirtyPage& a, const DirtyPage& b) { return a.id < b.id; });
  for (size_t i = 0; i < dirty.size();) {
    // Pages allocated one after another past the high-water mark are
    // adjacent both in the file and in the buffer: one write each run.
    size_t j = i + 1;
    size_t bytes = dirty[i].pages * page_size;
    while (j < dirty.size() && dirty[j].id == dirty[j - 1].id + dirty[j - 1].pages &&
           dirty[j].buf == dirty[i].buf + bytes) {
      bytes += dirty[j].pages * page_size;
      j++;
    }
    if (Status s = db->file->WriteAt(dirty[i].id * page_size, dirty[i].buf, bytes); !s.ok())
      return s;
    stats.write += static_cast<int64_t>(j - i);
    i = j;
  }
  dirty.clear();
  write_buffer_used_ = 0;
  large_pages_.clear();
  return Status::OK();
}

void TxImpl::ReleaseWriteBuffer() {
  dirty.clear();
  large_pages_.clear();
  write_buffer_used_ = 0;
  if (write_buffer_) db->GiveWriteBuffer(std::move(write_buffer_));
}

Status TxImpl::FreePage(pgid_t id, txid_t unrecorded_alloc_txid) {
  PageView p;
  if (Status s = RawPage(id, &p); !s.ok()) return Poison(s);
  Status s = db->freelist->Free(meta.txid, id, PageOverflow(p.data), unrecorded_alloc_txid);
  return s.ok() ? s : Poison(s);
}

// Writes the freelist and gives back the free tail (docs/design.md, "Files
// that shrink"). Order: the run of free pages at the end is trimmed; the
// new freelist pages come from a fitting free run (all below the new mark)
// or else from the end; then the old freelist page is freed as pending, like
// any page of the last commit. The ids encoded are all below the new mark.
Status TxImpl::CommitFreelist() {
  uint64_t old_pages = 0;
  if (meta.freelist != kNoFreelist) {
    PageView p;
    if (Status s = RawPage(meta.freelist, &p); !s.ok()) return Poison(s);
    old_pages = p.span / page_size;
  }
  // Trim first: the freelist pages then come from a free run below the new
  // mark, or right after it, never from the middle of the free tail (which
  // would pin the mark there; the hashmap freelist's best fit often is the
  // tail run).
  TrimFreeTail();
  pgid_t id = 0;
  uint8_t* buf = nullptr;
  const bool write = !db->opts.no_freelist_sync;
  const size_t pages = FreelistSize(db->freelist->Count() + old_pages) / page_size + 1;
  if (write) {
    if (Status s = Allocate(pages, &id, &buf, /*free_set_only=*/true); !s.ok()) return s;
  }
  // The old freelist page is freed as pending, like any page of the last
  // commit, even at the end of the file: an open reader's Tx::Check or hot
  // backup still reads it, so it must not be reused (or trimmed) before
  // those readers end. Its allocation may be unrecorded (after an open, and
  // in WAL mode always: the checkpoint that wrote it forgot its
  // allocations), so it is freed as allocated by the commit that wrote it.
  // In WAL mode that is the last checkpoint, not the transaction before
  // this one: a reader begun at that checkpoint holds the page (it was
  // released under such a reader's hot backup, which then copied a leaf).
  if (old_pages > 0) {
    if (Status s = FreePage(meta.freelist, db->FreelistWriter(meta.txid)); !s.ok()) return s;
  }
  if (write && id == 0) {
    if (Status s = Allocate(pages, &id, &buf); !s.ok()) return s;
  }
  if (!write) {
    meta.freelist = kNoFreelist;
    return Status::OK();
  }
  Store<uint16_t>(buf + kPageFlagsOff, kFreelistPage);
  const std::vector<pgid_t> ids = db->freelist->AllIds();
  EncodeFreelist(buf, ids);
  const size_t used = FreelistSize(ids.size());
  std::memset(buf + used, 0, pages * page_size - used);
  meta.freelist = id;
  return Status::OK();
}

bool TxImpl::MayTrim() const { return !db->opts.no_truncate || by_shrink; }

// Lowers the high-water mark past the free pages at the end of the file
// (truncated once the commit is durable: DBImpl::TruncateTail). Nothing this
// transaction writes or frees lies in the trimmed run: those pages are
// allocated or pending, not free.
void TxImpl::TrimFreeTail() {
  if (MayTrim()) meta.pgid = db->freelist->TrimTail(meta.pgid);
}

// Grows the file to the new high-water mark, writes the dirty pages
// (syncing them and the growth when sync: a logged commit syncs neither, the
// next checkpoint's fdatasync covers both) and, in strict mode when check,
// runs the consistency check before the meta that publishes the tree is written.
Status TxImpl::WriteTree(bool sync, bool check) {
  if (meta.pgid > begin_meta.pgid) {
    const uint64_t need = meta.pgid * page_size;
    const uint64_t target = need + page_size;
    const bool exact = grow_to_fit && db->GrowthSize(target) > db->opts.alloc_size;
    if (Status s = db->Grow(need, target, sync, exact); !s.ok()) return s;
  }
  if (Status s = WritePages(sync); !s.ok()) return s;
  if (check && db->opts.strict_mode) {
    std::vector<std::string> errors = Check(CheckOptions{});
    if (!errors.empty()) return Status(Code::kCorruption, "check fail: " + errors.front());
  }
  return Status::OK();
}

Status TxImpl::WritePages(bool sync) {
  const auto start = Clock::now();
  if (Status s = FlushDirty(); !s.ok()) return s;
  if (sync && !db->opts.no_sync) {
    if (Status s = db->file->Sync(); !s.ok()) return s;
  }
  stats.write_time_ns += NanosSince(start);
  return Status::OK();
}

Status TxImpl::WriteMeta() { return db->WriteMetaPage(meta); }

Status TxImpl::Commit() {
  if (closed) return Status(Code::kTxClosed);
  if (!writable) return Status(Code::kTxNotWritable);
  if (!error.ok()) {
    Status s = error;
    Rollback();
    return s;
  }
  committing = true;
  // WAL mode, with Options::wal_sync_thread or a large record: the record
  // goes out first and syncs while the pages are built and written; a
  // failure from here on takes it back (fail). Otherwise CommitToLog writes
  // it after the pages.
  bool log_sync_started = false;
  if (Status s = StartLogSync(&log_sync_started); !s.ok()) {
    Rollback();
    return s;
  }
  auto fail = [this, log_sync_started](Status s) {
    if (log_sync_started) WithdrawLogRecord();
    Rollback();
    return s;
  };
  auto t = Clock::now();
  if (Status s = root->Rebalance(); !s.ok()) return fail(s);
  stats.rebalance_time_ns += NanosSince(t);
  t = Clock::now();
  if (Status s = root->Spill(); !s.ok()) return fail(s);
  stats.spill_time_ns += NanosSince(t);
  meta.root = root->header.root;
  if (db->logging()) return CommitToLog(log_sync_started);
  if (Status s = CommitFreelist(); !s.ok()) return fail(s);
  // A commit that writes no page and does not raise the high-water mark (an
  // empty one, or one that only frees pages without writing a freelist) has
  // nothing to sync before its meta: every earlier commit synced its own
  // pages. Syncing anyway would make a failure of that sync ambiguous (it
  // follows the last meta write) for no gain. Compaction's page copy writes
  // its pages itself, past the old mark: those are synced here.
  const bool wrote = !dirty.empty() || meta.pgid > begin_meta.pgid;
  if (Status s = WriteTree(wrote, true); !s.ok()) return fail(s);
  if (Status s = WriteMeta(); !s.ok()) {
    db->SetFailed(s);
    return fail(s);
  }
  db->EndWrite(this, true);
  Close();
  for (auto& fn : on_commit) fn();
  return Status::OK();
}

// The record is written now and its sync started on the log's sync thread
// when this commit will be logged with a sync (not replayed, not committed
// as a checkpoint, not no_sync) and either Options::wal_sync_thread is set
// or the record is at least wal::kOverlapSyncBytes: a commit that large
// writes pages for far longer than the thread's two wake-ups cost
// (docs/design.md, "Who syncs the log"). Records in the log are only ever
// replayed after the data file's checkpoint, so writing one before the
// pages is safe; what must hold is that a commit that fails leaves no
// record behind (WithdrawLogRecord), since a later commit's sync would make
// it durable.
Status TxImpl::StartLogSync(bool* started) {
  *started = false;
  if (!db->logging() || db->replaying_ || db->opts.no_sync || !wal_ops) return Status::OK();
  const std::string_view record = wal_ops->bytes();
  if (!db->opts.wal_sync_thread && record.size() < wal::kOverlapSyncBytes) return Status::OK();
  if (db->CommitsAsCheckpoint(record.size()) || record.size() > wal::kMaxPayload) {
    return Status::OK();  // CommitToLog decides
  }
  if (Status s = db->wal()->AppendFramed(meta.txid, wal_ops->framed(), /*no_sync=*/true); !s.ok()) {
    db->SetFailed(s);
    return s;
  }
  db->LogSyncThread()->Start(db->wal()->file());
  *started = true;
  return Status::OK();
}

void TxImpl::WithdrawLogRecord() {
  Status s = db->LogSyncThread()->Wait();
  if (s.ok()) s = db->wal()->Withdraw();
  if (!s.ok()) {
    // The record may be durable although its commit failed: only a reopen
    // (replaying it, or not) settles what the log holds.
    db->SetFailed(Status(s.code(),
                         "write-ahead log: a failed commit's record could not be taken "
                         "back (" +
                             s.ToString() + "); reopen the database"));
  }
}

// WAL mode, after rebalance and spill: the pages go to the data file
// unsynced (into pages no checkpoint uses: see DBImpl::ReleasePending), the
// record to the log with one write and one sync (begun by StartLogSync when
// log_sync_started). The meta is published in memory only; the freelist and
// meta reach the data file at the checkpoint. A failed log write or sync
// fails the handle: the record may be durable.
Status TxImpl::CommitToLog(bool log_sync_started) {
  auto fail = [this](Status s) {
    Rollback();
    return s;
  };
  const std::string_view record = wal_ops ? std::string_view(wal_ops->bytes()) : "";
  if (!log_sync_started) {
    if (!db->replaying_ && db->CommitsAsCheckpoint(record.size())) return CommitAsCheckpoint();
    if (record.size() > wal::kMaxPayload) {
      return fail(Status(Code::kInvalidArgument, "transaction too large for the write-ahead log"));
    }
  }
  if (Status s = WriteTree(false, true); !s.ok()) {
    if (log_sync_started) WithdrawLogRecord();
    return fail(s);
  }
  bool log_full = false;
  if (log_sync_started) {
    if (Status s = db->LogSyncThread()->Wait(); !s.ok()) {
      db->SetFailed(s);
      return fail(s);
    }
    log_full = db->wal()->end() >= db->opts.wal_checkpoint_bytes;
  } else if (!db->replaying_) {
    Status s = wal_ops ? db->wal()->AppendFramed(meta.txid, wal_ops->framed(), db->opts.no_sync)
                       : db->wal()->Append(meta.txid, "", db->opts.no_sync);
    if (!s.ok()) {
      db->SetFailed(s);
      return fail(s);
    }
    log_full = db->wal()->end() >= db->opts.wal_checkpoint_bytes;
  }
  db->EndWrite(this, true);
  Close();
  for (auto& fn : on_commit) fn();
  db->AfterLogCommit(log_full);
  return Status::OK();
}

// The order keeps the data file a checkpoint at every point: the pages
// (this transaction's, in pages no checkpoint uses, and those of the
// commits logged since the last checkpoint) are synced before the meta is
// written, to the page the last checkpoint does not use. Until that meta is
// durable the log still holds every earlier commit. The meta's txid may be
// one past the transaction's (the parity rule); the log is reset after it.
Status TxImpl::CommitAsCheckpoint() {
  auto fail = [this](Status s) {
    Rollback();
    return s;
  };
  // A checkpoint in flight writes the meta page this one would (both take
  // the parity after the durable checkpoint's), and resetting both logs
  // would drop records it still needs: it finishes first (no gate needed).
  if (Status s = db->WaitForCheckpointInFlight(); !s.ok()) return fail(s);
  if (Status s = CommitFreelist(); !s.ok()) return fail(s);
  if (Status s = WriteTree(false, true); !s.ok()) return fail(s);
  // A failed data sync may have dropped pages of logged commits: the handle
  // fails, so that only a reopen (which replays the log) goes on.
  if (!db->opts.no_sync) {
    if (Status s = db->file->Sync(); !s.ok()) {
      db->SetFailed(s);
      return fail(s);
    }
  }
  meta.txid = db->CheckpointTxidFrom(meta.txid);
  if (Status s = WriteMeta(); !s.ok()) {
    db->SetFailed(s);
    return fail(s);
  }
  (void)db->CheckpointDurable(meta.txid);  // the commit is durable even if this fails
  db->EndWrite(this, true);
  Close();
  for (auto& fn : on_commit) fn();
  return Status::OK();
}

Status TxImpl::CommitCheckpointPages() {
  auto fail = [this](Status s) {
    Rollback();
    return s;
  };
  committing = true;
  if (Status s = CommitFreelist(); !s.ok()) return fail(s);
  if (Status s = WriteTree(false, false); !s.ok()) return fail(s);
  db->EndWrite(this, true);
  Close();
  return Status::OK();
}

Status TxImpl::CommitCheckpoint() {
  auto fail = [this](Status s) {
    Rollback();
    return s;
  };
  committing = true;
  if (Status s = CommitFreelist(); !s.ok()) return fail(s);
  if (Status s = WriteTree(true, false); !s.ok()) return fail(s);
  if (Status s = WriteMeta(); !s.ok()) return fail(s);
  db->EndWrite(this, true);
  Close();
  return Status::OK();
}

uint32_t TxImpl::WalHandle(BucketImpl* b) {
  if (b == root) return 0;
  if (b->wal_handle != BucketImpl::kNoWalHandle) return b->wal_handle;
  const uint32_t parent = WalHandle(b->parent);
  b->wal_handle = wal_ops->next_handle();
  wal_ops->Open(parent, b->name);
  return b->wal_handle;
}

void TxImpl::LogCreate(BucketImpl* parent, BucketImpl* child) {
  if (!Logs(parent)) return;
  const uint32_t p = WalHandle(parent);
  child->wal_handle = wal_ops->next_handle();
  wal_ops->Create(p, child->name);
}

void TxImpl::Rollback() {
  if (closed) return;
  if (writable) {
    db->EndWrite(this, false);
  } else {
    db->EndRead(this);
  }
  Close();
}

void TxImpl::Close() {
  closed = true;
  committing = false;
  for (BucketImpl& b : bucket_pool) {
    b.nodes.clear();
    b.root_node = nullptr;
    b.buckets.clear();
  }
  child_index.Clear();
  node_pool.clear();
  ReleaseWriteBuffer();
  if (wal_ops) db->GiveOpsBuffer(wal_ops->TakeBuffer());
  wal_ops.reset();
  arena.release();
  map_.reset();
  map_base_ = nullptr;
  mapped_pages_ = 0;
  old_maps_.clear();
}

Status TxImpl::WalkTree(pgid_t id, int depth, bool recurse_buckets,
                        const std::function<void(pgid_t, const PageView&, int)>& fn) {
  if (depth > kMaxTreeDepth)
    return Corrupt(id, "tree deeper than " + std::to_string(kMaxTreeDepth) + " levels");
  PageView p;
  if (Status s = NodePage(id, &p); !s.ok()) return s;
  fn(id, p, depth);
  for (size_t i = 0; i < p.count(); i++) {
    if (p.is_branch()) {
      BranchElem e;
      if (!ReadBranchElem(p, i, &e)) return Poison(Corrupt(id, "branch element out of bounds"));
      if (Status s = WalkTree(e.pgid, depth + 1, recurse_buckets, fn); !s.ok()) return s;
      continue;
    }
    if (!recurse_buckets) break;
    LeafElem e;
    if (!ReadLeafElem(p, i, &e)) return Poison(Corrupt(id, "leaf element out of bounds"));
    if (!(e.flags & kBucketLeafFlag)) continue;
    if (e.value.size() < kBucketHeaderSize) return Poison(Corrupt(id, "bucket value too short"));
    BucketHeader h = BucketHeader::Decode(reinterpret_cast<const uint8_t*>(e.value.data()));
    if (h.root == 0) continue;
    if (Status s = WalkTree(h.root, 0, true, fn); !s.ok()) return s;
  }
  return Status::OK();
}

Status TxImpl::ForEachTreePage(pgid_t root_id, bool recurse_buckets,
                               const std::function<void(pgid_t, const PageView&, int)>& fn) {
  if (!recurse_buckets) return WalkTree(root_id, 0, false, fn);
  // With nested buckets a damaged file could form a cycle: refuse to visit a page twice.
  std::unordered_set<pgid_t> seen;
  Status dup;
  Status s = WalkTree(root_id, 0, true, [&](pgid_t id, const PageView& p, int depth) {
    if (!seen.insert(id).second) {
      if (dup.ok()) dup = Corrupt(id, "multiple references");
      return;
    }
    fn(id, p, depth);
  });
  if (s.ok() && !dup.ok()) return Poison(dup);
  return s;
}

Status TxImpl::ReachablePages(std::vector<bool>* used) {
  used->assign(meta.pgid, false);
  (*used)[0] = (*used)[1] = true;
  return ForEachTreePage(meta.root, true, [&](pgid_t id, const PageView& p, int) {
    for (uint64_t i = 0; i <= PageOverflow(p.data) && id + i < used->size(); i++)
      (*used)[id + i] = true;
  });
}

Result<int64_t> TxImpl::WriteTo(const std::function<Status(const uint8_t*, size_t)>& sink) {
  if (closed) return Status(Code::kTxClosed);
  const Meta& m = writable ? begin_meta : meta;
  const bool stale_freelist = db->FreelistStale(m);
  std::vector<uint8_t> buf(std::max<size_t>(page_size, size_t{1} << 20));
  int64_t total = 0;
  for (pgid_t slot = 0; slot < 2; slot++) {
    Meta copy = m;
    if (slot == 1) copy.txid = m.txid - 1;
    // WAL mode between checkpoints: the freelist page is the checkpoint's,
    // not this snapshot's; the copy says "no freelist" and its opener
    // rebuilds the free set from the tree (bbolt does too).
    if (stale_freelist) copy.freelist = kNoFreelist;
    std::fill(buf.begin(), buf.begin() + page_size, 0);
    copy.EncodePage(buf.data(), slot);
    if (Status s = sink(buf.data(), page_size); !s.ok()) return s;
    total += page_size;
  }
  const uint64_t end = m.pgid * page_size;
  for (uint64_t off = 2 * uint64_t{page_size}; off < end;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - off));
    if (Status s = db->file->ReadAt(off, buf.data(), n); !s.ok()) return s;
    if (Status s = sink(buf.data(), n); !s.ok()) return s;
    off += n;
    total += static_cast<int64_t>(n);
  }
  return total;
}

}  // namespace boltpp
