// File: tests/compat/compat_tests.cc
// boltpp_compat_tests: file-format compatibility between boltpp and Go bbolt
// 1.3.6 (and etcd). See docs/compatibility.md.
//
// Environment:
//   BOLTPP_COMPAT_SEED=N|random  base seed (default 1); workload seeds are N..N+count-1
//   BOLTPP_COMPAT_SEEDS=a,b,c    run exactly these workload seeds (repro)
//   BOLTPP_COMPAT_COUNT=N        workloads per direction (default 200)
//   BOLTPP_COMPAT_PINGPONG=N     ping-pong files (default 20)
//   BOLTPP_COMPAT_BBOLTGEN=PATH  the Go helper (default: the one built with the tests)
//   BOLTPP_COMPAT_COMPACT_COUNT=N  workloads compacted and checked by Go (default 4)
//   BOLTPP_COMPAT_KEEP=1         keep temporary files
//   CI=true                      a missing Go toolchain or etcd fails instead of skipping
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include "compat.h"
#include "testutil/temp_dir.h"

#ifndef BOLTPP_COMPAT_BBOLTGEN
#define BOLTPP_COMPAT_BBOLTGEN ""
#endif
#ifndef BOLTPP_COMPAT_TESTDATA
#define BOLTPP_COMPAT_TESTDATA ""
#endif
#ifndef BOLTPP_COMPAT_TOOL
#define BOLTPP_COMPAT_TOOL "boltpp_compat_tool"
#endif

namespace fs = std::filesystem;
using compat::ConfigForSeed;
using compat::ReadResult;
using compat::WorkloadConfig;

namespace {

constexpr int kShards = 4;  // per direction
constexpr int kPingPongShards = 2;
constexpr int kPingPongRounds = 6;
constexpr int kMaxFailures = 8;  // per test; later seeds are not run
constexpr auto kGenTimeout = std::chrono::seconds(120);

// ------------------------------------------------------------ settings ----

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bool IsCI() {
  std::string v = Env("CI");
  return v == "true" || v == "1" || v == "yes";
}

std::string GoHelper() {
  std::string p = Env("BOLTPP_COMPAT_BBOLTGEN");
  return p.empty() ? std::string(BOLTPP_COMPAT_BBOLTGEN) : p;
}

bool GoAvailable(std::string* why) {
  std::string p = GoHelper();
  if (!p.empty() && ::access(p.c_str(), X_OK) == 0) return true;
  *why = "the Go helper bboltgen is not available (" +
         (p.empty() ? std::string("not configured") : p) +
         "): CMake builds it only when `go` (golang-go) and bbolt 1.3.6 "
         "(golang-github-coreos-bbolt-dev) "
         "are installed; see docs/compatibility.md";
  return false;
}

#define REQUIRE_GO()                              \
  do {                                            \
    std::string why_;                             \
    if (!GoAvailable(&why_)) {                    \
      if (IsCI()) FAIL() << why_ << " [CI=true]"; \
      GTEST_SKIP() << why_;                       \
    }                                             \
  } while (0)

uint64_t BaseSeed() {
  static uint64_t seed = []() -> uint64_t {
    std::string v = Env("BOLTPP_COMPAT_SEED");
    if (v == "random") return static_cast<uint64_t>(std::random_device{}()) % 1000000000;
    if (v.empty()) return uint64_t{1};
    return std::strtoull(v.c_str(), nullptr, 0);
  }();
  return seed;
}

int EnvInt(const char* name, int def) {
  std::string v = Env(name);
  return v.empty() ? def : std::atoi(v.c_str());
}

// The workload seeds of one shard. `offset` separates the seed ranges of
// different tests (ping-pong uses its own).
std::vector<uint64_t> ShardSeeds(int shard, int shards, int count, uint64_t offset) {
  std::vector<uint64_t> all;
  std::string list = Env("BOLTPP_COMPAT_SEEDS");
  if (!list.empty()) {
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ',')) all.push_back(std::strtoull(item.c_str(), nullptr, 0));
  } else {
    for (int i = 0; i < count; i++) all.push_back(BaseSeed() + offset + static_cast<uint64_t>(i));
  }
  std::vector<uint64_t> out;
  for (size_t i = 0; i < all.size(); i++)
    if (static_cast<int>(i % static_cast<size_t>(shards)) == shard) out.push_back(all[i]);
  return out;
}

std::string SeedList(const std::vector<uint64_t>& seeds) {
  std::string s;
  for (auto x : seeds) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

// ------------------------------------------------------------- helpers ----

// A temporary directory for one test (testutil/temp_dir.h), kept when
// BOLTPP_COMPAT_KEEP=1, when the test fails or when a failing seed calls Keep().
boltpp::testing::TempDir CompatTempDir(const std::string& tag) {
  return boltpp::testing::TempDir(boltpp::testing::TempDirOptions{
      .prefix = "boltpp-compat-" + tag, .keep_env = "BOLTPP_COMPAT_KEEP"});
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string JoinLines(const std::vector<std::string>& v, size_t max = 8) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; i++) s += "\n      " + v[i];
  if (v.size() > max) s += "\n      ... (" + std::to_string(v.size()) + " in all)";
  if (v.empty()) s = " (none)";
  return s;
}

std::vector<std::string> Minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::set<std::string> sb(b.begin(), b.end());
  std::vector<std::string> out;
  for (const auto& x : a)
    if (!sb.count(x)) out.push_back(x);
  return out;
}

std::string Tail(const std::string& path, size_t n = 1500) {
  std::string s = compat::ReadFileOrEmpty(path);
  if (s.size() > n) s = "..." + s.substr(s.size() - n);
  return s;
}

std::string ConfigLine(const WorkloadConfig& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "ps=%-5u %-7s nfs=%d txs=%-2d ops=%-2d maxv=%d maxk=%d%s",
                c.page_size, c.freelist.c_str(), c.no_freelist_sync ? 1 : 0, c.txs, c.ops,
                c.max_value, c.max_key, c.big_freelist ? " bigfreelist" : "");
  return buf;
}

// The result of running bboltgen.
struct GoResult {
  bool ok = false;
  std::string error;  // why !ok, with the command line
  std::string dump;
  std::vector<std::string> check;
  std::string cmdline;
};

GoResult RunGo(const std::vector<std::string>& args, const std::string& dir,
               const std::string& tag) {
  GoResult g;
  std::string dump = dir + "/" + tag + ".dump", check = dir + "/" + tag + ".check";
  std::vector<std::string> argv = {GoHelper()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"-dump", dump, "-checkout", check});
  g.cmdline = compat::ShellQuote(argv);
  std::string err = dir + "/" + tag + ".stderr";
  compat::ProcResult p = compat::RunProcess(argv, dir + "/" + tag + ".stdout", err, kGenTimeout);
  if (p.exit_code != 0 || p.timed_out) {
    g.error = "bboltgen " + p.Describe() + ": " + Tail(err) + "\n    command: " + g.cmdline;
    return g;
  }
  g.ok = true;
  g.dump = compat::ReadFileOrEmpty(dump);
  g.check = compat::SplitLines(compat::ReadFileOrEmpty(check));
  return g;
}

