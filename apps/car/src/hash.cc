// Block hashing with OpenSSL (sha2) and libb2 (blake2b).
#include "boltpp/car/hash.h"

#include <blake2.h>
#include <fmt/format.h>
#include <openssl/sha.h>

#include <cstring>

#include "boltpp/car/cid.h"

namespace boltpp::car {

namespace {
bool IsBlake2b(uint64_t code) { return code >= 0xb201 && code <= 0xb240; }
}  // namespace

bool HashSupported(uint64_t code) {
  return code == kIdentity || code == kSha2_256 || code == kSha2_512 ||
         code == kSha2_256Trunc254Padded || IsBlake2b(code);
}

namespace {

// The full digest of a non-identity hash into out[0..64); sets *full to its size.
Status FullDigest(uint64_t code, std::span<const uint8_t> data, uint8_t* out, size_t* full) {
  if (code == kSha2_256 || code == kSha2_256Trunc254Padded) {
    SHA256(data.data(), data.size(), out);
    if (code == kSha2_256Trunc254Padded) out[31] &= 0x3f;
    *full = 32;
  } else if (code == kSha2_512) {
    SHA512(data.data(), data.size(), out);
    *full = 64;
  } else if (IsBlake2b(code)) {
    *full = static_cast<size_t>(code - 0xb200);
    if (blake2b(out, data.data(), nullptr, *full, data.size(), 0) != 0) {
      return Status(Code::kIOError, "blake2b failed");
    }
  } else {
    return Status(Code::kInvalidArgument, fmt::format("cannot verify hash function {} (0x{:x})",
                                                      MulticodecName(code), code));
  }
  return Status::OK();
}

Status CheckSize(uint64_t code, size_t digest_size, size_t full) {
  if (digest_size > full) {
    return Status(Code::kCorruption, fmt::format("{} digest length {} is longer than the hash ({})",
                                                 MulticodecName(code), digest_size, full));
  }
  return Status::OK();
}

}  // namespace

Status Digest(uint64_t code, std::span<const uint8_t> data, size_t digest_size, std::string* out) {
  if (code == kIdentity) {
    if (digest_size != data.size()) {
      return Status(Code::kCorruption,
                    fmt::format("identity digest of {} bytes holds {} bytes of data", digest_size,
                                data.size()));
    }
    out->assign(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::OK();
  }
  uint8_t buf[64];
  size_t full = 0;
  Status s = FullDigest(code, data, buf, &full);
  if (s.ok()) s = CheckSize(code, digest_size, full);
  if (!s.ok()) return s;
  out->assign(reinterpret_cast<const char*>(buf), digest_size);
  return Status::OK();
}

bool DigestMatches(uint64_t code, std::span<const uint8_t> data, std::span<const uint8_t> digest,
                   Status* status) {
  if (code == kIdentity) {
    return data.size() == digest.size() &&
           std::memcmp(data.data(), digest.data(), data.size()) == 0;
  }
  uint8_t buf[64];
  size_t full = 0;
  Status s = FullDigest(code, data, buf, &full);
  if (s.ok()) s = CheckSize(code, digest.size(), full);
  if (!s.ok()) {
    if (status) *status = s;
    return false;
  }
  return std::memcmp(buf, digest.data(), digest.size()) == 0;
}

}  // namespace boltpp::car
