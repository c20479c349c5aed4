// CarReader: the fixtures, map/stream agreement, and every damaged-input
// class with its message and byte offset.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <thread>

#include "boltpp/car/cid.h"
#include "boltpp/car/hash.h"
#include "boltpp/car/reader.h"
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

// The worked example of apps-spec 3.7: a CARv1 of one block "hello\n".
std::string HelloCar() {
  std::string digest;
  EXPECT_TRUE(Digest(kSha2_256, Span("hello\n"), 32, &digest).ok());
  const Cid cid = Cid::V1(kRaw, kSha2_256, Span(digest));
  std::string car = EncodeV1Header({&cid, 1});
  AppendUvarint(&car, cid.bytes().size() + 6);
  return car + cid.bytes() + "hello\n";
}

// Reads every section; returns the first error's message ("" when clean).
std::string ReadAllError(std::span<const uint8_t> bytes, ReadOptions o = {},
                         size_t* count = nullptr) {
  auto r = CarReader::OpenBytes(bytes, o);
  if (!r.ok()) return r.status().detail();
  Section s;
  size_t n = 0;
  for (;;) {
    auto more = (*r)->Next(&s);
    if (!more.ok()) return more.status().detail();
    if (!*more) break;
    n++;
  }
  if (count) *count = n;
  return "";
}

// The same through a file descriptor read as a stream.
std::string StreamReadAllError(const std::string& bytes, ReadOptions o = {}) {
  boltpp::testing::TempDir dir;
  testing::WriteFile(dir.File("in.car"), bytes);
  const int fd = open(dir.File("in.car").c_str(), O_RDONLY);
  auto r = CarReader::OpenStream(fd, o);
  std::string err;
  if (!r.ok()) {
    err = r.status().detail();
  } else {
    Section s;
    for (;;) {
      auto more = (*r)->Next(&s);
      if (!more.ok()) {
        err = more.status().detail();
        break;
      }
      if (!*more) break;
    }
  }
  close(fd);
  return err;
}

TEST(Reader, WorkedExample) {
  const std::string car = HelloCar();
  ASSERT_EQ(car.size(), 102u);
  auto r = CarReader::OpenBytes(Span(car));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->version(), 1);
  EXPECT_EQ((*r)->first_section_offset(), 59u);
  auto sections = AllSections(**r);
  ASSERT_EQ(sections.size(), 1u);
  EXPECT_EQ(sections[0].offset, 59u);
  EXPECT_EQ(sections[0].cid, "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am");
  EXPECT_EQ(sections[0].block, "hello\n");
}

TEST(Reader, FixturesV1AndV2AgreeAndRereadBySeek) {
  auto v1 = CarReader::OpenFile(Testdata("sample-v1.car"));
  auto v2 = CarReader::OpenFile(Testdata("sample-wrapped-v2.car"));
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ((*v1)->version(), 1);
  EXPECT_EQ((*v2)->version(), 2);
  const V2Header& h = *(*v2)->v2_header();
  EXPECT_EQ(h.data_offset, 51u);
  EXPECT_EQ(h.data_size, 479907u);
  EXPECT_EQ(h.index_offset, 479958u);
  EXPECT_FALSE(h.fully_indexed());
  EXPECT_EQ((*v2)->roots(), (*v1)->roots());
  ASSERT_EQ((*v1)->roots().size(), 1u);
  EXPECT_EQ((*v1)->roots()[0].ToString(),
            "bafy2bzaced4ueelaegfs5fqu4tzsh6ywbbpfk3cxppupmxfdhbpbhzawfw5oy");
  auto a = AllSections(**v1);
  auto b = AllSections(**v2);
  ASSERT_EQ(a.size(), 1049u);
  ASSERT_EQ(b.size(), a.size());
  size_t rehashed = 0;
  for (size_t i = 0; i < a.size(); i++) {
    ASSERT_EQ(a[i].offset, b[i].offset);
    ASSERT_EQ(a[i].cid, b[i].cid);
    ASSERT_EQ(a[i].block, b[i].block);
    auto s = (*v2)->ReadSectionAt(a[i].offset);
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(std::string(reinterpret_cast<const char*>(s->block.data()), s->block.size()),
              a[i].block);
    const Cid c = *Cid::FromString(a[i].cid);
    ASSERT_TRUE(DigestMatches(c.hash_code(), Span(a[i].block), Span(c.digest()))) << a[i].cid;
    rehashed++;
  }
  EXPECT_EQ(rehashed, 1049u);
  // Offsets past the payload, or not at a section, are refused.
  EXPECT_FALSE((*v2)->ReadSectionAt(h.data_size).ok());
  EXPECT_FALSE((*v2)->ReadSectionAt(0).ok());
}

