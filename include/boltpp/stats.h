// File: boltpp/stats.h
// Plain statistics records, as bbolt's Stats, TxStats, BucketStats, Info,
// PageInfo and BucketStructure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "boltpp/export.h"

namespace boltpp {

struct BOLTPP_EXPORT TxStats {
  int64_t page_count = 0;    // pages allocated
  int64_t page_alloc = 0;    // bytes allocated
  int64_t cursor_count = 0;  // cursors created
  int64_t node_count = 0;    // nodes materialized
  int64_t node_deref = 0;    // always 0: boltpp keeps old maps alive instead
  int64_t rebalance = 0;
  int64_t rebalance_time_ns = 0;
  int64_t split = 0;
  int64_t spill = 0;
  int64_t spill_time_ns = 0;
  int64_t write = 0;  // page writes
  int64_t write_time_ns = 0;

  void Add(const TxStats& o);
  TxStats Sub(const TxStats& o) const;
};

struct Stats {
  TxStats tx_stats;            // totals over closed transactions
  int64_t free_page_n = 0;     // free pages
  int64_t pending_page_n = 0;  // pages freed but still visible to readers
  int64_t free_alloc = 0;      // bytes in free and pending pages
  int64_t freelist_inuse = 0;  // bytes the freelist page takes
  int64_t tx_n = 0;            // read transactions started
  int64_t open_tx_n = 0;       // read transactions open now
};

struct BOLTPP_EXPORT BucketStats {
  int64_t branch_page_n = 0;
  int64_t branch_overflow_n = 0;
  int64_t leaf_page_n = 0;
  int64_t leaf_overflow_n = 0;
  int64_t key_n = 0;
  int64_t depth = 0;
  int64_t branch_alloc = 0;
  int64_t branch_inuse = 0;
  int64_t leaf_alloc = 0;
  int64_t leaf_inuse = 0;
  int64_t bucket_n = 0;
  int64_t inline_bucket_n = 0;
  int64_t inline_bucket_inuse = 0;

  void Add(const BucketStats& o);
};

// The write-ahead log beside a database (DB::GetWalInfo).
struct WalInfo {
  bool present = false;  // a log file exists (PATH-wal, PATH-wal2)
  // Commits in the log that the data file's checkpoint does not hold yet:
  // for a read-only handle, what the next read-write open will replay.
  int64_t pending_records = 0;
  int64_t bytes = 0;             // bytes of the log in use (header and records)
  uint64_t checkpoint_txid = 0;  // txid of the data file's meta
  // The txid of the newest commit that changed data (not a checkpoint, an
  // empty commit or one of Shrink's page moves). At open it
  // is the data file's txid, or the last pending record's. Greater than
  // checkpoint_txid exactly when data changed since the last checkpoint
  // (a checkpoint takes a txid above every commit it holds); unchanged
  // across checkpoints, so it tells whether anything was written since a
  // given commit. Filled in every mode.
  uint64_t last_change_txid = 0;
  // Why a scan stopped before the end of the file ("" when it did not):
  // a torn last record, a checksum or salt mismatch, a damaged header.
  std::string stop;
};

struct Info {
  const uint8_t* data = nullptr;  // start of the current map
  uint32_t page_size = 0;
};

struct PageInfo {
  uint64_t id = 0;
  std::string type;  // "branch", "leaf", "meta", "freelist", "free" or "unknown<xx>"
  int64_t count = 0;
  int64_t overflow_count = 0;
};

// The tree of buckets with their key counts (bbolt Tx.Inspect). key_n
// excludes sub-bucket entries; the top is named "root".
struct BucketStructure {
  std::string name;
  int64_t key_n = 0;
  std::vector<BucketStructure> children;
};

}  // namespace boltpp
