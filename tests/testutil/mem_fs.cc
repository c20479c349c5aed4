// File: tests/testutil/mem_fs.cc
#include "testutil/mem_fs.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <numeric>

namespace boltpp::testing {

const char* CrashModeName(CrashMode m) {
  static constexpr const char* kNames[] = {"drop-all",  "apply-all", "subset",
                                           "reordered", "torn",      "prefix"};
  const auto i = static_cast<size_t>(m);
  return i < std::size(kNames) ? kNames[i] : "?";
}

namespace {

void ApplyWrite(std::string* img, uint64_t off, const char* p, size_t n) {
  if (img->size() < off + n) img->resize(off + n, '\0');
  std::memcpy(img->data() + off, p, n);
}

void ApplyOp(std::string* img, const PendingOp& op) {
  if (op.kind == PendingOp::kTruncate) {
    img->resize(op.offset, '\0');
  } else {
    ApplyWrite(img, op.offset, op.data.data(), op.data.size());
  }
}

// A write cut into sector-aligned pieces (the first and last may be partial
// when the write is not aligned).
struct Piece {
  size_t op;
  size_t begin;  // within op.data
  size_t end;
};

std::vector<Piece> Sectors(const std::vector<PendingOp>& ops, size_t i) {
  std::vector<Piece> out;
  const PendingOp& op = ops[i];
  size_t pos = 0;
  while (pos < op.data.size()) {
    const uint64_t abs = op.offset + pos;
    const size_t to_boundary = kSectorSize - static_cast<size_t>(abs % kSectorSize);
    const size_t n = std::min(to_boundary, op.data.size() - pos);
    out.push_back({i, pos, pos + n});
    pos += n;
  }
  return out;
}

void ApplyPiece(std::string* img, const std::vector<PendingOp>& ops, const Piece& pc) {
  const PendingOp& op = ops[pc.op];
  ApplyWrite(img, op.offset + pc.begin, op.data.data() + pc.begin, pc.end - pc.begin);
}

}  // namespace

std::string MakeCrashImage(const CrashState& st, CrashMode m, std::mt19937_64& rng) {
  std::string img = *st.durable;
  const std::vector<PendingOp>& ops = *st.pending;
  std::bernoulli_distribution coin(0.5);
  switch (m) {
    case CrashMode::kDropAll:
      break;
    case CrashMode::kApplyAll:
      for (const PendingOp& op : ops) ApplyOp(&img, op);
      break;
    case CrashMode::kSubset:
      for (const PendingOp& op : ops) {
        if (coin(rng)) ApplyOp(&img, op);
      }
      break;
    case CrashMode::kReordered: {
      std::vector<size_t> idx(ops.size());
      std::iota(idx.begin(), idx.end(), 0);
      std::shuffle(idx.begin(), idx.end(), rng);
      for (size_t i : idx) {
        if (coin(rng)) ApplyOp(&img, ops[i]);
      }
      break;
    }
    case CrashMode::kTorn: {
      // Truncates are atomic; writes land sector by sector in any order.
      std::vector<Piece> pieces;
      std::vector<size_t> truncs;
      for (size_t i = 0; i < ops.size(); i++) {
        if (ops[i].kind == PendingOp::kTruncate) {
          truncs.push_back(i);
        } else {
          auto s = Sectors(ops, i);
          pieces.insert(pieces.end(), s.begin(), s.end());
        }
      }
      for (size_t i : truncs) {
        if (coin(rng)) ApplyOp(&img, ops[i]);
      }
      std::shuffle(pieces.begin(), pieces.end(), rng);
      for (const Piece& pc : pieces) {
        if (coin(rng)) ApplyPiece(&img, ops, pc);
      }
      break;
    }
    case CrashMode::kPrefix: {
      if (ops.empty()) break;
      const size_t k = std::uniform_int_distribution<size_t>(0, ops.size() - 1)(rng);
      for (size_t i = 0; i < k; i++) ApplyOp(&img, ops[i]);
      if (ops[k].kind == PendingOp::kTruncate) {
        if (coin(rng)) ApplyOp(&img, ops[k]);
      } else {
        auto s = Sectors(ops, k);
        const size_t keep = std::uniform_int_distribution<size_t>(0, s.size())(rng);
        for (size_t i = 0; i < keep; i++) ApplyPiece(&img, ops, s[i]);
      }
      break;
    }
    default:
      break;
  }
  return img;
}

// ---------------------------------------------------------------------------

static size_t OsPage() {
  static const size_t ps = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return ps;
}

static size_t RoundUp(size_t n) { return (n + OsPage() - 1) / OsPage() * OsPage(); }

class MemStorage {
 public:
  MemStorage(MemFileSystem* fs, std::string path, size_t reserve, uint32_t mode)
      : fs_(fs), path_(std::move(path)), reserve_(RoundUp(reserve)), mode_(mode) {
    void* p =
        mmap(nullptr, reserve_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    base_ = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }
  ~MemStorage() {
    if (base_) munmap(base_, reserve_);
  }

  bool ok() const { return base_ != nullptr; }
  const uint8_t* base() const { return base_; }
  size_t reserve() const { return reserve_; }
  uint32_t mode() const { return mode_; }
  MemFileSystem* fs() const { return fs_; }
  const std::string& path() const { return path_; }

  Status ReadAt(uint64_t off, void* buf, size_t n) {
    std::lock_guard<std::mutex> lk(mu_);
    if (off > size_ || n > size_ - off) return Status(Code::kIOError, "unexpected EOF");
    std::memcpy(buf, base_ + off, n);
    return Status::OK();
  }

  Status WriteAt(uint64_t off, const void* buf, size_t n) {
    std::lock_guard<std::mutex> lk(mu_);
    if (off + n > reserve_)
      return Status(Code::kIOError, "write: no space left on device (mem reserve)");
    if (off + n > size_) Resize(off + n);
    std::memcpy(base_ + off, buf, n);
    pending_.push_back(
        PendingOp{PendingOp::kWrite, off, std::string(static_cast<const char*>(buf), n)});
    return Status::OK();
  }

  Status Truncate(uint64_t size) {
    std::lock_guard<std::mutex> lk(mu_);
    if (size > reserve_)
      return Status(Code::kIOError, "truncate: no space left on device (mem reserve)");
    Resize(size);
    pending_.push_back(PendingOp{PendingOp::kTruncate, size, {}});
    return Status::OK();
  }

  void Sync() {
    std::shared_ptr<MemFileSystem::SyncHook> hook;
    {
      std::lock_guard<std::mutex> lk(fs_->mu_);
      hook = fs_->hook_;
      fs_->syncs_++;
    }
    std::lock_guard<std::mutex> lk(mu_);
    if (hook && *hook && !pending_.empty()) (*hook)(path_, CrashState{&durable_, &pending_});
    for (const PendingOp& op : pending_) ApplyOp(&durable_, op);
    pending_.clear();
  }

  void CountMap() {
    std::lock_guard<std::mutex> lk(fs_->mu_);
    fs_->maps_++;
  }

  uint64_t size() {
    std::lock_guard<std::mutex> lk(mu_);
    return size_;
  }

  void Replace(const std::string& bytes) {
    std::lock_guard<std::mutex> lk(mu_);
    Resize(bytes.size());
    if (!bytes.empty()) std::memcpy(base_, bytes.data(), bytes.size());
    durable_ = bytes;
    pending_.clear();
  }

  std::string Live() {
    std::lock_guard<std::mutex> lk(mu_);
    return std::string(reinterpret_cast<const char*>(base_), size_);
  }
  std::string Durable() {
    std::lock_guard<std::mutex> lk(mu_);
    return durable_;
  }

  // flock-like: any number of shared holders or one exclusive.
  bool TryLock(bool exclusive) {
    std::lock_guard<std::mutex> lk(mu_);
    if (exclusive_) return false;
    if (exclusive && shared_ > 0) return false;
    if (exclusive) {
      exclusive_ = true;
    } else {
      shared_++;
    }
    return true;
  }
  void Unlock(bool exclusive) {
    std::lock_guard<std::mutex> lk(mu_);
    if (exclusive) {
      exclusive_ = false;
    } else if (shared_ > 0) {
      shared_--;
    }
  }

 private:
  // Keeps [0, size) readable and writable, zero past size within the last
  // OS page, and PROT_NONE beyond it.
  void Resize(uint64_t size) {
    const size_t want = RoundUp(size);
    if (want > accessible_) {
      mprotect(base_ + accessible_, want - accessible_, PROT_READ | PROT_WRITE);
    } else if (want < accessible_) {
      madvise(base_ + want, accessible_ - want, MADV_DONTNEED);
      mprotect(base_ + want, accessible_ - want, PROT_NONE);
    }
    accessible_ = want;
    if (size < size_)
      std::memset(base_ + size, 0, std::min<size_t>(size_, want) - std::min<size_t>(size, want));
    size_ = size;
  }

  MemFileSystem* fs_;
  std::string path_;
  const size_t reserve_;
  const uint32_t mode_;
  uint8_t* base_ = nullptr;
  std::mutex mu_;
  uint64_t size_ = 0;
  size_t accessible_ = 0;
  std::string durable_;
  std::vector<PendingOp> pending_;
  int shared_ = 0;
  bool exclusive_ = false;
};

namespace {

class MemMapping final : public Mapping {
 public:
  MemMapping(std::shared_ptr<MemStorage> s, size_t len) : s_(std::move(s)), len_(len) {}
  const uint8_t* data() const override { return s_->base(); }
  size_t size() const override { return len_; }