std::vector<std::string> GoGenArgs(const std::string& db, uint64_t seed, const WorkloadConfig& c,
                                   int round) {
  std::vector<std::string> a = {round < 0 ? "gen" : "mutate", "-db", db, "-seed",
                                std::to_string(seed)};
  if (round >= 0) a.insert(a.end(), {"-round", std::to_string(round)});
  auto f = c.GoFlags();
  a.insert(a.end(), f.begin(), f.end());
  return a;
}

// Tallies printed at the end of a test.
struct Tally {
  int workloads = 0;
  int passed = 0;
  int failures = 0;
  int go_defects = 0;  // files on which Go 1.3.6's own check failed
  std::vector<uint64_t> go_defect_seeds;
  compat::DumpStats stats;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

  void Print(const std::string& what) const {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "[compat] %s: %d workloads, %d passed, %d failed, %.1fs; content: %lld buckets (max depth "
        "%lld), %lld keys, "
        "%lld empty values, %lld values > page size, %lld values > 1 MiB, %lld keys > 16 KiB, %lld "
        "non-zero "
        "sequences\n",
        what.c_str(), workloads, passed, failures, secs, static_cast<long long>(stats.buckets),
        static_cast<long long>(stats.max_depth), static_cast<long long>(stats.keys),
        static_cast<long long>(stats.empty_values), static_cast<long long>(stats.overflow_values),
        static_cast<long long>(stats.values_over_1mib),
        static_cast<long long>(stats.keys_over_16kib), static_cast<long long>(stats.nonzero_seq));
    if (go_defects > 0) {
      std::printf(
          "[compat] %s: Go 1.3.6's own tx.Check() failed on %d Go-written files (a Go defect, "
          "counted, "
          "not a failure): seeds %s\n",
          what.c_str(), go_defects, SeedList(go_defect_seeds).c_str());
    }
    std::fflush(stdout);
  }
};

// Reads a file's freelist entry count from its newest meta (raw format
// parse; for asserting that the >65,535-entry encoding was exercised).
int64_t RawFreelistCount(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  auto u32 = [&](uint64_t off) {
    uint32_t v = 0;
    in.seekg(static_cast<std::streamoff>(off));
    in.read(reinterpret_cast<char*>(&v), 4);
    return v;
  };
  auto u64 = [&](uint64_t off) {
    uint64_t v = 0;
    in.seekg(static_cast<std::streamoff>(off));
    in.read(reinterpret_cast<char*>(&v), 8);
    return v;
  };
  uint32_t ps = u32(24);
  if (ps == 0) return -1;
  uint64_t tx0 = u64(64), tx1 = u64(ps + 64);
  uint64_t meta = tx1 > tx0 ? ps : 0;
  uint64_t fl = u64(meta + 48);
  if (fl == ~uint64_t{0}) return -2;  // not synced
  uint64_t base = fl * ps;
  in.seekg(static_cast<std::streamoff>(base + 10));
  uint16_t count = 0;
  in.read(reinterpret_cast<char*>(&count), 2);
  if (count == 0xFFFF) return static_cast<int64_t>(u64(base + 16));
  return count;
}

std::string ReproGo(uint64_t seed, const WorkloadConfig& c, const char* test) {
  std::ostringstream os;
  os << "\n    repro (whole suite entry): BOLTPP_COMPAT_SEEDS=" << seed
     << " ./boltpp_compat_tests --gtest_filter='*" << test << "*'"
     << "\n    repro (by hand): " << GoHelper() << " gen -db /tmp/g.db -seed " << seed << " "
     << c.Describe() << " -dump /tmp/g.dump -checkout /tmp/g.check && " << BOLTPP_COMPAT_TOOL
     << " dump -db /tmp/g.db -dump /tmp/b.dump && " << BOLTPP_COMPAT_TOOL
     << " diff /tmp/g.dump /tmp/b.dump";
  return os.str();
}

std::string ReproBoltpp(uint64_t seed, const WorkloadConfig& c, const char* test) {
  std::ostringstream os;
  os << "\n    repro (whole suite entry): BOLTPP_COMPAT_SEEDS=" << seed
     << " ./boltpp_compat_tests --gtest_filter='*" << test << "*'"
     << "\n    repro (by hand): " << BOLTPP_COMPAT_TOOL << " gen -db /tmp/b.db -seed " << seed
     << " " << c.Describe() << " -dump /tmp/b.dump && " << GoHelper()
     << " dump -db /tmp/b.db -dump /tmp/g.dump -checkout /tmp/g.check && " << BOLTPP_COMPAT_TOOL
     << " diff /tmp/b.dump /tmp/g.dump";
  return os.str();
}

// ------------------------------------------------ one workload, each way ----

// Go writes, boltpp reads. Returns "" or the failure.
std::string GoWritesOne(uint64_t seed, const WorkloadConfig& cfg, const std::string& dir, Tally* t,
                        bool* go_defect) {
  std::string db = dir + "/go.db";
  GoResult g = RunGo(GoGenArgs(db, seed, cfg, -1), dir, "go-gen");
  if (!g.ok) return "Go could not run the workload: " + g.error;
  ReadResult r = compat::ReadWithBoltpp(db);
  if (!r.status.ok()) return "boltpp cannot read the file Go wrote: " + r.status.ToString();
  std::string d = compat::CompareDumps(g.dump, r.dump, "Go wrote   ", "boltpp read");
  if (!d.empty()) return "content differs: " + d;
  if (g.check.empty()) {
    if (!r.check.empty())
      return "boltpp's Tx::Check() reports errors on a file Go's tx.Check() accepts:" +
             JoinLines(r.check);
  } else {
    *go_defect = true;
    if (Sorted(g.check) != Sorted(r.check))
      return "on a file that Go 1.3.6's own check rejects (Go defect), boltpp's check disagrees "
             "with Go's:\n    "
             "Go:" +
             JoinLines(g.check) + "\n    boltpp:" + JoinLines(r.check);
  }
  t->stats.Add(compat::StatsOfDump(r.dump, cfg.page_size));
  return "";
}

