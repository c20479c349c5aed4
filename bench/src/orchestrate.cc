// bench/src/orchestrate.cc: the parent process. For each repetition, for
// each suite, every engine runs once in its own child process (the engine
// order rotates from one repetition to the next, so slow drifts of the
// machine hit every engine alike). The child reports phases on a pipe; a
// phase running longer than phase_timeout is killed and reported as a
// timeout. Peak RSS comes from wait4's rusage.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common.h"
#include "driver.h"
#include "engine.h"

namespace bench {

using nlohmann::json;

namespace {

struct SuiteRun {
  std::string suite, mode;
  std::string Key() const { return mode.empty() ? suite : suite + ":" + mode; }
};

std::vector<SuiteRun> AllSuites() {
  return {{"redb", ""},          {"sorted", ""},        {"bbolt", "seq"}, {"bbolt", "rnd"},
          {"bbolt", "seq-nest"}, {"bbolt", "rnd-nest"}, {"jobstore", ""}};
}

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) Die("readlink /proc/self/exe");
  return std::string(buf, static_cast<size_t>(n));
}

std::string Fmt(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

struct ChildOutcome {
  json phases = json::object();
  std::string error;
  std::string timeout_phase;
  long maxrss_kb = 0;
  long start_rss_kb = 0;  // the child's RSS before it opened the engine
  double user_s = 0, sys_s = 0, wall_s = 0;
  int exit_code = -1;
};

// Runs one child; streams its protocol lines; enforces the phase timeout.
ChildOutcome RunChildProcess(const std::vector<std::string>& argv, double phase_timeout,
                             const std::string& label) {
  ChildOutcome out;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) Die("pipe");
  Clock::time_point start = Clock::now();
  pid_t pid = fork();
  if (pid < 0) Die("fork");
  if (pid == 0) {
    dup2(fds[1], 1);
    std::vector<char*> av;
    for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
    av.push_back(nullptr);
    execv(av[0], av.data());
    std::fprintf(stderr, "exec %s: %s\n", av[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  std::string buf, phase, last;
  Clock::time_point phase_start = Clock::now();
  bool eof = false;
  while (!eof) {
    // Time since the phase began (or, between phases, since the last line).
    double left = phase_timeout - SecondsSince(phase_start);
    if (left <= 0) {
      out.timeout_phase =
          phase.empty() ? "after_" + (last.empty() ? std::string("start") : last) : phase;
      phase = out.timeout_phase;
      out.phases[phase] = json{{"status", "timeout"}, {"timeout_s", phase_timeout}};
      std::fprintf(stderr, "  %s: %s TIMEOUT after %.0f s, killing the child\n", label.c_str(),
                   phase.c_str(), phase_timeout);
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int wait_ms = static_cast<int>(std::min(left, 1.0) * 1000) + 1;
    int rc = poll(&p, 1, wait_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    char chunk[4096];
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n <= 0) {
      eof = true;
      n = 0;
    }
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      json ev = json::parse(line, nullptr, false);
      if (ev.is_discarded() || !ev.is_object()) {
        std::fprintf(stderr, "  %s: unparsable line: %s\n", label.c_str(), line.c_str());
        continue;
      }
      std::string e = ev.value("ev", "");
      if (e == "start") {
        out.start_rss_kb = ev.value("rss_kb", 0L);
      } else if (e == "begin") {
        phase = ev.value("phase", "");
        phase_start = Clock::now();
      } else if (e == "result") {
        std::string ph = ev.value("phase", "");
        double ops = ev.value("ops", 0.0), secs = ev.value("seconds", 0.0);
        out.phases[ph] = json{{"ops", ops},
                              {"seconds", secs},
                              {"unit", ev.value("unit", "")},
                              {"rate", secs > 0 ? ops / secs : 0.0}};
        std::fprintf(stderr, "  %s: %-26s %12s %s/s  (%.3f s)\n", label.c_str(), ph.c_str(),
                     Fmt(secs > 0 ? ops / secs : 0).c_str(), ev.value("unit", "").c_str(), secs);
        last = ph;
        phase.clear();
        phase_start = Clock::now();
      } else if (e == "bytes") {
        std::string ph = ev.value("phase", "");
        last = ph;
        phase_start = Clock::now();
        out.phases[ph] = json{{"bytes", ev.value("bytes", uint64_t{0})}};
        std::fprintf(stderr, "  %s: %-26s %12.1f MiB\n", label.c_str(), ph.c_str(),
                     static_cast<double>(ev.value("bytes", uint64_t{0})) / 1048576.0);
      } else if (e == "error") {
        out.error = ev.value("msg", "");
        if (!phase.empty()) out.phases[phase] = json{{"status", "error"}, {"msg", out.error}};
        std::fprintf(stderr, "  %s: ERROR in %s: %s\n", label.c_str(), phase.c_str(),
                     out.error.c_str());
      }
    }
  }
  close(fds[0]);
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  out.wall_s = SecondsSince(start);
  out.maxrss_kb = ru.ru_maxrss;
  out.user_s =
      static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
  out.sys_s =
      static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (out.timeout_phase.empty() && out.exit_code != 0 && out.error.empty()) {
    out.error = "child exited with status " + std::to_string(out.exit_code);
    if (!phase.empty()) out.phases[phase] = json{{"status", "error"}, {"msg", out.error}};
  }
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  if (n == 0) return NAN;
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string Now() {
  std::time_t t = std::time(nullptr);
  char b[64];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return b;
}

std::string Capture(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char b[512];
    while (std::fgets(b, sizeof b, p)) out += b;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

void ApplyQuick(RunConfig& cfg) {
  cfg.individual = 50;
  cfg.batches = 5;
  cfg.batch_keys = 200;
  cfg.bbolt_batch = std::min<uint64_t>(cfg.bbolt_batch, 500);
  cfg.read_seconds = 0.05;
  cfg.floor_iters = std::min(cfg.floor_iters, 50);
  cfg.floor_span_mib = 4;
}

// The requested engines, or every available one but sqlite-wal; bbolt-go
// needs the Go program. Empty on error.
std::vector<std::string> SelectEngines(const RunConfig& cfg) {
  std::vector<std::string> available = CompiledEngines();
  if (!cfg.go_bin.empty() && access(cfg.go_bin.c_str(), X_OK) == 0) {
    bool first_is_boltpp = !available.empty() && available[0] == "boltpp";
    available.insert(available.begin() + (first_is_boltpp ? 1 : 0), "bbolt-go");
  }
  std::vector<std::string> engines;
  if (cfg.engines.empty()) {
    for (const auto& e : available)
      if (e != "sqlite-wal") engines.push_back(e);
    return engines;
  }
  for (const auto& e : cfg.engines) {
    if (std::find(available.begin(), available.end(), e) == available.end()) {
      std::fprintf(stderr, "engine %s is not available in this build%s\n", e.c_str(),
                   e == "bbolt-go" ? " (build bench/go, pass --go-bin)" : "");
      return {};
    }
    engines.push_back(e);
  }
  return engines;
}

std::vector<SuiteRun> SelectSuites(const RunConfig& cfg) {
  std::vector<SuiteRun> suites;
  auto wanted = [&](const std::string& name) {
    return std::find(cfg.suites.begin(), cfg.suites.end(), name) != cfg.suites.end();
  };
  for (const auto& s : AllSuites())
    if (cfg.suites.empty() || wanted(s.suite) || wanted(s.Key())) suites.push_back(s);
  return suites;
}

std::string DescribeEngine(const RunConfig& cfg, const std::string& e) {
  if (e != "bbolt-go") return MakeEngine(e)->Describe();
  std::string gov = Capture("'" + cfg.go_bin + "' -version 2>/dev/null");
  std::string pkg =
      Capture("dpkg-query -W -f '${Version}' golang-github-coreos-bbolt-dev 2>/dev/null");
  return "Go bbolt " +
         (pkg.empty() ? std::string("(version unknown)")
                      : pkg + " (Debian golang-github-coreos-bbolt-dev)") +
         ", " + (gov.empty() ? "go ?" : gov) +
         ": bolt.Open defaults (array freelist, freelist synced, fdatasync per commit); "
         "compaction = bolt.Compact(txMaxSize 65536)";
}

json BuildMeta(const RunConfig& cfg, const std::vector<std::string>& engines,
               const std::vector<SuiteRun>& suites) {
  json meta;
  meta["command"] = cfg.command;
  meta["json_path"] = cfg.json_out;
  meta["started"] = Now();
  meta["n"] = cfg.n;
  meta["reps"] = cfg.reps;
  meta["quick"] = cfg.quick;
  meta["phase_timeout_s"] = cfg.phase_timeout;
  meta["seed"] = 3;
  meta["params"] = json{{"individual", cfg.individual},
                        {"batches", cfg.batches},
                        {"batch_keys", cfg.batch_keys},
                        {"scans", cfg.scans ? cfg.scans : std::max<uint64_t>(1, cfg.n / 2)},
                        {"bbolt_batch", std::min(cfg.bbolt_batch, cfg.n)},
                        {"jobs", cfg.jobs ? cfg.jobs : std::max<uint64_t>(20, cfg.n / 500)},
                        {"read_seconds", cfg.read_seconds}};
  meta["engines"] = engines;
  meta["suites"] = json::array();
  for (const auto& s : suites) meta["suites"].push_back(s.Key());
  meta["machine"] = DescribeMachine(cfg.data_dir);
  for (const auto& e : engines) meta["engine_config"][e] = DescribeEngine(cfg, e);
  return meta;
}

std::vector<std::string> ChildArgs(const RunConfig& cfg, const std::string& self,
                                   const std::string& eng, const SuiteRun& s,
                                   const std::string& dir) {
  std::vector<std::string> args;
  if (eng == "bbolt-go") {
    args = {cfg.go_bin};
  } else {
    args = {self, "child"};
  }
  auto add = [&](const std::string& k, const std::string& v) {
    args.push_back("--" + k);
    args.push_back(v);
  };
  add("engine", eng);
  add("suite", s.suite);
  if (!s.mode.empty()) add("mode", s.mode);
  add("dir", dir);
  add("n", std::to_string(cfg.n));
  add("individual", std::to_string(cfg.individual));
  add("batches", std::to_string(cfg.batches));
  add("batch-keys", std::to_string(cfg.batch_keys));
  add("scans", std::to_string(cfg.scans));
  add("bbolt-batch", std::to_string(cfg.bbolt_batch));
  add("jobs", std::to_string(cfg.jobs));
  add("read-seconds", Fmt(cfg.read_seconds));
  return args;
}

// Runs one suite for one engine in a fresh directory. When the random bulk
// load times out, the same data is loaded in key order (--bulk-fallback) and
// the remaining phases run; later repetitions skip straight to that.
json RunSuite(const RunConfig& cfg, const std::string& self, const std::string& eng,
              const SuiteRun& s, int rep, std::set<std::string>& bulk_timed_out) {
  std::string label = "rep " + std::to_string(rep + 1) + " " + s.Key() + " " + eng;
  std::string dir =
      cfg.data_dir + "/run-" + eng + "-" + s.suite + (s.mode.empty() ? "" : "-" + s.mode);
  std::vector<std::string> args = ChildArgs(cfg, self, eng, s, dir);
  std::vector<std::string> fallback = args;
  fallback.push_back("--bulk-fallback");
  std::fprintf(stderr, "== %s\n", label.c_str());
  RemoveTree(dir);
  MakeDirs(dir);
  ChildOutcome o;
  if (s.suite == "redb" && bulk_timed_out.count(eng)) {
    o = RunChildProcess(fallback, cfg.phase_timeout, label);
    o.phases["bulk_load"] =
        json{{"status", "timeout"}, {"timeout_s", cfg.phase_timeout}, {"carried", true}};
    std::fprintf(stderr, "  %s: bulk_load not retried (timed out in an earlier repetition)\n",
                 label.c_str());
  } else {
    o = RunChildProcess(args, cfg.phase_timeout, label);
    if (o.timeout_phase == "bulk_load") {
      bulk_timed_out.insert(eng);
      ChildOutcome first = o;
      RemoveTree(dir);
      MakeDirs(dir);
      o = RunChildProcess(fallback, cfg.phase_timeout, label + " (fallback)");
      for (auto it = first.phases.begin(); it != first.phases.end(); ++it)
        o.phases[it.key()] = it.value();
      if (first.maxrss_kb > o.maxrss_kb) {
        o.maxrss_kb = first.maxrss_kb;
        o.start_rss_kb = first.start_rss_kb;
      }
      o.wall_s += first.wall_s;
      o.user_s += first.user_s;
      o.sys_s += first.sys_s;
      if (o.timeout_phase.empty()) o.timeout_phase = "bulk_load";
    }
  }
  RemoveTree(dir);
  std::fprintf(stderr, "  %s: peak RSS %.1f MiB, wall %.1f s\n", label.c_str(),
               static_cast<double>(o.maxrss_kb) / 1024.0, o.wall_s);
  json record = json{{"rep", rep},
                     {"suite", s.Key()},
                     {"engine", eng},
                     {"phases", o.phases},
                     {"maxrss_kb", o.maxrss_kb},
                     {"start_rss_kb", o.start_rss_kb},
                     {"user_s", o.user_s},
                     {"sys_s", o.sys_s},
                     {"wall_s", o.wall_s},
                     {"exit_code", o.exit_code}};
  if (!o.error.empty()) record["error"] = o.error;
  if (!o.timeout_phase.empty()) record["timeout_phase"] = o.timeout_phase;
  return record;
}

// The median of one phase for one engine over the repetitions; a timeout or
// an error in any repetition wins over numbers.
json SummarizeCell(const std::vector<json>& vals) {
  json s;
  std::vector<double> rates, bytes, secs;
  int timeouts = 0, errors = 0;
  std::string unit;
  for (const auto& v : vals) {
    std::string st = v.value("status", "");
    if (st == "timeout") {
      timeouts++;
    } else if (st == "error") {
      errors++;
    } else if (v.contains("bytes")) {
      bytes.push_back(v["bytes"].get<double>());
    } else {
      rates.push_back(v["rate"].get<double>());
      secs.push_back(v["seconds"].get<double>());
      unit = v.value("unit", "");
    }
  }
  s["reps"] = vals.size();
  if (timeouts) {
    s["status"] = "timeout";
    s["timeouts"] = timeouts;
  } else if (errors) {
    s["status"] = "error";
  } else if (!bytes.empty()) {
    s["bytes"] = Median(bytes);
  } else {
    s["rate"] = Median(rates);
    s["seconds"] = Median(secs);
    s["min_rate"] = *std::min_element(rates.begin(), rates.end());
    s["max_rate"] = *std::max_element(rates.begin(), rates.end());
    s["unit"] = unit;
  }
  return s;
}

void Summarize(json& results) {
  std::map<std::string, std::map<std::string, std::vector<json>>> by;  // phase -> engine -> values
  std::map<std::string, std::map<std::string, std::vector<double>>> rss_by, above_by;
  for (const auto& r : results["runs"]) {
    const std::string eng = r["engine"].get<std::string>();
    for (auto it = r["phases"].begin(); it != r["phases"].end(); ++it)
      by[it.key()][eng].push_back(it.value());
    rss_by[r["suite"].get<std::string>()][eng].push_back(r["maxrss_kb"].get<double>());
    above_by[r["suite"].get<std::string>()][eng].push_back(r["maxrss_kb"].get<double>() -
                                                           r.value("start_rss_kb", 0.0));
  }
  json summary = json::object(), rss = json::object(), above = json::object();
  for (auto& [phase, per] : by)
    for (auto& [eng, vals] : per) summary[phase][eng] = SummarizeCell(vals);
  for (auto& [suite, per] : rss_by)
    for (auto& [eng, v] : per) rss[suite][eng] = Median(v);
  for (auto& [suite, per] : above_by)
    for (auto& [eng, v] : per) above[suite][eng] = Median(v);
  std::vector<double> floors, syncs, spread, contiguous, extents, single;
  for (const auto& f : results["floor"]) {
    floors.push_back(f["commits_per_s"].get<double>());
    single.push_back(f.value("single_sync_commits_per_s", 0.0));
    syncs.push_back(f["write_fdatasync_per_s"].get<double>());
    spread.push_back(f.value("one_page_spread_per_s", 0.0));
    contiguous.push_back(f.value("six_pages_contiguous_per_s", 0.0));
    extents.push_back(f.value("six_pages_3_extents_per_s", 0.0));
  }
  results["summary"] = summary;
  results["rss_kb"] = rss;
  results["rss_above_start_kb"] = above;
  results["floor_median"] =
      json{{"commits_per_s", Median(floors)},
           {"single_sync_commits_per_s", Median(single)},
           {"write_fdatasync_per_s", Median(syncs)},
           {"span_mib", results["floor"].empty() ? 0 : results["floor"][0].value("span_mib", 0)},
           {"one_page_spread_per_s", Median(spread)},
           {"six_pages_contiguous_per_s", Median(contiguous)},
           {"six_pages_3_extents_per_s", Median(extents)}};
}

}  // namespace

int RunAll(RunConfig cfg) {
  if (cfg.quick) ApplyQuick(cfg);
  std::vector<std::string> engines = SelectEngines(cfg);
  std::vector<SuiteRun> suites = SelectSuites(cfg);
  if (engines.empty() || suites.empty()) {
    std::fprintf(stderr, "nothing to run\n");
    return 2;
  }
  MakeDirs(cfg.data_dir);
  json results;
  results["meta"] = BuildMeta(cfg, engines, suites);
  results["floor"] = json::array();
  results["runs"] = json::array();

  const std::string self = SelfExe();
  std::set<std::string> bulk_timed_out;  // engines whose random bulk load timed out
  for (int rep = 0; rep < cfg.reps; rep++) {
    std::fprintf(stderr, "== repetition %d/%d: disk floor\n", rep + 1, cfg.reps);
    json fl = MeasureFloor(cfg.data_dir + "/floor", cfg.floor_iters, cfg.floor_span_mib);
    fl["rep"] = rep;
    std::fprintf(
        stderr,
        "  floor: %.0f commits/s (2 x write+fdatasync, p50 %.0f us), %.0f commits/s (1 x log "
        "append+fdatasync); in %d MiB: 1 page %.0f/s, 6 pages %.0f/s contiguous, %.0f/s in 3 "
        "extents\n",
        fl["commits_per_s"].get<double>(), fl["commit_p50_us"].get<double>(),
        fl["single_sync_commits_per_s"].get<double>(), cfg.floor_span_mib,
        fl["one_page_spread_per_s"].get<double>(), fl["six_pages_contiguous_per_s"].get<double>(),
        fl["six_pages_3_extents_per_s"].get<double>());
    results["floor"].push_back(fl);
    for (const auto& s : suites) {
      for (size_t k = 0; k < engines.size(); k++) {
        // The engine order rotates with the repetition.
        const std::string& eng = engines[(k + static_cast<size_t>(rep)) % engines.size()];
        results["runs"].push_back(RunSuite(cfg, self, eng, s, rep, bulk_timed_out));
        // Partial results as we go, so a long run that dies leaves data.
        if (!cfg.json_out.empty())
          std::ofstream(cfg.json_out + ".partial") << results.dump(1) << "\n";
      }
    }
  }
  RemoveTree(cfg.data_dir + "/floor");
  results["meta"]["finished"] = Now();
  results["meta"]["loadavg_end"] = Capture("cat /proc/loadavg");
  Summarize(results);

  if (!cfg.json_out.empty()) {
    std::ofstream(cfg.json_out) << results.dump(1) << "\n";
    std::remove((cfg.json_out + ".partial").c_str());
    std::fprintf(stderr, "wrote %s\n", cfg.json_out.c_str());
  }
  WriteReport(results, cfg.md_out, cfg.png_out, cfg.chart);
  int failures = 0;
  for (const auto& r : results["runs"])
    if (r.contains("error")) failures++;
  if (failures) std::fprintf(stderr, "%d child run(s) failed; see the errors above\n", failures);
  return failures ? 1 : 0;
}

}  // namespace bench
