// Helpers shared by the boltpp_car_tests files: file bytes, hex, running the
// built boltpp-car, and generating small corpora.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "boltpp/car/gen.h"
#include "boltpp/car/reader.h"

namespace boltpp::car::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string Testdata(const std::string& name) {
  return std::string(BOLTPP_CAR_TESTDATA) + "/" + name;
}

inline std::span<const uint8_t> Span(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::string FromHex(std::string_view hex) {
  std::string out;
  int hi = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      continue;  // spaces and separators
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

inline std::string ToHex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct CliResult {
  int status = -1;
  std::string out, err;
};

// Runs `boltpp-car args...` with stdout and stderr captured in files under dir.
inline CliResult RunCli(const std::string& dir, const std::vector<std::string>& args,
                        const std::string& stdin_path = "") {
  std::string cmd = ShellQuote(BOLTPP_CAR_CLI);
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  if (!stdin_path.empty()) cmd += " <" + ShellQuote(stdin_path);
  cmd += " >" + ShellQuote(dir + "/cli.out") + " 2>" + ShellQuote(dir + "/cli.err");
  const int rc = std::system(cmd.c_str());
  CliResult r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = ReadFile(dir + "/cli.out");
  r.err = ReadFile(dir + "/cli.err");
  return r;
}

// All sections of a CAR as (payload offset, CID string, block bytes).
struct SectionRecord {
  uint64_t offset;
  std::string cid;
  std::string block;
};

inline std::vector<SectionRecord> AllSections(CarReader& r) {
  std::vector<SectionRecord> out;
  Section s;
  for (;;) {
    auto more = r.Next(&s, true);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    out.push_back(
        {s.offset,
         CidToString({reinterpret_cast<const char*>(s.cid.data()), s.cid.size()}, s.cid_info),
         std::string(reinterpret_cast<const char*>(s.block.data()), s.block.size())});
  }
  return out;
}

// The seed for randomized tests: BOLTPP_SEED if set, else `fallback`; printed.
inline uint64_t TestSeed(uint64_t fallback) {
  const char* env = std::getenv("BOLTPP_SEED");
  const uint64_t seed = env ? std::strtoull(env, nullptr, 10) : fallback;
  std::printf("seed %llu (set BOLTPP_SEED to replay)\n", static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace boltpp::car::testing
