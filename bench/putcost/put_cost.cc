// bench/putcost/put_cost.cc: boltpp_put_cost, the smallest program that
// exercises the write path, for instruction counts under callgrind:
//
//   valgrind --tool=callgrind --toggle-collect='*PutPhase*'
//            build-bench/bench/boltpp_put_cost DIR random|sorted N
//   (one command line)
//
// It creates DIR/put_cost.db fresh, then in one write transaction puts N
// keys (24 bytes, 150-byte values, as the benchmark's redb and sorted
// suites) in random or key order and commits. PutPhase (puts plus commit)
// is the only function collected by the command above, so the total divided
// by N is the instructions per put, commit included.
//
// It prints the bytes the database has in use at the end (the high-water
// mark) on stderr, to compare page layouts.
//
// The other write rows of bench/run.sh, same command:
//   seq|rnd|seq-nest|rnd-nest  the bbolt bench writes: N keys (8 bytes, 32-byte
//                              values) in transactions of 10,000, each in
//                              bucket "bench" (the -nest modes: in a bucket
//                              nested under it, one per transaction, named by
//                              the next key); commits are not synced
//   delete                     N random keys loaded in one transaction (not
//                              collected), then the first half of them
//                              deleted in one transaction: collect
//                              '*DeletePhase*' and divide by N / 2
//   wal-commit                 WAL mode: N random keys loaded in one
//                              transaction (not collected), then 10,000
//                              durable one-key transactions (the redb suite's
//                              individual writes): collect '*CommitPhase*'
//                              and divide by 10,000. Under perf, preload a
//                              no-op fdatasync to see the CPU side alone.
#include <boltpp/boltpp.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "put_cost: %s\n", what.c_str());
  std::exit(1);
}

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

void PutBE64(char* p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = static_cast<char>(v & 0xFF);
}

// Not inlined, so that callgrind can collect exactly this function.
__attribute__((noinline)) void PutPhase(boltpp::DB& db, bool sorted, uint64_t n) {
  auto tx = db.Begin(true);
  if (!tx.ok()) Die(tx.status().ToString());
  auto bucket = tx->CreateBucketIfNotExists("t");
  if (!bucket.ok()) Die(bucket.status().ToString());
  char key[24], value[150];
  std::memset(value, 'v', sizeof value);
  for (uint64_t i = 0; i < n; i++) {
    const uint64_t r = Mix(i);
    PutBE64(key, sorted ? i : r);
    std::memcpy(key + 8, &r, 8);
    std::memcpy(key + 16, &i, 8);
    std::memcpy(value, &r, 8);
    if (boltpp::Status s =
            bucket->Put(boltpp::Bytes(key, sizeof key), boltpp::Bytes(value, sizeof value));
        !s.ok())
      Die(s.ToString());
  }
  if (boltpp::Status s = tx->Commit(); !s.ok()) Die(s.ToString());
}

void PutBE32(char* p, uint32_t v) {
  for (int i = 3; i >= 0; i--, v >>= 8) p[i] = static_cast<char>(v & 0xFF);
}

// The bbolt bench write modes (bench/src/workloads.cc BboltWrites).
__attribute__((noinline)) void PutPhaseBbolt(boltpp::DB& db, bool rnd, bool nest, uint64_t n) {
  constexpr uint64_t kBatch = 10000;
  uint64_t rng = 3 * 0x9E3779B97F4A7C15ULL + 7;
  uint32_t seq = 0;
  auto next = [&]() -> uint32_t {
    if (!rnd) return seq++;
    rng = Mix(rng);
    return static_cast<uint32_t>(rng >> 32);
  };
  char key[8] = {0}, value[32] = {0};
  for (uint64_t i = 0; i < n; i += kBatch) {
    auto tx = db.Begin(true);
    if (!tx.ok()) Die(tx.status().ToString());
    auto bucket = tx->CreateBucketIfNotExists("bench");
    if (!bucket.ok()) Die(bucket.status().ToString());
    boltpp::Bucket b = *bucket;
    if (nest) {
      char name[8] = {0};
      PutBE32(name, next());
      auto nested = b.CreateBucketIfNotExists(boltpp::Bytes(name, 8));
      if (!nested.ok()) Die(nested.status().ToString());
      b = *nested;
    }
    for (uint64_t j = 0; j < kBatch && i + j < n; j++) {
      PutBE32(key, next());
      if (boltpp::Status s = b.Put(boltpp::Bytes(key, 8), boltpp::Bytes(value, 32)); !s.ok())
        Die(s.ToString());
    }
    if (boltpp::Status s = tx->Commit(); !s.ok()) Die(s.ToString());
  }
}

