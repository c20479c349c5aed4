// File: tests/reliability/kill_test.cc
// Real kills (RocksDB's blackbox crash test). A child process
// (boltpp_kill_child) commits seeded transactions and logs each committed
// id, fdatasync'd, after Commit returns. The parent SIGKILLs it after a
// random delay (some during open, most mid-stream), then opens the file
// itself and requires:
//  * it opens and Check() finds nothing;
//  * every logged commit is present: state/n >= the last logged id, and at
//    most one commit beyond it (killed between Commit and the log write);
//  * the content is exactly the model after transactions 1..state/n.
// Then the next child continues from there. BOLTPP_KILLS sets the number of
// kills (default 300, scaled by BOLTPP_RELIABILITY_SCALE).
//
// The WAL loop runs the child in WAL mode (checkpointing every 32 KiB of
// log and every 20 ms, so kills land in commits and checkpoints alike).
// After each kill, before anything replays the log, the data file alone
// must be a clean bbolt file: boltpp opens it read-only and checks it, and
// Go bbolt 1.3.6 (the compatibility suite's bboltgen) checks it too. Then a
// read-write open replays the log and every logged commit must be there.
// BOLTPP_WAL_KILLS sets its number of kills (default 60).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "reliability/kill_txn.h"
#include "testutil/model.h"
#include "testutil/random.h"
#include "testutil/temp_dir.h"
#include "reliability/stats.h"

namespace boltpp::reliability {
using namespace boltpp::testing;  // the shared test toolkit (tests/testutil)
namespace {

uint64_t LastLogged(const std::string& log) {
  std::ifstream in(log);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Only complete lines count: the child may die in the middle of a write.
  const size_t end = all.rfind('\n');
  if (end == std::string::npos) return 0;
  size_t start = end == 0 ? std::string::npos : all.rfind('\n', end - 1);
  start = start == std::string::npos ? 0 : start + 1;
  const std::string line = all.substr(start, end - start);
  return line.empty() ? 0 : std::stoull(line);
}

uintmax_t LogSize(const std::string& p) {
  std::error_code ec;
  const uintmax_t n = std::filesystem::file_size(p, ec);
  return ec ? 0 : n;
}

std::string ReadFile(const std::string& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& err_path) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 2);
      close(fd);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// The data file alone (before any replay) as boltpp and Go bbolt see it:
// "" when both open it read-only and check it clean.
std::string CheckDataFileAlone(const std::string& db_path, const TempDir& dir) {
  if (LogSize(db_path) == 0) return "";  // killed before the file was created
  Options ro;
  ro.read_only = true;
  ro.timeout = std::chrono::milliseconds(5000);
  auto db = DB::Open(db_path, ro);
  if (!db.ok()) return "read-only open: " + db.status().ToString();
  if (std::string c = CheckDB(db->get()); !c.empty()) return "boltpp check: " + c;
  (void)(*db)->Close();
#ifdef BOLTPP_BBOLTGEN
  const std::string out = dir.File("go.check"), err = dir.File("go.err");
  const std::string cmd = std::string(BOLTPP_BBOLTGEN) + " dump -db " + db_path + " -checkout " +
                          out + " > /dev/null 2> " + err;
  if (std::system(cmd.c_str()) != 0) return "Go bbolt cannot open it: " + ReadFile(err);
  if (std::string c = ReadFile(out); !c.empty()) return "Go bbolt's check: " + c;
#else
  (void)dir;
#endif
  return "";
}

void KillLoop(bool wal, int default_kills, uint64_t default_seed) {
  const uint64_t seed = SeedOr(default_seed);
  int kills = default_kills;
  if (const char* e = std::getenv(wal ? "BOLTPP_WAL_KILLS" : "BOLTPP_KILLS")) kills = std::atoi(e);
  kills = Scaled(kills, 10);
  std::printf("seed=%llu kills=%d wal=%d child=%s (set BOLTPP_SEED / BOLTPP_%sKILLS to repeat)\n",
              static_cast<unsigned long long>(seed), kills, wal, BOLTPP_KILL_CHILD,
              wal ? "WAL_" : "");
  TempDir dir(TempDirOptions{.prefix = "boltpp-kill", .prefer_shm = true});
  const std::string db_path = dir.File("kill.db");
  const std::string log_path = dir.File("commits.log");
  const std::string err_path = dir.File("child.err");

  std::mt19937_64 rng(seed);
  MBucket model;
  uint64_t applied = 0;
  int64_t unlogged = 0, during_open = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < kills; k++) {
    std::vector<std::string> args{BOLTPP_KILL_CHILD, db_path, log_path, std::to_string(seed),
                                  std::to_string(k)};
    if (wal) args.push_back("wal");
    pid_t pid = Spawn(args, err_path);
    ASSERT_GT(pid, 0);
    // A third of the kills land within the first 3 ms (open, first commit);
    // the rest after the child has logged a commit, plus up to 30 ms, so
    // that they hit a working child however slow the build (sanitizers).
    if (k % 3 == 0) {
      std::this_thread::sleep_for(
          std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(rng)));
    } else {
      const uintmax_t before = LogSize(log_path);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (LogSize(log_path) == before && std::chrono::steady_clock::now() < deadline) {
        int st = 0;
        ASSERT_EQ(waitpid(pid, &st, WNOHANG), 0) << "kill " << k << ": the child ended by itself:\n"
                                                 << ReadFile(err_path);
        std::this_thread::sleep_for(std::chrono::microseconds(300));
      }
      std::this_thread::sleep_for(
          std::chrono::microseconds(std::uniform_int_distribution<int>(0, 30000)(rng)));
    }
    kill(pid, SIGKILL);
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
        << "kill " << k << ": the child ended by itself (status " << st << "):\n"
        << ReadFile(err_path);
    const uint64_t logged = LastLogged(log_path);
    if (logged <= applied) during_open++;  // no commit logged by this child
    if (wal) {
      const std::string alone = CheckDataFileAlone(db_path, dir);
      ASSERT_EQ(alone, "") << "kill " << k << " seed " << seed
                           << ": the data file alone is not a clean bbolt file";
    }

