// File: src/db.cc
// Opening a database (lock, create, find the page size, choose the meta,
// load the freelist), beginning and ending transactions, file growth and
// remapping (bbolt db.go).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "impl.h"

namespace boltpp {

using namespace format;

DBImpl::DBImpl(std::string p, const Options& o)
    : path(std::move(p)), opts(o), fs(o.file_system ? o.file_system : FileSystem::Default()) {}

DBImpl::~DBImpl() {
  (void)Close();
  tx_pool_->Drain();
}

std::unique_ptr<TxImpl> TxPool::Take() {
  for (auto& k : kept_) {
    if (k.load(std::memory_order_relaxed) == nullptr) continue;
    if (TxImpl* tx = k.exchange(nullptr, std::memory_order_acquire)) {
      return std::unique_ptr<TxImpl>(tx);
    }
  }
  return nullptr;
}

void TxPool::Give(TxImpl* tx) {
  // The last statement of each path may destroy the pool (tx may hold its
  // last reference): nothing of *this is touched after it.
  if (!drained_.load()) {
    for (auto& k : kept_) {
      TxImpl* empty = nullptr;
      if (!k.compare_exchange_strong(empty, tx)) continue;
      // Drain sets drained_ before it empties the slots, so either it sees
      // tx here or this sees drained_ (both sequentially consistent).
      if (drained_.load()) delete k.exchange(nullptr);
      return;
    }
  }
  delete tx;
}

void TxPool::Drain() {
  drained_.store(true);
  for (auto& k : kept_) delete k.exchange(nullptr);
}

static uint32_t OsPageSize() {
  long ps = sysconf(_SC_PAGESIZE);
  return ps > 0 ? static_cast<uint32_t>(ps) : 4096;
}

static bool ValidPageSize(uint32_t ps) {
  return ps >= kMinPageSize && ps <= kMaxPageSize && (ps & (ps - 1)) == 0;
}

Status DBImpl::Open() {
  if (opts.page_size != 0 && !ValidPageSize(opts.page_size)) {
    return Status(Code::kInvalidArgument, "page size " + std::to_string(opts.page_size) +
                                              " must be a power of two from 1024 to 16 MiB");
  }
  auto f = fs->Open(path, FileOpenOptions{opts.read_only, !opts.read_only, opts.file_mode});
  if (!f.ok()) return f.status();
  file = std::move(*f);
  if (Status s = Lock(); !s.ok()) return s;
  auto size = file->Size();
  if (!size.ok()) return size.status();
  if (*size == 0) {
    if (opts.read_only) return Status(Code::kInvalid, "file is empty");
    if (Status s = Init(); !s.ok()) {
      // Leave an empty file, not a torn first page set, so the next Open
      // starts over (nothing was ever committed to it).
      (void)file->Truncate(0, true);
      return s;
    }
    size = file->Size();
    if (!size.ok()) return size.status();
  }
  file_size_ = *size;
  if (Status s = DetectPageSize(file_size_); !s.ok()) return s;
  if (file_size_ < 2 * uint64_t{page_size}) {
    return Status(Code::kInvalid, "file size too small " + std::to_string(file_size_));
  }
  auto m = EnsureMapped(std::max<uint64_t>(file_size_, opts.initial_mmap_size));
  if (!m.ok()) return m.status();
  if (Status s = LoadMetas(); !s.ok()) return s;
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    Publish();
  }
  if (!opts.read_only) {
    freelist = Freelist::New(opts.freelist_type);
    if (Status s = LoadFreelist(); !s.ok()) return s;
  }
  open_ = true;
  // A pending log is replayed before anything else changes the tree.
  if (Status s = OpenLog(); !s.ok()) return s;
  if (!opts.read_only && meta_.freelist == kNoFreelist && !opts.no_freelist_sync) {
    // Persist a freelist so that readers without a scan can open the file.
    Status s = logging() ? Checkpoint(true) : Update([](Tx&) { return Status::OK(); });
    if (!s.ok()) return s;
  }
  if (logging()) {
    split_checkpoints_ = true;  // before any other thread can checkpoint
    StartCheckpointer();
  }
  return Status::OK();
}

