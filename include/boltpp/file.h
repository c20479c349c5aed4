// File: boltpp/file.h
// The seam between the engine and the operating system. Every byte boltpp
// reads or writes, every sync, truncate, lock and map goes through these
// interfaces, so tests can fail any operation on purpose or simulate a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "boltpp/export.h"
#include "boltpp/status.h"

namespace boltpp {

// A read-only view of the first size() bytes of a file. The memory stays
// valid, and shows later WriteAt calls on the same file (a unified buffer
// cache, as bbolt assumes), for as long as the Mapping object lives. Bytes
// past the end of the file must not be read.
class BOLTPP_EXPORT Mapping {
 public:
  virtual ~Mapping() = default;
  virtual const uint8_t* data() const = 0;
  virtual size_t size() const = 0;
};

class BOLTPP_EXPORT File {
 public:
  virtual ~File() = default;

  // Reads exactly n bytes at offset, or fails (a short file is kIOError
  // "unexpected EOF").
  virtual Status ReadAt(uint64_t offset, void* buf, size_t n) = 0;
  virtual Status WriteAt(uint64_t offset, const void* buf, size_t n) = 0;
  // fdatasync: data written so far survives a power cut once this returns.
  virtual Status Sync() = 0;
  // Sets the file's length; also syncs the size change when sync is true.
  virtual Status Truncate(uint64_t size, bool sync) = 0;
  virtual Result<uint64_t> Size() = 0;
  // One non-blocking attempt at an advisory lock; kTimeout when another
  // holder has it. The caller retries.
  virtual Status TryLock(bool exclusive) = 0;
  virtual Status Unlock() = 0;
  // Maps `length` bytes (may exceed the file's size) read-only.
  virtual Result<std::shared_ptr<const Mapping>> Map(size_t length, bool populate, bool mlock) = 0;
};

struct FileOpenOptions {
  bool read_only = false;
  bool create = true;
  uint32_t mode = 0600;
};

class BOLTPP_EXPORT FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual Result<std::unique_ptr<File>> Open(const std::string& path,
                                             const FileOpenOptions& opts) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual Status Remove(const std::string& path) = 0;
  virtual Result<uint32_t> FileMode(const std::string& path) = 0;

  // The process-wide POSIX file system (never null, never freed).
  static FileSystem* Default();
};

// Forwards every call to a target; override only what a test needs to fail.
class BOLTPP_EXPORT FileWrapper : public File {
 public:
  explicit FileWrapper(std::unique_ptr<File> target) : target_(std::move(target)) {}
  Status ReadAt(uint64_t o, void* b, size_t n) override { return target_->ReadAt(o, b, n); }
  Status WriteAt(uint64_t o, const void* b, size_t n) override { return target_->WriteAt(o, b, n); }
  Status Sync() override { return target_->Sync(); }
  Status Truncate(uint64_t s, bool sync) override { return target_->Truncate(s, sync); }
  Result<uint64_t> Size() override { return target_->Size(); }
  Status TryLock(bool exclusive) override { return target_->TryLock(exclusive); }
  Status Unlock() override { return target_->Unlock(); }
  Result<std::shared_ptr<const Mapping>> Map(size_t len, bool populate, bool mlock) override {
    return target_->Map(len, populate, mlock);
  }
  File* target() { return target_.get(); }

 private:
  std::unique_ptr<File> target_;
};

}  // namespace boltpp
