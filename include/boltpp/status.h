// File: boltpp/status.h
// Status and Result<T>: how every boltpp call reports failure. No exceptions
// cross the API. An OK Status holds no heap memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "boltpp/export.h"

namespace boltpp {

// Codes map one to one onto bbolt's errors (go.etcd.io/bbolt/errors); the
// ones after kMaxSizeReached are boltpp's own.
enum class Code : uint8_t {
  kOk = 0,
  kDatabaseNotOpen,     // "database not open"
  kInvalid,             // "invalid database"
  kInvalidMapping,      // "database isn't correctly mapped"
  kVersionMismatch,     // "version mismatch"
  kChecksum,            // "checksum error"
  kTimeout,             // "timeout"
  kTxNotWritable,       // "tx not writable"
  kTxClosed,            // "tx closed"
  kDatabaseReadOnly,    // "database is in read-only mode"
  kFreePagesNotLoaded,  // "free pages are not pre-loaded"
  kBucketNotFound,      // "bucket not found"
  kBucketExists,        // "bucket already exists"
  kBucketNameRequired,  // "bucket name required"
  kKeyRequired,         // "key required"
  kKeyTooLarge,         // "key too large"
  kValueTooLarge,       // "value too large"
  kIncompatibleValue,   // "incompatible value"
  kSameBuckets,         // "the source and target are the same bucket"
  kDifferentDB,         // "the source and target buckets are in different database files"
  kMaxSizeReached,      // "database reached maximum size"
  kCorruption,          // a damaged file: "page N: ..." and similar
  kIOError,             // an operating-system call failed
  kInvalidArgument,     // a caller's argument is out of range
  kDatabaseFailed,      // an earlier meta write/sync failed: reopen the database
  kAborted,             // a user callback failed (see the message)
};

// bbolt's message for a code, e.g. "bucket not found".
BOLTPP_EXPORT std::string_view CodeMessage(Code code);

class [[nodiscard]] BOLTPP_EXPORT Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string detail = {}) : code_(code), detail_(std::move(detail)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // The extra text given when the status was made (may be empty).
  const std::string& detail() const { return detail_; }
  // bbolt's message, followed by ": detail" when there is one. A kCorruption
  // or kIOError status is its detail alone ("page 7: ...").
  std::string ToString() const;

  bool operator==(Code c) const { return code_ == c; }

 private:
  Code code_ = Code::kOk;
  std::string detail_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  Result(Code code, std::string detail = {}) : status_(code, std::move(detail)) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace boltpp
