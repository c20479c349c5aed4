// bench/src/workloads.h: the workload suites, run in a child process for one
// engine. bench/go/main.go implements the same suites for Go bbolt; phase
// names, counts, key/value streams and checks must stay identical.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

struct ChildConfig {
  std::string engine;
  std::string suite;  // redb | sorted | bbolt | jobstore
  std::string mode;   // bbolt suite: seq | rnd | seq-nest | rnd-nest
  std::string dir;    // fresh, empty directory for this run
  uint64_t n = 1000000;
  uint64_t seed = 3;
  uint64_t individual = 1000;  // redb: durable one-key transactions
  uint64_t batches = 100;      // redb: transactions of batch_keys keys
  uint64_t batch_keys = 1000;
  uint64_t scans = 0;            // redb: range scans of 10 (0 = n/2)
  uint64_t bbolt_batch = 10000;  // bbolt suite: keys per transaction
  uint64_t jobs = 0;             // jobstore: jobs (0 = max(20, n/500))
  double read_seconds = 1.0;     // bbolt reads and job_list: repeat at least this long
  bool bulk_fallback = false;    // redb: skip the random bulk load, load sorted instead
};

// Derived defaults, identical in the Go program.
inline uint64_t Scans(const ChildConfig& c) { return c.scans ? c.scans : (c.n / 2 ? c.n / 2 : 1); }
inline uint64_t Jobs(const ChildConfig& c) {
  if (c.jobs) return c.jobs;
  uint64_t j = c.n / 500;
  return j < 20 ? 20 : j;
}
inline uint64_t BboltBatch(const ChildConfig& c) {
  return c.bbolt_batch < c.n ? c.bbolt_batch : c.n;
}

// Runs the suite, writing the line protocol to stdout. Returns the exit code.
int RunChild(const ChildConfig& c);

}  // namespace bench
