// bench/upsert/sorted_upsert.cc: boltpp_sorted_upsert, the write pattern of
// the DAG store's initialize-all (apps/dagstore: inverted::AddMerged) on the
// engine alone, so that engine changes to it can be measured without the
// CAR reading around it.
//
//   boltpp_sorted_upsert DIR [SHARDS] [GROUP] [KEYS_PER_SHARD] [REPS] [VALUE_BYTES]
//
// SHARDS lists (default 100) of KEYS_PER_SHARD (default 2,400) random
// 34-byte sha2-256-shaped multihashes, sorted. They are committed GROUP
// shards (default 7) per WAL-mode transaction, each transaction taking its
// keys in sorted order and appending a VALUE_BYTES-byte value (default 6;
// a shard id takes 1-4 bytes since the store's schema 2, a shard key took 65
// before) to each key's old one
// (an upsert: read the old value, write the new). Two ways, timed side by
// side in rounds (REPS, default 5, each on a fresh database):
//   bucket  Bucket::Get then Bucket::Put (two descents from the root);
//   cursor  Cursor::Seek then Cursor::Put (searches from the cursor).
// Prints the best round's CPU seconds of each way, and the check result of
// the last database.
#include <boltpp/boltpp.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace boltpp;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "boltpp_sorted_upsert: %s\n", what.c_str());
  std::exit(1);
}

std::vector<std::vector<std::string>> MakeShards(size_t shards, size_t per) {
  std::mt19937_64 rng(42);
  std::vector<std::vector<std::string>> keys(shards);
  for (auto& list : keys) {
    for (size_t i = 0; i < per; i++) {
      std::string k(34, '\0');
      k[0] = 0x12;  // sha2-256, 32 bytes
      k[1] = 0x20;
      for (size_t j = 2; j < k.size(); j += 8) {
        const uint64_t r = rng();
        std::memcpy(&k[j], &r, std::min<size_t>(8, k.size() - j));
      }
      list.push_back(std::move(k));
    }
    std::sort(list.begin(), list.end());
  }
  return keys;
}

Status Upsert(Tx& tx, const std::vector<std::string_view>& sorted, bool cursor,
              const std::string& shard_key) {
  Bucket bucket = tx.GetBucket("inverted");
  Cursor at = bucket.NewCursor();
  std::string value;
  for (std::string_view key : sorted) {
    value.clear();
    if (cursor) {
      const std::optional<Entry> found = at.Seek(key);
      if (found && found->key == key) value.assign(found->value);
    } else if (const std::optional<Bytes> old = bucket.Get(key)) {
      value.assign(*old);
    }
    value += shard_key;
    Status s = cursor ? at.Put(key, value) : bucket.Put(key, value);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// One round on a fresh database; returns the CPU seconds of the commits.
double Round(const std::string& path, const std::vector<std::vector<std::string>>& shards,
             size_t group, bool cursor, const std::string& shard_key,
             std::vector<std::string>* problems) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-wal2");
  Options o;
  o.wal = true;
  auto db = DB::Open(path, o);
  if (!db.ok()) Fail("open " + path + ": " + db.status().ToString());
  Status s = (*db)->Update([](Tx& tx) { return tx.CreateBucket("inverted").status(); });
  if (!s.ok()) Fail(s.ToString());
  // Each transaction's keys in one sorted run, made before the clock starts
  // (the store merges its shards' sorted lists; the engine is what is timed).
  std::vector<std::vector<std::string_view>> runs;
  for (size_t first = 0; first < shards.size(); first += group) {
    std::vector<std::string_view>& sorted = runs.emplace_back();
    for (size_t i = first; i < std::min(shards.size(), first + group); i++)
      sorted.insert(sorted.end(), shards[i].begin(), shards[i].end());
    std::sort(sorted.begin(), sorted.end());
  }
  const double start = ThreadCpuSeconds();
  for (const auto& sorted : runs) {
    s = (*db)->Update([&](Tx& tx) { return Upsert(tx, sorted, cursor, shard_key); });
    if (!s.ok()) Fail(s.ToString());
  }
  const double secs = ThreadCpuSeconds() - start;
  s = (*db)->View([&](Tx& tx) {
    *problems = tx.Check();
    return Status::OK();
  });
  if (!s.ok()) Fail(s.ToString());
  if (Status c = (*db)->Close(); !c.ok()) Fail(c.ToString());
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: boltpp_sorted_upsert DIR [SHARDS] [GROUP] [KEYS_PER_SHARD] [REPS] "
                 "[VALUE_BYTES]\n");
    return 2;
  }
  auto arg = [&](int i, size_t def) {
    return argc > i ? static_cast<size_t>(std::strtoull(argv[i], nullptr, 10)) : def;
  };
  const std::string dir = argv[1];
  const size_t shards = arg(2, 100), group = std::max<size_t>(1, arg(3, 7)), per = arg(4, 2400),
               reps = std::max<size_t>(1, arg(5, 5)), value_bytes = std::max<size_t>(1, arg(6, 6));
  // What each shard appends to a key's value (a length byte, then filler:
  // the size is what matters to the engine).
  const std::string shard_key =
      std::string(1, static_cast<char>(value_bytes - 1)) + std::string(value_bytes - 1, 's');
  std::filesystem::create_directories(dir);
  const auto keys = MakeShards(shards, per);
  double best[2] = {1e18, 1e18};
  std::vector<std::string> problems;
  for (size_t r = 0; r < reps; r++) {
    for (int way = 0; way < 2; way++) {
      best[way] = std::min(best[way],
                           Round(dir + "/upsert.db", keys, group, way == 1, shard_key, &problems));
      if (!problems.empty()) Fail("check: " + problems[0]);
    }
  }
  const double puts = static_cast<double>(shards * per);
  std::printf(
      "sorted upsert, %zu shards x %zu keys, %zu-byte values, %zu shards per WAL commit, "
      "best of %zu rounds: "
      "bucket Get+Put %.3f s CPU (%.2f us/key), cursor Seek+Put %.3f s (%.2f us/key), %.2fx; "
      "check OK\n",
      shards, per, value_bytes, group, reps, best[0], best[0] / puts * 1e6, best[1],
      best[1] / puts * 1e6, best[0] / best[1]);
  return 0;
}
