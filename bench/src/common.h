// bench/src/common.h: the pieces every engine adapter and workload shares:
// the seeded RNG and data generators (mirrored exactly in bench/go/main.go, so
// that Go bbolt sees the same keys and values), timing, the child-process
// result protocol, and small helpers.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using Bytes = std::string_view;

// splitmix64. The Go program implements the same function; keep them in step.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t Next() {
    s += 0x9E3779B97F4A7C15ULL;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};

inline void PutLE64(char* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = static_cast<char>(v >> (8 * i));
}
inline void PutBE32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}
inline void PutBE64(char* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = static_cast<char>(v >> (56 - 8 * i));
}

// The redb-suite data set: element i has a 24-byte random key and a 150-byte
// random value, both derived from (seed, i) alone, so any phase can
// regenerate element i without storing the data set.
constexpr size_t kKeySize = 24;
constexpr size_t kValueSize = 150;

inline Rng ElementRng(uint64_t seed, uint64_t i) {
  return Rng(seed * 0xD1B54A32D192ED03ULL + i * 64 * 0x9E3779B97F4A7C15ULL);
}
inline void MakeKey(uint64_t seed, uint64_t i, char* key /*24*/) {
  Rng r = ElementRng(seed, i);
  for (int w = 0; w < 3; w++) PutLE64(key + 8 * w, r.Next());
}
inline void MakeKeyValue(uint64_t seed, uint64_t i, char* key /*24*/, char* value /*150*/) {
  Rng r = ElementRng(seed, i);
  for (int w = 0; w < 3; w++) PutLE64(key + 8 * w, r.Next());
  char buf[152];
  for (int w = 0; w < 19; w++) PutLE64(buf + 8 * w, r.Next());
  std::memcpy(value, buf, kValueSize);
}

// Job-store JSON documents: 300..600 bytes, deterministic from rng.
inline void MakeJson(Rng& r, uint64_t job, const char* kind, std::string& out) {
  static const char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  size_t target = 300 + r.Below(301);
  char head[160];
  int n = std::snprintf(head, sizeof head,
                        "{\"id\":\"job-%012llu\",\"kind\":\"%s\",\"attempt\":1,\"worker\":\"w-%"
                        "02llu\",\"payload\":\"",
                        static_cast<unsigned long long>(job), kind,
                        static_cast<unsigned long long>(job % 16));
  out.assign(head, static_cast<size_t>(n));
  size_t fill = target > out.size() + 2 ? target - out.size() - 2 : 0;
  while (fill > 0) {
    uint64_t x = r.Next();
    for (int j = 0; j < 8 && fill > 0; j++, fill--)
      out.push_back(kAlnum[((x >> (8 * j)) & 0xFF) % 62]);
  }
  out += "\"}";
}

inline std::string JobId(uint64_t job) {
  char b[32];
  std::snprintf(b, sizeof b, "job-%012llu", static_cast<unsigned long long>(job));
  return b;
}

using Clock = std::chrono::steady_clock;
inline double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Fail : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] inline void Die(const std::string& msg) { throw Fail(msg); }

// JSON string escaping for the line protocol.
std::string JsonEscape(std::string_view s);

// Child -> parent line protocol on stdout (one JSON object per line):
//   {"ev":"begin","phase":P}
//   {"ev":"result","phase":P,"ops":N,"seconds":S,"unit":U}   rate = N / S
//   {"ev":"bytes","phase":P,"bytes":B}                       a size
//   {"ev":"error","phase":P,"msg":M}
//   {"ev":"done"}
void EmitBegin(const std::string& phase);
void EmitResult(const std::string& phase, double ops, double seconds, const std::string& unit);
void EmitBytes(const std::string& phase, uint64_t bytes);
void EmitError(const std::string& phase, const std::string& msg);
void EmitDone();
// Reports the process's resident memory before the engine is opened (the
// baseline the memory table subtracts: runtime and shared libraries).
void EmitStartRss();

// Sum of st_size of the regular files under dir (recursive).
uint64_t DirBytes(const std::string& dir);
void RemoveTree(const std::string& path);
void MakeDirs(const std::string& path);

}  // namespace bench