Status DBImpl::Lock() {
  using namespace std::chrono;
  const auto start = steady_clock::now();
  const auto retry = milliseconds(50);
  for (;;) {
    Status s = file->TryLock(!opts.read_only);
    if (s.ok() || s.code() != Code::kTimeout) return s;
    if (opts.timeout.count() < 0) return s;
    if (opts.timeout.count() > 0 && steady_clock::now() - start > opts.timeout - retry) return s;
    std::this_thread::sleep_for(retry);
  }
}

Status DBImpl::Init() {
  const uint32_t ps = opts.page_size ? opts.page_size : OsPageSize();
  std::unique_ptr<uint8_t[]> buf(new uint8_t[4 * size_t{ps}]());
  for (pgid_t i = 0; i < 2; i++) {
    Meta m;
    m.page_size = ps;
    m.root = 3;
    m.freelist = 2;
    m.pgid = 4;
    m.txid = i;
    m.EncodePage(buf.get() + i * ps, i);
  }
  SetPageHeader(buf.get() + 2 * ps, 2, kFreelistPage, 0, 0);
  SetPageHeader(buf.get() + 3 * ps, 3, kLeafPage, 0, 0);
  if (Status s = file->WriteAt(0, buf.get(), 4 * size_t{ps}); !s.ok()) return s;
  return file->Sync();
}

Status DBImpl::DetectPageSize(uint64_t file_size) {
  // A failed read is reported as such: guessing a page size instead would
  // call a sound file "invalid".
  uint8_t buf[kPageHeaderSize + kMetaSize];
  if (file_size >= sizeof buf) {
    if (Status s = file->ReadAt(0, buf, sizeof buf); !s.ok()) return s;
    Meta m = Meta::Decode(buf);
    if (m.Validate().ok()) {
      page_size = m.page_size;
      return Status::OK();
    }
  }
  for (int i = 0; i <= 14; i++) {
    const uint64_t off = uint64_t{1024} << i;
    if (off + 1024 >= file_size) break;
    if (Status s = file->ReadAt(off, buf, sizeof buf); !s.ok()) return s;
    Meta m = Meta::Decode(buf);
    if (m.Validate().ok() && m.page_size == off) {
      page_size = m.page_size;
      return Status::OK();
    }
  }
  page_size = opts.page_size ? opts.page_size : OsPageSize();
  return Status::OK();
}

Status DBImpl::LoadMetas() {
  Status errs[2];
  Meta metas[2];
  for (int i = 0; i < 2; i++) {
    metas[i] = Meta::Decode(map_->data() + i * size_t{page_size});
    errs[i] = metas[i].Validate();
    if (errs[i].ok() && metas[i].page_size != page_size) {
      errs[i] =
          Status(Code::kInvalid, "meta " + std::to_string(i) + " page size disagrees with meta 0");
    }
    if (errs[i].ok() && metas[i].pgid > file_size_ / page_size) {
      errs[i] = Status(Code::kInvalid, "meta " + std::to_string(i) + " high-water mark " +
                                           std::to_string(metas[i].pgid) +
                                           " is past the end of the file");
    }
  }
  if (!errs[0].ok() && !errs[1].ok()) return errs[0];
  int pick = errs[0].ok() ? 0 : 1;
  if (errs[0].ok() && errs[1].ok() && metas[1].txid > metas[0].txid) pick = 1;
  meta_ = metas[pick];
  return Status::OK();
}

