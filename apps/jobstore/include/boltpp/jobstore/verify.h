// File: boltpp/jobstore/verify.h
// Verify: the invariants of both stores (apps-spec 4.2), on files this
// library wrote or the real stores wrote.
//
// Compute file: every record decodes and is indexed under its job; every
// index key points at a live record of that job; every record has a history
// whose sequences run 1..N without gaps, whose versions rise by one and end at
// the record's Version and State; no history without a record; the counters a
// key scan gives equal the ones a full decode gives, and so does the persisted
// counter record when its stamp is current (see ReadPersistedCounts); when the
// file has the real store's execution-live-index, it holds exactly the
// executing records.
// Requester file: every job has its spec, sub-buckets, namespace and label
// index entries, and is in idx_inprogress exactly when not terminal; every
// execution and evaluation has exactly one idx_executions/idx_evaluations entry
// naming its job; every index entry points at a live record; job and execution
// histories are gap-free with revisions rising by one to the record's Revision;
// event sequences increase.
//
// Repair (one write transaction) drops orphaned index entries and orphaned
// history buckets, adds missing index entries and rewrites wrong counters; it cannot invent lost
// history, so those problems stay reported.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "boltpp/jobstore/errors.h"
#include "boltpp/tx.h"

namespace boltpp::jobstore {

enum class StoreKind { kUnknown, kCompute, kRequester };
std::string_view StoreKindName(StoreKind kind);  // "compute", "requester", "unknown"
// From the top-level buckets: `execution` -> compute, `jobs` -> requester.
StoreKind DetectStoreKind(Tx& tx);

struct Problem {
  std::string bucket;  // slash-joined bucket path, ids readable ("idx_executions/e-1")
  std::string key;     // the key (history keys as "#<seq>"), may be empty
  std::string message;
  std::string ToString() const;  // "<bucket> <key>: <message>"
};

struct VerifyReport {
  StoreKind kind = StoreKind::kUnknown;
  std::vector<Problem> problems;
  std::vector<std::string> repairs;  // what --repair changed, one line each
  // Read-only verify of a file whose write-ahead log holds commits past the
  // data file's checkpoint: how many (the report is of the checkpoint).
  int64_t wal_pending_records = 0;
  bool ok() const { return problems.empty(); }
};

// Checks the store in tx; with repair (tx must be writable) fixes what can be
// fixed in tx and lists it in repairs; problems then lists what remains.
VerifyReport VerifyStore(Tx& tx, bool repair);

// Opens path (read-only unless repair), verifies, and for repair commits the
// fixes in one transaction. kLocked when another process holds the file.
Expected<VerifyReport> VerifyFile(const std::string& path, bool repair,
                                  std::chrono::milliseconds lock_timeout);

}  // namespace boltpp::jobstore
