// File: fuzz/seeds.h
// Small real database files made with boltpp, as seeds for the "open" fuzz
// target and for the corruption sweep in the regression test; and a few
// operation programs for the "ops" target.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace boltpp::fuzz {

// name -> bytes of a database file (page size 1 KiB unless the name says 4k).
std::vector<std::pair<std::string, std::string>> MakeSeedDatabases();
// name -> a FuzzOps program.
std::vector<std::pair<std::string, std::string>> MakeSeedPrograms();

}  // namespace boltpp::fuzz
