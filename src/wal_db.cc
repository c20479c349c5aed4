// File: src/wal_db.cc
// The database's half of WAL mode (docs/design.md, "WAL mode"): opening the
// log and replaying it, checkpoints (explicit, by size, by time, at close),
// and what Tx::Check and DB::GetWalInfo need to know about the log.
//
// Invariant: the data file's meta is the checkpoint (txid
// checkpoint_txid_), its tree and freelist are never overwritten before the
// next checkpoint's meta is durable (ReleasePending treats the checkpoint as
// a reader), and the log holds, in order, every commit after it.
#include <algorithm>

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

// The records of scan the data file's checkpoint (txid m) lacks, in order.
// Fails when the log does not continue that checkpoint (the data file was
// replaced or written without its log).
Status SelectRecords(const wal::Scan& scan, txid_t m, const std::string& log_path,
                     std::vector<wal::RecordRef>* todo) {
  if (DamagedHeader(scan)) return LogError(log_path, scan.stop);
  for (const wal::RecordRef& r : scan.records) {
    if (r.txid > m) todo->push_back(r);
  }
  if (!todo->empty() && scan.header.base_txid != m) {
    return LogError(log_path, "it continues the checkpoint of txid " +
                                  std::to_string(scan.header.base_txid) +
                                  " but the data file's is txid " + std::to_string(m) +
                                  "; move the log away to open the data file as it is");
  }
  return Status::OK();
}

}  // namespace

Status DBImpl::OpenLog() {
  const std::string log_path = wal::LogPath(path);
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    checkpoint_txid_ = last_change_txid_ = meta_.txid;
    read_only_wal_.checkpoint_txid = read_only_wal_.last_change_txid = meta_.txid;
  }
  const bool exists = fs->Exists(log_path);
  if (opts.read_only) return exists ? InspectLog(log_path) : Status::OK();
  if (!exists && !opts.wal) return Status::OK();
  auto f = fs->Open(log_path, FileOpenOptions{false, true, opts.file_mode});
  if (!f.ok()) return f.status();
  wal::Scan scan;
  if (exists) {
    auto r = wal::ReadLog(f->get());
    if (!r.ok()) return r.status();
    scan = std::move(*r);
  }
  std::vector<wal::RecordRef> todo;
  if (Status s = SelectRecords(scan, meta_.txid, log_path, &todo); !s.ok()) return s;
  wal_ = std::make_unique<wal::LogWriter>(std::move(*f), scan.header,
                                          scan.has_header ? scan.end : 0, scan.file_size);
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    log_open_ = true;
    log_bytes_ = static_cast<int64_t>(wal_->end());
  }
  Status s = todo.empty() ? Status::OK() : ReplayLog(scan, todo);
  if (s.ok() && !todo.empty()) s = Checkpoint();
  if (s.ok() && !opts.wal) {
    CloseLog(true);  // every commit is in the data file now
    return Status::OK();
  }
  if (s.ok() && !scan.has_header) {
    s = wal_->Create(meta_.txid);
    if (s.ok()) s = SyncParentDir(fs, log_path);
  } else if (s.ok() && wal_->base_txid() != meta_.txid) {
    s = wal_->Reset(meta_.txid, std::max<uint64_t>(2 * opts.wal_checkpoint_bytes, 4 << 20));
  }
  if (!s.ok()) CloseLog(false);
  return s;
}

Status DBImpl::InspectLog(const std::string& log_path) {
  WalInfo& w = read_only_wal_;
  w.present = true;
  w.checkpoint_txid = meta_.txid;
  auto f = fs->Open(log_path, FileOpenOptions{true, false, 0});
  if (!f.ok()) {
    w.stop = "cannot open: " + f.status().ToString();
    return Status::OK();
  }
  auto r = wal::ReadLog(f->get());
  if (!r.ok()) {
    w.stop = "cannot read: " + r.status().ToString();
    return Status::OK();
  }
  w.bytes = static_cast<int64_t>(r->has_header ? r->end : r->file_size);
  w.stop = r->stop;
  std::vector<wal::RecordRef> todo;
  Status s = SelectRecords(*r, meta_.txid, log_path, &todo);
  if (!s.ok()) w.stop = s.detail().empty() ? s.ToString() : s.detail();
  w.pending_records = static_cast<int64_t>(todo.size());
  if (!todo.empty()) w.last_change_txid = todo.back().txid;
  return Status::OK();
}

