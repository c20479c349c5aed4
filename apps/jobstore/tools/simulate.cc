// File: apps/jobstore/tools/simulate.cc
#include "simulate.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "boltpp/jobstore/execution_store.h"
#include "boltpp/jobstore/job_store.h"
#include "boltpp/jobstore/verify.h"

namespace boltpp::jobstore {

namespace {

std::string Uuid(std::mt19937_64& rng) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
    s += hex[rng() & 15];
  }
  return s;
}

// Appends one line per committed transition with write(2): a line present
// in the journal was committed before it was written.
class Journal {
 public:
  explicit Journal(const std::string& path) {
    if (!path.empty()) fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  ~Journal() {
    if (fd_ >= 0) ::close(fd_);
  }
  void Record(char kind, const std::string& id, uint64_t version) {
    if (fd_ < 0) return;
    std::string line = std::string(1, kind) + " " + id + " " + std::to_string(version) + "\n";
    (void)!::write(fd_, line.data(), line.size());
  }

 private:
  int fd_ = -1;
};

struct Counters {
  std::atomic<uint64_t> jobs_done{0}, write_txs{0}, compute_transitions{0}, conflicts{0};
  std::atomic<uint64_t> errors{0};
};

class Client {
 public:
  Client(JobStore& req, ExecutionStore& comp, Journal& journal, Counters& counters, uint64_t seed)
      : req_(req), comp_(comp), journal_(journal), n_(counters), rng_(seed) {}

  // Runs one job from creation to a terminal state.
  void RunJob() {
    const std::string job_id = "j-" + Uuid(rng_);
    const int count = 1 + static_cast<int>(rng_() % 3);
    Json job = {{"ID", job_id},
                {"Name", "sim-" + job_id.substr(2, 8)},
                {"Namespace", rng_() % 4 == 0 ? "team-b" : "default"},
                {"Type", "batch"},
                {"Priority", 0},
                {"Count", count},
                {"Constraints", Json::array()},
                {"Meta", Json::object()},
                {"Labels", {{"sim", "true"}, {rng_() % 2 ? "gpu" : "cpu", "1"}}},
                {"Tasks",
                 Json::array({{{"Name", "main"},
                               {"Engine",
                                {{"Type", "docker"}, {"Params", {{"Image", "ubuntu:22.04"}}}}}}})}};
    if (!Ok(req_.CreateJob(job))) return;
    journal_.Record('j', job_id, 1);
    const std::string eval_id = "v-" + Uuid(rng_);
    Ok(req_.CreateEvaluation({{"ID", eval_id},
                              {"JobID", job_id},
                              {"Namespace", job["Namespace"]},
                              {"TriggeredBy", "job-register"},
                              {"Status", "pending"}}));
    if (rng_() % 20 == 0) {  // the user stops it
      UpdateJob(job_id, JobState::kStopped, "stopped by user");
      n_.jobs_done++;
      return;
    }
    bool all_ok = true;
    for (int i = 0; i < count; ++i)
      all_ok = RunReplica(job_id, job["Namespace"], eval_id) && all_ok;
    UpdateJob(job_id, all_ok ? JobState::kCompleted : JobState::kFailed,
              all_ok ? "all executions completed" : "an execution failed");
    n_.jobs_done++;
  }

 private:
  bool Ok(const Error& e) {
    n_.write_txs++;
    if (e.ok()) return true;
    if (e.code() == Errc::kStorage || e.code() == Errc::kBadRecord) {
      n_.errors++;
      std::fprintf(stderr, "simulate: %s\n", e.ToString().c_str());
    } else {
      n_.conflicts++;
    }
    return false;
  }

  void UpdateJob(const std::string& job_id, JobState to, const std::string& comment) {
    auto job = req_.GetJob(job_id);
    if (!job.ok()) return;
    UpdateJobStateRequest r{job_id, {}, to, comment};
    r.condition.expected_revision = (*job)["Revision"].get<uint64_t>();
    if (Ok(req_.UpdateJobState(r))) journal_.Record('j', job_id, r.condition.expected_revision + 1);
  }

