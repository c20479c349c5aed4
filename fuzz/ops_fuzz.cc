// File: fuzz/ops_fuzz.cc
// libFuzzer target: random operation sequences against a std::map model.
// See FuzzOps in fuzz_logic.h.
#include "fuzz_logic.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return boltpp::fuzz::FuzzOps(data, size);
}
