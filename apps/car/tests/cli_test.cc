// boltpp-car run as a program: go-car's output on the fixtures, every
// command, and every error path (exit status 1, one message on stderr).
#include <gtest/gtest.h>

#include <filesystem>

#include "boltpp/car/cid.h"
#include "boltpp/car/inspect.h"
#include "boltpp/car/reader.h"
#include "car_test_util.h"
#include "testutil/test_db.h"

namespace boltpp::car {
namespace {

using testing::AllSections;
using testing::ReadFile;
using testing::RunCli;
using testing::Testdata;

class Cli : public ::testing::Test {
 protected:
  boltpp::testing::TempDir dir_;
  testing::CliResult Run(const std::vector<std::string>& args, const std::string& in = "") {
    return RunCli(dir_.path(), args, in);
  }
  // Fails unless the command failed with status 1, an empty stdout, and a
  // stderr that mentions `needle`.
  void ExpectFailure(const std::vector<std::string>& args, const std::string& needle) {
    const auto r = Run(args);
    EXPECT_EQ(r.status, 1) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
    EXPECT_EQ(r.err.find("boltpp-car: "), 0u) << r.err;
  }
};

TEST_F(Cli, InspectMatchesGoCar) {
  for (const char* name : {"sample-v1", "sample-wrapped-v2"}) {
    const std::string want = ReadFile(Testdata(std::string("expected/") + name + ".inspect.txt"));
    for (const char* full : {"", "--full"}) {
      std::vector<std::string> args = {"inspect", Testdata(std::string(name) + ".car")};
      if (*full) args.insert(args.begin() + 1, full);
      const auto r = Run(args);
      EXPECT_EQ(r.status, 0) << r.err;
      EXPECT_EQ(r.out, want) << name << " " << full;
      EXPECT_EQ(r.err, "");
    }
  }
}

TEST_F(Cli, LsRootAndGetBlock) {
  auto reader = CarReader::OpenFile(Testdata("sample-v1.car"));
  ASSERT_TRUE(reader.ok());
  const auto sections = AllSections(**reader);
  std::string want;
  for (const auto& s : sections) want += s.cid + "\n";
  for (const char* cmd : {"ls", "list"}) {
    auto r = Run({cmd, Testdata("sample-wrapped-v2.car")});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, want);
  }
  auto piped = Run({"ls"}, Testdata("sample-v1.car"));  // from stdin
  EXPECT_EQ(piped.status, 0) << piped.err;
  EXPECT_EQ(piped.out, want);
  auto root = Run({"root", Testdata("sample-v1.car")});
  EXPECT_EQ(root.out, "bafy2bzaced4ueelaegfs5fqu4tzsh6ywbbpfk3cxppupmxfdhbpbhzawfw5oy\n");
  // get-block through the v2's index and by scanning the v1; stdout and a file.
  for (size_t i : {size_t{0}, size_t{1}, sections.size() / 2, sections.size() - 1}) {
    for (const char* car : {"sample-v1.car", "sample-wrapped-v2.car"}) {
      auto r = Run({"get-block", Testdata(car), sections[i].cid});
      EXPECT_EQ(r.status, 0) << r.err;
      EXPECT_TRUE(r.out == sections[i].block) << car << " block " << i;
      const std::string out = dir_.File("block.bin");
      r = Run({"get-block", Testdata(car), sections[i].cid, out});
      EXPECT_EQ(r.status, 0) << r.err;
      EXPECT_TRUE(ReadFile(out) == sections[i].block);
    }
  }
}

TEST_F(Cli, IndexCreateEqualsDetachIndex) {
  const std::string a = dir_.File("a.idx"), b = dir_.File("b.idx"), c = dir_.File("c.idx");
  EXPECT_EQ(Run({"index", "create", Testdata("sample-v1.car"), a}).status, 0);
  EXPECT_EQ(Run({"detach-index", Testdata("sample-wrapped-v2.car"), b}).status, 0);
  EXPECT_EQ(Run({"index", "create", "--regenerate", Testdata("sample-wrapped-v2.car"), c}).status,
            0);
  const std::string want = ReadFile(Testdata("sample-wrapped-v2.car")).substr(479958);
  EXPECT_TRUE(ReadFile(a) == want);
  EXPECT_TRUE(ReadFile(b) == want);
  EXPECT_TRUE(ReadFile(c) == want);
  EXPECT_FALSE(std::filesystem::exists(a + ".tmp"));
  // Identity CIDs kept: 6 more records; the sorted codec starts 80 08.
  EXPECT_EQ(Run({"index", "create", "--store-identity", Testdata("sample-v1.car"), a}).status, 0);
  EXPECT_EQ(ReadFile(a).substr(0, 6),
            std::string("\x81\x08\x02\x00\x00\x00", 6));  // two hash groups
  EXPECT_EQ(
      Run({"index", "create", "--codec", "car-index-sorted", Testdata("sample-v1.car"), a}).status,
      0);
  EXPECT_EQ(ReadFile(a).substr(0, 2), "\x80\x08");
}

TEST_F(Cli, VerifyAndGenerate) {
  EXPECT_EQ(Run({"verify", Testdata("sample-v1.car")}).status, 0);
  EXPECT_EQ(Run({"verify", "--full", Testdata("sample-wrapped-v2.car")}).status, 0);
  const std::string out = dir_.File("corpus");
  auto g = Run({"gen", "--out", out, "--count", "8", "--seed", "9", "--dup-fraction", "0.1",
                "--identity-fraction", "0.05"});
  ASSERT_EQ(g.status, 0) << g.err;
  EXPECT_EQ(g.out.find("wrote 8 CAR files"), 0u) << g.out;
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    files++;
    const std::string p = e.path().string();
    EXPECT_GT(std::filesystem::file_size(p), 1000u);
    EXPECT_LT(std::filesystem::file_size(p), 2u << 20);
    auto v = Run({"verify", "--full", p});
    EXPECT_EQ(v.status, 0) << p << ": " << v.err;
    auto insp = Run({"inspect", "--full", p});
    EXPECT_EQ(insp.status, 0) << insp.err;
    EXPECT_NE(insp.out.find("Root blocks present in data: Yes"), std::string::npos);
  }
  EXPECT_EQ(files, 8u);
  // Deterministic: the same seed gives the same bytes, another seed others.
  const std::string again = dir_.File("again"), other = dir_.File("other");
  ASSERT_EQ(Run({"gen", "--out", again, "--count", "2", "--seed", "9", "--dup-fraction", "0.1",
                 "--identity-fraction", "0.05"})
                .status,
            0);
  ASSERT_EQ(Run({"gen", "--out", other, "--count", "1", "--seed", "10"}).status, 0);
  EXPECT_TRUE(ReadFile(again + "/gen-9-0001.car") == ReadFile(out + "/gen-9-0001.car"));
  EXPECT_FALSE(ReadFile(other + "/gen-10-0000.car") == ReadFile(out + "/gen-9-0000.car"));
  // Padded pieces verify with --zero-length-eof only.
  const std::string pad = dir_.File("pad");
  ASSERT_EQ(
      Run({"gen", "--out", pad, "--count", "1", "--seed", "4", "--version", "1", "--pad"}).status,
      0);
  const std::string piece = pad + "/gen-4-0000.car";
  const auto size = std::filesystem::file_size(piece);
  EXPECT_EQ(size & (size - 1), 0u) << size;
  ExpectFailure({"verify", piece}, "zero length");
  EXPECT_EQ(Run({"verify", "--zero-length-eof", piece}).status, 0);
}

