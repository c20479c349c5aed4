// File: apps/jobstore/src/record_scan.h
// The fast path of the compute store's state transition: reads the guard
// fields of a stored LocalState record and writes the next record without
// building a JSON tree.
//
// Why by hand: a transition decodes the whole record (its ~1 KB Execution
// document included) into an nlohmann tree, and encodes it again, only to
// change State, Version, UpdateTime and LatestComment: callgrind put that
// decode and encode at ~70% of the instructions of a transition. Here the
// record is checked by a validating scanner and the Execution document is
// copied as it is.
//
// Contract: the fast path applies only to records the slow path (nlohmann
// parse, LocalExecutionState::FromJson, ToJson, Dump) would write back
// byte for byte: one JSON object holding exactly the seven members in
// LocalState's order, written with no whitespace; every string as
// nlohmann writes it (valid UTF-8; the escapes \" \\ \b \f \n \r \t and
// lowercase \u00XX for the other control characters, nothing else
// escaped); only integers (within uint64, or int64 when negative; no "-0");
// no object with a
// key twice; State an int, Version a non-negative integer; CreateTime as
// FormatRfc3339Nano writes it. So for every record the fast path accepts,
// RewriteLocalStateRecord gives the bytes the slow path gives (tested by a
// randomized differential test). Anything else (a record another writer
// wrote differently, a damaged one) is left to the slow path, which
// decodes it and reports damage as before.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "boltpp/jobstore/execution_store.h"  // StateCounts
#include "boltpp/jobstore/model.h"

namespace boltpp::jobstore::internal {

// A LocalState record accepted by the fast path: views into its text.
struct LocalStateRecordView {
  std::string_view execution;          // the Execution value, as written
  std::string_view requester_node_id;  // the string token, quotes included
  int state = 0;
  uint64_t version = 0;
  std::string_view create_time;  // the string token, quotes included
};

// The record's fields when the fast path applies to it (see above), else nullopt.
std::optional<LocalStateRecordView> ScanLocalStateRecord(std::string_view text);

// The record after a transition: the same Execution, RequesterNodeID and
// CreateTime, the given State and Version, UpdateTime update_time and
// LatestComment comment.
std::string RewriteLocalStateRecord(const LocalStateRecordView& record, int state, uint64_t version,
                                    int64_t update_time, std::string_view comment);

// Dump(h.ToJson()), written directly (every transition writes one).
std::string LocalStateHistoryRecord(const LocalStateHistory& h);

// The persisted counters record {"Tx":N,"Counts":[10 counts]}: written
// directly, and read directly when it has exactly that form (nullopt
// otherwise: the caller then reads it with nlohmann as before).
struct CountersRecord {
  uint64_t stamp = 0;
  StateCounts counts{};
};
std::string WriteCountersRecord(uint64_t stamp, const StateCounts& counts);
std::optional<CountersRecord> ScanCountersRecord(std::string_view text);

// A job spec's sort fields as Str(spec, "ID") and Int(spec, "CreateTime")
// read them from the parsed document, read from the text: when the text is
// one JSON object nlohmann parses, whose "ID" (if a string) has no escape,
// whose "CreateTime" (if a number) is an integer within int64, neither
// twice, and every other member canonical (the rules above). nullopt
// otherwise (the caller parses the document).
struct SpecSortKey {
  std::string_view id;  // a view into the text
  int64_t create_time = 0;
};
std::optional<SpecSortKey> ScanSpecSortKey(std::string_view text);

// Whether text is one JSON value as nlohmann writes it (the rules above);
// for tests.
bool IsCanonicalJson(std::string_view text);

}  // namespace boltpp::jobstore::internal
