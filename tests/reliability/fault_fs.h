// File: tests/reliability/fault_fs.h
// FaultFS: a FileSystem wrapper whose files fail the Nth operation of one
// kind (SQLite's do_faultsim_test, redb's countdown backend), once or from
// then on. It records every fault it injects, and whether it hit a meta page
// write or the sync that follows one (the only failures after which a
// commit may already be durable).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "boltpp/file.h"

namespace boltpp::reliability {

enum class FaultKind : int { kRead, kWrite, kSync, kTruncate, kMap, kLock, kNum };
const char* FaultKindName(FaultKind k);

struct FaultPlan {
  FaultKind kind = FaultKind::kWrite;
  int64_t nth = 0;          // 1-based; 0 = disarmed
  bool persistent = false;  // every later call of that kind fails too
  bool torn = false;        // a failing write first writes half its sectors
};

struct FaultRecord {
  FaultKind kind;
  int64_t seq;         // which call of this kind
  uint64_t offset;     // write/read offset, truncate size, map length
  size_t length;
  bool meta;           // a write to a meta page, or the sync right after one
};

class FaultFS : public FileSystem {
 public:
  // target: the file system that really holds the files (not owned).
  // page_size: used to recognize meta page writes (pages 0 and 1).
  FaultFS(FileSystem* target, uint32_t page_size) : target_(target), page_size_(page_size) {}

  void Arm(const FaultPlan& plan);
  void Disarm();
  // Faults injected so far, in order.
  std::vector<FaultRecord> injected() const;
  size_t injected_count() const;
  int64_t count(FaultKind k) const;

  Result<std::unique_ptr<File>> Open(const std::string& path, const FileOpenOptions& opts) override;
  bool Exists(const std::string& path) override { return target_->Exists(path); }
  Status Remove(const std::string& path) override { return target_->Remove(path); }
  Result<uint32_t> FileMode(const std::string& path) override { return target_->FileMode(path); }

  // Called by the files: counts the call; returns the error to inject.
  // *torn_bytes is set for a torn write (bytes to forward before failing).
  Status Ask(FaultKind k, uint64_t offset, size_t length, size_t* torn_bytes = nullptr);

 private:
  FileSystem* target_;
  const uint32_t page_size_;
  mutable std::mutex mu_;
  FaultPlan plan_;
  bool fired_ = false;
  int64_t counts_[static_cast<int>(FaultKind::kNum)] = {};
  int64_t armed_at_ = 0;  // counts_[plan.kind] when armed
  bool last_write_meta_ = false;
  std::vector<FaultRecord> injected_;
};

}  // namespace boltpp::reliability
