// File: src/wal_db.cc
// The database's half of WAL mode (docs/design.md, "WAL mode"): opening the
// log and replaying it, checkpoints (explicit, by size, by time, at close),
// and what Tx::Check and DB::GetWalInfo need to know about the log.
//
// Invariant: the data file's meta is the checkpoint (txid
// checkpoint_txid_), its tree and freelist are never overwritten before the
// next checkpoint's meta is durable (ReleasePending treats the checkpoint,
// and one in flight, as readers), and the two log files hold, between them
// and in txid order, every commit after it (the invariants in full are at
// DBImpl::Checkpoint).
#include <algorithm>
#include <array>

#include "impl.h"

namespace boltpp {

using namespace format;

namespace {

// Syncs the directory holding file_path, so that a new file survives a
// power cut. File systems without directories (in-memory ones) cannot open
// it: nothing to do then.
Status SyncParentDir(FileSystem* fs, const std::string& file_path) {
  const size_t slash = file_path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : file_path.substr(0, slash));
  auto d = fs->Open(dir, FileOpenOptions{true, false, 0});
  if (!d.ok()) return Status::OK();
  return (*d)->Sync();
}

// A log header the scan could not read, but that is not a log never written
// (empty, short or zeroed: a crash while the log was being created).
bool DamagedHeader(const wal::Scan& scan) {
  return !scan.has_header && !scan.stop.empty() && scan.stop != "short header" &&
         scan.stop != "zeroed header";
}

Status LogError(const std::string& log_path, const std::string& what) {
  return Status(Code::kCorruption, "write-ahead log " + log_path + ": " + what);
}

std::array<std::string, 2> LogPaths(const std::string& db_path) {
  return {wal::LogPath(db_path), wal::SecondLogPath(db_path)};
}

// The records of the two log files (scans) that the data file's checkpoint
// (txid m) lacks, in txid order. The files are generations: each continues
// a checkpoint (its base txid) and the records of the newer one follow
// those of the older, across the checkpoint that switched them (whose txid
// is one or two past the older one's last record: the parity rule). So
// the first file that holds records above m must continue m itself, and a
// second one the first's last record. Anything else is a log that does not
// belong to the data file (replaced, or written without its log): refused.
// Records at or below m are in the data file already and skipped.
Status SelectRecords(const wal::Scan scans[2], txid_t m, const std::array<std::string, 2>& paths,
                     std::vector<DBImpl::PendingRecord>* todo) {
  for (int i = 0; i < 2; i++) {
    if (DamagedHeader(scans[i])) return LogError(paths[i], scans[i].stop);
  }
  int order[2] = {0, 1};
  if (scans[1].has_header &&
      (!scans[0].has_header || scans[1].header.base_txid < scans[0].header.base_txid)) {
    std::swap(order[0], order[1]);
  }
  txid_t last = m;
  bool first = true;
  for (int i : order) {
    const wal::Scan& scan = scans[i];
    if (!scan.has_header) continue;
    const size_t before = todo->size();
    for (const wal::RecordRef& r : scan.records) {
      if (r.txid > last) todo->push_back(DBImpl::PendingRecord{i, r});
    }
    if (todo->size() == before) continue;
    const txid_t base = scan.header.base_txid;
    if (first && base != m) {
      return LogError(paths[i], "it continues the checkpoint of txid " + std::to_string(base) +
                                    " but the data file's is txid " + std::to_string(m) +
                                    "; move the log away to open the data file as it is");
    }
    if (!first && (base <= last || base > last + 2)) {
      return LogError(paths[i], "it continues the checkpoint of txid " + std::to_string(base) +
                                    " but the other log's records end at txid " +
                                    std::to_string(last) +
                                    "; move the logs away to open the data file as it is");
    }
    first = false;
    last = todo->back().ref.txid;
  }
  return Status::OK();
}

}  // namespace