Status DBImpl::LoadFreelist() {
  std::vector<pgid_t> ids;
  if (meta_.freelist == kNoFreelist) {
    if (Status s = ScanFreePages(&ids); !s.ok()) return s;
  } else {
    TxImpl probe(this, false, meta_, map_);
    probe.closed = true;  // a private reader: not registered
    PageView p;
    if (Status s = probe.RawPage(meta_.freelist, &p); !s.ok()) return s;
    if (Status s = DecodeFreelist(p.data, p.span, meta_.freelist, &ids); !s.ok()) return s;
    for (pgid_t id : ids) {
      if (id >= meta_.pgid) {
        return Corrupt(meta_.freelist,
                       "freelist lists page " + std::to_string(id) + " beyond the high-water mark");
      }
    }
  }
  if (Status s = freelist->Reload(std::move(ids)); !s.ok()) return s;
  stats_.free_page_n = static_cast<int64_t>(freelist->FreeCount());
  stats_.free_alloc = stats_.free_page_n * page_size;
  stats_.freelist_inuse = static_cast<int64_t>(freelist->EstimatedWriteSize());
  return Status::OK();
}

Status DBImpl::ScanFreePages(std::vector<pgid_t>* ids) {
  TxImpl probe(this, false, meta_, map_);
  probe.closed = true;
  std::vector<bool> used;
  if (Status s = probe.ReachablePages(&used); !s.ok()) return s;
  for (pgid_t id = 2; id < meta_.pgid; id++) {
    if (!used[id]) ids->push_back(id);
  }
  return Status::OK();
}

Result<std::shared_ptr<const Mapping>> DBImpl::EnsureMapped(uint64_t min_size) {
  const uint64_t size = MmapSize(min_size, page_size);
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    if (map_ && map_->size() >= size) return map_;
  }
  auto m = file->Map(static_cast<size_t>(size), opts.mmap_populate, opts.mlock);
  if (!m.ok()) return m.status();
  std::lock_guard<std::mutex> lk(meta_mu_);
  map_ = *m;
  Publish();
  return map_;
}

uint64_t DBImpl::GrowthSize(uint64_t target) const {
  // bbolt sizes the file from its map size; the map here never shrinks, so
  // the map size a fresh open would choose stands in for it: growth then
  // depends only on the high-water mark, and truncation can use the same rule.
  const uint64_t datasz = MmapSize(std::max<uint64_t>(target, opts.initial_mmap_size), page_size);
  uint64_t size = datasz <= opts.alloc_size ? datasz : target + opts.alloc_size;
  if (opts.max_size > 0 && size > opts.max_size) size = std::max(opts.max_size, target);
  return size;
}

Status DBImpl::Grow(uint64_t min_needed, uint64_t target, bool sync, bool exact) {
  if (target <= file_size_) return Status::OK();
  uint64_t size = exact ? target : GrowthSize(target);
  if (opts.max_size > 0 && size > opts.max_size) {
    size = std::max<uint64_t>(opts.max_size, file_size_);
    if (size < min_needed) return Status(Code::kMaxSizeReached);
  }
  if (size <= file_size_) return Status::OK();
  if (Status s = file->Truncate(size, sync && !opts.no_grow_sync); !s.ok()) return s;
  file_size_ = size;
  return Status::OK();
}

