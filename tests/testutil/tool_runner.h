// File: tests/testutil/tool_runner.h
// RunTool: runs a command-line program (the boltpp tool, an application's
// tool, a Go helper) as a child process and captures its exit status, stdout
// and stderr, for tests of command-line behaviour.
//
//   ToolResult r = RunTool(binary, {"check", db}, {.cwd = dir.path()});
//   EXPECT_EQ(r.exit_code, 0) << r.err;
//   EXPECT_EQ(r.out, "OK\n");
//
// The child gets stdin from opts.stdin_file (/dev/null by default), runs in
// opts.cwd, inherits the environment plus opts.env ("K=V" entries replace
// inherited ones), and is killed (SIGKILL) if the test process dies or the
// timeout passes. A binary without '/' is looked up in PATH.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace boltpp::testing {

struct ToolResult {
  int exit_code = -1;      // exit status; 128 + signal number when killed
  bool signaled = false;   // ended by a signal (a crash, or the timeout's kill)
  bool timed_out = false;  // killed because opts.timeout passed
  std::string out;         // everything written to stdout
  std::string err;         // everything written to stderr
  // Exit status 126: the child could not chdir or open stdin; 127: exec failed.
  std::string FirstErrLine() const { return err.substr(0, err.find('\n')); }
};

struct ToolRunOptions {
  std::string cwd = ".";
  std::string stdin_file;                // "" = /dev/null
  std::vector<std::string> env;          // extra "K=V" entries
  std::chrono::milliseconds timeout{0};  // 0 = wait as long as it takes
};

ToolResult RunTool(const std::string& binary, const std::vector<std::string>& args,
                   const ToolRunOptions& opts = {});

}  // namespace boltpp::testing
