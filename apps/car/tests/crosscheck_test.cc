// Cross-checks against implementations that are not ours: @ipld/car lists the
// blocks of our generated CARs (CIDs, offsets, lengths, block bytes), and we
// read CARs written by @ipld/car's CarWriter and packed by ipfs-car.
// Needs Node (skipped, saying so, when `node` is absent); installs the npm
// packages from tests/node/package-lock.json with `npm ci` when missing.
#include <gtest/gtest.h>

#include <filesystem>

#include "boltpp/car/cid.h"
#include "boltpp/car/gen.h"
#include "boltpp/car/hash.h"
#include "boltpp/car/inspect.h"
#include "boltpp/car/reader.h"
#include "car_test_util.h"
#include "testutil/random.h"
#include "testutil/test_db.h"

namespace boltpp::car {
namespace {

using testing::ReadFile;
using testing::ShellQuote;
using testing::ToHex;

const std::string kNodeDir = BOLTPP_CAR_NODE_DIR;

// Runs a shell command; returns its exit status and stdout.
int Shell(const std::string& cmd, std::string* out = nullptr) {
  boltpp::testing::TempDir tmp;
  const std::string file = tmp.File("out");
  const int rc = std::system((cmd + " >" + ShellQuote(file)).c_str());
  if (out) *out = ReadFile(file);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class CrossCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (Shell("command -v node >/dev/null 2>&1") != 0) {
      skip_ = "node is not installed: the @ipld/car / ipfs-car cross-checks did not run";
      return;
    }
    // ctest runs tests in parallel processes: one installs, the others wait
    // on the lock. The marker is written only after `npm ci` finished, so no
    // process uses a half-extracted node_modules.
    const int rc =
        Shell("cd " + ShellQuote(kNodeDir) +
              " && flock .npm-install.lock sh -c '[ -f node_modules/.boltpp-installed ] || "
              "{ npm ci --no-audit --no-fund && touch node_modules/.boltpp-installed; }' 1>&2");
    if (rc != 0) install_error_ = "npm ci failed in " + kNodeDir;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_EQ(install_error_, "");
  }

  // Our listing in list.mjs's format (absolute offsets, full section length).
  static std::string OurListing(const std::string& path) {
    auto r = CarReader::OpenFile(path);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    std::string out = "version " + std::to_string((*r)->version()) + "\n";
    for (const Cid& c : (*r)->roots()) out += "root " + c.ToString() + "\n";
    Section s;
    while (*(*r)->Next(&s, true)) {
      std::string digest;
      EXPECT_TRUE(Digest(kSha2_256, s.block, 32, &digest).ok());
      const uint64_t base = (*r)->payload_offset();
      out += CidToString({reinterpret_cast<const char*>(s.cid.data()), s.cid.size()}, s.cid_info) +
             " " + std::to_string(base + s.offset) + " " +
             std::to_string(s.varint_size + s.length) + " " +
             std::to_string(base + s.block_offset()) + " " + std::to_string(s.block_size()) + " " +
             ToHex(digest) + "\n";
    }
    return out;
  }
  static std::string NodeListing(const std::string& path) {
    std::string out;
    EXPECT_EQ(Shell("node " + ShellQuote(kNodeDir + "/list.mjs") + " " + ShellQuote(path), &out), 0)
        << path;
    return out;
  }

  static inline std::string skip_, install_error_;
  boltpp::testing::TempDir dir_;
};

TEST_F(CrossCheck, IpldCarListsOurGeneratedCarsTheSame) {
  GenOptions g;
  g.seed = testing::TestSeed(31);
  g.duplicate_fraction = 0.1;
  g.identity_fraction = 0.05;
  g.v0_fraction = 0.3;
  for (uint64_t i = 0; i < 8; i++) {
    g.version = static_cast<GenVersion>(i % 3);  // v1, v2, v2 with index
    const std::string path = dir_.File("g" + std::to_string(i) + ".car");
    ASSERT_TRUE(GenerateCar(path, g, i).ok());
    const std::string ours = OurListing(path);
    ASSERT_GT(std::count(ours.begin(), ours.end(), '\n'), 10);
    EXPECT_EQ(NodeListing(path), ours) << path;
  }
  // And the go-car fixtures (blake2b-256 and identity CIDs).
  for (const char* name : {"sample-v1.car", "sample-wrapped-v2.car"}) {
    EXPECT_EQ(NodeListing(testing::Testdata(name)), OurListing(testing::Testdata(name))) << name;
  }
}

TEST_F(CrossCheck, WeReadIpldCarWriterOutput) {
  const std::string path = dir_.File("w.car");
  ASSERT_EQ(Shell("node " + ShellQuote(kNodeDir + "/write.mjs") + " " + ShellQuote(path) + " 200 " +
                  std::to_string(testing::TestSeed(32))),
            0);
  EXPECT_TRUE(Verify(path, {.rehash_blocks = true}).ok());
  const std::string ours = OurListing(path);
  EXPECT_EQ(std::count(ours.begin(), ours.end(), '\n'), 202);  // version, root, 200 blocks
  EXPECT_EQ(NodeListing(path), ours);
}

TEST_F(CrossCheck, WeReadIpfsCarPackedUnixfs) {
  // A directory of files, some over the 256 KiB chunk size (dag-pb + raw leaves).
  boltpp::testing::Random rnd(testing::TestSeed(33));
  const std::string in = dir_.File("in");
  std::filesystem::create_directories(in + "/sub");
  for (int i = 0; i < 6; i++) {
    testing::WriteFile(in + (i % 2 ? "/sub/f" : "/f") + std::to_string(i),
                       rnd.Bytes(rnd.Uniform(600 << 10)));
  }
  const std::string car = dir_.File("packed.car");
  ASSERT_EQ(Shell(ShellQuote(kNodeDir + "/node_modules/.bin/ipfs-car") + " pack " + ShellQuote(in) +
                  " --output " + ShellQuote(car) + " 2>&1"),
            0);
  Status s = Verify(car, {.rehash_blocks = true});
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto r = CarReader::OpenFile(car);
  ASSERT_TRUE(r.ok());
  auto report = Inspect(**r, true);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->roots_present);
  EXPECT_GT(report->codec_counts[kDagPb], 0u);
  EXPECT_EQ(NodeListing(car), OurListing(car));
}

}  // namespace
}  // namespace boltpp::car
