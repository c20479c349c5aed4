// Helpers shared by the store's source files (not installed).
#pragma once

#include <string>
#include <vector>

#include "boltpp/car/index.h"
#include "boltpp/status.h"

namespace boltpp::dagstore {

// A status's text without bbolt's code prefix when it has a detail.
std::string Message(const Status& s);
// "<what> not found" (kInvalidArgument); IsNotFound recognises it.
Status NotFound(const std::string& what);
bool IsNotFound(const Status& s);
// A refused transition (kAborted) with its message.
Status Refused(const std::string& why);
// uvarint(code) ++ uvarint(len) ++ digest.
std::string MultihashOf(const car::IndexEntry& e);
// Every distinct multihash of the index, sorted.
std::vector<std::string> SortedMultihashes(const car::Index& index);
car::ReadOptions ShardReadOptions();

struct ShardRecord;
// Whether a restart must look at this persisted record (it is in the
// attention index): every state but Available and lazy New needs
// reconciling (Serving, Initializing, Recovering, Errored, an eager New to
// requeue), and a transient must be checked (a record naming one is also
// how GC finds it).
bool NeedsAttention(const ShardRecord& r);

}  // namespace boltpp::dagstore
