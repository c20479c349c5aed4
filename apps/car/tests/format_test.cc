// Unit tests of the format pieces: uvarint, multihash/CID parse and print,
// multibase, multicodec names, hashing, DAG-CBOR CAR headers.
#include <gtest/gtest.h>

#include "boltpp/car/cid.h"
#include "boltpp/car/hash.h"
#include "boltpp/car/reader.h"
#include "boltpp/car/varint.h"
#include "car_test_util.h"
#include "testutil/random.h"

namespace boltpp::car {
namespace {

using testing::FromHex;
using testing::Span;
using testing::ToHex;

std::string Varint(uint64_t v) {
  std::string s;
  AppendUvarint(&s, v);
  return s;
}

TEST(Varint, SpecExamples) {
  const std::pair<uint64_t, const char*> cases[] = {
      {1, "01"},        {0x55, "55"},     {0x70, "70"},       {0x71, "71"},       {0x0400, "8008"},
      {0x0401, "8108"}, {0x1012, "9220"}, {0xf101, "81e203"}, {0xb220, "a0e402"}, {859, "db06"}};
  for (const auto& [v, hex] : cases) {
    EXPECT_EQ(ToHex(Varint(v)), hex) << v;
    EXPECT_EQ(UvarintSize(v), std::string(hex).size() / 2);
    uint64_t got = 0;
    VarintError err{};
    const std::string b = FromHex(hex);
    EXPECT_EQ(DecodeUvarint(Span(b).data(), b.size(), &got, &err), b.size());
    EXPECT_EQ(got, v);
  }
}

TEST(Varint, EdgeCases) {
  uint64_t v = 0;
  VarintError err{};
  // The largest 9-byte value, 2^63 - 1.
  std::string max = Varint((uint64_t{1} << 63) - 1);
  ASSERT_EQ(max.size(), 9u);
  EXPECT_EQ(DecodeUvarint(Span(max).data(), max.size(), &v, &err), 9u);
  EXPECT_EQ(v, (uint64_t{1} << 63) - 1);
  // A 9th byte with the continuation bit: never ends.
  const std::string endless(12, '\xff');
  EXPECT_EQ(DecodeUvarint(Span(endless).data(), endless.size(), &v, &err), 0u);
  EXPECT_EQ(err, VarintError::kTooLong);
  EXPECT_STREQ(VarintErrorText(err), "varint never ends (more than 9 bytes)");
  // Cut short.
  const std::string cut = FromHex("8080");
  EXPECT_EQ(DecodeUvarint(Span(cut).data(), cut.size(), &v, &err), 0u);
  EXPECT_EQ(err, VarintError::kTruncated);
  EXPECT_EQ(DecodeUvarint(nullptr, 0, &v, &err), 0u);
  EXPECT_EQ(err, VarintError::kTruncated);
  // Not minimal: 0x81 0x00 encodes 1 in two bytes.
  const std::string padded = FromHex("8100");
  EXPECT_EQ(DecodeUvarint(Span(padded).data(), padded.size(), &v, &err), 0u);
  EXPECT_EQ(err, VarintError::kNotMinimal);
  // Zero is one byte; a following byte is not read.
  const std::string zero = FromHex("00ff");
  EXPECT_EQ(DecodeUvarint(Span(zero).data(), zero.size(), &v, &err), 1u);
  EXPECT_EQ(v, 0u);
}

TEST(Varint, RandomRoundTrip) {
  boltpp::testing::Random rnd(testing::TestSeed(11));
  for (int i = 0; i < 20000; i++) {
    const uint64_t v = rnd.Next() >> (1 + rnd.Uniform(63));
    const std::string b = Varint(v);
    uint64_t got = 0;
    VarintError err{};
    ASSERT_EQ(DecodeUvarint(Span(b).data(), b.size(), &got, &err), b.size());
    ASSERT_EQ(got, v);
  }
}

// The worked example of apps-spec 3.7.
constexpr const char* kHelloCid = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
constexpr const char* kHelloDigest =
    "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

TEST(Cid, WorkedExampleV1) {
  auto cid = Cid::FromString(kHelloCid);
  ASSERT_TRUE(cid.ok()) << cid.status().ToString();
  EXPECT_EQ(cid->version(), 1);
  EXPECT_EQ(cid->codec(), kRaw);
  EXPECT_EQ(cid->hash_code(), kSha2_256);
  EXPECT_EQ(ToHex(cid->digest()), kHelloDigest);
  EXPECT_EQ(ToHex(cid->bytes()), std::string("01551220") + kHelloDigest);
  EXPECT_EQ(cid->ToString(), kHelloCid);
  std::string digest;
  ASSERT_TRUE(Digest(kSha2_256, Span("hello\n"), 32, &digest).ok());
  EXPECT_EQ(ToHex(digest), kHelloDigest);
}

TEST(Cid, WorkedExampleV0) {
  const std::string node = FromHex("0a0668656c6c6f0a");  // dag-pb {Data: "hello\n"}
  std::string digest;
  ASSERT_TRUE(Digest(kSha2_256, Span(node), 32, &digest).ok());
  const Cid cid = Cid::V0(Span(digest));
  EXPECT_EQ(cid.ToString(), "QmRZM18vT72HkN2Y1BGdrrXvHdfjAC4kAfekoduZUxcseJ");
  EXPECT_EQ(cid.codec(), kDagPb);
  auto back = Cid::FromString(cid.ToString());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, cid);
  EXPECT_EQ(back->version(), 0);
}

TEST(Cid, RandomRoundTripsThroughBothBases) {
  boltpp::testing::Random rnd(testing::TestSeed(12));
  for (int i = 0; i < 2000; i++) {
    const std::string digest = rnd.Bytes(rnd.Uniform(65));
    const uint64_t codecs[] = {kRaw, kDagPb, kDagCbor, 0x0129, 0xf101, rnd.Next() >> 4};
    const uint64_t hashes[] = {kSha2_256, kBlake2b256, kIdentity, kSha2_256Trunc254Padded,
                               rnd.Next() >> 2};
    const Cid c = Cid::V1(codecs[rnd.Uniform(6)], hashes[rnd.Uniform(5)], Span(digest));
    const std::string text = c.ToString();
    ASSERT_EQ(text[0], 'b');
    auto back = Cid::FromString(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().ToString();
    ASSERT_EQ(*back, c);
    auto via58 = Cid::FromString("z" + Base58Encode(c.bytes()));
    ASSERT_TRUE(via58.ok());
    ASSERT_EQ(*via58, c);
    auto upper = Cid::FromString("B" + [&] {
      std::string u = text.substr(1);
      for (char& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      return u;
    }());
    ASSERT_TRUE(upper.ok());
    ASSERT_EQ(*upper, c);
    if (digest.size() == 32) {
      const Cid v0 = Cid::V0(Span(digest));
      ASSERT_EQ(v0.ToString().substr(0, 2), "Qm");
      ASSERT_EQ(*Cid::FromString(v0.ToString()), v0);
    }
  }
}

TEST(Cid, Base58LeadingZeros) {
  EXPECT_EQ(Base58Encode(std::string("\0\0\x01", 3)), "112");
  EXPECT_EQ(*Base58Decode("112"), std::string("\0\0\x01", 3));
  EXPECT_EQ(Base58Encode(""), "");
}

TEST(Cid, ParseErrors) {
  auto err = [](const std::string& hex) {
    const std::string b = FromHex(hex);
    auto r = ParseCid(Span(b).data(), b.size());
    EXPECT_FALSE(r.ok()) << hex;
    return r.ok() ? std::string() : r.status().detail();
  };
  EXPECT_EQ(err("02551220"), "CID version 2 is not supported");
  EXPECT_EQ(err("00551220"), "CID with an explicit version 0 is invalid");
  EXPECT_EQ(err("1220aabb"), "CIDv0 needs 34 bytes, 4 left");
  EXPECT_EQ(err("01551220aabb"),
            "CID digest length 32 runs past the end of the data (2 bytes left)");
  EXPECT_EQ(err("0155"), "CID multihash code: varint truncated by the end of the data");
  EXPECT_EQ(err("01ffffffffffffffffff"), "CID codec: varint never ends (more than 9 bytes)");
  EXPECT_EQ(err(""), "CID version: varint truncated by the end of the data");
  EXPECT_FALSE(Cid::FromString("bafy!").ok());
  EXPECT_FALSE(Cid::FromString("Qm000000000000000000000000000000000000000000OI").ok());
  EXPECT_FALSE(Cid::FromString("xyz").ok());
  auto trailing = Cid::FromBytes(FromHex("0155000100ff"));
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.status().detail(), "1 trailing bytes after the CID");
}

TEST(Multicodec, Names) {
  EXPECT_EQ(MulticodecName(0x55), "raw");
  EXPECT_EQ(MulticodecName(0x70), "dag-pb");
  EXPECT_EQ(MulticodecName(0x71), "dag-cbor");
  EXPECT_EQ(MulticodecName(0x0129), "dag-json");
  EXPECT_EQ(MulticodecName(0x00), "identity");
  EXPECT_EQ(MulticodecName(0x12), "sha2-256");
  EXPECT_EQ(MulticodecName(0x13), "sha2-512");
  EXPECT_EQ(MulticodecName(0xb220), "blake2b-256");
  EXPECT_EQ(MulticodecName(0xb240), "blake2b-512");
  EXPECT_EQ(MulticodecName(0xb260), "blake2s-256");
  EXPECT_EQ(MulticodecName(0x1012), "sha2-256-trunc254-padded");
  EXPECT_EQ(MulticodecName(0xf101), "fil-commitment-unsealed");
  EXPECT_EQ(MulticodecName(0x0401), "car-multihash-index-sorted");
  EXPECT_EQ(MulticodecName(0x123456), "Code(1193046)");
}

TEST(Hash, KnownDigests) {
  std::string d;
  ASSERT_TRUE(Digest(kSha2_512, Span("abc"), 64, &d).ok());
  EXPECT_EQ(ToHex(d).substr(0, 16), "ddaf35a193617aba");
  // BLAKE2b-512("abc") from RFC 7693 appendix A.
  ASSERT_TRUE(Digest(0xb240, Span("abc"), 64, &d).ok());
  EXPECT_EQ(ToHex(d).substr(0, 16), "ba80a53f981c4d0d");
  ASSERT_TRUE(Digest(kSha2_256Trunc254Padded, Span("hello\n"), 32, &d).ok());
  EXPECT_EQ(static_cast<uint8_t>(d[31]), 0x03 & 0x3f);
  ASSERT_TRUE(Digest(kIdentity, Span("xy"), 2, &d).ok());
  EXPECT_EQ(d, "xy");
  EXPECT_FALSE(Digest(kIdentity, Span("xy"), 3, &d).ok());
  EXPECT_FALSE(Digest(kSha2_256, Span("xy"), 33, &d).ok());
  Status why;
  EXPECT_FALSE(DigestMatches(0x11, Span("x"), Span(std::string(20, 'a')), &why));
  EXPECT_EQ(why.detail(), "cannot verify hash function sha1 (0x11)");
  EXPECT_TRUE(HashSupported(kBlake2b256));
  EXPECT_FALSE(HashSupported(0x1e));
}

TEST(Header, EncodeWorkedExample) {
  const Cid root = *Cid::FromString(kHelloCid);
  const std::string h = EncodeV1Header({&root, 1});
  EXPECT_EQ(ToHex(h), std::string("3aa265726f6f747381d82a58250001551220") + kHelloDigest +
                          "6776657273696f6e01");
  uint64_t version = 0;
  std::vector<Cid> roots;
  bool has_roots = false;
  ASSERT_TRUE(DecodeHeaderBody(Span(h).subspan(1), 1, &version, &roots, &has_roots).ok());
  EXPECT_EQ(version, 1u);
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_EQ(roots[0], root);
}

TEST(Header, Shapes) {
  auto decode = [](const std::string& hex, uint64_t* version, std::vector<Cid>* roots) {
    const std::string b = FromHex(hex);
    bool has_roots = false;
    return DecodeHeaderBody(Span(b), 100, version, roots, &has_roots);
  };
  uint64_t v = 0;
  std::vector<Cid> roots;
  // Keys in the other order, no roots, several roots: accepted.
  EXPECT_TRUE(decode("a26776657273696f6e0165726f6f747380", &v, &roots).ok());
  EXPECT_TRUE(decode("a16776657273696f6e02", &v, &roots).ok());
  EXPECT_EQ(v, 2u);
  const std::string two =
      "a265726f6f747382d82a450001550000d82a460001550001aa"
      "6776657273696f6e01";
  roots.clear();
  ASSERT_TRUE(decode(two, &v, &roots).ok());
  EXPECT_EQ(roots.size(), 2u);
  // Damage: each names what and where (base 100 = the body's first byte).
  auto error = [&](const std::string& hex) {
    std::vector<Cid> r;
    Status s = decode(hex, &v, &r);
    EXPECT_FALSE(s.ok()) << hex;
    return s.detail();
  };
  EXPECT_EQ(error("81"), "CAR header at byte 100: expected a map, found CBOR major type 4");
  EXPECT_EQ(error("a16466756e6b01"), "CAR header at byte 101: unexpected or repeated key \"funk\"");
  EXPECT_EQ(error("bf"), "CAR header at byte 100: indefinite or reserved CBOR length (0xbf)");
  EXPECT_EQ(error("a0"), "CAR header at byte 100: no version");
  EXPECT_EQ(error("a16776657273696f6e01ff"),
            "CAR header at byte 110: 1 bytes after the header map");
  EXPECT_EQ(error("a165726f6f747381d82b420000"),
            "CAR header at byte 108: tag 43 is not a CID link (42)");
  EXPECT_EQ(error("a165726f6f747381d82a4401550000"),
            "CAR header at byte 108: CID link does not start with the 0x00 multibase prefix");
  EXPECT_EQ(error("a165726f6f74739bffffffffffffffff"),
            "CAR header at byte 116: 18446744073709551615 roots cannot fit in the header");
  EXPECT_EQ(error("a165726f6f747381d82a5a7fffffff"),
            "CAR header at byte 115: string of 2147483647 bytes runs past the header end");
}

}  // namespace
}  // namespace boltpp::car