Status DBImpl::OpenLog() {
  const std::array<std::string, 2> paths = LogPaths(path);
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    checkpoint_txid_ = last_change_txid_ = meta_.txid;
    read_only_wal_.checkpoint_txid = read_only_wal_.last_change_txid = meta_.txid;
  }
  const bool exist[2] = {fs->Exists(paths[0]), fs->Exists(paths[1])};
  if (opts.read_only) return exist[0] || exist[1] ? InspectLogs(exist) : Status::OK();
  if (!exist[0] && !exist[1] && !opts.wal) return Status::OK();
  wal::Scan scans[2];
  std::unique_ptr<File> files[2];
  for (int i = 0; i < 2; i++) {
    auto f = fs->Open(paths[i], FileOpenOptions{false, true, opts.file_mode});
    if (!f.ok()) return f.status();
    files[i] = std::move(*f);
    if (!exist[i]) continue;
    auto r = wal::ReadLog(files[i].get());
    if (!r.ok()) return r.status();
    scans[i] = std::move(*r);
  }
  std::vector<PendingRecord> todo;
  if (Status s = SelectRecords(scans, meta_.txid, paths, &todo); !s.ok()) return s;
  for (int i = 0; i < 2; i++) {
    logs_[i] = std::make_unique<wal::LogWriter>(std::move(files[i]), scans[i].header,
                                                scans[i].has_header ? scans[i].end : 0,
                                                scans[i].file_size);
  }
  active_log_ = 0;
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    log_open_ = true;
    log_bytes_ = static_cast<int64_t>(wal()->end());
  }
  // The replay's checkpoint runs wholly under the gate (split_checkpoints_
  // is still false): both files may hold records it must keep until its
  // meta is durable.
  Status s = todo.empty() ? Status::OK() : ReplayLog(scans, todo);
  if (s.ok() && !todo.empty()) s = Checkpoint();
  if (s.ok() && !opts.wal) {
    CloseLog(true);  // every commit is in the data file now
    return Status::OK();
  }
  // Both files continue the data file's checkpoint: every record in them is
  // at or below it now. A new file's header is synced, and its directory.
  bool created = false;
  for (int i = 0; i < 2 && s.ok(); i++) {
    if (!scans[i].has_header) {
      s = logs_[i]->Create(meta_.txid);
      created = true;
    } else if (scans[i].header.version != wal::kVersion) {
      // A log from a one-file build: its header must not survive a crash
      // once records may go to the second file (it reads only the first).
      s = logs_[i]->ResetDurably(meta_.txid, KeepLogBytes());
    } else if (logs_[i]->base_txid() != meta_.txid) {
      s = logs_[i]->Reset(meta_.txid, KeepLogBytes());
    }
  }
  if (s.ok() && created) s = SyncParentDir(fs, paths[0]);
  if (!s.ok()) CloseLog(false);
  return s;
}

Status DBImpl::InspectLogs(const bool exist[2]) {
  const std::array<std::string, 2> paths = LogPaths(path);
  WalInfo& w = read_only_wal_;
  w.present = true;
  w.checkpoint_txid = meta_.txid;
  wal::Scan scans[2];
  for (int i = 0; i < 2; i++) {
    if (!exist[i]) continue;
    auto f = fs->Open(paths[i], FileOpenOptions{true, false, 0});
    if (!f.ok()) {
      w.stop = paths[i] + ": cannot open: " + f.status().ToString();
      return Status::OK();
    }
    auto r = wal::ReadLog(f->get());
    if (!r.ok()) {
      w.stop = paths[i] + ": cannot read: " + r.status().ToString();
      return Status::OK();
    }
    scans[i] = std::move(*r);
    w.bytes += static_cast<int64_t>(scans[i].has_header ? scans[i].end : scans[i].file_size);
  }
  std::vector<PendingRecord> todo;
  Status s = SelectRecords(scans, meta_.txid, paths, &todo);
  if (!s.ok()) {
    w.stop = s.detail().empty() ? s.ToString() : s.detail();
  } else {
    // A stop in a file whose records were all replayed by an older
    // checkpoint (a retired log) says nothing about pending commits: the
    // active file's (the one holding the newest records) is reported.
    const int active = todo.empty() ? (scans[1].has_header && scans[0].has_header &&
                                               scans[1].header.base_txid > scans[0].header.base_txid
                                           ? 1
                                           : 0)
                                    : todo.back().file;
    w.stop = scans[active].stop;
  }
  w.pending_records = static_cast<int64_t>(todo.size());
  if (!todo.empty()) w.last_change_txid = todo.back().ref.txid;
  return Status::OK();
}

