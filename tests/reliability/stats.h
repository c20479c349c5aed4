// File: tests/reliability/stats.h
// Counters the reliability tests add to (faults injected, crash images
// checked, kills, ...). Each test prints its own line ("RELSTAT name=value
// ..."), and the binary prints the totals when it exits, which is where the
// figures in docs/reliability.md come from.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace boltpp::reliability {

class RelStats {
 public:
  static RelStats& Get();
  void Add(const std::string& name, int64_t n);
  std::map<std::string, int64_t> Totals() const;
  std::string Format() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t> totals_;
};

// Prints "RELSTAT <label> k=v ..." for one test.
void PrintStats(const std::string& label, const std::map<std::string, int64_t>& kv);

// BOLTPP_RELIABILITY_SCALE (default 1.0) scales iteration counts so that
// sanitizer builds can run a smaller share of the same tests.
double Scale();
int Scaled(int n, int min = 1);

}  // namespace boltpp::reliability
