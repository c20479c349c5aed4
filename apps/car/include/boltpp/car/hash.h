// Multihash digests for verifying blocks: sha2-256 and sha2-512 (OpenSSL),
// blake2b-8..512 (libb2), identity, and sha2-256-trunc254-padded.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "boltpp/status.h"

namespace boltpp::car {

// True when Digest can compute hash `code`.
bool HashSupported(uint64_t code);

// Computes the digest of `data` with multihash function `code`, truncated or
// checked to `digest_size` bytes, into *out. Errors: an unsupported code, a
// digest size the function cannot produce.
Status Digest(uint64_t code, std::span<const uint8_t> data, size_t digest_size, std::string* out);

// True when data hashes to `digest` under `code` (false on an unsupported code,
// reported through *status when given).
bool DigestMatches(uint64_t code, std::span<const uint8_t> data, std::span<const uint8_t> digest,
                   Status* status = nullptr);

}  // namespace boltpp::car