Status DBImpl::ReplayLog(const wal::Scan scans[2], const std::vector<PendingRecord>& todo) {
  replaying_ = true;
  Status result;
  for (const PendingRecord& p : todo) {
    const wal::RecordRef& r = p.ref;
    const wal::Scan& scan = scans[p.file];
    EnterWriterGate();
    Status refuse;
    std::unique_ptr<TxImpl> tx = NewWriter(false, r.txid, &refuse);
    if (!tx) {
      LeaveWriterGate();
      result = refuse;
      break;
    }
    if (Status s = ApplyRecord(tx.get(), scan.Payload(r)); !s.ok()) {
      tx->Rollback();
      result = LogError(
          LogPaths(path)[static_cast<size_t>(p.file)],
          "the record of txid " + std::to_string(r.txid) + " does not apply: " + s.ToString());
      break;
    }
    if (Status s = tx->Commit(); !s.ok()) {
      result = s;
      break;
    }
  }
  replaying_ = false;
  return result;
}

// Applies one operation to b (the bucket it names); kOpen and kCreate add
// the bucket they reach to handles.
static Status ApplyOp(const wal::Op& op, BucketImpl* b, std::vector<BucketImpl*>* handles) {
  switch (op.code) {
    case wal::OpCode::kOpen: {
      BucketImpl* c = b->Child(op.name);
      if (!c) return b->tx->error.ok() ? Status(Code::kBucketNotFound) : b->tx->error;
      handles->push_back(c);
      return Status::OK();
    }
    case wal::OpCode::kCreate: {
      auto c = b->CreateChild(op.name);
      if (!c.ok()) return c.status();
      handles->push_back(*c);
      return Status::OK();
    }
    case wal::OpCode::kPut:
      return b->Put(op.name, op.value);
    case wal::OpCode::kDelete:
      return b->Delete(op.name);
    case wal::OpCode::kDeleteBucket:
      return b->DeleteChild(op.name);
    case wal::OpCode::kMoveBucket:
      return b->MoveChild(op.name, (*handles)[op.dst]);
    case wal::OpCode::kSetSequence:
      return b->SetSequence(op.number);
  }
  return Status(Code::kCorruption, "unknown operation");
}

Status DBImpl::ApplyRecord(TxImpl* tx, std::string_view payload) {
  std::vector<BucketImpl*> handles{tx->root};
  wal::OpReader reader(payload);
  for (;;) {
    wal::Op op;
    auto more = reader.Next(&op);
    if (!more.ok()) return more.status();
    if (!*more) return Status::OK();
    if (op.bucket >= handles.size() ||
        (op.code == wal::OpCode::kMoveBucket && op.dst >= handles.size())) {
      return Status(Code::kCorruption, "unknown bucket handle");
    }
    if (Status s = ApplyOp(op, handles[op.bucket], &handles); !s.ok()) return s;
  }
}

// The checkpoint (docs/design.md, "Checkpoint"). Invariants, at every
// point, for a crash as for a failure:
// 1. The data file alone is a consistent bbolt file: its meta is the last
//    durable checkpoint (checkpoint_txid_), whose tree and freelist no
//    commit overwrites (ReleasePending holds it as a reader), and a new
//    meta is written only after the pages it names are synced.
// 2. Every commit whose call returned is in a log file, and replay finds
//    it: the records above the durable meta's txid, across both files, in
//    txid order (SelectRecords). A log file is reset only when every record
//    in it is at or below a durable checkpoint.
// 3. While a checkpoint is in flight (its meta not durable yet), commits
//    reuse no page of its tree either (ReleasePending holds
//    checkpoint_in_flight_ as a reader too): its meta must stay true of the
//    pages its sync writes, whatever commits run during that sync.
//
// The split (after open; not for Shrink's, which cuts the file to fit):
// under the writer gate, CheckpointGatePart writes the freelist and the
// pages not yet written, publishes the checkpoint's meta in memory and
// switches commits to the other log file (reset to continue the
// checkpoint: its header is synced by the first record's sync). Then,
// with commits going on, CheckpointOutsidePart syncs the data file, writes
// and syncs the meta, and retires the old log (records all at or below the
// checkpoint now). Commits wait for no sync of the checkpoint: only for the
// freelist page's write and a 40-byte header write.
Status DBImpl::Checkpoint(bool force, bool by_shrink, bool to_fit) {
  if (opts.read_only) return Status(Code::kDatabaseReadOnly);
  std::lock_guard<std::mutex> ck(checkpoint_mu_);
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    if (!open_) return Status(Code::kDatabaseNotOpen);
    if (!failed.ok()) return failed;
    if (!logging() || (!force && meta_.txid == LatestCheckpoint())) return Status::OK();
  }
  EnterWriterGate(/*first=*/true);
  if (!split_checkpoints_ || by_shrink || force) {
    Status s = CheckpointLocked(force, by_shrink, to_fit);
    LeaveWriterGate();
    return s;
  }
  Meta meta;
  Status s = CheckpointGatePart(&meta);
  LeaveWriterGate();
  if (!s.ok() || meta.txid == 0) return s;
  return CheckpointOutsidePart(meta);
}

