// bench/src/workloads.cc: the suites (see workloads.h and docs/benchmarks.md).
#include "workloads.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "driver.h"
#include "engine.h"

namespace bench {
namespace {

constexpr char kTable[] = "kv";

// ---------------------------------------------------------------- redb suite

// Expected first 8 value bytes of element i (the 4th RNG output).
uint64_t ValueWord(uint64_t seed, uint64_t i, char* key) {
  Rng r = ElementRng(seed, i);
  for (int w = 0; w < 3; w++) PutLE64(key + 8 * w, r.Next());
  return r.Next();
}
uint64_t LE64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void Insert(Engine& e, const ChildConfig& c, uint64_t from, uint64_t count) {
  auto tx = e.Begin(true);
  BucketId b = tx->Bucket(kNoBucket, kTable, true);
  char k[kKeySize], v[kValueSize];
  for (uint64_t i = from; i < from + count; i++) {
    MakeKeyValue(c.seed, i, k, v);
    tx->Put(b, Bytes(k, kKeySize), Bytes(v, kValueSize));
  }
  tx->Commit();
}

// Gets `count` random elements of [0, n) in one read transaction; checks
// every value. Returns the number found (must be count).
uint64_t RandomGets(Engine& e, const ChildConfig& c, uint64_t n, uint64_t count, uint64_t stream) {
  auto tx = e.Begin(false);
  BucketId b = tx->Bucket(kNoBucket, kTable, false);
  if (b == kNoBucket) Die("table missing");
  Rng pick(c.seed * 0x9E3779B97F4A7C15ULL + stream);
  char k[kKeySize];
  uint64_t found = 0;
  for (uint64_t q = 0; q < count; q++) {
    uint64_t i = pick.Below(n);
    uint64_t want = ValueWord(c.seed, i, k);
    Bytes v;
    if (!tx->Get(b, Bytes(k, kKeySize), &v))
      Die("random read: key " + std::to_string(i) + " missing");
    if (v.size() != kValueSize || LE64(v.data()) != want)
      Die("random read: wrong value for key " + std::to_string(i));
    found++;
  }
  tx->Commit();
  return found;
}

// Times fn (which returns the operation count) as one phase.
template <typename F>
void Phase(const char* name, const char* unit, F&& fn) {
  EmitBegin(name);
  Clock::time_point t0 = Clock::now();
  double ops = static_cast<double>(fn());
  EmitResult(name, ops, SecondsSince(t0), unit);
}

// The random-order load timed out in an earlier attempt: load the same n
// elements in key order (one transaction), reported apart. The sort is not
// timed.
void FallbackLoad(Engine& e, const ChildConfig& c) {
  EmitBegin("bulk_load_fallback_sorted");
  std::vector<std::pair<std::array<char, kKeySize>, uint64_t>> order(c.n);
  for (uint64_t i = 0; i < c.n; i++) {
    MakeKey(c.seed, i, order[i].first.data());
    order[i].second = i;
  }
  std::sort(order.begin(), order.end());
  Clock::time_point t0 = Clock::now();
  auto tx = e.Begin(true);
  BucketId b = tx->Bucket(kNoBucket, kTable, true);
  char k[kKeySize], v[kValueSize];
  for (const auto& [key, i] : order) {
    MakeKeyValue(c.seed, i, k, v);
    tx->Put(b, Bytes(k, kKeySize), Bytes(v, kValueSize));
  }
  tx->Commit();
  EmitResult("bulk_load_fallback_sorted", static_cast<double>(c.n), SecondsSince(t0), "keys");
}

// `scans` scans of 10 entries from random keys of [0, total), one read txn.
uint64_t RangeScans(Engine& e, const ChildConfig& c, uint64_t total) {
  const uint64_t scans = Scans(c);
  auto tx = e.Begin(false);
  BucketId b = tx->Bucket(kNoBucket, kTable, false);
  Rng pick(c.seed * 0x9E3779B97F4A7C15ULL + 2);
  char k[kKeySize];
  uint64_t entries = 0, bytes = 0;
  auto fn = [&](Bytes key, Bytes val) {
    bytes += key.size() + val.size();
    return true;
  };
  for (uint64_t q = 0; q < scans; q++) {
    MakeKey(c.seed, pick.Below(total), k);
    entries += tx->Scan(b, Bytes(k, kKeySize), 10, fn);
  }
  tx->Commit();
  if (entries < scans || bytes == 0) Die("range reads: too few entries");
  return scans;
}

// n random gets split over `threads` threads, each with its own read txn.
uint64_t ThreadedGets(Engine& e, const ChildConfig& c, uint64_t total, int threads) {
  std::vector<std::thread> ts;
  std::atomic<uint64_t> sum{0};
  std::vector<std::string> errors(threads);
  for (int t = 0; t < threads; t++) {
    uint64_t share = c.n / threads + (static_cast<uint64_t>(t) < c.n % threads ? 1 : 0);
    ts.emplace_back([&, t, share] {
      try {
        sum += RandomGets(e, c, total, share, 100 + 10 * threads + t);
      } catch (const std::exception& ex) {
        errors[t] = ex.what();
      }
    });
  }
  for (auto& th : ts) th.join();
  for (auto& er : errors)
    if (!er.empty()) Die(er);
  return sum.load();
}

// Deletes elements [0, half) in one transaction.
uint64_t RemoveHalf(Engine& e, const ChildConfig& c, uint64_t half) {
  auto tx = e.Begin(true);
  BucketId b = tx->Bucket(kNoBucket, kTable, false);
  char k[kKeySize];
  for (uint64_t i = 0; i < half; i++) {
    MakeKey(c.seed, i, k);
    tx->Delete(b, Bytes(k, kKeySize));
  }
  tx->Commit();
  return half;
}

// Closes, reports the size, compacts with the engine's own tool and reports
// the time and the compacted size.
void SizesAndCompaction(Engine& e, const ChildConfig& c) {
  e.Close();
  EmitBytes("size_uncompacted", DirBytes(c.dir));
  std::string cdir = c.dir + "/compacted";
  MakeDirs(cdir);
  e.Open(c.dir);
  std::string out;
  Phase("compaction", "compactions", [&] {
    out = e.Compact(c.dir, cdir);
    return 1;
  });
  e.Close();
  // In-place engines return c.dir, which holds the (empty) cdir as well.
  EmitBytes("size_compacted", DirBytes(out));
  // Engines that shrink a live file in place (boltpp's DB::Shrink): the
  // same uncompacted file (compaction only read it), shrunk and measured.
  if (!e.CanShrinkInPlace()) return;
  e.Open(c.dir);
  uint64_t shrunk = 0;
  Phase("shrink", "shrinks", [&] {
    shrunk = e.ShrinkInPlace();
    return 1;
  });
  e.Close();
  EmitBytes("size_shrunk", shrunk);
}

// The 1-key commits again, each followed by one append to a log-shaped
// file beside the engine's (LogShapedFile): the single-sync floor sampled
// in alternation with the commits, so that both see the disk at the same
// moments (its speed drifts by half during a run). Emits the commits' and
// the appends' summed times as paired_writes and paired_single_sync.
void PairedWithFloor(Engine& e, const ChildConfig& c, uint64_t from) {
  EmitBegin("paired_writes");
  LogShapedFile floor(c.dir + "/single_sync.dat", static_cast<int>(c.individual));
  double commit_s = 0, floor_s = 0;
  for (uint64_t j = 0; j < c.individual; j++) {
    const Clock::time_point t0 = Clock::now();
    Insert(e, c, from + j, 1);
    commit_s += SecondsSince(t0);
    floor_s += floor.AppendMicros() / 1e6;
  }
  const double ops = static_cast<double>(c.individual);
  EmitResult("paired_writes", ops, commit_s, "txns");
  EmitBegin("paired_single_sync");
  EmitResult("paired_single_sync", ops, floor_s, "txns");
}

void RunRedb(Engine& e, const ChildConfig& c) {
  const uint64_t n = c.n;
  if (c.bulk_fallback) {
    FallbackLoad(e, c);
  } else {
    Phase("bulk_load", "keys", [&] {
      Insert(e, c, 0, n);
      return n;
    });
  }
  Phase("individual_writes", "txns", [&] {
    for (uint64_t j = 0; j < c.individual; j++) Insert(e, c, n + j, 1);
    return c.individual;
  });
  PairedWithFloor(e, c, n + c.individual);
  const uint64_t base = n + 2 * c.individual;
  Phase("batch_writes", "keys", [&] {
    for (uint64_t j = 0; j < c.batches; j++) Insert(e, c, base + j * c.batch_keys, c.batch_keys);
    return c.batches * c.batch_keys;
  });
  const uint64_t total = base + c.batches * c.batch_keys;
  Phase("random_reads", "keys", [&] { return RandomGets(e, c, total, n, 1); });
  Phase("range_reads", "scans", [&] { return RangeScans(e, c, total); });
  Phase("reads_1t", "keys", [&] { return ThreadedGets(e, c, total, 1); });
  Phase("reads_2t", "keys", [&] { return ThreadedGets(e, c, total, 2); });
  Phase("removals", "keys", [&] { return RemoveHalf(e, c, total / 2); });
  SizesAndCompaction(e, c);
}

// ------------------------------------------------------- sorted bulk load

void RunSorted(Engine& e, const ChildConfig& c) {
  // Keys: 8-byte big-endian index then 16 random bytes (sorted by
  // construction); values as the redb suite.
  EmitBegin("bulk_load_sorted");
  Clock::time_point t0 = Clock::now();
  auto tx = e.Begin(true);
  BucketId b = tx->Bucket(kNoBucket, kTable, true);
  char k[kKeySize], v[kValueSize];
  for (uint64_t i = 0; i < c.n; i++) {
    MakeKeyValue(c.seed, i, k, v);
    PutBE64(k, i);
    tx->Put(b, Bytes(k, kKeySize), Bytes(v, kValueSize));
  }
  tx->Commit();
  EmitResult("bulk_load_sorted", static_cast<double>(c.n), SecondsSince(t0), "keys");
  e.Close();
  EmitBytes("size_sorted", DirBytes(c.dir));
}

// ------------------------------------------------------ bbolt bench modes

struct KeySource {
  bool rnd;
  uint32_t i = 0;
  Rng r;
  KeySource(bool random, uint64_t seed) : rnd(random), r(seed * 0x9E3779B97F4A7C15ULL + 7) {}
  uint32_t operator()() { return rnd ? static_cast<uint32_t>(r.Next() >> 32) : i++; }
};

// One bbolt-bench write pass: n keys in transactions of BboltBatch(c).
void BboltWrites(Engine& e, const ChildConfig& c, bool rnd, bool nest) {
  const uint64_t n = c.n, batch = BboltBatch(c);
  KeySource src(rnd, c.seed);
  char key[8] = {0}, value[32] = {0};
  for (uint64_t i = 0; i < n; i += batch) {
    auto tx = e.Begin(true);
    BucketId b = tx->Bucket(kNoBucket, "bench", true);
    if (nest) {
      char name[8] = {0};
      PutBE32(name, src());
      b = tx->Bucket(b, Bytes(name, 8), true);
    }
    for (uint64_t j = 0; j < batch && i + j < n; j++) {
      PutBE32(key, src());
      tx->Put(b, Bytes(key, 8), Bytes(value, 32));
    }
    tx->Commit();
  }
}

// Cursor scans of the whole bucket, repeated for read_seconds.
void BboltSeqRead(Engine& e, const ChildConfig& c) {
  auto tx = e.Begin(false);
  BucketId b = tx->Bucket(kNoBucket, "bench", false);
  uint64_t ops = 0;
  auto fn = [](Bytes, Bytes) { return true; };
  Clock::time_point t0 = Clock::now();
  double secs;
  do {
    uint64_t got = tx->Scan(b, Bytes(), 0, fn);
    if (got != c.n)
      Die("read seq: iter mismatch: expected " + std::to_string(c.n) + ", got " +
          std::to_string(got));
    ops += got;
  } while ((secs = SecondsSince(t0)) < c.read_seconds);
  tx->Commit();
  EmitResult("bbolt_read_seq", static_cast<double>(ops), secs, "keys");
}

// Gets over a seeded shuffle of the written random keys, repeated for
// read_seconds.
void BboltRndRead(Engine& e, const ChildConfig& c) {
  const uint64_t n = c.n;
  KeySource replay(true, c.seed);
  std::vector<uint32_t> keys(n);
  for (uint64_t i = 0; i < n; i++) keys[i] = replay();
  Rng sh(c.seed * 0x9E3779B97F4A7C15ULL + 11);
  for (uint64_t i = n - 1; i > 0; i--) std::swap(keys[i], keys[sh.Below(i + 1)]);
  auto tx = e.Begin(false);
  BucketId b = tx->Bucket(kNoBucket, "bench", false);
  char key[8] = {0};
  uint64_t ops = 0;
  Clock::time_point t0 = Clock::now();
  double secs;
  do {
    for (uint32_t kk : keys) {
      PutBE32(key, kk);
      Bytes v;
      if (!tx->Get(b, Bytes(key, 8), &v)) Die("invalid value");
    }
    ops += n;
  } while ((secs = SecondsSince(t0)) < c.read_seconds);
  tx->Commit();
  EmitResult("bbolt_read_rnd", static_cast<double>(ops), secs, "keys");
}

void RunBbolt(Engine& e, const ChildConfig& c) {
  const bool rnd = c.mode == "rnd" || c.mode == "rnd-nest";
  const bool nest = c.mode == "seq-nest" || c.mode == "rnd-nest";
  if (!rnd && c.mode != "seq" && c.mode != "seq-nest") Die("bad bbolt mode " + c.mode);
  std::string phase = "bbolt_write_" + c.mode;
  std::replace(phase.begin(), phase.end(), '-', '_');
  Phase(phase.c_str(), "keys", [&] {
    BboltWrites(e, c, rnd, nest);
    return c.n;
  });
  if (nest) return;
  EmitBegin(rnd ? "bbolt_read_rnd" : "bbolt_read_seq");
  if (rnd) {
    BboltRndRead(e, c);
  } else {
    BboltSeqRead(e, c);
  }
}

// -------------------------------------------------------------- job store
//
// jobstore/jobs/<job-id>/{spec,state,result}: JSON documents of 300-600
// bytes; jobstore/queue/<be64 job> and jobstore/done/<be64 job> -> job id.

struct JobBuckets {
  BucketId top, jobs, queue, done;
};
JobBuckets OpenJob(Txn& tx, bool create) {
  JobBuckets j;
  j.top = tx.Bucket(kNoBucket, "jobstore", create);
  if (j.top == kNoBucket) Die("jobstore bucket missing");
  j.jobs = tx.Bucket(j.top, "jobs", create);
  j.queue = tx.Bucket(j.top, "queue", create);
  j.done = tx.Bucket(j.top, "done", create);
  if (j.jobs == kNoBucket || j.queue == kNoBucket || j.done == kNoBucket)
    Die("jobstore sub-bucket missing");
  return j;
}

std::string Be64(uint64_t v) {
  std::string s(8, '\0');
  PutBE64(s.data(), v);
  return s;
}

struct JobStore {
  Engine& e;
  const ChildConfig& c;
  const uint64_t jobs;
  Rng r;
  std::string doc;

