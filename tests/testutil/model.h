// File: tests/testutil/model.h
// A plain in-memory model of a database (nested buckets of keys), a small
// operation language applied identically to a Tx and to the model, random
// generators for it, and the walk that reads a whole database into a model
// (snapshot.h's flat DBSnap is built from the same walk).
//
// Operations are lenient so that the DB and the model agree on every
// outcome without the generator knowing the state: a put creates the
// buckets on its path, deleting a missing key or bucket does nothing, and a
// name that is a key where a bucket is wanted (or the reverse) makes the
// operation a no-op in both.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "boltpp/boltpp.h"
#include "testutil/snapshot.h"

namespace boltpp::testing {

struct MBucket {
  std::map<std::string, std::string> kv;
  std::map<std::string, MBucket> sub;
  uint64_t seq = 0;
  bool operator==(const MBucket& o) const { return kv == o.kv && sub == o.sub && seq == o.seq; }
};

using Path = BucketPath;

struct Op {
  enum Type : uint8_t {
    kPut,
    kDelete,
    kDeleteRange,
    kCreateBucket,
    kDeleteBucket,
    kNextSeq,
    kMoveBucket,  // moves bucket `key` from `path` into `dst` (both must exist)
  };
  Type type = kPut;
  Path path;          // bucket the op works in (non-empty for key ops)
  std::string key;    // key, or bucket name, or range start
  std::string value;  // value, or range end (exclusive; "" = to the end)
  Path dst;           // kMoveBucket: the destination ({} = the top level)
};
using Ops = std::vector<Op>;

// Applies op to tx. Returns OK for every lenient no-op; an error only when
// the engine failed.
Status ApplyOp(Tx& tx, const Op& op);
Status ApplyOps(Tx& tx, const Ops& ops);
void ApplyOp(MBucket* root, const Op& op);
void ApplyOps(MBucket* root, const Ops& ops);

// The whole database as tx sees it. Returns the first cursor or tx error.
Status ReadModel(const Tx& tx, MBucket* out);
Status ReadModel(DB* db, MBucket* out);
// "" when equal, else a description of the first differences.
std::string Diff(const MBucket& want, const MBucket& got);
size_t CountKeys(const MBucket& b);
// The same content as snapshot.h's flat map of buckets by path.
DBSnap Flatten(const MBucket& root);

// Random generation, deterministic for a given rng state.
struct GenConfig {
  int key_space = 400;     // keys k00000.. per bucket
  int max_depth = 2;       // nesting of random bucket paths
  int top_buckets = 4;     // b0..b{n-1}
  double p_large = 0.02;   // value 3000-20000 bytes (overflow pages)
  double p_medium = 0.15;  // value 200-1500 bytes
  double p_delete = 0.25;
  double p_delete_range = 0.02;
  double p_bucket_op = 0.03;  // create/delete a nested bucket
  double p_seq = 0.02;
  double p_move = 0;  // move a bucket (0 keeps the streams of older seeds)
};
std::string RandomValue(std::mt19937_64& rng, const GenConfig& c);
std::string KeyName(int i);
Path RandomPath(std::mt19937_64& rng, const GenConfig& c);
Op RandomOp(std::mt19937_64& rng, const GenConfig& c);
Ops RandomOps(std::mt19937_64& rng, const GenConfig& c, int n);

// Full check of a database: Check() returns nothing and a read transaction
// walks everything. Returns "" or what went wrong.
std::string CheckDB(DB* db);

}  // namespace boltpp::testing
