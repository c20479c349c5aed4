// A deterministic generator of CAR corpora (apps-spec 3.7) for tests and
// benchmarks: raw leaves (CIDv1 sha2-256, or dag-pb data nodes with CIDv0),
// interior nodes as DAG-CBOR link arrays (CIDv1) or dag-pb link nodes
// (CIDv0), children first, the root in the header. The same options and seed
// always give the same bytes.
#pragma once

#include <cstdint>
#include <string>

#include "boltpp/status.h"

namespace boltpp::car {

enum class GenVersion { kV1, kV2, kV2Indexed, kMixed };

struct GenOptions {
  uint64_t seed = 1;
  uint64_t min_blocks = 10;  // leaves per CAR, log-uniform in [min, max]
  uint64_t max_blocks = 300;
  uint64_t min_block_size = 64;  // leaf payload bytes, uniform in [min, max]
  uint64_t max_block_size = 2048;
  double v0_fraction = 0.2;          // nodes made as dag-pb with CIDv0
  double identity_fraction = 0.02;   // tiny leaves with identity CIDs
  double duplicate_fraction = 0.02;  // leaves repeated (same CID and bytes)
  GenVersion version = GenVersion::kMixed;
  bool zero_pad = false;  // pad CARv1 files with zeros to a power of two
  uint32_t fanout = 16;   // children per interior node
};

struct GenStats {
  uint64_t blocks = 0;  // sections written
  uint64_t bytes = 0;   // file size
};

// Writes one CAR to `path`; `file_index` picks this file's sub-seed.
Result<GenStats> GenerateCar(const std::string& path, const GenOptions& opts, uint64_t file_index);

// Parses "1", "2", "2i" (v2 with index) or "mix".
Result<GenVersion> ParseGenVersion(const std::string& text);

}  // namespace boltpp::car
