// File: tests/testutil/fault_fs.cc
#include "testutil/fault_fs.h"

#include <algorithm>
#include <iterator>

namespace boltpp::testing {

const char* FaultOpName(FaultOp op) {
  static constexpr const char* kNames[] = {"open", "read", "write",  "sync", "truncate",
                                           "size", "lock", "unlock", "map"};  // FaultOp order
  static_assert(std::size(kNames) == static_cast<size_t>(FaultOp::kNumOps));
  const auto i = static_cast<size_t>(op);
  return i < std::size(kNames) ? kNames[i] : "?";
}

void FaultInjector::Arm(FaultPlan plan) {
  std::lock_guard<std::mutex> l(mu_);
  Rule& r = rules_[static_cast<int>(plan.op)];
  r.armed = true;
  r.persistent = plan.persistent;
  r.torn = plan.torn;
  r.fired = false;
  r.countdown = plan.nth < 1 ? 1 : plan.nth;
  r.error = std::move(plan.error);
}

void FaultInjector::Clear(FaultOp op) {
  std::lock_guard<std::mutex> l(mu_);
  rules_[static_cast<int>(op)] = Rule();
}

void FaultInjector::ClearAll() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& r : rules_) r = Rule();
  hook_ = nullptr;
}

void FaultInjector::SetHook(Hook hook) {
  std::lock_guard<std::mutex> l(mu_);
  hook_ = std::move(hook);
}

void FaultInjector::SetPathFilter(std::string suffix) {
  std::lock_guard<std::mutex> l(mu_);
  path_filter_ = std::move(suffix);
}

void FaultInjector::SetMetaPageSize(uint32_t page_size) {
  std::lock_guard<std::mutex> l(mu_);
  meta_page_size_ = page_size;
}

int64_t FaultInjector::count(FaultOp op) const {
  std::lock_guard<std::mutex> l(mu_);
  return counts_[static_cast<int>(op)];
}

int64_t FaultInjector::injected(FaultOp op) const {
  std::lock_guard<std::mutex> l(mu_);
  return injected_[static_cast<int>(op)];
}

int64_t FaultInjector::total_injected() const {
  std::lock_guard<std::mutex> l(mu_);
  int64_t t = 0;
  for (auto v : injected_) t += v;
  return t;
}

std::vector<FaultEvent> FaultInjector::injected_events() const {
  std::lock_guard<std::mutex> l(mu_);
  return injected_events_;
}

bool FaultInjector::armed(FaultOp op) const {
  std::lock_guard<std::mutex> l(mu_);
  const Rule& r = rules_[static_cast<int>(op)];
  return r.armed && !r.fired;
}

void FaultInjector::ResetCounts() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& c : counts_) c = 0;
  for (auto& c : injected_) c = 0;
  injected_events_.clear();
}

void FaultInjector::set_recording(bool on) {
  std::lock_guard<std::mutex> l(mu_);
  recording_ = on;
}

std::vector<FaultEvent> FaultInjector::events() const {
  std::lock_guard<std::mutex> l(mu_);
  return events_;
}

void FaultInjector::ClearEvents() {
  std::lock_guard<std::mutex> l(mu_);
  events_.clear();
}

namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Half the sectors of a write of n bytes (rounded down to whole sectors).
size_t TornBytes(size_t n) { return (n / 2) / 512 * 512; }

}  // namespace

