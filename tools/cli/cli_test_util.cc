// File: tools/cli/cli_test_util.cc
#include "cli_test_util.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "testutil/raw_file.h"

namespace boltpp::cli::test {

std::string ToolPath() {
  const char* env = std::getenv("BOLTPP_CLI");
  if (env && *env) return env;
#ifdef BOLTPP_CLI_PATH
  return BOLTPP_CLI_PATH;
#else
  return "boltpp";
#endif
}

std::string TestData() {
  const char* env = std::getenv("BOLTPP_CLI_TESTDATA");
  if (env && *env) return env;
#ifdef BOLTPP_CLI_TESTDATA
  return BOLTPP_CLI_TESTDATA;
#else
  return "testdata/bbolt-1.5-cli";
#endif
}

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
