// bench/src/driver.h: the parent side: runs every engine's suites in child
// processes (interleaved, several repetitions), measures the disk's durable
// commit floor and peak RSS, and writes results JSON, markdown and chart.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct RunConfig {
  uint64_t n = 1000000;
  int reps = 3;
  bool quick = false;
  std::vector<std::string> engines;  // empty = every available one
  std::vector<std::string> suites;   // empty = all
  std::string data_dir;              // where the databases go
  std::string go_bin;                // Go bbolt program ("" = skip bbolt-go)
  std::string json_out, md_out, png_out;
  std::string command;         // the command line, for the report
  double phase_timeout = 300;  // seconds per phase
  bool chart = true;
  // child knobs (0 = defaults / quick defaults)
  uint64_t individual = 1000, batches = 100, batch_keys = 1000, scans = 0, bbolt_batch = 10000,
           jobs = 0;
  double read_seconds = 1.0;
  int floor_iters = 1000;
  int floor_span_mib = 512;  // file size for the spread-out commit shapes
};

int RunAll(RunConfig cfg);

// Durable-commit floor on the file system holding dir: `iters` times
// (write a 4 KiB page + fdatasync, then write a 4 KiB meta page + fdatasync).
nlohmann::json MeasureFloor(const std::string& dir, int iters, int span_mib);
nlohmann::json DescribeMachine(const std::string& dir);
// Seconds taken by iters log-shaped commits in dir (a 128-byte record
// written after the previous one in already-written space, then fdatasync):
// the single-sync floor, for a measurement beside a workload's own commits.
double SingleSyncSeconds(const std::string& dir, int iters);

// Markdown + chart from a results JSON (as RunAll writes it).
void WriteReport(const nlohmann::json& results, const std::string& md_out,
                 const std::string& png_out, bool chart);

}  // namespace bench
