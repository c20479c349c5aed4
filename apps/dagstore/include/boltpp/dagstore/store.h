// The DAG store (apps-spec 2): shards = CAR files with a full index each, a
// top-level inverted index (multihash -> shard keys), shard states that
// survive restarts, recovery and GC, all kept in one boltpp file.
//
// Root layout (apps-spec 2.1):
//   <root>/index/.version                  "1"; Open refuses any other version
//   <root>/index/<key>.full.idx            MultihashIndexSorted, identity CIDs kept
//   <root>/transients/transient-<key>.complete   local copies of http:// mounts
//   <root>/datastore/dagstore.db           boltpp file: buckets shards, inverted (with
//                                          shard-ids and shard-keys: entries name shards
//                                          by id), meta, attention (see Restart below),
//                                          idx (--index-in-kv)
//   <root>/.shard-registration-complete    written by `migrate` when it is done
// <key> in file names is the shard key with every byte outside [A-Za-z0-9_-.]
// (and a leading '.') written as %XX (EscapeKey).
//
// Restart: the `shards` bucket is the source of truth and the in-memory
// shard map a cache filled on demand. A persisted attention index (bucket
// `attention`: the keys of the records a restart must reconcile, i.e. not
// Available or lazy New, or holding a transient), written in the same
// transaction as every record, lets Open touch only those shards: its cost
// follows what reconciliation does, not the number of shards.
//
// Concurrency: one mutex-guarded state machine owns every shard's state.
// Every state change is committed to the datastore (one synced write
// transaction; concurrent lazy registrations, and the Available commits of
// concurrent initializations, share one) before the call that made it
// returns, except the in-progress flips New->Initializing and
// Available<->Serving, which are kept in memory and written with the next
// durable write or at Close (a restart turns Serving into Available, and
// Initializing into Available or New, anyway). Slow work (fetch, index) runs outside the mutex,
// on the calling thread, while the shard is Initializing or Recovering,
// states that only that worker may leave.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "boltpp/car/cid.h"
#include "boltpp/car/index.h"
#include "boltpp/car/reader.h"
#include "boltpp/status.h"

namespace boltpp {
class Bucket;
class DB;
class Tx;
}  // namespace boltpp

