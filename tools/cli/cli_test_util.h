// File: tools/cli/cli_test_util.h
// Helpers for the boltpp CLI tests: run the built tool as a subprocess and
// capture its exit status, stdout and stderr (testutil/tool_runner.h);
// temporary directories (testutil/temp_dir.h); files.
#pragma once

#include <string>
#include <vector>

#include "testutil/temp_dir.h"
#include "testutil/tool_runner.h"

namespace boltpp::cli::test {

using RunResult = ::boltpp::testing::ToolResult;
using ::boltpp::testing::TempDir;

// The tool: $BOLTPP_CLI, else the path compiled in.
std::string ToolPath();
// The committed golden data folder (tools/cli/testdata/bbolt-1.5-cli).
std::string TestData();

// Runs the tool with args in cwd, with BOLTPP_NO_PROGRESS=1; stdin comes from
// stdin_file ("" = /dev/null).
RunResult RunTool(const std::vector<std::string>& args, const std::string& cwd = ".",
                  const std::string& stdin_file = "");

// Throws std::runtime_error when the file cannot be read or written.
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);
void CopyFile(const std::string& from, const std::string& to);
bool Exists(const std::string& path);
std::vector<std::string> SplitArgs(const std::string& s);
std::vector<std::string> Lines(const std::string& s);

}  // namespace boltpp::cli::test
