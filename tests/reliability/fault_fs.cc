// File: tests/reliability/fault_fs.cc
#include "reliability/fault_fs.h"

#include <algorithm>

namespace boltpp::reliability {

const char* FaultKindName(FaultKind k) {
  switch (k) {
    case FaultKind::kRead: return "read";
    case FaultKind::kWrite: return "write";
    case FaultKind::kSync: return "sync";
    case FaultKind::kTruncate: return "truncate";
    case FaultKind::kMap: return "map";
    case FaultKind::kLock: return "lock";
    default: return "?";
  }
}

namespace {

class FaultFile final : public FileWrapper {
 public:
  FaultFile(std::unique_ptr<File> t, FaultFS* fs) : FileWrapper(std::move(t)), fs_(fs) {}

  Status ReadAt(uint64_t o, void* b, size_t n) override {
    if (Status s = fs_->Ask(FaultKind::kRead, o, n); !s.ok()) return s;
    return FileWrapper::ReadAt(o, b, n);
  }
  Status WriteAt(uint64_t o, const void* b, size_t n) override {
    size_t torn = 0;
    if (Status s = fs_->Ask(FaultKind::kWrite, o, n, &torn); !s.ok()) {
      if (torn > 0) (void)FileWrapper::WriteAt(o, b, torn);
      return s;
    }
    return FileWrapper::WriteAt(o, b, n);
  }
  Status Sync() override {
    if (Status s = fs_->Ask(FaultKind::kSync, 0, 0); !s.ok()) return s;
    return FileWrapper::Sync();
  }
  Status Truncate(uint64_t size, bool sync) override {
    if (Status s = fs_->Ask(FaultKind::kTruncate, size, 0); !s.ok()) return s;
    return FileWrapper::Truncate(size, sync);
  }
  Status TryLock(bool exclusive) override {
    if (Status s = fs_->Ask(FaultKind::kLock, 0, 0); !s.ok()) return s;
    return FileWrapper::TryLock(exclusive);
  }
  Result<std::shared_ptr<const Mapping>> Map(size_t len, bool populate, bool mlock) override {
    if (Status s = fs_->Ask(FaultKind::kMap, len, 0); !s.ok()) return s;
    return FileWrapper::Map(len, populate, mlock);
  }

 private:
  FaultFS* fs_;
};

}  // namespace

void FaultFS::Arm(const FaultPlan& plan) {
  std::lock_guard<std::mutex> lk(mu_);
  plan_ = plan;
  fired_ = false;
  armed_at_ = counts_[static_cast<int>(plan.kind)];
}

void FaultFS::Disarm() {
  std::lock_guard<std::mutex> lk(mu_);
  plan_.nth = 0;
}

std::vector<FaultRecord> FaultFS::injected() const {
  std::lock_guard<std::mutex> lk(mu_);
  return injected_;
}

size_t FaultFS::injected_count() const {
  std::lock_guard<std::mutex> lk(mu_);
  return injected_.size();
}

int64_t FaultFS::count(FaultKind k) const {
  std::lock_guard<std::mutex> lk(mu_);
  return counts_[static_cast<int>(k)];
}

Status FaultFS::Ask(FaultKind k, uint64_t offset, size_t length, size_t* torn_bytes) {
  std::lock_guard<std::mutex> lk(mu_);
  const int64_t seq = ++counts_[static_cast<int>(k)];
  bool meta = false;
  if (k == FaultKind::kWrite) {
    meta = offset < 2 * uint64_t{page_size_};
  } else if (k == FaultKind::kSync) {
    meta = last_write_meta_;
  }
  bool fail = false;
  if (plan_.nth > 0 && k == plan_.kind) {
    const int64_t rel = seq - armed_at_;
    fail = plan_.persistent ? rel >= plan_.nth : rel == plan_.nth;
  }
  if (!fail) {
    if (k == FaultKind::kWrite) last_write_meta_ = meta;
    return Status::OK();
  }
  fired_ = true;
  injected_.push_back(FaultRecord{k, seq, offset, length, meta});
  if (k == FaultKind::kWrite && plan_.torn && torn_bytes) {
    // Half the sectors (rounded down) land before the error.
    *torn_bytes = std::min(length, (length / 2) / 512 * 512);
    if (*torn_bytes > 0) last_write_meta_ = meta;
  }
  return Status(Code::kIOError, std::string("injected fault: ") + FaultKindName(k) + " #" + std::to_string(seq));
}

Result<std::unique_ptr<File>> FaultFS::Open(const std::string& path, const FileOpenOptions& opts) {
  auto f = target_->Open(path, opts);
  if (!f.ok()) return f.status();
  return std::unique_ptr<File>(new FaultFile(std::move(*f), this));
}

}  // namespace boltpp::reliability
