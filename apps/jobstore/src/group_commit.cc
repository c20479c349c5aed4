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

Error GroupCommit::Run(const std::function<Error(Tx&)>& fn) {
  Call call{&fn};
  std::unique_lock lock(mu_);
  queue_.push_back(&call);
  cv_.notify_all();  // a gathering leader counts arrivals
  while (!call.done) {
    if (leading_) {
      cv_.wait(lock, [&] { return call.done || !leading_; });
      continue;
    }
    // Lead the next group: wait for the expected callers (bounded), take them.
    leading_ = true;
    const size_t want = std::min(expected_, max_calls_);
    cv_.wait_for(lock, max_wait_, [&] { return queue_.size() >= want; });
    const size_t n = std::min(queue_.size(), max_calls_);
    std::vector<Call*> group(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    expected_ = n;
    lock.unlock();
    Commit(group);
    lock.lock();
    for (Call* c : group) c->done = true;
    leading_ = false;
    cv_.notify_all();
  }
  return call.result;
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
