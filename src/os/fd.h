// File: src/os/fd.h
// POSIX helpers shared by the engine's PosixFile and the command line's raw
// page access: an owning file descriptor, and positioned reads and writes
// that retry short transfers and EINTR. Header-only: each is a few lines.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace boltpp::os {

// Owns a file descriptor and closes it on destruction. Move-only.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Reads up to n bytes at offset, retrying short reads and EINTR. Returns the
// number of bytes read, which is less than n only at the end of the file, or
// -1 with errno set.
inline ssize_t PreadFull(int fd, void* buf, size_t n, uint64_t offset) {
  auto* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, p + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

// Writes all n bytes at offset, in pieces the kernel accepts (at most
// 0x7FFFF000 bytes a call), retrying EINTR. False with errno set on failure.
inline bool PwriteFull(int fd, const void* buf, size_t n, uint64_t offset) {
  const auto* p = static_cast<const char*>(buf);
  size_t done = 0;
  while (done < n) {
    size_t chunk = std::min<size_t>(n - done, 0x7FFFF000);
    ssize_t w = ::pwrite(fd, p + done, chunk, static_cast<off_t>(offset + done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    done += static_cast<size_t>(w);
  }
  return true;
}

}  // namespace boltpp::os
