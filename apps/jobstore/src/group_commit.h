// File: apps/jobstore/src/group_commit.h
// Group commit for the stores (StoreOptions::batch), on DB::Update only.
// Written here rather than using DB::Batch because Batch's leader always
// waits its full delay before committing: with N clients each waiting for
// its own durable commit, every round trip then costs the delay plus one
// commit. Here a group commits as soon as it holds as many callers as the
// last group did (a closed loop of N clients commits N at a time without
// idle time), and callers that arrive during a commit form the next group.
//
// Wake-ups are targeted (each call waits on its own condition variable; the
// gathering leader is woken once, when its group is complete; the leader
// hands the lead to the first queued call): with 16 clients on 2 cores a
// shared condition variable woke every waiter on every arrival (18 futex
// calls per transition, half the CPU of a 16-client run).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "boltpp/boltpp.h"
#include "boltpp/jobstore/errors.h"
#include "boltpp/jobstore/execution_store.h"  // GroupCommitStats

namespace boltpp::jobstore::internal {

class GroupCommit {
 public:
  // max_calls: at most this many calls share a commit; max_wait: how long
  // a group's leader waits for the expected callers before committing.
  GroupCommit(DB& db, size_t max_calls, std::chrono::microseconds max_wait);

  // Runs fn in a write transaction shared with concurrent callers and
  // returns fn's result, or the storage error that failed the commit.
  // Contract for fn (that of RunWrite): a guard failure is returned before
  // anything is written (the others still commit); a kStorage or
  // kBadRecord error aborts the shared transaction, after which every call
  // of the group is run again alone (so fn must be safe to re-run).
  Error Run(const std::function<Error(Tx&)>& fn);

  // Commits and calls so far (calls / commits = the mean group size).
  GroupCommitStats stats() const;

 private:
  struct Call {
    const std::function<Error(Tx&)>* fn;
    Error result;
    bool done = false;  // result is set (guarded by mu_)
    bool lead = false;  // this call's thread leads the next group (mu_)
    std::condition_variable wake;
  };
  // The leader's part: gathers a group (lock held on entry and exit),
  // commits it, wakes its members and hands the lead on.
  void Lead(std::unique_lock<std::mutex>& lock);
  // Commits the calls together (or, when that fails, each alone).
  void Commit(const std::vector<Call*>& calls);

  DB& db_;
  const size_t max_calls_;
  const std::chrono::microseconds max_wait_;
  mutable std::mutex mu_;
  std::condition_variable group_complete_;  // wakes a gathering leader
  std::deque<Call*> queue_;                 // calls waiting for a group, arrival order
  bool leading_ = false;                    // a leader is gathering or committing
  size_t want_ = 0;                         // a gathering leader waits for this many
  size_t expected_;                         // callers the next group waits for
  GroupCommitStats stats_;
};

}  // namespace boltpp::jobstore::internal