    Options o;
    o.timeout = std::chrono::milliseconds(5000);
    auto db = DB::Open(db_path, o);
    ASSERT_TRUE(db.ok()) << "kill " << k << " seed " << seed << ": " << db.status().ToString();
    ASSERT_EQ(CheckDB(db->get()), "") << "kill " << k << " seed " << seed;
    auto n = KillTxnCommitted(db->get());
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_GE(*n, logged) << "kill " << k << " seed " << seed << ": a logged commit is lost";
    ASSERT_LE(*n, logged + 1) << "kill " << k << ": more than one commit beyond the log";
    ASSERT_GE(*n, applied) << "kill " << k << ": the database went back in time";
    unlogged += static_cast<int64_t>(*n - logged);
    for (uint64_t i = applied + 1; i <= *n; i++) ApplyOps(&model, KillTxnOps(seed, i));
    applied = *n;
    MBucket got;
    Status r = ReadModel(db->get(), &got);
    ASSERT_TRUE(r.ok()) << r.ToString();
    ASSERT_EQ(Diff(model, got), "") << "kill " << k << " seed " << seed << " at commit " << applied;
    ASSERT_TRUE((*db)->Close().ok());
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "%d kills in %.1f s, %llu commits, %lld committed but not yet logged, %lld killed before a "
      "commit\n",
      kills, secs, static_cast<unsigned long long>(applied), static_cast<long long>(unlogged),
      static_cast<long long>(during_open));
  EXPECT_GT(applied, static_cast<uint64_t>(kills) / 2)
      << "too few commits: the kills did not hit a working child";
  PrintStats(wal ? "kill_wal" : "kill", {{"kills", kills},
                                         {"kill_commits_verified", static_cast<int64_t>(applied)},
                                         {"kill_lost_commits", 0},
                                         {"kill_unlogged_commits", unlogged}});
}

TEST(KillTest, EveryLoggedCommitSurvivesSigkill) { KillLoop(false, 300, 777); }

TEST(KillTest, WalEveryLoggedCommitSurvivesSigkillAndTheDataFileChecksClean) {
#ifndef BOLTPP_BBOLTGEN
  if (std::getenv("CI")) FAIL() << "the Go helper bboltgen is not built (Go bbolt missing)";
  std::printf("Go bbolt helper not built: the data file is checked by boltpp only\n");
#endif
  KillLoop(true, 60, 778);
}

}  // namespace
}  // namespace boltpp::reliability