// boltpp writes, Go reads; Go also runs the same workload as a reference.
std::string BoltppWritesOne(uint64_t seed, const WorkloadConfig& cfg, const std::string& dir,
                            Tally* t) {
  std::string db = dir + "/boltpp.db";
  boltpp::Status s = compat::RunWorkload(db, cfg, seed, 0);
  if (!s.ok()) return "boltpp could not run the workload: " + s.ToString();
  ReadResult r = compat::ReadWithBoltpp(db);
  if (!r.status.ok()) return "boltpp cannot reopen its own file: " + r.status.ToString();
  if (!r.check.empty())
    return "boltpp's Tx::Check() fails on the file it wrote:" + JoinLines(r.check);
  GoResult g = RunGo({"dump", "-db", db}, dir, "go-read");
  if (!g.ok) return "Go cannot read the file boltpp wrote: " + g.error;
  if (!g.check.empty())
    return "Go's tx.Check() rejects the file boltpp wrote:" + JoinLines(g.check);
  std::string d = compat::CompareDumps(r.dump, g.dump, "boltpp wrote", "Go read     ");
  if (!d.empty()) return "content differs: " + d;
  // The same seeded workload run by Go must leave the same content.
  GoResult ref = RunGo(GoGenArgs(dir + "/go-ref.db", seed, cfg, -1), dir, "go-ref");
  if (!ref.ok) return "Go could not run the reference workload: " + ref.error;
  d = compat::CompareDumps(ref.dump, r.dump, "Go ran the workload    ", "boltpp ran the workload");
  if (!d.empty())
    return "the same seeded workload left different content in boltpp and in Go: " + d;
  t->stats.Add(compat::StatsOfDump(r.dump, cfg.page_size));
  return "";
}

// ------------------------------------------------------------ tests ----

class GoWritesBoltppReads : public ::testing::TestWithParam<int> {};

TEST_P(GoWritesBoltppReads, SeededWorkloads) {
  REQUIRE_GO();
  const int shard = GetParam();
  auto seeds = ShardSeeds(shard, kShards, EnvInt("BOLTPP_COMPAT_COUNT", 200), 0);
  std::printf("[compat] Go writes, boltpp reads: shard %d/%d, base seed %llu, seeds %s\n", shard,
              kShards, static_cast<unsigned long long>(BaseSeed()), SeedList(seeds).c_str());
  boltpp::testing::TempDir tmp = CompatTempDir("g2b");
  ASSERT_TRUE(tmp.ok());
  Tally t;
  for (uint64_t seed : seeds) {
    if (t.failures >= kMaxFailures) {
      ADD_FAILURE() << "stopping after " << kMaxFailures << " failing seeds";
      break;
    }
    WorkloadConfig cfg = ConfigForSeed(seed);
    std::string dir = tmp.path() + "/seed-" + std::to_string(seed);
    fs::create_directories(dir);
    bool go_defect = false;
    auto t0 = std::chrono::steady_clock::now();
    std::string err = GoWritesOne(seed, cfg, dir, &t, &go_defect);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    t.workloads++;
    if (go_defect) {
      t.go_defects++;
      t.go_defect_seeds.push_back(seed);
    }
    std::printf("  seed %-10llu %s: %s%s (%.2fs)\n", static_cast<unsigned long long>(seed),
                ConfigLine(cfg).c_str(), err.empty() ? "ok" : "FAIL",
                go_defect ? " [Go's own check failed: Go 1.3.6 defect]" : "", secs);
    if (err.empty()) {
      t.passed++;
      std::error_code ec;
      fs::remove_all(dir, ec);
    } else {
      t.failures++;
      tmp.Keep();
      ADD_FAILURE() << "Go writes, boltpp reads: seed " << seed << " [" << cfg.Describe()
                    << "]: " << err << "\n    files kept in " << dir
                    << ReproGo(seed, cfg, "GoWritesBoltppReads");
    }
  }
  t.Print("Go writes, boltpp reads, shard " + std::to_string(shard));
}

INSTANTIATE_TEST_SUITE_P(Shards, GoWritesBoltppReads, ::testing::Range(0, kShards));

class BoltppWritesGoReads : public ::testing::TestWithParam<int> {};

TEST_P(BoltppWritesGoReads, SeededWorkloads) {
  REQUIRE_GO();
  const int shard = GetParam();
  auto seeds = ShardSeeds(shard, kShards, EnvInt("BOLTPP_COMPAT_COUNT", 200), 0);
  std::printf("[compat] boltpp writes, Go reads: shard %d/%d, base seed %llu, seeds %s\n", shard,
              kShards, static_cast<unsigned long long>(BaseSeed()), SeedList(seeds).c_str());
  boltpp::testing::TempDir tmp = CompatTempDir("b2g");
  ASSERT_TRUE(tmp.ok());
  Tally t;
  for (uint64_t seed : seeds) {
    if (t.failures >= kMaxFailures) {
      ADD_FAILURE() << "stopping after " << kMaxFailures << " failing seeds";
      break;
    }
    WorkloadConfig cfg = ConfigForSeed(seed);
    std::string dir = tmp.path() + "/seed-" + std::to_string(seed);
    fs::create_directories(dir);
    auto t0 = std::chrono::steady_clock::now();
    std::string err = BoltppWritesOne(seed, cfg, dir, &t);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    t.workloads++;
    std::printf("  seed %-10llu %s: %s (%.2fs)\n", static_cast<unsigned long long>(seed),
                ConfigLine(cfg).c_str(), err.empty() ? "ok" : "FAIL", secs);
    if (err.empty()) {
      t.passed++;
      std::error_code ec;
      fs::remove_all(dir, ec);
    } else {
      t.failures++;
      tmp.Keep();
      ADD_FAILURE() << "boltpp writes, Go reads: seed " << seed << " [" << cfg.Describe()
                    << "]: " << err << "\n    files kept in " << dir
                    << ReproBoltpp(seed, cfg, "BoltppWritesGoReads");
    }
  }
  t.Print("boltpp writes, Go reads, shard " + std::to_string(shard));
}

INSTANTIATE_TEST_SUITE_P(Shards, BoltppWritesGoReads, ::testing::Range(0, kShards));

// boltpp writes in WAL mode (commits to the log, checkpoints every 64 KiB
// of it and at each close), Go reads the data file. BOLTPP_COMPAT_WAL_COUNT
// seeds (default 8).
TEST(BoltppWritesGoReadsWal, SeededWorkloads) {
  REQUIRE_GO();
  auto seeds = ShardSeeds(0, 1, EnvInt("BOLTPP_COMPAT_WAL_COUNT", 8), 0);
  std::printf("[compat] boltpp writes in WAL mode, Go reads: base seed %llu, seeds %s\n",
              static_cast<unsigned long long>(BaseSeed()), SeedList(seeds).c_str());
  boltpp::testing::TempDir tmp = CompatTempDir("b2g-wal");
  ASSERT_TRUE(tmp.ok());
  Tally t;
  for (uint64_t seed : seeds) {
    if (t.failures >= kMaxFailures) break;
    WorkloadConfig cfg = ConfigForSeed(seed);
    cfg.wal = true;
    std::string dir = tmp.path() + "/seed-" + std::to_string(seed);
    fs::create_directories(dir);
    std::string err = BoltppWritesOne(seed, cfg, dir, &t);
    if (err.empty() && (fs::exists(dir + "/boltpp.db-wal") || fs::exists(dir + "/boltpp.db-wal2")))
      err = "a log file outlived the close";
    t.workloads++;
    std::printf("  seed %-10llu %s wal: %s\n", static_cast<unsigned long long>(seed),
                ConfigLine(cfg).c_str(), err.empty() ? "ok" : "FAIL");
    if (err.empty()) {
      t.passed++;
      std::error_code ec;
      fs::remove_all(dir, ec);
    } else {
      t.failures++;
      tmp.Keep();
      ADD_FAILURE() << "boltpp writes in WAL mode, Go reads: seed " << seed << " ["
                    << cfg.Describe() << "]: " << err << "\n    files kept in " << dir;
    }
  }
  t.Print("boltpp writes in WAL mode, Go reads");
}

