// File: src/api.cc
// The public handles (DB, Tx, Bucket, Cursor) forward to the engine.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "impl.h"

namespace boltpp {

// ---- stats ----
void TxStats::Add(const TxStats& o) {
  page_count += o.page_count;
  page_alloc += o.page_alloc;
  cursor_count += o.cursor_count;
  node_count += o.node_count;
  node_deref += o.node_deref;
  rebalance += o.rebalance;
  rebalance_time_ns += o.rebalance_time_ns;
  split += o.split;
  spill += o.spill;
  spill_time_ns += o.spill_time_ns;
  write += o.write;
  write_time_ns += o.write_time_ns;
}

TxStats TxStats::Sub(const TxStats& o) const {
  TxStats d = *this;
  d.page_count -= o.page_count;
  d.page_alloc -= o.page_alloc;
  d.cursor_count -= o.cursor_count;
  d.node_count -= o.node_count;
  d.node_deref -= o.node_deref;
  d.rebalance -= o.rebalance;
  d.rebalance_time_ns -= o.rebalance_time_ns;
  d.split -= o.split;
  d.spill -= o.spill;
  d.spill_time_ns -= o.spill_time_ns;
  d.write -= o.write;
  d.write_time_ns -= o.write_time_ns;
  return d;
}

void BucketStats::Add(const BucketStats& o) {
  branch_page_n += o.branch_page_n;
  branch_overflow_n += o.branch_overflow_n;
  leaf_page_n += o.leaf_page_n;
  leaf_overflow_n += o.leaf_overflow_n;
  key_n += o.key_n;
  if (depth < o.depth) depth = o.depth;
  branch_alloc += o.branch_alloc;
  branch_inuse += o.branch_inuse;
  leaf_alloc += o.leaf_alloc;
  leaf_inuse += o.leaf_inuse;
  bucket_n += o.bucket_n;
  inline_bucket_n += o.inline_bucket_n;
  inline_bucket_inuse += o.inline_bucket_inuse;
}

// ---- DB ----
DB::DB(std::unique_ptr<DBImpl> impl) : impl_(std::move(impl)) {}
DB::~DB() = default;

Result<std::unique_ptr<DB>> DB::Open(const std::string& path, const Options& options) {
  auto impl = std::make_unique<DBImpl>(path, options);
  DBImpl* raw = impl.get();
  auto db = std::make_unique<DB>(std::move(impl));
  raw->owner = db.get();
  if (Status s = raw->Open(); !s.ok()) return s;
  return db;
}

Status DB::Close() { return impl_->Close(); }

Result<Tx> DB::Begin(bool writable) {
  auto t = impl_->BeginTx(writable);
  if (!t.ok()) return t.status();
  return Tx(std::move(*t));
}

Status DB::Update(const std::function<Status(Tx&)>& fn) { return impl_->Update(fn); }
Result<ShrinkResult> DB::Shrink(const ShrinkOptions& options) { return impl_->Shrink(options); }
Status DB::View(const std::function<Status(Tx&)>& fn) { return impl_->View(fn); }
Status DB::Batch(const std::function<Status(Tx&)>& fn) { return impl_->Batch(fn); }

Status DB::Sync() {
  if (!impl_->file) return Status(Code::kDatabaseNotOpen);
  return impl_->file->Sync();
}

Status DB::Checkpoint() { return impl_->Checkpoint(); }
WalInfo DB::GetWalInfo() const { return impl_->GetWalInfo(); }

Stats DB::GetStats() const { return impl_->GetStats(); }

Info DB::GetInfo() const {
  Info info;
  info.page_size = impl_->page_size;
  auto tx = impl_->BeginTx(false);
  if (tx.ok()) {
    Tx handle(std::move(*tx));  // rolled back, and back in the pool, when it ends
    info.data = handle.impl()->map_base();
  }
  return info;
}

const std::string& DB::Path() const { return impl_->path; }
bool DB::IsReadOnly() const { return impl_->opts.read_only; }
const Options& DB::options() const { return impl_->opts; }

// ---- Tx ----
// A pooled reader goes back to its pool when its handle dies (rolled back
// first if still open); any other transaction is deleted.
static void ReleaseTx(std::unique_ptr<TxImpl>& impl) {
  if (!impl || !impl->pool) {
    impl.reset();
    return;
  }
  if (!impl->closed) impl->Rollback();
  impl->Park();
  // A reference of our own: once Give has pooled it, the transaction (and
  // its reference to the pool) may be deleted by a DB closing concurrently.
  std::shared_ptr<TxPool> pool = impl->pool;
  pool->Give(impl.release());
}

Tx::Tx() = default;
Tx::Tx(std::unique_ptr<TxImpl> impl) : impl_(std::move(impl)) {}
Tx::Tx(Tx&&) noexcept = default;
Tx& Tx::operator=(Tx&& other) noexcept {
  if (this != &other) {
    ReleaseTx(impl_);
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Tx::~Tx() { ReleaseTx(impl_); }

uint64_t Tx::ID() const { return impl_ ? impl_->meta.txid : 0; }
bool Tx::Writable() const { return impl_ && impl_->writable; }
int64_t Tx::Size() const {
  return impl_ ? static_cast<int64_t>(impl_->meta.pgid * impl_->page_size) : 0;
}
TxStats Tx::Stats() const { return impl_ ? impl_->stats : TxStats{}; }
Status Tx::status() const { return impl_ ? impl_->error : Status(Code::kTxClosed); }

DB* Tx::db() const { return impl_ ? impl_->db->owner : nullptr; }

Bucket Tx::Root() const { return Bucket(!impl_ || impl_->closed ? nullptr : impl_->root); }
Bucket Tx::GetBucket(Bytes name) const { return Root().GetBucket(name); }
Result<Bucket> Tx::CreateBucket(Bytes name) {
  if (!impl_ || impl_->closed) return Status(Code::kTxClosed);
  return Root().CreateBucket(name);
}
Result<Bucket> Tx::CreateBucketIfNotExists(Bytes name) {
  if (!impl_ || impl_->closed) return Status(Code::kTxClosed);
  return Root().CreateBucketIfNotExists(name);
}
Status Tx::DeleteBucket(Bytes name) {
  if (!impl_ || impl_->closed) return Status(Code::kTxClosed);
  return Root().DeleteBucket(name);
}
Status Tx::MoveBucket(Bytes name, Bucket src, Bucket dst) {
  if (!impl_ || impl_->closed) return Status(Code::kTxClosed);
  if (!src) src = Root();
  if (!dst) dst = Root();
  return src.MoveBucket(name, dst);
}

Status Tx::ForEach(const std::function<Status(Bytes, Bucket)>& fn) const {
  if (!impl_ || impl_->closed) return Status(Code::kTxClosed);
  Bucket root = Root();
  return root.ForEach([&](const Entry& e) { return fn(e.key, root.GetBucket(e.key)); });
}

Cursor Tx::NewCursor() const { return Root().NewCursor(); }

void Tx::OnCommit(std::function<void()> fn) {
  if (impl_ && !impl_->closed) impl_->on_commit.push_back(std::move(fn));
}

Status Tx::Commit() {
  if (!impl_) return Status(Code::kTxClosed);
  if (impl_->managed) return Status(Code::kInvalidArgument, "managed tx commit not allowed");
  return impl_->Commit();
}

Status Tx::Rollback() {
  if (!impl_ || impl_->closed) return Status(Code::kTxClosed);
  if (impl_->managed) return Status(Code::kInvalidArgument, "managed tx rollback not allowed");
  impl_->Rollback();
  return Status::OK();
}

Result<int64_t> Tx::WriteTo(std::ostream& out) const {
  if (!impl_) return Status(Code::kTxClosed);
  return impl_->WriteTo([&](const uint8_t* p, size_t n) {
    out.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
    return out ? Status::OK() : Status(Code::kIOError, "write to stream failed");
  });
}

static Status WriteAllFd(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status(Code::kIOError, std::string("write: ") + std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

Result<int64_t> Tx::WriteToFd(int fd) const {
  if (!impl_) return Status(Code::kTxClosed);
  return impl_->WriteTo([&](const uint8_t* p, size_t n) { return WriteAllFd(fd, p, n); });
}

Status Tx::CopyFile(const std::string& path, uint32_t mode) const {
  if (!impl_ || impl_->closed) return Status(Code::kTxClosed);
  FileSystem* fs = impl_->db->fs;
  (void)fs->Remove(path);
  auto f = fs->Open(path, FileOpenOptions{false, true, mode});
  if (!f.ok()) return f.status();
  File* out = f->get();
  uint64_t off = 0;
  auto n = impl_->WriteTo([&](const uint8_t* p, size_t len) {
    Status s = out->WriteAt(off, p, len);
    off += len;
    return s;
  });
  if (!n.ok()) return n.status();
  return out->Sync();
}

std::vector<std::string> Tx::Check(const CheckOptions& opts) const {
  if (!impl_) return {std::string(CodeMessage(Code::kTxClosed))};
  return impl_->Check(opts);
}
BucketStructure Tx::Inspect() const {
  return impl_ && !impl_->closed ? InspectTx(impl_.get()) : BucketStructure{};
}
Result<std::optional<PageInfo>> Tx::Page(uint64_t id) const {
  if (!impl_) return Status(Code::kTxClosed);
  return PageInfoOf(impl_.get(), id);
}

// ---- Bucket ----
std::optional<Bytes> Bucket::Get(Bytes key) const { return impl_ ? impl_->Get(key) : std::nullopt; }
// WAL mode: each public write that succeeded is recorded, in order, in the
// transaction's operations (TxImpl::wal_ops); the internal calls it makes
// (a bucket deletion's nested deletions, ...) are not.
Status Bucket::Put(Bytes key, Bytes value) {
  if (!impl_) return Status(Code::kBucketNotFound);
  Status s = impl_->Put(key, value);
  TxImpl* tx = impl_->tx;
  if (s.ok() && tx->Logs(impl_)) tx->wal_ops->Put(tx->WalHandle(impl_), key, value);
  return s;
}
Status Bucket::Delete(Bytes key) {
  if (!impl_) return Status(Code::kBucketNotFound);
  Status s = impl_->Delete(key);
  TxImpl* tx = impl_->tx;
  if (s.ok() && tx->Logs(impl_)) tx->wal_ops->Delete(tx->WalHandle(impl_), key);
  return s;
}
Bucket Bucket::GetBucket(Bytes name) const { return Bucket(impl_ ? impl_->Child(name) : nullptr); }

Result<Bucket> Bucket::CreateBucket(Bytes name) {
  if (!impl_) return Status(Code::kBucketNotFound);
  auto r = impl_->CreateChild(name);
  if (!r.ok()) return r.status();
  impl_->tx->LogCreate(impl_, *r);
  return Bucket(*r);
}

Result<Bucket> Bucket::CreateBucketIfNotExists(Bytes name) {
  if (!impl_) return Status(Code::kBucketNotFound);
  auto r = impl_->CreateChild(name);
  if (r.ok()) {
    impl_->tx->LogCreate(impl_, *r);
    return Bucket(*r);
  }
  if (r.status().code() != Code::kBucketExists) return r.status();
  BucketImpl* child = impl_->Child(name);
  if (!child) return impl_->tx->error.ok() ? Status(Code::kBucketNotFound) : impl_->tx->error;
  return Bucket(child);
}

Status Bucket::DeleteBucket(Bytes name) {
  if (!impl_) return Status(Code::kBucketNotFound);
  Status s = impl_->DeleteChild(name);
  TxImpl* tx = impl_->tx;
  if (s.ok() && tx->Logs(impl_)) tx->wal_ops->DeleteBucket(tx->WalHandle(impl_), name);
  return s;
}

Status Bucket::MoveBucket(Bytes name, Bucket dst) {
  if (!impl_) return Status(Code::kBucketNotFound);
  BucketImpl* d = dst.impl_;
  if (!d) {
    if (impl_->tx->closed) return Status(Code::kTxClosed);
    d = impl_->tx->root;
  }
  Status s = impl_->MoveChild(name, d);
  TxImpl* tx = impl_->tx;
  if (s.ok() && tx->Logs(impl_)) {
    const uint32_t src = tx->WalHandle(impl_);
    tx->wal_ops->Move(src, name, tx->WalHandle(d));
  }
  return s;
}

uint64_t Bucket::Sequence() const { return impl_ ? impl_->header.sequence : 0; }
Status Bucket::SetSequence(uint64_t v) {
  if (!impl_) return Status(Code::kBucketNotFound);
  Status s = impl_->SetSequence(v);
  TxImpl* tx = impl_->tx;
  if (s.ok() && tx->Logs(impl_)) tx->wal_ops->SetSequence(tx->WalHandle(impl_), v);
  return s;
}
Result<uint64_t> Bucket::NextSequence() {
  if (!impl_) return Status(Code::kBucketNotFound);
  auto r = impl_->NextSequence();
  TxImpl* tx = impl_->tx;
  if (r.ok() && tx->Logs(impl_)) tx->wal_ops->SetSequence(tx->WalHandle(impl_), *r);
  return r;
}

Status Bucket::ForEach(const std::function<Status(const Entry&)>& fn) const {
  return impl_ ? impl_->ForEach(fn) : Status(Code::kBucketNotFound);
}

Status Bucket::ForEachBucket(const std::function<Status(Bytes)>& fn) const {
  return ForEach([&](const Entry& e) { return e.is_bucket ? fn(e.key) : Status::OK(); });
}

BucketStats Bucket::Stats() const {
  return impl_ && !impl_->tx->closed ? impl_->Stats() : BucketStats{};
}
Cursor Bucket::NewCursor() const {
  return impl_ ? Cursor(std::make_unique<CursorImpl>(impl_)) : Cursor();
}
void Bucket::SetFillPercent(double fill) {
  if (impl_) impl_->fill_percent = fill;
}
double Bucket::FillPercent() const { return impl_ ? impl_->fill_percent : kDefaultFillPercent; }
uint64_t Bucket::Root() const { return impl_ ? impl_->header.root : 0; }
bool Bucket::Writable() const { return impl_ && impl_->tx->writable; }

// ---- Cursor ----
Cursor::Cursor() = default;
Cursor::Cursor(std::unique_ptr<CursorImpl> impl) : impl_(std::move(impl)) {}
Cursor::Cursor(Cursor&&) noexcept = default;
Cursor& Cursor::operator=(Cursor&&) noexcept = default;
Cursor::~Cursor() = default;

static bool Usable(const std::unique_ptr<CursorImpl>& c) { return c && !c->bucket()->tx->closed; }

std::optional<Entry> Cursor::First() { return Usable(impl_) ? impl_->First() : std::nullopt; }
std::optional<Entry> Cursor::Last() { return Usable(impl_) ? impl_->Last() : std::nullopt; }
std::optional<Entry> Cursor::Next() { return Usable(impl_) ? impl_->Next() : std::nullopt; }
std::optional<Entry> Cursor::Prev() { return Usable(impl_) ? impl_->Prev() : std::nullopt; }
std::optional<Entry> Cursor::Seek(Bytes key) {
  return Usable(impl_) ? impl_->Seek(key) : std::nullopt;
}
Status Cursor::Delete() {
  if (!impl_) return Status(Code::kBucketNotFound);
  BucketImpl* b = impl_->bucket();
  if (b->tx->closed) return Status(Code::kTxClosed);
  Status s = impl_->Delete();
  if (s.ok() && b->tx->Logs(b)) {
    if (auto key = impl_->deleted_key()) b->tx->wal_ops->Delete(b->tx->WalHandle(b), *key);
  }
  return s;
}
Status Cursor::Put(Bytes key, Bytes value) {
  if (!impl_) return Status(Code::kBucketNotFound);
  BucketImpl* b = impl_->bucket();
  if (b->tx->closed) return Status(Code::kTxClosed);
  Status s = impl_->Put(key, value);
  if (s.ok() && b->tx->Logs(b)) b->tx->wal_ops->Put(b->tx->WalHandle(b), key, value);
  return s;
}
Status Cursor::status() const {
  if (!impl_) return Status::OK();
  if (impl_->bucket()->tx->closed) return Status(Code::kTxClosed);
  return impl_->status();
}
Bucket Cursor::bucket() const { return Bucket(impl_ ? impl_->bucket() : nullptr); }

}  // namespace boltpp