Status DBImpl::CheckpointGatePart(Meta* meta) {
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    if (!open_) return Status(Code::kDatabaseNotOpen);
    if (!failed.ok()) return failed;
    if (meta_.txid == LatestCheckpoint()) return Status::OK();  // meta->txid stays 0
  }
  Status s;
  std::unique_ptr<TxImpl> tx = NewWriter(true, 0, &s);
  if (!tx) return s;
  tx->meta_deferred = true;
  s = tx->CommitCheckpointPages();
  if (!s.ok()) {
    SetFailed(s);
    return s;
  }
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    *meta = meta_;
  }
  // Commits from now on go to the other file. It holds nothing to keep: its
  // records are at or below the durable checkpoint (it was retired when
  // that checkpoint's meta became durable, or reset by it). Not truncated
  // here: the retirement does that, outside the gate.
  wal::LogWriter* next = logs_[1 - active_log_].get();
  if (s = next->Reset(meta->txid, ~uint64_t{0}); !s.ok()) {
    SetFailed(s);
    return s;
  }
  active_log_ = 1 - active_log_;
  // Pages allocated up to the checkpoint are in its tree: held like any old
  // page from now on (forgetting early only holds pages longer).
  freelist->ForgetAllocationsThrough(meta->txid);
  std::lock_guard<std::mutex> lk(meta_mu_);
  checkpoint_in_flight_ = meta->txid;
  log_records_ = 0;
  log_bytes_ = static_cast<int64_t>(wal()->end());
  return Status::OK();
}

Status DBImpl::CheckpointOutsidePart(const Meta& meta) {
  // Commits run meanwhile: they append to the active log, and write pages
  // the in-flight checkpoint does not use (invariant 3). A failed sync or
  // meta write fails the handle: the kernel may have dropped pages, and
  // only a reopen (replaying both logs) is safe then.
  Status s;
  if (!opts.no_sync) s = file->Sync();
  if (s.ok()) s = WriteMetaPage(meta);
  if (s.ok()) {
    std::lock_guard<std::mutex> lk(meta_mu_);
    checkpoint_txid_ = meta.txid;
  }
  // Retire the old log: every record in it is at or below the checkpoint.
  // Its header now says so (unsynced: either header is harmless), and a
  // log grown past its usual size gives the space back.
  if (s.ok()) {
    s = logs_[1 - active_log_]->Reset(meta.txid, KeepLogBytes());
  }
  if (!s.ok()) SetFailed(s);
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    checkpoint_in_flight_ = 0;
    checkpoint_done_cv_.notify_all();
  }
  if (!s.ok() || opts.no_truncate) return s;
  TrimAfterCheckpoint();
  return Status::OK();
}

Status DBImpl::WaitForCheckpointInFlight() {
  std::unique_lock<std::mutex> lk(meta_mu_);
  checkpoint_done_cv_.wait(lk, [this] { return checkpoint_in_flight_ == 0; });
  return failed;
}

Status DBImpl::CheckpointLocked(bool force, bool by_shrink, bool to_fit) {
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    if (!open_) return Status(Code::kDatabaseNotOpen);
    if (!failed.ok()) return failed;
    if (!force && meta_.txid == LatestCheckpoint()) return Status::OK();
  }
  Status s;
  std::unique_ptr<TxImpl> tx = NewWriter(true, 0, &s);
  if (!tx) return s;
  tx->by_shrink = by_shrink;
  tx->truncate_to_fit = to_fit;
  s = tx->CommitCheckpoint();
  if (!s.ok()) {
    SetFailed(s);
    return s;
  }
  txid_t done = 0;
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    done = meta_.txid;
  }
  if (s = CheckpointDurable(done); !s.ok()) return s;
  std::lock_guard<std::mutex> lk(meta_mu_);
  log_records_ = 0;
  log_bytes_ = static_cast<int64_t>(wal()->end());
  return Status::OK();
}

