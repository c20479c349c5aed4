// CID parsing and string forms, multibase base32/base58btc, multicodec names.
#include "boltpp/car/cid.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

#include "boltpp/car/varint.h"

namespace boltpp::car {

const char* VarintErrorText(VarintError e) {
  switch (e) {
    case VarintError::kOk:
      return "ok";
    case VarintError::kTruncated:
      return "varint truncated by the end of the data";
    case VarintError::kTooLong:
      return "varint never ends (more than 9 bytes)";
    case VarintError::kNotMinimal:
      return "varint not minimally encoded";
  }
  return "bad varint";
}

namespace {

struct NamedCode {
  uint64_t code;
  const char* name;
};

// The go-multicodec names of the codes real CARs and their indexes use.
constexpr NamedCode kNames[] = {
    {0x00, "identity"},
    {0x01, "cidv1"},
    {0x02, "cidv2"},
    {0x11, "sha1"},
    {0x12, "sha2-256"},
    {0x13, "sha2-512"},
    {0x14, "sha3-512"},
    {0x15, "sha3-384"},
    {0x16, "sha3-256"},
    {0x17, "sha3-224"},
    {0x18, "shake-128"},
    {0x19, "shake-256"},
    {0x1a, "keccak-224"},
    {0x1b, "keccak-256"},
    {0x1c, "keccak-384"},
    {0x1d, "keccak-512"},
    {0x1e, "blake3"},
    {0x20, "sha2-384"},
    {0x22, "murmur3-x64-64"},
    {0x23, "murmur3-32"},
    {0x51, "cbor"},
    {0x55, "raw"},
    {0x56, "dbl-sha2-256"},
    {0x60, "rlp"},
    {0x63, "bencode"},
    {0x70, "dag-pb"},
    {0x71, "dag-cbor"},
    {0x72, "libp2p-key"},
    {0x78, "git-raw"},
    {0x7b, "torrent-info"},
    {0x7c, "torrent-file"},
    {0x85, "dag-jose"},
    {0x86, "dag-cose"},
    {0x90, "eth-block"},
    {0x91, "eth-block-list"},
    {0x92, "eth-tx-trie"},
    {0x93, "eth-tx"},
    {0x94, "eth-tx-receipt-trie"},
    {0x95, "eth-tx-receipt"},
    {0x96, "eth-state-trie"},
    {0x97, "eth-account-snapshot"},
    {0x98, "eth-storage-trie"},
    {0xb0, "bitcoin-block"},
    {0xb1, "bitcoin-tx"},
    {0xc0, "zcash-block"},
    {0xc1, "zcash-tx"},
    {0xd5, "md5"},
    {0x0129, "dag-json"},
    {0x0200, "json"},
    {0x0201, "messagepack"},
    {0x0202, "car"},
    {0x0400, "car-index-sorted"},
    {0x0401, "car-multihash-index-sorted"},
    {0x1012, "sha2-256-trunc254-padded"},
    {0x1013, "sha2-224"},
    {0x1014, "sha2-512-224"},
    {0x1015, "sha2-512-256"},
    {0xb401, "poseidon-bls12_381-a2-fc1"},
    {0xf101, "fil-commitment-unsealed"},
    {0xf102, "fil-commitment-sealed"},
};

Status CidError(std::string what) { return Status(Code::kCorruption, std::move(what)); }

}  // namespace

std::string MulticodecName(uint64_t code) {
  for (const auto& n : kNames) {
    if (n.code == code) return n.name;
  }
  if (code >= 0xb201 && code <= 0xb240) return fmt::format("blake2b-{}", 8 * (code - 0xb200));
  if (code >= 0xb241 && code <= 0xb260) return fmt::format("blake2s-{}", 8 * (code - 0xb240));
  return fmt::format("Code({})", code);
}

Result<CidInfo> ParseCid(const uint8_t* p, size_t n) {
  CidInfo info;
  uint64_t version;
  VarintError err{};
  size_t pos = DecodeUvarint(p, n, &version, &err);
  if (pos == 0) return CidError(fmt::format("CID version: {}", VarintErrorText(err)));
  if (version == kSha2_256 && pos == 1) {
    if (n < 2) return CidError("CIDv0 truncated by the end of the data");
    if (p[1] == 0x20) {
      if (n < 34) return CidError(fmt::format("CIDv0 needs 34 bytes, {} left", n));
      info.version = 0;
      info.codec = kDagPb;
      info.hash_code = kSha2_256;
      info.hash_offset = 0;
      info.digest_offset = 2;
      info.digest_size = 32;
      info.size = 34;
      return info;
    }
  }
  if (version == 0) return CidError("CID with an explicit version 0 is invalid");
  if (version != 1) return CidError(fmt::format("CID version {} is not supported", version));
  info.version = 1;
  size_t k = DecodeUvarint(p + pos, n - pos, &info.codec, &err);
  if (k == 0) return CidError(fmt::format("CID codec: {}", VarintErrorText(err)));
  pos += k;
  info.hash_offset = static_cast<uint32_t>(pos);
  k = DecodeUvarint(p + pos, n - pos, &info.hash_code, &err);
  if (k == 0) return CidError(fmt::format("CID multihash code: {}", VarintErrorText(err)));
  pos += k;
  uint64_t digest_size;
  k = DecodeUvarint(p + pos, n - pos, &digest_size, &err);
  if (k == 0) return CidError(fmt::format("CID multihash length: {}", VarintErrorText(err)));
  pos += k;
  if (digest_size > n - pos) {
    return CidError(
        fmt::format("CID digest length {} runs past the end of the data ({} bytes left)",
                    digest_size, n - pos));
  }
  info.digest_offset = static_cast<uint32_t>(pos);
  info.digest_size = static_cast<uint32_t>(digest_size);
  info.size = static_cast<uint32_t>(pos + digest_size);
  return info;
}

Result<Cid> Cid::FromBytes(std::string_view bytes) {
  auto info = ParseCid(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!info.ok()) return info.status();
  if (info->size != bytes.size()) {
    return CidError(fmt::format("{} trailing bytes after the CID", bytes.size() - info->size));
  }
  Cid c;
  c.bytes_ = std::string(bytes);
  c.info_ = *info;
  return c;
}

Result<Cid> Cid::FromString(std::string_view text) {
  Result<std::string> bytes = Status(Code::kInvalidArgument, "empty CID");
  if (text.size() == 46 && text.substr(0, 2) == "Qm") {
    bytes = Base58Decode(text);
  } else if (!text.empty() && (text[0] == 'b' || text[0] == 'B')) {
    bytes = Base32Decode(text.substr(1));
  } else if (!text.empty() && text[0] == 'z') {
    bytes = Base58Decode(text.substr(1));
  } else if (!text.empty() && text[0] == 'f' && text.size() % 2 == 1) {
    std::string out;
    for (size_t i = 1; i + 1 < text.size(); i += 2) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
      };
      const int hi = hex(text[i]), lo = hex(text[i + 1]);
      if (hi < 0 || lo < 0) return Status(Code::kInvalidArgument, "bad hex digit in CID");
      out.push_back(static_cast<char>(hi * 16 + lo));
    }
    bytes = std::move(out);
  } else if (!text.empty()) {
    return Status(Code::kInvalidArgument,
                  fmt::format("invalid CID \"{}\": unknown multibase prefix", text));
  }
  if (!bytes.ok()) {
    return Status(Code::kInvalidArgument,
                  fmt::format("invalid CID \"{}\": {}", text, bytes.status().detail()));
  }
  auto cid = FromBytes(*bytes);
  if (!cid.ok()) {
    return Status(Code::kInvalidArgument,
                  fmt::format("invalid CID \"{}\": {}", text, cid.status().detail()));
  }
  return cid;
}

