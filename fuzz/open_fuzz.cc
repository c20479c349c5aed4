// File: fuzz/open_fuzz.cc
// libFuzzer target: open + check + read every key of an arbitrary file.
// See FuzzOpenFile in fuzz_logic.h for the input format.
#include "fuzz_logic.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return boltpp::fuzz::FuzzOpenFile(data, size);
}
