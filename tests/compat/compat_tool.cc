// File: tests/compat/compat_tool.cc
// boltpp_compat_tool: the boltpp twin of bboltgen, for reproducing a
// compatibility failure by hand. Same commands and flags:
//
//   boltpp_compat_tool gen     -db F -seed S [workload flags] -dump D -checkout C
//   boltpp_compat_tool mutate  -db F -seed S -round R [workload flags] -dump D -checkout C
//   boltpp_compat_tool dump    -db F -dump D -checkout C
//   boltpp_compat_tool summary -db F
//   boltpp_compat_tool config  -seed S      (prints the flags the suite uses for S)
//   boltpp_compat_tool diff    A B          (compares two dump files)
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "compat.h"

namespace {

int Usage() {
  std::cerr << "usage: boltpp_compat_tool gen|mutate|dump|summary|config|diff [flags]\n";
  return 2;
}

bool ParseBool(const std::string& v) { return v == "true" || v == "1" || v.empty(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string cmd = argv[1];
  if (cmd == "diff") {
    if (argc != 4) return Usage();
    std::string d = compat::CompareDumps(compat::ReadFileOrEmpty(argv[2]),
                                         compat::ReadFileOrEmpty(argv[3]), argv[2], argv[3]);
    if (d.empty()) return 0;
    std::cout << d << "\n";
    return 1;
  }
  std::map<std::string, std::string> flags;
  for (int i = 2; i < argc; i++) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) a = a.substr(1);
    if (a.empty() || a[0] != '-') return Usage();
    a = a.substr(1);
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      flags[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (a == "nofreelistsync" || a == "nosync") {
      flags[a] = "true";
    } else if (i + 1 < argc) {
      flags[a] = argv[++i];
    } else {
      return Usage();
    }
  }
  auto get = [&](const std::string& k, const std::string& def) {
    auto it = flags.find(k);
    return it == flags.end() ? def : it->second;
  };
  uint64_t seed = std::strtoull(get("seed", "1").c_str(), nullptr, 0);
  if (cmd == "config") {
    std::cout << compat::ConfigForSeed(seed).Describe() << "\n";
    return 0;
  }
  compat::WorkloadConfig c;
  c.page_size = static_cast<uint32_t>(std::stoul(get("pagesize", "4096")));
  c.freelist = get("freelist", "array");
  c.no_freelist_sync = ParseBool(get("nofreelistsync", "false"));
  c.no_sync = ParseBool(get("nosync", "true"));
  c.txs = std::stoi(get("txs", "10"));
  c.ops = std::stoi(get("ops", "20"));
  c.max_key = std::stoi(get("maxkey", "32768"));
  c.max_value = std::stoi(get("maxvalue", "65536"));
  c.bulk_max = std::stoi(get("bulkmax", "300"));
  c.max_depth = std::stoi(get("maxdepth", "6"));
  c.rollback_pct = std::stoi(get("rollback", "10"));
  c.reopen_pct = std::stoi(get("reopen", "10"));
  c.big_freelist = std::stoi(get("bigfreelist", "0"));
  c.huge_values = std::stoi(get("hugevalues", "0"));
  std::string db = get("db", "");
  if (db.empty()) return Usage();

  if (cmd == "gen" || cmd == "mutate") {
    uint64_t stream = cmd == "gen" ? 0 : std::stoull(get("round", "0")) + 1;
    boltpp::Status s = compat::RunWorkload(db, c, seed, stream);
    if (!s.ok()) {
      std::cerr << "boltpp_compat_tool: " << s.ToString() << "\n";
      return 2;
    }
  } else if (cmd != "dump" && cmd != "summary") {
    return Usage();
  }
  compat::ReadResult r = compat::ReadWithBoltpp(db);
  if (!r.status.ok()) {
    std::cerr << "boltpp_compat_tool: read " << db << ": " << r.status.ToString() << "\n";
    return 2;
  }
  if (cmd == "summary") {
    std::cout << r.summary;
    return 0;
  }
  std::string check;
  for (const auto& e : r.check) check += e + "\n";
  if (!get("checkout", "").empty()) compat::WriteFile(get("checkout", ""), check);
  if (!get("dump", "").empty()) compat::WriteFile(get("dump", ""), r.dump);
  if (get("checkout", "").empty() && !check.empty()) std::cerr << check;
  return 0;
}