Cid Cid::V0(std::span<const uint8_t> digest) {
  std::string b = "\x12\x20";
  b.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return *FromBytes(b);
}

Cid Cid::V1(uint64_t codec, uint64_t hash_code, std::span<const uint8_t> digest) {
  std::string b;
  AppendUvarint(&b, 1);
  AppendUvarint(&b, codec);
  AppendUvarint(&b, hash_code);
  AppendUvarint(&b, digest.size());
  b.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return *FromBytes(b);
}

std::string Cid::ToString() const { return CidToString(bytes_, info_); }

std::string CidToString(std::string_view cid_bytes, const CidInfo& info) {
  if (info.version == 0) return Base58Encode(cid_bytes);
  return "b" + Base32Encode(cid_bytes);
}

std::string Base32Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<std::string> Base32Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char ch : text) {
    int v;
    if (ch >= 'a' && ch <= 'z') {
      v = ch - 'a';
    } else if (ch >= 'A' && ch <= 'Z') {
      v = ch - 'A';
    } else if (ch >= '2' && ch <= '7') {
      v = ch - '2' + 26;
    } else {
      return Status(Code::kInvalidArgument, fmt::format("'{}' is not a base32 character", ch));
    }
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) {
    return Status(Code::kInvalidArgument, "base32 text has a bad length or trailing bits");
  }
  return out;
}

namespace {
constexpr char kBase58Alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
}

std::string Base58Encode(std::string_view bytes) {
  size_t zeros = 0;
  while (zeros < bytes.size() && bytes[zeros] == 0) zeros++;
  // Base-58 digits, least significant first; schoolbook conversion (CIDs are short).
  std::vector<uint8_t> digits;
  for (size_t i = zeros; i < bytes.size(); i++) {
    uint32_t carry = static_cast<unsigned char>(bytes[i]);
    for (auto& d : digits) {
      carry += static_cast<uint32_t>(d) << 8;
      d = static_cast<uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(kBase58Alphabet[*it]);
  return out;
}

Result<std::string> Base58Decode(std::string_view text) {
  size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ones++;
  std::vector<uint8_t> bytes;  // least significant first
  for (size_t i = ones; i < text.size(); i++) {
    const char* at = std::find(std::begin(kBase58Alphabet), std::end(kBase58Alphabet) - 1, text[i]);
    if (at == std::end(kBase58Alphabet) - 1) {
      return Status(Code::kInvalidArgument,
                    fmt::format("'{}' is not a base58btc character", text[i]));
    }
    uint32_t carry = static_cast<uint32_t>(at - kBase58Alphabet);
    for (auto& b : bytes) {
      carry += static_cast<uint32_t>(b) * 58;
      b = static_cast<uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  std::string out(ones, '\0');
  for (auto it = bytes.rbegin(); it != bytes.rend(); ++it) out.push_back(static_cast<char>(*it));
  return out;
}

}  // namespace boltpp::car