txid_t DBImpl::CheckpointTxidFrom(txid_t txid) const {
  std::lock_guard<std::mutex> lk(meta_mu_);
  return txid % 2 == LatestCheckpoint() % 2 ? txid + 1 : txid;
}

Status DBImpl::CheckpointDurable(txid_t txid) {
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    checkpoint_txid_ = txid;
  }
  // Pages allocated up to the checkpoint are in its tree now: held like any
  // old page until the next checkpoint, whatever their allocation txid.
  freelist->ForgetAllocationsThrough(txid);
  const uint64_t keep = KeepLogBytes();
  Status s = logs_[active_log_]->Reset(txid, keep);
  if (s.ok()) s = logs_[1 - active_log_]->Reset(txid, keep);
  if (!s.ok()) SetFailed(s);
  return s;
}

void DBImpl::AfterLogCommit(bool log_full) {
  if (!log_full) return;
  if (has_checkpointer_) {
    std::lock_guard<std::mutex> lk(ckpt_thread_mu_);
    ckpt_requested_ = true;
    ckpt_cv_.notify_one();
    return;
  }
  (void)Checkpoint();  // the commit is durable already; a failure fails the handle
}

void DBImpl::StartCheckpointer() {
  if (opts.wal_checkpoint_interval.count() <= 0) return;
  has_checkpointer_ = true;
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
}

void DBImpl::StopCheckpointer() {
  {
    std::lock_guard<std::mutex> lk(ckpt_thread_mu_);
    ckpt_stop_ = true;
    ckpt_cv_.notify_all();
  }
  if (checkpointer_.joinable()) checkpointer_.join();
}

// Checkpoints when asked (the log passed its size) and every interval while
// commits come in. A failure fails the handle, so it is not retried.
void DBImpl::CheckpointLoop() {
  std::unique_lock<std::mutex> lk(ckpt_thread_mu_);
  while (!ckpt_stop_) {
    ckpt_cv_.wait_for(lk, opts.wal_checkpoint_interval,
                      [this] { return ckpt_stop_ || ckpt_requested_; });
    if (ckpt_stop_) break;
    ckpt_requested_ = false;
    lk.unlock();
    (void)Checkpoint();
    lk.lock();
  }
}

void DBImpl::CloseLog(bool remove) {
  if (!logging()) return;
  log_sync_.reset();  // idle: every commit waited for its sync
  logs_[0].reset();
  logs_[1].reset();
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    log_open_ = false;
    log_records_ = 0;
    log_bytes_ = 0;
  }
  if (remove) {
    for (const std::string& p : LogPaths(path)) (void)fs->Remove(p);
  }
}

WalInfo DBImpl::GetWalInfo() const {
  if (opts.read_only) return read_only_wal_;
  WalInfo w;
  std::lock_guard<std::mutex> lk(meta_mu_);
  w.present = log_open_;
  w.pending_records = log_records_;
  w.bytes = log_bytes_;
  w.checkpoint_txid = checkpoint_txid_;
  w.last_change_txid = last_change_txid_;
  return w;
}

bool DBImpl::FreelistStale(const Meta& m) const {
  std::lock_guard<std::mutex> lk(meta_mu_);
  return log_open_ && m.txid != LatestCheckpoint();
}

txid_t DBImpl::FreelistWriter(txid_t writer_txid) const {
  std::lock_guard<std::mutex> lk(meta_mu_);
  return log_open_ ? std::min(writer_txid - 1, LatestCheckpoint()) : writer_txid - 1;
}

bool DBImpl::FreeIdsAt(txid_t txid, std::vector<pgid_t>* ids) {
  std::lock_guard<std::mutex> w(writer_mu_);
  if (writer_active_) return false;
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    if (!open_ || meta_.txid != txid) return false;
  }
  *ids = freelist->AllIds();
  return true;
}

}  // namespace boltpp
