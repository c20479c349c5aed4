// bench/src/driver.h: the parent side: runs every engine's suites in child
// processes (interleaved, several repetitions), measures the disk's durable
// commit floor and peak RSS, and writes results JSON, markdown and chart.
#pragma once

#include <nlohmann/json.hpp>

#include <sys/types.h>

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
// A file shaped like a write-ahead log on the file system of a workload's
// own files: each AppendMicros writes a 128-byte (record_bytes) record after
// the previous one, in space already written (as a log reuses or
// preallocates its space), then fdatasyncs, and returns the microseconds
// the two took: the single-sync floor, the cheapest durable commit. Made
// for `records` appends (after 10 warm-up ones); removed when destroyed.
class LogShapedFile {
 public:
  LogShapedFile(const std::string& path, int records, size_t record_bytes = 128);
  ~LogShapedFile();
  LogShapedFile(const LogShapedFile&) = delete;
  LogShapedFile& operator=(const LogShapedFile&) = delete;
  double AppendMicros();

 private:
  std::string path_;
  std::vector<char> record_;
  int fd_ = -1;
  off_t end_ = 0;
};

// Markdown + chart from a results JSON (as RunAll writes it).
void WriteReport(const nlohmann::json& results, const std::string& md_out,
                 const std::string& png_out, bool chart);

}  // namespace bench
