// File: tools/cli/cli_test_util.h
// Helpers for the boltpp CLI tests: run the built tool as a subprocess and
// capture its exit status, stdout and stderr; temporary directories; files.
#pragma once

#include <string>
#include <vector>

namespace boltpp::cli::test {

struct RunResult {
  int rc = -1;            // exit status (128 + signal when killed)
  bool signaled = false;  // killed by a signal (a crash)
  std::string out, err;
  std::string FirstErrLine() const;
};

// The tool: $BOLTPP_CLI, else the path compiled in.
std::string ToolPath();
// The committed golden data folder (tools/cli/testdata/bbolt-1.5-cli).
std::string TestData();

// Runs the tool with args in cwd; stdin comes from stdin_file ("" = /dev/null).
RunResult RunTool(const std::vector<std::string>& args, const std::string& cwd = ".",
              const std::string& stdin_file = "");

// A fresh directory under $TMPDIR, removed (recursively) at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);
void CopyFile(const std::string& from, const std::string& to);
bool Exists(const std::string& path);
std::vector<std::string> SplitArgs(const std::string& s);
std::vector<std::string> Lines(const std::string& s);

}  // namespace boltpp::cli::test
