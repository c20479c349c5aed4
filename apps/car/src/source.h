// Where a CarReader's bytes come from: a file read with pread, bytes in memory, or a
// forward-only stream read through a buffer. Internal to the library.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "boltpp/status.h"

namespace boltpp::car {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Makes [pos, pos + n) readable: returns a pointer to byte `pos` and sets
  // *got to the bytes available there (n, or fewer at the end of the input;
  // 0 past the end). The pointer stays valid until the next Fetch. Returns
  // nullptr only on an I/O error (*error set). A stream only moves forward.
  virtual const uint8_t* Fetch(uint64_t pos, size_t n, size_t* got, Status* error) = 0;
  virtual bool seekable() const = 0;
  // The input's size; UINT64_MAX when unknown (a stream).
  virtual uint64_t size() const = 0;
  // How many bytes to read at once when a Fetch misses the buffer (sources
  // that read through one); the reader lowers it while it skips large blocks.
  virtual void SetReadAhead(size_t) {}
};

// A file read with pread through a window that moves with the fetches:
// random access, bounded memory, no mapping (so RSS does not grow with the file).
// The window's buffer is taken from the constructing thread's spare one and
// left to the destroying thread as its spare (up to kMaxSpareBuffer bytes):
// a thread that reads file after file (an indexer, a DAG store worker)
// reuses one buffer whose pages are already mapped, where a new 1 MiB buffer
// costs 256 page faults on its first fill and an munmap after.
class FileSource : public ByteSource {
 public:
  static constexpr size_t kMaxSpareBuffer = size_t{4} << 20;
  FileSource(int fd, uint64_t size);
  ~FileSource() override;
  const uint8_t* Fetch(uint64_t pos, size_t n, size_t* got, Status* error) override;
  bool seekable() const override { return true; }
  uint64_t size() const override { return size_; }
  void SetReadAhead(size_t bytes) override { read_ahead_ = bytes; }

 private:
  int fd_;
  uint64_t size_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t capacity_ = 0;
  uint64_t window_pos_ = 0;
  size_t window_len_ = 0;
  size_t read_ahead_ = 1 << 20;
};

// Bytes in memory (not owned).
class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  const uint8_t* Fetch(uint64_t pos, size_t n, size_t* got, Status*) override {
    if (pos >= bytes_.size()) {
      static const uint8_t kNothing = 0;
      *got = 0;
      return &kNothing;  // not nullptr, which means an I/O error
    }
    const uint64_t left = bytes_.size() - pos;
    *got = n < left ? n : static_cast<size_t>(left);
    return bytes_.data() + pos;
  }
  bool seekable() const override { return true; }
  uint64_t size() const override { return bytes_.size(); }

 private:
  std::span<const uint8_t> bytes_;
};

// Reads a file descriptor forward through a growable buffer (at least 1 MiB
// per read; as large as the largest section fetched).
class StreamSource : public ByteSource {
 public:
  explicit StreamSource(int fd) : fd_(fd) {}
  const uint8_t* Fetch(uint64_t pos, size_t n, size_t* got, Status* error) override;
  bool seekable() const override { return false; }
  uint64_t size() const override { return UINT64_MAX; }

 private:
  int fd_;
  std::vector<uint8_t> buf_;
  uint64_t buf_pos_ = 0;  // absolute position of buf_[begin_]
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
};

}  // namespace boltpp::car