  // One durable txn: create the job bucket, write spec and state, enqueue.
  void Submit(uint64_t j) {
    auto tx = e.Begin(true);
    JobBuckets jb = OpenJob(*tx, true);
    std::string id = JobId(j);
    BucketId b = tx->Bucket(jb.jobs, id, true);
    MakeJson(r, j, "spec", doc);
    tx->Put(b, "spec", doc);
    MakeJson(r, j, "queued", doc);
    tx->Put(b, "state", doc);
    tx->Put(jb.queue, Be64(j), id);
    tx->Commit();
  }

  // Durable txn 1: pop the queue head, read the spec, set the state.
  // Durable txn 2: write the result and the state, mark the job done.
  void ClaimComplete(uint64_t j) {
    std::string id, qkey;
    {
      auto tx = e.Begin(true);
      JobBuckets jb = OpenJob(*tx, false);
      auto first = [&](Bytes k, Bytes v) {
        qkey.assign(k);
        id.assign(v);
        return false;
      };
      if (tx->Scan(jb.queue, Bytes(), 1, first) != 1) Die("claim: queue empty");
      tx->Delete(jb.queue, qkey);
      BucketId b = tx->Bucket(jb.jobs, id, false);
      if (b == kNoBucket) Die("claim: job bucket missing: " + id);
      Bytes spec;
      if (!tx->Get(b, "spec", &spec) || spec.size() < 300) Die("claim: spec missing");
      MakeJson(r, j, "running", doc);
      tx->Put(b, "state", doc);
      tx->Commit();
    }
    auto tx = e.Begin(true);
    JobBuckets jb = OpenJob(*tx, false);
    BucketId b = tx->Bucket(jb.jobs, id, false);
    if (b == kNoBucket) Die("complete: job bucket missing");
    MakeJson(r, j, "result", doc);
    tx->Put(b, "result", doc);
    std::string state;
    MakeJson(r, j, "done", state);
    tx->Put(b, "state", state);
    tx->Put(jb.done, qkey, id);
    tx->Commit();
  }

