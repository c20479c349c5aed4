// File: tools/cli/cli_golden_test.cc
// Golden tests: every case of testdata/bbolt-1.5-cli/CASES (outputs of bbolt
// 1.5.0 on jobs-300.db) must give the same stdout byte for byte, the same
// exit status and the same first line of stderr.
#include <gtest/gtest.h>

#include <fstream>

#include "cli_test_util.h"

namespace boltpp::cli::test {
namespace {

struct Case {
  std::string name;
  std::string args;
};

std::vector<Case> LoadCases() {
  std::vector<Case> cases;
  std::ifstream f(TestData() + "/CASES");
  std::string line;
  while (std::getline(f, line)) {
    auto bar = line.find('|');
    if (line.empty() || bar == std::string::npos) continue;
    cases.push_back({line.substr(0, bar), line.substr(bar + 1)});
  }
  return cases;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name << "|" << c.args; }

class GoldenTest : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenTest, MatchesBbolt) {
  const Case& c = GetParam();
  // Run in a scratch copy of the folder, as the cases were run (compact
  // writes compacted.db into it).
  TempDir dir;
  for (const char* f : {"jobs-300.db", "not-a-db.txt"}) CopyFile(TestData() + "/" + f, dir.File(f));
  RunResult r = RunTool(SplitArgs(c.args), dir.path());
  std::string want_out = ReadFile(TestData() + "/" + c.name + ".out");
  std::string want_err = ReadFile(TestData() + "/" + c.name + ".err");
  int want_rc = std::stoi(ReadFile(TestData() + "/" + c.name + ".rc"));
  EXPECT_FALSE(r.signaled) << "crashed: " << r.err;
  EXPECT_EQ(r.exit_code, want_rc) << "stderr: " << r.err;
  EXPECT_EQ(r.out, want_out);
  EXPECT_EQ(r.FirstErrLine(), want_err.substr(0, want_err.find('\n')));
  // The source must never be modified by a read-only command.
  EXPECT_EQ(ReadFile(dir.File("jobs-300.db")), ReadFile(TestData() + "/jobs-300.db"));
  if (c.name == "compact") {
    ASSERT_TRUE(Exists(dir.File("compacted.db")));
    RunResult chk = RunTool({"check", "compacted.db"}, dir.path());
    EXPECT_EQ(chk.exit_code, 0) << chk.out << chk.err;
    EXPECT_EQ(chk.out, "OK\n");
  }
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.name;
  for (auto& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Bbolt15, GoldenTest, ::testing::ValuesIn(LoadCases()), CaseName);

TEST(GoldenCases, AllLoaded) { EXPECT_GE(LoadCases().size(), 25u); }

}  // namespace
}  // namespace boltpp::cli::test
