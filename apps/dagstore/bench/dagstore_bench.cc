// Side-by-side benchmark of the DAG store's KV work (apps-spec 4.4 D1, D3,
// D4) with a LevelDB twin doing the same registration writes (synced, as the
// Go dagstore does). Run: apps/dagstore/bench/run.sh [BUILD_DIR].
//
//   dagstore_bench DIR [--shards N] [--one-by-one M] [--lookups L]
//
// D1a  migrate: N lazy registrations, durable batches of 10,000
//      (boltpp: RegisterLazyBatch; LevelDB: WriteBatch with sync)
// D1b  M one-by-one durable lazy registrations (boltpp: RegisterShard;
//      LevelDB: Put with sync)
// D3   L lookups of random multihashes through the inverted index (one thread)
// D4   reopening the store with N + M shard records (time to ready)
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "boltpp/boltpp.h"
#include "boltpp/dagstore/store.h"

using namespace boltpp;
using namespace boltpp::dagstore;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string KeyOf(size_t i) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "baga6ea4seaq%052zu", i);
  return buf;
}

void Fail(const std::string& what) {
  std::fprintf(stderr, "dagstore_bench: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Fail("usage: dagstore_bench DIR [--shards N] [--one-by-one M] [--lookups L]");
  const std::string dir = argv[1];
  size_t shards = 200000, one_by_one = 2000, lookups = 1000000;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const size_t v = std::stoull(argv[i + 1]);
    if (flag == "--shards")
      shards = v;
    else if (flag == "--one-by-one")
      one_by_one = v;
    else if (flag == "--lookups")
      lookups = v;
    else
      Fail("unknown flag " + flag);
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string url = "file:///data/piece.car";

  // ---- D1a: migrate-style batches
  StoreOptions o;
  o.root = dir + "/boltpp";
  o.requeue_on_start = false;
  auto store = DagStore::Open(o);
  if (!store.ok()) Fail(Message(store.status()));
  auto t = Clock::now();
  for (size_t start = 0; start < shards; start += 10000) {
    std::vector<std::pair<std::string, std::string>> batch;
    for (size_t i = start; i < std::min(shards, start + 10000); i++)
      batch.emplace_back(KeyOf(i), url);
    auto n = (*store)->RegisterLazyBatch(batch);
    if (!n.ok()) Fail(Message(n.status()));
  }
  const double boltpp_batch = shards / Seconds(t);

  leveldb::DB* ldb = nullptr;
  leveldb::Options lo;
  lo.create_if_missing = true;
  lo.compression = leveldb::kNoCompression;
  if (!leveldb::DB::Open(lo, dir + "/leveldb", &ldb).ok()) Fail("leveldb open");
  leveldb::WriteOptions sync;
  sync.sync = true;
  auto record = [&](const std::string& key) {
    return EncodeRecord(ShardRecord{key, url, "", ShardState::kNew, true, ""});
  };
  t = Clock::now();
  for (size_t start = 0; start < shards; start += 10000) {
    leveldb::WriteBatch b;
    for (size_t i = start; i < std::min(shards, start + 10000); i++) {
      b.Put("/dagstore/" + KeyOf(i), record(KeyOf(i)));
    }
    if (!ldb->Write(sync, &b).ok()) Fail("leveldb write");
  }
  const double leveldb_batch = shards / Seconds(t);

  // ---- D1b: one by one, each durable
  t = Clock::now();
  for (size_t i = 0; i < one_by_one; i++) {
    Status s = (*store)->RegisterShard(KeyOf(shards + i), url, true);
    if (!s.ok()) Fail(Message(s));
  }
  const double boltpp_single = one_by_one / Seconds(t);
  t = Clock::now();
  for (size_t i = 0; i < one_by_one; i++) {
    const std::string key = KeyOf(shards + i);
    if (!ldb->Put(sync, "/dagstore/" + key, record(key)).ok()) Fail("leveldb put");
  }
  const double leveldb_single = one_by_one / Seconds(t);
  delete ldb;
  // the same durable write straight on the engine (one Update with one Put)
  t = Clock::now();
  for (size_t i = 0; i < one_by_one; i++) {
    const std::string key = KeyOf(shards + one_by_one + i);
    Status st =
        (*store)->db()->Update([&](Tx& tx) { return tx.GetBucket("meta").Put(key, record(key)); });
    if (!st.ok()) Fail(Message(st));
  }
  const double raw_single = one_by_one / Seconds(t);
  (void)(*store)->db()->Update([&](Tx& tx) {
    for (size_t i = 0; i < one_by_one; i++)
      (void)tx.GetBucket("meta").Delete(KeyOf(shards + one_by_one + i));
    return Status::OK();
  });

  // ---- D3: inverted-index lookups (entries written directly: 100k multihashes)
  constexpr size_t kMultihashes = 100000;
  std::vector<std::string> mhs;
  std::mt19937_64 rng(42);
  for (size_t i = 0; i < kMultihashes; i++) {
    std::string mh("\x12\x20", 2);
    for (int j = 0; j < 4; j++) {
      const uint64_t r = rng();
      mh.append(reinterpret_cast<const char*>(&r), 8);
    }
    mhs.push_back(mh);
  }
  Status s = (*store)->db()->Update([&](Tx& tx) {
    Bucket inv = tx.GetBucket("inverted");
    for (size_t i = 0; i < mhs.size(); i++) {
      if (Status p = inv.Put(mhs[i], EncodeKeyList({KeyOf(i % shards)})); !p.ok()) return p;
    }
    return Status::OK();
  });
  if (!s.ok()) Fail(Message(s));
  t = Clock::now();
  size_t found = 0;
  for (size_t i = 0; i < lookups; i++) {
    auto keys = (*store)->ShardsContainingMultihash(mhs[rng() % mhs.size()]);
    if (keys.ok()) found += keys->size();
  }
  const double lookup_rate = lookups / Seconds(t);
  if (found != lookups) Fail("lookups missed");
  // the test entries name no real index: drop them so the store stays sound
  s = (*store)->db()->Update([&](Tx& tx) {
    if (Status d = tx.DeleteBucket("inverted"); !d.ok()) return d;
    return tx.CreateBucket("inverted").status();
  });
  if (!s.ok()) Fail(Message(s));
  if (Status c = (*store)->Close(); !c.ok()) Fail(Message(c));
  store = Status();

  // ---- D4: restart
  t = Clock::now();
  auto reopened = DagStore::Open(o);
  if (!reopened.ok()) Fail(Message(reopened.status()));
  const double restart = Seconds(t);
  const size_t loaded = (*reopened)->AllShardsInfo().size();

  std::printf(
      "D1a migrate, durable batches of 10000, %zu shards: boltpp %.0f shards/s, leveldb %.0f "
      "shards/s\n",
      shards, boltpp_batch, leveldb_batch);
  std::printf(
      "D1b one-by-one durable registrations, %zu shards: boltpp %.0f/s, leveldb %.0f/s (%.2fx)\n",
      one_by_one, boltpp_single, leveldb_single, boltpp_single / leveldb_single);
  std::printf("    engine alone (one Update + Put each): %.0f/s\n", raw_single);
  std::printf("D3 inverted-index lookups, 1 thread, %zu: %.0f lookups/s\n", lookups, lookup_rate);
  std::printf("D4 restart with %zu shard records: %.3f s to ready\n", loaded, restart);
  return 0;
}
