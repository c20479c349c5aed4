// File: tests/reliability/workload.h
// A fixed, seeded sequence of steps that touches every commit path: growing
// the file (remap + truncate), overflow values, page splits and merges,
// bucket deletion, manual and managed transactions, rollback, Batch from
// several threads, hot backup (Tx::WriteTo), DB::Checkpoint (WAL mode; a
// no-op otherwise), reopening and DB::Shrink (in batches of kShrinkPagesPerTx
// pages; it changes no content).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "testutil/model.h"

namespace boltpp::reliability {

using boltpp::testing::Ops;

struct Step {
  enum Kind { kUpdate, kManual, kBatch, kRollback, kBackup, kReopen, kCheckpoint, kShrink };
  Kind kind = kUpdate;
  std::string name;
  Ops ops;                 // kUpdate, kManual, kRollback
  std::vector<Ops> batch;  // kBatch: one Ops per concurrent caller
};

std::vector<Step> MakeWorkload(uint64_t seed);

// Number of concurrent Batch callers in MakeWorkload (Options::max_batch_size
// should equal it so that they coalesce into one commit).
constexpr int kBatchCallers = 4;
constexpr size_t kShrinkPagesPerTx = 256;

}  // namespace boltpp::reliability
