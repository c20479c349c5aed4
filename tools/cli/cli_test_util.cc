// File: tools/cli/cli_test_util.cc
#include "cli_test_util.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "testutil/raw_file.h"

namespace boltpp::cli::test {

#ifndef BOLTPP_CLI_PATH
#define BOLTPP_CLI_PATH "boltpp"
#endif
#ifndef BOLTPP_CLI_TESTDATA
#define BOLTPP_CLI_TESTDATA "testdata/bbolt-1.5-cli"
#endif

namespace {

// $name when set and not empty, else fallback.
std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

std::string ToolPath() { return EnvOr("BOLTPP_CLI", BOLTPP_CLI_PATH); }

std::string TestData() { return EnvOr("BOLTPP_CLI_TESTDATA", BOLTPP_CLI_TESTDATA); }

RunResult RunTool(const std::vector<std::string>& args, const std::string& cwd,
                  const std::string& stdin_file) {
  return ::boltpp::testing::RunTool(
      ToolPath(), args, {.cwd = cwd, .stdin_file = stdin_file, .env = {"BOLTPP_NO_PROGRESS=1"}});
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error("cannot write " + path);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

void CopyFile(const std::string& from, const std::string& to) {
  WriteFile(to, ReadFile(from));
  ::chmod(to.c_str(), 0644);
}

bool Exists(const std::string& path) { return ::boltpp::testing::FileExists(path); }

std::vector<std::string> SplitArgs(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream ss(s);
  std::string w;
  while (ss >> w) out.push_back(w);
  return out;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace boltpp::cli::test
