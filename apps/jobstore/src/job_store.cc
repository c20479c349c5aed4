// File: apps/jobstore/src/job_store.cc
#include "boltpp/jobstore/job_store.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <optional>
#include <tuple>

#include "internal.h"
#include "record_scan.h"

namespace boltpp::jobstore {

using internal::AbortWith;
using internal::Dump;
using internal::StorageError;

// The events a write transaction produced, dispatched to watchers on commit.
struct JobStore::TxContext {
  std::vector<Event> events;
};

namespace {

constexpr std::string_view kTopBuckets[] = {kJobsBucket,   kInProgressIndex,  kNamespaceIndex,
                                            kTagIndex,     kExecutionIndex,   kEvaluationIndex,
                                            kEventsBucket, kCheckpointsBucket};

JobState StateOfJob(const Json& job) {
  auto it = job.find("State");
  if (it == job.end() || !it->is_object()) return JobState::kUndefined;
  return ParseJobState(Str(*it, "StateType")).value_or(JobState::kUndefined);
}

ExecState ComputeStateOf(const Json& exec) {
  auto it = exec.find("ComputeState");
  if (it == exec.end() || !it->is_object()) return ExecState::kUndefined;
  return ExecState(Int(*it, "StateType"));
}

std::vector<std::string> LabelKeys(const Json& job) {
  std::vector<std::string> keys;
  auto it = job.find("Labels");
  if (it == job.end() || !it->is_object()) return keys;
  for (auto& [k, v] : it->items()) keys.push_back(internal::Lower(k));
  return keys;
}

Error JobNotFound(const std::string& id) {
  return Error(Errc::kJobNotFound, "job " + id + " not found");
}
Error ExecNotFound(const std::string& id) {
  return Error(Errc::kExecutionNotFound, "execution " + id + " not found");
}

Expected<Json> LoadJson(Bucket b, std::string_view key, const std::string& what) {
  auto v = b ? b.Get(key) : std::nullopt;
  if (!v) return Error(Errc::kBadRecord, what + " missing");
  return internal::ParseJson(*v, what);
}

Bucket JobBucket(Tx& tx, const std::string& job_id) {
  Bucket jobs = tx.GetBucket(kJobsBucket);
  return jobs ? jobs.GetBucket(job_id) : Bucket();
}

// The job id an index sub-bucket (idx_executions/<id>, idx_evaluations/<id>)
// points at, or "".
std::string IndexedJob(Tx& tx, std::string_view index, const std::string& id) {
  Bucket idx = tx.GetBucket(index);
  Bucket sub = idx ? idx.GetBucket(id) : Bucket();
  if (!sub) return {};
  auto first = sub.NewCursor().First();
  return first ? std::string(first->key) : std::string();
}

// An execution or evaluation found through its index: index/<id>/<job> ->
// jobs/<job>/<sub>, which must hold id (else `records` is null).
struct IndexedRecord {
  std::string job_id;
  Bucket job;      // jobs/<job_id>
  Bucket records;  // jobs/<job_id>/<sub>, holding id
};
IndexedRecord FindIndexed(Tx& tx, std::string_view index, std::string_view sub,
                          const std::string& id) {
  IndexedRecord r{IndexedJob(tx, index, id), Bucket(), Bucket()};
  r.job = r.job_id.empty() ? Bucket() : JobBucket(tx, r.job_id);
  Bucket records = r.job ? r.job.GetBucket(sub) : Bucket();
  if (records && records.Get(id)) r.records = records;
  return r;
}

// Where executions / evaluations live: index/<id>/<job> and jobs/<job>/<sub>/<id>.
struct RecordKind {
  std::string_view index, sub, noun;
};

// Adds a new record: jobs/<job>/<sub>/<id> = doc and index/<id>/<job>.
// JobNotFound when the job is missing; `exists` when the id is already
// stored or indexed (under any job).
Error PutIndexedRecord(Tx& tx, const RecordKind& kind, const std::string& job_id,
                       const std::string& id, const std::string& doc, Errc exists) {
  Bucket job = JobBucket(tx, job_id);
  if (!job || !job.Get(kSpecKey)) return JobNotFound(job_id);
  Bucket records = job.GetBucket(kind.sub);
  if (!records) {
    return Error(Errc::kBadRecord,
                 "job " + job_id + " has no " + std::string(kind.sub) + " bucket");
  }
  if (records.Get(id) || !IndexedJob(tx, kind.index, id).empty()) {
    return Error(exists, std::string(kind.noun) + " " + id + " already exists");
  }
  if (Status s = records.Put(id, doc); !s.ok()) return StorageError(s);
  if (Status s = internal::PutIndexKey(tx, kind.index, id, job_id); !s.ok()) {
    return StorageError(s);
  }
  return {};
}

// Reads one execution or evaluation through its index, or not_found.
Expected<Json> ReadIndexed(DB& db, const RecordKind& kind, const std::string& id, Error not_found) {
  Expected<Json> out = not_found;
  Status s = db.View([&](Tx& tx) {
    Bucket records = FindIndexed(tx, kind.index, kind.sub, id).records;
    if (records) out = LoadJson(records, id, std::string(kind.noun) + " " + id);
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  return out;
}

// Recursive merge: fields present and non-null in `patch` win.
void MergeOver(Json& base, const Json& patch) {
  if (!patch.is_object()) return;
  for (auto& [k, v] : patch.items()) {
    if (v.is_null()) continue;
    auto it = base.find(k);
    if (v.is_object() && it != base.end() && it->is_object()) {
      MergeOver(*it, v);
    } else {
      base[k] = v;
    }
  }
}

// An execution update may not move the record away from its key (ID, JobID,
// Namespace: a present non-null value must equal the stored one) nor skip
// revisions (a present non-null, non-zero Revision must be stored+1).
Error CheckExecutionPatch(const Json& exec, const Json& patch, uint64_t revision) {
  if (!patch.is_object()) return {};
  for (const char* key : {"ID", "JobID", "Namespace"}) {
    auto it = patch.find(key);
    if (it != patch.end() && !it->is_null() && *it != exec.value(key, Json())) {
      return Error(Errc::kInvalidArgument, std::string("execution update may not change ") + key);
    }
  }
  auto rev = patch.find("Revision");
  if (rev != patch.end() && !rev->is_null() &&
      (!rev->is_number_integer() ||
       (rev->get<int64_t>() != 0 && rev->get<int64_t>() != static_cast<int64_t>(revision + 1)))) {
    return Error(Errc::kInvalidArgument, "execution update Revision must be " +
                                             std::to_string(revision + 1) + " (or absent)");
  }
  return {};
}

bool HasPrefix(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

Expected<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path, StoreOptions options) {
  auto db = OpenStoreDB(path, options);
  if (!db.ok()) return db.error();
  if (!options.read_only) {
    Status s = (*db)->Update([](Tx& tx) -> Status {
      for (auto name : kTopBuckets) {
        auto b = tx.CreateBucketIfNotExists(name);
        if (!b.ok()) return b.status();
      }
      return Status::OK();
    });
    // WAL mode: the buckets reach the data file now, so that after a crash
    // the data file alone is already a requester store.
    if (s.ok() && options.wal) s = (*db)->Checkpoint();
    if (!s.ok()) return StorageError(s);
  }
  return std::unique_ptr<JobStore>(new JobStore(std::move(*db), std::move(options)));
}

JobStore::JobStore(std::unique_ptr<DB> db, StoreOptions options)
    : db_(std::move(db)), options_(std::move(options)) {
  if (options_.batch) {
    group_commit_ = std::make_unique<internal::GroupCommit>(
        *db_, static_cast<size_t>(std::max(1, options_.batch_size)), options_.batch_delay);
  }
}
JobStore::~JobStore() { (void)Close(); }

GroupCommitStats JobStore::group_commit_stats() const {
  return group_commit_ ? group_commit_->stats() : GroupCommitStats{};
}
Error JobStore::Close() { return db_ ? StorageError(db_->Close()) : Error(); }
int64_t JobStore::Now() const { return options_.clock ? options_.clock() : NowNanos(); }

Error JobStore::Write(const std::function<Error(Tx&, TxContext&)>& fn) {
  return internal::RunWrite(*db_, group_commit_.get(), [&](Tx& tx) -> Error {
    auto ctx = std::make_shared<TxContext>();
    Error result = fn(tx, *ctx);
    if (result.ok() && !ctx->events.empty()) {
      tx.OnCommit([this, ctx] { Dispatch(ctx->events); });
    }
    return result;
  });
}

namespace {

// Appends an event in the transaction's own v1_events bucket. object_text
// is Dump(object) (the caller has it already: the record it stored, so the
// object is not encoded twice); op and type are the fixed ASCII names
// ("CREATE", "Job", ...), which JSON writes as they are.
Status AppendEvent(Tx& tx, std::vector<Event>& out, int64_t now, std::string_view op,
                   std::string_view type, std::string_view object_text, Json object) {
  Bucket events = tx.GetBucket(kEventsBucket);
  if (!events) return Status::OK();  // a file opened read-only or by an older store
  auto seq = events.NextSequence();
  if (!seq.ok()) return seq.status();
  // Dump of {"SeqNum","Operation","ObjectType","Object","Timestamp"}.
  std::string doc;
  doc.reserve(object_text.size() + 128);
  doc += "{\"SeqNum\":";
  doc += std::to_string(*seq);
  doc += ",\"Operation\":\"";
  doc += op;
  doc += "\",\"ObjectType\":\"";
  doc += type;
  doc += "\",\"Object\":";
  doc += object_text;
  doc += ",\"Timestamp\":\"";
  doc += FormatRfc3339Nano(now);
  doc += "\"}";
  if (Status s = events.Put(SeqKey(*seq) + SeqKey(static_cast<uint64_t>(now)), doc); !s.ok()) {
    return s;
  }
  out.push_back(Event{*seq, now, std::string(op), std::string(type), std::move(object)});
  return Status::OK();
}

// A stored document and its text as Dump writes it (the stored bytes when
// they are canonical, which is what this store writes).
struct LoadedDoc {
  Json doc;
  std::string text;
};
Expected<LoadedDoc> LoadDoc(Bucket b, std::string_view key, const std::string& what) {
  auto v = b ? b.Get(key) : std::nullopt;
  if (!v) return Error(Errc::kBadRecord, what + " missing");
  if (auto canonical = internal::ParseCanonicalJson(*v)) {
    return LoadedDoc{std::move(*canonical), std::string(*v)};
  }
  auto doc = internal::ParseJson(*v, what);
  if (!doc.ok()) return doc.error();
  std::string text = Dump(*doc);
  return LoadedDoc{std::move(*doc), std::move(text)};
}

Json HistoryRow(bool job_level, const std::string& job_id, const std::string& node_id,
                const std::string& exec_id, const Json& previous, const Json& next,
                uint64_t revision, const std::string& comment, int64_t now) {
  Json h = Json::object();
  h["Type"] = job_level ? "JobLevel" : "ExecutionLevel";
  h["JobID"] = job_id;
  if (!job_level) {
    h["NodeID"] = node_id;
    h["ExecutionID"] = exec_id;
    h["ExecutionState"] = {{"Previous", previous}, {"New", next}};
  } else {
    h["JobState"] = {{"Previous", previous}, {"New", next}};
  }
  h["NewRevision"] = revision;
  h["Comment"] = comment;
  h["Time"] = FormatRfc3339Nano(now);
  return h;
}

}  // namespace

void JobStore::Dispatch(const std::vector<Event>& events) {
  // Callbacks run without watch_mu_ held, so a callback may Watch/Unwatch.
  std::vector<WatchFn> to_call;
  std::vector<const Event*> to_call_with;
  std::unique_lock lock(watch_mu_);
  for (const Event& e : events) {
    unsigned object = e.object_type == "Job"         ? kWatchJob
                      : e.object_type == "Execution" ? kWatchExecution
                                                     : kWatchEvaluation;
    unsigned op = e.operation == "CREATE"   ? kWatchCreate
                  : e.operation == "UPDATE" ? kWatchUpdate
                                            : kWatchDelete;
    for (auto& [id, w] : watchers_) {
      if ((w.objects & object) && (w.operations & op)) {
        to_call.push_back(w.fn);
        to_call_with.push_back(&e);
      }
    }
  }
  lock.unlock();
  for (size_t i = 0; i < to_call.size(); ++i) to_call[i](*to_call_with[i]);
}

int JobStore::Watch(unsigned objects, unsigned operations, WatchFn fn) {
  std::lock_guard lock(watch_mu_);
  int id = next_watch_id_++;
  watchers_[id] = Watcher{objects, operations, std::move(fn)};
  return id;
}

void JobStore::Unwatch(int id) {
  std::lock_guard lock(watch_mu_);
  watchers_.erase(id);
}

// ---------------------------------------------------------------- jobs ----

Error JobStore::CreateJob(Json job) {
  if (!job.is_object()) return Error(Errc::kInvalidArgument, "job is not a JSON object");
  const std::string id = Str(job, "ID");
  if (!internal::ValidId(id)) return Error(Errc::kInvalidArgument, "job ID is blank or has spaces");
  if (Str(job, "Namespace").empty()) job["Namespace"] = "default";
  const std::string ns = Str(job, "Namespace");
  if (!internal::ValidId(ns)) return Error(Errc::kInvalidArgument, "job namespace has spaces");
  const int64_t now = Now();
  job["State"] = {{"StateType", "Pending"}, {"Message", ""}};
  job["Revision"] = 1;
  if (Int(job, "CreateTime") == 0) job["CreateTime"] = now;
  if (Int(job, "ModifyTime") == 0) job["ModifyTime"] = Int(job, "CreateTime");
  const std::string spec = Dump(job);
  const auto labels = LabelKeys(job);
  return Write([&](Tx& tx, TxContext& ctx) -> Error {
    Bucket jobs = tx.GetBucket(kJobsBucket);
    if (!jobs) return Error(Errc::kStorage, "jobs bucket missing (read-only file?)");
    Bucket existing = jobs.GetBucket(id);
    if (existing && existing.Get(kSpecKey)) {
      return Error(Errc::kJobAlreadyExists, "job " + id + " already exists");
    }
    auto b = jobs.CreateBucketIfNotExists(id);
    if (!b.ok()) return StorageError(b.status());
    for (auto sub : {kJobExecutions, kJobEvaluations, kJobHistory, kJobExecutionHistory}) {
      auto s = b->CreateBucketIfNotExists(sub);
      if (!s.ok()) return StorageError(s.status());
    }
    if (Status s = b->Put(kSpecKey, spec); !s.ok()) return StorageError(s);
    if (Status s = tx.GetBucket(kInProgressIndex).Put(id, ""); !s.ok()) return StorageError(s);
    if (Status s = internal::PutIndexKey(tx, kNamespaceIndex, ns, id); !s.ok())
      return StorageError(s);
    for (auto& label : labels) {
      if (Status s = internal::PutIndexKey(tx, kTagIndex, label, id); !s.ok())
        return StorageError(s);
    }
    Json h = HistoryRow(true, id, "", "", "Pending", "Pending", 1, "Job created", now);
    if (Status s = internal::AppendSeq(b->GetBucket(kJobHistory), Dump(h)); !s.ok()) {
      return StorageError(s);
    }
    if (Status s = AppendEvent(tx, ctx.events, now, "CREATE", "Job", spec, job); !s.ok()) {
      return StorageError(s);
    }
    return {};
  });
}

namespace {

// Short ids resolve by a Seek over the jobs bucket.
Expected<std::string> ResolveIn(Tx& tx, const std::string& id) {
  Bucket jobs = tx.GetBucket(kJobsBucket);
  if (!jobs) return JobNotFound(id);
  if (jobs.GetBucket(id)) return id;
  if (id.empty()) return JobNotFound(id);
  std::vector<std::string> hits;
  auto c = jobs.NewCursor();
  for (auto e = c.Seek(id); e && e->key.starts_with(id); e = c.Next()) {
    hits.emplace_back(e->key);
    if (hits.size() > 1) break;
  }
  if (hits.empty()) return JobNotFound(id);
  if (hits.size() > 1) {
    return Error(Errc::kMultipleJobsFound,
                 "multiple jobs found for id " + id + " (" + hits[0] + ", " + hits[1] + ", ...)");
  }
  return hits[0];
}

Expected<Json> LoadSpec(Tx& tx, const std::string& id) {
  Bucket b = JobBucket(tx, id);
  auto text = b ? b.Get(kSpecKey) : std::nullopt;
  if (!text) return JobNotFound(id);
  return internal::ParseJson(*text, "job " + id + " spec");
}

}  // namespace

Expected<std::string> JobStore::ResolveJobId(const std::string& id) {
  Expected<std::string> out = Error();
  Status s = db_->View([&](Tx& tx) {
    out = ResolveIn(tx, id);
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  return out;
}

Expected<Json> JobStore::GetJob(const std::string& id) {
  Expected<Json> out = Error();
  Status s = db_->View([&](Tx& tx) {
    auto full = ResolveIn(tx, id);
    out = full.ok() ? LoadSpec(tx, *full) : Expected<Json>(full.error());
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  return out;
}

namespace {

// The keys of b, in the bucket's (memcmp) order; views valid in the transaction.
std::vector<std::string_view> KeysOf(Bucket b) {
  std::vector<std::string_view> out;
  if (!b) return out;
  auto c = b.NewCursor();
  for (auto e = c.First(); e; e = c.Next()) out.push_back(e->key);
  return out;
}

// The ids a query selects from the indexes: the namespace's (or every job),
// in any of the include tags, in none of the exclude tags; sorted.
std::vector<std::string_view> SelectedJobIds(Tx& tx, const JobQuery& q) {
  using Ids = std::vector<std::string_view>;
  Ids ids;
  if (!q.namespace_name.empty()) {
    Bucket ns = tx.GetBucket(kNamespaceIndex);
    ids = KeysOf(ns ? ns.GetBucket(q.namespace_name) : Bucket());
  } else {
    ids = KeysOf(tx.GetBucket(kJobsBucket));
  }
  Bucket tags = tx.GetBucket(kTagIndex);
  auto tag_ids = [&](const std::string& tag) {
    return KeysOf(tags ? tags.GetBucket(internal::Lower(tag)) : Bucket());
  };
  if (!q.include_tags.empty()) {
    Ids wanted;
    for (auto& t : q.include_tags) {
      Ids merged, more = tag_ids(t);
      std::set_union(wanted.begin(), wanted.end(), more.begin(), more.end(),
                     std::back_inserter(merged));
      wanted = std::move(merged);
    }
    Ids kept;
    std::set_intersection(ids.begin(), ids.end(), wanted.begin(), wanted.end(),
                          std::back_inserter(kept));
    ids = std::move(kept);
  }
  for (auto& t : q.exclude_tags) {
    Ids kept, drop = tag_ids(t);
    std::set_difference(ids.begin(), ids.end(), drop.begin(), drop.end(), std::back_inserter(kept));
    ids = std::move(kept);
  }
  return ids;
}

// A selected job: its spec's text and sort fields, and the document when it
// had to be parsed to read them.
struct ListedJob {
  std::string_view text;
  std::string id;           // Str(spec, "ID")
  int64_t create_time = 0;  // Int(spec, "CreateTime")
  std::optional<Json> doc;
};

}  // namespace

// As v1.2's GetJobs (index sets, every selected spec, sorted, sliced), but
// only the returned page is decoded: the sort fields of the others are read
// from their text (ScanSpecSortKey; a spec it does not take is parsed, so a
// damaged one fails as before, in id order).
Expected<std::vector<Json>> JobStore::GetJobs(const JobQuery& q) {
  std::vector<Json> page;
  Error err;
  Status s = db_->View([&](Tx& tx) {
    Bucket jobs_bucket = tx.GetBucket(kJobsBucket);
    std::vector<ListedJob> jobs;
    for (std::string_view id : SelectedJobIds(tx, q)) {
      Bucket b = jobs_bucket ? jobs_bucket.GetBucket(id) : Bucket();
      auto text = b ? b.Get(kSpecKey) : std::nullopt;
      if (!text) continue;  // stale index: verify reports it
      ListedJob job{*text, {}, 0, std::nullopt};
      if (auto key = internal::ScanSpecSortKey(*text)) {
        job.id = key->id;
        job.create_time = key->create_time;
      } else {
        auto doc = internal::ParseJson(*text, "job " + std::string(id) + " spec");
        if (!doc.ok()) {
          err = doc.error();
          return Status::OK();
        }
        job.id = Str(*doc, "ID");
        job.create_time = Int(*doc, "CreateTime");
        job.doc = std::move(*doc);
      }
      jobs.push_back(std::move(job));
    }
    const bool by_id = q.sort_by == "id";
    std::stable_sort(jobs.begin(), jobs.end(), [&](const ListedJob& a, const ListedJob& b) {
      return by_id ? a.id < b.id : std::tie(a.create_time, a.id) < std::tie(b.create_time, b.id);
    });
    if (q.sort_reverse) std::reverse(jobs.begin(), jobs.end());
    if (q.offset >= jobs.size()) return Status::OK();
    const size_t last =
        q.limit == 0 || q.offset + q.limit >= jobs.size() ? jobs.size() : q.offset + q.limit;
    page.reserve(last - q.offset);
    for (size_t i = q.offset; i < last; ++i) {
      if (jobs[i].doc) {
        page.push_back(std::move(*jobs[i].doc));
        continue;
      }
      auto doc = internal::ParseJson(jobs[i].text, "job spec");  // scanned: parses
      if (!doc.ok()) {
        err = doc.error();
        return Status::OK();
      }
      page.push_back(std::move(*doc));
    }
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  if (!err.ok()) return err;
  return page;
}

Expected<std::vector<Json>> JobStore::GetInProgressJobs() {
  std::vector<Json> jobs;
  Error err;
  Status s = db_->View([&](Tx& tx) {
    Bucket idx = tx.GetBucket(kInProgressIndex);
    if (!idx) return Status::OK();
    auto c = idx.NewCursor();
    for (auto e = c.First(); e; e = c.Next()) {
      auto spec = LoadSpec(tx, std::string(e->key));
      if (spec.ok()) {
        jobs.push_back(std::move(*spec));
      } else if (spec.error().code() != Errc::kJobNotFound) {
        err = spec.error();
        break;
      }
    }
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  if (!err.ok()) return err;
  return jobs;
}

Error JobStore::UpdateJobState(const UpdateJobStateRequest& r) {
  if (r.new_state < JobState::kPending || r.new_state > JobState::kStopped) {
    return Error(Errc::kInvalidArgument,
                 "job state " + std::to_string(int(r.new_state)) + " is not Pending..Stopped");
  }
  return Write([&](Tx& tx, TxContext& ctx) -> Error {
    auto spec = LoadSpec(tx, r.job_id);
    if (!spec.ok()) return spec.error();
    Json& job = *spec;
    const JobState current = StateOfJob(job);
    const uint64_t revision = static_cast<uint64_t>(Int(job, "Revision"));
    const auto& c = r.condition;
    auto state_error = [&](const std::string& expected) {
      return Error(Errc::kInvalidJobState, "job " + r.job_id + " is " +
                                               std::string(JobStateName(current)) + ", expected " +
                                               expected);
    };
    if (c.expected_state && *c.expected_state != current) {
      return state_error(std::string(JobStateName(*c.expected_state)));
    }
    if (std::find(c.unexpected_states.begin(), c.unexpected_states.end(), current) !=
        c.unexpected_states.end()) {
      return state_error("not " + std::string(JobStateName(current)));
    }
    if (c.expected_revision != 0 && c.expected_revision != revision) {
      return Error(Errc::kInvalidJobRevision, "job " + r.job_id + " is at revision " +
                                                  std::to_string(revision) + ", expected " +
                                                  std::to_string(c.expected_revision));
    }
    if (IsTerminal(current)) {
      return Error(Errc::kJobAlreadyTerminal,
                   "job " + r.job_id + " is already " + std::string(JobStateName(current)));
    }
    const int64_t now = Now();
    job["State"] = {{"StateType", JobStateName(r.new_state)}, {"Message", r.comment}};
    job["Revision"] = revision + 1;
    job["ModifyTime"] = now;
    Bucket b = JobBucket(tx, r.job_id);
    const std::string spec_text = Dump(job);
    if (Status s = b.Put(kSpecKey, spec_text); !s.ok()) return StorageError(s);
    if (IsTerminal(r.new_state)) {
      if (Status s = tx.GetBucket(kInProgressIndex).Delete(r.job_id); !s.ok()) {
        return StorageError(s);
      }
    }
    Json h = HistoryRow(true, r.job_id, "", "", JobStateName(current), JobStateName(r.new_state),
                        revision + 1, r.comment, now);
    Bucket history = b.GetBucket(kJobHistory);
    if (!history) return Error(Errc::kBadRecord, "job " + r.job_id + " has no job_history");
    if (Status s = internal::AppendSeq(history, Dump(h)); !s.ok()) return StorageError(s);
    if (Status s = AppendEvent(tx, ctx.events, now, "UPDATE", "Job", spec_text, std::move(job));
        !s.ok()) {
      return StorageError(s);
    }
    return {};
  });
}

Error JobStore::DeleteJob(const std::string& job_id) {
  return Write([&](Tx& tx, TxContext& ctx) -> Error {
    Bucket b = JobBucket(tx, job_id);
    if (!b || !b.Get(kSpecKey)) return JobNotFound(job_id);
    auto spec = LoadDoc(b, kSpecKey, "job " + job_id + " spec");
    if (!spec.ok()) return spec.error();
    std::vector<std::string> execs, evals;
    for (auto [sub, out] :
         {std::pair{kJobExecutions, &execs}, std::pair{kJobEvaluations, &evals}}) {
      Bucket s = b.GetBucket(sub);
      if (!s) continue;
      auto c = s.NewCursor();
      for (auto e = c.First(); e; e = c.Next()) out->emplace_back(e->key);
    }
    if (Status s = tx.GetBucket(kJobsBucket).DeleteBucket(job_id); !s.ok()) return StorageError(s);
    if (Status s = tx.GetBucket(kInProgressIndex).Delete(job_id); !s.ok()) return StorageError(s);
    if (Status s =
            internal::DeleteIndexKey(tx, kNamespaceIndex, Str(spec->doc, "Namespace"), job_id);
        !s.ok()) {
      return StorageError(s);
    }
    for (auto& label : LabelKeys(spec->doc)) {
      if (Status s = internal::DeleteIndexKey(tx, kTagIndex, label, job_id); !s.ok())
        return StorageError(s);
    }
    for (auto& e : execs) {
      if (Status s = internal::DeleteIndexKey(tx, kExecutionIndex, e, job_id); !s.ok())
        return StorageError(s);
    }
    for (auto& e : evals) {
      if (Status s = internal::DeleteIndexKey(tx, kEvaluationIndex, e, job_id); !s.ok())
        return StorageError(s);
    }
    if (Status s =
            AppendEvent(tx, ctx.events, Now(), "DELETE", "Job", spec->text, std::move(spec->doc));
        !s.ok()) {
      return StorageError(s);
    }
    return {};
  });
}

// ---------------------------------------------------------- executions ----

Error JobStore::CreateExecution(Json exec) {
  if (!exec.is_object()) return Error(Errc::kInvalidArgument, "execution is not a JSON object");
  const std::string id = Str(exec, "ID"), job_id = Str(exec, "JobID");
  if (!internal::ValidId(id) || !internal::ValidId(job_id) ||
      !internal::ValidId(Str(exec, "Namespace"))) {
    return Error(Errc::kInvalidArgument,
                 "execution needs ID, Namespace and JobID, without spaces or NUL");
  }
  const int64_t now = Now();
  if (Int(exec, "CreateTime") == 0) exec["CreateTime"] = now;
  if (Int(exec, "ModifyTime") == 0) exec["ModifyTime"] = Int(exec, "CreateTime");
  if (Int(exec, "Revision") == 0) exec["Revision"] = 1;
  const uint64_t revision = static_cast<uint64_t>(Int(exec, "Revision"));
  const std::string doc = Dump(exec);
  return Write([&](Tx& tx, TxContext& ctx) -> Error {
    Bucket job = JobBucket(tx, job_id);
    if (Error e = PutIndexedRecord(tx, {kExecutionIndex, kJobExecutions, "execution"}, job_id, id,
                                   doc, Errc::kExecutionAlreadyExists);
        !e.ok()) {
      return e;
    }
    Json h = HistoryRow(false, job_id, Str(exec, "NodeID"), id, int(ExecState::kNew),
                        int(ComputeStateOf(exec)), revision, "", now);
    if (Status s = internal::AppendSeq(job.GetBucket(kJobExecutionHistory), Dump(h)); !s.ok()) {
      return StorageError(s);
    }
    if (Status s = AppendEvent(tx, ctx.events, now, "CREATE", "Execution", doc, exec); !s.ok()) {
      return StorageError(s);
    }
    return {};
  });
}

Error JobStore::UpdateExecution(const UpdateExecutionRequest& r) {
  return Write([&](Tx& tx, TxContext& ctx) -> Error {
    auto [job_id, job, execs] = FindIndexed(tx, kExecutionIndex, kJobExecutions, r.execution_id);
    if (!execs) return ExecNotFound(r.execution_id);
    auto current = LoadJson(execs, r.execution_id, "execution " + r.execution_id);
    if (!current.ok()) return current.error();
    Json& exec = *current;
    const ExecState state = ComputeStateOf(exec);
    const uint64_t revision = static_cast<uint64_t>(Int(exec, "Revision"));
    const auto& c = r.condition;
    auto state_error = [&] {
      return Error(Errc::kInvalidExecutionState,
                   "execution " + r.execution_id + " is " + std::string(ExecStateName(state)));
    };
    if (!c.expected_states.empty() && std::find(c.expected_states.begin(), c.expected_states.end(),
                                                state) == c.expected_states.end()) {
      return state_error();
    }
    if (c.expected_revision != 0 && c.expected_revision != revision) {
      return Error(Errc::kInvalidExecutionVersion,
                   "execution " + r.execution_id + " is at revision " + std::to_string(revision) +
                       ", expected " + std::to_string(c.expected_revision));
    }
    if (std::find(c.unexpected_states.begin(), c.unexpected_states.end(), state) !=
        c.unexpected_states.end()) {
      return state_error();
    }
    if (IsTerminal(state)) {
      return Error(Errc::kExecutionAlreadyTerminal, "execution " + r.execution_id + " is already " +
                                                        std::string(ExecStateName(state)));
    }
    if (Error e = CheckExecutionPatch(exec, r.new_values, revision); !e.ok()) return e;
    const int64_t now = Now();
    const Json create_time = exec.value("CreateTime", Json(0));
    MergeOver(exec, r.new_values);
    exec["CreateTime"] = create_time;
    if (Int(r.new_values, "Revision") == 0) exec["Revision"] = revision + 1;
    if (Int(r.new_values, "ModifyTime") == 0) exec["ModifyTime"] = now;
    const uint64_t new_revision = static_cast<uint64_t>(Int(exec, "Revision"));
    const std::string doc = Dump(exec);
    if (Status s = execs.Put(r.execution_id, doc); !s.ok()) return StorageError(s);
    Json h = HistoryRow(false, job_id, Str(exec, "NodeID"), r.execution_id, int(state),
                        int(ComputeStateOf(exec)), new_revision, r.comment, now);
    if (Status s = internal::AppendSeq(job.GetBucket(kJobExecutionHistory), Dump(h)); !s.ok()) {
      return StorageError(s);
    }
    if (Status s = AppendEvent(tx, ctx.events, now, "UPDATE", "Execution", doc, std::move(exec));
        !s.ok()) {
      return StorageError(s);
    }
    return {};
  });
}

Expected<Json> JobStore::GetExecution(const std::string& id) {
  return ReadIndexed(*db_, {kExecutionIndex, kJobExecutions, "execution"}, id, ExecNotFound(id));
}

Expected<std::vector<Json>> JobStore::GetExecutions(const std::string& job_id) {
  std::vector<Json> list;
  Error err;
  Status s = db_->View([&](Tx& tx) {
    auto full = ResolveIn(tx, job_id);
    if (!full.ok()) {
      err = full.error();
      return Status::OK();
    }
    Bucket execs = JobBucket(tx, *full).GetBucket(kJobExecutions);
    if (!execs) return Status::OK();
    auto c = execs.NewCursor();
    for (auto e = c.First(); e; e = c.Next()) {
      auto j = internal::ParseJson(e->value, "execution " + std::string(e->key));
      if (!j.ok()) {
        err = j.error();
        break;
      }
      list.push_back(std::move(*j));
    }
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  if (!err.ok()) return err;
  std::stable_sort(list.begin(), list.end(), [](const Json& a, const Json& b) {
    return Int(a, "CreateTime") < Int(b, "CreateTime");
  });
  return list;
}

// --------------------------------------------------------- evaluations ----

Error JobStore::CreateEvaluation(Json eval) {
  const std::string id = Str(eval, "ID"), job_id = Str(eval, "JobID");
  if (!internal::ValidId(id) || !internal::ValidId(job_id)) {
    return Error(Errc::kInvalidArgument, "evaluation needs ID and JobID without spaces");
  }
  if (Int(eval, "CreateTime") == 0) eval["CreateTime"] = Now();
  const std::string doc = Dump(eval);
  return Write([&](Tx& tx, TxContext& ctx) -> Error {
    if (Error e = PutIndexedRecord(tx, {kEvaluationIndex, kJobEvaluations, "evaluation"}, job_id,
                                   id, doc, Errc::kEvaluationAlreadyExists);
        !e.ok()) {
      return e;
    }
    if (Status s = AppendEvent(tx, ctx.events, Now(), "CREATE", "Evaluation", doc, eval); !s.ok()) {
      return StorageError(s);
    }
    return {};
  });
}

Expected<Json> JobStore::GetEvaluation(const std::string& id) {
  return ReadIndexed(*db_, {kEvaluationIndex, kJobEvaluations, "evaluation"}, id,
                     Error(Errc::kEvaluationNotFound, "evaluation " + id + " not found"));
}

Error JobStore::DeleteEvaluation(const std::string& id) {
  return Write([&](Tx& tx, TxContext& ctx) -> Error {
    auto [job_id, job, evals] = FindIndexed(tx, kEvaluationIndex, kJobEvaluations, id);
    if (!evals) {
      return Error(Errc::kEvaluationNotFound, "evaluation " + id + " not found");
    }
    auto eval = LoadDoc(evals, id, "evaluation " + id);
    if (!eval.ok()) return eval.error();
    if (Status s = evals.Delete(id); !s.ok()) return StorageError(s);
    if (Status s = internal::DeleteIndexKey(tx, kEvaluationIndex, id, job_id); !s.ok())
      return StorageError(s);
    if (Status s = AppendEvent(tx, ctx.events, Now(), "DELETE", "Evaluation", eval->text,
                               std::move(eval->doc));
        !s.ok()) {
      return StorageError(s);
    }
    return {};
  });
}

// ------------------------------------------------------------- history ----

Expected<std::vector<Json>> JobStore::GetJobHistory(const std::string& job_id,
                                                    const HistoryQuery& q) {
  // Rows with their time, parsed once (sorting by re-parsing the RFC 3339
  // text in the comparator cost O(n log n) parses per query).
  std::vector<std::pair<int64_t, Json>> timed;
  Error err;
  Status s = db_->View([&](Tx& tx) {
    auto full = ResolveIn(tx, job_id);
    if (!full.ok()) {
      err = full.error();
      return Status::OK();
    }
    Bucket job = JobBucket(tx, *full);
    auto read = [&](std::string_view sub, bool job_level) {
      if (job_level && (!q.execution_id.empty() || !q.node_id.empty())) return;
      const std::string what = "history of " + *full;
      for (auto& row : internal::ReadSeqRowViews(job.GetBucket(sub))) {
        auto j = internal::ParseJson(row.value, what);
        if (!j.ok()) {
          err = j.error();
          return;
        }
        if (!job_level &&
            ((!q.execution_id.empty() && !HasPrefix(Str(*j, "ExecutionID"), q.execution_id)) ||
             (!q.node_id.empty() && !HasPrefix(Str(*j, "NodeID"), q.node_id)))) {
          continue;
        }
        auto time_field = j->find("Time");
        const int64_t time =
            time_field != j->end() && time_field->is_string()
                ? ParseRfc3339(time_field->get_ref<const std::string&>()).value_or(0)
                : 0;
        if (q.since > 0 && time != 0 && time / 1'000'000'000 < q.since) continue;
        timed.emplace_back(time, std::move(*j));
      }
    };
    if (!q.exclude_job_level) read(kJobHistory, true);
    if (!q.exclude_execution_level) read(kJobExecutionHistory, false);
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  if (!err.ok()) return err;
  std::stable_sort(timed.begin(), timed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Json> rows;
  rows.reserve(timed.size());
  for (auto& [time, row] : timed) rows.push_back(std::move(row));
  return rows;
}

// -------------------------------------------------------------- events ----

Expected<std::vector<Event>> JobStore::ReadEvents(uint64_t after, size_t limit) {
  std::vector<Event> out;
  Error err;
  Status s = db_->View([&](Tx& tx) {
    Bucket events = tx.GetBucket(kEventsBucket);
    if (!events) return Status::OK();
    auto c = events.NewCursor();
    for (auto e = c.Seek(SeqKey(after + 1)); e && (limit == 0 || out.size() < limit);
         e = c.Next()) {
      if (e->key.size() != 16) continue;
      auto j = internal::ParseJson(e->value, "event");
      if (!j.ok()) {
        err = j.error();
        break;
      }
      Event ev;
      ev.seq = *ParseSeqKey(e->key.substr(0, 8));
      ev.timestamp = static_cast<int64_t>(*ParseSeqKey(e->key.substr(8, 8)));
      ev.operation = Str(*j, "Operation");
      ev.object_type = Str(*j, "ObjectType");
      ev.object = (*j)["Object"];
      out.push_back(std::move(ev));
    }
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  if (!err.ok()) return err;
  return out;
}

Error JobStore::SetCheckpoint(const std::string& watcher, uint64_t seq) {
  if (watcher.empty()) return Error(Errc::kInvalidArgument, "checkpoint needs a watcher name");
  return Write([&](Tx& tx, TxContext&) -> Error {
    Bucket b = tx.GetBucket(kCheckpointsBucket);
    if (!b) return Error(Errc::kStorage, "checkpoints bucket missing (read-only file?)");
    return StorageError(b.Put(watcher, SeqKey(seq)));
  });
}

Expected<uint64_t> JobStore::GetCheckpoint(const std::string& watcher) {
  uint64_t seq = 0;
  Status s = db_->View([&](Tx& tx) {
    Bucket b = tx.GetBucket(kCheckpointsBucket);
    auto v = b ? b.Get(watcher) : std::nullopt;
    if (v && v->size() == 8) seq = *ParseSeqKey(*v);
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  return seq;
}

Expected<size_t> JobStore::PruneEvents(int64_t older_than) {
  size_t pruned = 0;
  Error err = Write([&](Tx& tx, TxContext&) -> Error {
    pruned = 0;
    Bucket cps = tx.GetBucket(kCheckpointsBucket);
    Bucket events = tx.GetBucket(kEventsBucket);
    if (!cps || !events) return {};
    uint64_t floor = UINT64_MAX;
    auto c = cps.NewCursor();
    for (auto e = c.First(); e; e = c.Next()) {
      if (e->value.size() == 8) floor = std::min(floor, *ParseSeqKey(e->value));
    }
    if (floor == UINT64_MAX) return {};  // no watcher has read anything yet
    auto ec = events.NewCursor();
    for (auto e = ec.First(); e && e->key.size() == 16;) {
      uint64_t seq = *ParseSeqKey(e->key.substr(0, 8));
      int64_t ts = static_cast<int64_t>(*ParseSeqKey(e->key.substr(8, 8)));
      if (seq > floor || ts >= older_than) break;
      if (Status s = ec.Delete(); !s.ok()) return StorageError(s);
      ++pruned;
      e = ec.Next();
    }
    return {};
  });
  if (!err.ok()) return err;
  return pruned;
}

}  // namespace boltpp::jobstore
