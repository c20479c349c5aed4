// bench/src/report.cc: results JSON -> docs/benchmarks.md + a PNG chart
// (gnuplot, pngcairo terminal).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common.h"
#include "driver.h"

namespace bench {

using nlohmann::json;

namespace {

enum class Kind { kRate, kSeconds, kBytes };

struct Row {
  std::string id;
  std::string label;  // may contain {n}, {scans}, ... placeholders
  Kind kind;
  std::string chart;  // short label for the chart ("" = not charted)
};

const std::vector<Row>& Rows() {
  static const std::vector<Row> rows = {
      {"bulk_load", "redb: bulk load, {n} random keys in 1 txn", Kind::kRate, "bulk load (random)"},
      {"bulk_load_sorted", "bulk load, {n} keys in key order, 1 txn", Kind::kRate,
       "bulk load (sorted)"},
      {"individual_writes", "redb: {individual} durable 1-key txns", Kind::kRate,
       "1-key durable txns"},
      {"paired_writes", "the same, each followed by a floor append", Kind::kRate, ""},
      {"paired_single_sync", "single-sync floor, appends between them (write + fdatasync)",
       Kind::kRate, ""},
      {"batch_writes", "redb: {batches} txns x {batch_keys} keys", Kind::kRate, "batch writes"},
      {"random_reads", "redb: {n} random gets, 1 txn", Kind::kRate, "random gets"},
      {"range_reads", "redb: {scans} range scans of 10 keys", Kind::kRate, "range scans"},
      {"reads_1t", "redb: {n} random gets, 1 thread", Kind::kRate, "gets 1 thread"},
      {"reads_2t", "redb: {n} random gets, 2 threads", Kind::kRate, "gets 2 threads"},
      {"removals", "redb: delete half the keys, 1 txn", Kind::kRate, "removals"},
      {"compaction", "redb: compaction time (s, lower is better)", Kind::kSeconds, ""},
      {"size_uncompacted", "redb: size after removals (MiB)", Kind::kBytes, ""},
      {"size_compacted", "redb: size after compaction (MiB)", Kind::kBytes, ""},
      {"shrink", "redb: shrink in place, same file (s, lower is better)", Kind::kSeconds, ""},
      {"size_shrunk", "redb: size after shrink in place (MiB)", Kind::kBytes, ""},
      {"size_sorted", "size after sorted bulk load (MiB)", Kind::kBytes, ""},
      {"bbolt_write_seq", "bbolt bench: seq writes, batch {bbolt_batch}", Kind::kRate,
       "bbolt seq write"},
      {"bbolt_write_rnd", "bbolt bench: rnd writes, batch {bbolt_batch}", Kind::kRate,
       "bbolt rnd write"},
      {"bbolt_write_seq_nest", "bbolt bench: seq-nest writes, batch {bbolt_batch}", Kind::kRate,
       "bbolt seq-nest"},
      {"bbolt_write_rnd_nest", "bbolt bench: rnd-nest writes, batch {bbolt_batch}", Kind::kRate,
       "bbolt rnd-nest"},
      {"bbolt_read_seq", "bbolt bench: seq read (cursor scan)", Kind::kRate, "bbolt seq read"},
      {"bbolt_read_rnd", "bbolt bench: rnd read (shuffled gets)", Kind::kRate, "bbolt rnd read"},
      {"job_submit", "jobs: submit {jobs} jobs, 1 durable txn each", Kind::kRate, "job submit"},
      {"job_claim_complete", "jobs: claim + complete (2 durable txns/job)", Kind::kRate,
       "job claim+complete"},
      {"job_get", "jobs: read one job (1 read txn each)", Kind::kRate, "job get"},
      {"job_list", "jobs: list done jobs with state", Kind::kRate, "job list"},
      {"job_purge", "jobs: purge, 10 jobs per durable txn", Kind::kRate, "job purge"},
      {"size_jobstore", "jobs: size after purge (MiB)", Kind::kBytes, ""},
  };
  return rows;
}

std::string Thousands(uint64_t v) {
  std::string s = std::to_string(v), o;
  int c = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (c && c % 3 == 0) o.insert(o.begin(), ',');
    o.insert(o.begin(), *it);
    c++;
  }
  return o;
}

std::string Label(const Row& r, const json& meta) {
  std::string s = r.label;
  const json& p = meta["params"];
  auto sub = [&](const std::string& key, uint64_t v) {
    std::string ph = "{" + key + "}";
    for (size_t i; (i = s.find(ph)) != std::string::npos;) s.replace(i, ph.size(), Thousands(v));
  };
  sub("n", meta["n"].get<uint64_t>());
  for (const char* k : {"individual", "batches", "batch_keys", "scans", "bbolt_batch", "jobs"})
    sub(k, p.value(k, uint64_t{0}));
  return s;
}

std::string FmtRate(double v) {
  char b[32];
  if (v >= 1e6) {
    std::snprintf(b, sizeof b, "%.2fM", v / 1e6);
  } else if (v >= 1e4) {
    std::snprintf(b, sizeof b, "%.0fk", v / 1e3);
  } else if (v >= 1e3) {
    std::snprintf(b, sizeof b, "%.2fk", v / 1e3);
  } else {
    std::snprintf(b, sizeof b, "%.0f", v);
  }
  return b;
}
std::string FmtF(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// The figure a row compares: rate, seconds or bytes; NaN when absent.
double Value(const json& cell, Kind k) {
  if (cell.is_null() || cell.contains("status")) return NAN;
  if (k == Kind::kBytes) return cell.value("bytes", NAN);
  if (k == Kind::kSeconds) return cell.value("seconds", NAN);
  return cell.value("rate", NAN);
}

std::string Cell(const json& cell, Kind k, const json& meta) {
  if (cell.is_null()) return "n/a";
  std::string st = cell.value("status", "");
  if (st == "timeout")
    return "timeout (>" + FmtF("%.0f", meta.value("phase_timeout_s", 0.0)) + " s)";
  if (st == "error") return "error";
  double v = Value(cell, k);
  if (std::isnan(v)) return "n/a";
  if (k == Kind::kBytes) return FmtF("%.1f", v / 1048576.0);
  if (k == Kind::kSeconds) return FmtF("%.2f", v);
  return FmtRate(v);
}

std::string Unit(const json& summary_row, Kind k) {
  if (k == Kind::kBytes) return "MiB";
  if (k == Kind::kSeconds) return "s";
  for (auto it = summary_row.begin(); it != summary_row.end(); ++it)
    if (it.value().contains("unit")) return it.value()["unit"].get<std::string>() + "/s";
  return "";
}

std::string Esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|')
      o += "\\|";
    else
      o += c;
  }
  return o;
}

