// File: tests/testutil/random.cc
#include "testutil/random.h"

#include <cstdlib>
#include <string_view>

namespace boltpp::testing {

std::string Random::Bytes(size_t n) {
  std::string s(n, '\0');
  size_t i = 0;
  while (i + 8 <= n) {
    uint64_t v = gen_();
    for (int j = 0; j < 8; ++j) s[i++] = static_cast<char>(v >> (8 * j));
  }
  while (i < n) s[i++] = static_cast<char>(gen_());
  return s;
}

std::string Random::Printable(size_t n) {
  std::string s(n, ' ');
  for (auto& c : s) c = static_cast<char>(' ' + Uniform(95));
  return s;
}

std::string Random::SmallAlphabet(size_t n, int alphabet) {
  std::string s(n, 'a');
  for (auto& c : s) c = static_cast<char>('a' + Uniform(static_cast<uint64_t>(alphabet)));
  return s;
}

std::optional<uint64_t> SeedFromEnv() {
  const char* v = std::getenv("BOLTPP_SEED");
  if (v == nullptr || *v == '\0') return std::nullopt;
  if (std::string_view(v) == "random") {
    return (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  }
  return std::strtoull(v, nullptr, 0);
}

uint64_t SeedOr(uint64_t fallback) { return SeedFromEnv().value_or(fallback); }

int64_t EnvInt(const char* name, int64_t def) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  return std::strtoll(v, nullptr, 0);
}

std::string U64Key(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * (7 - i)));
  return s;
}

uint64_t U64FromKey(const std::string& k) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < k.size(); ++i) v = (v << 8) | static_cast<uint8_t>(k[i]);
  return v;
}

std::string Hex(std::string_view bytes, size_t max) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  size_t n = bytes.size() < max ? bytes.size() : max;
  out.reserve(2 * n + 16);
  for (size_t i = 0; i < n; ++i) {
    auto b = static_cast<uint8_t>(bytes[i]);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  if (n < bytes.size()) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

}  // namespace boltpp::testing
