// File: apps/jobstore/tools/main.cc
// boltpp-jobs: inspect, verify, repair and exercise a compute network's
// requester ({NODE_ID}-requester.db) and compute ({NODE_ID}-compute.db) files.
//
// File resolution, for every command: --db FILE; else BACALHAU_JOB_STORE_PATH
// (requester commands) or BACALHAU_COMPUTE_STORE_PATH (node commands); else
// BACALHAU_DIR + --node-id. Exit status: 0 on success, 1 on any error or
// (verify) any problem found.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "boltpp/jobstore/execution_store.h"
#include "boltpp/jobstore/job_store.h"
#include "boltpp/jobstore/verify.h"
#include "simulate.h"

namespace bj = boltpp::jobstore;
using bj::Int;
using bj::Json;
using bj::Str;

namespace {

struct Globals {
  std::string db;
  std::string node_id;
  std::string output = "table";
  int lock_timeout_ms = 2000;
  bool wal = false;  // write commands commit in WAL mode
  bool json() const { return output == "json"; }
};

// A failure the command reports as "boltpp-jobs: <message>" with status 1.
struct Failure {
  std::string message;
};

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

enum class Kind { kRequester, kCompute };

std::optional<std::string> FromEnv(const Globals& g, Kind kind) {
  std::string path =
      Env(kind == Kind::kRequester ? "BACALHAU_JOB_STORE_PATH" : "BACALHAU_COMPUTE_STORE_PATH");
  if (!path.empty()) return path;
  std::string dir = Env("BACALHAU_DIR");
  if (!dir.empty() && !g.node_id.empty()) {
    return dir + "/" + g.node_id + (kind == Kind::kRequester ? "-requester.db" : "-compute.db");
  }
  return std::nullopt;
}

std::string ResolvePath(const Globals& g, Kind kind) {
  if (!g.db.empty()) return g.db;
  if (auto p = FromEnv(g, kind)) return *p;
  throw Failure{
      std::string("no ") + (kind == Kind::kRequester ? "requester" : "compute") +
      " database: pass --db FILE, set " +
      (kind == Kind::kRequester ? "BACALHAU_JOB_STORE_PATH" : "BACALHAU_COMPUTE_STORE_PATH") +
      ", or set BACALHAU_DIR and pass --node-id"};
}

std::string PendingLogNote(const std::string& path, int64_t pending) {
  return "boltpp-jobs: " + path + ": its write-ahead log (" + path + "-wal, " + path +
         "-wal2) holds " + std::to_string(pending) +
         " commits past the data file's last checkpoint; showing the checkpoint (any write, e.g. "
         "verify --repair, replays the log)";
}

bj::StoreOptions ReadOptions(const Globals& g) {
  bj::StoreOptions o;
  o.read_only = true;
  o.lock_timeout = std::chrono::milliseconds(g.lock_timeout_ms);
  o.wal = g.wal;
  return o;
}

// A read-only open shows the data file's last checkpoint: say so when the
// write-ahead log holds commits past it (a crashed WAL-mode writer).
void NotePendingLog(boltpp::DB& db, const std::string& path) {
  const int64_t pending = db.GetWalInfo().pending_records;
  if (pending > 0) std::cerr << PendingLogNote(path, pending) << "\n";
}

template <typename T>
T Check(bj::Expected<T> v) {
  if (!v.ok()) throw Failure{v.error().message()};
  return std::move(*v);
}
void Check(const bj::Error& e) {
  if (!e.ok()) throw Failure{e.message()};
}

std::unique_ptr<bj::JobStore> OpenRequester(const Globals& g, bool write) {
  auto o = ReadOptions(g);
  o.read_only = !write;
  std::string path = ResolvePath(g, Kind::kRequester);
  if (!std::filesystem::exists(path)) throw Failure{"open " + path + ": no such file"};
  auto store = Check(bj::JobStore::Open(path, o));
  if (!write) NotePendingLog(store->db(), path);
  return store;
}

std::unique_ptr<bj::ExecutionStore> OpenCompute(const Globals& g, bool write) {
  auto o = ReadOptions(g);
  o.read_only = !write;
  std::string path = ResolvePath(g, Kind::kCompute);
  if (!std::filesystem::exists(path)) throw Failure{"open " + path + ": no such file"};
  auto store = Check(bj::ExecutionStore::Open(path, o));
  if (!write) NotePendingLog(store->db(), path);
  return store;
}

// ---- output helpers ----

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(header);
  for (auto& r : rows) line(r);
}

