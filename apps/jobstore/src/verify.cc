// File: apps/jobstore/src/verify.cc
#include "boltpp/jobstore/verify.h"

#include <functional>
#include <map>
#include <set>

#include "boltpp/jobstore/execution_store.h"
#include "boltpp/jobstore/job_store.h"
#include "internal.h"

namespace boltpp::jobstore {

namespace {

using internal::SeqRow;

std::vector<std::string> Keys(Bucket b) {
  std::vector<std::string> out;
  if (!b) return out;
  auto c = b.NewCursor();
  for (auto e = c.First(); e; e = c.Next()) out.emplace_back(e->key);
  return out;
}
std::vector<std::string> SubBuckets(Bucket b) {
  std::vector<std::string> out;
  if (!b) return out;
  auto c = b.NewCursor();
  for (auto e = c.First(); e; e = c.Next()) {
    if (e->is_bucket) out.emplace_back(e->key);
  }
  return out;
}
std::string SeqName(const SeqRow& r) {
  return r.seq ? "#" + std::to_string(r.seq) : "key " + r.key;
}

// Collects problems and, in repair mode, the fixes to run once the scan is
// done (the scan's cursors must not see their own changes).
class Checker {
 public:
  Checker(Tx& tx, bool repair) : tx_(tx), repair_(repair) {}

  void Problem(std::string bucket, std::string key, std::string message) {
    report_.problems.push_back({std::move(bucket), std::move(key), std::move(message)});
  }
  // A problem that repair can fix with `fix`, described by `what`.
  void Fixable(std::string bucket, std::string key, std::string message, std::string what,
               std::function<Status()> fix) {
    if (repair_) {
      fixes_.push_back({std::move(what), std::move(fix)});
    } else {
      Problem(std::move(bucket), std::move(key), std::move(message));
    }
  }

  // Runs the fixes; a failing fix is reported as a problem.
  VerifyReport Finish() {
    for (auto& [what, fix] : fixes_) {
      Status s = fix();
      if (s.ok()) {
        report_.repairs.push_back(what);
      } else {
        Problem("", "", "repair failed: " + what + ": " + s.ToString());
      }
    }
    return std::move(report_);
  }

  // Histories: sequences 1..N without gaps and a bucket sequence that has
  // passed them (or the next append would collide).
  void CheckSequences(const std::string& path, Bucket b, const std::vector<SeqRow>& rows) {
    uint64_t expect = 1;
    for (auto& r : rows) {
      if (r.seq == 0) {
        Problem(path, r.key, "history key is neither 8-byte big-endian nor decimal");
        continue;
      }
      if (r.seq != expect) {
        Problem(path, SeqName(r), "history sequence gap: expected #" + std::to_string(expect));
      }
      expect = r.seq + 1;
    }
    if (!rows.empty() && rows.back().seq > b.Sequence()) {
      Problem(path, SeqName(rows.back()),
              "bucket sequence " + std::to_string(b.Sequence()) + " is behind its keys");
    }
  }