Status FaultInjector::OnOp(FaultEvent ev, size_t* torn_bytes) {
  Hook hook;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!path_filter_.empty() && !EndsWith(ev.path, path_filter_)) return Status::OK();
    ev.seq = ++counts_[static_cast<int>(ev.op)];
    if (ev.op == FaultOp::kWrite) {
      ev.meta = ev.offset < 2 * uint64_t{meta_page_size_};
    } else if (ev.op == FaultOp::kSync) {
      ev.meta = last_write_meta_;
    }
    if (recording_) events_.push_back(ev);
    hook = hook_;
  }
  // The hook runs unlocked so that it may call back into the injector.
  if (hook) {
    Status s = hook(ev);
    if (!s.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      return Inject(std::move(ev), std::move(s));
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  if (!RuleFires(ev)) {
    if (ev.op == FaultOp::kWrite) last_write_meta_ = ev.meta;
    return Status::OK();
  }
  const Rule& r = rules_[static_cast<int>(ev.op)];
  if (r.torn && ev.op == FaultOp::kWrite && torn_bytes != nullptr) {
    *torn_bytes = std::min(ev.length, TornBytes(ev.length));
    if (*torn_bytes > 0) last_write_meta_ = ev.meta;
  }
  Status error = r.error.ok()
                     ? Status(Code::kIOError, std::string("injected fault: ") + FaultOpName(ev.op) +
                                                  " #" + std::to_string(ev.seq))
                     : r.error;
  return Inject(std::move(ev), std::move(error));
}

bool FaultInjector::RuleFires(const FaultEvent& ev) {
  Rule& r = rules_[static_cast<int>(ev.op)];
  if (!r.armed) return false;
  bool fail = false;
  if (r.fired) {
    fail = r.persistent;
  } else if (--r.countdown <= 0) {
    r.fired = true;
    fail = true;
  }
  if (fail && !r.persistent) r.armed = false;
  return fail;
}

Status FaultInjector::Inject(FaultEvent ev, Status error) {
  ++injected_[static_cast<int>(ev.op)];
  injected_events_.push_back(std::move(ev));
  return error;
}

Status FaultFile::Ask(FaultOp op, uint64_t offset, size_t length, bool flag, size_t* torn_bytes) {
  FaultEvent ev;
  ev.op = op;
  ev.path = path_;
  ev.offset = offset;
  ev.length = length;
  ev.flag = flag;
  return inj_->OnOp(std::move(ev), torn_bytes);
}

Status FaultFile::ReadAt(uint64_t o, void* b, size_t n) {
  Status s = Ask(FaultOp::kRead, o, n);
  if (!s.ok()) return s;
  return FileWrapper::ReadAt(o, b, n);
}

Status FaultFile::WriteAt(uint64_t o, const void* b, size_t n) {
  size_t torn_bytes = 0;
  Status s = Ask(FaultOp::kWrite, o, n, false, &torn_bytes);
  if (!s.ok()) {
    if (torn_bytes > 0) (void)FileWrapper::WriteAt(o, b, torn_bytes);
    return s;
  }
  return FileWrapper::WriteAt(o, b, n);
}

Status FaultFile::Sync() {
  Status s = Ask(FaultOp::kSync);
  if (!s.ok()) return s;
  return FileWrapper::Sync();
}

Status FaultFile::Truncate(uint64_t size, bool sync) {
  Status s = Ask(FaultOp::kTruncate, size, 0, sync);
  if (!s.ok()) return s;
  return FileWrapper::Truncate(size, sync);
}

Result<uint64_t> FaultFile::Size() {
  Status s = Ask(FaultOp::kSize);
  if (!s.ok()) return s;
  return FileWrapper::Size();
}

Status FaultFile::TryLock(bool exclusive) {
  Status s = Ask(FaultOp::kLock, 0, 0, exclusive);
  if (!s.ok()) return s;
  return FileWrapper::TryLock(exclusive);
}

Status FaultFile::Unlock() {
  Status s = Ask(FaultOp::kUnlock);
  if (!s.ok()) return s;
  return FileWrapper::Unlock();
}

Result<std::shared_ptr<const Mapping>> FaultFile::Map(size_t len, bool populate, bool mlock) {
  Status s = Ask(FaultOp::kMap, len);
  if (!s.ok()) return s;
  return FileWrapper::Map(len, populate, mlock);
}

FaultFileSystem::FaultFileSystem(FileSystem* target, uint32_t meta_page_size)
    : target_(target != nullptr ? target : FileSystem::Default()) {
  injector_.SetMetaPageSize(meta_page_size);
}

Result<std::unique_ptr<File>> FaultFileSystem::Open(const std::string& path,
                                                    const FileOpenOptions& opts) {
  FaultEvent ev;
  ev.op = FaultOp::kOpen;
  ev.path = path;
  ev.flag = opts.read_only;
  Status s = injector_.OnOp(std::move(ev));
  if (!s.ok()) return s;
  auto f = target_->Open(path, opts);
  if (!f.ok()) return f.status();
  std::unique_ptr<File> wrapped =
      std::make_unique<FaultFile>(std::move(f).value(), path, &injector_);
  return wrapped;
}

bool FaultFileSystem::Exists(const std::string& path) { return target_->Exists(path); }
Status FaultFileSystem::Remove(const std::string& path) { return target_->Remove(path); }
Result<uint32_t> FaultFileSystem::FileMode(const std::string& path) {
  return target_->FileMode(path);
}

}  // namespace boltpp::testing