  // One read txn: the three documents of a random job.
  void Get(Rng& pick) {
    auto tx = e.Begin(false);
    BucketId top = tx->Bucket(kNoBucket, "jobstore", false);
    BucketId jbk = tx->Bucket(top, "jobs", false);
    BucketId b = tx->Bucket(jbk, JobId(pick.Below(jobs)), false);
    if (b == kNoBucket) Die("get: job missing");
    Bytes v;
    size_t total = 0;
    for (const char* f : {"spec", "state", "result"}) {
      if (!tx->Get(b, f, &v)) Die(std::string("get: field missing: ") + f);
      total += v.size();
    }
    if (total < 900) Die("get: short documents");
    tx->Commit();
  }

  // One read txn: every done job with its state.
  uint64_t List() {
    auto tx = e.Begin(false);
    JobBuckets jb = OpenJob(*tx, false);
    uint64_t got = 0;
    auto fn = [&](Bytes, Bytes v) {
      BucketId b = tx->Bucket(jb.jobs, v, false);
      Bytes st;
      if (b == kNoBucket || !tx->Get(b, "state", &st)) Die("list: job state missing");
      got++;
      return true;
    };
    tx->Scan(jb.done, Bytes(), 0, fn);
    if (got != jobs)
      Die("list: expected " + std::to_string(jobs) + " jobs, got " + std::to_string(got));
    tx->Commit();
    return got;
  }

