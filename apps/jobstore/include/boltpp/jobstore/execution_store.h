// File: boltpp/jobstore/execution_store.h
// ExecutionStore: a compute node's execution store ({NODE_ID}-compute.db),
// file-compatible with the real one. Exactly three top-level buckets:
//
//   execution/          <execID>          -> LocalExecutionState JSON
//   execution-history/  <execID>/ <seq>   -> LocalStateHistory JSON
//   execution-index/    <jobID>/  <execID> -> "" (empty)
//
// History keys are written as 8-byte big-endian bucket sequences; the real
// store's "%03d" decimal keys are read too, and every history is returned in
// numeric order (the real store's order breaks after 999 entries).
//
// Every operation is one transaction; a failed guard changes nothing.
// Per-state counters are persisted in the same transaction as every state
// change (kCountersKey, stamped with that transaction's id), so Open reads
// them in O(1) when the stamp equals the file's last transaction id. When the
// record is missing or stale (the real store, bbolt or any other tool wrote
// the file since), Open recounts: it walks the keys of `execution` once and
// reads each record's State from the tail of its JSON without decoding it
// (see ExtractLocalState), then rewrites the record. verify compares the
// record with a full decode. If the file has the real store's
// `execution-live-index`, every operation keeps it exact too.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "boltpp/db.h"
#include "boltpp/jobstore/errors.h"
#include "boltpp/jobstore/model.h"

namespace boltpp::jobstore {

namespace internal {
class GroupCommit;  // src/group_commit.h
}  // namespace internal

inline constexpr std::string_view kExecutionBucket = "execution";
inline constexpr std::string_view kExecutionHistoryBucket = "execution-history";
inline constexpr std::string_view kExecutionIndexBucket = "execution-index";
// The real v1.1/v1.2 store's fourth bucket: <execID> -> "" while the state is
// executing (IsExecuting). Never created here; kept exact when a file has it.
inline constexpr std::string_view kExecutionLiveIndexBucket = "execution-live-index";
// The persisted per-state counters: a plain key of `execution-index` (whose
// other entries are job sub-buckets; the space keeps it from ever being a job
// id), value {"Tx":<txid of the last write>,"Counts":[<10 counts by state>]}.
inline constexpr std::string_view kCountersKey = "boltpp state counters";

struct StoreOptions {
  // How long to wait for another process's lock before failing with kLocked.
  std::chrono::milliseconds lock_timeout{2000};
  bool read_only = false;
  // Skip fdatasync on commit (bulk loads, benchmarks without durability).
  bool no_sync = false;
  // WAL mode (the engine's Options::wal): a commit appends one record to the
  // log PATH-wal and syncs only the log; the data file's meta moves at
  // checkpoints (16 MiB of log, 10 s, Close). Off by default: after a crash
  // the data file alone holds only the last checkpoint, so the real node, Go
  // bbolt and `bbolt` tools reading that file without replaying the log would
  // miss the commits since (any read-write open by boltpp replays them).
  // After a clean Close the data file alone is complete either way.
  bool wal = false;
  // Group concurrent writers into one durable commit: a caller that finds no
  // commit in progress leads the next group; it waits until as many callers
  // as the last group had have joined (so a closed loop of N clients commits
  // N at a time), at most batch_delay, then commits them all in one write
  // transaction. Callers arriving meanwhile form the following group. A lone
  // caller commits at once. (The engine's DB::Batch always waits its delay,
  // which caps 16 sequential clients at 16 calls per delay + commit.)
  bool batch = false;
  int batch_size = 1000;  // at most this many calls per commit
  std::chrono::microseconds batch_delay{1000};
  // Threads for the compute store's counter scan at open (0: one per core, at most 4).
  int scan_threads = 0;
  // Unix nanoseconds; tests inject a clock to age records.
  std::function<int64_t()> clock;
};

// What a store's group commit (StoreOptions::batch) did so far.
struct GroupCommitStats {
  uint64_t commits = 0;    // shared write transactions committed
  uint64_t calls = 0;      // store operations they carried
  uint64_t largest = 0;    // the most calls in one commit
  double gather_seconds = 0;  // leaders waiting for their group to fill
  double commit_seconds = 0;  // leaders running and committing their groups
};

struct UpdateExecutionStateRequest {
  std::string execution_id;
  LocalState new_state = LocalState::kUndefined;  // Created..Cancelled, else kInvalidArgument
  std::vector<LocalState> expected_states;        // empty: any
  uint64_t expected_version = 0;                  // 0: any
  std::string comment;
};

using StateCounts = std::array<uint64_t, kLocalStateCount>;

struct RestartPolicy {
  // Move executions in a non-terminal state not updated for this long to
  // Failed (0 = off). Recorded in their history.
  std::chrono::nanoseconds fail_stuck_after{0};
  // Delete terminal executions not updated for this long, with their history
  // and index entries (0 = off).
  std::chrono::nanoseconds delete_terminal_after{0};
};

struct RestartReport {
  StateCounts counts{};              // after the policies ran
  std::vector<std::string> failed;   // execution ids moved to Failed
  std::vector<std::string> deleted;  // execution ids deleted
  double scan_seconds = 0;           // the counter scan at open
};

class ExecutionStore {
 public:
  // Opens (creating if needed) the file and its three buckets, then counts
  // executions per state. kLocked when another process holds the file.
  static Expected<std::unique_ptr<ExecutionStore>> Open(const std::string& path,
                                                        StoreOptions options = {});
  ~ExecutionStore();

