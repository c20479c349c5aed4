// File: fuzz/make_seeds.cc
//   boltpp_fuzz_seeds <open-dir> <ops-dir>
// Writes the seed corpora: each seed database twice for the "open" target
// (flags 0 and 0x07: fix checksums, write, compact), and the seed programs
// for the "ops" target.
#include <cstdio>
#include <fstream>
#include <string>

#include "seeds.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <open-dir> <ops-dir>\n", argv[0]);
    return 64;
  }
  int n = 0;
  for (const auto& [name, bytes] : boltpp::fuzz::MakeSeedDatabases()) {
    for (char flags : {'\x00', '\x07', '\x0f'}) {
      std::ofstream(std::string(argv[1]) + "/" + name + "-" + std::to_string(int(flags)),
                    std::ios::binary)
          << flags << bytes;
      n++;
    }
  }
  for (const auto& [name, bytes] : boltpp::fuzz::MakeSeedPrograms()) {
    std::ofstream(std::string(argv[2]) + "/" + name, std::ios::binary) << bytes;
    n++;
  }
  std::printf("wrote %d seeds\n", n);
  return 0;
}