// The rule, with h the new high-water mark in pages: the file is cut to
// GrowthSize((h + h/4 + 1) pages) when it is larger than that, i.e. only when
// even a database 25% larger would fit a smaller file. The file then grows
// again only once h rises past that size (25% more), and after growing at
// h' it is cut again only once h falls below about 0.8 h': small changes
// of h never make it grow and shrink in turn. Shrink (to_fit) cuts to
// h + 1 pages (bbolt's commit keeps the file at least that long), without
// growth's rounding: past 16 MiB growth adds alloc_size (16 MiB) to the
// target, which would leave a shrunk file a third larger than compact's.
//
// Readers: every truncated page was free in the committed tree (TrimTail
// takes free pages only, never pending ones, and the file beyond the
// high-water mark holds no page at all), so no snapshot an open reader holds
// references it: pages are released to the free set only once no reader
// older than their freeing transaction remains. A reader with an older,
// larger high-water mark still maps those bytes but never follows a pointer
// there; and so that a damaged tree cannot make it fault either, the file
// is never cut below the high-water mark of any open reader (reader_bytes):
// the next commit after that reader ends finishes the cut.
//
// Crash safety: this runs after the meta naming h is durable, so every
// valid newest meta fits the file; the truncate is not synced (a crash may
// leave the file longer, which is harmless).
void DBImpl::TruncateTail(pgid_t hwm, uint64_t reader_bytes, bool to_fit) {
  const uint64_t rule =
      to_fit ? (hwm + 1) * page_size : GrowthSize((hwm + hwm / 4 + 1) * page_size);
  const uint64_t keep = std::max(rule, reader_bytes);
  if (keep >= file_size_) return;
  // A failed truncate leaves a longer file, which is still valid: the commit stands.
  if (file->Truncate(keep, false).ok()) file_size_ = keep;
}

void DBImpl::TrimAfterCheckpoint() {
  EnterWriterGate();
  pgid_t hwm = 0;
  uint64_t reader_bytes = 0;
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    if (open_ && failed.ok()) hwm = meta_.pgid;
    ForEachReader([&](const ReadSnapshot& r) {
      reader_bytes = std::max(reader_bytes, r.meta.pgid * page_size);
    });
  }
  // Commits since the checkpoint only raised the mark (only checkpoints
  // trim it), so the newest commit's mark covers every tree in use.
  if (hwm != 0) TruncateTail(hwm, reader_bytes, false);
  LeaveWriterGate();
}

Status DBImpl::WriteMetaPage(const Meta& m) {
  std::unique_ptr<uint8_t[]> buf(new uint8_t[page_size]());
  m.EncodePage(buf.get(), m.txid % 2);
  if (Status s = file->WriteAt((m.txid % 2) * page_size, buf.get(), page_size); !s.ok()) return s;
  if (!opts.no_sync) return file->Sync();
  return Status::OK();
}

void DBImpl::SetFailed(const Status& s) {
  std::lock_guard<std::mutex> lk(meta_mu_);
  failed = Status(Code::kDatabaseFailed, s.ToString());
}

void DBImpl::Publish() {
  if (!map_) {  // closed
    published_.store(nullptr);
    snapshots_.clear();
    return;
  }
  snapshots_.insert(snapshots_.begin(), std::make_unique<ReadSnapshot>(ReadSnapshot{meta_, map_}));
  published_.store(snapshots_.front().get());
  // An old snapshot no slot holds now is never used again: a reader that
  // stores it later finds it is not the published one and retries.
  auto held = [&](const ReadSnapshot* s) {
    for (size_t i = 0; i < kReaderSlots; i++) {
      if (reader_slots_[i].snapshot.load() == s) return true;
    }
    return std::find(fallback_readers_.begin(), fallback_readers_.end(), s) !=
           fallback_readers_.end();
  };
  std::erase_if(snapshots_, [&](const std::unique_ptr<ReadSnapshot>& s) {
    return s.get() != snapshots_.front().get() && !held(s.get());
  });
}

template <typename Fn>
void DBImpl::ForEachReader(Fn&& fn) const {
  for (size_t i = 0; i < kReaderSlots; i++) {
    const ReadSnapshot* s = reader_slots_[i].snapshot.load();
    if (s == nullptr || s == ReaderSlot::kClaimed) continue;
    for (const auto& known : snapshots_) {
      if (known.get() == s) {
        fn(*s);
        break;
      }
    }
  }
  for (const ReadSnapshot* s : fallback_readers_) fn(*s);
}

bool DBImpl::HasReaders() const {
  for (size_t i = 0; i < kReaderSlots; i++) {
    if (reader_slots_[i].snapshot.load() != nullptr) return true;
  }
  return !fallback_readers_.empty();
}