  // state must be Created or BidAccepted and version 1; CreateTime and
  // UpdateTime default to now. Appends history Undefined -> state.
  Error CreateExecution(LocalExecutionState state);
  // Guards, in order: found; current state in expected_states (if any);
  // version == expected_version (if non-zero); current state not terminal.
  // Sets the state, Version+1, UpdateTime and LatestComment; appends history.
  Error UpdateExecutionState(const UpdateExecutionStateRequest& request);
  Expected<LocalExecutionState> GetExecution(const std::string& id);
  // The executions of a job, oldest UpdateTime first; ExecutionNotFound when none.
  Expected<std::vector<LocalExecutionState>> GetExecutions(const std::string& job_id);
  // Oldest first, numeric order of the keys (legacy keys included).
  Expected<std::vector<LocalStateHistory>> GetExecutionHistory(const std::string& id);
  // The same rows as stored: each document parsed but not re-encoded (field
  // names and order as written, whatever wrote them), with its key's sequence.
  struct HistoryDocument {
    uint64_t seq = 0;
    Json document;
  };
  Expected<std::vector<HistoryDocument>> GetExecutionHistoryDocuments(const std::string& id);
  // Removes the record, its index key (and the job's index bucket once empty)
  // and its history.
  Error DeleteExecution(const std::string& id);
  uint64_t GetExecutionCount(LocalState state) const;
  StateCounts GetCounts() const;
  // Every execution (id order); for tools.
  Expected<std::vector<LocalExecutionState>> ListExecutions();

  // Applies the policies (each in its own transaction per execution batch).
  Expected<RestartReport> Restart(const RestartPolicy& policy);

  DB& db() { return *db_; }
  // The group commit's counts (all zero without StoreOptions::batch).
  GroupCommitStats group_commit_stats() const;
  // Seconds Open spent on the counters, and whether they came from the
  // persisted record (false: a recount).
  double open_scan_seconds() const { return scan_seconds_; }
  bool counters_from_record() const { return counters_from_record_; }
  Error Close();

  // Full scan of the counts in tx, decoding nothing.
  static Expected<StateCounts> CountStates(Tx& tx);

 private:
  ExecutionStore(std::unique_ptr<DB> db, StoreOptions options);
  // Keys in [from, to) ("" = open end).
  static Expected<StateCounts> CountRange(Tx& tx, const std::string& from, const std::string& to);
  // Open's scan: key ranges counted by several threads on one snapshot.
  static Expected<StateCounts> CountStatesInParallel(DB& db, int threads);
  int64_t Now() const;
  // The counters at open: the persisted record, or a recount that rewrites it.
  Error LoadCounters();
  Error Write(const std::function<Error(Tx&)>& fn);
  void Apply(LocalState from, LocalState to, int64_t delta_from, int64_t delta_to);
  // WAL mode: checkpoints what Open wrote (a new file's buckets, recounted
  // counters), so that after a crash the data file alone is already a store.
  Error CheckpointNewLayout();
  // WAL mode: the stamp of this store's last counter write when only a
  // checkpoint has committed since (and tx is the next transaction), else 0.
  uint64_t StampBeforeCheckpoint(Tx& tx) const;
  // Called on commit of a counter write stamped txid.
  void NoteStamp(uint64_t txid);
  // WAL mode, before Close: restamps the counters with the txid the closing
  // checkpoint will have, so the next open trusts them.
  void StampForClosingCheckpoint();

  std::unique_ptr<DB> db_;
  StoreOptions options_;
  std::unique_ptr<internal::GroupCommit> group_commit_;  // when options_.batch
  std::array<std::atomic<int64_t>, kLocalStateCount> counts_{};
  double scan_seconds_ = 0;
  bool counters_from_record_ = false;
  // The last counter write's stamp and the checkpoint txid then (WAL mode).
  mutable std::mutex stamp_mu_;
  uint64_t last_stamp_ = 0, checkpoint_at_last_stamp_ = 0;
};

// The persisted counters of tx's file: nullopt when the record is missing,
// does not parse, or its stamp is not tx's last committed transaction (for a
// writable tx: ID()-1 or ID()), i.e. when it cannot be trusted. A WAL-mode
// checkpoint is a transaction of its own that changes no data: a caller that
// knows only checkpoints committed after its last write passes that write's
// stamp as also_current (0: none).
std::optional<StateCounts> ReadPersistedCounts(Tx& tx, uint64_t also_current = 0);
// Writes the record with counts, stamped with stamp (0: tx's id; tx writable).
Status WritePersistedCounts(Tx& tx, const StateCounts& counts, uint64_t stamp = 0);

// Opens the engine's file with the store options; kLocked after the timeout.
Expected<std::unique_ptr<DB>> OpenStoreDB(const std::string& path, const StoreOptions& options);

// Compacts a closed store file (either kind) into a fresh file and swaps it
// in: kLocked when another process (or an open store in this one) holds the
// file past lock_timeout. The fresh file is synced and locked before it is
// renamed over path, the directory is fsynced after the rename, and only then
// is the old file retired (its meta pages zeroed, so a process that opened it
// before the swap and waited for its lock fails to open it instead of writing
// into an unlinked file) and the locks released. A crash at any point leaves
// a complete file at path (a stale <path>.compact.tmp is removed next time).
// Returns the bytes before and after.
struct CompactReport {
  int64_t bytes_before = 0;
  int64_t bytes_after = 0;
};
Expected<CompactReport> CompactFile(const std::string& path,
                                    std::chrono::milliseconds lock_timeout);

}  // namespace boltpp::jobstore
