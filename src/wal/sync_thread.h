// File: src/wal/sync_thread.h
// A thread that runs one File::Sync at a time for the write-ahead log, so
// that a commit can write its pages to the data file while its record's
// fdatasync is in flight (TxImpl::Commit). The two costs then overlap
// instead of adding up: a durable one-key commit costs about one sync.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "boltpp/file.h"
#include "boltpp/status.h"

namespace boltpp::wal {

class SyncThread {
 public:
  SyncThread() = default;
  SyncThread(const SyncThread&) = delete;
  SyncThread& operator=(const SyncThread&) = delete;
  // Joins the thread. Requires: no sync in flight (every Start was waited for).
  ~SyncThread();

  // Starts file->Sync() on the thread (started at the first call).
  // Requires: no sync in flight; the caller does not touch the file until
  // Wait returns.
  void Start(File* file);
  // Waits for the sync Start began and returns its status.
  Status Wait();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  File* file_ = nullptr;  // the file to sync, while one is requested
  bool busy_ = false;     // a sync was started and not waited for
  bool done_ = false;     // the requested sync finished with result_
  bool stop_ = false;
  Status result_;
  std::thread thread_;
};

}  // namespace boltpp::wal