void RatioTable(std::ostream& md, const json& res, const std::vector<std::string>& engines,
                const std::string& ref) {
  const json& summary = res["summary"];
  const json& meta = res["meta"];
  md << "| workload |";
  for (const auto& e : engines)
    if (e != ref) md << " " << e << " |";
  md << "\n|---|";
  for (const auto& e : engines)
    if (e != ref) md << "---:|";
  md << "\n";
  for (const Row& r : Rows()) {
    if (!summary.contains(r.id)) continue;
    const json& row = summary[r.id];
    double base = row.contains(ref) ? Value(row[ref], r.kind) : NAN;
    md << "| " << Esc(Label(r, meta)) << " |";
    for (const auto& e : engines) {
      if (e == ref) continue;
      double v = row.contains(e) ? Value(row[e], r.kind) : NAN;
      if (std::isnan(v) || std::isnan(base) || base == 0) {
        md << " - |";
      } else {
        md << " " << FmtF("%.2f", v / base) << "x |";
      }
    }
    md << "\n";
  }
}

bool HaveGnuplot() { return system("command -v gnuplot >/dev/null 2>&1") == 0; }

void Chart(const json& res, const std::vector<std::string>& engines, const std::string& ref,
           const std::string& png) {
  const json& summary = res["summary"];
  const json& meta = res["meta"];
  std::string data = png + ".dat", script = png + ".gp";
  {
    std::ofstream d(data);
    d << "workload";
    for (const auto& e : engines) d << "\t" << e;
    d << "\n";
    for (const Row& r : Rows()) {
      if (r.chart.empty() || !summary.contains(r.id)) continue;
      const json& row = summary[r.id];
      double base = row.contains(ref) ? Value(row[ref], r.kind) : NAN;
      d << "\"" << r.chart << "\"";
      for (const auto& e : engines) {
        double v = row.contains(e) ? Value(row[e], r.kind) : NAN;
        if (std::isnan(v) || std::isnan(base) || base == 0) {
          d << "\t?";
        } else {
          d << "\t" << FmtF("%.6g", v / base);
        }
      }
      d << "\n";
    }
  }
  const json& m = meta["machine"];
  std::string title = "Throughput relative to " + ref +
                      " (log scale; higher is better). n=" + Thousands(meta["n"].get<uint64_t>()) +
                      ", median of " + std::to_string(meta["reps"].get<int>()) + " runs, " +
                      std::to_string(m.value("nproc", 0)) + " x " +
                      m.value("cpu", std::string("?")) + ", " +
                      m["filesystem"].value("type", std::string("?"));
  {
    std::ofstream g(script);
    g << "set terminal pngcairo size 1600,900 font 'sans,10'\n"
      << "set output '" << png << "'\n"
      << "set datafile missing '?'\n"
      << "set datafile separator '\\t'\n"
      << "set title \"" << title << "\"\n"
      << "set style data histograms\n"
      << "set style histogram clustered gap 1\n"
      << "set style fill solid 0.85 border -1\n"
      << "set boxwidth 0.9\n"
      << "set logscale y 10\n"
      << "set yrange [*:*]\n"
      << "set ylabel 'ratio to " << ref << "'\n"
      << "set grid ytics\n"
      << "set xtics rotate by -35 left nomirror\n"
      << "set bmargin 8\n"
      << "set key top right\n"
      << "set arrow from graph 0, first 1 to graph 1, first 1 nohead lt 0 lw 2\n"
      << "plot";
    for (size_t i = 0; i < engines.size(); i++) {
      g << (i ? ", ''" : " '" + data + "'") << " using " << (i + 2) << (i == 0 ? ":xtic(1)" : "")
        << " title '" << engines[i] << "'";
    }
    g << "\n";
  }
  std::string cmd = "gnuplot '" + script + "'";
  if (system(cmd.c_str()) != 0) Die("gnuplot failed: " + cmd);
  std::remove(data.c_str());
  std::remove(script.c_str());
}

