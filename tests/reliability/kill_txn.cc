// File: tests/reliability/kill_txn.cc
#include "reliability/kill_txn.h"

#include <random>

namespace boltpp::reliability {
using namespace boltpp::testing;  // the shared test toolkit (tests/testutil)

Ops KillTxnOps(uint64_t seed, uint64_t i) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + i);
  GenConfig c;
  c.key_space = 300;
  c.top_buckets = 3;
  c.max_depth = 1;
  c.p_delete = 0.3;
  // Every 25th transaction is large (file growth, splits); others are small.
  const int n = i % 25 == 0 ? 400 : std::uniform_int_distribution<int>(1, 40)(rng);
  Ops ops = RandomOps(rng, c, n);
  ops.push_back(Op{Op::kPut, {"state"}, "n", std::to_string(i)});
  return ops;
}

Result<uint64_t> KillTxnCommitted(DB* db) {
  uint64_t n = 0;
  Status s = db->View([&](Tx& tx) {
    Bucket b = tx.GetBucket("state");
    if (!b) return tx.status();
    auto v = b.Get("n");
    if (v) n = std::stoull(std::string(*v));
    return Status::OK();
  });
  if (!s.ok()) return s;
  return n;
}

}  // namespace boltpp::reliability
