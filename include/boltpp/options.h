// File: boltpp/options.h
// Options for DB::Open, with bbolt's defaults.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace boltpp {

class FileSystem;

enum class FreelistType : uint8_t {
  kArray,    // sorted array, first fit (bbolt's default)
  kHashMap,  // spans indexed by size; allocation without a linear scan
};

struct Options {
  // Open with a shared lock, O_RDONLY; no write transaction can begin.
  bool read_only = false;
  // How long to wait for the file lock. Zero waits forever (bbolt's default);
  // a negative value tries once. When it passes, Open fails with kTimeout
  // ("timeout: database is locked by another process").
  std::chrono::milliseconds timeout{0};
  // Skip fdatasync on commit (unsafe across power loss, as bbolt's NoSync).
  bool no_sync = false;
  // Skip the fsync after the file grows.
  bool no_grow_sync = false;
  // Do not write the freelist on commit; it is rebuilt by a scan at open.
  bool no_freelist_sync = false;
  FreelistType freelist_type = FreelistType::kArray;
  // Page size for a new file (0 = the OS page size). Existing files keep theirs.
  uint32_t page_size = 0;
  // The first memory map is at least this large (avoids remaps while growing).
  size_t initial_mmap_size = 0;
  // mlock the mapped file so that it cannot be swapped out.
  bool mlock = false;
  // MAP_POPULATE the map.
  bool mmap_populate = false;
  // Refuse to grow the file past this many bytes (0 = no limit):
  // a commit that would needs more fails with kMaxSizeReached.
  uint64_t max_size = 0;
  // Keep free pages at the end of the file, as bbolt does: no commit lowers
  // the high-water mark or truncates the file (DB::Shrink still does).
  bool no_truncate = false;
  // Run the consistency check after every commit; a failure fails the commit.
  bool strict_mode = false;
  // Do not count transaction statistics.
  bool no_statistics = false;
  // File mode for a new file.
  uint32_t file_mode = 0600;
  // The file grows by this much at a time once it is past it (bbolt AllocSize).
  uint64_t alloc_size = 16 * 1024 * 1024;
  // Batch: at most this many calls per commit, and at most this long a wait.
  int max_batch_size = 1000;
  std::chrono::microseconds max_batch_delay{10000};
  // WAL mode (docs/design.md, "WAL mode"). A commit writes its pages to the
  // data file without syncing it and appends a record of its operations to
  // the log (PATH-wal, or PATH-wal2: each checkpoint switches between the
  // two), syncing only the log: one write and one sync per commit. The data
  // file's meta changes only at a checkpoint (past wal_checkpoint_bytes of
  // log, every wal_checkpoint_interval, on DB::Checkpoint and at Close,
  // which also removes the log files); commits do not wait for its syncs. After a
  // crash the data file alone is the last checkpoint, a valid bbolt file;
  // the next read-write open (WAL mode or not) replays the log.
  bool wal = false;
  uint64_t wal_checkpoint_bytes = 16 * 1024 * 1024;
  // Zero: no timer (and no checkpointer thread: size-triggered checkpoints
  // then run in the commit that passed the size).
  std::chrono::milliseconds wal_checkpoint_interval{10000};
  // WAL mode: every commit writes its record first and hands the record's
  // fdatasync to a helper thread while it writes its pages, instead of
  // writing its pages, then its record, and syncing the log itself. The
  // overlap hides a small commit's page work (about 20-50 us) but costs a
  // thread wake-up each way; on the 2-core VM of docs/design.md ("Who syncs
  // the log") the wake-ups cost more, so it is off by default, and only
  // commits with a record of 64 KiB or more (hundreds of puts) overlap. On
  // hardware where waking a thread is cheap it may win: measure (bench/,
  // `--engine boltpp-wal`).
  bool wal_sync_thread = false;
  // Where files come from (nullptr = FileSystem::Default()). Not owned.
  FileSystem* file_system = nullptr;
};

}  // namespace boltpp
