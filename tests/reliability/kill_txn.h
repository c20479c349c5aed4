// File: tests/reliability/kill_txn.h
// The transactions of the kill test. Transaction i of a run with a given
// seed is a pure function of (seed, i), so the parent can rebuild exactly
// what the killed child committed. Every transaction also sets state/n = i,
// which tells both sides how far the database got.
#pragma once

#include <cstdint>
#include <string>

#include "boltpp/boltpp.h"
#include "testutil/model.h"

namespace boltpp::reliability {

using boltpp::testing::Ops;

Ops KillTxnOps(uint64_t seed, uint64_t i);
// state/n of the database (0 when missing).
Result<uint64_t> KillTxnCommitted(DB* db);

}  // namespace boltpp::reliability