 private:
  std::shared_ptr<MemStorage> s_;
  size_t len_;
};

class MemFile final : public File {
 public:
  MemFile(std::shared_ptr<MemStorage> s, bool read_only)
      : s_(std::move(s)), read_only_(read_only) {}
  ~MemFile() override {
    if (locked_) s_->Unlock(lock_exclusive_);
  }

  Status ReadAt(uint64_t o, void* b, size_t n) override { return s_->ReadAt(o, b, n); }
  Status WriteAt(uint64_t o, const void* b, size_t n) override {
    if (read_only_) return Status(Code::kIOError, "write: bad file descriptor");
    return s_->WriteAt(o, b, n);
  }
  Status Sync() override {
    s_->Sync();
    return Status::OK();
  }
  Status Truncate(uint64_t size, bool sync) override {
    if (read_only_) return Status(Code::kIOError, "truncate: invalid argument");
    if (Status s = s_->Truncate(size); !s.ok()) return s;
    if (sync) s_->Sync();
    return Status::OK();
  }
  Result<uint64_t> Size() override { return s_->size(); }
  Status TryLock(bool exclusive) override {
    if (locked_) s_->Unlock(lock_exclusive_), locked_ = false;
    if (!s_->TryLock(exclusive))
      return Status(Code::kTimeout, "database is locked by another process");
    locked_ = true;
    lock_exclusive_ = exclusive;
    return Status::OK();
  }
  Status Unlock() override {
    if (locked_) s_->Unlock(lock_exclusive_);
    locked_ = false;
    return Status::OK();
  }
  Result<std::shared_ptr<const Mapping>> Map(size_t length, bool, bool) override {
    if (length > s_->reserve()) {
      return Status(Code::kIOError, "mmap: cannot allocate memory (length " +
                                        std::to_string(length) +
                                        " beyond the in-memory file's reserve)");
    }
    s_->CountMap();
    return std::shared_ptr<const Mapping>(std::make_shared<MemMapping>(s_, length));
  }