Status DBImpl::ReplayLog(const wal::Scan& scan, const std::vector<wal::RecordRef>& todo) {
  replaying_ = true;
  Status result;
  for (const wal::RecordRef& r : todo) {
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
      result = LogError(wal::LogPath(path), "the record of txid " + std::to_string(r.txid) +
                                                " does not apply: " + s.ToString());
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

Status DBImpl::Checkpoint(bool force, bool by_shrink, bool to_fit) {
  if (opts.read_only) return Status(Code::kDatabaseReadOnly);
  std::lock_guard<std::mutex> ck(checkpoint_mu_);
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    if (!open_) return Status(Code::kDatabaseNotOpen);
    if (!failed.ok()) return failed;
    if (!wal_ || (!force && meta_.txid == checkpoint_txid_)) return Status::OK();
  }
  // The pages written since the last checkpoint reach the disk while
  // commits go on; the gate is then held only for what was written since,
  // and the freelist and meta. The sync is repeated (at most kOutsideSyncs
  // times) while commits came during the last one: what a long sync let
  // them write, a short one catches up with, so that the sync under the
  // gate, which commits wait for, has little left to write.
  // A failed data sync may have dropped pages: only a replay is safe then.
  constexpr int kOutsideSyncs = 3;
  for (int pass = 0; pass < kOutsideSyncs && !opts.no_sync; pass++) {
    txid_t before;
    {
      std::lock_guard<std::mutex> lk(meta_mu_);
      before = meta_.txid;
    }
    if (Status s = file->Sync(); !s.ok()) {
      SetFailed(s);
      return s;
    }
    std::lock_guard<std::mutex> lk(meta_mu_);
    if (meta_.txid == before) break;
  }
  EnterWriterGate(/*first=*/true);
  Status s = CheckpointLocked(force, by_shrink, to_fit);
  LeaveWriterGate();
  return s;
}

Status DBImpl::CheckpointLocked(bool force, bool by_shrink, bool to_fit) {
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    if (!open_) return Status(Code::kDatabaseNotOpen);
    if (!failed.ok()) return failed;
    if (!force && meta_.txid == checkpoint_txid_) return Status::OK();
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
  log_bytes_ = static_cast<int64_t>(wal_->end());
  return Status::OK();
}

txid_t DBImpl::CheckpointTxidFrom(txid_t txid) const {
  std::lock_guard<std::mutex> lk(meta_mu_);
  return txid % 2 == checkpoint_txid_ % 2 ? txid + 1 : txid;
}

Status DBImpl::CheckpointDurable(txid_t txid) {
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    checkpoint_txid_ = txid;
  }
  // Pages allocated up to the checkpoint are in its tree now: held like any
  // old page until the next checkpoint, whatever their allocation txid.
  freelist->ForgetAllocationsThrough(txid);
  Status s = wal_->Reset(txid, std::max<uint64_t>(2 * opts.wal_checkpoint_bytes, 4 << 20));
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
  if (!wal_) return;
  wal_.reset();
  {
    std::lock_guard<std::mutex> lk(meta_mu_);
    log_open_ = false;
    log_records_ = 0;
    log_bytes_ = 0;
  }
  if (remove) (void)fs->Remove(wal::LogPath(path));
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
  return log_open_ && m.txid != checkpoint_txid_;
}

txid_t DBImpl::FreelistWriter(txid_t writer_txid) const {
  std::lock_guard<std::mutex> lk(meta_mu_);
  return log_open_ ? std::min(writer_txid - 1, checkpoint_txid_) : writer_txid - 1;
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
