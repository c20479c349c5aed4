// File: boltpp/jobstore/model.h
// The documents and enums of the job store and the execution store, with the
// Go field names and encodings of the real stores (apps-spec 1.2):
//   - JSON documents are nlohmann::ordered_json so that fields keep the order
//     Go writes them in;
//   - job state is a string (read case-insensitively), execution compute and
//     desired states and the compute store's local state are integers;
//   - Job/Execution CreateTime/ModifyTime are int64 Unix nanoseconds; history
//     Time and the compute store's CreateTime/UpdateTime are RFC 3339 strings
//     with nanoseconds (Go's time.Time JSON).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "boltpp/jobstore/errors.h"

namespace boltpp::jobstore {

using Json = nlohmann::ordered_json;

// Lenient field reads of a stored document: the string or integer field
// `name` of object j, or "" / 0 when j is not an object, the field is
// missing or it has another type (documents from other writers may differ).
std::string Str(const Json& j, const char* name);
int64_t Int(const Json& j, const char* name);

// ---- compute store: LocalExecutionStateType (the documented 9 states) ----
enum class LocalState : int {
  kUndefined = 0,
  kCreated = 1,
  kBidAccepted = 2,
  kRunning = 3,
  kWaitingVerification = 4,
  kResultAccepted = 5,
  kPublishing = 6,
  kCompleted = 7,
  kFailed = 8,
  kCancelled = 9,
};
constexpr int kLocalStateCount = 10;  // including Undefined
// "Created", ... ; "Undefined" for out-of-range values.
std::string_view LocalStateName(LocalState s);
std::optional<LocalState> ParseLocalState(std::string_view name);  // case-insensitive
bool IsTerminal(LocalState s);                                     // Completed, Failed, Cancelled
bool IsExecuting(LocalState s);  // Running, WaitingVerification, ResultAccepted, Publishing
bool IsActive(LocalState s);     // Created .. Publishing

// ---- requester: job state (JSON string) ----
enum class JobState : int { kUndefined = 0, kPending, kRunning, kCompleted, kFailed, kStopped };
std::string_view JobStateName(JobState s);
std::optional<JobState> ParseJobState(std::string_view name);  // case-insensitive
bool IsTerminal(JobState s);

// ---- requester: execution ComputeState.StateType (JSON integer) ----
enum class ExecState : int {
  kUndefined = 0,
  kNew = 1,
  kAskForBid = 2,
  kAskForBidAccepted = 3,
  kAskForBidRejected = 4,
  kBidAccepted = 5,
  kBidRejected = 6,
  kCompleted = 7,
  kFailed = 8,
  kCancelled = 9,
};
std::string_view ExecStateName(ExecState s);
bool IsTerminal(ExecState s);

// ---- requester: execution DesiredState.StateType (JSON integer) ----
enum class DesiredState : int { kPending = 0, kRunning = 1, kStopped = 2 };
std::string_view DesiredStateName(DesiredState s);

// ---- time ----
// Unix nanoseconds now (system clock).
int64_t NowNanos();
// Go's RFC3339Nano in UTC: "2023-07-10T12:00:00.5Z" (trailing zeros trimmed).
std::string FormatRfc3339Nano(int64_t unix_nanos);
// Parses RFC 3339 with optional fraction and a Z or +hh:mm offset.
std::optional<int64_t> ParseRfc3339(std::string_view text);

// ---- history sequence keys ----
// 8-byte big-endian (what the stores write).
std::string SeqKey(uint64_t seq);
// Reads an 8-byte big-endian key or a legacy decimal key (%03d, %016d).
std::optional<uint64_t> ParseSeqKey(std::string_view key);

// ---- compute store documents ----
struct LocalExecutionState {
  Json execution;  // models.Execution (ID and JobID are used by the store)
  std::string requester_node_id;
  LocalState state = LocalState::kUndefined;
  uint64_t version = 0;
  int64_t create_time = 0;  // Unix ns
  int64_t update_time = 0;  // Unix ns
  std::string latest_comment;

  std::string id() const;      // Execution.ID
  std::string job_id() const;  // Execution.JobID
  Json ToJson() const;
  static Expected<LocalExecutionState> FromJson(const Json& j);
};

struct LocalStateHistory {
  std::string execution_id;
  LocalState previous_state = LocalState::kUndefined;
  LocalState new_state = LocalState::kUndefined;
  uint64_t new_version = 0;
  std::string comment;
  int64_t time = 0;  // Unix ns
  uint64_t seq = 0;  // the key's sequence (not stored in the document)

  Json ToJson() const;
  static Expected<LocalStateHistory> FromJson(const Json& j);
};

// The State of a LocalExecutionState document without decoding it: Go writes
// State after Execution and RequesterNodeID, followed only by scalars, so the
// last `"State":` of the text is the top-level one (a JSON string cannot hold
// an unescaped `":`). Falls back to a full decode when the text has another
// shape; nullopt when it does not parse at all.
std::optional<LocalState> ExtractLocalState(std::string_view document);

}  // namespace boltpp::jobstore