  bool ExecStep(const std::string& id, ExecState from, ExecState to, uint64_t& revision,
                const std::string& comment, int desired = -1) {
    UpdateExecutionRequest r;
    r.execution_id = id;
    r.condition.expected_states = {from};
    r.condition.expected_revision = revision;
    r.new_values = {{"ComputeState", {{"StateType", int(to)}, {"Message", comment}}}};
    if (desired >= 0) r.new_values["DesiredState"] = {{"StateType", desired}, {"Message", comment}};
    r.comment = comment;
    if (!Ok(req_.UpdateExecution(r))) return false;
    journal_.Record('r', id, ++revision);
    return true;
  }

  bool LocalStep(const std::string& id, LocalState from, LocalState to, uint64_t& version,
                 const std::string& comment) {
    UpdateExecutionStateRequest r{id, to, {from}, version, comment};
    if (!Ok(comp_.UpdateExecutionState(r))) return false;
    journal_.Record('c', id, ++version);
    n_.compute_transitions++;
    return true;
  }

  // One replica with up to 2 retries; true when it completed.
  bool RunReplica(const std::string& job_id, const Json& ns, const std::string& eval_id) {
    std::string previous;
    for (int attempt = 0; attempt < 3; ++attempt) {
      const std::string id = "e-" + Uuid(rng_);
      const std::string node = "node-" + std::to_string(rng_() % 4);
      Json exec = {{"ID", id},
                   {"Namespace", ns},
                   {"EvalID", eval_id},
                   {"Name", "main"},
                   {"NodeID", node},
                   {"JobID", job_id},
                   {"Job", nullptr},
                   {"AllocatedResources", {{"Tasks", Json::object()}}},
                   {"DesiredState", {{"StateType", int(DesiredState::kRunning)}, {"Message", ""}}},
                   {"ComputeState", {{"StateType", int(ExecState::kNew)}, {"Message", ""}}},
                   {"PublishedResult", nullptr},
                   {"RunOutput", nullptr},
                   {"PreviousExecution", previous},
                   {"NextExecution", ""},
                   {"FollowupEvalID", ""}};
      if (!Ok(req_.CreateExecution(exec))) return false;
      uint64_t rev = 1, ver = 1;
      journal_.Record('r', id, 1);
      if (!ExecStep(id, ExecState::kNew, ExecState::kAskForBid, rev, "asking for bid"))
        return false;
      LocalExecutionState local;
      local.execution = {{"ID", id}, {"JobID", job_id}, {"NodeID", node}, {"Namespace", ns}};
      local.requester_node_id = "requester-0";
      local.state = LocalState::kCreated;
      local.version = 1;
      if (!Ok(comp_.CreateExecution(local))) return false;
      journal_.Record('c', id, 1);
      n_.compute_transitions++;
      if (rng_() % 10 == 0) {  // the node rejects the bid
        LocalStep(id, LocalState::kCreated, LocalState::kCancelled, ver, "bid rejected");
        ExecStep(id, ExecState::kAskForBid, ExecState::kAskForBidRejected, rev, "bid rejected");
        previous = id;
        continue;
      }
      if (!ExecStep(id, ExecState::kAskForBid, ExecState::kAskForBidAccepted, rev,
                    "bid accepted") ||
          !LocalStep(id, LocalState::kCreated, LocalState::kBidAccepted, ver, "bid accepted") ||
          !ExecStep(id, ExecState::kAskForBidAccepted, ExecState::kBidAccepted, rev, "running")) {
        return false;
      }
      auto job = req_.GetJob(job_id);  // first running execution moves the job to Running
      if (job.ok() && (*job)["State"]["StateType"] == "Pending") {
        UpdateJobStateRequest r{job_id, {}, JobState::kRunning, "execution running"};
        r.condition.expected_state = JobState::kPending;
        if (Ok(req_.UpdateJobState(r))) {
          journal_.Record('j', job_id, (*job)["Revision"].get<uint64_t>() + 1);
        }
      }
      if (!LocalStep(id, LocalState::kBidAccepted, LocalState::kRunning, ver, "running"))
        return false;
      if (rng_() % 10 == 0) {  // the run fails; retry
        LocalStep(id, LocalState::kRunning, LocalState::kFailed, ver, "exit code 1");
        ExecStep(id, ExecState::kBidAccepted, ExecState::kFailed, rev, "exit code 1");
        previous = id;
        continue;
      }
      if (!LocalStep(id, LocalState::kRunning, LocalState::kPublishing, ver, "publishing") ||
          !LocalStep(id, LocalState::kPublishing, LocalState::kCompleted, ver, "completed")) {
        return false;
      }
      return ExecStep(id, ExecState::kBidAccepted, ExecState::kCompleted, rev, "completed");
    }
    return false;
  }

