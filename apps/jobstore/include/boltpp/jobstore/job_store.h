// File: boltpp/jobstore/job_store.h
// JobStore: a requester (orchestrator) node's job store
// ({NODE_ID}-requester.db), file-compatible with the real one (apps-spec 1.3):
//
//   jobs/<jobID>/ spec -> Job JSON
//                 executions/<execID> -> Execution JSON
//                 evaluations/<evalID> -> Evaluation JSON
//                 job_history/<seq> -> JobHistory JSON (job level)
//                 execution_history/<seq> -> JobHistory JSON (execution level)
//   idx_inprogress/<jobID> -> ""            while the job is not terminal
//   idx_namespaces/<namespace>/<jobID> -> ""
//   idx_tags/<lowercased label key>/<jobID> -> ""
//   idx_executions/<execID>/<jobID> -> ""
//   idx_evaluations/<evalID>/<jobID> -> ""
//   v1_events/<8-byte seq><8-byte unix ns> -> {SeqNum, Operation, ObjectType, Object, Timestamp}
//   v1_checkpoints/<watcher name> -> 8-byte big-endian last processed seq
//
// Guarantees: every operation is one transaction (state, indexes, history
// and its event commit together or not at all); a failed guard changes
// nothing; DeleteJob removes every index entry of the job (the real store
// leaves idx_executions/idx_evaluations entries behind). History keys are
// 8-byte big-endian sequences; the real store's 16-digit decimal keys are read
// too, in numeric order.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "boltpp/db.h"
#include "boltpp/jobstore/errors.h"
#include "boltpp/jobstore/execution_store.h"  // StoreOptions
#include "boltpp/jobstore/model.h"

namespace boltpp::jobstore {

inline constexpr std::string_view kJobsBucket = "jobs";
inline constexpr std::string_view kInProgressIndex = "idx_inprogress";
inline constexpr std::string_view kNamespaceIndex = "idx_namespaces";
inline constexpr std::string_view kTagIndex = "idx_tags";
inline constexpr std::string_view kExecutionIndex = "idx_executions";
inline constexpr std::string_view kEvaluationIndex = "idx_evaluations";
inline constexpr std::string_view kEventsBucket = "v1_events";
inline constexpr std::string_view kCheckpointsBucket = "v1_checkpoints";
// Sub-buckets and keys of jobs/<jobID>/.
inline constexpr std::string_view kSpecKey = "spec";
inline constexpr std::string_view kJobExecutions = "executions";
inline constexpr std::string_view kJobEvaluations = "evaluations";
inline constexpr std::string_view kJobHistory = "job_history";
inline constexpr std::string_view kJobExecutionHistory = "execution_history";

struct JobQuery {
  std::string namespace_name;             // empty: every namespace
  std::vector<std::string> include_tags;  // label keys; a job needs one of them
  std::vector<std::string> exclude_tags;  // label keys; a job with any is left out
  size_t limit = 0;                       // 0: all
  size_t offset = 0;
  std::string sort_by = "created_at";  // or "id"
  bool sort_reverse = false;
};

struct JobCondition {
  std::optional<JobState> expected_state;
  std::vector<JobState> unexpected_states;
  uint64_t expected_revision = 0;  // 0: any
};

struct UpdateJobStateRequest {
  std::string job_id;
  JobCondition condition;
  JobState new_state = JobState::kUndefined;  // Pending..Stopped, else kInvalidArgument
  std::string comment;
};

struct ExecutionCondition {
  std::vector<ExecState> expected_states;  // any of; empty: any
  uint64_t expected_revision = 0;          // 0: any
  std::vector<ExecState> unexpected_states;
};

struct UpdateExecutionRequest {
  std::string execution_id;
  ExecutionCondition condition;
  // Merged over the record: present non-null fields win. May not change ID,
  // JobID or Namespace; a Revision must be stored+1 (absent/null/0: set to
  // stored+1). Otherwise kInvalidArgument and nothing is written.
  Json new_values;
  std::string comment;
};

struct HistoryQuery {
  bool exclude_job_level = false;
  bool exclude_execution_level = false;
  std::string execution_id;  // prefix filter
  std::string node_id;       // prefix filter
  int64_t since = 0;         // unix seconds
};

enum WatchObject : unsigned { kWatchJob = 1, kWatchExecution = 2, kWatchEvaluation = 4 };
enum WatchOperation : unsigned { kWatchCreate = 1, kWatchUpdate = 2, kWatchDelete = 4 };

struct Event {
  uint64_t seq = 0;
  int64_t timestamp = 0;    // unix ns
  std::string operation;    // "CREATE", "UPDATE", "DELETE"
  std::string object_type;  // "Job", "Execution", "Evaluation"
  Json object;
};

class JobStore {
 public:
  static Expected<std::unique_ptr<JobStore>> Open(const std::string& path,
                                                  StoreOptions options = {});
  ~JobStore();
  Error Close();

