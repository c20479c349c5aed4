// What `boltpp-car inspect` and `verify` compute (go-car's Reader.Inspect and
// cmd/car verify), as library calls.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "boltpp/car/reader.h"
#include "boltpp/status.h"

namespace boltpp::car {

struct InspectReport {
  int version = 0;
  std::optional<V2Header> v2;
  std::string index_type;  // CARv2: the index codec's name, or "(none)"
  std::vector<Cid> roots;
  bool roots_present = false;
  uint64_t block_count = 0;
  uint64_t min_block = 0, avg_block = 0, max_block = 0;
  uint64_t min_cid = 0, avg_cid = 0, max_cid = 0;
  std::map<uint64_t, uint64_t> codec_counts;
  std::map<uint64_t, uint64_t> hash_counts;
  // go-car's text, byte for byte.
  std::string ToString() const;
};

// Reads every section (zero-length section = end, as go-car's inspect does).
// verify_hashes: re-hash every block and fail on the first mismatch.
Result<InspectReport> Inspect(CarReader& reader, bool verify_hashes);

struct VerifyOptions {
  bool rehash_blocks = false;  // `verify --full`
  bool zero_length_section_as_eof = false;
};

// go-car's `car verify` checks (roots listed and present, CARv2 header
// offsets consistent, every non-identity block found in the index), plus,
// with rehash_blocks, every block's hash. OK or the first problem.
Status Verify(const std::string& path, const VerifyOptions& opts = {});

}  // namespace boltpp::car