std::string S(const json& j, const char* key) { return j.value(key, std::string("?")); }

void Header(std::ostream& md, const json& meta) {
  md << "# boltpp benchmarks\n\n"
     << "<!-- Generated by bench/run.sh (boltpp_bench); do not edit by hand: rerun the command "
        "below. -->\n\n"
     << "boltpp against Go bbolt, LMDB, RocksDB and SQLite, the same workloads run by each in one\n"
     << "session: every engine runs each suite in its own child process, engines interleaved (the "
        "order\n"
     << "rotates every repetition), and every figure is the **median of " << meta["reps"].get<int>()
     << " repetition(s)**.";
  if (meta.value("quick", false))
    md << " **Quick mode: tiny data set, one repetition; the figures say nothing about speed.**";
  md << "\n\n## Command\n\n```sh\n"
     << S(meta, "command") << "\n```\n\n"
     << "Started " << S(meta, "started") << ", finished " << S(meta, "finished")
     << ". Raw results: `" << S(meta, "json_path") << "`.\n\n";
}

// Each engine's durable 1-key txns against the single-sync floor sampled in
// alternation with them (paired_writes, paired_single_sync): the median over
// repetitions of each repetition's ratio.
void FloorBeside(std::ostream& md, const json& res) {
  if (!res.contains("runs")) return;
  std::map<std::string, std::vector<double>> shares;
  for (const json& run : res["runs"]) {
    if (!run.contains("phases")) continue;
    const json& ph = run["phases"];
    if (!ph.contains("paired_writes") || !ph.contains("paired_single_sync")) continue;
    const double commits = ph["paired_writes"].value("rate", 0.0);
    const double floor = ph["paired_single_sync"].value("rate", 0.0);
    if (commits <= 0 || floor <= 0) continue;
    shares[run.value("engine", "")].push_back(100.0 * commits / floor);
  }
  std::string parts;
  for (auto& [eng, pct] : shares) {
    std::sort(pct.begin(), pct.end());
    const size_t mid = pct.size() / 2;
    const double median = pct.size() % 2 ? pct[mid] : (pct[mid - 1] + pct[mid]) / 2;
    parts += std::string(parts.empty() ? "" : ", ") + eng + " " + FmtF("%.0f", median) + " % (" +
             FmtF("%.0f", pct.front()) + "-" + FmtF("%.0f", pct.back()) + ")";
  }
  if (parts.empty()) return;
  md << "- Durable 1-key txns (redb suite) as a share of the single-sync floor, each commit\n"
        "  followed by one floor append so that both see the disk at the same moments (its\n"
        "  speed drifts during a run); median of the repetitions' ratios (range): "
     << parts << ".\n";
}