Status DBImpl::BeginRead(TxImpl* tx) {
  // Start at the slot this thread used last: usually free, and no other
  // thread's line is touched.
  thread_local size_t hint = std::hash<std::thread::id>()(std::this_thread::get_id());
  for (size_t n = 0; n < kReaderSlots; n++) {
    const size_t i = (hint + n) % kReaderSlots;
    ReaderSlot& slot = reader_slots_[i];
    const ReadSnapshot* expected = nullptr;
    if (slot.snapshot.load(std::memory_order_relaxed) != nullptr ||
        !slot.snapshot.compare_exchange_strong(expected, ReaderSlot::kClaimed)) {
      continue;
    }
    hint = i;
    const ReadSnapshot* s;
    do {
      s = published_.load();
      slot.snapshot.store(s);
    } while (s != published_.load());
    // After the registration, so that Close either sees this reader or is seen.
    if (s == nullptr || !open_.load()) {
      slot.snapshot.store(nullptr);
      std::lock_guard<std::mutex> lk(meta_mu_);
      readers_cv_.notify_all();
      return Status(Code::kDatabaseNotOpen);
    }
    slot.begun.store(slot.begun.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    tx->reader_slot = static_cast<int>(i);
    tx->snapshot = s;
    return Status::OK();
  }
  std::lock_guard<std::mutex> lk(meta_mu_);
  const ReadSnapshot* s = published_.load();
  if (!open_ || s == nullptr) return Status(Code::kDatabaseNotOpen);
  fallback_readers_.push_back(s);
  stats_.tx_n++;
  stats_.open_tx_n++;
  tx->reader_slot = TxImpl::kFallbackReader;
  tx->snapshot = s;
  return Status::OK();
}

void DBImpl::ReleasePending() {
  std::vector<txid_t> ids;
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    ForEachReader([&](const ReadSnapshot& r) { ids.push_back(r.meta.txid); });
    std::sort(ids.begin(), ids.end());
    // WAL mode: the data file's checkpoint counts as a reader, so pages
    // freed since it stay pending (its tree is never overwritten) while
    // pages both allocated and freed after it are reused.
    // A checkpoint in flight (its meta not durable yet) counts too: commits
    // made during its sync reuse no page of its tree either.
    if (logging()) {
      ids.insert(std::lower_bound(ids.begin(), ids.end(), checkpoint_txid_), checkpoint_txid_);
      if (checkpoint_in_flight_ != 0) {
        ids.insert(std::lower_bound(ids.begin(), ids.end(), checkpoint_in_flight_),
                   checkpoint_in_flight_);
      }
    }
  }
  txid_t minid = ids.empty() ? ~txid_t{0} : ids.front();
  if (minid > 0) freelist->Release(minid - 1);
  for (txid_t t : ids) {
    if (t > 0) freelist->ReleaseRange(minid, t - 1);
    minid = t + 1;
  }
  freelist->ReleaseRange(minid, ~txid_t{0});
}

Result<std::unique_ptr<TxImpl>> DBImpl::BeginTx(bool writable) {
  if (!writable) {
    std::unique_ptr<TxImpl> tx = tx_pool_->Take();
    if (!tx) {
      tx = std::make_unique<TxImpl>(this, false, format::Meta{}, nullptr);
      tx->pool = tx_pool_;
      tx->closed = true;
    }
    if (Status s = BeginRead(tx.get()); !s.ok()) return s;
    // The snapshot owns the map while the reader is registered: no count.
    tx->Reuse(tx->snapshot->meta, std::shared_ptr<const Mapping>(std::shared_ptr<const Mapping>(),
                                                                 tx->snapshot->map.get()));
    return tx;
  }
  if (opts.read_only) return Status(Code::kDatabaseReadOnly);
  EnterWriterGate();
  Status refuse;
  std::unique_ptr<TxImpl> tx = NewWriter(false, 0, &refuse);
  if (!tx) {
    LeaveWriterGate();
    return refuse;
  }
  return tx;
}

