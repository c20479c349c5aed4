// File: apps/jobstore/bench/jobs_bench.cc
// The job-store workloads of apps-spec 4.4 on boltpp::jobstore, the C++ side
// of a side-by-side run with the Go twin (go/jobstwin, Go bbolt 1.3.6, same
// layout, same JSON documents). Every commit is durable unless --no-sync.
// Prints one JSON object per workload on stdout. --wal: the stores in WAL
// mode (StoreOptions::wal; impl "boltpp-wal").
//
//   jobs_bench j1 --file F --jobs N --clients C      job lifecycle (requester)
//   jobs_bench j2 --file F --n N --clients C         compute lifecycle, 5 tx each
//   jobs_bench load --file F --n N                   bulk-load N executions (for j3)
//   jobs_bench j3 --file F [--decode|--recount]      open + per-state counters
//   jobs_bench j7 --file F --n N --clients C         guarded-transition contention
//   jobs_bench j4load --file F --jobs N              the J4 file (10 namespaces, labels)
//   jobs_bench j4 --file F --jobs N --n Q [--only W] queries: list, short id, history page
//   jobs_bench j5 --file F --jobs N                  1 writer (J1) + 8 readers
//   jobs_bench j6 --file F --jobs K --n R            churn R rounds of K jobs, then compact
//   jobs_bench synclat --file F --n N                fdatasync latency of 4 KiB overwrites
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "boltpp/jobstore/execution_store.h"
#include "boltpp/jobstore/job_store.h"

namespace bj = boltpp::jobstore;
using bj::Json;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string cmd, file;
  int64_t n = 10000, jobs = 1000;
  int clients = 1;
  bool no_sync = false, decode = false, recount = false, wal = false;
  int scan_threads = 0;
  std::string only;  // j4: run only this query (J4-list, J4-shortid, J4-history)
};

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "jobs_bench: %s\n", what.c_str());
  std::exit(1);
}
void Must(const bj::Error& e, const char* what) {
  if (!e.ok()) Die(std::string(what) + ": " + e.ToString());
}

// The ids and the ~1 KB Execution document both sides write.
std::string ExecId(int64_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "e-%08llx-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(i * 2654435761u % 4294967296u),
                static_cast<unsigned long long>(i));
  return buf;
}
std::string JobId(int64_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "j-%08llx-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(i * 40503u % 4294967296u),
                static_cast<unsigned long long>(i));
  return buf;
}
Json ExecutionDoc(const std::string& id, const std::string& job) {
  return {
      {"ID", id},
      {"Namespace", "default"},
      {"EvalID", "v-00000000-0000-4000-8000-000000000000"},
      {"Name", "main"},
      {"NodeID", "node-1"},
      {"JobID", job},
      {"Job", nullptr},
      {"AllocatedResources",
       {{"Tasks", {{"main", {{"CPU", 1}, {"Memory", 1073741824}, {"Disk", 0}, {"GPU", 0}}}}}}},
      {"DesiredState", {{"StateType", 1}, {"Message", ""}}},
      {"ComputeState", {{"StateType", 5}, {"Message", ""}}},
      {"PublishedResult",
       {{"Type", "ipfs"}, {"Params", {{"CID", "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"}}}}},
      {"RunOutput", {{"Stdout", std::string(512, 'o')}, {"Stderr", ""}, {"ExitCode", 0}}},
      {"PreviousExecution", ""},
      {"NextExecution", ""},
      {"FollowupEvalID", ""},
      {"Revision", 1},
      {"CreateTime", 1700000000000000000},
      {"ModifyTime", 1700000000000000000}};
}

bj::StoreOptions Opts(const Args& a) {
  bj::StoreOptions o;
  o.no_sync = a.no_sync;
  o.batch = a.clients > 1;
  o.wal = a.wal;
  o.scan_threads = a.scan_threads;
  return o;
}

void Report(const char* workload, const Args& a, double secs, int64_t ops, const char* unit,
            const std::map<std::string, double>& extra = {}) {
  std::printf(
      "{\"impl\":\"%s\",\"workload\":\"%s\",\"clients\":%d,\"ops\":%lld,\"unit\":\"%s\","
      "\"seconds\":%.4f,\"per_sec\":%.1f",
      a.wal ? "boltpp-wal" : "boltpp", workload, a.clients, static_cast<long long>(ops), unit, secs,
      ops / secs);
  for (auto& [k, v] : extra) std::printf(",\"%s\":%.4f", k.c_str(), v);
  std::error_code ec;
  auto size = std::filesystem::file_size(a.file, ec);
  std::printf(",\"file_bytes\":%lld,\"peak_rss_kb\":%ld}\n", static_cast<long long>(ec ? 0 : size),
              PeakRssKb());
  std::fflush(stdout);
}