namespace boltpp::dagstore {
namespace inverted {
class ShardNames;
}  // namespace inverted

enum class ShardState : uint8_t {
  kNew = 0x00,
  kInitializing = 0x01,
  kAvailable = 0x02,
  kServing = 0x03,
  kRecovering = 0x80,
  kErrored = 0xF0,
  kUnknown = 0xFF,
};

// "New", "Initializing", ... ("Unknown" for anything else).
std::string StateName(ShardState s);
// "ShardStateNew", ... (the Go String() form used in error messages).
std::string StateLongName(ShardState s);

// The persisted record (apps-spec 2.2), JSON {"k","u","t","s","l","e"}.
struct ShardRecord {
  std::string key;
  std::string url;        // file:///abs/path.car or http://host:port/path
  std::string transient;  // path of the local copy, or ""
  ShardState state = ShardState::kNew;
  bool lazy = false;
  std::string error;
};
std::string EncodeRecord(const ShardRecord& r);
Result<ShardRecord> DecodeRecord(std::string_view json);

// The shard key as a file-name component (see the layout above).
std::string EscapeKey(std::string_view key);

// The inverted-index value since schema version 2 (docs/dagstore.md,
// "Layout"): uvarint(shard id), repeated; shard-keys maps each id, as
// ShardIdKey(id), to its shard's key.
std::string EncodeIdList(const std::vector<uint64_t>& ids);
// kCorruption (and *ids empty) on a damaged value.
Status DecodeIdListInto(std::string_view bytes, std::vector<uint64_t>* ids);
// An id's key in shard-keys: 8 bytes, big-endian (ids sort as numbers).
std::string ShardIdKey(uint64_t id);

// The inverted-index value of schema version 1: uvarint(len) ++ key,
// repeated (a store written so is converted when it is opened).
std::string EncodeKeyList(const std::vector<std::string>& keys);
Result<std::vector<std::string>> DecodeKeyList(std::string_view bytes);
// The same into *keys, reusing its elements' buffers (no allocation once
// they are large enough). kCorruption on a damaged value.
Status DecodeKeyListInto(std::string_view bytes, std::vector<std::string>* keys);

// A status's text without the code's prefix when it has a detail.
std::string Message(const Status& s);
// True for the "<what> not found" errors (unknown shard, block or CID).
bool IsNotFound(const Status& s);

// What to do at Open with shards found Errored (apps-spec 2.3).
enum class ErroredPolicy { kDoNotRecover, kRecoverOnAcquire, kRecoverNow };

struct StoreOptions {
  std::string root;
  ErroredPolicy errored_policy = ErroredPolicy::kRecoverOnAcquire;
  // Automatic recoveries per shard per process (0 = none); reset on success.
  int max_recover_attempts = 1;
  // Background GC every interval (0 = only on demand).
  std::chrono::milliseconds gc_interval{0};
  // How long after Open the background thread starts the sweep of
  // unreferenced files in index/ and transients/ (0 = at once; at most a
  // year): a daemon can let its first requests through before it lists
  // 1M index files.
  std::chrono::milliseconds sweep_delay{0};
  // Concurrent index generations (0 = unlimited).
  int max_concurrent_index = 5;
  // At Open, initialize eager shards that a restart sent back to New
  // (in the background thread).
  bool requeue_on_start = true;
  // Create the root when it does not exist.
  bool create = true;
  // How long Open waits for the datastore's file lock (another process).
  std::chrono::milliseconds lock_timeout{200};
  // Keep each shard's full index in the datastore (bucket idx/<key>, one
  // write transaction per shard; apps-spec 2.7) instead of index files.
  // Chosen when the store is created (recorded in meta "index"); later
  // opens follow the recorded choice, and asking for it on a store with
  // index files is refused.
  bool index_in_kv = false;
  // HTTP mount: give up when no byte arrives for this long.
  std::chrono::milliseconds http_timeout{10000};
  // Open the datastore in boltpp's WAL mode (Options::wal): a durable commit
  // is one log append and one fdatasync instead of two scattered syncs (data
  // pages, then meta). Every state change is still durable before it is
  // reported. The data file is checkpointed every 16 MiB of log / 10 s and
  // at Close, which removes the log: after a clean close dagstore.db alone
  // is a complete bbolt file. After a crash it is the last checkpoint (a
  // valid bbolt file) and the next open replays the log (WAL or not).
  bool wal = true;
};

struct ShardInfo {
  std::string key;
  ShardState state = ShardState::kNew;
  std::string error;
  std::string url;
  std::string transient;
  bool lazy = false;
  int refs = 0;
};

class DagStore;

// A read snapshot of the inverted index for many lookups in a row: one read
// transaction for all of them instead of one per call, and the caller's
// result vector reused. It pins its snapshot (pages that later commits free
// are not reused while it lives, and Close waits for it), so keep it short:
// one batch of lookups, one request. Not thread-safe; one per thread.
class InvertedSnapshot {
 public:
  InvertedSnapshot(InvertedSnapshot&&) noexcept;
  InvertedSnapshot& operator=(InvertedSnapshot&&) noexcept;
  ~InvertedSnapshot();
  // *keys = the keys of the shards whose index holds `multihash` (raw
  // bytes) in this snapshot; empty when none. kCorruption on a damaged entry.
  Status Lookup(std::string_view multihash, std::vector<std::string>* keys) const;