// ---------------------------------------------------- big freelist ----

WorkloadConfig BigFreelistConfig(const std::string& freelist) {
  WorkloadConfig c;
  c.page_size = 1024;
  c.freelist = freelist;
  c.no_freelist_sync = false;
  c.txs = 6;
  c.ops = 20;
  c.max_key = 512;
  c.max_value = 8192;
  c.rollback_pct = 20;
  c.reopen_pct = 20;
  c.big_freelist = 70000;   // 70,000 pages of 1 KiB freed at once
  c.keep_free_tail = true;  // else the free run at the end is truncated away
  return c;
}

TEST(BigFreelist, GoWritesBoltppReadsAndRewrites) {
  REQUIRE_GO();
  const uint64_t seed = BaseSeed() + 900001;
  WorkloadConfig cfg = BigFreelistConfig("array");
  std::printf("[compat] big freelist, Go writes: seed %llu [%s]\n",
              static_cast<unsigned long long>(seed), cfg.Describe().c_str());
  boltpp::testing::TempDir tmp = CompatTempDir("bigfl-g");
  ASSERT_TRUE(tmp.ok());
  Tally t;
  bool go_defect = false;
  std::string err = GoWritesOne(seed, cfg, tmp.path(), &t, &go_defect);
  if (!err.empty()) tmp.Keep();
  ASSERT_EQ(err, "") << "seed " << seed << ReproGo(seed, cfg, "BigFreelist");
  std::string db = tmp.path() + "/go.db";
  int64_t n = RawFreelistCount(db);
  std::printf("  Go-written freelist holds %lld ids\n", static_cast<long long>(n));
  EXPECT_GT(n, 65535) << "the workload did not produce a freelist with more than 65,535 entries";
  // boltpp rewrites it (hashmap freelist), then Go reads it back.
  WorkloadConfig m = cfg;
  m.freelist = "hashmap";
  m.big_freelist = 0;
  boltpp::Status s = compat::RunWorkload(db, m, seed, 1);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ReadResult r = compat::ReadWithBoltpp(db);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  std::vector<std::string> inherited =
      go_defect ? compat::SplitLines(compat::ReadFileOrEmpty(tmp.path() + "/go-gen.check"))
                : std::vector<std::string>{};
  EXPECT_EQ(Minus(r.check, inherited), std::vector<std::string>{})
      << "boltpp's check after boltpp rewrote it";
  n = RawFreelistCount(db);
  std::printf("  boltpp-rewritten freelist holds %lld ids\n", static_cast<long long>(n));
  EXPECT_GT(n, 65535);
  GoResult g = RunGo({"dump", "-db", db}, tmp.path(), "go-read");
  ASSERT_TRUE(g.ok) << g.error;
  EXPECT_EQ(Minus(g.check, inherited), std::vector<std::string>{})
      << "Go's check of the file boltpp rewrote";
  EXPECT_EQ(compat::CompareDumps(r.dump, g.dump, "boltpp wrote", "Go read"), "");
  if (go_defect) std::printf("  (Go 1.3.6's own check failed on its file: Go defect)\n");
}

TEST(BigFreelist, BoltppWritesGoReadsAndRewrites) {
  REQUIRE_GO();
  const uint64_t seed = BaseSeed() + 900002;
  WorkloadConfig cfg = BigFreelistConfig("hashmap");
  std::printf("[compat] big freelist, boltpp writes: seed %llu [%s]\n",
              static_cast<unsigned long long>(seed), cfg.Describe().c_str());
  boltpp::testing::TempDir tmp = CompatTempDir("bigfl-b");
  ASSERT_TRUE(tmp.ok());
  Tally t;
  std::string err = BoltppWritesOne(seed, cfg, tmp.path(), &t);
  if (!err.empty()) tmp.Keep();
  ASSERT_EQ(err, "") << "seed " << seed << ReproBoltpp(seed, cfg, "BigFreelist");
  std::string db = tmp.path() + "/boltpp.db";
  int64_t n = RawFreelistCount(db);
  std::printf("  boltpp-written freelist holds %lld ids\n", static_cast<long long>(n));
  EXPECT_GT(n, 65535) << "the workload did not produce a freelist with more than 65,535 entries";
  // Go rewrites it (array freelist), then boltpp reads it back.
  WorkloadConfig m = cfg;
  m.freelist = "array";
  m.big_freelist = 0;
  GoResult g = RunGo(GoGenArgs(db, seed, m, 0), tmp.path(), "go-mutate");
  ASSERT_TRUE(g.ok) << g.error;
  ReadResult r = compat::ReadWithBoltpp(db);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(compat::CompareDumps(g.dump, r.dump, "Go wrote", "boltpp read"), "");
  EXPECT_EQ(Sorted(r.check), Sorted(g.check));
  if (!g.check.empty())
    std::printf("  Go 1.3.6's own check failed after its rewrite (Go defect):%s\n",
                JoinLines(g.check).c_str());
}

// ------------------------------------------------------------ ping-pong ----

// One side of the ping-pong. Go runs bboltgen; boltpp runs in-process.
struct SideResult {
  std::string error;
  std::string dump;
  std::vector<std::string> check;
};

SideResult Mutate(bool go, const std::string& db, uint64_t seed, int round,
                  const WorkloadConfig& cfg, const std::string& dir, const std::string& tag) {
  SideResult out;
  if (go) {
    GoResult g = RunGo(GoGenArgs(db, seed, cfg, round == 0 ? -1 : round), dir, tag);
    if (!g.ok) {
      out.error = g.error;
      return out;
    }
    out.dump = g.dump;
    out.check = g.check;
    return out;
  }
  boltpp::Status s =
      compat::RunWorkload(db, cfg, seed, round == 0 ? 0 : static_cast<uint64_t>(round) + 1);
  if (!s.ok()) {
    out.error = "boltpp workload: " + s.ToString();
    return out;
  }
  ReadResult r = compat::ReadWithBoltpp(db);
  if (!r.status.ok()) {
    out.error = "boltpp read: " + r.status.ToString();
    return out;
  }
  out.dump = r.dump;
  out.check = r.check;
  return out;
}

