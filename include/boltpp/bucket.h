// File: boltpp/bucket.h
// Bucket and Cursor: handles into a transaction's B+trees.
//
// Lifetime: a Bucket handle, a Cursor and every key or value view they return
// are valid until their transaction ends (commit or rollback). Views point
// straight into the memory map (zero copy) or into the transaction's arena.
// Thread safety: a transaction and everything obtained from it belong to one
// thread at a time.
//
// Damaged files: a read that meets a damaged page returns nothing (an empty
// optional or a null Bucket) and poisons the transaction; Tx::status(),
// Cursor::status(), View, Update and Commit then report kCorruption.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "boltpp/export.h"
#include "boltpp/stats.h"
#include "boltpp/status.h"

namespace boltpp {

// A non-owning view of bytes. Keys compare as unsigned bytes (memcmp order).
using Bytes = std::string_view;

// The order of keys in a bucket: byte-wise (memcmp, then shorter first), as
// bbolt's bytes.Compare and std::string_view's compare. Negative, zero or
// positive. The first 32 bytes are compared 8 at a time as big-endian words,
// without a call to memcmp: keys usually differ there, often after a shared
// prefix ("job-0000...", a multihash's code and length). For callers that
// sort or merge many keys the way the tree holds them.
inline int CompareKeys(Bytes a, Bytes b) {
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  size_t done = 0;
  for (; done + 8 <= n && done < 32; done += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + done, 8);
    std::memcpy(&y, b.data() + done, 8);
    if (x == y) continue;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__  // C++17: no std::endian
    x = __builtin_bswap64(x);
    y = __builtin_bswap64(y);
#endif
    return x < y ? -1 : 1;
  }
  if (n > done) {
    if (int c = std::memcmp(a.data() + done, b.data() + done, n - done); c != 0) return c;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

constexpr size_t kMaxKeySize = 32768;
constexpr size_t kMaxValueSize = (size_t{1} << 31) - 2;
constexpr double kDefaultFillPercent = 0.5;

class BucketImpl;
class CursorImpl;
class Cursor;

// One key of a bucket. For a nested bucket, is_bucket is true and value is
// empty (bbolt gives a nil value).
struct Entry {
  Bytes key;
  Bytes value;
  bool is_bucket = false;
};

class BOLTPP_EXPORT Bucket {
 public:
  Bucket() = default;
  explicit Bucket(BucketImpl* impl) : impl_(impl) {}
  // False for a bucket that was not found.
  explicit operator bool() const { return impl_ != nullptr; }

  // The value of key, or nullopt when it is missing or names a sub-bucket.
  std::optional<Bytes> Get(Bytes key) const;
  // Sets key to value (both copied). Errors: kKeyRequired, kKeyTooLarge,
  // kValueTooLarge, kIncompatibleValue (key is a bucket), kTxNotWritable,
  // kTxClosed.
  Status Put(Bytes key, Bytes value);
  // Removes key; a missing key is not an error.
  Status Delete(Bytes key);

  // A nested bucket, or a null Bucket when missing.
  Bucket GetBucket(Bytes name) const;
  Result<Bucket> CreateBucket(Bytes name);
  Result<Bucket> CreateBucketIfNotExists(Bytes name);
  // Deletes the bucket and everything under it; its pages are freed.
  Status DeleteBucket(Bytes name);
  // Moves the nested bucket `name` from this bucket into `dst` (a null dst
  // means the top level).
  Status MoveBucket(Bytes name, Bucket dst);

  uint64_t Sequence() const;
  Status SetSequence(uint64_t v);
  // Increments the sequence and returns it (the first call returns 1).
  Result<uint64_t> NextSequence();

  // Calls fn for every key in order; a non-OK return stops and is returned.
  Status ForEach(const std::function<Status(const Entry&)>& fn) const;
  Status ForEachBucket(const std::function<Status(Bytes name)>& fn) const;

  BucketStats Stats() const;
  Cursor NewCursor() const;
  // How full split pages are made at commit (0.1 to 1.0; not persisted).
  void SetFillPercent(double fill);
  double FillPercent() const;
  // The root page id (0 for an inline bucket).
  uint64_t Root() const;
  bool Writable() const;

  BucketImpl* impl() const { return impl_; }

 private:
  BucketImpl* impl_ = nullptr;
};

// A position in a bucket. First/Last/Seek/Next/Prev return the entry they
// land on, or nullopt past the ends. Seek lands on the first key >= the one
// given. Next at the end and Prev at the start leave the cursor where it was.
// Delete removes the current key; the next Next returns the key after it
// (no key is skipped, unlike bbolt).
class BOLTPP_EXPORT Cursor {
 public:
  Cursor();
  explicit Cursor(std::unique_ptr<CursorImpl> impl);
  Cursor(Cursor&&) noexcept;
  Cursor& operator=(Cursor&&) noexcept;
  ~Cursor();

  std::optional<Entry> First();
  std::optional<Entry> Last();
  std::optional<Entry> Next();
  std::optional<Entry> Prev();
  std::optional<Entry> Seek(Bytes key);
  // Errors: kIncompatibleValue on a bucket entry, kTxNotWritable, kTxClosed.
  Status Delete();
  // Sets key to value (both copied) in the cursor's bucket, as Bucket::Put
  // does (same errors), and leaves the cursor on key: Next then returns the
  // key after it. A Seek or Put searches from the cursor's position when no
  // change to the transaction's trees came between (other than this
  // cursor's own Puts): for keys in ascending order that is one or two
  // levels instead of a descent from the root, so a Seek(key) to read the
  // old value followed by Put(key, ...) costs about one lookup.
  Status Put(Bytes key, Bytes value);
  // OK, or why the last move returned nullopt early (a damaged page).
  Status status() const;
  Bucket bucket() const;

 private:
  std::unique_ptr<CursorImpl> impl_;
};

}  // namespace boltpp
