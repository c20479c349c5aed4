// File: tests/testutil/snapshot.h
// A whole database read into plain maps, to compare a database with an
// expected state (a model, a backup, a compacted copy, a reader's snapshot).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "boltpp/boltpp.h"

namespace boltpp::testing {

using BucketPath = std::vector<std::string>;

struct BucketSnap {
  std::map<std::string, std::string> kv;  // plain keys
  std::set<std::string> buckets;          // sub-bucket names
  uint64_t sequence = 0;
  bool operator==(const BucketSnap& o) const {
    return kv == o.kv && buckets == o.buckets && sequence == o.sequence;
  }
};

// Every bucket by path; the top level is the empty path (its buckets only).
using DBSnap = std::map<BucketPath, BucketSnap>;

// Reads everything visible to tx with forward cursors (model.h's ReadModel,
// flattened). Returns the first non-OK cursor or transaction status.
Status SnapshotTx(const Tx& tx, DBSnap* out);
// Same, in a fresh read transaction.
Status SnapshotDB(DB* db, DBSnap* out);
// A human-readable list of the first differences ("" when equal).
std::string DiffSnaps(const DBSnap& want, const DBSnap& got, size_t max_diffs = 10);
std::string PathString(const BucketPath& p);
// Bucket at path (the top level for an empty path yields a null Bucket).
Bucket BucketAt(const Tx& tx, const BucketPath& path);

}  // namespace boltpp::testing
