// File: tests/reliability/fuzz_regression_test.cc
// The fuzz targets' code (fuzz/fuzz_logic.cc) in the normal test build:
//  * every input saved under fuzz/regressions/{open,ops}/ is replayed (a
//    crash, sanitizer report or abort fails the test binary);
//  * every seed database opens and checks clean;
//  * a deterministic corruption sweep: structural bytes of every page of
//    every seed (page headers, element headers, the first key bytes) are set
//    to 0x00, 0xff, flipped or shifted, with the meta checksums fixed up so
//    the damage is reached, and the file must be opened, checked, read,
//    written and compacted without a crash (SQLite's malformed-file tests);
//  * seeded random operation programs run against the model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "fuzz_logic.h"
#include "testutil/mem_fs.h"
#include "testutil/model.h"
#include "testutil/random.h"
#include "reliability/stats.h"
#include "seeds.h"

namespace boltpp::reliability {
using namespace boltpp::testing;  // the shared test toolkit (tests/testutil)
namespace {

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int Replay(const std::string& sub, int (*fn)(const uint8_t*, size_t)) {
  const std::filesystem::path dir =
      std::filesystem::path(BOLTPP_SOURCE_DIR) / "fuzz" / "regressions" / sub;
  int n = 0;
  if (!std::filesystem::is_directory(dir)) return 0;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name[0] == '.' || e.path().extension() == ".md" ||
        e.path().extension() == ".txt") {
      continue;
    }
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::printf("replaying %s\n", f.c_str());
    std::fflush(stdout);
    const std::string bytes = ReadAll(f);
    fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    n++;
  }
  return n;
}

// The seed databases, plus the Go bbolt golden files of the compatibility
// suite when they are there.
std::vector<std::pair<std::string, std::string>> AllSeedFiles() {
  auto seeds = fuzz::MakeSeedDatabases();
  const std::filesystem::path dir =
      std::filesystem::path(BOLTPP_SOURCE_DIR) / "tests" / "compat" / "testdata";
  if (std::filesystem::is_directory(dir)) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".db") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) seeds.emplace_back(f.filename().string(), ReadAll(f));
  }
  return seeds;
}

TEST(FuzzRegressions, ReplayOpen) {
  const int n = Replay("open", fuzz::FuzzOpenFile);
  PrintStats("fuzz_regressions_open", {{"fuzz_regressions_replayed", n}});
}

TEST(FuzzRegressions, ReplayOps) {
  const int n = Replay("ops", fuzz::FuzzOps);
  PrintStats("fuzz_regressions_ops", {{"fuzz_regressions_replayed", n}});
}

TEST(FuzzSeeds, SeedDatabasesAreClean) {
  for (const auto& [name, bytes] : AllSeedFiles()) {
    ASSERT_FALSE(bytes.empty()) << name;
    MemFileSystem fs;
    fs.PutFile("/s.db", bytes);
    Options o;
    o.file_system = &fs;
    o.read_only = true;
    auto db = DB::Open("/s.db", o);
    ASSERT_TRUE(db.ok()) << name << ": " << db.status().ToString();
    EXPECT_EQ(CheckDB(db->get()), "") << name;
    std::string in = std::string(1, '\x07') + bytes;
    fuzz::FuzzOpenFile(reinterpret_cast<const uint8_t*>(in.data()), in.size());
  }
  for (const auto& [name, prog] : fuzz::MakeSeedPrograms()) {
    fuzz::FuzzOps(reinterpret_cast<const uint8_t*>(prog.data()), prog.size());
  }
}

TEST(FuzzSeeds, CorruptionSweep) {
  // BOLTPP_SWEEP_DUMP=<file>: each input is written there before it runs.
  const char* dump = std::getenv("BOLTPP_SWEEP_DUMP");
  struct Mutation {
    size_t seed;
    size_t offset;
    int variant;
  };
  const auto seeds = AllSeedFiles();
  std::vector<Mutation> all;
  for (size_t si = 0; si < seeds.size(); si++) {
    const std::string& bytes = seeds[si].second;
    uint32_t ps;
    std::memcpy(&ps, bytes.data() + 16 + 8, 4);
    std::vector<size_t> offsets;
    for (size_t o : {0, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 15})
      offsets.push_back(o);  // id, flags, count, overflow
    for (size_t o = 16; o < 16 + 4 * 16; o += 2) offsets.push_back(o);  // elements, meta fields
    offsets.push_back(ps / 2);
    offsets.push_back(ps - 1);
    for (size_t pg = 0; pg < bytes.size() / ps; pg++) {
      for (size_t off : offsets) {
        for (int variant = 0; variant < 4; variant++) all.push_back({si, pg * ps + off, variant});
      }
    }
  }
  // An even, deterministic share of all single-byte mutations.
  const size_t budget = static_cast<size_t>(Scaled(12000, 200));
  const size_t stride = std::max<size_t>(1, (all.size() + budget - 1) / budget);
  int64_t runs = 0;
  for (size_t i = 0; i < all.size(); i += stride) {
    const size_t j = i + (i / stride) % stride;  // a different phase in each stride
    if (j >= all.size()) break;
    const Mutation& m = all[j];
    std::string f = seeds[m.seed].second;
    uint8_t& b = reinterpret_cast<uint8_t&>(f[m.offset]);
    switch (m.variant) {
      case 0:
        b = 0x00;
        break;
      case 1:
        b = 0xff;
        break;
      case 2:
        b ^= 0x01;
        break;
      case 3:
        b += 0x10;
        break;
    }
    // Fix checksums so the damage is reached; write on some, compact on some.
    const char flags = static_cast<char>(1 | (runs % 4 == 0 ? 2 : 0) | (runs % 8 == 1 ? 4 : 0) |
                                         (runs % 16 == 4 ? 8 : 0));
    std::string in = std::string(1, flags) + f;
    if (dump)
      std::ofstream(dump, std::ios::binary | std::ios::trunc) << in;  // the input, should it crash
    fuzz::FuzzOpenFile(reinterpret_cast<const uint8_t*>(in.data()), in.size());
    runs++;
  }
  std::printf(
      "%lld of %zu one-byte mutations of %zu seed files opened, checked, read and written without "
      "a crash\n",
      static_cast<long long>(runs), all.size(), seeds.size());
  PrintStats("corruption_sweep", {{"corrupt_files_opened", runs}});
}

TEST(FuzzSeeds, RandomProgramsAgreeWithModel) {
  const uint64_t seed = SeedOr(99);
  std::mt19937_64 rng(seed);
  const int programs = Scaled(150, 10);
  for (int i = 0; i < programs; i++) {
    std::string prog(std::uniform_int_distribution<size_t>(10, 600)(rng), '\0');
    for (auto& c : prog) c = static_cast<char>(rng());
    fuzz::FuzzOps(reinterpret_cast<const uint8_t*>(prog.data()), prog.size());
  }
  PrintStats("random_programs", {{"model_programs", programs}});
}

}  // namespace
}  // namespace boltpp::reliability
