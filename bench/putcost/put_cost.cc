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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) Die("usage: boltpp_put_cost DIR random|sorted N");
  const std::string path = std::string(argv[1]) + "/put_cost.db";
  const std::string order = argv[2];
  if (order != "random" && order != "sorted") Die("order must be random or sorted");
  const uint64_t n = std::strtoull(argv[3], nullptr, 10);
  std::remove(path.c_str());
  auto db = boltpp::DB::Open(path);
  if (!db.ok()) Die(db.status().ToString());
  PutPhase(**db, order == "sorted", n);
  if (boltpp::Status s = (*db)->Close(); !s.ok()) Die(s.ToString());
  std::remove(path.c_str());
  return 0;
}
