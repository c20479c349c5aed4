// File: src/os/posix_file.cc
// The POSIX implementation of File and FileSystem: pread/pwrite, fdatasync,
// flock, and a read-only shared mmap (bbolt's bolt_unix.go).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "boltpp/file.h"
#include "os/fd.h"

namespace boltpp {
namespace {

using os::PreadFull;
using os::PwriteFull;

Status Errno(const char* op, int err) {
  return Status(Code::kIOError, std::string(op) + ": " + std::strerror(err));
}

class PosixMapping final : public Mapping {
 public:
  PosixMapping(const uint8_t* data, size_t size, size_t locked)
      : data_(data), size_(size), locked_(locked) {}
  ~PosixMapping() override {
    if (locked_ > 0) munlock(data_, locked_);
    munmap(const_cast<uint8_t*>(data_), size_);
  }
  const uint8_t* data() const override { return data_; }
  size_t size() const override { return size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t locked_;
};

class PosixFile final : public File {
 public:
  explicit PosixFile(int fd) : fd_(fd) {}
  ~PosixFile() override { close(fd_); }

  Status ReadAt(uint64_t offset, void* buf, size_t n) override {
    ssize_t r = PreadFull(fd_, buf, n, offset);
    if (r < 0) return Errno("read", errno);
    if (static_cast<size_t>(r) < n) return Status(Code::kIOError, "unexpected EOF");
    return Status::OK();
  }

  Status WriteAt(uint64_t offset, const void* buf, size_t n) override {
    if (!PwriteFull(fd_, buf, n, offset)) return Errno("write", errno);
    return Status::OK();
  }

  Status Sync() override {
    if (fdatasync(fd_) != 0) return Errno("fdatasync", errno);
    return Status::OK();
  }

  Status Truncate(uint64_t size, bool sync) override {
    if (ftruncate(fd_, static_cast<off_t>(size)) != 0) return Errno("truncate", errno);
    if (sync && fsync(fd_) != 0) return Errno("fsync", errno);
    return Status::OK();
  }

  Result<uint64_t> Size() override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return Errno("stat", errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status TryLock(bool exclusive) override {
    if (flock(fd_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) return Status::OK();
    if (errno == EWOULDBLOCK)
      return Status(Code::kTimeout, "database is locked by another process");
    return Errno("flock", errno);
  }

  Status Unlock() override {
    if (flock(fd_, LOCK_UN) != 0) return Errno("unlock", errno);
    return Status::OK();
  }

  Result<std::shared_ptr<const Mapping>> Map(size_t length, bool populate, bool lock) override {
    int flags = MAP_SHARED | (populate ? MAP_POPULATE : 0);
    void* p = mmap(nullptr, length, PROT_READ, flags, fd_, 0);
    if (p == MAP_FAILED) return Errno("mmap", errno);
    madvise(p, length, MADV_RANDOM);
    size_t locked = 0;
    if (lock) {
      auto size = Size();
      locked = size.ok() ? std::min<size_t>(length, *size) : 0;
      if (locked > 0 && mlock(p, locked) != 0) {
        int err = errno;
        munmap(p, length);
        return Errno("mlock", err);
      }
    }
    return std::shared_ptr<const Mapping>(
        std::make_shared<PosixMapping>(static_cast<const uint8_t*>(p), length, locked));
  }

 private:
  int fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> Open(const std::string& path,
                                     const FileOpenOptions& opts) override {
    int flags = O_CLOEXEC | (opts.read_only ? O_RDONLY : O_RDWR);
    if (opts.create && !opts.read_only) flags |= O_CREAT;
    int fd = open(path.c_str(), flags, opts.mode);
    if (fd < 0) return Errno(("open " + path).c_str(), errno);
    return std::unique_ptr<File>(new PosixFile(fd));
  }
  bool Exists(const std::string& path) override {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
  }
  Status Remove(const std::string& path) override {
    if (unlink(path.c_str()) != 0) return Errno(("remove " + path).c_str(), errno);
    return Status::OK();
  }
  Result<uint32_t> FileMode(const std::string& path) override {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return Errno(("stat " + path).c_str(), errno);
    return static_cast<uint32_t>(st.st_mode & 07777);
  }
};

}  // namespace

FileSystem* FileSystem::Default() {
  static PosixFileSystem* fs = new PosixFileSystem();
  return fs;
}

}  // namespace boltpp
