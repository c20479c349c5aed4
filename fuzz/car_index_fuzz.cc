// File: fuzz/car_index_fuzz.cc
// libFuzzer target: arbitrary bytes as a CAR index file (MultihashIndexSorted
// or IndexSorted), parsed, iterated and looked up.
#include <cstddef>
#include <cstdint>

#include "car_fuzz_logic.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return boltpp::car::fuzz::FuzzIndexReader(data, size);
}