void Machine(std::ostream& md, const json& res) {
  const json& meta = res["meta"];
  const json& m = meta["machine"];
  const json& fs = m["filesystem"];
  md << "## Machine\n\n"
     << "- CPU: " << m.value("nproc", 0) << " x " << S(m, "cpu") << " (nproc "
     << m.value("nproc", 0) << ")\n"
     << "- Memory: " << FmtF("%.1f", m.value("mem_gib", 0.0)) << " GiB\n"
     << "- Kernel: " << S(m, "kernel") << "\n"
     << "- Disk/filesystem of the data directory (" << S(fs, "path") << "): " << S(fs, "type")
     << " on " << S(fs, "device");
  if (fs.contains("block_device")) md << " (block device " << fs["block_device"].get<std::string>();
  if (fs.contains("vendor") || fs.contains("model"))
    md << ", " << fs.value("vendor", std::string()) << " " << fs.value("model", std::string());
  if (fs.contains("rotational"))
    md << ", rotational=" << (fs["rotational"].get<bool>() ? "1" : "0");
  if (fs.contains("scheduler")) md << ", scheduler " << fs["scheduler"].get<std::string>();
  if (fs.contains("block_device")) md << ")";
  md << ", mount options `" << S(fs, "options") << "`\n"
     << "- Load average at start / end: " << S(m, "loadavg") << " / " << S(meta, "loadavg_end")
     << "\n";
  if (m.contains("compiler")) {
    md << "- C++ compiler: " << m["compiler"].get<std::string>();
    if (m.contains("build")) md << ", build `" << m["build"].get<std::string>() << "`";
    md << "\n";
  }
  const json& fl = res["floor_median"];
  md << "- Disk floor for a durable commit, measured in C++ on the same file system (write a 4 KiB "
        "page +\n"
     << "  fdatasync, then write a 4 KiB meta page + fdatasync, the minimum a bbolt/LMDB commit "
        "does): **"
     << FmtRate(fl.value("commits_per_s", 0.0)) << " commits/s**; a single write + fdatasync: "
     << FmtRate(fl.value("write_fdatasync_per_s", 0.0)) << "/s (medians over repetitions).\n"
     << "- Single-sync floor (the least a write-ahead-log commit does: a 128-byte record written "
        "after the\n"
     << "  previous one in already-allocated space, then fdatasync): **"
     << FmtRate(fl.value("single_sync_commits_per_s", 0.0)) << " commits/s**.\n"
     << "  The same protocol at random places in a " << fl.value("span_mib", 0)
     << " MiB file (the size of the\n"
     << "  redb suite's database): one data page "
     << FmtRate(fl.value("one_page_spread_per_s", 0.0))
     << "/s; the 6 data pages a one-key commit rewrites in a\n"
     << "  4-level bbolt tree (leaf, 2 branches, bucket root, root bucket leaf, freelist) "
     << FmtRate(fl.value("six_pages_contiguous_per_s", 0.0)) << "/s written contiguously, "
     << FmtRate(fl.value("six_pages_3_extents_per_s", 0.0)) << "/s as 3 extents.\n";
  FloorBeside(md, res);
  md << "\n";
}

