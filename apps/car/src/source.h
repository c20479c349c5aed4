// Where a CarReader's bytes come from: a mapped file, bytes in memory, or a
// forward-only stream read through a buffer. Internal to the library.
#pragma once

#include <cstdint>
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
  // All bytes (seekable sources only).
  virtual std::span<const uint8_t> all() const { return {}; }
};

// Bytes in memory (not owned), or a mapped file (owned: unmapped on destruction).
class MemorySource : public ByteSource {
 public:
  MemorySource(std::span<const uint8_t> bytes, bool owns_mapping)
      : bytes_(bytes), owns_mapping_(owns_mapping) {}
  ~MemorySource() override;
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
  std::span<const uint8_t> all() const override { return bytes_; }

 private:
  std::span<const uint8_t> bytes_;
  bool owns_mapping_;
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
