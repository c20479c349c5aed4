// File: tests/api/testutil_test.cc
// The shared test toolkit's own contracts where they are not plain
// forwarding: TempDir's removal (also of folders a test made read-only) and
// RunTool's capture, exit status, environment, stdin, working directory and
// timeout. The fault-injecting file system is exercised by fault_test.cc and
// the reliability suite.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <filesystem>

#include "testutil/raw_file.h"
#include "testutil/temp_dir.h"
#include "testutil/tool_runner.h"

namespace boltpp::testing {
namespace {

namespace fs = std::filesystem;

// (Run as root, permissions stop nothing; the test still checks the removal.)
TEST(TempDirTest, RemovesEverythingEvenWithoutPermissions) {
  std::string path;
  {
    TempDir dir(TempDirOptions{.prefix = "boltpp-tempdir-test"});
    ASSERT_TRUE(dir.ok());
    path = dir.path();
    EXPECT_NE(path.find("/boltpp-tempdir-test-"), std::string::npos) << path;
    fs::create_directories(dir.File("a/b"));
    WriteFileBytes(dir.File("a/b/file"), "x");
    ASSERT_EQ(::chmod(dir.File("a/b/file").c_str(), 0), 0);
    ASSERT_EQ(::chmod(dir.File("a/b").c_str(), 0500), 0);  // entries cannot be removed
    ASSERT_EQ(::chmod(dir.File("a").c_str(), 0), 0);       // cannot even be listed
  }
  EXPECT_FALSE(fs::exists(path)) << path;
}

TEST(TempDirTest, KeepLeavesTheDirectory) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    dir.Keep();
  }
  EXPECT_TRUE(fs::is_directory(path));
  fs::remove_all(path);
}

TEST(ToolRunnerTest, CapturesOutputAndExitStatus) {
  ToolResult r = RunTool("/bin/sh", {"-c", "printf out; printf 'err\\nmore' >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.signaled);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out, "out");
  EXPECT_EQ(r.err, "err\nmore");
  EXPECT_EQ(r.FirstErrLine(), "err");
}

TEST(ToolRunnerTest, EnvironmentStdinAndWorkingDirectory) {
  TempDir dir;
  WriteFileBytes(dir.File("in.txt"), "from stdin");
  ToolResult r = RunTool("sh", {"-c", "echo \"$BOLTPP_TOOL_RUNNER_TEST\"; cat; pwd"},
                         {.cwd = dir.path(),
                          .stdin_file = dir.File("in.txt"),
                          .env = {"BOLTPP_TOOL_RUNNER_TEST=set"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "set\nfrom stdin" + fs::canonical(dir.path()).string() + "\n");
}

TEST(ToolRunnerTest, SignalsMissingBinariesAndTimeouts) {
  ToolResult missing = RunTool("/nonexistent/tool", {});
  EXPECT_EQ(missing.exit_code, 127);

  ToolResult crashed = RunTool("/bin/sh", {"-c", "kill -SEGV $$"});
  EXPECT_TRUE(crashed.signaled);
  EXPECT_EQ(crashed.exit_code, 128 + SIGSEGV);

  const auto start = std::chrono::steady_clock::now();
  ToolResult slow = RunTool("/bin/sh", {"-c", "echo started; exec sleep 30"},
                            {.timeout = std::chrono::milliseconds(300)});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_TRUE(slow.timed_out);
  EXPECT_TRUE(slow.signaled);
  EXPECT_EQ(slow.exit_code, 128 + SIGKILL);
  EXPECT_EQ(slow.out, "started\n");
}

}  // namespace
}  // namespace boltpp::testing
