// boltpp-dagstore: golden outputs, error paths (exit 1 with one line on
// stderr), migrate, initialize-all interrupted by SIGINT and resumed.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <random>
#include <thread>

#include "helpers.h"
#include "testutil/random.h"
#include "testutil/temp_dir.h"
#include "testutil/tool_runner.h"

extern char** environ;
namespace fs = std::filesystem;

namespace boltpp::dagstore::testing {
namespace {

using boltpp::testing::RunTool;
using boltpp::testing::TempDir;
using boltpp::testing::ToolResult;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.File("cars"));
    root_ = dir_.File("root");
  }
  // Every store a test wrote passes Go bbolt's check too (each command, and
  // any `serve` of the test body, has ended by then).
  void TearDown() override { EXPECT_EQ(GoCheckRoot(root_), ""); }
  ToolResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--root", root_});
    return RunTool(BOLTPP_DAGSTORE_CLI, args, {.cwd = dir_.path()});
  }
  std::string Car(const std::string& name, uint64_t index, uint64_t min_blocks = 20,
                  uint64_t max_blocks = 60) {
    return MakeCar(dir_.File("cars"), name, index, min_blocks, max_blocks);
  }
  void ExpectVerifyOk() {
    auto r = Run({"verify"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  TempDir dir_;
  std::string root_;
};

TEST_F(CliTest, ListShardsOnAnEmptyStorePrintsNothing) {
  auto r = Run({"list-shards"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = Run({"list-shards", "--output", "json"});
  EXPECT_EQ(r.out, "[]\n");
}

TEST_F(CliTest, RegisterAndListGolden) {
  const std::string a = Car("a.car", 1);
  auto r = Run({"register-shard", "bb", FileUrl(a)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Registered shard bb\n");
  r = Run({"register-shard", "a", FileUrl(a), "--lazy"});
  EXPECT_EQ(r.out, "Registered shard a\n");
  r = Run({"register-shard", "a", FileUrl(a), "--lazy"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "Shard a is already registered\n");
  r = Run({"register-shard", "gone", FileUrl(dir_.File("cars/none.car"))});
  EXPECT_EQ(r.exit_code, 1);
  const std::string err = "shard data " + dir_.File("cars/none.car") + " is missing or not a file";
  EXPECT_EQ(r.err, "boltpp-dagstore: shard gone is Errored: " + err + "\n");
  r = Run({"list-shards"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "KEY   STATE      ERROR\n"
            "a     New\n"
            "bb    Available\n"
            "gone  Errored    " +
                err + "\n");
  r = Run({"list-shards", "--output", "json"});
  EXPECT_EQ(r.out,
            "[\n  {\n    \"Key\": \"a\",\n    \"State\": \"New\",\n    \"Error\": \"\"\n  },\n"
            "  {\n    \"Key\": \"bb\",\n    \"State\": \"Available\",\n    \"Error\": \"\"\n  },\n"
            "  {\n    \"Key\": \"gone\",\n    \"State\": \"Errored\",\n    \"Error\": \"" +
                err + "\"\n  }\n]\n");
  ExpectVerifyOk();
}

TEST_F(CliTest, InitializeAllPrintsTwoLinesPerShard) {
  for (const char* k : {"a", "b", "c"}) {
    Run({"register-shard", k, FileUrl(Car(std::string(k) + ".car", k[0])), "--lazy"});
  }
  Run({"register-shard", "d", FileUrl(dir_.File("cars/none.car")), "--lazy"});
  auto r = Run({"initialize-all", "--concurrency=1"});
  EXPECT_EQ(r.exit_code, 1);
  const std::string err = "shard data " + dir_.File("cars/none.car") + " is missing or not a file";
  // Shards indexed while a commit runs share the next one, so a shard may
  // start before the previous one's SUCCESS (printed after its commit):
  // the lines are fixed, their order only per shard and for the STARTINGs.
  const std::vector<std::string> want = {
      "(1/4) a STARTING", "(1/4) a SUCCESS", "(2/4) b STARTING", "(2/4) b SUCCESS",
      "(3/4) c STARTING", "(3/4) c SUCCESS", "(4/4) d STARTING", "(4/4) d ERROR " + err};
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(r.out.substr(at, nl - at));
  }
  std::vector<std::string> sorted_lines = lines, sorted_want = want;
  std::sort(sorted_lines.begin(), sorted_lines.end());
  std::sort(sorted_want.begin(), sorted_want.end());
  EXPECT_EQ(sorted_lines, sorted_want) << r.out;
  auto position = [&](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) - lines.begin();
  };
  for (size_t i = 0; i + 1 < want.size(); i += 2) {
    EXPECT_LT(position(want[i]), position(want[i + 1])) << r.out;  // STARTING before its end
    if (i + 2 < want.size()) {
      EXPECT_LT(position(want[i]), position(want[i + 2])) << r.out;  // STARTINGs in order
    }
  }
  EXPECT_EQ(r.err, "boltpp-dagstore: 1 of 4 shards failed\n");
  r = Run({"initialize-all", "--concurrency=0"});  // nothing New is left
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = Run({"initialize-shard", "a"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "boltpp-dagstore: cannot initialize shard; expected state ShardStateNew, was: "
            "ShardStateAvailable\n");
  r = Run({"initialize-all"});
  EXPECT_EQ(r.exit_code, 106);  // CLI11: --concurrency is required
  ExpectVerifyOk();
}

TEST_F(CliTest, GetBlockLookupGcDestroyRecover) {
  const std::string a = Car("a.car", 1);
  Run({"register-shard", "k", FileUrl(a)});
  const auto blocks = BlocksOf(a);
  const auto& [cid, block] = blocks[blocks.size() / 2];
  auto r = Run({"get-block", cid.ToString()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, block);
  r = Run({"get-block", cid.ToString(), dir_.File("out.bin")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_.File("out.bin")), block);
  r = Run({"get-block", cid.ToString(), dir_.File("no-such-dir/out.bin")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "boltpp-dagstore: cannot open " + dir_.File("no-such-dir/out.bin") + "\n");
  r = Run({"lpc", cid.ToString()});
  EXPECT_EQ(r.out, "Given CID was found in the following pieces: [k]\n");
  const std::string unknown = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
  r = Run({"get-block", unknown});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "boltpp-dagstore: block " + unknown + " not found\n");
  r = Run({"lookup-piece-cid", unknown});
  EXPECT_EQ(r.exit_code, 1);
  r = Run({"get-block", "nonsense"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad CID nonsense"), std::string::npos);
  r = Run({"gc"});
  EXPECT_EQ(r.out, "no shards collected\n");
  r = Run({"recover-shard", "k"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "boltpp-dagstore: cannot recover shard; expected state ShardStateErrored, was: "
            "ShardStateAvailable\n");
  r = Run({"destroy-shard", "k"});
  EXPECT_EQ(r.out, "Destroyed shard k\n");
  r = Run({"destroy-shard", "k"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "boltpp-dagstore: shard k not found\n");
  ExpectVerifyOk();
}

TEST_F(CliTest, RecoverShardAfterTheCarComesBack) {
  const std::string a = Car("a.car", 1);
  const std::string bytes = ReadFile(a);
  fs::remove(a);
  Run({"register-shard", "k", FileUrl(a)});
  WriteFile(a, bytes);
  auto r = Run({"recover-shard", "k"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Run({"list-shards"});
  EXPECT_EQ(r.out, "KEY  STATE      ERROR\nk    Available\n");
  ExpectVerifyOk();
}

TEST_F(CliTest, VerifyReportsDamageAndExitsOne) {
  const std::string a = Car("a.car", 1);
  Run({"register-shard", "k", FileUrl(a)});
  WriteFile(root_ + "/index/k.full.idx", "junk");
  auto r = Run({"verify"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("shard k: index file"), std::string::npos) << r.out;
}

TEST_F(CliTest, RootMayFollowTheSubcommand) {
  const std::string a = Car("a.car", 1);
  auto r = RunTool(BOLTPP_DAGSTORE_CLI, {"register-shard", "k", FileUrl(a), "--root", root_},
                   {.cwd = dir_.path(), .env = {"BOOST_PATH="}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunTool(BOLTPP_DAGSTORE_CLI, {"list-shards", "--root", root_},
              {.cwd = dir_.path(), .env = {"BOOST_PATH="}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "KEY  STATE      ERROR\nk    Available\n");
  ExpectVerifyOk();
}

TEST_F(CliTest, ErrorsWithoutRootOrWithBadArguments) {
  auto r = RunTool(BOLTPP_DAGSTORE_CLI, {"list-shards"}, {.env = {"BOOST_PATH="}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "boltpp-dagstore: no root directory: give --root or set BOOST_PATH\n");
  r = RunTool(BOLTPP_DAGSTORE_CLI, {"list-shards"}, {.env = {"BOOST_PATH=" + dir_.path()}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_directory(dir_.File("dagstore/index")));
  r = Run({"register-shard", "k", "ftp://x/y.car"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unsupported mount URL"), std::string::npos);
  fs::create_directories(root_ + "/index");
  WriteFile(root_ + "/index/.version", "9");
  r = Run({"list-shards"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unsupported index version"), std::string::npos);
}

TEST_F(CliTest, MigrateRegistersLazilyAndResumes) {
  fs::create_directories(dir_.File("cars/sub"));
  Car("a.car", 1);
  Car("b.car", 2);
  Car("sub/c.car", 3);
  WriteFile(dir_.File("cars/notes.txt"), "not a car");
  auto r = Run({"migrate", dir_.File("cars")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Registered 3 shards (0 already registered)\n");
  EXPECT_TRUE(fs::exists(root_ + "/.shard-registration-complete"));
  r = Run({"list-shards", "--output", "json"});
  auto pos = r.out.find("\"Key\": \"baga6ea4sea");
  EXPECT_NE(pos, std::string::npos) << r.out;  // pseudo piece CIDs
  r = Run({"migrate", dir_.File("cars")});
  EXPECT_EQ(r.out, "Registered 0 shards (3 already registered)\n");
  r = Run({"initialize-all", "--concurrency", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectVerifyOk();
  r = Run({"migrate", dir_.File("nope")});
  EXPECT_EQ(r.exit_code, 1);
}

TEST_F(CliTest, IndexInKvFromTheCommandLine) {
  const std::string a = Car("a.car", 1);
  auto r = Run({"--index-in-kv", "register-shard", "a", FileUrl(a)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(root_ + "/index/a.full.idx"));
  const auto blocks = BlocksOf(a);
  r = Run({"get-block", blocks[3].first.ToString()});  // no flag needed any more
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, blocks[3].second);
  r = Run({"lpc", blocks[3].first.ToString()});
  EXPECT_EQ(r.out, "Given CID was found in the following pieces: [a]\n");
  ExpectVerifyOk();
  root_ = dir_.File("files");
  ASSERT_EQ(Run({"register-shard", "a", FileUrl(a)}).exit_code, 0);
  r = Run({"--index-in-kv", "list-shards"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "boltpp-dagstore: this store keeps its shard indexes in files; --index-in-kv is "
            "chosen when a store is created\n");
  ExpectVerifyOk();
}

// Starts the command with stdout on a pipe; returns its pid and the read end.
pid_t Spawn(const std::vector<std::string>& args, int* out_fd) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  *out_fd = fds[0];
  return pid;
}

// Reads the child's stdout to its end, calling on_output with everything
// read so far after each read, then waits for the child. Returns the output;
// *exit_status = the exit status, or 128 + the signal that ended it.
std::string ReadToEndAndWait(pid_t pid, int fd,
                             const std::function<void(const std::string&)>& on_output,
                             int* exit_status) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    on_output(out);
  }
  ::close(fd);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

TEST_F(CliTest, InitializeAllStopsOnSigintAndResumes) {
  constexpr int kShards = 60;
  for (int i = 0; i < kShards; i++) Car("s" + std::to_string(100 + i) + ".car", i, 200, 400);
  ASSERT_EQ(Run({"migrate", dir_.File("cars"), "--key-from-name"}).exit_code, 0);
  int fd = -1;
  const pid_t pid =
      Spawn({BOLTPP_DAGSTORE_CLI, "--root", root_, "initialize-all", "--concurrency=1"}, &fd);
  bool signalled = false;
  int status = 0;
  const std::string out = ReadToEndAndWait(
      pid, fd,
      [&](const std::string& so_far) {
        if (!signalled && so_far.find("SUCCESS") != std::string::npos) {
          ::kill(pid, SIGINT);
          signalled = true;
        }
      },
      &status);
  EXPECT_EQ(status, 1) << out;
  const size_t started = static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) / 2;
  ASSERT_LT(started, static_cast<size_t>(kShards)) << "finished before the signal";
  // every shard that started also finished (no STARTING without its end)
  EXPECT_EQ(out.find("STARTING") != std::string::npos, true);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n') % 2, 0) << out;
  auto r = Run({"initialize-all", "--concurrency=4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(static_cast<size_t>(std::count(r.out.begin(), r.out.end(), '\n')),
            2 * (kShards - started));
  r = Run({"list-shards"});
  EXPECT_EQ(r.out.find("New"), std::string::npos);
  ExpectVerifyOk();
}

// kill -9 during initialize-all at a random point (after a random number of
// finished shards), then reopen: verify passes, nothing is stuck
// Initializing or Serving, and a rerun finishes every shard.
TEST_F(CliTest, KillNineDuringInitializeAllThenReopen) {
  const uint64_t seed = boltpp::testing::SeedOr(20261130);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  constexpr int kShards = 40;
  for (int i = 0; i < kShards; i++) Car("s" + std::to_string(100 + i) + ".car", i, 100, 300);
  ASSERT_EQ(Run({"migrate", dir_.File("cars"), "--key-from-name"}).exit_code, 0);
  for (int round = 0; round < 3; round++) {
    const size_t kill_after = rng() % 8;
    int fd = -1;
    const pid_t pid =
        Spawn({BOLTPP_DAGSTORE_CLI, "--root", root_, "initialize-all", "--concurrency=2"}, &fd);
    bool killed = false;
    int status = 0;
    ReadToEndAndWait(
        pid, fd,
        [&](const std::string& so_far) {
          size_t done = 0;
          for (size_t p = so_far.find("SUCCESS"); p != std::string::npos;
               p = so_far.find("SUCCESS", p + 1))
            done++;
          if (!killed && done >= kill_after) {
            ::kill(pid, SIGKILL);
            killed = true;
          }
        },
        &status);
    auto v = Run({"verify"});
    EXPECT_EQ(v.exit_code, 0) << "round " << round << ": " << v.out << v.err;
    auto r = Run({"list-shards"});
    EXPECT_EQ(r.out.find("Initializing"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("Serving"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("Errored"), std::string::npos) << r.out;
  }
  auto r = Run({"initialize-all", "--concurrency=4"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Run({"list-shards", "--output", "json"});
  EXPECT_EQ(static_cast<int>(std::count(r.out.begin(), r.out.end(), '{')), kShards);
  size_t available = 0;
  for (size_t p = r.out.find("Available"); p != std::string::npos;
       p = r.out.find("Available", p + 1))
    available++;
  EXPECT_EQ(available, static_cast<size_t>(kShards)) << r.out;
  ExpectVerifyOk();
}

// kill -9 during migrate at random moments across many durable batches
// (--batch 10): every kill leaves whole batches (a multiple of 10 shards,
// nothing half-registered), verify passes, and the next run registers
// exactly the CARs still missing. BOLTPP_DAGSTORE_MIGRATE_CARS=N for more.
TEST_F(CliTest, KillNineDuringMigrateThenResume) {
  const uint64_t seed = boltpp::testing::SeedOr(20261131);
  std::printf("seed %llu (BOLTPP_SEED)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const char* env = std::getenv("BOLTPP_DAGSTORE_MIGRATE_CARS");
  const int cars = env != nullptr ? std::atoi(env) : 300;
  constexpr int kBatch = 10;
  for (int i = 0; i < cars; i++) Car("m" + std::to_string(10000 + i) + ".car", i, 2, 4);
  auto registered = [&] {
    auto r = Run({"list-shards", "--output", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return static_cast<int>(std::count(r.out.begin(), r.out.end(), '{'));
  };
  int before = 0;
  for (int round = 0; round < 5 && before < cars; round++) {
    int fd = -1;
    const pid_t pid = Spawn({BOLTPP_DAGSTORE_CLI, "--root", root_, "migrate", dir_.File("cars"),
                             "--batch", std::to_string(kBatch)},
                            &fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 300));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ::close(fd);
    // migrate runs without WAL mode: no log, the data file alone is complete
    EXPECT_FALSE(fs::exists(root_ + "/datastore/dagstore.db-wal"));
    EXPECT_EQ(GoCheckRoot(root_), "") << "round " << round;
    auto v = Run({"verify"});
    EXPECT_EQ(v.exit_code, 0) << "round " << round << ": " << v.out << v.err;
    const int now = registered();
    std::printf("round %d: %d of %d registered\n", round, now, cars);
    EXPECT_GE(now, before);
    EXPECT_TRUE(now % kBatch == 0 || now == cars) << now;  // whole batches only
    before = now;
  }
  auto r = Run({"migrate", dir_.File("cars"), "--batch", std::to_string(kBatch)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Registered " + std::to_string(cars - before) + " shards (" +
                       std::to_string(before) + " already registered)\n");
  EXPECT_TRUE(fs::exists(root_ + "/.shard-registration-complete"));
  EXPECT_EQ(registered(), cars);
  ExpectVerifyOk();
}

// ---------------------------------------------------------------------------
// The admin endpoint: commands reach a running `serve` through <root>/admin.sock.

// A `serve` on `root` (any free port); the admin socket exists once it
// printed its address.
class Daemon {
 public:
  explicit Daemon(const std::string& root, const std::vector<std::string>& global_flags = {}) {
    std::vector<std::string> args{BOLTPP_DAGSTORE_CLI, "--root", root};
    args.insert(args.end(), global_flags.begin(), global_flags.end());
    args.insert(args.end(), {"serve", "--listen", "127.0.0.1:0"});
    pid_ = Spawn(args, &fd_);
    std::string out;
    char buf[256];
    while (out.find('\n') == std::string::npos) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    EXPECT_NE(out.find("listening on http://127.0.0.1:"), std::string::npos) << out;
  }
  ~Daemon() { Stop(SIGTERM); }
  // Sends `sig` and waits; returns the exit status (128 + signal if killed).
  int Stop(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    ::close(fd_);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
};

// Every forwarded command, run once on a store opened directly and once on
// another root through its running serve: the same stdout, stderr and exit
// statuses.
TEST_F(CliTest, CommandsThroughARunningServeAnswerLikeDirectOnes) {
  const std::string a = Car("a.car", 1), b = Car("b.car", 2), c = Car("c.car", 3);
  const std::string bad = dir_.File("cars/bad.car");
  const auto blocks = BlocksOf(a);
  const std::string cid = blocks[blocks.size() / 2].first.ToString();
  auto transcript = [&](bool through_daemon) {
    std::string t;
    auto run = [&](std::vector<std::string> args) {
      auto r = Run(args);
      t += "$ " + args[0] + "\n" + r.out + "[err] " + r.err + "[exit] " +
           std::to_string(r.exit_code) + "\n";
    };
    fs::remove(bad);
    run({"register-shard", "bad", FileUrl(bad)});  // Errored before any daemon starts
    std::unique_ptr<Daemon> daemon;
    if (through_daemon) {
      daemon = std::make_unique<Daemon>(root_);
      EXPECT_TRUE(fs::is_socket(root_ + "/admin.sock"));
    }
    run({"list-shards"});
    run({"register-shard", "a", FileUrl(a)});
    run({"register-shard", "a", FileUrl(a)});
    run({"register-shard", "b", FileUrl(b), "--lazy"});
    run({"register-shard", "c", FileUrl(c), "--lazy"});
    run({"register-shard", "x", "ftp://nowhere"});
    run({"initialize-shard", "b"});
    run({"initialize-shard", "b"});
    run({"initialize-all", "--concurrency=1"});
    run({"lookup-piece-cid", cid});
    run({"lpc", "nonsense"});
    run({"get-block", cid});
    run({"get-block", cid, dir_.File(through_daemon ? "out2.bin" : "out1.bin")});
    run({"get-block", "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"});
    run({"gc"});
    run({"recover-shard", "a"});
    WriteFile(bad, ReadFile(c));
    run({"recover-shard", "bad"});
    run({"destroy-shard", "b"});
    run({"destroy-shard", "b"});
    run({"list-shards", "--output", "json"});
    run({"verify"});
    if (daemon) {
      EXPECT_EQ(daemon->Stop(SIGTERM), 0);
    }
    EXPECT_FALSE(fs::exists(root_ + "/admin.sock"));  // removed when serve stops
    ExpectVerifyOk();
    return t;
  };
  const std::string direct = transcript(false);
  root_ = dir_.File("root2");
  const std::string daemon = transcript(true);
  EXPECT_EQ(daemon, direct);
  EXPECT_EQ(ReadFile(dir_.File("out2.bin")), blocks[blocks.size() / 2].second);
  EXPECT_NE(direct.find("Given CID was found in the following pieces: [a]"), std::string::npos)
      << direct;
}

// A serve killed -9 leaves its socket behind: the next command notices that
// nobody listens, opens the store directly and removes it; a new serve
// starts over it.
TEST_F(CliTest, StaleAdminSocketIsDetectedAndRemoved) {
  Run({"register-shard", "a", FileUrl(Car("a.car", 1))});
  Daemon daemon(root_);
  EXPECT_EQ(daemon.Stop(SIGKILL), 128 + SIGKILL);
  ASSERT_TRUE(fs::is_socket(root_ + "/admin.sock"));
  auto r = Run({"list-shards"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "KEY  STATE      ERROR\na    Available\n");
  EXPECT_EQ(r.err, "warning: removed stale admin socket " + root_ + "/admin.sock\n");
  EXPECT_FALSE(fs::exists(root_ + "/admin.sock"));
  ExpectVerifyOk();
  {
    Daemon first(root_);
    EXPECT_EQ(first.Stop(SIGKILL), 128 + SIGKILL);
  }
  Daemon second(root_);  // replaces the stale socket
  r = Run({"list-shards"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "KEY  STATE      ERROR\na    Available\n");
  EXPECT_EQ(second.Stop(SIGTERM), 0);
  ExpectVerifyOk();
}

// Starts the command with stdout on a pipe and stderr into `err_file`.
pid_t SpawnWithStderr(const std::vector<std::string>& args, int* out_fd,
                      const std::string& err_file) {
  std::vector<std::string> sh = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>" + err_file};
  sh.insert(sh.end(), args.begin(), args.end());
  return Spawn(sh, out_fd);
}

// The daemon dies while it runs a forwarded initialize-all: the command says
// so and exits 1; the store then opens directly, verifies, and a rerun
// finishes the shards.
TEST_F(CliTest, DaemonKilledMidCommandIsAClearError) {
  constexpr int kShards = 30;
  for (int i = 0; i < kShards; i++) Car("s" + std::to_string(100 + i) + ".car", i, 200, 400);
  ASSERT_EQ(Run({"migrate", dir_.File("cars"), "--key-from-name"}).exit_code, 0);
  Daemon daemon(root_);
  int fd = -1;
  const pid_t pid =
      SpawnWithStderr({BOLTPP_DAGSTORE_CLI, "--root", root_, "initialize-all", "--concurrency=1"},
                      &fd, dir_.File("client.err"));
  bool killed = false;
  int status = 0;
  const std::string out = ReadToEndAndWait(
      pid, fd,
      [&](const std::string& so_far) {
        if (!killed && so_far.find("SUCCESS") != std::string::npos) {
          EXPECT_EQ(daemon.Stop(SIGKILL), 128 + SIGKILL);
          killed = true;
        }
      },
      &status);
  EXPECT_EQ(status, 1) << out;
  const std::string err = ReadFile(dir_.File("client.err"));
  EXPECT_EQ(err.rfind("boltpp-dagstore: lost the connection to the daemon (serve) at " + root_ +
                          "/admin.sock during initialize-all: ",
                      0),
            0u)
      << err;
  EXPECT_LT(std::count(out.begin(), out.end(), '\n'), 2 * kShards) << out;
  auto v = Run({"verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.err.find("removed stale admin socket"), std::string::npos) << v.err;
  auto r = Run({"initialize-all", "--concurrency=2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Run({"list-shards"});
  EXPECT_EQ(r.out.find("New"), std::string::npos) << r.out;
  ExpectVerifyOk();
}

// Ctrl-C of a forwarded initialize-all stops the daemon's scheduling as it
// stops a direct one: in-flight shards finish, the rest stay New, the
// daemon keeps serving.
TEST_F(CliTest, SigintOfAForwardedInitializeAllStopsScheduling) {
  constexpr int kShards = 40;
  for (int i = 0; i < kShards; i++) Car("s" + std::to_string(100 + i) + ".car", i, 200, 400);
  ASSERT_EQ(Run({"migrate", dir_.File("cars"), "--key-from-name"}).exit_code, 0);
  Daemon daemon(root_);
  int fd = -1;
  const pid_t pid =
      SpawnWithStderr({BOLTPP_DAGSTORE_CLI, "--root", root_, "initialize-all", "--concurrency=1"},
                      &fd, dir_.File("client.err"));
  bool signalled = false;
  int status = 0;
  const std::string out = ReadToEndAndWait(
      pid, fd,
      [&](const std::string& so_far) {
        if (!signalled && so_far.find("SUCCESS") != std::string::npos) {
          ::kill(pid, SIGINT);
          signalled = true;
        }
      },
      &status);
  EXPECT_EQ(status, 1) << out;
  const std::string err = ReadFile(dir_.File("client.err"));
  EXPECT_NE(err.find("boltpp-dagstore: interrupted: "), std::string::npos) << err;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n') % 2, 0) << out;
  const auto started = static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) / 2;
  ASSERT_LT(started, static_cast<size_t>(kShards));
  auto r = Run({"initialize-all", "--concurrency=4"});  // through the daemon
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(static_cast<size_t>(std::count(r.out.begin(), r.out.end(), '\n')),
            2 * (kShards - started));
  r = Run({"verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(daemon.Stop(SIGTERM), 0);
  ExpectVerifyOk();
}

// A `serve` killed with -9 leaves its WAL log: the data file alone is the
// last checkpoint (Go's check passes), and the next command replays the log,
// so the shard the daemon reported registered is there.
TEST_F(CliTest, ServeKilledWithAPendingWalLogLosesNothing) {
  const std::string a = Car("a.car", 1), b = Car("b.car", 2);
  const std::string db_path = root_ + "/datastore/dagstore.db";
  ASSERT_EQ(Run({"register-shard", "a", FileUrl(a)}).exit_code, 0);
  {
    Daemon daemon(root_);
    auto r = Run({"register-shard", "b", FileUrl(b)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Registered shard b\n");
    EXPECT_TRUE(fs::exists(db_path + "-wal"));
    EXPECT_EQ(daemon.Stop(SIGKILL), 128 + SIGKILL);
  }
  EXPECT_EQ(GoCheck(db_path), "");
  auto r = Run({"list-shards"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "KEY  STATE      ERROR\na    Available\nb    Available\n");
  EXPECT_FALSE(fs::exists(db_path + "-wal"));  // replayed, checkpointed, removed at exit
  r = Run({"get-block", BlocksOf(b)[2].first.ToString()});
  EXPECT_EQ(r.out, BlocksOf(b)[2].second);
  ExpectVerifyOk();
}

// --no-wal: the datastore keeps no log, even while `serve` holds it open;
// a store written either way opens the other way.
TEST_F(CliTest, NoWalFlagRunsWithoutALog) {
  const std::string a = Car("a.car", 1), b = Car("b.car", 2);
  const std::string db_path = root_ + "/datastore/dagstore.db";
  ASSERT_EQ(Run({"register-shard", "a", FileUrl(a)}).exit_code, 0);
  {
    Daemon daemon(root_, {"--no-wal"});
    auto r = Run({"register-shard", "b", FileUrl(b)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(db_path + "-wal"));
    EXPECT_EQ(daemon.Stop(SIGTERM), 0);
  }
  auto r = Run({"--no-wal", "list-shards"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "KEY  STATE      ERROR\na    Available\nb    Available\n");
  EXPECT_FALSE(fs::exists(db_path + "-wal"));
  EXPECT_EQ(Run({"--wal", "list-shards"}).out, r.out);  // the default, spelled out
  r = Run({"--no-wal=maybe", "list-shards"});
  EXPECT_NE(r.exit_code, 0);
  ExpectVerifyOk();
}

}  // namespace
}  // namespace boltpp::dagstore::testing