 private:
  friend class DagStore;
  struct Impl;
  explicit InvertedSnapshot(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A shard held open for reading (the shard is Serving while any accessor
// lives). Destroying it releases the shard.
class ShardAccessor {
 public:
  ~ShardAccessor();
  ShardAccessor(const ShardAccessor&) = delete;
  ShardAccessor& operator=(const ShardAccessor&) = delete;
  const std::string& key() const { return key_; }
  // The path of the CAR bytes (the file itself or its transient copy).
  const std::string& data_path() const { return data_path_; }
  // The block of `cid` (found through the shard index), or kInvalidArgument
  // "block not found in shard".
  Result<std::string> GetBlock(const car::Cid& cid);
  const car::Index& index() const { return *index_; }

 private:
  friend class DagStore;
  ShardAccessor(DagStore* store, std::string key) : store_(store), key_(std::move(key)) {}
  DagStore* store_;
  std::string key_;
  std::string data_path_;
  std::mutex mu_;  // the reader is not thread-safe
  std::unique_ptr<car::CarReader> reader_;
  std::unique_ptr<car::Index> index_;
};

class DagStore {
 public:
  // Opens (creating when allowed) the store at options.root and reconciles
  // the persisted shards (apps-spec 2.3 Start).
  static Result<std::unique_ptr<DagStore>> Open(const StoreOptions& options);
  ~DagStore();  // Close()
  DagStore(const DagStore&) = delete;
  DagStore& operator=(const DagStore&) = delete;
  // Stops the background thread, writes pending Serving/Available flips,
  // closes the datastore. Accessors must be gone.
  Status Close();

  // Registers a new shard (refused when the key exists: "shard already
  // exists"). Lazy: returns once the New record is durable. Eager:
  // initializes in this thread and returns when the shard is Available
  // (OK) or Errored (the error).
  Status RegisterShard(const std::string& key, const std::string& url, bool lazy);
  // Lazily registers many shards in one durable transaction; keys that
  // exist are skipped. Returns how many were added.
  Result<size_t> RegisterLazyBatch(const std::vector<std::pair<std::string, std::string>>& shards);
  // New -> Initializing -> Available (or Errored, returned as the error).
  Status InitializeShard(const std::string& key);
  // Bulk initialization (`initialize-all`): initializes every shard of
  // `keys` (each must be New, as InitializeShard) with `concurrency` workers
  // indexing at once, and commits the Available records and inverted entries
  // of the shards indexed meanwhile together: one committer takes every
  // shard that finished indexing since its last commit and writes them in
  // one transaction (their inverted entries merged in key order), while the
  // workers index the next ones. Each inverted-index page a commit rewrites is
  // then shared by the shards of its group instead of rewritten per shard.
  // on_start(i, key) is called before shard keys[i] starts; on_done(i, key,
  // result) once its result is final: OK only after the commit holding its
  // entries and its Available record returned (a group whose commit fails
  // is retried one shard per transaction, so one bad shard fails alone).
  // interrupted() is asked before each start: once true no shard starts, and
  // the started ones finish. Returns how many shards were started. A crash
  // mid-group leaves the group's shards New or Initializing with their index
  // files, which the next Open reconciles (Available or New).
  struct BulkInitOptions {
    size_t concurrency = 1;  // workers (>= 1)
    // Shards indexed and waiting for a commit at most (workers wait beyond).
    size_t max_pending = 64;
    std::function<bool()> interrupted;
    std::function<void(size_t i, const std::string& key)> on_start;
    std::function<void(size_t i, const std::string& key, const Status& result)> on_done;
    // Where the time went (filled in when InitializeShards returns, if set):
    // the workers' seconds indexing (summed over workers), the committer's
    // seconds in its write transactions (inverted entries, records, commit)
    // and its thread's CPU seconds in them (the rest is waiting, mostly for
    // syncs), and how many it ran (one per group of ready shards, plus one
    // per shard of a group whose commit failed and was retried shard by
    // shard).
    struct Stats {
      double indexing_seconds = 0;
      double committing_seconds = 0;
      double committing_cpu_seconds = 0;
      size_t transactions = 0;
    };
    Stats* stats = nullptr;
  };
  size_t InitializeShards(const std::vector<std::string>& keys, const BulkInitOptions& options);
  // Waits while the shard is Initializing/Recovering; initializes a New
  // shard; Errored fails unless marked for recovery on acquire.
  Result<std::unique_ptr<ShardAccessor>> AcquireShard(const std::string& key);
  // Any state -> Errored with `error`.
  Status FailShard(const std::string& key, const std::string& error);
  // Errored -> Recovering -> Available (or Errored).
  Status RecoverShard(const std::string& key);
  // Removes the shard, its index file, transient and inverted entries.
  // Refused while it is Serving, Initializing or Recovering. Also removes a
  // record Open could not decode.
  Status DestroyShard(const std::string& key);
  // Drops the transients of Available/Errored shards nobody holds, and any
  // unreferenced file in transients/. Returns key -> result.
  std::map<std::string, Status> GC();

  // A record Open could not decode shows as state kUnknown with the
  // decoding error ("record cannot be decoded: ...").
  Result<ShardInfo> GetShardInfo(const std::string& key) const;
  std::vector<ShardInfo> AllShardsInfo() const;  // sorted by key
  // The keys of the shards whose index holds `multihash` (raw bytes).
  Result<std::vector<std::string>> ShardsContainingMultihash(std::string_view multihash) const;
  // A snapshot for many lookups (see InvertedSnapshot).
  Result<InvertedSnapshot> SnapshotInverted() const;
  // The block of `cid` from the first shard that holds it.
  Result<std::string> GetBlock(const car::Cid& cid);

  // The invariants of apps-spec 4.3 plus the datastore's Tx::Check: one
  // line per problem (empty = sound).
  std::vector<std::string> Verify();
  // Waits until no background recovery or re-queued initialization is
  // pending and the sweep of unreferenced files after Open has run (for
  // tests and commands that want a settled state).
  void WaitIdle();
  // Warnings from Open (undecodable records kept, damaged inverted entries
  // converted).
  const std::vector<std::string>& open_warnings() const { return warnings_; }
  // The files the sweep after Open removed as unreferenced, so far: the
  // first kRemovedFilesListed paths, and how many in all (*count): orphaned
  // transients, index files of shards that are gone or New, temporaries of
  // interrupted writes. The sweep runs on the background thread
  // (StoreOptions::sweep_delay); WaitIdle and Verify wait for it; a store
  // closed first stops it (the next Open sweeps again).
  static constexpr size_t kRemovedFilesListed = 1000;
  std::vector<std::string> removed_unreferenced_files(size_t* count = nullptr) const;
  // Meta values (bucket meta).
  Result<std::string> GetMeta(const std::string& name) const;
  Status PutMeta(const std::string& name, const std::string& value);
  // How many automatic recoveries ran in this process (all shards).
  int auto_recoveries() const { return auto_recoveries_.load(); }

  const StoreOptions& options() const { return options_; }
  // The distinct raw multihashes of an index, sorted, as views into one
  // buffer (what the inverted index is written from).
  struct MultihashList {
    // Behind a pointer so that moving the list never moves the bytes the
    // views point into (a short std::string keeps them inline).
    std::unique_ptr<std::string> arena;
    std::vector<std::string_view> sorted;  // into *arena
  };
  static MultihashList ListMultihashes(const car::Index& index);
  std::string IndexPath(const std::string& key) const;
  // Whether shard indexes live in the datastore (see index_in_kv).
  bool index_in_kv() const { return index_in_kv_; }
  // The full index of a shard, from its file or its idx/<key> bucket.
  Result<car::Index> LoadShardIndex(const std::string& key) const;
  std::string TransientPath(const std::string& key) const;
  DB* db() const { return db_.get(); }

 private:
  // A shard's record as kept in memory: the key is the map's (not repeated
  // here), and transient and error, empty for most shards, share one
  // allocation made only when either is set: ~270 instead of ~450 bytes a
  // cached shard (when a restart still loaded every shard, the page faults
  // of that memory dominated it, D4; now only touched shards are cached).
  class MemRecord {
   public:
    ShardState state = ShardState::kNew;
    bool lazy = false;
    std::string url;
    const std::string& transient() const { return extra_ ? extra_->transient : Empty(); }
    const std::string& error() const { return extra_ ? extra_->error : Empty(); }
    void set_transient(std::string transient);
    // The full record of the shard `key`.
    ShardRecord ToRecord(const std::string& key) const;
    // Takes every field of `r` but its key.
    void Assign(ShardRecord r);

   private:
    struct Extra {
      std::string transient, error;
    };
    static const std::string& Empty();
    void SetExtra(std::string transient, std::string error);
    std::unique_ptr<Extra> extra_;
  };
  struct Shard {
    MemRecord record;
    int refs = 0;
    int auto_recover_attempts = 0;
    uint64_t generation = 0;  // bumped whenever a worker's result must be dropped
    bool recover_on_acquire = false;
    // A worker is committing the shard's result outside mu_ (FailShard waits).
    bool committing = false;
  };
  friend class ShardAccessor;

  explicit DagStore(StoreOptions options);
  Status OpenDatastore();
  // Builds the attention index from a scan of every record when the file
  // does not have it (a store written before it existed), once.
  Status EnsureAttentionIndex();
  // The shard `key` from the cache, else loaded from the datastore into it;
  // nullptr when there is no such record (or it cannot be decoded: then it
  // is noted in undecodable_), or when the record cannot be read: then
  // *read_error names the damage ("reading the record of shard K: ..."),
  // else it is OK. Caller holds mu_.
  Shard* FindLocked(const std::string& key, Status* read_error) const;
  std::unique_ptr<car::Index> LoadShardIndex(const std::string& key, Status* status) const;
  Status Reconcile();
  // Writes `records` (and every dirty record) in one synced transaction, plus
  // what `extra` does in it. Caller holds mu_.
  Status PersistLocked(const std::vector<const ShardRecord*>& records,
                       const std::function<Status(Tx&)>& extra = {});
  // One initialization or recovery in flight, through its phases: begun
  // (mu_ held: the shard moved to Initializing/Recovering), built (no lock:
  // fetched, indexed, index file written), ready (mu_ held: `committing`
  // set, `next` is the Available record), committed (WriteJobs, outside
  // mu_), finished (mu_ held: the in-memory record follows the commit).
  struct WorkerJob {
    std::string key, url;
    uint64_t generation = 0;
    ShardRecord next;
    std::unique_ptr<car::Index> index;
    MultihashList multihashes;  // of index
  };
  Status BeginJobLocked(const std::string& key, bool recovering, WorkerJob* job);
  Status BuildJob(WorkerJob& job);
  // OK: the job is ready to commit; else the result to report (the shard
  // is Errored, or its result was dropped).
  Status ReadyJobLocked(std::unique_lock<std::mutex>& lock, WorkerJob& job, const Status& built);
  // The writes of finished jobs: KV indexes, merged inverted entries, records.
  Status WriteJobs(Tx& tx, const std::vector<WorkerJob*>& jobs) const;
  Status FinishJobLocked(std::unique_lock<std::mutex>& lock, WorkerJob& job,
                         const Status& committed);
  // Moves a shard from New/Errored into Initializing/Recovering and runs the
  // worker (fetch + index + inverted) in this thread. lock is held on entry
  // and on return.
  Status RunWorker(std::unique_lock<std::mutex>& lock, const std::string& key, bool recovering);
  Status FailLocked(std::unique_lock<std::mutex>& lock, const std::string& key,
                    const std::string& error);
  void Release(const std::string& key);
  Status DestroyUndecodableLocked(const std::string& key);
  // One transaction deletes the record, the KV index and the inverted
  // entries; then the index file and the transient go.
  Status DropShardLocked(const std::string& key);
  static ShardInfo InfoOf(const std::string& key, const Shard& sh);
  void BackgroundLoop();
  void Enqueue(std::string key, bool recover);
  // Removes the files nobody references (see store.cc); the background
  // thread's first task. lock is held on entry and on return.
  void SweepUnreferencedFiles(std::unique_lock<std::mutex>& lock);
  // Whether the sweep keeps the file at `path`, named `name`, in
  // transients/ or index/: it belongs to a shard whose record wants it, or
  // to one an operation is working on now. records: a read transaction's
  // `shards` bucket, begun under mu_. Caller holds mu_.
  bool KeepsFileLocked(Bucket& records, const std::string& path, const std::string& name,
                       bool index_dir) const;

  StoreOptions options_;
  std::unique_ptr<DB> db_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // a shard left Initializing/Recovering, or work arrived
  // Memory for the shard map's nodes: blocks cut from 2 MiB chunks mapped
  // with MADV_HUGEPAGE (one page fault per chunk where transparent huge
  // pages are enabled, instead of one per 4 KiB, and no malloc per node;
  // a store serving many shards caches one node each), freed blocks reused by size;
  // the chunks are unmapped with the store. Not thread-safe: used under mu_
  // like the map.
  class NodeMemory final : public std::pmr::memory_resource {
   public:
    NodeMemory() = default;
    NodeMemory(const NodeMemory&) = delete;
    NodeMemory& operator=(const NodeMemory&) = delete;
    ~NodeMemory() override;

   private:
    void* do_allocate(size_t bytes, size_t alignment) override;
    void do_deallocate(void* p, size_t bytes, size_t alignment) override;
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
      return this == &other;
    }
    struct FreeBlock {
      FreeBlock* next;
    };
    std::vector<std::pair<size_t, FreeBlock*>> free_;  // block size -> freed blocks
    std::vector<char*> chunks_;
    char* next_ = nullptr;
    char* end_ = nullptr;
  };
  NodeMemory shard_nodes_;  // declared before the map: outlives it
  // The shard cache: the datastore's `shards` bucket is the truth; a shard
  // is loaded here the first time an operation touches it (FindLocked) and
  // stays (never evicted). Open loads only the shards of the attention
  // index; shards that were never touched live only in the datastore, so a
  // cached shard's state is authoritative (in-progress flips are dirty
  // here before they reach the disk) and an uncached one's is its record's.
  // Every cached key has a record (inserted after its commit, erased with it).
  mutable std::pmr::map<std::string, Shard> shards_{&shard_nodes_};
  // Shards whose Serving/Available flip (or re-fetched transient) is not yet
  // written; flushed by the next PersistLocked.
  std::set<std::string> dirty_;
  std::vector<std::string> warnings_;       // written by Open only
  std::vector<std::string> removed_files_;  // by the sweep; guarded by mu_
  size_t removed_files_count_ = 0;          // guarded by mu_
  // Records Open could not decode: key -> why. Kept in the datastore with
  // their index file and transient, listed as Unknown, reported by Verify;
  // only DestroyShard removes them.
  // Filled at Open (the attention index names them) and when a lookup,
  // listing or verify meets one (a record damaged outside the store).
  mutable std::map<std::string, std::string> undecodable_;

  // Index throttle (max_concurrent_index).
  std::mutex throttle_mu_;
  std::condition_variable throttle_cv_;
  int indexing_ = 0;

  // Background work: automatic recovery, re-queued initialization, GC.
  std::thread background_;
  bool stopping_ = false;                            // guarded by mu_
  std::vector<std::pair<std::string, bool>> queue_;  // (key, recover); guarded by mu_
  int busy_ = 0;               // queue items or the sweep running; guarded by mu_
  bool sweep_pending_ = true;  // SweepUnreferencedFiles has not finished; guarded by mu_
  std::atomic<int> auto_recoveries_{0};
  bool closed_ = false;
  bool index_in_kv_ = false;  // set by OpenDatastore
  // The keys of the inverted index's shard ids, for every lookup.
  std::unique_ptr<inverted::ShardNames> shard_names_;

  // Group commit of lazy registrations (LevelDB's writer queue): a writer
  // that finds no grouped commit running commits every queued write in one
  // transaction; writers arriving meanwhile go into the next one. A lone
  // caller never waits; concurrent callers share the fsyncs.
  struct GroupedWrite {
    const std::function<Status(Tx&)>* fn;
    Status result;
    bool done = false;
  };
  Status CommitGrouped(const std::function<Status(Tx&)>& fn);
  std::mutex group_mu_;
  std::condition_variable group_cv_;
  std::deque<GroupedWrite*> group_queue_;
  bool group_committing_ = false;
  std::set<std::string> registering_;  // lazy keys being committed; guarded by mu_
};

}  // namespace boltpp::dagstore
