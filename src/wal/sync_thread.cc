// File: src/wal/sync_thread.cc
#include "wal/sync_thread.h"

#include <utility>

namespace boltpp::wal {

SyncThread::~SyncThread() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SyncThread::Start(File* file) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    file_ = file;
    busy_ = true;
    done_ = false;
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }
  cv_.notify_all();
}

Status SyncThread::Wait() {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait(lk, [this] { return done_ || !busy_; });
  busy_ = false;
  return std::exchange(result_, Status::OK());
}

void SyncThread::Loop() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait(lk, [this] { return stop_ || file_ != nullptr; });
    if (file_ == nullptr) return;  // stopping, nothing requested
    File* file = std::exchange(file_, nullptr);
    lk.unlock();
    Status s = file->Sync();
    lk.lock();
    result_ = std::move(s);
    done_ = true;
    cv_.notify_all();
  }
}

}  // namespace boltpp::wal