void EnginesAndWorkloads(std::ostream& md, const json& meta,
                         const std::vector<std::string>& engines) {
  const json& p = meta["params"];
  md << "## Engines\n\n";
  for (const auto& e : engines)
    md << "- **" << e << "**: " << S(meta["engine_config"], e.c_str()) << "\n";
  md << "\nAll commits are durable (fsync/fdatasync before the commit returns). LMDB, RocksDB and "
        "SQLite have\n"
        "no nested buckets: a bucket path becomes a key prefix (`<len><name>` per nested level, "
        "plus a\n"
        "marker key per bucket, as bbolt writes a bucket header); the top-level bucket adds no "
        "prefix.\n\n"
     << "## Workloads\n\n"
     << "- **redb suite** (as redb's `lmdb_benchmark`): 24-byte random keys and 150-byte random "
        "values from a\n"
        "  seeded RNG (splitmix64, seed 3; the Go program generates the identical stream). Phases "
        "in order on one\n"
        "  database: bulk load of n keys in one transaction; durable one-key transactions; the "
        "same again,\n"
        "  each followed by one single-sync floor append (C++ engines only; the Go program skips "
        "it); batch transactions;\n"
        "  n random gets in one read transaction (every value checked); range scans of 10 entries "
        "from random\n"
        "  keys; n random gets split over 1 and 2 threads (each with its own read transaction); "
        "deleting half\n"
        "  of all keys in one transaction; size (sum of the files) after closing; the engine's "
        "compaction and\n"
        "  the size after it (bbolt: Compact into a new file; LMDB: copy with MDB_CP_COMPACT; "
        "RocksDB:\n"
        "  CompactRange; SQLite: VACUUM); boltpp also shrinks the same file in place "
        "(DB::Shrink, rows\n"
        "  \"shrink in place\").\n"
     << "- **sorted bulk load**: n keys whose first 8 bytes are the big-endian index (so they "
        "arrive in key\n"
        "  order), in one transaction, into a fresh database.\n"
     << "- **bbolt bench modes** (as `bbolt bench`): 8-byte keys (big-endian uint32 then zeros), "
        "32-byte zero\n"
        "  values, n keys in transactions of "
     << Thousands(p.value("bbolt_batch", uint64_t{0}))
     << " keys; seq = 0,1,2,...; rnd = random uint32; the nest modes create one\n"
        "  sub-bucket per transaction. Reads: a cursor scan of all keys (after seq) or gets over a "
        "shuffle of\n"
        "  the written keys (after rnd), repeated for at least "
     << FmtF("%.2g", p.value("read_seconds", 1.0))
     << " s in one read transaction. Fresh database per mode.\n"
     << "- **job store**: " << Thousands(p.value("jobs", uint64_t{0}))
     << " jobs; bucket jobstore/jobs/<job-id> per job holding JSON documents of\n"
        "  300-600 bytes (spec, state, result), a queue bucket and a done bucket. Submit = 1 "
        "durable txn per\n"
        "  job (create the job bucket, 2 documents, enqueue); claim (pop the queue head, read "
        "spec, write\n"
        "  state) and complete (write result and state, mark done) = 2 durable txns per job; get = "
        "1 read txn\n"
        "  reading 3 documents of a random job; list = scan the done bucket reading each job's "
        "state (get and\n"
        "  list repeated for the read time); purge = delete job buckets, 10 jobs per durable "
        "txn.\n\n";
}

