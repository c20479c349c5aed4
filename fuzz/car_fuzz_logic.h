// File: fuzz/car_fuzz_logic.h
// The CAR fuzz targets' bodies (apps/car), shared by the libFuzzer targets
// and the regression replay in boltpp_car_tests. Each runs the library on
// arbitrary bytes; a crash or sanitizer report is the only failure.
#pragma once

#include <cstddef>
#include <cstdint>

namespace boltpp::car::fuzz {

// Opens the bytes as a CAR (in memory, then as a stream through a pipe when
// small), reads every section (first byte of input picks options),
// re-hashes blocks, builds both index kinds and parses and looks them up.
int FuzzCarReader(const uint8_t* data, size_t size);
// Parses the bytes as an index file and iterates and looks up every record.
int FuzzIndexReader(const uint8_t* data, size_t size);

}  // namespace boltpp::car::fuzz