void DBImpl::EnterWriterGate(bool first) {
  std::unique_lock<std::mutex> lk(writer_mu_);
  if (first) {
    first_waiters_++;
    writer_cv_.wait(lk, [this] { return !writer_active_; });
    first_waiters_--;
  } else {
    writer_cv_.wait(lk, [this] { return !writer_active_ && first_waiters_ == 0; });
  }
  writer_active_ = true;
}

void DBImpl::LeaveWriterGate() {
  std::lock_guard<std::mutex> lk(writer_mu_);
  writer_active_ = false;
  // A waiter that goes first may be any of them: wake them all then.
  if (first_waiters_ > 0) {
    writer_cv_.notify_all();
  } else {
    writer_cv_.notify_one();
  }
}

std::unique_ptr<TxImpl> DBImpl::NewWriter(bool checkpoint, txid_t force_txid, Status* refuse) {
  Meta m;
  std::shared_ptr<const Mapping> map;
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    if (!open_) {
      *refuse = Status(Code::kDatabaseNotOpen);
    } else if (!failed.ok()) {
      *refuse = failed;
    }
    m = meta_;
    map = map_;
  }
  if (!refuse->ok()) return nullptr;
  m.txid = force_txid != 0 ? force_txid : m.txid + 1;
  // Checkpoints alternate between the two meta pages, so that a torn one
  // leaves the previous checkpoint, whose tree is intact.
  if (checkpoint) m.txid = CheckpointTxidFrom(m.txid);
  ReleasePending();
  freelist->BeginTx(m.txid);
  auto tx = std::make_unique<TxImpl>(this, true, m, std::move(map));
  tx->checkpoint = checkpoint;
  if (logging() && !replaying_ && !checkpoint)
    tx->wal_ops = std::make_unique<wal::OpWriter>(TakeOpsBuffer());
  return tx;
}

void DBImpl::EndRead(TxImpl* tx) {
  if (tx->reader_slot != TxImpl::kFallbackReader) {
    ReaderSlot& slot = reader_slots_[static_cast<size_t>(tx->reader_slot)];
    {
      std::lock_guard<std::mutex> lk(slot.stats_mu);
      slot.ended++;
      if (!opts.no_statistics) slot.stats.Add(tx->stats);
    }
    slot.snapshot.store(nullptr);
    if (open_.load()) return;
    std::lock_guard<std::mutex> lk(meta_mu_);  // Close waits for the readers
    readers_cv_.notify_all();
    return;
  }
  std::lock_guard<std::mutex> lk(meta_mu_);
  auto it = std::find(fallback_readers_.begin(), fallback_readers_.end(), tx->snapshot);
  if (it != fallback_readers_.end()) fallback_readers_.erase(it);
  stats_.open_tx_n--;
  if (!opts.no_statistics) stats_.tx_stats.Add(tx->stats);
  readers_cv_.notify_all();
}

