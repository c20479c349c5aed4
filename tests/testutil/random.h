// File: tests/testutil/random.h
// Seeded randomness for tests. Every randomized test prints its seed and
// honours BOLTPP_SEED so a failure can be replayed exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace boltpp::testing {

class Random {
 public:
  explicit Random(uint64_t seed) : seed_(seed), gen_(seed) {}

  uint64_t seed() const { return seed_; }
  uint64_t Next() { return gen_(); }
  // Uniform in [0, n); n > 0.
  uint64_t Uniform(uint64_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<uint64_t>(0, n - 1)(gen_);
  }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen_);
  }
  // True with probability 1/n.
  bool OneIn(uint64_t n) { return Uniform(n) == 0; }
  // True with probability pct/100.
  bool Percent(int pct) { return static_cast<int>(Uniform(100)) < pct; }
  // Skewed towards small values: uniform in [0, 2^Uniform(max_log+1)).
  uint64_t Skewed(int max_log) { return Uniform(uint64_t{1} << Uniform(max_log + 1)); }

  // n random bytes (any value 0..255).
  std::string Bytes(size_t n);
  // n random printable ASCII characters.
  std::string Printable(size_t n);
  // n characters from a small alphabet, so that keys collide often.
  std::string SmallAlphabet(size_t n, int alphabet = 4);

  std::mt19937_64& engine() { return gen_; }

 private:
  uint64_t seed_;
  std::mt19937_64 gen_;
};

// The seed from env BOLTPP_SEED, if set ("random": a fresh one; the caller
// prints the seed it uses, so the run can be replayed).
std::optional<uint64_t> SeedFromEnv();
// A seed: BOLTPP_SEED if set, else `fallback`.
uint64_t SeedOr(uint64_t fallback);
// An integer from the environment, or def.
int64_t EnvInt(const char* name, int64_t def);

// 8-byte big-endian encoding (sorts numerically), bbolt's u64tob.
std::string U64Key(uint64_t v);
uint64_t U64FromKey(const std::string& k);
// A short hex dump of bytes for messages (truncated past max bytes).
std::string Hex(std::string_view bytes, size_t max = 64);

}  // namespace boltpp::testing