void RandomKey(uint64_t i, char* key) {
  const uint64_t r = Mix(i);
  PutBE64(key, r);
  std::memcpy(key + 8, &r, 8);
  std::memcpy(key + 16, &i, 8);
}

__attribute__((noinline)) void DeletePhase(boltpp::DB& db, uint64_t n) {
  auto tx = db.Begin(true);
  if (!tx.ok()) Die(tx.status().ToString());
  boltpp::Bucket bucket = tx->GetBucket("t");
  char key[24];
  for (uint64_t i = 0; i < n / 2; i++) {
    RandomKey(i, key);
    if (boltpp::Status s = bucket.Delete(boltpp::Bytes(key, sizeof key)); !s.ok())
      Die(s.ToString());
  }
  if (boltpp::Status s = tx->Commit(); !s.ok()) Die(s.ToString());
}

constexpr uint64_t kOneKeyCommits = 10000;

__attribute__((noinline)) void CommitPhase(boltpp::DB& db, uint64_t n) {
  char key[24], value[150];
  std::memset(value, 'v', sizeof value);
  for (uint64_t i = n; i < n + kOneKeyCommits; i++) {
    auto tx = db.Begin(true);
    if (!tx.ok()) Die(tx.status().ToString());
    boltpp::Bucket bucket = tx->GetBucket("t");
    RandomKey(i, key);
    if (boltpp::Status s =
            bucket.Put(boltpp::Bytes(key, sizeof key), boltpp::Bytes(value, sizeof value));
        !s.ok())
      Die(s.ToString());
    if (boltpp::Status s = tx->Commit(); !s.ok()) Die(s.ToString());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) Die("usage: boltpp_put_cost DIR random|sorted N");
  const std::string path = std::string(argv[1]) + "/put_cost.db";
  const std::string order = argv[2];
  const bool bbolt = order == "seq" || order == "rnd" || order == "seq-nest" || order == "rnd-nest";
  const bool wal_commit = order == "wal-commit";
  if (order != "random" && order != "sorted" && order != "delete" && !bbolt && !wal_commit)
    Die("order must be random, sorted, seq, rnd, seq-nest, rnd-nest, delete or wal-commit");
  const uint64_t n = std::strtoull(argv[3], nullptr, 10);
  std::remove(path.c_str());
  boltpp::Options opts;
  opts.no_sync = bbolt;  // callgrind counts instructions: the syncs only slow it down
  opts.wal = wal_commit;
  auto db = boltpp::DB::Open(path, opts);
  if (!db.ok()) Die(db.status().ToString());
  if (bbolt) {
    PutPhaseBbolt(**db, order.rfind("rnd", 0) == 0, order.find("nest") != std::string::npos, n);
  } else {
    PutPhase(**db, order == "sorted", n);
    if (order == "delete") DeletePhase(**db, n);
    if (wal_commit) CommitPhase(**db, n);
  }
  {
    // The pages the load left in use (to compare layouts; not collected).
    auto tx = (*db)->Begin(false);
    if (!tx.ok()) Die(tx.status().ToString());
    std::fprintf(stderr, "put_cost: %s %llu: %lld bytes in use\n", order.c_str(),
                 static_cast<unsigned long long>(n), static_cast<long long>(tx->Size()));
  }
  if (boltpp::Status s = (*db)->Close(); !s.ok()) Die(s.ToString());
  std::remove(path.c_str());
  return 0;
}