void DBImpl::EndWrite(TxImpl* tx, bool committed) {
  if (committed) {
    freelist->CommitTx();
  } else {
    freelist->RollbackTx();
  }
  uint64_t reader_bytes = 0;
  bool checkpoint_in_flight = false;
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    if (committed) {
      meta_ = tx->meta;
      Publish();
    }
    ForEachReader([&](const ReadSnapshot& r) {
      reader_bytes = std::max(reader_bytes, r.meta.pgid * page_size);
    });
    checkpoint_in_flight = checkpoint_in_flight_ != 0;
    stats_.free_page_n = static_cast<int64_t>(freelist->FreeCount());
    stats_.pending_page_n = static_cast<int64_t>(freelist->PendingCount());
    stats_.free_alloc = (stats_.free_page_n + stats_.pending_page_n) * page_size;
    stats_.freelist_inuse = static_cast<int64_t>(freelist->EstimatedWriteSize());
    if (!opts.no_statistics) stats_.tx_stats.Add(tx->stats);
    // A commit changed data when it gave the tree a new root (copy on
    // write: any change rewrites the path up to it), unless it is one of
    // Shrink's moves (the same data on other pages). A checkpoint keeps it.
    if (committed && !tx->by_shrink && tx->meta.root != tx->begin_meta.root) {
      last_change_txid_ = tx->begin_meta.txid;
    }
    if (committed && logging()) {
      log_records_ = wal()->records();
      log_bytes_ = static_cast<int64_t>(wal()->end());
    }
  }
  // Still the writer (the gate is open only below), so file_size_ is ours;
  // readers that begin from here on see the new meta. In WAL mode only a
  // checkpoint trims the high-water mark (a logged commit writes no meta),
  // so the file is never cut below the last durable checkpoint's pages;
  // one whose meta is written after the gate opens truncates once that
  // meta is durable (DBImpl::CheckpointOutsidePart). Until then its trimmed
  // mark is in meta_, below the durable meta's: a logged commit made
  // meanwhile must not cut the file to it (a crash would leave the durable
  // meta naming pages past the end), so it leaves the cut to the checkpoint.
  if (committed && !tx->meta_deferred && !checkpoint_in_flight &&
      (!opts.no_truncate || tx->by_shrink)) {
    TruncateTail(tx->meta.pgid, reader_bytes, tx->truncate_to_fit);
  }
  if (!tx->checkpoint) LeaveWriterGate();
}

Stats DBImpl::GetStats() const {
  Stats s;
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    s = stats_;
  }
  for (size_t i = 0; i < kReaderSlots; i++) {
    ReaderSlot& slot = reader_slots_[i];
    std::lock_guard<std::mutex> lk(slot.stats_mu);
    const int64_t begun = slot.begun.load(std::memory_order_relaxed);
    s.tx_n += begun;
    s.open_tx_n += begun - slot.ended;
    s.tx_stats.Add(slot.stats);
  }
  return s;
}

Status DBImpl::Close() {
  StopCheckpointer();
  std::lock_guard<std::mutex> ck(checkpoint_mu_);
  EnterWriterGate();
  // WAL mode: the last checkpoint; the log goes when it succeeded.
  Status s;
  bool remove_log = false;
  bool healthy;
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    healthy = open_ && failed.ok();
  }
  // A failed handle keeps its log for the next open to replay.
  if (logging() && !opts.read_only && healthy) {
    s = CheckpointLocked(false);
    remove_log = s.ok() && opts.wal;
  }
  {
    std::unique_lock<std::mutex> lk(meta_mu_);
    open_ = false;
    readers_cv_.wait(lk, [this] { return !HasReaders(); });
    map_.reset();
    Publish();
  }
  CloseLog(remove_log);
  if (file) {
    Status u = file->Unlock();
    if (s.ok()) s = u;
    file.reset();
  }
  std::lock_guard<std::mutex> lk(writer_mu_);
  writer_active_ = false;
  writer_cv_.notify_all();
  return s;
}

Status DBImpl::Update(const std::function<Status(Tx&)>& fn) {
  auto t = BeginTx(true);
  if (!t.ok()) return t.status();
  Tx tx(std::move(*t));
  tx.impl()->managed = true;
  Status s = fn(tx);
  tx.impl()->managed = false;
  if (!s.ok()) {
    (void)tx.Rollback();
    return s;
  }
  return tx.Commit();
}

Status DBImpl::View(const std::function<Status(Tx&)>& fn) {
  auto t = BeginTx(false);
  if (!t.ok()) return t.status();
  Tx tx(std::move(*t));
  tx.impl()->managed = true;
  Status s = fn(tx);
  Status damage = tx.impl()->error;
  tx.impl()->managed = false;
  (void)tx.Rollback();
  if (!s.ok()) return s;
  return damage;
}

}  // namespace boltpp