  JobStore& req_;
  ExecutionStore& comp_;
  Journal& journal_;
  Counters& n_;
  std::mt19937_64 rng_;
};

void DrawProgress(uint64_t done, uint64_t total, double seconds) {
  const int width = 40;
  int filled = total ? static_cast<int>(width * done / total) : width;
  std::fprintf(stderr, "\r[%s%s] %llu/%llu jobs %.1fs", std::string(filled, '#').c_str(),
               std::string(width - filled, ' ').c_str(), static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total), seconds);
  std::fflush(stderr);
}

}  // namespace

int RunSimulate(const SimulateOptions& o) {
  StoreOptions so;
  so.lock_timeout = std::chrono::milliseconds(o.lock_timeout_ms);
  so.no_sync = o.no_sync;
  so.wal = o.wal;
  so.batch = o.clients > 1;
  auto req = JobStore::Open(o.requester_path, so);
  if (!req.ok()) {
    std::fprintf(stderr, "boltpp-jobs: %s\n", req.error().message().c_str());
    return 1;
  }
  auto comp = ExecutionStore::Open(o.compute_path, so);
  if (!comp.ok()) {
    std::fprintf(stderr, "boltpp-jobs: %s\n", comp.error().message().c_str());
    return 1;
  }
  Journal journal(o.journal_path);
  Counters counters;
  std::atomic<int> next_job{0};
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      Client client(**req, **comp, journal, counters, o.seed * 1000003 + static_cast<uint64_t>(c));
      while (next_job.fetch_add(1) < o.jobs) client.RunJob();
    });
  }
  std::atomic<bool> finished{false};
  std::thread progress;
  if (o.progress) {
    progress = std::thread([&] {
      while (!finished) {
        DrawProgress(counters.jobs_done, static_cast<uint64_t>(o.jobs), elapsed());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  for (auto& t : threads) t.join();
  finished = true;
  if (progress.joinable()) {
    progress.join();
    DrawProgress(counters.jobs_done, static_cast<uint64_t>(o.jobs), elapsed());
    std::fprintf(stderr, "\n");
  }
  const double secs = elapsed();
  (void)(*req)->Close();
  (void)(*comp)->Close();
  std::printf("jobs: %llu in %.2fs (%.1f jobs/s)\n",
              static_cast<unsigned long long>(counters.jobs_done.load()), secs,
              static_cast<double>(counters.jobs_done) / secs);
  std::printf("write transactions: %llu (%.0f/s), compute transitions: %llu (%.0f/s)\n",
              static_cast<unsigned long long>(counters.write_txs.load()),
              static_cast<double>(counters.write_txs) / secs,
              static_cast<unsigned long long>(counters.compute_transitions.load()),
              static_cast<double>(counters.compute_transitions) / secs);
  std::printf("guard conflicts: %llu, errors: %llu\n",
              static_cast<unsigned long long>(counters.conflicts.load()),
              static_cast<unsigned long long>(counters.errors.load()));
  int status = counters.errors == 0 ? 0 : 1;
  for (const std::string& path : {o.requester_path, o.compute_path}) {
    auto report = VerifyFile(path, false, std::chrono::milliseconds(o.lock_timeout_ms));
    if (!report.ok()) {
      std::printf("verify %s: %s\n", path.c_str(), report.error().message().c_str());
      status = 1;
      continue;
    }
    std::printf("verify %s (%s): %zu problems\n", path.c_str(),
                std::string(StoreKindName(report->kind)).c_str(), report->problems.size());
    for (auto& p : report->problems) std::printf("  %s\n", p.ToString().c_str());
    if (!report->ok()) status = 1;
  }
  return status;
}

}  // namespace boltpp::jobstore