// The group commit's mean and largest group, for the report (empty without
// StoreOptions::batch).
std::map<std::string, double> GroupStats(const bj::GroupCommitStats& g) {
  if (g.commits == 0) return {};
  return {{"calls_per_commit", double(g.calls) / double(g.commits)},
          {"largest_group", double(g.largest)},
          {"gather_ms_per_commit", 1e3 * g.gather_seconds / double(g.commits)},
          {"commit_ms_per_commit", 1e3 * g.commit_seconds / double(g.commits)}};
}

// The disk's fdatasync latency as a WAL append sees it: n 4 KiB overwrites
// of a preallocated file, each followed by fdatasync. Durable rates with C
// closed-loop clients are at most C / (this latency + the commit's CPU).
void SyncLatency(const Args& a) {
  const int fd = ::open(a.file.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("open " + a.file + ": " + std::strerror(errno));
  const std::string page(4096, 'x');
  const int64_t blocks = 256;  // 1 MiB, rewritten in a cycle
  for (int64_t i = 0; i < blocks; ++i) {
    if (::pwrite(fd, page.data(), page.size(), i * 4096) < 0) Die("pwrite");
  }
  if (::fsync(fd) != 0) Die("fsync");
  std::vector<double> ms;
  auto start = Clock::now();
  for (int64_t i = 0; i < a.n; ++i) {
    auto t = Clock::now();
    if (::pwrite(fd, page.data(), page.size(), (i % blocks) * 4096) < 0) Die("pwrite");
    if (::fdatasync(fd) != 0) Die("fdatasync");
    ms.push_back(1e3 * Since(t));
  }
  const double secs = Since(start);
  ::close(fd);
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, size_t(p * ms.size()))]; };
  Report("synclat", a, secs, a.n, "fdatasyncs",
         {{"p10_ms", pct(0.1)}, {"p50_ms", pct(0.5)}, {"p90_ms", pct(0.9)}, {"p99_ms", pct(0.99)}});
}

