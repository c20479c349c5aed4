// File: apps/jobstore/src/group_commit.cc
#include "group_commit.h"

#include <algorithm>
#include <exception>

#include "internal.h"

namespace boltpp::jobstore::internal {

namespace {

// A store operation's fn, with exceptions turned into a storage error (the
// transaction then rolls back instead of unwinding through the engine).
Error CallFn(const std::function<Error(Tx&)>& fn, Tx& tx) {
  try {
    return fn(tx);
  } catch (const std::exception& e) {
    return Error(Errc::kStorage, std::string("exception in a write: ") + e.what());
  }
}

bool AbortsTransaction(const Error& e) {
  return e.code() == Errc::kStorage || e.code() == Errc::kBadRecord;
}

}  // namespace

GroupCommit::GroupCommit(DB& db, size_t max_calls, std::chrono::microseconds max_wait)
    : db_(db),
      max_calls_(std::max<size_t>(1, max_calls)),
      max_wait_(max_wait),
      expected_(max_calls_) {}

// Invariants (under mu_): leading_ is true from the moment a call is made
// leader until that leader has handed on; while it is true and the leader
// is not among them, the queued calls wait for the lead or their result;
// when a leader finishes with calls still queued, the first of them becomes
// the leader, so no queued call is ever left without one.
Error GroupCommit::Run(const std::function<Error(Tx&)>& fn) {
  Call call{&fn};
  std::unique_lock lock(mu_);
  queue_.push_back(&call);
  if (!leading_) {
    leading_ = true;  // no group in progress: lead at once
    call.lead = true;
  } else if (want_ != 0 && queue_.size() >= want_) {
    group_complete_.notify_one();  // the gathering leader's group is complete
  }
  call.wake.wait(lock, [&] { return call.done || call.lead; });
  if (!call.done) Lead(lock);
  return call.result;
}

void GroupCommit::Lead(std::unique_lock<std::mutex>& lock) {
  // This leader's call is the queue's first (it was queued on an empty
  // queue, or it was the first when the previous leader handed on).
  using Clock = std::chrono::steady_clock;
  const auto gather_start = Clock::now();
  want_ = std::min(expected_, max_calls_);
  group_complete_.wait_for(lock, max_wait_, [&] { return queue_.size() >= want_; });
  want_ = 0;
  const size_t n = std::min(queue_.size(), max_calls_);
  std::vector<Call*> group(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  expected_ = n;
  lock.unlock();
  const auto commit_start = Clock::now();
  Commit(group);
  const auto commit_end = Clock::now();
  lock.lock();
  stats_.gather_seconds += std::chrono::duration<double>(commit_start - gather_start).count();
  stats_.commit_seconds += std::chrono::duration<double>(commit_end - commit_start).count();
  stats_.commits++;
  stats_.calls += n;
  stats_.largest = std::max<uint64_t>(stats_.largest, n);
  // Notified under the lock: a woken call returns and destroys its Call
  // (and its condition variable) as soon as it can take the lock.
  for (Call* c : group) {
    c->done = true;
    c->wake.notify_one();
  }
  if (queue_.empty()) {
    leading_ = false;
  } else {
    queue_.front()->lead = true;
    queue_.front()->wake.notify_one();
  }
}

GroupCommitStats GroupCommit::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void GroupCommit::Commit(const std::vector<Call*>& calls) {
  std::vector<Error> results(calls.size());
  Status s = db_.Update([&](Tx& tx) -> Status {
    for (size_t i = 0; i < calls.size(); ++i) {
      results[i] = CallFn(*calls[i]->fn, tx);
      if (AbortsTransaction(results[i])) return AbortWith(results[i]);
    }
    return Status::OK();
  });
  const bool aborted_by_a_call = std::any_of(results.begin(), results.end(),
                                             [](const Error& e) { return AbortsTransaction(e); });
  if (!aborted_by_a_call) {
    for (size_t i = 0; i < calls.size(); ++i) {
      calls[i]->result = results[i].ok() ? StorageError(s) : results[i];
    }
    return;
  }
  // One call failed the shared transaction: nothing committed; run each
  // alone so that only the failing one reports its error.
  for (Call* c : calls) {
    Error result;
    Status alone = db_.Update([&](Tx& tx) -> Status {
      result = CallFn(*c->fn, tx);
      return AbortWith(result);
    });
    c->result = result.ok() ? StorageError(alone) : result;
  }
}

}  // namespace boltpp::jobstore::internal
