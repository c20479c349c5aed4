// File: tests/reliability/stats.cc
#include "reliability/stats.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace boltpp::reliability {

RelStats& RelStats::Get() {
  static RelStats* s = new RelStats();
  return *s;
}

void RelStats::Add(const std::string& name, int64_t n) {
  std::lock_guard<std::mutex> lk(mu_);
  totals_[name] += n;
}

std::map<std::string, int64_t> RelStats::Totals() const {
  std::lock_guard<std::mutex> lk(mu_);
  return totals_;
}

std::string RelStats::Format() const {
  std::ostringstream os;
  for (const auto& [k, v] : Totals()) os << " " << k << "=" << v;
  return os.str();
}

void PrintStats(const std::string& label, const std::map<std::string, int64_t>& kv) {
  std::ostringstream os;
  os << "RELSTAT " << label;
  for (const auto& [k, v] : kv) {
    os << " " << k << "=" << v;
    RelStats::Get().Add(k, v);
  }
  std::printf("%s\n", os.str().c_str());
  std::fflush(stdout);
}

namespace {

class TotalsPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    std::printf("RELSTAT-TOTAL%s\n", RelStats::Get().Format().c_str());
    std::fflush(stdout);
  }
};

const bool registered = [] {
  ::testing::AddGlobalTestEnvironment(new TotalsPrinter);
  return true;
}();

}  // namespace

double Scale() {
  static const double s = [] {
    const char* e = std::getenv("BOLTPP_RELIABILITY_SCALE");
    double v = e && *e ? std::atof(e) : 1.0;
    return v > 0 ? v : 1.0;
  }();
  return s;
}

int Scaled(int n, int min) {
  int v = static_cast<int>(n * Scale());
  return v < min ? min : v;
}

}  // namespace boltpp::reliability
