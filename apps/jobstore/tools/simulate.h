// File: apps/jobstore/tools/simulate.h
// `boltpp-jobs simulate`: an orchestrator and a compute node driving both
// stores (apps-spec 1.7) from N concurrent clients.
#pragma once

#include <cstdint>
#include <string>

namespace boltpp::jobstore {

struct SimulateOptions {
  std::string requester_path;
  std::string compute_path;
  int jobs = 100;
  int clients = 4;
  uint64_t seed = 1;
  bool no_sync = false;
  bool wal = false;          // both stores in WAL mode (StoreOptions::wal)
  bool progress = false;     // draw a progress bar on stderr
  std::string journal_path;  // "kind id version" per committed transition (crash tests)
  int lock_timeout_ms = 2000;
};

// Runs the simulation, prints throughput, then verifies both files.
// Returns the process exit status: 0 only if every job ran and verify passed.
int RunSimulate(const SimulateOptions& options);

}  // namespace boltpp::jobstore
