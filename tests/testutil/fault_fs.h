// File: tests/testutil/fault_fs.h
// FaultFileSystem / FaultFile: a FileSystem whose files fail on purpose.
//
// Every File call is counted per kind (read, write, sync, truncate, map,
// lock, ...). A test arms a rule "fail the Nth <kind> from now", once
// (transient, SQLite's "fail once") or from then on (persistent, "fail
// forever"), or installs a hook that sees every call and decides. The
// injected error is Status(kIOError, "injected fault: <kind> #N") unless the
// test gives another. The counters make it easy to loop N = 1, 2, ... until
// no fault fires (SQLite do_faultsim_test).
//
//   FaultFileSystem fs;
//   Options o; o.file_system = &fs;
//   ... open ...
//   fs.injector().FailNth(FaultOp::kSync, 1);   // the next sync fails
//
// The file system must outlive every DB opened through it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "boltpp/file.h"
#include "boltpp/status.h"

namespace boltpp::testing {

enum class FaultOp : int {
  kOpen = 0,
  kRead,
  kWrite,
  kSync,
  kTruncate,
  kSize,
  kLock,
  kUnlock,
  kMap,
  kNumOps,
};
const char* FaultOpName(FaultOp op);

struct FaultEvent {
  FaultOp op = FaultOp::kOpen;
  std::string path;
  uint64_t offset = 0;  // ReadAt/WriteAt offset; Truncate size; Map length
  size_t length = 0;    // ReadAt/WriteAt length
  bool flag = false;    // Truncate: sync; TryLock: exclusive
  int64_t seq = 0;      // 1-based count of this kind of call so far
};

class FaultInjector {
 public:
  using Hook = std::function<Status(const FaultEvent&)>;

  // Fails the nth call of kind `op` from now (n = 1: the next one). When
  // persistent, every later call of that kind fails too, until Clear.
  void FailNth(FaultOp op, int64_t n, bool persistent = false, Status error = Status());
  void FailAlways(FaultOp op, Status error = Status()) { FailNth(op, 1, true, std::move(error)); }
  void Clear(FaultOp op);
  // Clears every rule and the hook (counters are kept).
  void ClearAll();

  // Called for every call (before the rules); a non-OK result fails it.
  void SetHook(Hook hook);

  // Only paths ending with this suffix are affected (empty: all files).
  void SetPathFilter(std::string suffix);

  int64_t count(FaultOp op) const;
  int64_t injected(FaultOp op) const;
  int64_t total_injected() const;
  // True while a rule for op is armed and has not fired yet.
  bool armed(FaultOp op) const;
  void ResetCounts();

  // Keeps a log of every call while on (for tests that inspect sync flags,
  // write offsets, ...).
  void set_recording(bool on);
  std::vector<FaultEvent> events() const;
  void ClearEvents();

  // Used by FaultFile: counts the call and returns the error to inject, if any.
  Status OnOp(FaultEvent ev);

 private:
  struct Rule {
    bool armed = false;
    bool persistent = false;
    bool fired = false;
    int64_t countdown = 0;
    Status error;
  };
  static constexpr int kN = static_cast<int>(FaultOp::kNumOps);

  mutable std::mutex mu_;
  Rule rules_[kN];
  int64_t counts_[kN] = {};
  int64_t injected_[kN] = {};
  Hook hook_;
  std::string path_filter_;
  bool recording_ = false;
  std::vector<FaultEvent> events_;
};

// A File that asks the injector before forwarding each call.
class FaultFile : public FileWrapper {
 public:
  FaultFile(std::unique_ptr<File> target, std::string path, FaultInjector* injector)
      : FileWrapper(std::move(target)), path_(std::move(path)), inj_(injector) {}

  Status ReadAt(uint64_t o, void* b, size_t n) override;
  Status WriteAt(uint64_t o, const void* b, size_t n) override;
  Status Sync() override;
  Status Truncate(uint64_t s, bool sync) override;
  Result<uint64_t> Size() override;
  Status TryLock(bool exclusive) override;
  Status Unlock() override;
  Result<std::shared_ptr<const Mapping>> Map(size_t len, bool populate, bool mlock) override;

  const std::string& path() const { return path_; }

 private:
  Status Ask(FaultOp op, uint64_t offset = 0, size_t length = 0, bool flag = false);

  std::string path_;
  FaultInjector* inj_;
};

class FaultFileSystem : public FileSystem {
 public:
  // target: where files really live (nullptr = FileSystem::Default()).
  explicit FaultFileSystem(FileSystem* target = nullptr);

  Result<std::unique_ptr<File>> Open(const std::string& path, const FileOpenOptions& opts) override;
  bool Exists(const std::string& path) override;
  Status Remove(const std::string& path) override;
  Result<uint32_t> FileMode(const std::string& path) override;

  FaultInjector& injector() { return injector_; }

 private:
  FileSystem* target_;
  FaultInjector injector_;
};

}  // namespace boltpp::testing