// J2: Created -> BidAccepted -> Running -> Publishing -> Completed, 5 durable tx each.
void J2(const Args& a) {
  auto store = bj::ExecutionStore::Open(a.file, Opts(a));
  if (!store.ok()) Die(store.error().ToString());
  std::atomic<int64_t> next{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < a.clients; ++c) {
    threads.emplace_back([&] {
      for (int64_t i; (i = next.fetch_add(1)) < a.n;) {
        const std::string id = ExecId(i);
        bj::LocalExecutionState s;
        s.execution = ExecutionDoc(id, JobId(i / 2));
        s.requester_node_id = "requester-0";
        s.state = bj::LocalState::kCreated;
        s.version = 1;
        Must((*store)->CreateExecution(std::move(s)), "create");
        bj::LocalState from = bj::LocalState::kCreated;
        uint64_t version = 1;
        for (auto to : {bj::LocalState::kBidAccepted, bj::LocalState::kRunning,
                        bj::LocalState::kPublishing, bj::LocalState::kCompleted}) {
          Must((*store)->UpdateExecutionState({id, to, {from}, version, "step"}), "update");
          from = to;
          ++version;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = Since(start);
  auto extra = GroupStats((*store)->group_commit_stats());
  extra["executions_per_sec"] = a.n / secs;
  Report("J2", a, secs, a.n * 5, "transitions", extra);
}

// Bulk load for J3: n executions in their final states, 10k per transaction.
void Load(const Args& a) {
  std::filesystem::remove(a.file);
  {
    auto store = bj::ExecutionStore::Open(a.file, Opts(a));
    if (!store.ok()) Die(store.error().ToString());
  }
  auto db = boltpp::DB::Open(a.file);
  if (!db.ok()) Die(db.status().ToString());
  auto start = Clock::now();
  // Insert in key order (a random order costs O(n) page rewrites per
  // transaction); the file is as a store with that many records would be.
  std::vector<int64_t> order(static_cast<size_t>(a.n));
  for (int64_t i = 0; i < a.n; ++i) order[static_cast<size_t>(i)] = i;
  std::sort(order.begin(), order.end(), [](int64_t x, int64_t y) { return ExecId(x) < ExecId(y); });
  const int64_t per_tx = 10000;
  for (int64_t base = 0; base < a.n; base += per_tx) {
    boltpp::Status s = (*db)->Update([&](boltpp::Tx& tx) -> boltpp::Status {
      auto ex = tx.GetBucket(bj::kExecutionBucket),
           hist = tx.GetBucket(bj::kExecutionHistoryBucket),
           idx = tx.GetBucket(bj::kExecutionIndexBucket);
      for (int64_t k = base; k < std::min(a.n, base + per_tx); ++k) {
        const int64_t i = order[static_cast<size_t>(k)];
        const std::string id = ExecId(i), job = "j-" + id.substr(2);  // in key order too
        bj::LocalExecutionState st;
        st.execution = ExecutionDoc(id, job);
        st.requester_node_id = "requester-0";
        st.state = bj::LocalState(1 + i % 9);
        st.version = 1;
        st.create_time = st.update_time = 1700000000000000000;
        if (auto r = ex.Put(id, st.ToJson().dump()); !r.ok()) return r;
        auto jb = idx.CreateBucketIfNotExists(job);
        if (!jb.ok()) return jb.status();
        if (auto r = jb->Put(id, ""); !r.ok()) return r;
        auto hb = hist.CreateBucketIfNotExists(id);
        if (!hb.ok()) return hb.status();
        bj::LocalStateHistory h{id, bj::LocalState::kUndefined,    st.state,
                                1,  "LocalExecutionState created", st.create_time};
        if (auto r = hb->SetSequence(1); !r.ok()) return r;
        if (auto r = hb->Put(bj::SeqKey(1), h.ToJson().dump()); !r.ok()) return r;
      }
      return boltpp::Status::OK();
    });
    if (!s.ok()) Die(s.ToString());
  }
  Report("load", a, Since(start), a.n, "executions");
}

// J3: open the store; counters ready when Open returns. --recount first
// drops the persisted counter record (untimed), so Open recounts and rewrites it.
void J3(const Args& a) {
  if (a.recount) {
    auto db = boltpp::DB::Open(a.file);
    if (!db.ok()) Die(db.status().ToString());
    boltpp::Status s = (*db)->Update([](boltpp::Tx& tx) {
      return tx.GetBucket(bj::kExecutionIndexBucket).Delete(bj::kCountersKey);
    });
    if (!s.ok()) Die(s.ToString());
  }
  bool from_record = false;
  auto start = Clock::now();
  bj::StateCounts counts{};
  if (!a.decode) {
    auto store = bj::ExecutionStore::Open(a.file, Opts(a));
    if (!store.ok()) Die(store.error().ToString());
    counts = (*store)->GetCounts();
    from_record = (*store)->counters_from_record();
  } else {
    bj::StoreOptions o = Opts(a);
    o.read_only = true;
    auto db = bj::OpenStoreDB(a.file, o);
    if (!db.ok()) Die(db.error().ToString());
    (void)(*db)->View([&](boltpp::Tx& tx) {
      auto c = tx.GetBucket(bj::kExecutionBucket).NewCursor();
      for (auto e = c.First(); e; e = c.Next()) {
        auto st = bj::LocalExecutionState::FromJson(Json::parse(e->value));
        if (!st.ok()) Die("decode");
        counts[int(st->state)]++;
      }
      return boltpp::Status::OK();
    });
  }
  double secs = Since(start);
  int64_t total = 0;
  for (auto c : counts) total += static_cast<int64_t>(c);
  Report(a.decode       ? "J3-decode"
         : !from_record ? (a.scan_threads == 1 ? "J3-recount-1thread" : "J3-recount")
                        : "J3",
         a, secs, total, "executions counted",
         {{"completed", double(counts[int(bj::LocalState::kCompleted)])}});
}

// J7: every client races the same guarded transition on each execution:
// exactly one winner per transition.
void J7(const Args& a) {
  auto store = bj::ExecutionStore::Open(a.file, Opts(a));
  if (!store.ok()) Die(store.error().ToString());
  const int64_t execs = a.n;
  for (int64_t i = 0; i < execs; ++i) {
    bj::LocalExecutionState s;
    s.execution = ExecutionDoc(ExecId(i), JobId(i));
    s.state = bj::LocalState::kBidAccepted;
    s.version = 1;
    Must((*store)->CreateExecution(std::move(s)), "create");
  }
  const int rounds = 4;
  std::atomic<int64_t> wins{0}, losses{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < a.clients; ++c) {
    threads.emplace_back([&] {
      for (int64_t i = 0; i < execs; ++i) {
        for (int r = 0; r < rounds; ++r) {
          auto e = (*store)->UpdateExecutionState(
              {ExecId(i),
               bj::LocalState::kRunning,
               {bj::LocalState::kBidAccepted, bj::LocalState::kRunning},
               uint64_t(1 + r),
               "race"});
          if (e.ok()) {
            wins++;
          } else if (e.code() == bj::Errc::kInvalidExecutionVersion) {
            losses++;
          } else {
            Die(e.ToString());
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = Since(start);
  if (wins != execs * rounds)
    Die("J7: " + std::to_string(wins.load()) + " winners, want " + std::to_string(execs * rounds));
  auto extra = GroupStats((*store)->group_commit_stats());
  extra["wins"] = double(wins);
  extra["losses"] = double(losses);
  Report("J7", a, secs, wins + losses, "attempts", extra);
}

// The job's spec both sides write (namespace and labels vary for J4).
Json JobSpec(const std::string& job, const std::string& ns = "default",
             Json labels = {{"env", "bench"}}) {
  return {
      {"ID", job},
      {"Name", "bench"},
      {"Namespace", ns},
      {"Type", "batch"},
      {"Priority", 0},
      {"Count", 1},
      {"Constraints", Json::array()},
      {"Meta", Json::object()},
      {"Labels", std::move(labels)},
      {"Tasks",
       Json::array({{{"Name", "main"},
                     {"Engine", {{"Type", "docker"}, {"Params", {{"Image", "ubuntu:22.04"}}}}}}})}};
}

// One job's lifecycle (apps-spec 1.7): CreateJob, CreateEvaluation,
// CreateExecution, 4 UpdateExecution, 2 UpdateJobState = 9 write tx.
void JobLifecycle(bj::JobStore& store, int64_t i) {
  const std::string job = JobId(i), exec = ExecId(i);
  Must(store.CreateJob(JobSpec(job)), "create job");
  Must(
      store.CreateEvaluation({{"ID", "v-" + job.substr(2)}, {"JobID", job}, {"Status", "pending"}}),
      "eval");
  Json e = ExecutionDoc(exec, job);
  e["ComputeState"]["StateType"] = 1;
  Must(store.CreateExecution(e), "create exec");
  int from = 1;
  uint64_t rev = 1;
  for (int to : {2, 3, 5, 7}) {
    bj::UpdateExecutionRequest u;
    u.execution_id = exec;
    u.condition.expected_states = {bj::ExecState(from)};
    u.condition.expected_revision = rev++;
    u.new_values = {{"ComputeState", {{"StateType", to}, {"Message", ""}}}};
    Must(store.UpdateExecution(u), "update exec");
    from = to;
  }
  Must(store.UpdateJobState(
           {job, {.expected_state = bj::JobState::kPending}, bj::JobState::kRunning, ""}),
       "running");
  Must(store.UpdateJobState(
           {job, {.expected_state = bj::JobState::kRunning}, bj::JobState::kCompleted, ""}),
       "done");
}

// J1: the requester's job lifecycle, 9 durable tx per job.
void J1(const Args& a) {
  auto store = bj::JobStore::Open(a.file, Opts(a));
  if (!store.ok()) Die(store.error().ToString());
  std::atomic<int64_t> next{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < a.clients; ++c) {
    threads.emplace_back([&] {
      for (int64_t i; (i = next.fetch_add(1)) < a.jobs;) JobLifecycle(**store, i);
    });
  }
  for (auto& t : threads) t.join();
  double secs = Since(start);
  std::error_code ec;
  double bytes = static_cast<double>(std::filesystem::file_size(a.file, ec));
  auto extra = GroupStats((*store)->group_commit_stats());
  extra["jobs_per_sec"] = a.jobs / secs;
  extra["bytes_per_job"] = bytes / a.jobs;
  Report("J1", a, secs, a.jobs * 9, "write tx", extra);
}

// Latencies of one query kind, in microseconds.
struct Latencies {
  std::vector<double> us;
  void Add(Clock::time_point t) { us.push_back(Since(t) * 1e6); }
  double Pct(double p) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    return us[std::min(us.size() - 1, static_cast<size_t>(p * us.size()))];
  }
};

// J4 file: jobs in 10 namespaces, label keys env (all), tier (1 in 3),
// canary (1 in 7); the first kHistoryJobs jobs get an execution with 151
// history rows. Written once (no fsync), read by both sides.
constexpr int64_t kHistoryJobs = 20;
void J4Load(const Args& a) {
  std::filesystem::remove(a.file);
  bj::StoreOptions o = Opts(a);
  o.no_sync = true;
  auto store = bj::JobStore::Open(a.file, o);
  if (!store.ok()) Die(store.error().ToString());
  auto start = Clock::now();
  for (int64_t i = 0; i < a.jobs; ++i) {
    Json labels = {{"env", "bench"}};
    if (i % 3 == 0) labels["tier"] = "gold";
    if (i % 7 == 0) labels["canary"] = "true";
    Json spec = JobSpec(JobId(i), "ns-" + std::to_string(i % 10), labels);
    spec["CreateTime"] = 1700000000000000000 + i * 1000;
    Must((*store)->CreateJob(spec), "create job");
  }
  for (int64_t i = 0; i < kHistoryJobs; ++i) {
    Json e = ExecutionDoc(ExecId(i), JobId(i));
    e["ComputeState"]["StateType"] = 1;
    Must((*store)->CreateExecution(e), "create exec");
    for (int k = 0; k < 150; ++k) {
      bj::UpdateExecutionRequest u;
      u.execution_id = ExecId(i);
      u.new_values = {{"ComputeState", {{"StateType", 2}, {"Message", std::to_string(k)}}}};
      Must((*store)->UpdateExecution(u), "update exec");
    }
  }
  Report("J4-load", a, Since(start), a.jobs, "jobs");
}

// J4: the queries, each timed: list (namespace + include + exclude tags,
// sort by created_at, offset 20, limit 10), short-id resolution, a history
// page of 100 rows.
void J4(const Args& a) {
  bj::StoreOptions o = Opts(a);
  o.read_only = true;
  auto store = bj::JobStore::Open(a.file, o);
  if (!store.ok()) Die(store.error().ToString());
  std::mt19937_64 rng(42);
  auto run = [&](const char* name, int64_t n, const std::function<void()>& op) {
    if (!a.only.empty() && a.only != name) return;
    Latencies lat;
    auto start = Clock::now();
    for (int64_t k = 0; k < n; ++k) {
      auto t = Clock::now();
      op();
      lat.Add(t);
    }
    double secs = Since(start);
    Report(name, a, secs, n, "queries", {{"p50_us", lat.Pct(0.5)}, {"p99_us", lat.Pct(0.99)}});
  };
  run("J4-list", std::max<int64_t>(1, a.n / 100), [&] {
    bj::JobQuery q{"ns-3", {"tier"}, {"canary"}, 10, 20, "created_at", false};
    auto jobs = (*store)->GetJobs(q);
    if (!jobs.ok() || jobs->size() != 10) Die("J4 list");
  });
  run("J4-shortid", a.n, [&] {
    const std::string id = JobId(static_cast<int64_t>(rng() % uint64_t(a.jobs)));
    auto job = (*store)->GetJob(id.substr(0, 10));
    if (!job.ok()) Die("J4 short id: " + job.error().ToString());
  });
  run("J4-history", std::max<int64_t>(1, a.n / 10), [&] {
    const std::string id = JobId(static_cast<int64_t>(rng() % uint64_t(kHistoryJobs)));
    auto rows = (*store)->GetJobHistory(id, {.exclude_job_level = true});
    if (!rows.ok() || rows->size() < 100) Die("J4 history");
    rows->resize(100);
  });
}

// J5: one writer runs job lifecycles (durable) while 8 readers describe
// (job, executions, history) and list (namespace, limit 10) finished jobs.
void J5(const Args& a) {
  auto store = bj::JobStore::Open(a.file, Opts(a));
  if (!store.ok()) Die(store.error().ToString());
  std::atomic<int64_t> done{0};
  std::atomic<bool> stop{false};
  std::vector<Latencies> lat(8);
  std::vector<std::thread> readers;
  for (int r = 0; r < 8; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(r);
      while (!stop) {
        const int64_t n = done.load();
        if (n == 0) {
          std::this_thread::yield();
          continue;
        }
        auto t = Clock::now();
        if (rng() % 2) {
          const std::string id = JobId(static_cast<int64_t>(rng() % uint64_t(n)));
          if (!(*store)->GetJob(id).ok() || !(*store)->GetExecutions(id).ok() ||
              !(*store)->GetJobHistory(id).ok())
            Die("J5 describe");
        } else {
          bj::JobQuery q;
          q.namespace_name = "default";
          q.limit = 10;
          if (!(*store)->GetJobs(q).ok()) Die("J5 list");
        }
        lat[r].Add(t);
      }
    });
  }
  auto start = Clock::now();
  for (int64_t i = 0; i < a.jobs; ++i) {
    JobLifecycle(**store, i);
    done = i + 1;
  }
  double secs = Since(start);
  stop = true;
  for (auto& t : readers) t.join();
  Latencies all;
  for (auto& l : lat) all.us.insert(all.us.end(), l.us.begin(), l.us.end());
  std::error_code ec;
  double bytes = static_cast<double>(std::filesystem::file_size(a.file, ec));
  Report("J5", a, secs, a.jobs * 9, "write tx",
         {{"reader_ops_per_sec", all.us.size() / secs},
          {"reader_p50_us", all.Pct(0.5)},
          {"reader_p99_us", all.Pct(0.99)},
          {"bytes_per_job", bytes / a.jobs}});
}

// J6: churn, --n rounds of --jobs jobs created (job, evaluation, execution)
// then deleted; then compaction. Reports free pages and sizes.
void J6(const Args& a) {
  double churn_secs = 0, free_pages = 0;
  {
    auto store = bj::JobStore::Open(a.file, Opts(a));
    if (!store.ok()) Die(store.error().ToString());
    auto start = Clock::now();
    for (int64_t round = 0; round < a.n; ++round) {
      for (int64_t k = 0; k < a.jobs; ++k) {
        const int64_t i = round * a.jobs + k;
        const std::string job = JobId(i);
        Must((*store)->CreateJob(JobSpec(job)), "create job");
        Must((*store)->CreateEvaluation(
                 {{"ID", "v-" + job.substr(2)}, {"JobID", job}, {"Status", "pending"}}),
             "eval");
        Must((*store)->CreateExecution(ExecutionDoc(ExecId(i), job)), "exec");
      }
      for (int64_t k = 0; k < a.jobs; ++k)
        Must((*store)->DeleteJob(JobId(round * a.jobs + k)), "delete");
    }
    churn_secs = Since(start);
    free_pages = static_cast<double>((*store)->db().GetStats().free_page_n);
  }
  std::error_code ec;
  const double before = static_cast<double>(std::filesystem::file_size(a.file, ec));
  auto start = Clock::now();
  auto compacted = bj::CompactFile(a.file, std::chrono::milliseconds(1000));
  if (!compacted.ok()) Die(compacted.error().ToString());
  const double compact_secs = Since(start);
  Report("J6", a, churn_secs, a.n * a.jobs * 4, "write tx",
         {{"free_pages", free_pages},
          {"bytes_before_compact", before},
          {"bytes_after_compact", static_cast<double>(compacted->bytes_after)},
          {"compact_seconds", compact_secs}});
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 2)
    Die("usage: jobs_bench j1|j2|load|j3|j4load|j4|j5|j6|j7|synclat --file F [--n N] [--jobs N] "
        "[--clients "
        "C] [--no-sync] "
        "[--decode] [--wal]");
  a.cmd = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string f = argv[i];
    auto val = [&] {
      if (i + 1 >= argc) Die("missing value for " + f);
      return std::string(argv[++i]);
    };
    if (f == "--file")
      a.file = val();
    else if (f == "--n")
      a.n = std::stoll(val());
    else if (f == "--jobs")
      a.jobs = std::stoll(val());
    else if (f == "--clients")
      a.clients = std::stoi(val());
    else if (f == "--no-sync")
      a.no_sync = true;
    else if (f == "--wal")
      a.wal = true;
    else if (f == "--decode")
      a.decode = true;
    else if (f == "--recount")
      a.recount = true;
    else if (f == "--only")
      a.only = val();
    else if (f == "--scan-threads")
      a.scan_threads = std::stoi(val());
    else
      Die("unknown flag " + f);
  }
  if (a.file.empty()) Die("--file is required");
  if (a.cmd == "j1")
    J1(a);
  else if (a.cmd == "j2")
    J2(a);
  else if (a.cmd == "load")
    Load(a);
  else if (a.cmd == "j3")
    J3(a);
  else if (a.cmd == "j7")
    J7(a);
  else if (a.cmd == "j4load")
    J4Load(a);
  else if (a.cmd == "j4")
    J4(a);
  else if (a.cmd == "j5")
    J5(a);
  else if (a.cmd == "j6")
    J6(a);
  else if (a.cmd == "synclat")
    SyncLatency(a);
  else
    Die("unknown workload " + a.cmd);
  return 0;
}
