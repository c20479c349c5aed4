// File: tests/testutil/mem_fs.h
// MemFileSystem: files kept in memory, with what a power cut could leave.
//
// Each file lives in one large anonymous mapping reserved up front
// (PROT_NONE past the end of the file), so Map() can hand out a stable
// pointer that sees later writes, as the kernel's page cache does, and a read
// past the end of the file faults as SIGBUS would on a real mapped file.
//
// Besides the live bytes, a file remembers its durable image (what the last
// Sync made permanent) and the writes and truncates issued since, in order.
// MakeCrashImage() turns that into a file a crash could leave behind:
// unsynced operations dropped in any subset, reordered, or torn at 512-byte
// sectors. A sync hook lets a test look at every such state just before a
// Sync makes it durable, which is where the set of possible crash images is
// largest.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "boltpp/file.h"

namespace boltpp::testing {

// One write or truncate issued since the last sync.
struct PendingOp {
  enum Kind { kWrite, kTruncate };
  Kind kind = kWrite;
  uint64_t offset = 0;  // kWrite: where; kTruncate: the new size
  std::string data;     // kWrite: the bytes
};

// What a file holds durably and what is in flight.
struct CrashState {
  const std::string* durable = nullptr;
  const std::vector<PendingOp>* pending = nullptr;
};

enum class CrashMode {
  kDropAll,    // only the durable image
  kApplyAll,   // every pending op reached the disk
  kSubset,     // a random subset, in issue order
  kReordered,  // a random subset, in a random order
  kTorn,       // every pending write torn into 512-byte sectors, each kept or not, any order
  kPrefix,     // the first k ops in order, the k-th torn at a sector boundary
  kNumModes,
};
const char* CrashModeName(CrashMode m);
constexpr size_t kSectorSize = 512;

// The bytes of a file after a crash in state st, under mode m.
std::string MakeCrashImage(const CrashState& st, CrashMode m, std::mt19937_64& rng);

class MemStorage;

class MemFileSystem : public FileSystem {
 public:
  // reserve: address space per file (the largest Map() length allowed).
  explicit MemFileSystem(size_t reserve = size_t{256} << 20);
  ~MemFileSystem() override;

  Result<std::unique_ptr<File>> Open(const std::string& path, const FileOpenOptions& opts) override;
  bool Exists(const std::string& path) override;
  Status Remove(const std::string& path) override;
  Result<uint32_t> FileMode(const std::string& path) override;

  // Creates or replaces path with these bytes, all durable.
  void PutFile(const std::string& path, const std::string& bytes);
  // The live bytes of path (what a reader sees now), or "" when missing.
  std::string LiveBytes(const std::string& path);
  // The bytes that would survive a crash now with nothing unsynced landing.
  std::string DurableBytes(const std::string& path);

  // Called inside Sync (and Truncate with sync) of any file of this file
  // system, before the pending ops become durable. The hook must not use
  // this file system's files.
  using SyncHook = std::function<void(const std::string& path, const CrashState& st)>;
  void SetSyncHook(SyncHook hook);

  int64_t syncs() const;
  // Map() calls so far (the map's address never changes here, so this is
  // how a test sees remaps).
  int64_t maps() const;

 private:
  friend class MemStorage;
  std::shared_ptr<MemStorage> Find(const std::string& path);

  const size_t reserve_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<MemStorage>> files_;
  std::shared_ptr<SyncHook> hook_;
  int64_t syncs_ = 0;
  int64_t maps_ = 0;
};

}  // namespace boltpp::testing
