// File: apps/jobstore/src/execution_store.cc
#include "boltpp/jobstore/execution_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "internal.h"
#include "record_scan.h"

namespace boltpp::jobstore {

using internal::AbortWith;
using internal::StorageError;

namespace {

constexpr std::string_view kCreatedComment = "LocalExecutionState created";

Error LockedError(const std::string& path) {
  return Error(Errc::kLocked, "timed out while opening database, is file " + path + " in use?");
}

struct Buckets {
  Bucket executions, history, index;
};

Buckets GetBuckets(Tx& tx) {
  return {tx.GetBucket(kExecutionBucket), tx.GetBucket(kExecutionHistoryBucket),
          tx.GetBucket(kExecutionIndexBucket)};
}

Expected<LocalExecutionState> DecodeState(std::string_view id, std::string_view text) {
  auto j = internal::ParseJson(text, "execution " + std::string(id));
  if (!j.ok()) return j.error();
  return LocalExecutionState::FromJson(*j);
}

Expected<LocalExecutionState> LoadState(Bucket executions, std::string_view id) {
  auto v = executions ? executions.Get(id) : std::nullopt;
  if (!v) return Error(Errc::kExecutionNotFound, "execution " + std::string(id) + " not found");
  return DecodeState(id, *v);
}

Status PutHistory(Bucket history_root, const LocalStateHistory& h) {
  auto b = history_root.CreateBucketIfNotExists(h.execution_id);
  if (!b.ok()) return b.status();
  return internal::AppendSeq(*b, internal::LocalStateHistoryRecord(h));
}

int Slot(LocalState s) {
  int i = static_cast<int>(s);
  return i >= 0 && i < kLocalStateCount ? i : 0;
}

// After the data writes of one successful operation: keeps the live index (if
// the file has one) and the persisted counters exact. `from`/`to` are the
// execution's state before and after (nullopt: it did not / no longer exists).
// A record that cannot be trusted is rebuilt from a scan of tx, which already
// holds this operation's writes.
Status NoteTransition(Tx& tx, const std::string& id, std::optional<LocalState> from,
                      std::optional<LocalState> to, uint64_t also_current) {
  if (Bucket live = tx.GetBucket(kExecutionLiveIndexBucket)) {
    Status s = to && IsExecuting(*to) ? live.Put(id, "") : live.Delete(id);
    if (!s.ok()) return s;
  }
  auto counts = ReadPersistedCounts(tx, also_current);
  if (counts) {
    if (from) (*counts)[Slot(*from)]--;
    if (to) (*counts)[Slot(*to)]++;
  } else {
    auto scanned = ExecutionStore::CountStates(tx);
    if (!scanned.ok()) return Status(Code::kCorruption, scanned.error().message());
    counts = *scanned;
  }
  return WritePersistedCounts(tx, *counts);
}

}  // namespace

std::optional<StateCounts> ReadPersistedCounts(Tx& tx, uint64_t also_current) {
  Bucket index = tx.GetBucket(kExecutionIndexBucket);
  auto raw = index ? index.Get(kCountersKey) : std::nullopt;
  if (!raw) return std::nullopt;
  // The record as WritePersistedCounts writes it is read directly (every
  // transition reads it); any other form goes through nlohmann.
  auto record = internal::ScanCountersRecord(*raw);
  if (!record) {
    Json j = Json::parse(*raw, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("Tx") || !j["Tx"].is_number_unsigned()) return std::nullopt;
    auto counts = j.find("Counts");
    if (counts == j.end() || !counts->is_array() || counts->size() != kLocalStateCount) {
      return std::nullopt;
    }
    record.emplace();
    record->stamp = j["Tx"].get<uint64_t>();
    for (int i = 0; i < kLocalStateCount; ++i) {
      if (!(*counts)[i].is_number_unsigned()) return std::nullopt;
      record->counts[i] = (*counts)[i].get<uint64_t>();
    }
  }
  const uint64_t stamp = record->stamp;
  const uint64_t last_commit = tx.Writable() ? tx.ID() - 1 : tx.ID();
  const bool current = stamp == last_commit || (tx.Writable() && stamp == tx.ID()) ||
                       (also_current != 0 && stamp == also_current);
  if (!current) return std::nullopt;
  return record->counts;
}

Status WritePersistedCounts(Tx& tx, const StateCounts& counts, uint64_t stamp) {
  Bucket index = tx.GetBucket(kExecutionIndexBucket);
  if (!index) return Status(Code::kBucketNotFound, std::string(kExecutionIndexBucket));
  return index.Put(kCountersKey,
                   internal::WriteCountersRecord(stamp != 0 ? stamp : tx.ID(), counts));
}

Expected<std::unique_ptr<DB>> OpenStoreDB(const std::string& path, const StoreOptions& options) {
  Options o;
  o.timeout =
      options.lock_timeout.count() > 0 ? options.lock_timeout : std::chrono::milliseconds(-1);
  o.read_only = options.read_only;
  o.no_sync = options.no_sync;
  o.wal = options.wal;
  if (options.read_only && !std::filesystem::exists(path)) {
    return Error(Errc::kInvalidArgument, "open " + path + ": no such file");
  }
  auto db = DB::Open(path, o);
  if (!db.ok()) {
    if (db.status().code() == Code::kTimeout) return LockedError(path);
    return Error(Errc::kStorage, "open " + path + ": " + db.status().ToString());
  }
  return std::move(*db);
}

Expected<std::unique_ptr<ExecutionStore>> ExecutionStore::Open(const std::string& path,
                                                               StoreOptions options) {
  auto db = OpenStoreDB(path, options);
  if (!db.ok()) return db.error();
  if (!options.read_only) {
    // Create the buckets only when one is missing (no commit on a plain open).
    bool complete = true;
    Status s = (*db)->View([&](Tx& tx) {
      for (auto name : {kExecutionBucket, kExecutionHistoryBucket, kExecutionIndexBucket}) {
        complete = complete && tx.GetBucket(name);
      }
      return Status::OK();
    });
    if (s.ok() && !complete) {
      s = (*db)->Update([](Tx& tx) -> Status {
        for (auto name : {kExecutionBucket, kExecutionHistoryBucket, kExecutionIndexBucket}) {
          auto b = tx.CreateBucketIfNotExists(name);
          if (!b.ok()) return b.status();
        }
        return Status::OK();
      });
    }
    if (!s.ok()) return StorageError(s);
  }
  std::unique_ptr<ExecutionStore> store(new ExecutionStore(std::move(*db), std::move(options)));
  if (Error e = store->LoadCounters(); !e.ok()) return e;
  if (Error e = store->CheckpointNewLayout(); !e.ok()) return e;
  return store;
}

Error ExecutionStore::LoadCounters() {
  auto start = std::chrono::steady_clock::now();
  std::optional<StateCounts> counts;
  Status s = db_->View([&](Tx& tx) {
    counts = ReadPersistedCounts(tx);
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  counters_from_record_ = counts.has_value();
  if (!counts) {
    // Recount, then persist: no writer can commit in between (the store is
    // not returned yet and the file lock keeps other processes out), so the
    // write transaction's id is the scanned snapshot's + 1.
    auto scanned = CountStatesInParallel(*db_, options_.scan_threads);
    if (!scanned.ok()) return scanned.error();
    counts = *scanned;
    if (!options_.read_only) {
      s = db_->Update([&](Tx& tx) {
        tx.OnCommit([this, txid = tx.ID()] { NoteStamp(txid); });
        return WritePersistedCounts(tx, *counts);
      });
      if (!s.ok()) return StorageError(s);
    }
  }
  for (int i = 0; i < kLocalStateCount; ++i) counts_[i] = static_cast<int64_t>((*counts)[i]);
  scan_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {};
}

ExecutionStore::ExecutionStore(std::unique_ptr<DB> db, StoreOptions options)
    : db_(std::move(db)), options_(std::move(options)) {
  if (options_.batch) {
    group_commit_ = std::make_unique<internal::GroupCommit>(
        *db_, static_cast<size_t>(std::max(1, options_.batch_size)), options_.batch_delay);
  }
}

ExecutionStore::~ExecutionStore() { (void)Close(); }

GroupCommitStats ExecutionStore::group_commit_stats() const {
  return group_commit_ ? group_commit_->stats() : GroupCommitStats{};
}

namespace {

// The txid a checkpoint started after commit `last` takes: the engine puts
// checkpoints on alternating meta pages (txid parity), so it skips one txid
// when last + 1 has the previous checkpoint's parity.
uint64_t NextCheckpointTxid(uint64_t last, uint64_t previous_checkpoint) {
  return (last + 1) % 2 != previous_checkpoint % 2 ? last + 1 : last + 2;
}

}  // namespace

Error ExecutionStore::CheckpointNewLayout() {
  if (!options_.wal || options_.read_only) return {};
  return StorageError(db_->Checkpoint());  // a no-op when nothing was written
}

uint64_t ExecutionStore::StampBeforeCheckpoint(Tx& tx) const {
  if (!options_.wal || options_.read_only) return 0;
  std::lock_guard lock(stamp_mu_);
  if (last_stamp_ == 0) return 0;
  const uint64_t checkpoint = db_->GetWalInfo().checkpoint_txid;
  // Exactly one checkpoint since our last write, and nothing after it.
  const bool only_a_checkpoint =
      checkpoint != checkpoint_at_last_stamp_ &&
      checkpoint == NextCheckpointTxid(last_stamp_, checkpoint_at_last_stamp_) &&
      checkpoint + 1 == tx.ID();
  return only_a_checkpoint ? last_stamp_ : 0;
}

void ExecutionStore::NoteStamp(uint64_t txid) {
  if (!options_.wal || options_.read_only) return;
  const uint64_t checkpoint = db_->GetWalInfo().checkpoint_txid;
  std::lock_guard lock(stamp_mu_);
  if (txid > last_stamp_) {
    last_stamp_ = txid;
    checkpoint_at_last_stamp_ = checkpoint;
  }
}

void ExecutionStore::StampForClosingCheckpoint() {
  if (!options_.wal || options_.read_only) return;
  bool done = false;
  (void)db_->View([&](Tx& tx) {
    // Close checkpoints only when something was committed since the last
    // checkpoint; with nothing since, a current record stays current.
    done = tx.ID() == db_->GetWalInfo().checkpoint_txid && ReadPersistedCounts(tx).has_value();
    return Status::OK();
  });
  if (done) return;
  // Close's checkpoint follows this write (this handle holds the file lock;
  // a timed checkpoint in between takes the same txid). Untrusted records
  // stay as they are: the next open recounts.
  (void)db_->Update([&](Tx& tx) {
    auto counts = ReadPersistedCounts(tx, StampBeforeCheckpoint(tx));
    if (!counts) return Status::OK();
    return WritePersistedCounts(tx, *counts,
                                NextCheckpointTxid(tx.ID(), db_->GetWalInfo().checkpoint_txid));
  });
}

Error ExecutionStore::Close() {
  if (!db_) return {};
  StampForClosingCheckpoint();
  Status s = db_->Close();
  return StorageError(s);
}

int64_t ExecutionStore::Now() const { return options_.clock ? options_.clock() : NowNanos(); }

Expected<StateCounts> ExecutionStore::CountStates(Tx& tx) { return CountRange(tx, "", ""); }

namespace {

// The 8 bytes of key after `skip` as a number (zero-padded), and back.
uint64_t KeyWord(std::string_view key, size_t skip) {
  uint64_t v = 0;
  for (size_t i = skip; i < skip + 8; ++i)
    v = (v << 8) | (i < key.size() ? static_cast<uint8_t>(key[i]) : 0);
  return v;
}
std::string WordKey(std::string_view prefix, uint64_t v) {
  std::string k(prefix);
  for (int shift = 56; shift >= 0; shift -= 8) k += static_cast<char>((v >> shift) & 0xff);
  return k;
}

}  // namespace

Expected<StateCounts> ExecutionStore::CountStatesInParallel(DB& db, int thread_count) {
  // The walk is bound by touching every leaf page of `execution` (values are
  // inline), so it is split into key ranges read by one thread each. Only Open
  // calls this: no writer can run yet, so every read transaction sees the
  // same snapshot.
  const int parts = thread_count > 0
                        ? thread_count
                        : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  std::string first, last;
  Status s = db.View([&](Tx& tx) {
    Bucket b = tx.GetBucket(kExecutionBucket);
    if (!b) return Status::OK();
    auto c = b.NewCursor();
    if (auto e = c.First()) first = std::string(e->key);
    if (auto e = c.Last()) last = std::string(e->key);
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  // Split points between the first and the last key, past their common prefix.
  size_t common = 0;
  while (common < first.size() && common < last.size() && first[common] == last[common]) ++common;
  const uint64_t lo = KeyWord(first, common), hi = KeyWord(last, common);
  std::vector<std::string> bounds = {""};
  for (int i = 1; i < parts && hi > lo; ++i) {
    bounds.push_back(
        WordKey(std::string_view(first).substr(0, common), lo + (hi - lo) / parts * i));
  }
  bounds.push_back("");
  std::vector<Expected<StateCounts>> results(bounds.size() - 1, Error());
  auto count = [&](size_t i) {
    Status st = db.View([&](Tx& tx) {
      results[i] = CountRange(tx, bounds[i], bounds[i + 1]);
      return Status::OK();
    });
    if (!st.ok()) results[i] = StorageError(st);
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < results.size(); ++i) threads.emplace_back(count, i);
  count(0);
  for (auto& t : threads) t.join();
  StateCounts total{};
  for (auto& r : results) {
    if (!r.ok()) return r.error();
    for (int i = 0; i < kLocalStateCount; ++i) total[i] += (*r)[i];
  }
  return total;
}

Expected<StateCounts> ExecutionStore::CountRange(Tx& tx, const std::string& from,
                                                 const std::string& to) {
  StateCounts counts{};
  Bucket executions = tx.GetBucket(kExecutionBucket);
  if (!executions) return counts;
  auto c = executions.NewCursor();
  for (auto e = from.empty() ? c.First() : c.Seek(from); e && (to.empty() || e->key < to);
       e = c.Next()) {
    if (e->is_bucket) continue;
    auto state = ExtractLocalState(e->value);
    if (!state) {
      return Error(Errc::kBadRecord, "execution " + std::string(e->key) + ": no State");
    }
    int i = static_cast<int>(*state);
    counts[i >= 0 && i < kLocalStateCount ? i : 0]++;
  }
  if (!c.status().ok()) return StorageError(c.status());
  return counts;
}

Error ExecutionStore::Write(const std::function<Error(Tx&)>& fn) {
  return internal::RunWrite(*db_, group_commit_.get(), fn);
}

void ExecutionStore::Apply(LocalState from, LocalState to, int64_t delta_from, int64_t delta_to) {
  auto slot = [](LocalState s) {
    int i = static_cast<int>(s);
    return i >= 0 && i < kLocalStateCount ? i : 0;
  };
  if (delta_from) counts_[slot(from)].fetch_add(delta_from, std::memory_order_relaxed);
  if (delta_to) counts_[slot(to)].fetch_add(delta_to, std::memory_order_relaxed);
}

Error ExecutionStore::CreateExecution(LocalExecutionState state) {
  const std::string id = state.id();
  const std::string job_id = state.job_id();
  if (!internal::ValidId(id) || !internal::ValidId(job_id)) {
    return Error(Errc::kInvalidArgument, "execution needs an ID and a JobID without spaces");
  }
  if (state.state != LocalState::kCreated && state.state != LocalState::kBidAccepted) {
    return Error(Errc::kInvalidExecutionState, "execution " + id + ": created in state " +
                                                   std::string(LocalStateName(state.state)) +
                                                   ", expected Created or BidAccepted");
  }
  if (state.version != 1) {
    return Error(Errc::kInvalidExecutionVersion, "execution " + id + ": created with version " +
                                                     std::to_string(state.version) +
                                                     ", expected 1");
  }
  int64_t now = Now();
  if (state.create_time == 0) state.create_time = now;
  if (state.update_time == 0) state.update_time = state.create_time;
  const std::string doc = internal::Dump(state.ToJson());
  LocalStateHistory h{id, LocalState::kUndefined,       state.state,
                      1,  std::string(kCreatedComment), now};
  const LocalState created = state.state;
  return Write([&](Tx& tx) -> Error {
    Buckets b = GetBuckets(tx);
    if (!b.executions || !b.history || !b.index) {
      return Error(Errc::kStorage, "execution store buckets missing (read-only file?)");
    }
    if (b.executions.Get(id)) {
      return Error(Errc::kExecutionAlreadyExists, "execution " + id + " already exists");
    }
    if (Status s = b.executions.Put(id, doc); !s.ok()) return StorageError(s);
    if (Status s = internal::PutIndexKey(tx, kExecutionIndexBucket, job_id, id); !s.ok()) {
      return StorageError(s);
    }
    // A history left behind by an earlier record of the same id starts over.
    if (b.history.GetBucket(id)) {
      if (Status s = b.history.DeleteBucket(id); !s.ok()) return StorageError(s);
    }
    if (Status s = PutHistory(b.history, h); !s.ok()) return StorageError(s);
    if (Status s = NoteTransition(tx, id, std::nullopt, created, StampBeforeCheckpoint(tx));
        !s.ok())
      return StorageError(s);
    tx.OnCommit([this, created, txid = tx.ID()] {
      Apply(created, created, 0, 1);
      NoteStamp(txid);
    });
    return {};
  });
}

Error ExecutionStore::UpdateExecutionState(const UpdateExecutionStateRequest& r) {
  if (r.new_state < LocalState::kCreated || r.new_state > LocalState::kCancelled) {
    return Error(Errc::kInvalidArgument, "execution state " + std::to_string(int(r.new_state)) +
                                             " is not Created..Cancelled");
  }
  return Write([&](Tx& tx) -> Error {
    Buckets b = GetBuckets(tx);
    auto raw = b.executions ? b.executions.Get(r.execution_id) : std::nullopt;
    if (!raw) return Error(Errc::kExecutionNotFound, "execution " + r.execution_id + " not found");
    // The fast path (record_scan.h) reads the guard fields without decoding
    // the record; records it does not take are decoded as before.
    const auto fast = internal::ScanLocalStateRecord(*raw);
    Expected<LocalExecutionState> decoded = Error();
    if (!fast) {
      decoded = DecodeState(r.execution_id, *raw);
      if (!decoded.ok()) return decoded.error();
    }
    const LocalState previous = fast ? LocalState(fast->state) : decoded->state;
    const uint64_t version = fast ? fast->version : decoded->version;
    if (!r.expected_states.empty() && std::find(r.expected_states.begin(), r.expected_states.end(),
                                                previous) == r.expected_states.end()) {
      std::string want;
      for (auto e : r.expected_states)
        want += (want.empty() ? "" : "|") + std::string(LocalStateName(e));
      return Error(Errc::kInvalidExecutionState, "execution " + r.execution_id + " is " +
                                                     std::string(LocalStateName(previous)) +
                                                     ", expected " + want);
    }
    if (r.expected_version != 0 && r.expected_version != version) {
      return Error(Errc::kInvalidExecutionVersion,
                   "execution " + r.execution_id + " is at version " + std::to_string(version) +
                       ", expected " + std::to_string(r.expected_version));
    }
    if (IsTerminal(previous)) {
      return Error(Errc::kExecutionAlreadyTerminal, "execution " + r.execution_id + " is already " +
                                                        std::string(LocalStateName(previous)));
    }
    const int64_t now = Now();
    std::string doc;  // built before the Put, which may move the bytes raw points at
    if (fast) {
      doc = internal::RewriteLocalStateRecord(*fast, static_cast<int>(r.new_state), version + 1,
                                              now, r.comment);
    } else {
      LocalExecutionState& s = *decoded;
      s.state = r.new_state;
      s.version += 1;
      s.update_time = now;
      s.latest_comment = r.comment;
      doc = internal::Dump(s.ToJson());
    }
    if (Status st = b.executions.Put(r.execution_id, doc); !st.ok()) return StorageError(st);
    LocalStateHistory h{r.execution_id, previous, r.new_state, version + 1, r.comment, now};
    if (Status st = PutHistory(b.history, h); !st.ok()) return StorageError(st);
    const LocalState next = r.new_state;
    if (Status st = NoteTransition(tx, r.execution_id, previous, next, StampBeforeCheckpoint(tx));
        !st.ok()) {
      return StorageError(st);
    }
    tx.OnCommit([this, previous, next, txid = tx.ID()] {
      Apply(previous, next, -1, 1);
      NoteStamp(txid);
    });
    return {};
  });
}

Expected<LocalExecutionState> ExecutionStore::GetExecution(const std::string& id) {
  Expected<LocalExecutionState> out = Error();
  Status s = db_->View([&](Tx& tx) {
    out = LoadState(tx.GetBucket(kExecutionBucket), id);
    return Status::OK();
  });
  if (!s.ok()) return StorageError(s);
  return out;
}

Expected<std::vector<LocalExecutionState>> ExecutionStore::GetExecutions(
    const std::string& job_id) {
  std::vector<LocalExecutionState> list;
  Error err;
  Status s = db_->View([&](Tx& tx) {
    Buckets b = GetBuckets(tx);
    Bucket job = b.index ? b.index.GetBucket(job_id) : Bucket();
    if (!job) return Status::OK();
    return job.ForEach([&](const Entry& e) {
      auto st = LoadState(b.executions, e.key);
      if (!st.ok()) {
        // An index key without its record: verify reports it; skip here.
        if (st.error().code() == Errc::kExecutionNotFound) return Status::OK();
        err = st.error();
        return Status(Code::kAborted);
      }
      list.push_back(std::move(*st));
      return Status::OK();
    });
  });
  if (!err.ok()) return err;
  if (!s.ok()) return StorageError(s);
  if (list.empty()) return Error(Errc::kExecutionNotFound, "no executions found for job " + job_id);
  std::stable_sort(list.begin(), list.end(),
                   [](const auto& a, const auto& b) { return a.update_time < b.update_time; });
  return list;
}

Expected<std::vector<ExecutionStore::HistoryDocument>> ExecutionStore::GetExecutionHistoryDocuments(
    const std::string& id) {
  std::vector<HistoryDocument> list;
  Error err;
  Status s = db_->View([&](Tx& tx) {
    Buckets b = GetBuckets(tx);
    if (!b.executions || !b.executions.Get(id)) {
      err = Error(Errc::kExecutionNotFound, "execution " + id + " not found");
      return Status::OK();
    }
    for (auto& row : internal::ReadSeqRows(b.history ? b.history.GetBucket(id) : Bucket())) {
      auto j = internal::ParseJson(row.value, "history of " + id);
      if (!j.ok()) {
        err = j.error();
        return Status::OK();
      }
      list.push_back({row.seq, std::move(*j)});
    }
    return Status::OK();
  });
  if (!err.ok()) return err;
  if (!s.ok()) return StorageError(s);
  return list;
}

Expected<std::vector<LocalStateHistory>> ExecutionStore::GetExecutionHistory(
    const std::string& id) {
  auto docs = GetExecutionHistoryDocuments(id);
  if (!docs.ok()) return docs.error();
  std::vector<LocalStateHistory> list;
  for (auto& d : *docs) {
    auto h = LocalStateHistory::FromJson(d.document);
    if (!h.ok()) return h.error();
    h->seq = d.seq;
    list.push_back(std::move(*h));
  }
  return list;
}

Error ExecutionStore::DeleteExecution(const std::string& id) {
  return Write([&](Tx& tx) -> Error {
    Buckets b = GetBuckets(tx);
    auto current = LoadState(b.executions, id);
    if (!current.ok()) return current.error();
    const std::string job_id = current->job_id();
    if (Status s = b.executions.Delete(id); !s.ok()) return StorageError(s);
    if (Status s = internal::DeleteIndexKey(tx, kExecutionIndexBucket, job_id, id); !s.ok()) {
      return StorageError(s);
    }
    if (b.history.GetBucket(id)) {
      if (Status s = b.history.DeleteBucket(id); !s.ok()) return StorageError(s);
    }
    const LocalState was = current->state;
    if (Status s = NoteTransition(tx, id, was, std::nullopt, StampBeforeCheckpoint(tx)); !s.ok())
      return StorageError(s);
    tx.OnCommit([this, was, txid = tx.ID()] {
      Apply(was, was, -1, 0);
      NoteStamp(txid);
    });
    return {};
  });
}

uint64_t ExecutionStore::GetExecutionCount(LocalState state) const {
  int i = static_cast<int>(state);
  if (i < 0 || i >= kLocalStateCount) return 0;
  return static_cast<uint64_t>(counts_[i].load(std::memory_order_relaxed));
}

StateCounts ExecutionStore::GetCounts() const {
  StateCounts out{};
  for (int i = 0; i < kLocalStateCount; ++i) out[i] = static_cast<uint64_t>(counts_[i].load());
  return out;
}

Expected<std::vector<LocalExecutionState>> ExecutionStore::ListExecutions() {
  std::vector<LocalExecutionState> list;
  Error err;
  Status s = db_->View([&](Tx& tx) {
    Bucket executions = tx.GetBucket(kExecutionBucket);
    if (!executions) return Status::OK();
    return executions.ForEach([&](const Entry& e) {
      if (e.is_bucket) return Status::OK();
      auto st = DecodeState(e.key, e.value);
      if (!st.ok()) {
        err = st.error();
        return Status(Code::kAborted);
      }
      list.push_back(std::move(*st));
      return Status::OK();
    });
  });
  if (!err.ok()) return err;
  if (!s.ok()) return StorageError(s);
  return list;
}

Expected<RestartReport> ExecutionStore::Restart(const RestartPolicy& policy) {
  RestartReport report;
  report.scan_seconds = scan_seconds_;
  auto all = ListExecutions();
  if (!all.ok()) return all.error();
  const int64_t now = Now();
  for (const auto& e : *all) {
    const int64_t age = now - e.update_time;
    const std::string id = e.id();
    if (policy.fail_stuck_after.count() > 0 && !IsTerminal(e.state) &&
        age > policy.fail_stuck_after.count()) {
      UpdateExecutionStateRequest r;
      r.execution_id = id;
      r.new_state = LocalState::kFailed;
      r.expected_states = {e.state};
      r.expected_version = e.version;
      r.comment = "restart: " + std::string(LocalStateName(e.state)) + " for " +
                  std::to_string(age / 1'000'000'000) + "s, moved to Failed";
      Error err = UpdateExecutionState(r);
      if (err.ok()) {
        report.failed.push_back(id);
      } else if (err.code() == Errc::kStorage) {
        return err;
      }
    } else if (policy.delete_terminal_after.count() > 0 && IsTerminal(e.state) &&
               age > policy.delete_terminal_after.count()) {
      Error err = DeleteExecution(id);
      if (err.ok()) {
        report.deleted.push_back(id);
      } else if (err.code() == Errc::kStorage) {
        return err;
      }
    }
  }
  report.counts = GetCounts();
  return report;
}

namespace {

Error SysError(const std::string& what, const std::string& path) {
  return Error(Errc::kStorage, what + " " + path + ": " + std::strerror(errno));
}

// fsync of the directory holding path, so that a rename in it is durable.
Error SyncParentDir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return SysError("open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return SysError("fsync directory", dir);
  return {};
}

// Zeroes both meta pages of the (already unlinked) file behind fd, so that a
// process which opened the old path before the swap and waits for its lock
// fails to open it ("invalid database") instead of writing into a file no
// path names any more.
Error RetireReplacedFile(int fd, uint32_t page_size, const std::string& path) {
  const std::string zeros(2 * static_cast<size_t>(page_size), '\0');
  if (::pwrite(fd, zeros.data(), zeros.size(), 0) != static_cast<ssize_t>(zeros.size()) ||
      ::fdatasync(fd) != 0) {
    return SysError("retire replaced", path);
  }
  return {};
}

}  // namespace

Expected<CompactReport> CompactFile(const std::string& path,
                                    std::chrono::milliseconds lock_timeout) {
  // Order of the swap, and why a crash anywhere leaves a valid file at path:
  //  1. lock path (kLocked after lock_timeout: no other process uses it);
  //  2. copy into <path>.compact.tmp and fdatasync it; its DB keeps that file
  //     locked (a crash here leaves path untouched; the tmp is removed next time);
  //  3. rename tmp over path while both locks are held: path names either the
  //     old or the new file, both complete;
  //  4. fsync the directory, so the rename survives a crash;
  //  5. only then retire the old file (zeroed metas) and release the locks.
  // A process that opened path after step 3 waits on the new file's lock.
  CompactReport report;
  std::error_code ec;
  report.bytes_before = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  if (ec) return Error(Errc::kInvalidArgument, "compact " + path + ": " + ec.message());
  StoreOptions src_options;
  src_options.lock_timeout = lock_timeout;
  auto src = OpenStoreDB(path, src_options);
  if (!src.ok()) return src.error();
  // The inode src holds: nobody can rename over path while we hold its lock.
  const int old_fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (old_fd < 0) return SysError("open", path);
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{old_fd};
  const std::string tmp = path + ".compact.tmp";
  std::filesystem::remove(tmp, ec);
  Options o;
  o.no_sync = true;  // one fdatasync at the end
  auto dst = DB::Open(tmp, o);
  if (!dst.ok()) return StorageError(dst.status());
  Status s = Compact(**dst, **src, 64 << 20);
  // The copy's transaction ids start over: restamp trusted counters (compute
  // files) so the next open still reads them instead of recounting.
  std::optional<StateCounts> counts;
  if (s.ok())
    s = (*src)->View([&](Tx& tx) {
      counts = ReadPersistedCounts(tx);
      return Status::OK();
    });
  if (s.ok() && counts)
    s = (*dst)->Update([&](Tx& tx) { return WritePersistedCounts(tx, *counts); });
  if (s.ok()) s = (*dst)->Sync();
  if (!s.ok()) {
    (void)(*dst)->Close();
    std::filesystem::remove(tmp, ec);
    return StorageError(s);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = SysError("rename " + tmp + " to", path);
    (void)(*dst)->Close();
    std::filesystem::remove(tmp, ec);
    return e;
  }
  if (Error e = SyncParentDir(path); !e.ok()) return e;
  if (Error e = RetireReplacedFile(old_fd, (*src)->GetInfo().page_size, path); !e.ok()) return e;
  (void)(*src)->Close();
  if (Status st = (*dst)->Close(); !st.ok()) return StorageError(st);
  report.bytes_after = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  return report;
}

}  // namespace boltpp::jobstore