  // ---- jobs ----
  // Sets State=Pending, Revision=1, CreateTime/ModifyTime (unless given).
  Error CreateJob(Json job);
  // Full id or short id ("j-1a2b3c4d"); MultipleJobsFound when ambiguous.
  Expected<std::string> ResolveJobId(const std::string& id_or_prefix);
  Expected<Json> GetJob(const std::string& id_or_prefix);
  Expected<std::vector<Json>> GetJobs(const JobQuery& query);
  Expected<std::vector<Json>> GetInProgressJobs();
  Error UpdateJobState(const UpdateJobStateRequest& request);
  Error DeleteJob(const std::string& job_id);

  // ---- executions ----
  Error CreateExecution(Json execution);
  Error UpdateExecution(const UpdateExecutionRequest& request);
  Expected<Json> GetExecution(const std::string& execution_id);
  // Oldest CreateTime first.
  Expected<std::vector<Json>> GetExecutions(const std::string& job_id);

  // ---- evaluations ----
  Error CreateEvaluation(Json evaluation);
  Expected<Json> GetEvaluation(const std::string& evaluation_id);
  Error DeleteEvaluation(const std::string& evaluation_id);

  // ---- history: job-level and execution-level rows, by Time ----
  Expected<std::vector<Json>> GetJobHistory(const std::string& job_id,
                                            const HistoryQuery& query = {});

  // ---- durable event log ----
  // Events with seq > after, oldest first, at most limit (0: all).
  Expected<std::vector<Event>> ReadEvents(uint64_t after, size_t limit = 0);
  Error SetCheckpoint(const std::string& watcher, uint64_t seq);
  Expected<uint64_t> GetCheckpoint(const std::string& watcher);  // 0 when none
  // Deletes events older than the cutoff that every checkpoint has passed.
  Expected<size_t> PruneEvents(int64_t older_than_unix_nanos);

  // ---- in-memory watchers, called after each durable commit ----
  using WatchFn = std::function<void(const Event&)>;
  int Watch(unsigned objects, unsigned operations, WatchFn fn);
  void Unwatch(int id);

  DB& db() { return *db_; }
  // The group commit's counts (all zero without StoreOptions::batch).
  GroupCommitStats group_commit_stats() const;

 private:
  struct TxContext;
  JobStore(std::unique_ptr<DB> db, StoreOptions options);
  int64_t Now() const;
  Error Write(const std::function<Error(Tx&, TxContext&)>& fn);
  void Dispatch(const std::vector<Event>& events);

  std::unique_ptr<DB> db_;
  StoreOptions options_;
  std::unique_ptr<internal::GroupCommit> group_commit_;  // when options_.batch
  std::mutex watch_mu_;
  int next_watch_id_ = 1;
  struct Watcher {
    unsigned objects, operations;
    WatchFn fn;
  };
  std::map<int, Watcher> watchers_;
};

}  // namespace boltpp::jobstore
