// File: tests/reliability/workload.cc
#include "reliability/workload.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace boltpp::reliability {
using namespace boltpp::testing;  // the shared test toolkit (tests/testutil)

namespace {

Op Put(Path p, std::string k, std::string v) {
  return Op{Op::kPut, std::move(p), std::move(k), std::move(v)};
}
Op Del(Path p, std::string k) { return Op{Op::kDelete, std::move(p), std::move(k), {}}; }

std::string Filler(std::mt19937_64& rng, size_t n) {
  std::string v(n, '\0');
  for (auto& c : v) c = static_cast<char>('A' + rng() % 26);
  return v;
}

Step Make(Step::Kind k, std::string name, Ops ops = {}) {
  Step s;
  s.kind = k;
  s.name = std::move(name);
  s.ops = std::move(ops);
  return s;
}

std::vector<Ops> BatchOps(std::mt19937_64& rng, const std::string& tag) {
  std::vector<Ops> calls;
  for (int c = 0; c < kBatchCallers; c++) {
    Ops ops;
    for (int i = 0; i < 25; i++) {
      ops.push_back(
          Put({"c" + std::to_string(c)}, tag + KeyName(i), Filler(rng, 40 + rng() % 200)));
    }
    calls.push_back(std::move(ops));
  }
  return calls;
}

}  // namespace

std::vector<Step> MakeWorkload(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Step> w;

  {  // 1. buckets, nested bucket, a few small keys
    Ops ops{Op{Op::kCreateBucket, {}, "b0", {}}, Op{Op::kCreateBucket, {}, "b1", {}},
            Op{Op::kCreateBucket, {"b0"}, "n0", {}}};
    for (int i = 0; i < 40; i++) ops.push_back(Put({"b0"}, KeyName(i), Filler(rng, 20)));
    w.push_back(Make(Step::kUpdate, "create", std::move(ops)));
  }
  {  // 2. grow the file well past the first 32 KiB map
    Ops ops;
    for (int i = 0; i < 120; i++) ops.push_back(Put({"b1"}, KeyName(i), Filler(rng, 700)));
    w.push_back(Make(Step::kUpdate, "grow", std::move(ops)));
  }
  {  // 3. overflow values in a nested bucket, manual transaction
    Ops ops;
    for (int i = 0; i < 3; i++)
      ops.push_back(Put({"b0", "n0"}, KeyName(i), Filler(rng, 6000 + rng() % 14000)));
    w.push_back(Make(Step::kManual, "overflow", std::move(ops)));
  }
  {  // 4. concurrent Batch callers coalesced into one commit
    Step s = Make(Step::kBatch, "batch1");
    s.batch = BatchOps(rng, "x");
    w.push_back(std::move(s));
  }
  {  // 5. page splits: many small keys in random order
    std::vector<int> idx(400);
    std::iota(idx.begin(), idx.end(), 0);
    std::shuffle(idx.begin(), idx.end(), rng);
    Ops ops;
    for (int i : idx) ops.push_back(Put({"b2"}, KeyName(i), Filler(rng, 30)));
    w.push_back(Make(Step::kUpdate, "split", std::move(ops)));
  }
  w.push_back(Make(Step::kCheckpoint, "checkpoint1"));
  w.push_back(Make(Step::kReopen, "reopen1"));
  w.push_back(Make(Step::kBackup, "backup1"));
  {  // 8. merges: delete most of b2 with a cursor, and some of b1
    Ops ops{Op{Op::kDeleteRange, {"b2"}, KeyName(10), KeyName(370)}};
    for (int i = 0; i < 120; i += 3) ops.push_back(Del({"b1"}, KeyName(i)));
    w.push_back(Make(Step::kManual, "merge", std::move(ops)));
  }
  // 9. delete a bucket with a nested bucket and overflow pages
  w.push_back(Make(Step::kUpdate, "delete-bucket", {Op{Op::kDeleteBucket, {}, "b0", {}}}));
  {  // 10. rolled back work must leave no trace
    Ops ops;
    for (int i = 0; i < 50; i++) ops.push_back(Put({"b1"}, "r" + KeyName(i), Filler(rng, 300)));
    ops.push_back(Op{Op::kDeleteBucket, {}, "b2", {}});
    w.push_back(Make(Step::kRollback, "rollback", std::move(ops)));
  }
  {  // 11. sequences, and new pages reusing freed ones
    Ops ops{Op{Op::kNextSeq, {"b1"}, {}, {}}, Op{Op::kNextSeq, {"b3"}, {}, {}},
            Op{Op::kNextSeq, {"b3"}, {}, {}}};
    for (int i = 0; i < 60; i++) ops.push_back(Put({"b3", "n1"}, KeyName(i), Filler(rng, 250)));
    w.push_back(Make(Step::kUpdate, "reuse", std::move(ops)));
  }
  {
    Step s = Make(Step::kBatch, "batch2");
    s.batch = BatchOps(rng, "y");
    w.push_back(std::move(s));
  }
  w.push_back(Make(Step::kUpdate, "delete-b1", {Op{Op::kDeleteBucket, {}, "b1", {}}}));
  w.push_back(Make(Step::kCheckpoint, "checkpoint2"));
  w.push_back(Make(Step::kShrink, "shrink"));
  w.push_back(Make(Step::kReopen, "reopen2"));
  {  // 15. a random mix
    GenConfig c;
    c.key_space = 200;
    w.push_back(Make(Step::kUpdate, "random", RandomOps(rng, c, 150)));
  }
  w.push_back(Make(Step::kBackup, "backup2"));
  return w;
}

}  // namespace boltpp::reliability
