// File: boltpp/jobstore/errors.h
// Typed errors of the job store and the execution store.
//
// Guard failures (InvalidJobState, InvalidExecutionVersion, ...) are normal
// control flow for an orchestrator doing optimistic concurrency: they are
// cheap and the operation that reports one has changed nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "boltpp/status.h"

namespace boltpp::jobstore {

enum class Errc {
  kOk = 0,
  kJobNotFound,
  kMultipleJobsFound,
  kJobAlreadyExists,
  kInvalidJobState,
  kInvalidJobRevision,
  kJobAlreadyTerminal,
  kExecutionNotFound,
  kExecutionAlreadyExists,
  kInvalidExecutionState,
  kInvalidExecutionVersion,
  kExecutionAlreadyTerminal,
  kEvaluationNotFound,
  kEvaluationAlreadyExists,
  kInvalidArgument,  // a caller's value fails validation
  kBadRecord,        // a stored document does not parse
  kLocked,           // the file is held by another process past the lock timeout
  kStorage,          // the engine failed (detail carries boltpp's message)
};

// The stable name of a code, e.g. "JobNotFound".
std::string_view ErrcName(Errc code);

class [[nodiscard]] Error {
 public:
  Error() = default;
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}
  static Error FromStatus(const Status& s);

  bool ok() const { return code_ == Errc::kOk; }
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }
  // "JobNotFound: job j-1234 not found"
  std::string ToString() const;
  bool operator==(Errc c) const { return code_ == c; }

 private:
  Errc code_ = Errc::kOk;
  std::string message_;
};

// A value or the Error that explains why there is none.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : value_(std::move(value)) {}      // NOLINT: implicit by design
  Expected(Error error) : error_(std::move(error)) {}  // NOLINT
  bool ok() const { return value_.has_value(); }
  const Error& error() const { return error_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Error error_;
  std::optional<T> value_;
};

}  // namespace boltpp::jobstore
