// CIDs and multihashes (apps-spec 3.1): binary parsing, string forms
// (CIDv0 = base58btc "Qm...", CIDv1 = multibase "b" + base32 lower) and the
// multicodec names go-car prints.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "boltpp/status.h"

namespace boltpp::car {

// Multicodec codes this library gives meaning to.
inline constexpr uint64_t kIdentity = 0x00;
inline constexpr uint64_t kSha2_256 = 0x12;
inline constexpr uint64_t kSha2_512 = 0x13;
inline constexpr uint64_t kRaw = 0x55;
inline constexpr uint64_t kDagPb = 0x70;
inline constexpr uint64_t kDagCbor = 0x71;
inline constexpr uint64_t kBlake2b256 = 0xb220;
inline constexpr uint64_t kSha2_256Trunc254Padded = 0x1012;

// go-multicodec's name for a code ("raw", "dag-cbor", "blake2b-256", ...);
// "Code(N)" (decimal) for a code it does not know, as go-multicodec prints.
std::string MulticodecName(uint64_t code);

// The parsed shape of a binary CID; positions are relative to its first byte.
struct CidInfo {
  uint8_t version = 0;         // 0 or 1
  uint64_t codec = 0;          // dag-pb for v0
  uint64_t hash_code = 0;      // multihash function code
  uint32_t hash_offset = 0;    // where the multihash starts (0 for v0)
  uint32_t digest_offset = 0;  // where the digest starts
  uint32_t digest_size = 0;
  uint32_t size = 0;  // total bytes of the CID
};

// Parses the CID at the start of p[0..n) (self-delimiting: trailing bytes
// are not looked at). Errors (kCorruption) say what is wrong, relative to
// the CID's first byte: "CID version 2 is not supported", "CID digest
// length 40 runs past the end of the data (30 bytes left)", ...
Result<CidInfo> ParseCid(const uint8_t* p, size_t n);

// An owned CID (its binary bytes).
class Cid {
 public:
  Cid() = default;
  // Exactly one CID, no trailing bytes.
  static Result<Cid> FromBytes(std::string_view bytes);
  // "Qm..." (v0) or a multibase string: b/B (base32), z (base58btc), f (hex).
  static Result<Cid> FromString(std::string_view text);
  static Cid V0(std::span<const uint8_t> sha256_digest);
  static Cid V1(uint64_t codec, uint64_t hash_code, std::span<const uint8_t> digest);

  const std::string& bytes() const { return bytes_; }
  const CidInfo& info() const { return info_; }
  int version() const { return info_.version; }
  uint64_t codec() const { return info_.codec; }
  uint64_t hash_code() const { return info_.hash_code; }
  std::string_view multihash() const { return std::string_view(bytes_).substr(info_.hash_offset); }
  std::string_view digest() const {
    return std::string_view(bytes_).substr(info_.digest_offset, info_.digest_size);
  }
  // v0: base58btc; v1: "b" + base32 lower (what go-cid's String prints).
  std::string ToString() const;

  bool operator==(const Cid& o) const { return bytes_ == o.bytes_; }
  bool operator<(const Cid& o) const { return bytes_ < o.bytes_; }

 private:
  std::string bytes_;
  CidInfo info_;
};

// The string form of a binary CID whose shape is known.
std::string CidToString(std::string_view cid_bytes, const CidInfo& info);

// RFC 4648 base32, lower case, no padding; base58btc (Bitcoin alphabet).
std::string Base32Encode(std::string_view bytes);
Result<std::string> Base32Decode(std::string_view text);  // either case
std::string Base58Encode(std::string_view bytes);
Result<std::string> Base58Decode(std::string_view text);

}  // namespace boltpp::car