TEST_F(Cli, VerifyFindsDamage) {
  std::string car = ReadFile(Testdata("sample-v1.car"));
  // Flip a byte inside the last block: the structure holds, the hash does not.
  car[car.size() - 3] ^= 1;
  const std::string bad = dir_.File("bad.car");
  testing::WriteFile(bad, car);
  EXPECT_EQ(Run({"verify", bad}).status, 0);
  ExpectFailure({"verify", "--full", bad}, "mismatch in content integrity, expected: bafy2bz");
  ExpectFailure({"inspect", "--full", bad}, "mismatch in content integrity");
  // Truncated mid-section.
  testing::WriteFile(bad, ReadFile(Testdata("sample-v1.car")).substr(0, 1000));
  ExpectFailure({"verify", bad}, "runs past the end of the data");
  ExpectFailure({"ls", bad}, "truncated");
  ExpectFailure({"index", "create", bad, dir_.File("x.idx")}, "section at byte");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("x.idx")));
  // A v2 whose index misses a block's offset.
  std::string v2 = ReadFile(Testdata("sample-wrapped-v2.car"));
  v2[479958 + 30 + 32] ^= 1;  // the first record's offset
  testing::WriteFile(bad, v2);
  ExpectFailure({"verify", bad}, "in index: ");
  // The root missing from the blocks: a header naming another CID.
  std::string v1 = ReadFile(Testdata("sample-v1.car"));
  v1[50] ^= 1;  // inside the root CID's digest in the header
  testing::WriteFile(bad, v1);
  ExpectFailure({"verify", bad}, "header lists root(s) not present as a block: map[bafy2bz");
  const auto r = Run({"inspect", bad});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("Root blocks present in data: No"), std::string::npos);
}

TEST_F(Cli, ErrorsExitOneWithAMessage) {
  ExpectFailure({"inspect", dir_.File("missing.car")}, "No such file or directory");
  ExpectFailure({"inspect", dir_.path()}, "is a directory");
  ExpectFailure({"frobnicate"}, "frobnicate");
  ExpectFailure({"inspect"}, "car is required");
  ExpectFailure({"get-block", Testdata("sample-v1.car"), "bafkqaaa"}, "block bafkqaaa not found");
  ExpectFailure({"get-block", Testdata("sample-v1.car"), "not-a-cid"}, "invalid CID \"not-a-cid\"");
  ExpectFailure(
      {"get-block", Testdata("sample-v1.car"),
       "bafy2bzaced4ueelaegfs5fqu4tzsh6ywbbpfk3cxppupmxfdhbpbhzawfw5oy", "/nonexistent/dir/out"},
      "create /nonexistent/dir/out");
  ExpectFailure({"detach-index", Testdata("sample-v1.car"), dir_.File("o")},
                "a CARv1 has no index");
  ExpectFailure({"index", "create", "--codec", "zip", Testdata("sample-v1.car"), dir_.File("o")},
                "unknown index codec");
  ExpectFailure({"index", "create", Testdata("sample-v1.car"), "/nonexistent/dir/o.idx"},
                "create /nonexistent");
  ExpectFailure({"gen", "--out", dir_.File("g"), "--version", "7"},
                "version \"7\" is not 1, 2, 2i or mix");
  ExpectFailure({"gen", "--out", dir_.File("g"), "--v0-fraction", "1.5"},
                "fraction 1.5 is not between 0 and 1");
  ExpectFailure({"gen", "--count", "2"}, "--out is required");
  testing::WriteFile(dir_.File("empty.car"), "");
  ExpectFailure({"verify", dir_.File("empty.car")}, "no data (empty input)");
  const auto piped = Run({"ls"}, dir_.File("empty.car"));  // an empty stdin
  EXPECT_EQ(piped.status, 1);
  EXPECT_EQ(piped.err, "boltpp-car: CAR header at byte 0: no data (empty input)\n");
}

}  // namespace
}  // namespace boltpp::car