  // One durable txn: delete the buckets of jobs [from, from+10).
  void Purge(uint64_t from) {
    auto tx = e.Begin(true);
    JobBuckets jb = OpenJob(*tx, false);
    for (uint64_t k = from; k < from + 10 && k < jobs; k++) {
      tx->DeleteBucket(jb.jobs, JobId(k));
      tx->Delete(jb.done, Be64(k));
    }
    tx->Commit();
  }
};

void RunJobstore(Engine& e, const ChildConfig& c) {
  JobStore js{e, c, Jobs(c), Rng(c.seed * 0x9E3779B97F4A7C15ULL + 21), {}};
  const uint64_t jobs = js.jobs;
  Phase("job_submit", "txns", [&] {
    for (uint64_t j = 0; j < jobs; j++) js.Submit(j);
    return jobs;
  });
  Phase("job_claim_complete", "txns", [&] {
    for (uint64_t j = 0; j < jobs; j++) js.ClaimComplete(j);
    return 2 * jobs;
  });
  // Rounds of 10 x jobs gets, repeated for the read time (one round can
  // take a few milliseconds, too short to time).
  EmitBegin("job_get");
  Rng pick(c.seed * 0x9E3779B97F4A7C15ULL + 22);
  uint64_t gets = 0;
  double secs;
  Clock::time_point t0 = Clock::now();
  do {
    for (uint64_t q = 0; q < 10 * jobs; q++) js.Get(pick);
    gets += 10 * jobs;
  } while ((secs = SecondsSince(t0)) < c.read_seconds);
  EmitResult("job_get", static_cast<double>(gets), secs, "txns");
  EmitBegin("job_list");
  uint64_t listed = 0;
  t0 = Clock::now();
  do {
    listed += js.List();
  } while ((secs = SecondsSince(t0)) < c.read_seconds);
  EmitResult("job_list", static_cast<double>(listed), secs, "jobs");
  Phase("job_purge", "txns", [&] {
    uint64_t txns = 0;
    for (uint64_t j = 0; j < jobs; j += 10, txns++) js.Purge(j);
    return txns;
  });
  e.Close();
  EmitBytes("size_jobstore", DirBytes(c.dir));
}

}  // namespace

int RunChild(const ChildConfig& c) {
  try {
    std::unique_ptr<Engine> e = MakeEngine(c.engine);
    if (!e) Die("engine not compiled in: " + c.engine);
    e->Open(c.dir);
    if (c.suite == "redb") {
      RunRedb(*e, c);
    } else if (c.suite == "sorted") {
      RunSorted(*e, c);
    } else if (c.suite == "bbolt") {
      RunBbolt(*e, c);
    } else if (c.suite == "jobstore") {
      RunJobstore(*e, c);
    } else {
      Die("unknown suite " + c.suite);
    }
    e->Close();
  } catch (const std::exception& ex) {
    EmitError("", ex.what());
    return 1;
  }
  EmitDone();
  return 0;
}

}  // namespace bench
