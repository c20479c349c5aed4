// The CAR fuzz targets' code in the normal test build: every input kept in
// fuzz/regressions/car_reader/ and car_index/ is replayed, the fixtures run
// through both targets, and a deterministic sweep of one-byte mutations of
// small CARs and indexes must run without a crash (the ASan build catches
// out-of-bounds reads).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "boltpp/car/gen.h"
#include "car_fuzz_logic.h"
#include "car_test_util.h"
#include "testutil/test_db.h"

namespace boltpp::car {
namespace {

using testing::ReadFile;

int Replay(const std::string& target, int (*fn)(const uint8_t*, size_t)) {
  const std::filesystem::path dir =
      std::filesystem::path(BOLTPP_SOURCE_DIR) / "fuzz" / "regressions" / target;
  if (!std::filesystem::is_directory(dir)) {
    ADD_FAILURE() << dir << " is missing: no regression input can be replayed";
    return 0;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto ext = e.path().extension();
    const bool hidden = e.path().filename().string()[0] == '.';
    if (e.is_regular_file() && !hidden && ext != ".md" && ext != ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::printf("replaying %s\n", f.c_str());
    const std::string bytes = ReadFile(f);
    fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  return static_cast<int>(files.size());
}

std::string WithFlags(char flags, const std::string& car) { return std::string(1, flags) + car; }

// Runs the fuzzers' small seeds (apps/car/testdata/fuzz-seeds) through their
// targets; returns how many were run.
int ReplaySeeds() {
  int seeds = 0;
  for (const auto& e : std::filesystem::directory_iterator(testing::Testdata("fuzz-seeds"))) {
    const std::string bytes = ReadFile(e.path());
    if (e.path().extension() == ".idx") {
      fuzz::FuzzIndexReader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    } else {
      const std::string in = WithFlags(0x0d, bytes);
      fuzz::FuzzCarReader(reinterpret_cast<const uint8_t*>(in.data()), in.size());
    }
    seeds++;
  }
  return seeds;
}

// The regression folders hold only .keep until a crash input is saved, so the
// seeds make up the count today; a missing folder fails.
TEST(CarFuzz, ReplayRegressionsAndSeeds) {
  const int regressions =
      Replay("car_reader", fuzz::FuzzCarReader) + Replay("car_index", fuzz::FuzzIndexReader);
  const int seeds = ReplaySeeds();
  std::printf("%d regression inputs and %d seeds replayed\n", regressions, seeds);
  EXPECT_GE(seeds, 12);
}

TEST(CarFuzz, FixturesRunThroughBothTargets) {
  const std::string v1 = ReadFile(testing::Testdata("sample-v1.car"));
  const std::string v2 = ReadFile(testing::Testdata("sample-wrapped-v2.car"));
  for (char flags = 0; flags < 16; flags++) {
    for (const std::string* car : {&v1, &v2}) {
      const std::string in = WithFlags(flags, *car);
      fuzz::FuzzCarReader(reinterpret_cast<const uint8_t*>(in.data()), in.size());
    }
  }
  const std::string index = v2.substr(479958);
  fuzz::FuzzIndexReader(reinterpret_cast<const uint8_t*>(index.data()), index.size());
}

TEST(CarFuzz, OneByteMutationSweep) {
  boltpp::testing::TempDir dir;
  GenOptions g;
  g.seed = testing::TestSeed(41);
  g.min_blocks = 3;
  g.max_blocks = 8;
  g.min_block_size = 1;
  g.max_block_size = 60;
  g.identity_fraction = 0.2;
  g.duplicate_fraction = 0.2;
  g.fanout = 3;
  std::vector<std::string> cars;
  for (int i = 0; i < 4; i++) {
    g.version = static_cast<GenVersion>(i % 3);
    ASSERT_TRUE(GenerateCar(dir.File("m.car"), g, static_cast<uint64_t>(i)).ok());
    cars.push_back(ReadFile(dir.File("m.car")));
  }
  size_t runs = 0;
  for (const std::string& car : cars) {
    for (size_t at = 0; at < car.size(); at++) {
      for (uint8_t v :
           {uint8_t{0x00}, uint8_t{0xff}, static_cast<uint8_t>(car[at] ^ 0x01), uint8_t{0x80}}) {
        std::string m = car;
        m[at] = static_cast<char>(v);
        const std::string in = WithFlags(static_cast<char>(runs & 15), m);
        fuzz::FuzzCarReader(reinterpret_cast<const uint8_t*>(in.data()), in.size());
        runs++;
      }
    }
  }
  // The index of the 2i CAR (third file) mutated the same way.
  const std::string& v2i = cars[2];
  const uint64_t index_offset = [&] {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | static_cast<uint8_t>(v2i[43 + i]);
    return v;
  }();
  ASSERT_GT(index_offset, 0u);
  const std::string index = v2i.substr(index_offset);
  for (size_t at = 0; at < index.size(); at++) {
    for (uint8_t v :
         {uint8_t{0x00}, uint8_t{0xff}, static_cast<uint8_t>(index[at] ^ 0x01), uint8_t{0x7f}}) {
      std::string m = index;
      m[at] = static_cast<char>(v);
      fuzz::FuzzIndexReader(reinterpret_cast<const uint8_t*>(m.data()), m.size());
      runs++;
    }
  }
  std::printf("%zu mutated inputs read without a crash\n", runs);
}

}  // namespace
}  // namespace boltpp::car