SideResult Read(bool go, const std::string& db, const std::string& dir, const std::string& tag) {
  SideResult out;
  if (go) {
    GoResult g = RunGo({"dump", "-db", db}, dir, tag);
    if (!g.ok) out.error = g.error;
    out.dump = g.dump;
    out.check = g.check;
    return out;
  }
  ReadResult r = compat::ReadWithBoltpp(db);
  if (!r.status.ok()) out.error = "boltpp read: " + r.status.ToString();
  out.dump = r.dump;
  out.check = r.check;
  return out;
}

WorkloadConfig PingPongConfig(uint64_t seed, int round) {
  WorkloadConfig c = ConfigForSeed(seed);
  compat::Rng r(seed, 7000 + static_cast<uint64_t>(round));
  c.freelist = r.Chance(50) ? "hashmap" : "array";
  c.no_freelist_sync = r.Chance(30);
  c.txs = static_cast<int>(r.Between(2, 6));
  c.ops = static_cast<int>(r.Between(1, 25));
  c.max_value = std::min(c.max_value, 65536);
  c.huge_values = 0;
  return c;
}

const char* SideName(bool go) { return go ? "Go" : "boltpp"; }

class PingPong : public ::testing::TestWithParam<int> {};

TEST_P(PingPong, FilesPassBackAndForth) {
  REQUIRE_GO();
  const int shard = GetParam();
  auto seeds = ShardSeeds(shard, kPingPongShards, EnvInt("BOLTPP_COMPAT_PINGPONG", 20), 500000);
  std::printf("[compat] ping-pong: shard %d/%d, %d rounds per file, seeds %s\n", shard,
              kPingPongShards, kPingPongRounds, SeedList(seeds).c_str());
  boltpp::testing::TempDir tmp = CompatTempDir("pingpong");
  ASSERT_TRUE(tmp.ok());
  Tally t;
  for (uint64_t seed : seeds) {
    if (t.failures >= kMaxFailures) break;
    std::string dir = tmp.path() + "/seed-" + std::to_string(seed);
    fs::create_directories(dir);
    std::string db = dir + "/pp.db";
    bool go_first = seed % 2 == 0;
    std::string prev_dump;
    std::vector<std::string> prev_check;
    std::string err;
    bool go_defect = false;
    std::string trail;
    auto t0 = std::chrono::steady_clock::now();
    for (int round = 0; round <= kPingPongRounds && err.empty(); round++) {
      bool go = (round % 2 == 0) == go_first;
      std::string tag = "r" + std::to_string(round) + "-" + SideName(go);
      // 1. The receiving side reads what the other side wrote.
      if (round > 0) {
        SideResult in = Read(go, db, dir, tag + "-read");
        if (!in.error.empty()) {
          err = std::string(SideName(go)) + " cannot read the file: " + in.error;
          break;
        }
        std::string d =
            compat::CompareDumps(prev_dump, in.dump, std::string(SideName(!go)) + " wrote",
                                 std::string(SideName(go)) + " read");
        if (!d.empty()) {
          err = "content differs: " + d;
          break;
        }
        if (Sorted(in.check) != Sorted(prev_check)) {
          err = "the two checks disagree on the same file:\n    " + std::string(SideName(!go)) +
                ":" + JoinLines(prev_check) + "\n    " + SideName(go) + ":" + JoinLines(in.check);
          break;
        }
      }
      if (round == kPingPongRounds) break;  // final read only
      WorkloadConfig cfg = PingPongConfig(seed, round);
      trail += std::string(trail.empty() ? "" : " -> ") + SideName(go) + "(" + cfg.freelist +
               (cfg.no_freelist_sync ? ",nfs" : "") + ")";
      // 2. The other side runs the same round on a copy (must give the same content).
      std::string twin = dir + "/twin.db";
      std::error_code ec;
      fs::remove(twin, ec);
      if (round > 0) fs::copy_file(db, twin, ec);
      // 3. This side mutates the file.
      SideResult out = Mutate(go, db, seed, round, cfg, dir, tag);
      if (!out.error.empty()) {
        err = std::string(SideName(go)) + " round " + std::to_string(round) + ": " + out.error;
        break;
      }
      SideResult tw = Mutate(!go, twin, seed, round, cfg, dir, tag + "-twin");
      if (!tw.error.empty()) {
        err = std::string(SideName(!go)) + " twin of round " + std::to_string(round) + ": " +
              tw.error;
        break;
      }
      std::string d =
          compat::CompareDumps(out.dump, tw.dump, std::string(SideName(go)) + " ran round",
                               std::string(SideName(!go)) + " ran round");
      if (!d.empty()) {
        err = "round " + std::to_string(round) +
              " of the same seeded workload left different content: " + d;
        break;
      }
      // 4. New check errors: Go's are Go 1.3.6 defects; boltpp's are failures.
      auto fresh = Minus(out.check, prev_check);
      if (!fresh.empty()) {
        if (go) {
          go_defect = true;
        } else {
          err = "round " + std::to_string(round) +
                ": boltpp's check fails after boltpp wrote:" + JoinLines(fresh);
          break;
        }
      }
      prev_dump = out.dump;
      prev_check = out.check;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    t.workloads++;
    if (go_defect) {
      t.go_defects++;
      t.go_defect_seeds.push_back(seed);
    }
    std::printf("  seed %-10llu ps=%-5u %s: %s%s (%.2fs)\n", static_cast<unsigned long long>(seed),
                ConfigForSeed(seed).page_size, trail.c_str(), err.empty() ? "ok" : "FAIL",
                go_defect ? " [Go's own check failed: Go 1.3.6 defect]" : "", secs);
    if (err.empty()) {
      t.passed++;
      t.stats.Add(compat::StatsOfDump(prev_dump, ConfigForSeed(seed).page_size));
      std::error_code ec;
      fs::remove_all(dir, ec);
    } else {
      t.failures++;
      tmp.Keep();
      ADD_FAILURE() << "ping-pong seed " << seed << " (" << trail << "): " << err
                    << "\n    files kept in " << dir << "\n    repro: BOLTPP_COMPAT_SEEDS=" << seed
                    << " ./boltpp_compat_tests --gtest_filter='*PingPong*'";
    }
  }
  t.Print("ping-pong, shard " + std::to_string(shard));
}

INSTANTIATE_TEST_SUITE_P(Shards, PingPong, ::testing::Range(0, kPingPongShards));

// ----------------------------------------------------------------- etcd ----

// ------------------------------------------------------------------ cli ----

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

CliResult RunCli(const std::vector<std::string>& args, const std::string& dir,
                 const std::string& tag) {
  std::vector<std::string> argv = {BOLTPP_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string out = dir + "/" + tag + ".out", err = dir + "/" + tag + ".err";
  compat::ProcResult p = compat::RunProcess(argv, out, err, std::chrono::seconds(120));
  return {p.timed_out ? -1 : p.exit_code, compat::ReadFileOrEmpty(out),
          compat::ReadFileOrEmpty(err)};
}

std::string UnHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// export db | import copy; Go reads the copy: clean check, same dump as expected.
void ExpectExportImportKeepsContent(const std::string& db, const std::string& expected_dump,
                                    const std::string& dir, const std::string& tag) {
  const std::string jsonl = dir + "/" + tag + ".jsonl", copy = dir + "/" + tag + "-imported.db";
  CliResult ex = RunCli({"export", db, "-o", jsonl}, dir, tag + "-export");
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  CliResult im = RunCli({"import", copy, "-i", jsonl}, dir, tag + "-import");
  ASSERT_EQ(im.exit_code, 0) << im.err;
  GoResult g = RunGo({"dump", "-db", copy}, dir, tag + "-go-imported");
  ASSERT_TRUE(g.ok) << g.error;
  EXPECT_EQ(g.check, std::vector<std::string>{}) << tag << ": Go's check of the imported file";
  EXPECT_EQ(compat::CompareDumps(expected_dump, g.dump, "original (Go)", "imported (Go)"), "")
      << tag;
  std::printf("[compat] %s: export -> import -> Go read: %zu bytes of dump, check clean\n",
              tag.c_str(), g.dump.size());
}

std::string FindInPath(const std::string& name) {
  std::string path = Env("PATH");
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

class Etcdctl {
 public:
  Etcdctl(std::string bin, std::string endpoint, std::string dir)
      : bin_(std::move(bin)), endpoint_(std::move(endpoint)), dir_(std::move(dir)) {}
  // Runs etcdctl; returns stdout, or sets *error.
  std::string Run(std::vector<std::string> args, std::string* error) {
    std::vector<std::string> argv = {bin_, "--endpoints=" + endpoint_, "--command-timeout=10s",
                                     "--dial-timeout=5s"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out = dir_ + "/etcdctl.out", err = dir_ + "/etcdctl.err";
    compat::ProcResult p =
        compat::RunProcess(argv, out, err, std::chrono::seconds(20), {"ETCDCTL_API=3"});
    if (p.exit_code != 0 || p.timed_out) {
      *error = compat::ShellQuote(argv) + ": " + p.Describe() + ": " + Tail(err, 600);
      return "";
    }
    return compat::ReadFileOrEmpty(out);
  }

 private:
  std::string bin_, endpoint_, dir_;
};

TEST(Etcd, BoltppReadsEtcdBackend) {
  std::string etcd = FindInPath("etcd"), etcdctl = FindInPath("etcdctl");
  if (etcd.empty() || etcdctl.empty()) {
    std::string why =
        "etcd/etcdctl not found in PATH (Debian packages etcd-server and etcd-client)";
    if (IsCI()) FAIL() << why << " [CI=true]";
    GTEST_SKIP() << why;
  }
  REQUIRE_GO();
  boltpp::testing::TempDir tmp = CompatTempDir("etcd");
  ASSERT_TRUE(tmp.ok());
  std::string data = tmp.path() + "/data";
  compat::BackgroundProcess proc;
  std::string endpoint;
  bool up = false;
  std::string last_err;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int attempt = 0; attempt < 3 && !up; attempt++) {
    int cport = compat::FreePort(), pport = compat::FreePort();
    if (cport == 0 || pport == 0 || cport == pport) continue;
    std::error_code ec;
    fs::remove_all(data, ec);
    endpoint = "http://127.0.0.1:" + std::to_string(cport);
    std::string peer = "http://127.0.0.1:" + std::to_string(pport);
    std::vector<std::string> argv = {etcd,
                                     "--name=compat",
                                     "--data-dir=" + data,
                                     "--listen-client-urls=" + endpoint,
                                     "--advertise-client-urls=" + endpoint,
                                     "--listen-peer-urls=" + peer,
                                     "--initial-advertise-peer-urls=" + peer,
                                     "--initial-cluster=compat=" + peer,
                                     "--initial-cluster-state=new",
                                     "--logger=zap",
                                     "--log-outputs=stderr",
                                     "--log-level=warn"};
    std::printf("[compat] starting: %s\n", compat::ShellQuote(argv).c_str());
    ASSERT_TRUE(proc.Start(argv, tmp.path() + "/etcd.log"));
    Etcdctl ctl(etcdctl, endpoint, tmp.path());
    auto until = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(20));
    while (std::chrono::steady_clock::now() < until) {
      if (!proc.Running()) break;
      std::string e;
      ctl.Run({"endpoint", "health"}, &e);
      if (e.empty()) {
        up = true;
        break;
      }
      last_err = e;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (!up) proc.Stop(std::chrono::seconds(5));
  }
  if (!up) tmp.Keep();
  ASSERT_TRUE(up) << "etcd did not come up: " << last_err << "\n"
                  << Tail(tmp.path() + "/etcd.log.err");

  Etcdctl ctl(etcdctl, endpoint, tmp.path());
  std::string e;
  auto run = [&](std::vector<std::string> args) {
    std::string out;
    if (e.empty()) out = ctl.Run(std::move(args), &e);
    return out;
  };
  for (int i = 0; i < 40; i++)
    run({"put", "compat/k" + std::to_string(i), "value-" + std::to_string(i * i)});
  for (int i = 0; i < 10; i++)
    run({"put", "compat/k" + std::to_string(i), std::string(100 + i * 50, 'v')});
  run({"put", "compat/big", std::string(60000, 'B')});  // an overflow page in etcd's bbolt file
  for (int i = 0; i < 8; i++) run({"del", "compat/k" + std::to_string(i)});
  for (int i = 0; i < 5; i++) run({"put", "drop/" + std::to_string(i), "x"});
  run({"del", "--prefix", "drop/"});
  std::string status = run({"get", "compat/k20", "-w", "json"});
  std::smatch m;
  std::regex rev_re("\"revision\":([0-9]+)");
  ASSERT_TRUE(e.empty()) << e;
  ASSERT_TRUE(std::regex_search(status, m, rev_re)) << "no revision in: " << status;
  std::string rev = m[1];
  run({"compact", rev, "--physical"});
  std::regex lease_re("lease ([0-9a-f]+) granted");
  std::string g1 = run({"lease", "grant", "600"});
  std::string g2 = run({"lease", "grant", "600"});
  ASSERT_TRUE(e.empty()) << e;
  std::smatch m1, m2;
  ASSERT_TRUE(std::regex_search(g1, m1, lease_re)) << g1;
  ASSERT_TRUE(std::regex_search(g2, m2, lease_re)) << g2;
  std::string l1 = m1[1], l2 = m2[1];
  run({"put", "--lease=" + l1, "leased/kept", "a"});
  run({"put", "--lease=" + l2, "leased/revoked", "b"});
  run({"lease", "revoke", l2});
  for (int i = 40; i < 60; i++) run({"put", "compat/k" + std::to_string(i), "after-compaction"});
  ASSERT_TRUE(e.empty()) << e;
  int rc = proc.Stop(std::chrono::seconds(15));
  std::printf(
      "[compat] etcd stopped (status %d), compacted at revision %s, leases %s (kept) %s "
      "(revoked)\n",
      rc, rev.c_str(), l1.c_str(), l2.c_str());

  std::string db = data + "/member/snap/db";
  ASSERT_TRUE(compat::FileExists(db)) << db;
  ReadResult r = compat::ReadWithBoltpp(db);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  GoResult g = RunGo({"dump", "-db", db}, tmp.path(), "go-etcd");
  ASSERT_TRUE(g.ok) << g.error;
  std::string summary_out = tmp.path() + "/summary.out";
  compat::ProcResult sp = compat::RunProcess({GoHelper(), "summary", "-db", db}, summary_out,
                                             tmp.path() + "/summary.err", std::chrono::seconds(30));
  ASSERT_EQ(sp.exit_code, 0) << sp.Describe();
  std::string go_summary = compat::ReadFileOrEmpty(summary_out);
  std::printf("[compat] etcd buckets (hex name, keys) via boltpp:\n%s", r.summary.c_str());
  EXPECT_EQ(r.summary, go_summary) << "bucket names/key counts differ between boltpp and Go";
  EXPECT_EQ(compat::CompareDumps(g.dump, r.dump, "Go read", "boltpp read"), "");
  if (g.check.empty()) {
    EXPECT_EQ(r.check, std::vector<std::string>{}) << "boltpp's check fails on etcd's file";
  } else {
    std::printf("[compat] Go 1.3.6's own check failed on etcd's file (Go defect):%s\n",
                JoinLines(g.check).c_str());
    EXPECT_EQ(Sorted(r.check), Sorted(g.check));
  }
  // Sanity: etcd's "key" bucket holds revisions; "lease" holds the one live lease.
  EXPECT_NE(r.summary.find(compat::Hex("key") + " "), std::string::npos) << r.summary;
  EXPECT_NE(r.summary.find(compat::Hex("lease") + " 1\n"), std::string::npos) << r.summary;
  EXPECT_NE(r.summary.find(compat::Hex("meta") + " "), std::string::npos) << r.summary;

  // The boltpp tool on etcd's file: check, buckets (the names Go sees), the
  // live lease, and an export -> import copy that Go reads with the same content.
  CliResult check = RunCli({"check", db}, tmp.path(), "cli-check");
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.out, "OK\n");
  CliResult buckets = RunCli({"buckets", db}, tmp.path(), "cli-buckets");
  EXPECT_EQ(buckets.exit_code, 0) << buckets.err;
  std::string expected_buckets;
  for (const std::string& line : compat::SplitLines(go_summary)) {
    expected_buckets += UnHex(line.substr(0, line.find(' '))) + "\n";
  }
  EXPECT_EQ(buckets.out, expected_buckets);
  CliResult leases = RunCli({"keys", db, "lease"}, tmp.path(), "cli-keys-lease");
  EXPECT_EQ(leases.exit_code, 0) << leases.err;
  EXPECT_EQ(compat::SplitLines(leases.out).size(), 1u) << leases.out;
  for (const char* cmd : {"info", "stats", "pages", "inspect"}) {
    CliResult c = RunCli({cmd, db}, tmp.path(), std::string("cli-") + cmd);
    EXPECT_EQ(c.exit_code, 0) << cmd << ": " << c.err;
    EXPECT_FALSE(c.out.empty()) << cmd;
  }
  ExpectExportImportKeepsContent(db, g.dump, tmp.path(), "etcd");
  if (HasFailure()) tmp.Keep();
}

// The golden Go files through `boltpp export` and `boltpp import`: Go bbolt
// reads the imported file, its check is clean, and its dump equals the original's.
TEST(Cli, ExportImportOfGoFilesKeepsContent) {
  REQUIRE_GO();
  std::string dir = Env("BOLTPP_COMPAT_TESTDATA");
  if (dir.empty()) dir = BOLTPP_COMPAT_TESTDATA;
  boltpp::testing::TempDir tmp = CompatTempDir("cli");
  ASSERT_TRUE(tmp.ok());
  int files = 0;
  for (const auto& ent : fs::directory_iterator(dir)) {
    if (ent.path().extension() != ".db") continue;
    std::string db = ent.path().string();
    std::string expected = compat::ReadFileOrEmpty(db.substr(0, db.size() - 3) + ".dump");
    ASSERT_FALSE(expected.empty()) << db;
    ExpectExportImportKeepsContent(db, expected, tmp.path(), ent.path().stem().string());
    files++;
  }
  EXPECT_GE(files, 4);
  if (HasFailure()) tmp.Keep();
}

// --------------------------------------------------------------- shrink ----

// Deletes every other top-level bucket (the free space lands all over the
// file) in one transaction, then commits once more so the freed pages are
// released and the free tail is trimmed at commit.
boltpp::Status DeleteHalf(boltpp::DB* db) {
  boltpp::Status s = db->Update([](boltpp::Tx& tx) -> boltpp::Status {
    std::vector<std::string> names;
    (void)tx.ForEach([&](boltpp::Bytes name, boltpp::Bucket) {
      names.emplace_back(name);
      return boltpp::Status::OK();
    });
    for (size_t i = 0; i < names.size(); i += 2) {
      if (boltpp::Status d = tx.DeleteBucket(names[i]); !d.ok()) return d;
    }
    return boltpp::Status::OK();
  });
  if (!s.ok()) return s;
  return db->Update([](boltpp::Tx&) { return boltpp::Status::OK(); });
}

// Go bbolt opens the file, its check is clean and it reads what boltpp reads.
std::string GoAgrees(const std::string& db, const std::string& dir, const std::string& tag) {
  ReadResult r = compat::ReadWithBoltpp(db);
  if (!r.status.ok()) return "boltpp cannot reopen: " + r.status.ToString();
  if (!r.check.empty()) return "boltpp's check:" + JoinLines(r.check);
  GoResult g = RunGo({"dump", "-db", db}, dir, tag);
  if (!g.ok) return "Go cannot read it: " + g.error;
  if (!g.check.empty()) return "Go's check:" + JoinLines(g.check);
  return compat::CompareDumps(r.dump, g.dump, "boltpp", "Go    ");
}

// Go runs round 0 of the seed's workload on db and checks it; boltpp then
// reads Go's result. "" or the failure.
std::string GoWritesOn(const std::string& db, uint64_t seed, const WorkloadConfig& cfg,
                       const std::string& dir) {
  GoResult g = RunGo(GoGenArgs(db, seed, cfg, 0), dir, "go-mutate");
  if (!g.ok) return "Go cannot write on it: " + g.error;
  if (!g.check.empty()) return "Go's check after its writes:" + JoinLines(g.check);
  ReadResult r = compat::ReadWithBoltpp(db);
  if (!r.status.ok()) return "boltpp cannot read Go's result: " + r.status.ToString();
  if (!r.check.empty()) return "boltpp's check of Go's result:" + JoinLines(r.check);
  return compat::CompareDumps(g.dump, r.dump, "Go wrote", "boltpp read");
}

boltpp::Options OptionsFor(const WorkloadConfig& cfg) {
  boltpp::Options o;
  o.page_size = cfg.page_size;
  o.no_freelist_sync = cfg.no_freelist_sync;
  o.freelist_type =
      cfg.freelist == "hashmap" ? boltpp::FreelistType::kHashMap : boltpp::FreelistType::kArray;
  return o;
}

// Files truncated at commit and shrunk by DB::Shrink are valid bbolt files:
// Go bbolt checks them clean, reads the same content, and writes on.
TEST(Shrink, GoReadsTruncatedAndShrunkFiles) {
  REQUIRE_GO();
  boltpp::testing::TempDir tmp = CompatTempDir("shrink");
  ASSERT_TRUE(tmp.ok());
  auto seeds = ShardSeeds(0, 1, static_cast<int>(EnvInt("BOLTPP_COMPAT_SHRINK_COUNT", 6)), 5000);
  for (uint64_t seed : seeds) {
    WorkloadConfig cfg = ConfigForSeed(seed);
    if (compat::IsBigSeed(seed)) continue;  // keep it quick
    SCOPED_TRACE("seed " + std::to_string(seed) + " [" + cfg.Describe() + "]");
    const std::string dir = tmp.path() + "/seed-" + std::to_string(seed);
    fs::create_directories(dir);
    const std::string db = dir + "/boltpp.db";
    ASSERT_TRUE(compat::RunWorkload(db, cfg, seed, 0).ok());
    const boltpp::Options o = OptionsFor(cfg);
    {
      auto h = boltpp::DB::Open(db, o);
      ASSERT_TRUE(h.ok()) << h.status().ToString();
      ASSERT_TRUE(DeleteHalf(h->get()).ok());
    }
    EXPECT_EQ(GoAgrees(db, dir, "go-truncated"), "");
    uint64_t before = fs::file_size(db), after = 0;
    {
      auto h = boltpp::DB::Open(db, o);
      ASSERT_TRUE(h.ok()) << h.status().ToString();
      auto r = (*h)->Shrink(boltpp::ShrinkOptions{64});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      after = r->size_after;
    }
    EXPECT_LE(after, before);
    EXPECT_EQ(fs::file_size(db), after);
    EXPECT_EQ(GoAgrees(db, dir, "go-shrunk"), "");
    EXPECT_EQ(GoWritesOn(db, seed, cfg, dir), "");
    if (HasFailure()) {
      tmp.Keep();
      break;
    }
  }
}

// -------------------------------------------------------------- compact ----

// Compact into a fresh file (the page copy: src/compact_pages.cc) of files
// boltpp and Go wrote: Go bbolt checks the copy clean, reads the source's
// contents from it, and writes on it.
TEST(Compact, GoChecksCompactedFiles) {
  REQUIRE_GO();
  boltpp::testing::TempDir tmp = CompatTempDir("compact");
  ASSERT_TRUE(tmp.ok());
  auto seeds = ShardSeeds(0, 1, static_cast<int>(EnvInt("BOLTPP_COMPAT_COMPACT_COUNT", 4)), 7000);
  int index = 0;
  for (uint64_t seed : seeds) {
    WorkloadConfig cfg = ConfigForSeed(seed);
    if (compat::IsBigSeed(seed)) continue;  // keep it quick
    const bool go_source = index++ % 2 == 1;
    SCOPED_TRACE("seed " + std::to_string(seed) + " [" + cfg.Describe() + "], source written by " +
                 (go_source ? "Go" : "boltpp"));
    const std::string dir = tmp.path() + "/seed-" + std::to_string(seed);
    fs::create_directories(dir);
    const std::string src = dir + "/source.db", dst = dir + "/compacted.db";
    if (go_source) {
      GoResult g = RunGo(GoGenArgs(src, seed, cfg, -1), dir, "go-gen");
      ASSERT_TRUE(g.ok) << g.error;
    } else {
      ASSERT_TRUE(compat::RunWorkload(src, cfg, seed, 0).ok());
    }
    ReadResult source = compat::ReadWithBoltpp(src);
    ASSERT_TRUE(source.status.ok()) << source.status.ToString();
    {
      boltpp::Options ro = OptionsFor(cfg);
      ro.read_only = true;
      auto from = boltpp::DB::Open(src, ro);
      ASSERT_TRUE(from.ok()) << from.status().ToString();
      auto to = boltpp::DB::Open(dst, OptionsFor(cfg));
      ASSERT_TRUE(to.ok()) << to.status().ToString();
      boltpp::Status s = boltpp::Compact(**to, **from, 65536);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    EXPECT_EQ(GoAgrees(dst, dir, "go-compacted"), "");
    ReadResult copy = compat::ReadWithBoltpp(dst);
    ASSERT_TRUE(copy.status.ok()) << copy.status.ToString();
    EXPECT_EQ(compat::CompareDumps(source.dump, copy.dump, "source   ", "compacted"), "");
    EXPECT_EQ(GoWritesOn(dst, seed, cfg, dir), "");
    if (HasFailure()) {
      tmp.Keep();
      break;
    }
  }
}

// --------------------------------------------------------------- golden ----

TEST(Golden, BoltppReadsCommittedGoFiles) {
  std::string dir = Env("BOLTPP_COMPAT_TESTDATA");
  if (dir.empty()) dir = BOLTPP_COMPAT_TESTDATA;
  ASSERT_FALSE(dir.empty());
  std::vector<std::string> dbs;
  for (const auto& ent : fs::directory_iterator(dir))
    if (ent.path().extension() == ".db") dbs.push_back(ent.path().string());
  std::sort(dbs.begin(), dbs.end());
  ASSERT_GE(dbs.size(), 4u) << "golden files missing from " << dir;
  for (const auto& db : dbs) {
    std::string stem = db.substr(0, db.size() - 3);
    std::string expected = compat::ReadFileOrEmpty(stem + ".dump");
    ASSERT_FALSE(expected.empty()) << stem << ".dump is missing";
    ReadResult r = compat::ReadWithBoltpp(db);
    ASSERT_TRUE(r.status.ok()) << db << ": " << r.status.ToString();
    EXPECT_EQ(r.check, std::vector<std::string>{}) << db << ": boltpp's check";
    EXPECT_EQ(compat::CompareDumps(expected, r.dump, "golden dump", "boltpp read"), "") << db;
    std::printf("  %s: %zu bytes of dump, ok\n", fs::path(db).filename().c_str(), r.dump.size());
  }
}

}  // namespace
