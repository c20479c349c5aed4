// File: fuzz/car_reader_fuzz.cc
// libFuzzer target: arbitrary bytes as a CAR (byte 0 picks reader options),
// read section by section, re-hashed, indexed both ways and looked up.
#include <cstddef>
#include <cstdint>

#include "car_fuzz_logic.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return boltpp::car::fuzz::FuzzCarReader(data, size);
}
