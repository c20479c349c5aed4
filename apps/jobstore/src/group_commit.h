// File: apps/jobstore/src/group_commit.h
// Group commit for the stores (StoreOptions::batch), on DB::Update only.
// Written here rather than using DB::Batch because Batch's leader always
// waits its full delay before committing: with N clients each waiting for
// its own durable commit, every round trip then costs the delay plus one
// commit. Here a group commits as soon as it holds as many callers as the
// last group did (a closed loop of N clients commits N at a time without
// idle time), and callers that arrive during a commit form the next group.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

#include "boltpp/boltpp.h"
#include "boltpp/jobstore/errors.h"

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

 private:
  struct Call {
    const std::function<Error(Tx&)>* fn;
    Error result;
    bool done = false;
  };
  // Commits the calls together (or, when that fails, each alone).
  void Commit(const std::vector<Call*>& calls);

  DB& db_;
  const size_t max_calls_;
  const std::chrono::microseconds max_wait_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call*> queue_;  // calls waiting for the next group
  bool leading_ = false;      // a leader is gathering or committing a group
  size_t expected_;           // callers the next group waits for
};

}  // namespace boltpp::jobstore::internal
