// File: tests/testutil/fault_fs.h
// FaultFileSystem / FaultFile: a FileSystem whose files fail on purpose.
//
// Every File call is counted per kind (read, write, sync, truncate, map,
// lock, ...). A test arms a rule "fail the Nth <kind> from now", once
// (transient, SQLite's "fail once") or from then on (persistent, "fail
// forever"), or installs a hook that sees every call and decides. The
// injected error is Status(kIOError, "injected fault: <kind> #N") unless the
// test gives another. The counters make it easy to loop N = 1, 2, ... until
// no fault fires (SQLite do_faultsim_test, redb's countdown backend).
//
// A failing write can be torn: half its 512-byte sectors land before the
// error. Every injected fault is logged (injected_events()); with
// SetMetaPageSize, a fault on a write to a meta page (pages 0 and 1), or on
// the sync that follows such a write, is tagged `meta`: the only failures
// after which a commit may already be durable.
//
// Lost unsynced writes and crash images are MemFileSystem's (mem_fs.h); a
// FaultFileSystem over a MemFileSystem has both.
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
  bool meta = false;    // a meta page write, or the sync right after one
};

// "Fail the nth call of kind op from now" (n = 1: the next one). When
// persistent, every later call of that kind fails too, until cleared. A torn
// write first forwards half its sectors (rounded down to 512 bytes).
struct FaultPlan {
  FaultOp op = FaultOp::kWrite;
  int64_t nth = 1;
  bool persistent = false;
  bool torn = false;
  Status error;  // OK: the default "injected fault: <kind> #N"
};

class FaultInjector {
 public:
  using Hook = std::function<Status(const FaultEvent&)>;

  // Arms plan.op's rule (replacing the one it had).
  void Arm(FaultPlan plan);
  // Fails the nth call of kind `op` from now (n = 1: the next one). When
  // persistent, every later call of that kind fails too, until Clear.
  void FailNth(FaultOp op, int64_t n, bool persistent = false, Status error = Status()) {
    Arm(FaultPlan{op, n, persistent, false, std::move(error)});
  }
  void FailAlways(FaultOp op, Status error = Status()) { FailNth(op, 1, true, std::move(error)); }
  void Clear(FaultOp op);
  // Clears every rule and the hook (counters are kept).
  void ClearAll();

  // Called for every call (before the rules); a non-OK result fails it.
  void SetHook(Hook hook);

  // Only paths ending with this suffix are affected (empty: all files).
  void SetPathFilter(std::string suffix);
  // Tags writes below 2 * page_size (and the sync after one) as meta (0: off).
  void SetMetaPageSize(uint32_t page_size);

  int64_t count(FaultOp op) const;
  int64_t injected(FaultOp op) const;
  int64_t total_injected() const;
  // Every fault injected so far (rules and hook), in order.
  std::vector<FaultEvent> injected_events() const;
  // True while a rule for op is armed and has not fired yet.
  bool armed(FaultOp op) const;
  // Zeroes the counters and forgets the injected_events().
  void ResetCounts();

  // Keeps a log of every call while on (for tests that inspect sync flags,
  // write offsets, ...).
  void set_recording(bool on);
  std::vector<FaultEvent> events() const;
  void ClearEvents();

  // Used by FaultFile: counts the call and returns the error to inject, if
  // any. For a torn write, *torn_bytes is how much to forward before failing.
  Status OnOp(FaultEvent ev, size_t* torn_bytes = nullptr);

 private:
  struct Rule {
    bool armed = false;
    bool persistent = false;
    bool torn = false;
    bool fired = false;
    int64_t countdown = 0;
    Status error;
  };
  // Whether the rule of ev.op fails this call (advancing its countdown).
  bool RuleFires(const FaultEvent& ev);
  Status Inject(FaultEvent ev, Status error);
  static constexpr int kN = static_cast<int>(FaultOp::kNumOps);

  mutable std::mutex mu_;
  Rule rules_[kN];
  int64_t counts_[kN] = {};
  int64_t injected_[kN] = {};
  Hook hook_;
  std::string path_filter_;
  uint32_t meta_page_size_ = 0;
  bool last_write_meta_ = false;
  bool recording_ = false;
  std::vector<FaultEvent> events_;
  std::vector<FaultEvent> injected_events_;
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
  Status Ask(FaultOp op, uint64_t offset = 0, size_t length = 0, bool flag = false,
             size_t* torn_bytes = nullptr);

  std::string path_;
  FaultInjector* inj_;
};

class FaultFileSystem : public FileSystem {
 public:
  // target: where files really live (nullptr = FileSystem::Default()).
  // meta_page_size: see FaultInjector::SetMetaPageSize (0: no meta tagging).
  explicit FaultFileSystem(FileSystem* target = nullptr, uint32_t meta_page_size = 0);

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
