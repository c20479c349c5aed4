// Multiformats unsigned varints (uvarint): little-endian base-128, 7 payload
// bits per byte, high bit = continuation. The multiformats rules apply: at
// most 9 bytes (values < 2^63) and minimal encoding (no trailing 0x00 byte).
// Inline because every section of a CAR starts with one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace boltpp::car {

inline constexpr size_t kMaxVarintBytes = 9;

enum class VarintError : uint8_t {
  kOk = 0,
  kTruncated,   // the input ended before the last byte (high bit clear)
  kTooLong,     // a 9th byte still has the continuation bit: never ends
  kNotMinimal,  // a trailing 0x00 byte: not the shortest encoding
};

// A short description of a varint error ("varint never ends (more than 9 bytes)").
const char* VarintErrorText(VarintError e);

// Decodes the uvarint at p[0..n). Returns the number of bytes it takes
// (1..9) and sets *value; returns 0 and sets *error when it is malformed.
// Never reads past p[n-1].
inline size_t DecodeUvarint(const uint8_t* p, size_t n, uint64_t* value, VarintError* error) {
  uint64_t v = 0;
  const size_t limit = n < kMaxVarintBytes ? n : kMaxVarintBytes;
  for (size_t i = 0; i < limit; i++) {
    const uint8_t b = p[i];
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) {
        *error = VarintError::kNotMinimal;
        return 0;
      }
      *value = v;
      return i + 1;
    }
  }
  *error = n >= kMaxVarintBytes ? VarintError::kTooLong : VarintError::kTruncated;
  return 0;
}

// The number of bytes UvarintAppend writes for v.
inline size_t UvarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

// Writes v's uvarint to out[0..UvarintSize(v)); returns the size.
inline size_t PutUvarint(uint8_t* out, uint64_t v) {
  size_t i = 0;
  while (v >= 0x80) {
    out[i++] = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  out[i++] = static_cast<uint8_t>(v);
  return i;
}

inline void AppendUvarint(std::string* out, uint64_t v) {
  uint8_t buf[10];
  out->append(reinterpret_cast<const char*>(buf), PutUvarint(buf, v));
}

}  // namespace boltpp::car