void Results(std::ostream& md, const json& res, const std::vector<std::string>& engines,
             const std::string& ref, const std::string& png_name) {
  const json& meta = res["meta"];
  const json& summary = res["summary"];
  md << "## Results\n\n"
     << "Throughput (operations per second; the unit says what one operation is). Sizes in MiB and "
        "the\n"
     << "compaction and shrink times in seconds are lower-is-better.\n\n"
     << "| workload | unit |";
  for (const auto& e : engines) md << " " << e << " |";
  md << "\n|---|---|";
  for (size_t i = 0; i < engines.size(); i++) md << "---:|";
  md << "\n";
  for (const Row& r : Rows()) {
    if (!summary.contains(r.id)) continue;
    const json& row = summary[r.id];
    md << "| " << Esc(Label(r, meta)) << " | " << Unit(row, r.kind) << " |";
    for (const auto& e : engines)
      md << " " << (row.contains(e) ? Cell(row[e], r.kind, meta) : "n/a") << " |";
    md << "\n";
  }
  md << "\n### Relative to " << ref << "\n\nEngine / " << ref
     << " for every row: above 1 is faster for throughput rows, bigger for sizes and slower for "
        "the\n"
        "compaction time.\n\n";
  RatioTable(md, res, engines, ref);
  if (ref != "lmdb" && std::find(engines.begin(), engines.end(), "lmdb") != engines.end()) {
    md << "\n### Relative to lmdb\n\n";
    RatioTable(md, res, engines, "lmdb");
  }
  if (!png_name.empty()) md << "\n![throughput relative to " << ref << "](" << png_name << ")\n";
}

// One row per suite of res[field] (KiB per engine), in MiB.
void MemoryTable(std::ostream& md, const json& res, const std::vector<std::string>& engines,
                 const char* field) {
  md << "| suite |";
  for (const auto& e : engines) md << " " << e << " |";
  md << "\n|---|";
  for (size_t i = 0; i < engines.size(); i++) md << "---:|";
  md << "\n";
  if (!res.contains(field)) return;
  for (const auto& suite : res["meta"]["suites"]) {
    std::string key = suite.get<std::string>();
    if (!res[field].contains(key)) continue;
    const json& per = res[field][key];
    md << "| " << key << " |";
    for (const auto& e : engines)
      md << " " << (per.contains(e) ? FmtF("%.1f", per[e].get<double>() / 1024.0) : "n/a") << " |";
    md << "\n";
  }
}

void Memory(std::ostream& md, const json& res, const std::vector<std::string>& engines) {
  md << "\n## Peak memory\n\nHigh-water RSS of the child process that ran the suite (`ru_maxrss` "
        "from `wait4`), MiB,\n"
        "median over repetitions. For the mmap engines (boltpp, bbolt, LMDB) it includes the "
        "touched pages of\n"
        "the mapped file, which the kernel can drop at will; RocksDB and SQLite count their own "
        "caches.\n\n";
  MemoryTable(md, res, engines, "rss_kb");
  md << "\nThe same, less the child's RSS when it started, before it opened the database: the "
        "memory the\n"
        "engine and the workload added. The C++ child (one binary for boltpp, LMDB, RocksDB and "
        "SQLite)\n"
        "starts larger because it maps all four libraries; the Go child starts with only its "
        "runtime and\n"
        "bbolt (each run's `start_rss_kb` is in the raw results).\n\n";
  MemoryTable(md, res, engines, "rss_above_start_kb");
}

// Timeouts, fallbacks and failures, run by run. Returns whether any.
bool RunNotes(std::ostream& md, const json& res) {
  bool any = false;
  for (const auto& r : res["runs"]) {
    std::string eng = r["engine"].get<std::string>();
    int rep = r["rep"].get<int>() + 1;
    const json& ph = r["phases"];
    for (auto it = ph.begin(); it != ph.end(); ++it) {
      std::string st = it.value().value("status", "");
      if (st == "timeout") {
        md << "- " << eng << ", repetition " << rep << ": `" << it.key() << "` "
           << (it.value().value("carried", false)
                   ? std::string("not retried after timing out in an earlier repetition")
                   : "killed after " + FmtF("%.0f", it.value().value("timeout_s", 0.0)) +
                         " s (timeout)")
           << ".";
        if (it.key() == "bulk_load" && ph.contains("bulk_load_fallback_sorted") &&
            !ph["bulk_load_fallback_sorted"].contains("status"))
          md << " The later phases ran on the same n elements loaded in key order in one "
                "transaction ("
             << FmtRate(ph["bulk_load_fallback_sorted"].value("rate", 0.0)) << " keys/s).";
        md << "\n";
        any = true;
      } else if (st == "error") {
        md << "- " << eng << ", repetition " << rep << ": `" << it.key()
           << "` failed: " << S(it.value(), "msg") << "\n";
        any = true;
      }
    }
    if (r.contains("error") && !r.contains("timeout_phase")) {
      md << "- " << eng << ", repetition " << rep << ", suite " << r["suite"].get<std::string>()
         << ": " << r["error"].get<std::string>() << "\n";
      any = true;
    }
  }
  return any;
}

