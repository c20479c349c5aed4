// bench/src/main.cc: boltpp_bench, the benchmark driver.
//
//   boltpp_bench run [--n N] [--reps R] [--quick] [--engines a,b] [--suites a,b]
//                    [--dir DATA] [--go-bin PATH] [--json F] [--md F] [--png F]
//                    [--phase-timeout S] [--no-chart] [--command "..."]
//   boltpp_bench report --json F [--md F] [--png F] [--no-chart]
//   boltpp_bench floor [--dir D] [--iters K] [--span-mib M]
//   boltpp_bench child --engine E --suite S [--mode M] --dir D [--n N] ...   (internal)
//
// bench/run.sh builds everything and calls `run` with the right paths.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common.h"
#include "driver.h"
#include "engine.h"
#include "workloads.h"

using namespace bench;

namespace {

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ','))
    if (!x.empty()) v.push_back(x);
  return v;
}

struct Args {
  std::vector<std::string> a;
  size_t i = 0;
  bool More() const { return i < a.size(); }
  std::string Next() { return a[i++]; }
  std::string Value(const std::string& flag) {
    if (i >= a.size()) {
      std::fprintf(stderr, "%s needs a value\n", flag.c_str());
      std::exit(2);
    }
    return a[i++];
  }
};

uint64_t U64(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 10); }

int Usage() {
  std::fprintf(
      stderr,
      "usage: boltpp_bench run [--n N] [--reps R] [--quick] [--engines a,b] [--suites a,b]\n"
      "                        [--dir DATA] [--go-bin PATH] [--json F] [--md F] [--png F]\n"
      "                        [--phase-timeout S] [--no-chart] [--command TEXT]\n"
      "       boltpp_bench report --json F [--md F] [--png F] [--no-chart]\n"
      "       boltpp_bench floor [--dir D] [--iters K] [--span-mib M]\n"
      "       boltpp_bench engines\n"
      "engines: boltpp boltpp-wal bbolt-go lmdb rocksdb sqlite sqlite-wal (default: all but "
      "sqlite-wal)\n"
      "suites: redb sorted bbolt (or bbolt:seq, bbolt:rnd, bbolt:seq-nest, bbolt:rnd-nest) "
      "jobstore\n");
  return 2;
}

int Child(Args& args) {
  ChildConfig c;
  while (args.More()) {
    std::string f = args.Next();
    if (f == "--engine")
      c.engine = args.Value(f);
    else if (f == "--suite")
      c.suite = args.Value(f);
    else if (f == "--mode")
      c.mode = args.Value(f);
    else if (f == "--dir")
      c.dir = args.Value(f);
    else if (f == "--n")
      c.n = U64(args.Value(f));
    else if (f == "--seed")
      c.seed = U64(args.Value(f));
    else if (f == "--individual")
      c.individual = U64(args.Value(f));
    else if (f == "--batches")
      c.batches = U64(args.Value(f));
    else if (f == "--batch-keys")
      c.batch_keys = U64(args.Value(f));
    else if (f == "--scans")
      c.scans = U64(args.Value(f));
    else if (f == "--bbolt-batch")
      c.bbolt_batch = U64(args.Value(f));
    else if (f == "--jobs")
      c.jobs = U64(args.Value(f));
    else if (f == "--read-seconds")
      c.read_seconds = std::atof(args.Value(f).c_str());
    else if (f == "--bulk-fallback")
      c.bulk_fallback = true;
    else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  if (c.dir.empty() || c.engine.empty()) return Usage();
  EmitStartRss();
  return RunChild(c);
}

int Run(Args& args, int argc, char** argv) {
  RunConfig c;
  bool n_set = false;
  while (args.More()) {
    std::string f = args.Next();
    if (f == "--n") {
      c.n = U64(args.Value(f));
      n_set = true;
    } else if (f == "--reps")
      c.reps = std::atoi(args.Value(f).c_str());
    else if (f == "--quick")
      c.quick = true;
    else if (f == "--engines")
      c.engines = Split(args.Value(f));
    else if (f == "--suites")
      c.suites = Split(args.Value(f));
    else if (f == "--dir")
      c.data_dir = args.Value(f);
    else if (f == "--go-bin")
      c.go_bin = args.Value(f);
    else if (f == "--json")
      c.json_out = args.Value(f);
    else if (f == "--md")
      c.md_out = args.Value(f);
    else if (f == "--png")
      c.png_out = args.Value(f);
    else if (f == "--phase-timeout")
      c.phase_timeout = std::atof(args.Value(f).c_str());
    else if (f == "--no-chart")
      c.chart = false;
    else if (f == "--command")
      c.command = args.Value(f);
    else if (f == "--read-seconds")
      c.read_seconds = std::atof(args.Value(f).c_str());
    else if (f == "--floor-iters")
      c.floor_iters = std::atoi(args.Value(f).c_str());
    else if (f == "--individual")
      c.individual = U64(args.Value(f));
    else if (f == "--batches")
      c.batches = U64(args.Value(f));
    else if (f == "--batch-keys")
      c.batch_keys = U64(args.Value(f));
    else if (f == "--scans")
      c.scans = U64(args.Value(f));
    else if (f == "--bbolt-batch")
      c.bbolt_batch = U64(args.Value(f));
    else if (f == "--jobs")
      c.jobs = U64(args.Value(f));
    else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return Usage();
    }
  }
  if (c.quick) {
    if (!n_set) c.n = 2000;
    c.reps = 1;
    if (c.phase_timeout > 120) c.phase_timeout = 120;
  }
  if (c.reps < 1 || c.n < 10) return Usage();
  if (c.data_dir.empty()) c.data_dir = "bench-data";
  if (c.command.empty()) {
    for (int i = 0; i < argc; i++) {
      if (i) c.command += ' ';
      c.command += argv[i];
    }
  }
  return RunAll(c);
}

int Report(Args& args) {
  std::string json_in, md, png;
  bool chart = true;
  while (args.More()) {
    std::string f = args.Next();
    if (f == "--json")
      json_in = args.Value(f);
    else if (f == "--md")
      md = args.Value(f);
    else if (f == "--png")
      png = args.Value(f);
    else if (f == "--no-chart")
      chart = false;
    else
      return Usage();
  }
  std::ifstream in(json_in);
  if (!in) Die("cannot read " + json_in);
  WriteReport(nlohmann::json::parse(in), md, png, chart);
  return 0;
}

int Floor(Args& args) {
  std::string dir = "bench-data";
  int iters = 1000;
  int span_mib = 512;
  while (args.More()) {
    std::string f = args.Next();
    if (f == "--dir")
      dir = args.Value(f);
    else if (f == "--iters")
      iters = std::atoi(args.Value(f).c_str());
    else if (f == "--span-mib")
      span_mib = std::atoi(args.Value(f).c_str());
    else
      return Usage();
  }
  std::cout << MeasureFloor(dir, iters, span_mib).dump(1) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string cmd = argv[1];
  Args args{std::vector<std::string>(argv + 2, argv + argc)};
  try {
    if (cmd == "child") return Child(args);
    if (cmd == "run") return Run(args, argc, argv);
    if (cmd == "report") return Report(args);
    if (cmd == "floor") return Floor(args);
    if (cmd == "engines") {
      for (const auto& e : CompiledEngines()) std::cout << e << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "boltpp_bench: %s\n", e.what());
    return 1;
  }
  return Usage();
}
