// File: src/batch.cc
// DB::Batch: concurrent callers are coalesced into one read-write
// transaction (bbolt db.go Batch). The first caller of a batch leads it: it
// waits up to max_batch_delay (or until max_batch_size calls have joined),
// then runs every call in one Update. A call that fails is taken out and its
// caller re-runs it alone; the rest are retried together.
#include <exception>

#include "impl.h"

namespace boltpp {

struct BatchCall {
  const std::function<Status(Tx&)>* fn;
  Status result;
  bool done = false;
  bool solo = false;
};

struct BatchGroup {
  std::vector<BatchCall*> calls;
  bool full = false;
};

Status CallUser(const std::function<Status(Tx&)>& fn, Tx& tx) {
  try {
    return fn(tx);
  } catch (const std::exception& e) {
    return Status(Code::kAborted, std::string("panic: ") + e.what());
  } catch (...) {
    return Status(Code::kAborted, "panic: unknown exception");
  }
}

Status DBImpl::RunBatch(BatchGroup* group) {
  std::vector<BatchCall*> calls = group->calls;
  while (!calls.empty()) {
    size_t failed_index = calls.size();
    Status s = Update([&](Tx& tx) {
      for (size_t i = 0; i < calls.size(); i++) {
        Status r = CallUser(*calls[i]->fn, tx);
        if (!r.ok()) {
          failed_index = i;
          return r;
        }
      }
      return Status::OK();
    });
    if (failed_index < calls.size()) {
      calls[failed_index]->solo = true;
      calls[failed_index] = calls.back();
      calls.pop_back();
      continue;
    }
    for (BatchCall* c : calls) c->result = s;
    break;
  }
  return Status::OK();
}

Status DBImpl::Batch(const std::function<Status(Tx&)>& fn) {
  if (opts.max_batch_size <= 0 || opts.max_batch_delay.count() <= 0) return Update(fn);
  BatchCall call{&fn};
  std::unique_lock<std::mutex> lk(batch_mu_);
  const bool leader = !batch_;
  if (leader) batch_ = std::make_shared<BatchGroup>();
  std::shared_ptr<BatchGroup> group = batch_;
  group->calls.push_back(&call);
  if (group->calls.size() >= static_cast<size_t>(opts.max_batch_size)) {
    group->full = true;
    batch_.reset();  // the next caller starts a new batch
    batch_cv_.notify_all();
  }
  if (leader) {
    batch_cv_.wait_for(lk, opts.max_batch_delay, [&] { return group->full; });
    if (batch_ == group) batch_.reset();
    lk.unlock();
    (void)RunBatch(group.get());
    lk.lock();
    for (BatchCall* c : group->calls) c->done = true;
    batch_cv_.notify_all();
  } else {
    batch_cv_.wait(lk, [&] { return call.done; });
  }
  lk.unlock();
  if (call.solo) return Update(fn);
  return call.result;
}

}  // namespace boltpp