void Notes(std::ostream& md, const json& res) {
  const json& summary = res["summary"];
  md << "\n## Notes\n\n";
  bool any = RunNotes(md, res);
  bool bulk_timeout = false;
  if (summary.contains("bulk_load"))
    for (auto it = summary["bulk_load"].begin(); it != summary["bulk_load"].end(); ++it)
      if (it.value().value("status", "") == "timeout") bulk_timeout = true;
  if (bulk_timeout)
    md << "- Why the random bulk load can time out: bbolt inserts into a node's sorted slice "
          "(moving the tail\n"
          "  on every insert) and splits nodes only at commit, so n random-order inserts into a "
          "fresh bucket in\n"
          "  one transaction cost O(n^2). Loading in key order appends instead (the `bulk load ... "
          "in key order`\n"
          "  row); bbolt's commit-time split makes the resulting file the same either way.\n";
  for (const Row& r : Rows()) {
    if (!summary.contains(r.id) || r.kind != Kind::kRate) continue;
    for (auto it = summary[r.id].begin(); it != summary[r.id].end(); ++it) {
      const json& c = it.value();
      if (!c.contains("rate") || c.value("reps", 0) < 2) continue;
      double spread =
          (c["max_rate"].get<double>() - c["min_rate"].get<double>()) / c["rate"].get<double>();
      if (spread <= 0.25) continue;
      md << "- " << it.key() << " `" << r.id << "`: repetitions spread "
         << FmtF("%.0f", spread * 100) << "% of the median ("
         << FmtRate(c["min_rate"].get<double>()) << " .. " << FmtRate(c["max_rate"].get<double>())
         << ").\n";
      any = true;
    }
  }
  if (!any) md << "- No timeouts or failures.\n";
  md << "- Caches were not dropped between runs; each child opens a fresh database it has just "
        "written, so\n"
        "  reads are served from the page cache (all data sets fit in memory).\n"
        "- The machine may be shared: see the load average above. Single-core-bound figures can "
        "move by\n"
        "  tens of percent between runs on a busy 2-core VM; compare engines within one run.\n";
}

}  // namespace

void WriteReport(const json& res, const std::string& md_out, const std::string& png_out,
                 bool chart) {
  const json& meta = res["meta"];
  std::vector<std::string> engines = meta["engines"].get<std::vector<std::string>>();
  auto has = [&](const std::string& e) {
    return std::find(engines.begin(), engines.end(), e) != engines.end();
  };
  std::string ref = has("bbolt-go") ? "bbolt-go" : has("lmdb") ? "lmdb" : engines[0];
  std::string png_name;
  if (chart && !png_out.empty()) {
    if (!HaveGnuplot())
      Die("gnuplot not found (Debian: apt-get install gnuplot-nox), or pass --no-chart");
    Chart(res, engines, ref, png_out);
    std::fprintf(stderr, "wrote %s\n", png_out.c_str());
    png_name = png_out.substr(png_out.rfind('/') + 1);
  }
  if (md_out.empty()) return;
  std::ostringstream md;
  Header(md, meta);
  Machine(md, res);
  EnginesAndWorkloads(md, meta, engines);
  Results(md, res, engines, ref, png_name);
  Memory(md, res, engines);
  Notes(md, res);
  std::ofstream f(md_out);
  f << md.str();
  if (!f) Die("cannot write " + md_out);
  std::fprintf(stderr, "wrote %s\n", md_out.c_str());
}

}  // namespace bench