TEST(Reader, StreamReadsTheSameAsTheMap) {
  for (const char* name : {"sample-v1.car", "sample-wrapped-v2.car"}) {
    auto mapped = CarReader::OpenFile(Testdata(name));
    ASSERT_TRUE(mapped.ok());
    const auto want = AllSections(**mapped);
    const int fd = open(Testdata(name).c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    auto streamed = CarReader::OpenStream(fd);
    ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
    EXPECT_FALSE((*streamed)->seekable());
    const auto got = AllSections(**streamed);
    close(fd);
    ASSERT_EQ(got.size(), want.size()) << name;
    for (size_t i = 0; i < got.size(); i++) {
      ASSERT_EQ(got[i].offset, want[i].offset);
      ASSERT_EQ(got[i].cid, want[i].cid);
      ASSERT_EQ(got[i].block, want[i].block);
    }
  }
}

// A thread reading files one after another reuses one read buffer
// (FileSource): each reader must still see only its own file's bytes,
// whether it takes a buffer another file filled, reads while another reader
// is open, or is destroyed on another thread.
TEST(Reader, FilesReadOneAfterAnotherEachSeeTheirOwnBytes) {
  const std::vector<std::string> names = {"sample-v1.car", "sample-wrapped-v2.car",
                                          "sample-v1.car"};
  auto in_memory = [](const std::string& name) {
    const std::string bytes = ReadFile(Testdata(name));
    auto r = CarReader::OpenBytes(Span(bytes));
    EXPECT_TRUE(r.ok());
    return AllSections(**r);
  };
  auto same = [](const auto& got, const auto& want) {
    if (got.size() != want.size()) return false;
    for (size_t i = 0; i < got.size(); i++) {
      if (got[i].offset != want[i].offset || got[i].cid != want[i].cid ||
          got[i].block != want[i].block)
        return false;
    }
    return true;
  };
  for (const std::string& name : names) {  // one after another
    auto r = CarReader::OpenFile(Testdata(name));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(same(AllSections(**r), in_memory(name))) << name;
  }
  auto a = CarReader::OpenFile(Testdata(names[0]));  // two open at once
  auto b = CarReader::OpenFile(Testdata(names[1]));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(same(AllSections(**b), in_memory(names[1])));
  EXPECT_TRUE(same(AllSections(**a), in_memory(names[0])));
  std::thread([moved = std::move(*a)]() mutable { moved.reset(); }).join();  // freed elsewhere
  b->reset();
  auto c = CarReader::OpenFile(Testdata(names[1]));  // takes b's buffer
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(same(AllSections(**c), in_memory(names[1])));
}

struct DamageCase {
  const char* what;
  std::string bytes;
  std::string message;
  ReadOptions options = {};
};

std::vector<DamageCase> DamageCases() {
  const std::string hello = HelloCar();
  const std::string header = hello.substr(0, 59);
  std::string v2 = ReadFile(Testdata("sample-wrapped-v2.car"));
  auto patch64 = [](std::string s, size_t at, uint64_t v) {
    for (int i = 0; i < 8; i++) s[at + i] = static_cast<char>(v >> (8 * i));
    return s;
  };
  std::string big_header;
  AppendUvarint(&big_header, (32u << 20) + 1);
  std::string big_section = header;
  AppendUvarint(&big_section, 9u << 20);
  std::vector<DamageCase> cases = {
      {"empty input", "", "CAR header at byte 0: no data (empty input)"},
      {"header length over the limit", big_header,
       "CAR header length at byte 0: 33554433 exceeds the 32 MiB limit"},
      {"header length past the end", hello.substr(0, 20),
       "CAR header at byte 0: length 58 runs past the end of the data (19 bytes left)"},
      {"header length never ends", std::string(12, '\x80'),
       "CAR header length at byte 0: varint never ends (more than 9 bytes)"},
      {"header version 3", FromHex("0aa16776657273696f6e03"),
       "CAR header at byte 0: version 3 is not 1 or 2"},
      {"section length over the limit", big_section,
       "section at byte 59: length 9437184 exceeds the 8 MiB limit"},
      {"truncated section", hello.substr(0, 101),
       "section at byte 59: length 42 runs past the end of the data (41 bytes left): truncated"},
      {"section varint never ends", header + std::string(10, '\xff'),
       "section at byte 59: length varint never ends (more than 9 bytes)"},
      {"section varint cut by the end", header + "\x80",
       "section at byte 59: length varint truncated by the end of the data"},
      {"zero-length section", hello + std::string(1, '\0'),
       "section at byte 102: zero length (padding? use the zero-length-as-end option)"},
      {"CID version 2", header + FromHex("06025512020000"),
       "section at byte 59: CID at byte 60: CID version 2 is not supported"},
      {"CID digest longer than the section", header + FromHex("06015512ff0100"),
       "section at byte 59: CID at byte 60: CID digest length 255 runs past the end of the data (1 "
       "bytes left)"},
      {"CIDv0 cut short", header + FromHex("041220aabb"),
       "section at byte 59: CID at byte 60: CIDv0 needs 34 bytes, 4 left"},
      {"CARv2 data past the end", patch64(v2, 35, 1u << 30),
       "CARv2 header at byte 27: data (offset 51, size 1073741824) points outside the file (521708 "
       "bytes)"},
      {"CARv2 data offset overflows", patch64(v2, 27, ~uint64_t{0} - 10),
       "CARv2 header at byte 27: data (offset 18446744073709551605, size 479907) points outside "
       "the file (521708 bytes)"},
      {"CARv2 data offset inside the header", patch64(v2, 27, 40),
       "CARv2 header at byte 27: data offset 40 lies inside the 51-byte header"},
      {"CARv2 index offset past the end", patch64(v2, 43, 600000),
       "CARv2 header at byte 43: index offset 600000 points outside the file (521708 bytes)"},
      {"CARv2 header truncated", v2.substr(0, 30),
       "CARv2 header at byte 11: truncated (19 of 40 bytes)"},
  };
  // The inner header's last byte is its version: make it 2.
  std::string inner = v2;
  inner[51 + 1 + static_cast<uint8_t>(v2[51]) - 1] = 2;
  cases.push_back({"CARv2 inner header not version 1", inner,
                   "CARv2 inner CARv1 header at byte 51: version 2 (expected 1)"});
  return cases;
}

TEST(Damage, EveryClassNamesWhatAndWhere) {
  for (const DamageCase& c : DamageCases()) {
    EXPECT_EQ(ReadAllError(Span(c.bytes), c.options), c.message) << c.what;
    // A stream gives the same message, except where only a file's size tells.
    if (std::string(c.what).find("CARv2") == std::string::npos) {
      EXPECT_EQ(StreamReadAllError(c.bytes, c.options), c.message) << c.what << " (stream)";
    }
  }
}

TEST(Damage, ZeroLengthSectionEndsDataWhenAsked) {
  const std::string padded = HelloCar() + std::string(4096, '\0');
  ReadOptions o;
  o.zero_length_section_as_eof = true;
  size_t n = 0;
  EXPECT_EQ(ReadAllError(Span(padded), o, &n), "");
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(StreamReadAllError(padded, o), "");
}

TEST(Damage, SectionLimitIsAnOption) {
  const std::string hello = HelloCar();
  ReadOptions o;
  o.max_section_size = 41;
  EXPECT_EQ(ReadAllError(Span(hello), o),
            "section at byte 59: length 42 exceeds the 41-byte limit");
}

// Every prefix of a small CAR: an error, or a clean end exactly at a section boundary.
TEST(Damage, EveryTruncationIsCleanOrAnError) {
  boltpp::testing::TempDir dir;
  GenOptions g;
  g.seed = testing::TestSeed(5);
  g.min_blocks = g.max_blocks = 12;
  g.min_block_size = 1;
  g.max_block_size = 200;
  g.identity_fraction = 0.2;
  g.version = GenVersion::kV1;
  ASSERT_TRUE(GenerateCar(dir.File("t.car"), g, 0).ok());
  const std::string car = ReadFile(dir.File("t.car"));
  auto whole = CarReader::OpenBytes(Span(car));
  ASSERT_TRUE(whole.ok());
  std::set<size_t> boundaries = {static_cast<size_t>((*whole)->first_section_offset())};
  Section s;
  while (*(*whole)->Next(&s, false)) boundaries.insert(s.end());
  for (size_t len = 0; len <= car.size(); len++) {
    size_t n = 0;
    const std::string err = ReadAllError(Span(car).subspan(0, len), {}, &n);
    if (err.empty()) {
      ASSERT_TRUE(boundaries.count(len)) << "prefix " << len << " read cleanly";
    } else {
      ASSERT_FALSE(boundaries.count(len) && len >= *boundaries.begin())
          << "prefix " << len << ": " << err;
    }
  }
}

}  // namespace
}  // namespace boltpp::car