 private:
  std::shared_ptr<MemStorage> s_;
  bool read_only_;
  bool locked_ = false;
  bool lock_exclusive_ = false;
};

}  // namespace

MemFileSystem::MemFileSystem(size_t reserve) : reserve_(reserve) {}
MemFileSystem::~MemFileSystem() = default;

std::shared_ptr<MemStorage> MemFileSystem::Find(const std::string& path) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : it->second;
}

Result<std::unique_ptr<File>> MemFileSystem::Open(const std::string& path,
                                                  const FileOpenOptions& opts) {
  std::shared_ptr<MemStorage> s = Find(path);
  if (!s) {
    if (opts.read_only || !opts.create)
      return Status(Code::kIOError, "open " + path + ": no such file or directory");
    s = std::make_shared<MemStorage>(this, path, reserve_, opts.mode);
    if (!s->ok()) return Status(Code::kIOError, "open " + path + ": cannot reserve memory");
    std::lock_guard<std::mutex> lk(mu_);
    files_[path] = s;
  }
  return std::unique_ptr<File>(new MemFile(std::move(s), opts.read_only));
}

bool MemFileSystem::Exists(const std::string& path) { return Find(path) != nullptr; }

Status MemFileSystem::Remove(const std::string& path) {
  std::lock_guard<std::mutex> lk(mu_);
  if (files_.erase(path) == 0)
    return Status(Code::kIOError, "remove " + path + ": no such file or directory");
  return Status::OK();
}

Result<uint32_t> MemFileSystem::FileMode(const std::string& path) {
  auto s = Find(path);
  if (!s) return Status(Code::kIOError, "stat " + path + ": no such file or directory");
  return s->mode();
}

void MemFileSystem::PutFile(const std::string& path, const std::string& bytes) {
  std::shared_ptr<MemStorage> s = Find(path);
  if (!s) {
    s = std::make_shared<MemStorage>(this, path, std::max(reserve_, bytes.size()), 0600);
    std::lock_guard<std::mutex> lk(mu_);
    files_[path] = s;
  }
  s->Replace(bytes);
}

std::string MemFileSystem::LiveBytes(const std::string& path) {
  auto s = Find(path);
  return s ? s->Live() : std::string();
}

std::string MemFileSystem::DurableBytes(const std::string& path) {
  auto s = Find(path);
  return s ? s->Durable() : std::string();
}

void MemFileSystem::SetSyncHook(SyncHook hook) {
  std::lock_guard<std::mutex> lk(mu_);
  hook_ = hook ? std::make_shared<SyncHook>(std::move(hook)) : nullptr;
}

int64_t MemFileSystem::maps() const {
  std::lock_guard<std::mutex> lk(mu_);
  return maps_;
}

int64_t MemFileSystem::syncs() const {
  std::lock_guard<std::mutex> lk(mu_);
  return syncs_;
}

}  // namespace boltpp::testing
