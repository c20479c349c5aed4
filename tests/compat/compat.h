// File: tests/compat/compat.h
// The C++ half of the bbolt compatibility suite: the seeded workload (a
// line-for-line mirror of tests/compat/go/bboltgen/main.go), the canonical
// dump, dump comparison and a small subprocess runner. Only boltpp's public
// API is used. See docs/compatibility.md for the workload and dump format.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "boltpp/boltpp.h"

namespace compat {

// splitmix64, seeded as the Go helper seeds it.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) : s_(seed ^ (stream * 0xD1B54A32D192ED03ull)) {}
  uint64_t Next() {
    s_ += 0x9E3779B97F4A7C15ull;
    uint64_t z = s_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Uniform(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  // A number in [lo, hi]; lo when hi <= lo.
  int64_t Between(int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    return lo + static_cast<int64_t>(Uniform(static_cast<uint64_t>(hi - lo + 1)));
  }
  bool Chance(int pct) { return static_cast<int>(Uniform(100)) < pct; }
  std::string Bytes(size_t n);
  std::string Alpha(size_t n, char base, uint64_t span);

 private:
  uint64_t s_;
};

// Workload parameters; the same fields as bboltgen's flags.
struct WorkloadConfig {
  uint32_t page_size = 4096;
  std::string freelist = "array";  // "array" or "hashmap"
  bool no_freelist_sync = false;
  bool no_sync = true;
  int txs = 10;
  int ops = 20;
  int max_key = 32768;
  int max_value = 65536;
  int bulk_max = 300;
  int max_depth = 6;
  int rollback_pct = 10;
  int reopen_pct = 10;
  int big_freelist = 0;  // pages of one huge value put and deleted first
  int huge_values = 0;   // values over 1 MiB put in a first transaction
  // boltpp only (Go has no WAL mode): run in WAL mode, checkpointing every
  // 64 KiB of log, so the file Go reads was written by checkpoints.
  bool wal = false;
  // boltpp only (no bboltgen flag): Options::no_truncate, so that a big
  // free run at the end of the file stays in the freelist.
  bool keep_free_tail = false;

  // bboltgen flags for this config.
  std::vector<std::string> GoFlags() const;
  // The same, joined by spaces (for repro commands).
  std::string Describe() const;
};

// A workload config derived from a seed: page size, freelist type,
// NoFreelistSync, sizes. Seeds with seed % 37 == 7 get the big profile
// (values over 1 MiB, keys up to 32 KiB, longer runs); seed % 37 == 20 the
// long one (60-120 small transactions).
bool IsBigSeed(uint64_t seed);
bool IsLongSeed(uint64_t seed);
WorkloadConfig ConfigForSeed(uint64_t seed);

// Runs the workload on boltpp. stream 0 creates `path` (which must not exist);
// stream r+1 is ping-pong round r on an existing file.
boltpp::Status RunWorkload(const std::string& path, const WorkloadConfig& cfg, uint64_t seed,
                           uint64_t stream);

// The canonical dump of everything the transaction sees.
std::string Dump(const boltpp::Tx& tx);
// "<hex name> <non-bucket key count>\n" per top-level bucket.
std::string Summary(const boltpp::Tx& tx);

struct ReadResult {
  boltpp::Status status;  // open/read errors
  std::string dump;
  std::vector<std::string> check;  // Tx::Check() output (empty = clean)
  std::string summary;
};
// Opens path read-only with boltpp, checks and dumps it.
ReadResult ReadWithBoltpp(const std::string& path);

// Compares two canonical dumps. Returns "" when equal, otherwise a
// description of the first difference: line, bucket path and key.
std::string CompareDumps(std::string_view expected, std::string_view actual,
                         std::string_view expected_name = "expected",
                         std::string_view actual_name = "actual");

// Dump statistics for coverage reports.
struct DumpStats {
  int64_t buckets = 0, keys = 0, max_depth = 0;
  int64_t values_over_1mib = 0, empty_values = 0, keys_over_16kib = 0, nonzero_seq = 0;
  int64_t overflow_values = 0;  // values larger than the page size (approx.)
  void Add(const DumpStats& o);
};
DumpStats StatsOfDump(std::string_view dump, uint32_t page_size);

std::string Hex(std::string_view s);
std::string ReadFileOrEmpty(const std::string& path);
bool WriteFile(const std::string& path, std::string_view data);
std::vector<std::string> SplitLines(std::string_view s);
bool FileExists(const std::string& path);

// ------------------------------------------------------------ processes ----

struct ProcResult {
  int exit_code = -1;  // exit status, or 128+signal
  bool timed_out = false;
  bool spawn_failed = false;
  double seconds = 0;
  std::string Describe() const;
};

// Runs argv[0] (a path, or a name looked up in PATH) with stdout/stderr sent
// to files ("" = /dev/null) and extra "K=V" environment entries. Kills it
// (SIGKILL) when the timeout passes. The child dies with the caller.
ProcResult RunProcess(const std::vector<std::string>& argv, const std::string& stdout_path,
                      const std::string& stderr_path, std::chrono::milliseconds timeout,
                      const std::vector<std::string>& env = {});

// A background process (etcd). Stop() sends SIGTERM, waits, then SIGKILLs.
class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  ~BackgroundProcess() { Stop(std::chrono::seconds(5)); }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  bool Start(const std::vector<std::string>& argv, const std::string& log_path);
  bool Running();
  // Returns the exit code (or 128+signal), -1 if never started.
  int Stop(std::chrono::milliseconds grace);
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  int status_ = -1;
};

// A free TCP port on 127.0.0.1 (bound and released), 0 on failure.
int FreePort();

std::string ShellQuote(const std::vector<std::string>& argv);

}  // namespace compat