void PrintJson(const Json& j) { std::cout << j.dump(2) << "\n"; }

// "2023-07-10 12:00:00" (UTC) from Unix ns.
std::string ShortTime(int64_t unix_nanos) {
  std::time_t t = static_cast<std::time_t>(unix_nanos / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}
std::string ShortTime(const std::string& rfc3339) {
  auto t = bj::ParseRfc3339(rfc3339);
  return t ? ShortTime(*t) : rfc3339;
}
std::string ShortId(const std::string& id) { return id.substr(0, 10); }

std::string JobStateOf(const Json& job) {
  auto it = job.find("State");
  return it != job.end() ? Str(*it, "StateType") : "";
}
std::string EngineOf(const Json& job) {
  auto it = job.find("Tasks");
  if (it == job.end() || !it->is_array() || it->empty()) return "";
  auto e = (*it)[0].find("Engine");
  return e != (*it)[0].end() ? Str(*e, "Type") : "";
}
std::string ComputeStateName(const Json& exec) {
  auto it = exec.find("ComputeState");
  return std::string(
      bj::ExecStateName(bj::ExecState(it != exec.end() ? Int(*it, "StateType") : 0)));
}
std::string DesiredStateName(const Json& exec) {
  auto it = exec.find("DesiredState");
  return std::string(
      bj::DesiredStateName(bj::DesiredState(it != exec.end() ? Int(*it, "StateType") : 0)));
}
std::string ComputeMessage(const Json& exec) {
  auto it = exec.find("ComputeState");
  return it != exec.end() ? Str(*it, "Message") : "";
}

// ---- job commands ----

void JobList(const Globals& g, const bj::JobQuery& q) {
  auto store = OpenRequester(g, false);
  auto jobs = Check(store->GetJobs(q));
  if (g.json()) {
    PrintJson(Json(jobs));
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (auto& j : jobs) {
    rows.push_back({ShortTime(Int(j, "CreateTime")), ShortId(Str(j, "ID")), EngineOf(j),
                    Str(j, "Type"), JobStateOf(j)});
  }
  PrintTable({"CREATED", "ID", "JOB", "TYPE", "STATE"}, rows);
}

std::vector<std::vector<std::string>> HistoryRows(const std::vector<Json>& history) {
  std::vector<std::vector<std::string>> rows;
  for (auto& h : history) {
    bool job_level = Str(h, "Type") == "JobLevel";
    std::string prev, next;
    if (job_level) {
      auto s = h.find("JobState");
      if (s != h.end()) prev = Str(*s, "Previous"), next = Str(*s, "New");
    } else {
      auto s = h.find("ExecutionState");
      if (s != h.end()) {
        prev = std::string(bj::ExecStateName(bj::ExecState(Int(*s, "Previous"))));
        next = std::string(bj::ExecStateName(bj::ExecState(Int(*s, "New"))));
      }
    }
    rows.push_back({ShortTime(Str(h, "Time")), job_level ? "Job" : "Execution",
                    ShortId(Str(h, "ExecutionID")), Str(h, "NodeID"),
                    std::to_string(Int(h, "NewRevision")), prev, next, Str(h, "Comment")});
  }
  return rows;
}
const std::vector<std::string> kHistoryHeader = {"TIME", "LEVEL",          "EXEC. ID",  "NODE ID",
                                                 "REV.", "PREVIOUS STATE", "NEW STATE", "COMMENT"};

std::vector<std::vector<std::string>> ExecutionRows(const std::vector<Json>& execs) {
  std::vector<std::vector<std::string>> rows;
  for (auto& e : execs) {
    rows.push_back({ShortTime(Int(e, "CreateTime")), ShortTime(Int(e, "ModifyTime")),
                    ShortId(Str(e, "ID")), Str(e, "NodeID"), std::to_string(Int(e, "Revision")),
                    ComputeStateName(e), DesiredStateName(e), ComputeMessage(e)});
  }
  return rows;
}

void JobExecutions(const Globals& g, const std::string& id) {
  auto store = OpenRequester(g, false);
  auto execs = Check(store->GetExecutions(id));
  if (g.json()) return PrintJson(Json(execs));
  PrintTable(
      {"CREATED", "MODIFIED", "ID", "NODE ID", "REV.", "COMPUTE STATE", "DESIRED STATE", "COMMENT"},
      ExecutionRows(execs));
}

void JobHistory(const Globals& g, const std::string& id, const std::string& event_type,
                const bj::HistoryQuery& base) {
  bj::HistoryQuery q = base;
  if (event_type == "job") q.exclude_execution_level = true;
  if (event_type == "execution") q.exclude_job_level = true;
  auto store = OpenRequester(g, false);
  auto history = Check(store->GetJobHistory(id, q));
  if (g.json()) return PrintJson(Json(history));
  PrintTable(kHistoryHeader, HistoryRows(history));
}

void JobDescribe(const Globals& g, const std::string& id) {
  auto store = OpenRequester(g, false);
  Json job = Check(store->GetJob(id));
  const std::string full = Str(job, "ID");
  auto execs = Check(store->GetExecutions(full));
  auto history = Check(store->GetJobHistory(full, {.exclude_execution_level = true}));
  if (g.json()) {
    PrintJson({{"Job", job}, {"Executions", execs}, {"History", history}});
    return;
  }
  auto state = job.find("State");
  std::vector<std::pair<std::string, std::string>> kv = {
      {"ID", full},
      {"Name", Str(job, "Name")},
      {"Namespace", Str(job, "Namespace")},
      {"Type", Str(job, "Type")},
      {"State", JobStateOf(job)},
      {"Message", state != job.end() ? Str(*state, "Message") : ""},
      {"Count", std::to_string(Int(job, "Count"))},
      {"Created Time", ShortTime(Int(job, "CreateTime"))},
      {"Modified Time", ShortTime(Int(job, "ModifyTime"))},
      {"Version", std::to_string(Int(job, "Version"))},
      {"Revision", std::to_string(Int(job, "Revision"))}};
  for (auto& [k, v] : kv) std::cout << k << std::string(15 - k.size(), ' ') << "= " << v << "\n";
  std::map<std::string, int> summary;
  for (auto& e : execs) summary[ComputeStateName(e)]++;
  std::cout << "\nSummary\n";
  for (auto& [state_name, n] : summary) std::cout << "  " << state_name << " : " << n << "\n";
  std::cout << "\nJob History\n";
  PrintTable(kHistoryHeader, HistoryRows(history));
  std::cout << "\nExecutions\n";
  std::vector<Json> newest_first(execs.rbegin(), execs.rend());
  PrintTable(
      {"CREATED", "MODIFIED", "ID", "NODE ID", "REV.", "COMPUTE STATE", "DESIRED STATE", "COMMENT"},
      ExecutionRows(newest_first));
  for (auto& e : newest_first) {
    bj::HistoryQuery q{.exclude_job_level = true, .execution_id = Str(e, "ID")};
    std::cout << "\nExecution " << ShortId(Str(e, "ID")) << " History\n";
    PrintTable(kHistoryHeader, HistoryRows(Check(store->GetJobHistory(full, q))));
  }
}

void JobStop(const Globals& g, const std::string& id, const std::string& reason) {
  auto store = OpenRequester(g, true);
  Json job = Check(store->GetJob(id));
  const std::string full = Str(job, "ID");
  const std::string state = JobStateOf(job);
  if (state == "Stopped") {
    std::cout << "Job " << full << " is already stopped\n";
    return;
  }
  bj::UpdateJobStateRequest r{full, {}, bj::JobState::kStopped, reason};
  r.condition.unexpected_states = {bj::JobState::kCompleted};
  r.condition.expected_revision = static_cast<uint64_t>(Int(job, "Revision"));
  Check(store->UpdateJobState(r));
  // Cancel the executions still running, as the orchestrator's stop evaluation would.
  int cancelled = 0;
  for (auto& e : Check(store->GetExecutions(full))) {
    auto cs = bj::ExecState(Int(e["ComputeState"], "StateType"));
    if (bj::IsTerminal(cs)) continue;
    bj::UpdateExecutionRequest u;
    u.execution_id = Str(e, "ID");
    u.condition.expected_states = {cs};
    u.new_values = {
        {"ComputeState", {{"StateType", int(bj::ExecState::kCancelled)}, {"Message", reason}}},
        {"DesiredState", {{"StateType", int(bj::DesiredState::kStopped)}, {"Message", reason}}}};
    u.comment = reason;
    if (store->UpdateExecution(u).ok()) ++cancelled;
  }
  std::cout << "Job " << full << " stopped (revision " << Int(job, "Revision") + 1 << "), "
            << cancelled << " executions cancelled\n";
}

// ---- node commands ----

Json CountsJson(const bj::StateCounts& counts) {
  Json j = Json::object();
  for (int i = 1; i < bj::kLocalStateCount; ++i) {
    j[std::string(bj::LocalStateName(bj::LocalState(i)))] = counts[i];
  }
  return j;
}

void NodeCounters(const Globals& g) {
  auto store = OpenCompute(g, false);
  auto counts = store->GetCounts();
  if (g.json()) return PrintJson(CountsJson(counts));
  std::vector<std::vector<std::string>> rows;
  for (int i = 1; i < bj::kLocalStateCount; ++i) {
    rows.push_back({std::string(bj::LocalStateName(bj::LocalState(i))), std::to_string(counts[i])});
  }
  PrintTable({"STATE", "COUNT"}, rows);
}

void NodeExecutions(const Globals& g, const std::string& job, const std::string& state) {
  auto store = OpenCompute(g, false);
  std::optional<bj::LocalState> want;
  if (!state.empty()) {
    want = bj::ParseLocalState(state);
    if (!want) throw Failure{"unknown state " + state};
  }
  std::vector<bj::LocalExecutionState> list;
  if (!job.empty()) {
    auto r = store->GetExecutions(job);
    if (r.ok())
      list = std::move(*r);
    else if (r.error().code() != bj::Errc::kExecutionNotFound)
      throw Failure{r.error().message()};
  } else {
    list = Check(store->ListExecutions());
  }
  std::erase_if(list, [&](const auto& e) { return want && e.state != *want; });
  if (g.json()) {
    Json arr = Json::array();
    for (auto& e : list) arr.push_back(e.ToJson());
    return PrintJson(arr);
  }
  std::vector<std::vector<std::string>> rows;
  for (auto& e : list) {
    rows.push_back({e.id(), e.job_id(), std::string(bj::LocalStateName(e.state)),
                    std::to_string(e.version), ShortTime(e.update_time), e.latest_comment});
  }
  PrintTable({"ID", "JOB ID", "STATE", "VERSION", "UPDATED", "COMMENT"}, rows);
}

void NodeHistory(const Globals& g, const std::string& id) {
  auto store = OpenCompute(g, false);
  if (g.json()) {
    // The stored documents, oldest first, not re-encoded.
    Json arr = Json::array();
    for (auto& row : Check(store->GetExecutionHistoryDocuments(id))) arr.push_back(row.document);
    return PrintJson(arr);
  }
  auto history = Check(store->GetExecutionHistory(id));
  std::vector<std::vector<std::string>> rows;
  for (auto& h : history) {
    rows.push_back({std::to_string(h.seq), ShortTime(h.time),
                    std::string(bj::LocalStateName(h.previous_state)),
                    std::string(bj::LocalStateName(h.new_state)), std::to_string(h.new_version),
                    h.comment});
  }
  PrintTable({"SEQ", "TIME", "PREVIOUS STATE", "NEW STATE", "VERSION", "COMMENT"}, rows);
}

// "90s", "30m", "12h", "7d" -> nanoseconds.
std::chrono::nanoseconds ParseAge(const std::string& text) {
  if (text.empty()) return std::chrono::nanoseconds(0);
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    throw Failure{"bad duration " + text + " (use e.g. 90s, 30m, 12h, 7d)"};
  }
  std::string unit = text.substr(used);
  double secs = unit == "s"   ? v
                : unit == "m" ? v * 60
                : unit == "h" ? v * 3600
                : unit == "d" ? v * 86400
                              : -1;
  if (secs < 0 || v < 0) throw Failure{"bad duration " + text + " (use e.g. 90s, 30m, 12h, 7d)"};
  return std::chrono::nanoseconds(static_cast<int64_t>(secs * 1e9));
}

void NodeRestart(const Globals& g, const std::string& fail_after, const std::string& delete_after,
                 bool compact) {
  bj::RestartPolicy policy{ParseAge(fail_after), ParseAge(delete_after)};
  const std::string path = ResolvePath(g, Kind::kCompute);
  bj::RestartReport report;
  bool from_record = false;
  {
    auto store = OpenCompute(g, true);
    from_record = store->counters_from_record();
    report = Check(store->Restart(policy));
  }
  std::optional<bj::CompactReport> compacted;
  if (compact)
    compacted = Check(bj::CompactFile(path, std::chrono::milliseconds(g.lock_timeout_ms)));
  if (g.json()) {
    Json j = {{"Counters", CountsJson(report.counts)},
              {"ScanSeconds", report.scan_seconds},
              {"CountersFromRecord", from_record},
              {"MovedToFailed", report.failed},
              {"Deleted", report.deleted}};
    if (compacted)
      j["Compacted"] = {{"BytesBefore", compacted->bytes_before},
                        {"BytesAfter", compacted->bytes_after}};
    return PrintJson(j);
  }
  std::printf("counters ready in %.3fs at open (%s); counters after the policies:\n",
              report.scan_seconds, from_record ? "persisted record" : "recounted");
  for (int i = 1; i < bj::kLocalStateCount; ++i) {
    std::printf("  %-20s %llu\n", std::string(bj::LocalStateName(bj::LocalState(i))).c_str(),
                static_cast<unsigned long long>(report.counts[i]));
  }
  std::printf("moved to Failed: %zu\n", report.failed.size());
  for (auto& id : report.failed) std::printf("  %s\n", id.c_str());
  std::printf("deleted: %zu\n", report.deleted.size());
  for (auto& id : report.deleted) std::printf("  %s\n", id.c_str());
  if (compacted) {
    std::printf("compacted: %lld -> %lld bytes (%lld reclaimed)\n",
                static_cast<long long>(compacted->bytes_before),
                static_cast<long long>(compacted->bytes_after),
                static_cast<long long>(compacted->bytes_before - compacted->bytes_after));
  }
}

// ---- verify ----

// A file verify checks, and what named it (for the messages).
struct VerifyTarget {
  std::string path;
  std::string named_by;
};

// --db; otherwise every file the environment names: BACALHAU_JOB_STORE_PATH,
// BACALHAU_COMPUTE_STORE_PATH, and for a kind without its variable
// BACALHAU_DIR/<node-id>-requester.db or -compute.db.
std::vector<VerifyTarget> VerifyTargets(const Globals& g) {
  if (!g.db.empty()) return {{g.db, "--db"}};
  std::vector<VerifyTarget> targets;
  for (Kind k : {Kind::kRequester, Kind::kCompute}) {
    const char* var =
        k == Kind::kRequester ? "BACALHAU_JOB_STORE_PATH" : "BACALHAU_COMPUTE_STORE_PATH";
    if (auto p = FromEnv(g, k)) {
      targets.push_back({*p, !Env(var).empty() ? var : "BACALHAU_DIR and --node-id"});
    }
  }
  if (targets.empty() && !Env("BACALHAU_DIR").empty()) {
    throw Failure{
        "BACALHAU_DIR is set but --node-id is not: pass --node-id to verify "
        "BACALHAU_DIR/<node-id>-requester.db and -compute.db"};
  }
  if (targets.empty()) {
    throw Failure{
        "no database to verify: pass --db FILE, or set BACALHAU_JOB_STORE_PATH, "
        "BACALHAU_COMPUTE_STORE_PATH, or BACALHAU_DIR with --node-id"};
  }
  return targets;
}

// Verifies every target; a missing or unreadable one is reported (stderr, or
// an "Error" entry in JSON) and makes the status 1, the others are still checked.
int Verify(const Globals& g, bool repair) {
  int status = 0;
  Json out = Json::array();
  for (auto& [path, named_by] : VerifyTargets(g)) {
    std::error_code ec;
    auto report = std::filesystem::exists(path, ec)
                      ? bj::VerifyFile(path, repair, std::chrono::milliseconds(g.lock_timeout_ms))
                      : bj::Expected<bj::VerifyReport>(bj::Error(
                            bj::Errc::kInvalidArgument,
                            path + ": missing: no such file (named by " + named_by + ")"));
    if (!report.ok()) {
      if (g.json()) out.push_back({{"File", path}, {"Error", report.error().message()}});
      std::cerr << "boltpp-jobs: " << report.error().message() << "\n";
      status = 1;
      continue;
    }
    if (g.json()) {
      Json problems = Json::array();
      for (auto& p : report->problems) {
        problems.push_back({{"Bucket", p.bucket}, {"Key", p.key}, {"Message", p.message}});
      }
      out.push_back({{"File", path},
                     {"Kind", bj::StoreKindName(report->kind)},
                     {"Problems", problems},
                     {"Repairs", report->repairs},
                     {"PendingLogRecords", report->wal_pending_records}});
    } else {
      if (report->wal_pending_records > 0) {
        std::cerr << PendingLogNote(path, report->wal_pending_records) << "\n";
      }
      for (auto& r : report->repairs) std::cout << path << ": repaired: " << r << "\n";
      for (auto& p : report->problems) std::cout << path << ": " << p.ToString() << "\n";
      std::cout << path << " (" << bj::StoreKindName(report->kind)
                << "): " << report->problems.size() << " problems";
      if (repair) std::cout << ", " << report->repairs.size() << " repaired";
      std::cout << "\n";
    }
    if (!report->ok()) status = 1;
  }
  if (g.json()) PrintJson(out);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"boltpp-jobs: a compute network's job store and execution store files"};
  app.require_subcommand(1);
  app.fallthrough();
  Globals g;
  app.add_option("--db", g.db, "database file (otherwise found through the environment)");
  app.add_option("--node-id", g.node_id,
                 "node id: the files are BACALHAU_DIR/<id>-requester.db, -compute.db");
  app.add_option("--output,-o", g.output, "table or json")->check(CLI::IsMember({"table", "json"}));
  app.add_option("--lock-timeout-ms", g.lock_timeout_ms, "how long to wait for a locked file")
      ->check(CLI::Range(1, 600000));
  app.add_flag("--wal", g.wal,
               "write commands commit in WAL mode (one log sync per commit; the data file is "
               "complete again at the checkpoint on exit). Any write replays a pending log");

  int status = 0;
  std::function<void()> action;

  // job ...
  auto* job = app.add_subcommand("job", "the requester's job store")->require_subcommand(1);
  static bj::JobQuery query;
  query.limit = 10;
  auto* list = job->add_subcommand("list", "list jobs");
  list->add_option("--namespace", query.namespace_name, "only this namespace");
  list->add_option("--include-tag", query.include_tags, "only jobs with one of these label keys");
  list->add_option("--exclude-tag", query.exclude_tags, "no jobs with these label keys");
  list->add_option("--limit", query.limit, "at most this many (0: all)")->capture_default_str();
  list->add_option("--offset", query.offset, "skip this many");
  list->add_option("--order-by", query.sort_by, "id or created_at")
      ->check(CLI::IsMember({"id", "created_at"}));
  list->add_flag("--order-reversed", query.sort_reverse, "newest/largest first");
  list->callback([&] { action = [&] { JobList(g, query); }; });

  static std::string job_id, reason = "stopped by boltpp-jobs", event_type = "all";
  static bj::HistoryQuery hq;
  auto* describe = job->add_subcommand("describe", "a job with its executions and history");
  describe->add_option("id", job_id, "job id (short ids too)")->required();
  describe->callback([&] { action = [&] { JobDescribe(g, job_id); }; });
  auto* executions = job->add_subcommand("executions", "a job's executions");
  executions->add_option("id", job_id, "job id")->required();
  executions->callback([&] { action = [&] { JobExecutions(g, job_id); }; });
  auto* history = job->add_subcommand("history", "a job's history");
  history->add_option("id", job_id, "job id")->required();
  history->add_option("--event-type", event_type, "all, job or execution")
      ->check(CLI::IsMember({"all", "job", "execution"}));
  history->add_option("--execution-id", hq.execution_id, "only this execution (prefix)");
  // Not --node-id: that global option picks the file (BACALHAU_DIR/<id>-...).
  history->add_option("--node", hq.node_id, "only rows of this compute node (id prefix)");
  history->add_option("--since", hq.since, "only rows since this Unix time (seconds)");
  history->callback([&] { action = [&] { JobHistory(g, job_id, event_type, hq); }; });
  auto* stop = job->add_subcommand("stop", "stop a job");
  stop->add_option("id", job_id, "job id")->required();
  stop->add_option("--reason", reason, "recorded in the history");
  stop->callback([&] { action = [&] { JobStop(g, job_id, reason); }; });

  // node ...
  auto* node =
      app.add_subcommand("node", "the compute node's execution store")->require_subcommand(1);
  node->add_subcommand("counters", "executions per state")->callback([&] {
    action = [&] { NodeCounters(g); };
  });
  static std::string exec_job, exec_state, exec_id;
  auto* nexec = node->add_subcommand("executions", "the node's executions");
  nexec->add_option("--job", exec_job, "only this job's");
  nexec->add_option("--state", exec_state, "only in this state");
  nexec->callback([&] { action = [&] { NodeExecutions(g, exec_job, exec_state); }; });
  auto* nhist = node->add_subcommand("history", "an execution's history, oldest first");
  nhist->add_option("id", exec_id, "execution id")->required();
  nhist->callback([&] { action = [&] { NodeHistory(g, exec_id); }; });
  static std::string fail_after, delete_after;
  static bool compact = false;
  for (auto* parent : {static_cast<CLI::App*>(&app), node}) {
    auto* restart = parent->add_subcommand("restart", "count per state and apply restart policies");
    restart->add_option("--fail-stuck-after", fail_after,
                        "move non-terminal executions older than this to Failed (e.g. 12h)");
    restart->add_option("--delete-terminal-after", delete_after,
                        "delete terminal executions older than this (e.g. 7d)");
    restart->add_flag("--compact", compact,
                      "then compact the file into a fresh one and swap it in");
    restart->callback([&] { action = [&] { NodeRestart(g, fail_after, delete_after, compact); }; });
  }

  static bool repair = false;
  auto* verify = app.add_subcommand("verify", "check every invariant of the store files");
  verify->add_flag("--repair", repair, "fix what can be fixed, in one transaction");
  verify->callback([&] { action = [&] { status = Verify(g, repair); }; });

  static bj::SimulateOptions sim;
  auto* simulate = app.add_subcommand(
      "simulate", "drive both stores as an orchestrator and compute nodes would");
  simulate->add_option("--jobs", sim.jobs, "jobs to run")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  simulate->add_option("--clients", sim.clients, "concurrent clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  simulate->add_option("--seed", sim.seed, "random seed")->capture_default_str();
  simulate->add_option("--requester", sim.requester_path,
                       "requester file (default: --db or the environment)");
  simulate->add_option("--compute", sim.compute_path, "compute file (default: the environment)");
  simulate->add_option("--journal", sim.journal_path, "append one line per committed transition");
  simulate->add_flag("--no-sync", sim.no_sync, "skip fdatasync (not durable)");
  simulate->callback([&] {
    action = [&] {
      if (sim.requester_path.empty()) sim.requester_path = ResolvePath(g, Kind::kRequester);
      if (sim.compute_path.empty()) {
        auto p = FromEnv(g, Kind::kCompute);
        if (!p)
          throw Failure{
              "no compute database: pass --compute FILE or set BACALHAU_COMPUTE_STORE_PATH"};
        sim.compute_path = *p;
      }
      sim.progress = ::isatty(2);
      sim.lock_timeout_ms = g.lock_timeout_ms;
      sim.wal = g.wal;
      status = bj::RunSimulate(sim);
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;  // usage errors exit 1, as every error does
  }
  try {
    if (action) action();
  } catch (const Failure& f) {
    std::cerr << "boltpp-jobs: " << f.message << "\n";
    return 1;
  }
  return status;
}
