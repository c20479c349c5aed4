// Indexes: the golden fixture bytes, the worked example, both codecs,
// lookups of every block, the indexer's options, and damaged index bodies.
#include <gtest/gtest.h>

#include <map>

#include "boltpp/car/cid.h"
#include "boltpp/car/gen.h"
#include "boltpp/car/hash.h"
#include "boltpp/car/index.h"
#include "boltpp/car/varint.h"
#include "car_test_util.h"
#include "testutil/test_db.h"

namespace boltpp::car {
namespace {

using testing::AllSections;
using testing::FromHex;
using testing::ReadFile;
using testing::Span;
using testing::Testdata;
using testing::ToHex;

std::string FixtureIndex() {
  const std::string v2 = ReadFile(Testdata("sample-wrapped-v2.car"));
  return v2.substr(479958);
}

TEST(Index, GoldenSampleV1EqualsGoCarIndex) {
  auto r = CarReader::OpenFile(Testdata("sample-v1.car"));
  ASSERT_TRUE(r.ok());
  auto bytes = BuildIndex(**r);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  const std::string want = FixtureIndex();
  ASSERT_EQ(ToHex(want.substr(0, 30)),
            "8108"
            "01000000"
            "20b2000000000000"
            "01000000"
            "28000000"
            "f8a2000000000000");
  EXPECT_EQ(bytes->size(), want.size());
  EXPECT_TRUE(*bytes == want) << "index bytes differ from go-car's";
}

TEST(Index, RegeneratedV2IndexEqualsEmbeddedAndAdoptionCopiesIt) {
  auto r = CarReader::OpenFile(Testdata("sample-wrapped-v2.car"));
  ASSERT_TRUE(r.ok());
  IndexOptions regen;
  regen.adopt_existing = false;
  auto built = BuildIndex(**r, regen);
  ASSERT_TRUE(built.ok());
  EXPECT_TRUE(*built == FixtureIndex());
  auto adopted = BuildIndex(**r);
  ASSERT_TRUE(adopted.ok());
  EXPECT_TRUE(*adopted == FixtureIndex());
}

// The embedded index is adopted only when it is what was asked for: another
// codec or stored identity CIDs make a fresh index.
TEST(Index, AdoptionOnlyWhenCodecAndIdentitySettingMatch) {
  auto r = CarReader::OpenFile(Testdata("sample-wrapped-v2.car"));
  ASSERT_TRUE(r.ok());
  for (const bool identity : {false, true}) {
    for (const uint64_t codec : {kIndexSortedCodec, kMultihashIndexSortedCodec}) {
      IndexOptions adopt;
      adopt.codec = codec;
      adopt.store_identity_cids = identity;
      IndexOptions regen = adopt;
      regen.adopt_existing = false;
      auto built = BuildIndex(**r, regen);
      auto maybe_adopted = BuildIndex(**r, adopt);
      ASSERT_TRUE(built.ok() && maybe_adopted.ok());
      EXPECT_TRUE(*maybe_adopted == *built) << "codec " << codec << " identity " << identity;
      auto parsed = Index::Parse(Span(*maybe_adopted));
      ASSERT_TRUE(parsed.ok());
      EXPECT_EQ(parsed->codec(), codec);
    }
  }
}

TEST(Index, WorkedExample) {
  std::string digest;
  ASSERT_TRUE(Digest(kSha2_256, Span("hello\n"), 32, &digest).ok());
  IndexBuilder b;
  b.Add(kSha2_256, Span(digest), 59);
  EXPECT_EQ(ToHex(b.Serialize()),
            "8108"
            "01000000"
            "1200000000000000"
            "01000000"
            "28000000"
            "2800000000000000" +
                ToHex(digest) + "3b00000000000000");
  EXPECT_EQ(ToHex(b.Serialize(kIndexSortedCodec)),
            "8008"
            "01000000"
            "28000000"
            "2800000000000000" +
                ToHex(digest) + "3b00000000000000");
}

TEST(Index, LookupFindsEveryBlockOfTheFixture) {
  auto idx = Index::Parse(Span(FixtureIndex()));
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  EXPECT_EQ(idx->codec(), kMultihashIndexSortedCodec);
  EXPECT_EQ(idx->record_count(), 1043u);
  auto r = CarReader::OpenFile(Testdata("sample-v1.car"));
  ASSERT_TRUE(r.ok());
  size_t identity = 0, found = 0;
  for (const auto& s : AllSections(**r)) {
    const Cid c = *Cid::FromString(s.cid);
    std::vector<uint64_t> offsets;
    idx->Lookup(c, &offsets);
    if (c.hash_code() == kIdentity) {
      identity++;
      EXPECT_TRUE(offsets.empty());
      continue;
    }
    ASSERT_EQ(offsets.size(), 1u) << s.cid;
    EXPECT_EQ(offsets[0], s.offset);
    found++;
  }
  EXPECT_EQ(identity, 6u);
  EXPECT_EQ(found, 1043u);
  // A digest that is not there, and a known digest under another code.
  std::vector<uint64_t> none;
  EXPECT_EQ(idx->Lookup(kBlake2b256, Span(std::string(32, '\0')), &none), 0u);
  size_t iterated = 0;
  std::string last;
  idx->ForEach([&](const IndexEntry& e) {
    EXPECT_EQ(e.hash_code, kBlake2b256);
    const std::string d(reinterpret_cast<const char*>(e.digest.data()), e.digest.size());
    EXPECT_LE(last, d);
    last = d;
    EXPECT_EQ(idx->Lookup(e.hash_code, e.digest, &none), 1u);
    iterated++;
    return true;
  });
  EXPECT_EQ(iterated, 1043u);
  EXPECT_EQ(none.size(), 1043u);
}

// A generated corpus with duplicates, identity CIDs, CIDv0 and three hash shapes.
TEST(Index, IndexerOptionsOnGeneratedCars) {
  boltpp::testing::TempDir dir;
  GenOptions g;
  g.seed = testing::TestSeed(21);
  g.duplicate_fraction = 0.2;
  g.identity_fraction = 0.1;
  g.v0_fraction = 0.3;
  g.version = GenVersion::kV1;
  for (uint64_t i = 0; i < 6; i++) {
    const std::string path = dir.File("g" + std::to_string(i) + ".car");
    ASSERT_TRUE(GenerateCar(path, g, i).ok());
    auto r = CarReader::OpenFile(path);
    ASSERT_TRUE(r.ok());
    const auto sections = AllSections(**r);
    std::multimap<std::string, uint64_t> want_all, want_skip;
    for (const auto& s : sections) {
      const Cid c = *Cid::FromString(s.cid);
      want_all.emplace(std::string(c.multihash()), s.offset);
      if (c.hash_code() != kIdentity) want_skip.emplace(std::string(c.multihash()), s.offset);
    }
    for (bool keep_identity : {false, true}) {
      for (uint64_t codec : {kMultihashIndexSortedCodec, kIndexSortedCodec}) {
        IndexOptions o;
        o.store_identity_cids = keep_identity;
        o.codec = codec;
        auto bytes = BuildIndex(**r, o);
        ASSERT_TRUE(bytes.ok());
        auto idx = Index::Parse(Span(*bytes));
        ASSERT_TRUE(idx.ok()) << idx.status().ToString();
        const auto& want = keep_identity ? want_all : want_skip;
        EXPECT_EQ(idx->record_count(), want.size());  // duplicates kept
        for (const auto& s : sections) {
          const Cid c = *Cid::FromString(s.cid);
          std::vector<uint64_t> offsets;
          idx->Lookup(c, &offsets);
          EXPECT_EQ(offsets.size(), want.count(std::string(c.multihash()))) << s.cid;
          EXPECT_NE(std::find(offsets.begin(), offsets.end(), s.offset) == offsets.end(),
                    want.count(std::string(c.multihash())) > 0);
        }
      }
    }
  }
}

TEST(Index, ZeroPaddedPieceAndWriteIndexFile) {
  boltpp::testing::TempDir dir;
  GenOptions g;
  g.seed = 3;
  g.zero_pad = true;
  g.version = GenVersion::kV1;
  ASSERT_TRUE(GenerateCar(dir.File("p.car"), g, 0).ok());
  IndexOptions o;
  Status s = WriteIndexFile(dir.File("p.car"), dir.File("p.idx"), o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.detail().find("zero length"), std::string::npos) << s.detail();
  o.zero_length_section_as_eof = true;
  ASSERT_TRUE(WriteIndexFile(dir.File("p.car"), dir.File("p.idx"), o).ok());
  auto idx = Index::Load(dir.File("p.idx"));
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  EXPECT_GT(idx->record_count(), 0u);
  EXPECT_FALSE(Index::Load(dir.File("missing.idx")).ok());
}

TEST(Index, CidOverTheIndexLimitIsAnError) {
  // One section whose CID has a 3000-byte identity digest.
  const Cid big = Cid::V1(kRaw, kIdentity, Span(std::string(3000, 'x')));
  std::string car = EncodeV1Header({&big, 1});
  const size_t at = car.size();
  AppendUvarint(&car, big.bytes().size());
  car += big.bytes();
  auto r = CarReader::OpenBytes(Span(car));
  ASSERT_TRUE(r.ok());
  IndexOptions o;
  o.store_identity_cids = true;
  auto bytes = BuildIndex(**r, o);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().detail(), "section at byte " + std::to_string(at) +
                                         ": CID of 3005 bytes exceeds the 2048-byte index limit");
}

TEST(Index, DamagedBodiesAreRejectedWithTheirOffset) {
  const std::string good = FixtureIndex();
  auto patch = [&](size_t at, const std::string& hex) {
    std::string b = good;
    const std::string v = FromHex(hex);
    b.replace(at, v.size(), v);
    return b;
  };
  auto error = [](const std::string& bytes) {
    auto idx = Index::Parse(Span(bytes));
    EXPECT_FALSE(idx.ok());
    return idx.ok() ? std::string() : idx.status().detail();
  };
  // Layout: 8108 | groups@2 | code@6 | buckets@14 | width@18 | length@22 | records@30.
  EXPECT_EQ(error(patch(2, "ffffffff")),
            "index byte 2: group count -1 does not fit in the 41744 bytes left");
  EXPECT_EQ(error(patch(2, "ffffff7f")),
            "index byte 2: group count 2147483647 does not fit in the 41744 bytes left");
  EXPECT_EQ(error(patch(14, "00000080")),
            "index byte 14: bucket count -2147483648 does not fit in the 41732 bytes left");
  EXPECT_EQ(error(patch(18, "07000000")), "index byte 18: record width 7 outside [8, 33554432]");
  EXPECT_EQ(error(patch(18, "01000002")),
            "index byte 18: record width 33554433 outside [8, 33554432]");
  EXPECT_EQ(error(patch(22, "ffffffffffffffff")),
            "index byte 22: records length -1 is negative, not a multiple of width 40 or runs past "
            "the end (41720 bytes left)");
  EXPECT_EQ(error(patch(22, "f9a2000000000000")),
            "index byte 22: records length 41721 is negative, not a multiple of width 40 or runs "
            "past the end (41720 bytes left)");
  EXPECT_EQ(error(patch(22, "ffffffffffffff7f")),
            "index byte 22: records length 9223372036854775807 is negative, not a multiple of "
            "width 40 or runs past the end (41720 bytes left)");
  EXPECT_EQ(error(patch(30, std::string(64, 'f'))), "index byte 70: records not sorted by digest");
  EXPECT_EQ(error(good + "x"), "index byte 41750: 1 bytes after the index");
  EXPECT_EQ(error(good.substr(0, 100)),
            "index byte 22: records length 41720 is negative, not a multiple of width 40 or runs "
            "past the end (70 bytes left)");
  EXPECT_EQ(error(good.substr(0, 16)),
            "index byte 2: group count 1 does not fit in the 10 bytes left");
  EXPECT_EQ(error(FromHex("8208")),
            "index byte 0: codec 0x402 (Code(1026)) is not car-index-sorted or "
            "car-multihash-index-sorted");
  EXPECT_EQ(error(FromHex("ffffffffffffffffffff")),
            "index byte 0: codec varint never ends (more than 9 bytes)");
  EXPECT_EQ(error(""), "index byte 0: codec varint truncated by the end of the data");
  // Every truncation of a small index is an error or the whole index.
  IndexBuilder b;
  b.Add(kSha2_256, Span(std::string(32, 'a')), 1);
  b.Add(kSha2_512, Span(std::string(64, 'b')), 2);
  b.Add(kSha2_256, Span(std::string(20, 'c')), 3);
  const std::string small = b.Serialize();
  for (size_t len = 0; len < small.size(); len++)
    EXPECT_FALSE(Index::Parse(Span(small).subspan(0, len)).ok()) << len;
  auto whole = Index::Parse(Span(small));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->record_count(), 3u);
}

}  // namespace
}  // namespace boltpp::car
