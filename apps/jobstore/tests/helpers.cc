// File: apps/jobstore/tests/helpers.cc
#include "helpers.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace boltpp::jobstore::testing {

namespace {
std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

bool HaveGo() { return std::string(JOBS_GO_FIXTURE).size() > 0; }

std::string GoCheck(const std::string& path) {
  if (!HaveGo()) {
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") return "Go helper jobsfixture was not built";
    return "";
  }
  auto r = Run(std::string(JOBS_GO_FIXTURE) + " check -db '" + path + "'");
  if (r.status == 0) return "";
  return "go check exit " + std::to_string(r.status) + ": " + r.out + r.err;
}

void ExpectSoundFile(const std::string& path, bool expect_verify_clean) {
  {
    Options o;
    o.read_only = true;
    o.timeout = std::chrono::milliseconds(2000);
    auto db = DB::Open(path, o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Status s = (*db)->View([&](Tx& tx) {
      auto errors = tx.Check();
      for (auto& e : errors) ADD_FAILURE() << path << ": Tx::Check: " << e;
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  if (expect_verify_clean) {
    auto report = VerifyFile(path, false, std::chrono::milliseconds(2000));
    ASSERT_TRUE(report.ok()) << report.error().ToString();
    for (auto& p : report->problems) ADD_FAILURE() << path << ": verify: " << p.ToString();
  }
  EXPECT_EQ(GoCheck(path), "") << path;
}

CommandResult Run(const std::string& command) {
  TempDir dir;
  const std::string out = dir.File("out"), err = dir.File("err");
  std::string full = "(" + command + ") >'" + out + "' 2>'" + err + "'";
  int rc = std::system(full.c_str());
  CommandResult r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
  r.out = ReadWhole(out);
  r.err = ReadWhole(err);
  return r;
}

void RunThenCrash(const std::function<bool()>& fn) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(fn() ? 0 : 3);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}

std::string Cli() { return JOBS_CLI; }
std::string TestData(const std::string& name) { return std::string(JOBS_TESTDATA) + "/" + name; }

namespace {
void SnapshotInto(Bucket b, const std::string& indent, std::string& out) {
  out += indent + "seq " + std::to_string(b.Sequence()) + "\n";
  auto c = b.NewCursor();
  for (auto e = c.First(); e; e = c.Next()) {
    out += indent + std::string(e->key);
    if (e->is_bucket) {
      out += "/\n";
      SnapshotInto(b.GetBucket(e->key), indent + "  ", out);
    } else {
      out += " = " + std::string(e->value) + "\n";
    }
  }
}
}  // namespace

std::string SnapshotPath(Tx& tx, const std::vector<std::string>& path) {
  if (path.empty()) return "";
  Bucket b = tx.GetBucket(path[0]);
  for (size_t i = 1; i < path.size() && b; ++i) b = b.GetBucket(path[i]);
  if (!b) {
    // A plain key at the end of the path.
    Bucket parent = tx.GetBucket(path[0]);
    for (size_t i = 1; i + 1 < path.size() && parent; ++i) parent = parent.GetBucket(path[i]);
    auto v = parent && path.size() > 1 ? parent.Get(path.back()) : std::nullopt;
    return v ? "value " + std::string(*v) : "";
  }
  std::string out;
  SnapshotInto(b, "", out);
  return out;
}

StoreOptions TestStoreOptions(FakeClock* clock) {
  StoreOptions o;
  o.lock_timeout = std::chrono::milliseconds(300);
  o.no_sync = true;
  if (clock) o.clock = clock->fn();
  return o;
}

LocalExecutionState NewLocal(const std::string& id, const std::string& job, LocalState state) {
  LocalExecutionState s;
  s.execution = {{"ID", id}, {"Namespace", "default"}, {"JobID", job}, {"NodeID", "node-1"}};
  s.requester_node_id = "requester-0";
  s.state = state;
  s.version = 1;
  return s;
}

Json NewJob(const std::string& id, const std::string& ns, const std::vector<std::string>& labels) {
  Json job = {{"ID", id},
              {"Name", "job " + id.substr(0, 10)},
              {"Namespace", ns},
              {"Type", "batch"},
              {"Priority", 0},
              {"Count", 1},
              {"Constraints", Json::array()},
              {"Meta", Json::object()},
              {"Labels", Json::object()},
              {"Tasks", Json::array({{{"Name", "main"}, {"Engine", {{"Type", "docker"}}}}})}};
  for (auto& l : labels) job["Labels"][l] = "1";
  return job;
}

Json NewExecution(const std::string& id, const std::string& job, const std::string& node) {
  return {{"ID", id},
          {"Namespace", "default"},
          {"EvalID", ""},
          {"Name", "main"},
          {"NodeID", node},
          {"JobID", job},
          {"Job", nullptr},
          {"DesiredState", {{"StateType", 1}, {"Message", ""}}},
          {"ComputeState", {{"StateType", 1}, {"Message", ""}}}};
}

std::string MutateJson(boltpp::testing::Random& rnd, std::string text) {
  if (text.empty()) return text;
  const size_t at = rnd.Uniform(text.size());
  switch (rnd.Uniform(8)) {
    case 0:
      text[at] = static_cast<char>(rnd.Uniform(256));
      break;
    case 1:
      text.insert(at, " ");
      break;
    case 2:
      text.erase(at, 1);
      break;
    case 3:
      text.insert(at, "\\u0041");
      break;
    case 4:
      text.resize(at);
      break;
    case 5:
      text.insert(at, rnd.OneIn(2) ? ".5" : "e1");
      break;
    case 6:
      text.insert(at, "\"CreateTime\":7,");
      break;
    default:
      text.insert(at, "\"ID\":\"x\",");
      break;
  }
  return text;
}

}  // namespace boltpp::jobstore::testing