  Tx& tx_;
  bool repair_;
  VerifyReport report_;
  std::vector<std::pair<std::string, std::function<Status()>>> fixes_;
};

// --------------------------------------------------------------- compute ----

void VerifyCompute(Checker& c) {
  Tx& tx = c.tx_;
  const std::string E(kExecutionBucket), H(kExecutionHistoryBucket), I(kExecutionIndexBucket);
  Bucket executions = tx.GetBucket(E), history = tx.GetBucket(H), index = tx.GetBucket(I);
  if (!executions || !history || !index) {
    c.Problem("", "",
              "missing top-level bucket: needs execution, execution-history, execution-index");
    if (!executions) return;
  }
  StateCounts fast{}, decoded{};
  std::map<std::string, std::string> job_of;  // exec -> job
  std::map<std::string, LocalState> state_of;
  auto cur = executions.NewCursor();
  for (auto e = cur.First(); e; e = cur.Next()) {
    const std::string id(e->key);
    if (e->is_bucket) {
      c.Problem(E, id, "unexpected sub-bucket");
      continue;
    }
    auto j = internal::ParseJson(e->value, "execution");
    auto st = j.ok() ? LocalExecutionState::FromJson(*j) : Expected<LocalExecutionState>(j.error());
    if (!st.ok()) {
      c.Problem(E, id, "record does not decode: " + st.error().message());
      continue;
    }
    auto quick = ExtractLocalState(e->value);
    if (quick) fast[std::clamp(int(*quick), 0, kLocalStateCount - 1)]++;
    decoded[std::clamp(int(st->state), 0, kLocalStateCount - 1)]++;
    if (st->id() != id) c.Problem(E, id, "record's Execution.ID is \"" + st->id() + "\"");
    if (int(st->state) < 0 || int(st->state) >= kLocalStateCount) {
      c.Problem(E, id, "State " + std::to_string(int(st->state)) + " is out of range");
    }
    const std::string job = st->job_id();
    job_of[id] = job;
    state_of[id] = st->state;
    Bucket jb = index ? index.GetBucket(job) : Bucket();
    if (index && !(jb && jb.Get(id))) {
      c.Fixable(I + "/" + job, id, "missing index entry for execution " + id,
                "added " + I + "/" + job + "/" + id,
                [&tx, I, job, id] { return internal::PutIndexKey(tx, I, job, id); });
    }
    // History.
    Bucket hb = history ? history.GetBucket(id) : Bucket();
    const std::string hpath = H + "/" + id;
    if (!hb) {
      c.Problem(hpath, "", "execution has no history");
      continue;
    }
    auto rows = internal::ReadSeqRows(hb);
    c.CheckSequences(hpath, hb, rows);
    uint64_t prev_version = 0;
    LocalStateHistory last;
    for (auto& r : rows) {
      auto hj = internal::ParseJson(r.value, "history");
      auto h = hj.ok() ? LocalStateHistory::FromJson(*hj) : Expected<LocalStateHistory>(hj.error());
      if (!h.ok()) {
        c.Problem(hpath, SeqName(r), "history row does not decode");
        continue;
      }
      if (prev_version != 0 && h->new_version != prev_version + 1) {
        c.Problem(
            hpath, SeqName(r),
            "version " + std::to_string(h->new_version) + " after " + std::to_string(prev_version));
      }
      prev_version = h->new_version;
      last = *h;
    }
    if (rows.empty()) {
      c.Problem(hpath, "", "execution has an empty history");
    } else if (last.new_version != st->version || last.new_state != st->state) {
      c.Problem(E, id,
                "record is at version " + std::to_string(st->version) + " state " +
                    std::string(LocalStateName(st->state)) + " but its last history row says " +
                    std::to_string(last.new_version) + " " +
                    std::string(LocalStateName(last.new_state)));
    }
  }
  if (!cur.status().ok()) c.Problem(E, "", "scan stopped: " + cur.status().ToString());
  for (int i = 0; i < kLocalStateCount; ++i) {
    if (fast[i] != decoded[i]) {
      c.Problem(E, "",
                std::string("counter ") + std::string(LocalStateName(LocalState(i))) +
                    ": key scan " + std::to_string(fast[i]) + " != full decode " +
                    std::to_string(decoded[i]));
    }
  }
  // The persisted counters, when trusted (see ReadPersistedCounts), equal the
  // full decode. An untrusted record is no problem: the store recounts at open.
  if (auto persisted = index ? ReadPersistedCounts(tx) : std::nullopt;
      persisted && *persisted != decoded) {
    auto list = [](const StateCounts& n) {
      std::string out;
      for (int i = 0; i < kLocalStateCount; ++i) out += (i ? "," : "") + std::to_string(n[i]);
      return out;
    };
    c.Fixable(
        I, std::string(kCountersKey),
        "persisted counters [" + list(*persisted) + "] != full decode [" + list(decoded) + "]",
        "rewrote " + I + "/" + std::string(kCountersKey),
        [&tx, decoded] { return WritePersistedCounts(tx, decoded); });
  }
  // The real store's live index, when the file has one: exactly the executing records.
  if (Bucket live = tx.GetBucket(kExecutionLiveIndexBucket)) {
    const std::string L(kExecutionLiveIndexBucket);
    for (auto& [id, state] : state_of) {
      if (IsExecuting(state) && !live.Get(id)) {
        c.Fixable(L, id,
                  "executing (" + std::string(LocalStateName(state)) + ") but not in the index",
                  "added " + L + "/" + id, [&tx, L, id] { return tx.GetBucket(L).Put(id, ""); });
      }
    }
    for (auto& id : Keys(live)) {
      auto it = state_of.find(id);
      if (it == state_of.end() || !IsExecuting(it->second)) {
        c.Fixable(L, id,
                  it == state_of.end()
                      ? "orphaned index entry: no execution " + id
                      : "not executing (" + std::string(LocalStateName(it->second)) +
                            ") but in the index",
                  "dropped " + L + "/" + id, [&tx, L, id] { return tx.GetBucket(L).Delete(id); });
      }
    }
  }
  // Index entries point at live records of that job.
  for (auto& job : SubBuckets(index)) {
    for (auto& id : Keys(index.GetBucket(job))) {
      auto it = job_of.find(id);
      if (it == job_of.end() || it->second != job) {
        c.Fixable(I + "/" + job, id,
                  it == job_of.end()
                      ? "orphaned index entry: no execution " + id
                      : "index entry under the wrong job (record says " + it->second + ")",
                  "dropped " + I + "/" + job + "/" + id,
                  [&tx, I, job, id] { return internal::DeleteIndexKey(tx, I, job, id); });
      }
    }
  }
  for (auto& id : SubBuckets(history)) {
    if (!job_of.count(id)) {
      c.Fixable(H + "/" + id, "", "orphaned history: no execution " + id, "dropped " + H + "/" + id,
                [&tx, H, id] { return tx.GetBucket(H).DeleteBucket(id); });
    }
  }
}

// ------------------------------------------------------------- requester ----

struct JobFacts {
  std::string ns;
  std::set<std::string> labels;
  bool terminal = false;
  std::set<std::string> execs, evals;
};

void CheckIndexGroup(Checker& c, const std::string& index, const std::string& group,
                     const std::string& job) {
  Bucket idx = c.tx_.GetBucket(index);
  Bucket g = idx ? idx.GetBucket(group) : Bucket();
  if (!(g && g.Get(job))) {
    Tx& tx = c.tx_;
    c.Fixable(index + "/" + group, job, "missing index entry for job " + job,
              "added " + index + "/" + group + "/" + job,
              [&tx, index, group, job] { return internal::PutIndexKey(tx, index, group, job); });
  }
}

void VerifyJobHistory(Checker& c, const std::string& job_id, Bucket jb, const Json& spec) {
  const std::string path = std::string(kJobsBucket) + "/" + job_id + "/" + std::string(kJobHistory);
  Bucket hb = jb.GetBucket(kJobHistory);
  if (!hb) return c.Problem(path, "", "missing bucket");
  auto rows = internal::ReadSeqRows(hb);
  c.CheckSequences(path, hb, rows);
  int64_t prev = 0;
  for (auto& r : rows) {
    auto j = internal::ParseJson(r.value, "history");
    if (!j.ok()) {
      c.Problem(path, SeqName(r), "history row does not decode");
      continue;
    }
    int64_t rev = Int(*j, "NewRevision");
    if (prev != 0 && rev != prev + 1) {
      c.Problem(path, SeqName(r),
                "revision " + std::to_string(rev) + " after " + std::to_string(prev));
    }
    prev = rev;
  }
  if (rows.empty()) {
    c.Problem(path, "", "job has no history");
  } else if (prev != Int(spec, "Revision")) {
    c.Problem(std::string(kJobsBucket) + "/" + job_id, "spec",
              "Revision " + std::to_string(Int(spec, "Revision")) + " but history ends at " +
                  std::to_string(prev));
  }
}

void VerifyExecutions(Checker& c, const std::string& job_id, Bucket jb, JobFacts& facts) {
  const std::string base = std::string(kJobsBucket) + "/" + job_id + "/";
  std::map<std::string, int64_t> revision_of;
  Bucket eb = jb.GetBucket(kJobExecutions);
  if (!eb) c.Problem(base + std::string(kJobExecutions), "", "missing bucket");
  auto cur = eb ? eb.NewCursor() : Cursor();
  for (auto e = eb ? cur.First() : std::nullopt; e; e = cur.Next()) {
    const std::string id(e->key);
    facts.execs.insert(id);
    auto j = internal::ParseJson(e->value, "execution");
    if (!j.ok()) {
      c.Problem(base + "executions", id, "record does not decode");
      continue;
    }
    if (Str(*j, "ID") != id || Str(*j, "JobID") != job_id) {
      c.Problem(base + "executions", id, "record's ID/JobID do not match its place");
    }
    revision_of[id] = Int(*j, "Revision");
  }
  const std::string path = base + std::string(kJobExecutionHistory);
  Bucket hb = jb.GetBucket(kJobExecutionHistory);
  if (!hb) return c.Problem(path, "", "missing bucket");
  auto rows = internal::ReadSeqRows(hb);
  c.CheckSequences(path, hb, rows);
  std::map<std::string, int64_t> last;
  for (auto& r : rows) {
    auto j = internal::ParseJson(r.value, "history");
    if (!j.ok()) {
      c.Problem(path, SeqName(r), "history row does not decode");
      continue;
    }
    const std::string exec = Str(*j, "ExecutionID");
    int64_t rev = Int(*j, "NewRevision");
    auto it = last.find(exec);
    if (it != last.end() && rev != it->second + 1) {
      c.Problem(path, SeqName(r),
                "execution " + exec + " revision " + std::to_string(rev) + " after " +
                    std::to_string(it->second));
    }
    last[exec] = rev;
  }
  for (auto& [id, rev] : revision_of) {
    auto it = last.find(id);
    if (it == last.end()) {
      c.Problem(path, "", "execution " + id + " has no history");
    } else if (it->second != rev) {
      c.Problem(
          base + "executions", id,
          "Revision " + std::to_string(rev) + " but history ends at " + std::to_string(it->second));
    }
  }
}

void VerifyRequester(Checker& c) {
  Tx& tx = c.tx_;
  Bucket jobs = tx.GetBucket(kJobsBucket);
  std::map<std::string, JobFacts> facts;
  for (auto name :
       {kInProgressIndex, kNamespaceIndex, kTagIndex, kExecutionIndex, kEvaluationIndex}) {
    if (!tx.GetBucket(name)) c.Problem(std::string(name), "", "missing top-level bucket");
  }
  const std::string J(kJobsBucket);
  for (auto& job_id : SubBuckets(jobs)) {
    Bucket jb = jobs.GetBucket(job_id);
    auto raw = jb.Get(kSpecKey);
    if (!raw) {
      c.Problem(J + "/" + job_id, "spec", "job bucket without a spec");
      continue;
    }
    auto spec = internal::ParseJson(*raw, "spec");
    if (!spec.ok()) {
      c.Problem(J + "/" + job_id, "spec", "spec does not decode");
      continue;
    }
    JobFacts& f = facts[job_id];
    if (Str(*spec, "ID") != job_id) c.Problem(J + "/" + job_id, "spec", "spec's ID differs");
    f.ns = Str(*spec, "Namespace");
    if (auto it = spec->find("Labels"); it != spec->end() && it->is_object()) {
      for (auto& [k, v] : it->items()) f.labels.insert(internal::Lower(k));
    }
    auto st = spec->find("State");
    auto state =
        st != spec->end() && st->is_object() ? ParseJobState(Str(*st, "StateType")) : std::nullopt;
    if (!state) c.Problem(J + "/" + job_id, "spec", "unknown job state");
    f.terminal = state && IsTerminal(*state);
    for (auto sub : {kJobExecutions, kJobEvaluations, kJobHistory, kJobExecutionHistory}) {
      if (!jb.GetBucket(sub))
        c.Problem(J + "/" + job_id + "/" + std::string(sub), "", "missing bucket");
    }
    // Index entries this job needs.
    Bucket inprog = tx.GetBucket(kInProgressIndex);
    const std::string IP(kInProgressIndex);
    if (inprog && !f.terminal && !inprog.Get(job_id)) {
      c.Fixable(IP, job_id, "job not terminal but missing from the index",
                "added " + IP + "/" + job_id,
                [&tx, job_id] { return tx.GetBucket(kInProgressIndex).Put(job_id, ""); });
    }
    CheckIndexGroup(c, std::string(kNamespaceIndex), f.ns, job_id);
    for (auto& label : f.labels) CheckIndexGroup(c, std::string(kTagIndex), label, job_id);
    VerifyJobHistory(c, job_id, jb, *spec);
    VerifyExecutions(c, job_id, jb, f);
    for (auto& ev : Keys(jb.GetBucket(kJobEvaluations))) f.evals.insert(ev);
  }
  // idx_inprogress entries.
  const std::string IP(kInProgressIndex);
  for (auto& job_id : Keys(tx.GetBucket(kInProgressIndex))) {
    auto it = facts.find(job_id);
    if (it == facts.end() || it->second.terminal) {
      c.Fixable(IP, job_id,
                it == facts.end() ? "orphaned index entry: no job " + job_id
                                  : "job is terminal but still in progress",
                "dropped " + IP + "/" + job_id,
                [&tx, job_id] { return tx.GetBucket(kInProgressIndex).Delete(job_id); });
    }
  }
  // Grouped indexes: group -> job ids, each must match the job's facts.
  auto check_grouped = [&](std::string_view index_name,
                           const std::function<bool(const JobFacts&, const std::string&)>& holds) {
    const std::string index(index_name);
    Bucket idx = tx.GetBucket(index);
    for (auto& group : SubBuckets(idx)) {
      for (auto& job_id : Keys(idx.GetBucket(group))) {
        auto it = facts.find(job_id);
        if (it == facts.end() || !holds(it->second, group)) {
          c.Fixable(index + "/" + group, job_id,
                    it == facts.end() ? "orphaned index entry: no job " + job_id
                                      : "orphaned index entry: job " + job_id + " has no " + group,
                    "dropped " + index + "/" + group + "/" + job_id, [&tx, index, group, job_id] {
                      return internal::DeleteIndexKey(tx, index, group, job_id);
                    });
        }
      }
    }
  };
  check_grouped(kNamespaceIndex, [](const JobFacts& f, const std::string& g) { return f.ns == g; });
  check_grouped(kTagIndex,
                [](const JobFacts& f, const std::string& g) { return f.labels.count(g) > 0; });
  check_grouped(kExecutionIndex,
                [](const JobFacts& f, const std::string& g) { return f.execs.count(g) > 0; });
  check_grouped(kEvaluationIndex,
                [](const JobFacts& f, const std::string& g) { return f.evals.count(g) > 0; });
  // Every execution / evaluation has exactly one entry naming its job.
  for (auto& [job_id, f] : facts) {
    for (auto [index_name, ids] :
         {std::pair{kExecutionIndex, &f.execs}, std::pair{kEvaluationIndex, &f.evals}}) {
      const std::string index(index_name);
      Bucket idx = tx.GetBucket(index);
      for (auto& id : *ids) {
        Bucket g = idx ? idx.GetBucket(id) : Bucket();
        if (!(g && g.Get(job_id))) {
          c.Fixable(index + "/" + id, job_id, "missing index entry for " + id,
                    "added " + index + "/" + id + "/" + job_id, [&tx, index, id, jid = job_id] {
                      return internal::PutIndexKey(tx, index, id, jid);
                    });
        }
      }
    }
  }
  // Event log: 16-byte keys, strictly increasing sequences.
  Bucket events = tx.GetBucket(kEventsBucket);
  if (events) {
    uint64_t prev = 0;
    auto cur = events.NewCursor();
    for (auto e = cur.First(); e; e = cur.Next()) {
      if (e->key.size() != 16) {
        c.Problem(std::string(kEventsBucket), "",
                  "event key of " + std::to_string(e->key.size()) + " bytes");
        continue;
      }
      uint64_t seq = *ParseSeqKey(e->key.substr(0, 8));
      if (seq <= prev)
        c.Problem(std::string(kEventsBucket), "#" + std::to_string(seq), "sequence not increasing");
      prev = seq;
    }
    if (prev > events.Sequence()) {
      c.Problem(std::string(kEventsBucket), "", "bucket sequence is behind its keys");
    }
  }
}

}  // namespace

std::string_view StoreKindName(StoreKind kind) {
  switch (kind) {
    case StoreKind::kCompute:
      return "compute";
    case StoreKind::kRequester:
      return "requester";
    default:
      return "unknown";
  }
}

StoreKind DetectStoreKind(Tx& tx) {
  if (tx.GetBucket(kExecutionBucket)) return StoreKind::kCompute;
  if (tx.GetBucket(kJobsBucket)) return StoreKind::kRequester;
  return StoreKind::kUnknown;
}

std::string Problem::ToString() const {
  std::string out = bucket.empty() ? "(file)" : bucket;
  if (!key.empty()) out += " " + key;
  return out + ": " + message;
}

VerifyReport VerifyStore(Tx& tx, bool repair) {
  Checker c(tx, repair && tx.Writable());
  c.report_.kind = DetectStoreKind(tx);
  switch (c.report_.kind) {
    case StoreKind::kCompute:
      VerifyCompute(c);
      break;
    case StoreKind::kRequester:
      VerifyRequester(c);
      break;
    default:
      c.Problem("", "", "neither a compute store (execution) nor a requester store (jobs)");
  }
  return c.Finish();
}

Expected<VerifyReport> VerifyFile(const std::string& path, bool repair,
                                  std::chrono::milliseconds lock_timeout) {
  StoreOptions o;
  o.lock_timeout = lock_timeout;
  o.read_only = true;  // verify never creates a file
  if (repair) {
    auto probe = OpenStoreDB(path, o);  // the file must exist
    if (!probe.ok()) return probe.error();
    (void)(*probe)->Close();
    o.read_only = false;
  }
  auto db = OpenStoreDB(path, o);
  if (!db.ok()) return db.error();
  VerifyReport report;
  Status s;
  if (repair) {
    s = (*db)->Update([&](Tx& tx) {
      report = VerifyStore(tx, true);
      return Status::OK();
    });
    if (s.ok()) {
      // What remains after the fixes.
      std::vector<std::string> repairs = std::move(report.repairs);
      s = (*db)->View([&](Tx& tx) {
        report = VerifyStore(tx, false);
        return Status::OK();
      });
      report.repairs = std::move(repairs);
    }
  } else {
    s = (*db)->View([&](Tx& tx) {
      report = VerifyStore(tx, false);
      return Status::OK();
    });
    report.wal_pending_records = (*db)->GetWalInfo().pending_records;
  }
  if (!s.ok()) return Error::FromStatus(s);
  return report;
}

}  // namespace boltpp::jobstore
