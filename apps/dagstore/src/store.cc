// The DAG store's state machine (apps-spec 2.3), restart reconciliation,
// recovery, destroy and GC. See store.h for the concurrency contract.
#include "boltpp/dagstore/store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "boltpp/boltpp.h"
#include "boltpp/car/file_io.h"
#include "boltpp/car/index.h"
#include "boltpp/car/reader.h"
#include "boltpp/car/varint.h"
#include "internal.h"
#include "inverted.h"
#include "mount.h"

namespace fs = std::filesystem;

namespace boltpp::dagstore {

std::string Message(const Status& s) { return s.detail().empty() ? s.ToString() : s.detail(); }
Status NotFound(const std::string& what) {
  return Status(Code::kInvalidArgument, what + " not found");
}
bool IsNotFound(const Status& s) {
  return s.code() == Code::kInvalidArgument && s.detail().ends_with(" not found");
}
Status Refused(const std::string& why) { return Status(Code::kAborted, why); }
// What to report when FindLocked found no shard `key`: its read error, if any.
Status NoShard(const std::string& key, const Status& read_error) {
  return read_error.ok() ? NotFound("shard " + key) : read_error;
}

std::string MultihashOf(const car::IndexEntry& e) {
  std::string mh;
  car::AppendUvarint(&mh, e.hash_code);
  car::AppendUvarint(&mh, e.digest.size());
  mh.append(reinterpret_cast<const char*>(e.digest.data()), e.digest.size());
  return mh;
}

std::vector<std::string> SortedMultihashes(const car::Index& index) {
  std::vector<std::string> out;
  out.reserve(index.record_count());
  index.ForEach([&](const car::IndexEntry& e) {
    out.push_back(MultihashOf(e));
    return true;
  });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool NeedsAttention(const ShardRecord& r) {
  if (!r.transient.empty()) return true;
  if (r.state == ShardState::kAvailable) return false;
  return !(r.state == ShardState::kNew && r.lazy);
}

car::ReadOptions ShardReadOptions() {
  car::ReadOptions o;
  o.zero_length_section_as_eof = true;  // Filecoin pieces are zero-padded CARs
  return o;
}

namespace {

// The calling thread's CPU seconds so far.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

constexpr std::string_view kShards = "shards";
constexpr std::string_view kMeta = "meta";
constexpr std::string_view kIndexSuffix = ".full.idx";
constexpr std::string_view kIdx = "idx";

// The restart's attention index: shard key -> "" for every record that
// NeedsAttention, written with the record (RecordWriter). meta "attention"
// = "1" says the bucket is complete; a store without it (written before it
// existed) gets it built at Open from one scan (EnsureAttentionIndex).
constexpr std::string_view kAttention = "attention";
constexpr std::string_view kAttentionBuilt = "attention";

// Every write of a shard record goes through this: the record and its
// attention entry change in the same transaction.
class RecordWriter {
 public:
  explicit RecordWriter(Tx& tx)
      : records_(tx.GetBucket(kShards)), attention_(tx.GetBucket(kAttention)) {}
  Status Put(const ShardRecord& r) {
    if (Status s = records_.Put(r.key, EncodeRecord(r)); !s.ok()) return s;
    if (NeedsAttention(r)) return attention_.Put(r.key, "");
    return attention_.Get(r.key) ? attention_.Delete(r.key) : Status::OK();
  }
  Status Delete(const std::string& key) {
    if (Status s = records_.Delete(key); !s.ok()) return s;
    return attention_.Get(key) ? attention_.Delete(key) : Status::OK();
  }

 private:
  Bucket records_, attention_;
};

// The key whose EscapeKey is `file_name`, or nullopt when no key spells it so
// (only the canonical spelling counts).
std::optional<std::string> UnescapeKey(std::string_view file_name) {
  std::string key;
  key.reserve(file_name.size());
  for (size_t i = 0; i < file_name.size(); i++) {
    if (file_name[i] != '%') {
      key.push_back(file_name[i]);
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= file_name.size()) return std::nullopt;
    auto [end, ec] = std::from_chars(file_name.data() + i + 1, file_name.data() + i + 3, value, 16);
    if (ec != std::errc() || end != file_name.data() + i + 3) return std::nullopt;
    key.push_back(static_cast<char>(value));
    i += 2;
  }
  if (EscapeKey(key) != file_name) return std::nullopt;  // only the canonical spelling
  return key;
}

// The shard key whose index file is `file_name` (the inverse of EscapeKey
// plus the suffix), or nullopt when no key's IndexPath has this name.
std::optional<std::string> KeyOfIndexFile(std::string_view file_name) {
  if (!file_name.ends_with(kIndexSuffix)) return std::nullopt;
  file_name.remove_suffix(kIndexSuffix.size());
  return UnescapeKey(file_name);
}

// The shard key whose transient (transient-<key>.complete) or download
// (transient-<key>.partial-<n>) is `file_name`, or nullopt.
std::optional<std::string> KeyOfTransientFile(std::string_view file_name) {
  constexpr std::string_view kPrefix = "transient-", kComplete = ".complete",
                             kPartial = ".partial-";
  if (!file_name.starts_with(kPrefix)) return std::nullopt;
  file_name.remove_prefix(kPrefix.size());
  if (file_name.ends_with(kComplete)) {
    file_name.remove_suffix(kComplete.size());
  } else {
    const size_t at = file_name.rfind(kPartial);
    if (at == std::string_view::npos) return std::nullopt;
    file_name = file_name.substr(0, at);
  }
  return UnescapeKey(file_name);
}
// meta "index": where shard indexes live, "file" (default) or "kv".
constexpr std::string_view kIndexMode = "index";

// The KV form of a shard index (apps-spec 2.7, --index-in-kv): bucket
// idx/<key>, multihash -> uvarint(offset) for every section holding it
// (duplicates repeat), written in key order into full pages.
Status PutKvIndex(Tx& tx, const std::string& key, const car::Index& index) {
  Bucket idx = tx.GetBucket(kIdx);
  if (idx.GetBucket(key)) {
    if (Status s = idx.DeleteBucket(key); !s.ok()) return s;
  }
  auto shard = idx.CreateBucket(key);
  if (!shard.ok()) return shard.status();
  shard->SetFillPercent(1.0);  // keys go in sorted: no page is split twice
  std::vector<std::pair<std::string, uint64_t>> records;
  records.reserve(index.record_count());
  index.ForEach([&](const car::IndexEntry& e) {
    records.emplace_back(MultihashOf(e), e.offset);
    return true;
  });
  std::sort(records.begin(), records.end());
  std::string value;
  for (size_t i = 0; i < records.size();) {
    value.clear();
    size_t j = i;
    for (; j < records.size() && records[j].first == records[i].first; j++) {
      car::AppendUvarint(&value, records[j].second);
    }
    if (Status s = shard->Put(records[i].first, value); !s.ok()) return s;
    i = j;
  }
  return Status::OK();
}

Status DeleteKvIndex(Tx& tx, const std::string& key) {
  Bucket idx = tx.GetBucket(kIdx);
  return idx.GetBucket(key) ? idx.DeleteBucket(key) : Status::OK();
}

// Splits a raw multihash into its code and digest.
bool SplitMultihash(std::string_view mh, uint64_t* code, std::span<const uint8_t>* digest) {
  const auto* p = reinterpret_cast<const uint8_t*>(mh.data());
  car::VarintError err;
  const size_t a = car::DecodeUvarint(p, mh.size(), code, &err);
  if (a == 0) return false;
  uint64_t len = 0;
  const size_t b = car::DecodeUvarint(p + a, mh.size() - a, &len, &err);
  if (b == 0 || a + b + len != mh.size()) return false;
  *digest = {p + a + b, static_cast<size_t>(len)};
  return true;
}

// Rebuilds the car::Index of a shard from its idx/<key> bucket.
Result<car::Index> KvIndexOf(Tx& tx, const std::string& key) {
  Bucket shard = tx.GetBucket(kIdx).GetBucket(key);
  if (!shard) return Status(Code::kIOError, "index bucket idx/" + key + " is missing");
  car::IndexBuilder builder;
  Status s = shard.ForEach([&](const Entry& e) {
    uint64_t code = 0;
    std::span<const uint8_t> digest;
    if (!SplitMultihash(e.key, &code, &digest) || e.value.empty()) {
      return Status(Code::kCorruption, "index bucket idx/" + key + ": damaged record");
    }
    const auto* p = reinterpret_cast<const uint8_t*>(e.value.data());
    for (size_t at = 0; at < e.value.size();) {
      uint64_t offset = 0;
      car::VarintError err;
      const size_t n = car::DecodeUvarint(p + at, e.value.size() - at, &offset, &err);
      if (n == 0) return Status(Code::kCorruption, "index bucket idx/" + key + ": damaged offset");
      builder.Add(code, digest, offset);
      at += n;
    }
    return Status::OK();
  });
  if (!s.ok()) return s;
  const std::string bytes = builder.Serialize();
  return car::Index::Parse({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

}  // namespace

DagStore::MultihashList DagStore::ListMultihashes(const car::Index& index) {
  MultihashList list;
  list.arena = std::make_unique<std::string>();
  std::string& arena = *list.arena;
  std::vector<std::pair<uint32_t, uint32_t>> spans;  // (offset, size) in arena
  spans.reserve(index.record_count());
  arena.reserve(index.record_count() * 36);  // sha2-256: 34 bytes
  index.ForEach([&](const car::IndexEntry& e) {
    const size_t at = arena.size();
    car::AppendUvarint(&arena, e.hash_code);
    car::AppendUvarint(&arena, e.digest.size());
    arena.append(reinterpret_cast<const char*>(e.digest.data()), e.digest.size());
    spans.emplace_back(static_cast<uint32_t>(at), static_cast<uint32_t>(arena.size() - at));
    return true;
  });
  list.sorted.reserve(spans.size());
  for (auto [at, size] : spans) list.sorted.emplace_back(arena.data() + at, size);
  // The index lists each code's and width's digests in order: usually sorted.
  if (!std::is_sorted(list.sorted.begin(), list.sorted.end())) {
    std::sort(list.sorted.begin(), list.sorted.end());
  }
  list.sorted.erase(std::unique(list.sorted.begin(), list.sorted.end()), list.sorted.end());
  return list;
}

namespace {

// Fetches the shard's bytes, builds its index (identity CIDs kept) and
// writes index_path atomically (index_path "": the index stays in memory,
// for --index-in-kv).
Status BuildShardIndex(const std::string& url, const std::string& transient,
                       const std::string& index_path, const StoreOptions& opts,
                       std::mutex& throttle_mu, std::condition_variable& throttle_cv, int& indexing,
                       std::unique_ptr<car::Index>* out) {
  auto data = FetchShardData(url, transient, opts.http_timeout);
  if (!data.ok()) return data.status();
  {
    std::unique_lock lock(throttle_mu);
    throttle_cv.wait(lock, [&] {
      return opts.max_concurrent_index <= 0 || indexing < opts.max_concurrent_index;
    });
    indexing++;
  }
  auto built = [&]() -> Result<std::string> {
    auto reader = car::CarReader::OpenFile(*data, ShardReadOptions());
    if (!reader.ok()) return reader.status();
    car::IndexOptions io;
    io.store_identity_cids = true;
    io.zero_length_section_as_eof = true;
    io.adopt_existing = false;  // a CARv2's own index may lack identity CIDs
    return car::BuildIndex(**reader, io);
  }();
  {
    std::lock_guard lock(throttle_mu);
    indexing--;
  }
  throttle_cv.notify_one();
  if (!built.ok()) {
    return Status(built.status().code(), "indexing " + *data + ": " + Message(built.status()));
  }
  auto parsed = car::Index::Parse({reinterpret_cast<const uint8_t*>(built->data()), built->size()});
  if (!parsed.ok()) return parsed.status();
  if (!index_path.empty()) {
    if (Status s = car::WriteFileAtomically(index_path, *built); !s.ok()) return s;
  }
  *out = std::make_unique<car::Index>(std::move(*parsed));
  return Status::OK();
}

}  // namespace

// ---------------------------------------------------------------------------
// The in-memory record

const std::string& DagStore::MemRecord::Empty() {
  static const std::string empty;
  return empty;
}

void DagStore::MemRecord::SetExtra(std::string transient, std::string error) {
  if (transient.empty() && error.empty()) {
    extra_.reset();
  } else if (extra_) {
    extra_->transient = std::move(transient);
    extra_->error = std::move(error);
  } else {
    extra_ = std::make_unique<Extra>(Extra{std::move(transient), std::move(error)});
  }
}

void DagStore::MemRecord::set_transient(std::string transient) {
  SetExtra(std::move(transient), error());
}

ShardRecord DagStore::MemRecord::ToRecord(const std::string& key) const {
  return ShardRecord{key, url, transient(), state, lazy, error()};
}

void DagStore::MemRecord::Assign(ShardRecord r) {
  state = r.state;
  lazy = r.lazy;
  url = std::move(r.url);
  SetExtra(std::move(r.transient), std::move(r.error));
}

// ---------------------------------------------------------------------------
// The shard map's node memory

namespace {
constexpr size_t kNodeChunk = size_t{2} << 20;  // one transparent huge page
constexpr size_t kNodeAlign = alignof(std::max_align_t);
}  // namespace

DagStore::NodeMemory::~NodeMemory() {
  for (char* chunk : chunks_) munmap(chunk, kNodeChunk);
}

void* DagStore::NodeMemory::do_allocate(size_t bytes, size_t alignment) {
  if (alignment > kNodeAlign || bytes > kNodeChunk / 64) {
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }
  const size_t size = (std::max(bytes, sizeof(FreeBlock)) + kNodeAlign - 1) & ~(kNodeAlign - 1);
  for (auto& [block, head] : free_) {
    if (block == size && head != nullptr) {
      FreeBlock* b = head;
      head = b->next;
      return b;
    }
  }
  if (static_cast<size_t>(end_ - next_) < size) {
    // Twice the chunk, then the aligned 2 MiB inside it kept: a huge page
    // needs a 2 MiB-aligned range.
    void* raw =
        mmap(nullptr, 2 * kNodeChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (start + kNodeChunk - 1) & ~(kNodeChunk - 1);
    if (aligned > start) munmap(raw, aligned - start);
    if (aligned + kNodeChunk < start + 2 * kNodeChunk) {
      munmap(reinterpret_cast<void*>(aligned + kNodeChunk), start + kNodeChunk - aligned);
    }
    char* chunk = reinterpret_cast<char*>(aligned);
    (void)madvise(chunk, kNodeChunk, MADV_HUGEPAGE);  // advice only: fine if refused
    chunks_.push_back(chunk);
    next_ = chunk;
    end_ = chunk + kNodeChunk;
  }
  void* p = next_;
  next_ += size;
  return p;
}

void DagStore::NodeMemory::do_deallocate(void* p, size_t bytes, size_t alignment) {
  if (alignment > kNodeAlign || bytes > kNodeChunk / 64) {
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
    return;
  }
  const size_t size = (std::max(bytes, sizeof(FreeBlock)) + kNodeAlign - 1) & ~(kNodeAlign - 1);
  auto* b = static_cast<FreeBlock*>(p);
  for (auto& [block, head] : free_) {
    if (block == size) {
      b->next = head;
      head = b;
      return;
    }
  }
  b->next = nullptr;
  free_.emplace_back(size, b);
}

// ---------------------------------------------------------------------------
// Open, reconcile, close

DagStore::DagStore(StoreOptions options)
    : options_(std::move(options)), shard_names_(std::make_unique<inverted::ShardNames>()) {}

DagStore::~DagStore() { (void)Close(); }

std::string DagStore::IndexPath(const std::string& key) const {
  return options_.root + "/index/" + EscapeKey(key) + std::string(kIndexSuffix);
}
std::string DagStore::TransientPath(const std::string& key) const {
  return options_.root + "/transients/transient-" + EscapeKey(key) + ".complete";
}

Result<std::unique_ptr<DagStore>> DagStore::Open(const StoreOptions& options) {
  if (options.root.empty()) return Status(Code::kInvalidArgument, "no root directory given");
  std::error_code ec;
  if (!fs::is_directory(options.root, ec)) {
    if (!options.create) {
      return Status(Code::kInvalidArgument, "no DAG store at " + options.root);
    }
  }
  for (const char* sub : {"index", "transients", "datastore"}) {
    fs::create_directories(options.root + "/" + sub, ec);
    if (ec) {
      return Status(Code::kIOError,
                    "cannot create " + options.root + "/" + sub + ": " + ec.message());
    }
  }
  const std::string version_path = options.root + "/index/.version";
  if (fs::exists(version_path, ec)) {
    std::ifstream in(version_path);
    std::string v;
    std::getline(in, v);
    if (v != "1") {
      return Status(Code::kVersionMismatch,
                    "unsupported index version \"" + v + "\" in " + version_path + " (want 1)");
    }
  } else if (Status s = car::WriteFileAtomically(version_path, "1"); !s.ok()) {
    return s;
  }
  std::unique_ptr<DagStore> store(new DagStore(options));
  if (Status s = store->OpenDatastore(); !s.ok()) return s;
  if (Status s = store->Reconcile(); !s.ok()) return s;
  store->background_ = std::thread([p = store.get()] { p->BackgroundLoop(); });
  return store;
}

namespace {

// Brings the datastore to inverted::kSchemaVersion (meta "version"): a
// schema-1 store (inverted entries listing keys; also one with no or an
// empty version) has its entries converted, in the caller's transaction,
// and *warnings says how many were damaged. Any other version is refused.
Status UpgradeSchema(Tx& tx, bool fresh, std::vector<std::string>* warnings) {
  Bucket meta = tx.GetBucket(kMeta);
  const std::optional<Bytes> stored = meta.Get("version");
  const std::string version = stored && !stored->empty() ? std::string(*stored) : fresh ? "" : "1";
  if (version == inverted::kSchemaVersion) return Status::OK();
  if (!version.empty() && version != "1") {
    return Status(Code::kVersionMismatch, "datastore schema version \"" + version +
                                              "\" is unknown to this build (it reads 1 and " +
                                              std::string(inverted::kSchemaVersion) + ")");
  }
  if (version == "1") {
    size_t damaged = 0;
    if (Status s = inverted::MigrateKeyLists(tx, &damaged); !s.ok()) {
      return Status(s.code(), "converting the inverted index to schema 2: " + Message(s));
    }
    if (damaged > 0) {
      warnings->push_back("converting the inverted index to schema 2: " + std::to_string(damaged) +
                          " damaged entries kept as damaged (verify lists them)");
    }
  }
  return meta.Put("version", inverted::kSchemaVersion);
}

}  // namespace

Status DagStore::OpenDatastore() {
  Options o;
  o.timeout =
      options_.lock_timeout.count() == 0 ? std::chrono::milliseconds(-1) : options_.lock_timeout;
  o.wal = options_.wal;
  const std::string path = options_.root + "/datastore/dagstore.db";
  auto db = DB::Open(path, o);
  if (!db.ok()) {
    if (db.status().code() == Code::kTimeout) {
      return Status(Code::kTimeout, "datastore " + path +
                                        " is locked by another process (is `boltpp-dagstore "
                                        "serve` running on this root?)");
    }
    return Status(db.status().code(), "opening " + path + ": " + db.status().ToString());
  }
  db_ = std::move(*db);
  return db_->Update([&](Tx& tx) {
    const bool fresh = !tx.GetBucket(kShards);
    for (auto name : {kShards, kMeta, kIdx, kAttention}) {
      auto b = tx.CreateBucketIfNotExists(name);
      if (!b.ok()) return b.status();
    }
    if (Status s = inverted::CreateBuckets(tx); !s.ok()) return s;
    Bucket meta = tx.GetBucket(kMeta);
    if (fresh) {  // no record yet: the (empty) attention index is complete
      if (Status s = meta.Put(kAttentionBuilt, "1"); !s.ok()) return s;
    }
    if (Status s = UpgradeSchema(tx, fresh, &warnings_); !s.ok()) return s;
    // The index location is chosen when the store is created.
    auto mode = meta.Get(kIndexMode);
    if (!mode) {
      const bool kv = fresh && options_.index_in_kv;
      if (options_.index_in_kv && !kv) {
        return Status(Code::kInvalidArgument,
                      "this store keeps its shard indexes in files; --index-in-kv is chosen "
                      "when a store is created");
      }
      if (Status s = meta.Put(kIndexMode, kv ? "kv" : "file"); !s.ok()) return s;
      index_in_kv_ = kv;
    } else {
      index_in_kv_ = *mode == "kv";
      if (options_.index_in_kv && !index_in_kv_) {
        return Status(Code::kInvalidArgument,
                      "this store keeps its shard indexes in files; --index-in-kv is chosen "
                      "when a store is created");
      }
    }
    return Status::OK();
  });
}

Result<car::Index> DagStore::LoadShardIndex(const std::string& key) const {
  if (!index_in_kv_) return car::Index::Load(IndexPath(key));
  std::optional<Result<car::Index>> out;
  Status s = db_->View([&](Tx& tx) {
    out.emplace(KvIndexOf(tx, key));
    return Status::OK();
  });
  if (!s.ok()) return s;
  return std::move(*out);
}

std::unique_ptr<car::Index> DagStore::LoadShardIndex(const std::string& key, Status* status) const {
  auto loaded = LoadShardIndex(key);
  if (!loaded.ok()) {
    *status = loaded.status();
    return nullptr;
  }
  return std::make_unique<car::Index>(std::move(*loaded));
}

Status DagStore::EnsureAttentionIndex() {
  bool built = false;
  Status s = db_->View([&](Tx& tx) {
    built = tx.GetBucket(kMeta).Get(kAttentionBuilt).has_value();
    return Status::OK();
  });
  if (!s.ok() || built) return s;  // no write (and no sync) at every open
  return db_->Update([&](Tx& tx) {
    Bucket meta = tx.GetBucket(kMeta);
    if (meta.Get(kAttentionBuilt)) return Status::OK();
    // A store written before the index existed: one scan of every record
    // (decoded, as the old Open did, but nothing kept in memory).
    std::vector<std::string> keys;
    Status scanned = tx.GetBucket(kShards).ForEach([&](const Entry& e) {
      auto r = DecodeRecord(e.value);
      if (!r.ok() || NeedsAttention(*r)) keys.emplace_back(e.key);
      return Status::OK();
    });
    if (!scanned.ok()) return scanned;
    if (Status d = tx.DeleteBucket(kAttention); !d.ok()) return d;  // stale entries go
    auto attention = tx.CreateBucket(kAttention);
    if (!attention.ok()) return attention.status();
    attention->SetFillPercent(1.0);  // keys go in sorted
    for (const auto& key : keys) {
      if (Status p = attention->Put(key, ""); !p.ok()) return p;
    }
    return meta.Put(kAttentionBuilt, "1");
  });
}

DagStore::Shard* DagStore::FindLocked(const std::string& key, Status* read_error) const {
  *read_error = Status::OK();
  if (auto it = shards_.find(key); it != shards_.end()) return &it->second;
  // A lazy registration in flight: its record may be durable already, but
  // the shard exists only once RegisterShard returns (no cache entry then).
  if (registering_.count(key) || undecodable_.count(key)) return nullptr;
  std::optional<ShardRecord> loaded;
  Status s = db_->View([&](Tx& tx) {
    auto json = tx.GetBucket(kShards).Get(key);
    if (!json) return Status::OK();
    auto r = DecodeRecord(*json);
    if (r.ok()) {
      loaded = std::move(*r);
    } else {  // damaged outside the store: kept and reported, as at Open
      undecodable_[key] = Message(r.status());
    }
    return Status::OK();
  });
  if (!s.ok()) {  // a damaged page, say: not "no such shard"
    *read_error = Status(s.code(), "reading the record of shard " + key + ": " + s.ToString());
    return nullptr;
  }
  if (!loaded) return nullptr;
  Shard& sh = shards_.try_emplace(key).first->second;
  sh.record.Assign(std::move(*loaded));
  return &sh;
}

Status DagStore::Reconcile() {
  std::unique_lock lock(mu_);
  if (Status s = EnsureAttentionIndex(); !s.ok()) return s;
  // Only the shards of the attention index are loaded: every other record
  // is Available or lazy New without a transient, which a restart leaves
  // as it is (they are loaded when an operation touches them).
  Status s = db_->View([&](Tx& tx) {
    Bucket records = tx.GetBucket(kShards);
    return tx.GetBucket(kAttention).ForEach([&](const Entry& e) {
      auto json = records.Get(e.key);
      if (!json) return Status::OK();  // a stale entry: Verify reports it
      auto r = DecodeRecord(*json);
      if (!r.ok()) {  // kept as it is, with its files: reported, never destroyed silently
        undecodable_[std::string(e.key)] = Message(r.status());
        warnings_.push_back("shard record " + std::string(e.key) +
                            " cannot be decoded (kept; verify reports it, destroy-shard removes "
                            "it): " +
                            Message(r.status()));
        return Status::OK();
      }
      // ForEach goes in key order: each insert lands at the end (no search).
      shards_.emplace_hint(shards_.end(), std::string(e.key), Shard{})
          ->second.record.Assign(std::move(*r));
      return Status::OK();
    });
  });
  if (!s.ok()) return s;

  std::vector<ShardRecord> changed;
  std::vector<std::pair<std::string, std::unique_ptr<car::Index>>> refeed;
  for (auto& [key, sh] : shards_) {
    const ShardState was_state = sh.record.state;
    if ((was_state == ShardState::kNew || was_state == ShardState::kAvailable) &&
        sh.record.transient().empty()) {
      // An eager shard still New was being initialized when the process
      // stopped (Initializing is not forced to disk): initialize it again.
      if (was_state == ShardState::kNew && !sh.record.lazy && options_.requeue_on_start) {
        queue_.emplace_back(key, false);
      }
      continue;  // nothing to reconcile (most records): no copy
    }
    ShardRecord next = sh.record.ToRecord(key);
    switch (next.state) {
      case ShardState::kServing:  // no reader survives a restart
        next.state = ShardState::kAvailable;
        break;
      case ShardState::kInitializing: {
        Status load;
        auto index = LoadShardIndex(key, &load);
        if (index) {  // the index was written: make sure the inverted entries are too
          next.state = ShardState::kAvailable;
          refeed.emplace_back(key, std::move(index));
        } else {
          next.state = ShardState::kNew;
        }
        break;
      }
      case ShardState::kNew:  // eager: requeued below
        break;
      case ShardState::kRecovering:
        next.state = ShardState::kErrored;
        next.error = "recovery interrupted by a restart";
        break;
      default:
        break;
    }
    if (next.state == ShardState::kNew && !next.lazy && options_.requeue_on_start) {
      queue_.emplace_back(key, false);
    }
    if (next.state == ShardState::kErrored) {
      if (next.error.empty()) next.error = "unknown error";
      if (options_.errored_policy == ErroredPolicy::kRecoverOnAcquire) {
        sh.recover_on_acquire = true;
      } else if (options_.errored_policy == ErroredPolicy::kRecoverNow) {
        queue_.emplace_back(key, true);
      }
    }
    std::error_code ec;
    if (!next.transient.empty() && !fs::exists(next.transient, ec)) next.transient.clear();
    const MemRecord& was = sh.record;
    if (next.state != was.state || next.error != was.error() || next.transient != was.transient()) {
      changed.push_back(next);
    }
  }
  if (!changed.empty() || !refeed.empty()) {
    std::vector<const ShardRecord*> ptrs;
    for (auto& r : changed) ptrs.push_back(&r);
    std::vector<MultihashList> lists;
    std::vector<inverted::ShardMultihashes> shards;
    lists.reserve(refeed.size());
    for (auto& [key, index] : refeed) {
      shards.emplace_back(key, &lists.emplace_back(ListMultihashes(*index)));
    }
    s = PersistLocked(ptrs, [&](Tx& tx) { return inverted::AddMerged(tx, shards); });
    if (!s.ok()) return s;
    for (auto& r : changed) shards_[r.key].record.Assign(r);
  }
  return Status::OK();
}

Status DagStore::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return Status::OK();
    closed_ = true;
    stopping_ = true;
  }
  cv_.notify_all();
  if (background_.joinable()) background_.join();
  std::lock_guard lock(mu_);
  if (!db_) return Status::OK();  // Open failed before the datastore was open
  Status s = PersistLocked({});
  Status c = db_->Close();
  return s.ok() ? c : s;
}

Status DagStore::PersistLocked(const std::vector<const ShardRecord*>& records,
                               const std::function<Status(Tx&)>& extra) {
  Status s = db_->Update([&](Tx& tx) {
    RecordWriter writer(tx);
    for (const std::string& key : dirty_) {
      auto it = shards_.find(key);
      if (it == shards_.end()) continue;  // destroyed since
      if (Status p = writer.Put(it->second.record.ToRecord(key)); !p.ok()) return p;
    }
    for (const ShardRecord* r : records) {
      if (Status p = writer.Put(*r); !p.ok()) return p;
    }
    return extra ? extra(tx) : Status::OK();
  });
  if (s.ok()) {
    dirty_.clear();
  }
  return s;
}

// ---------------------------------------------------------------------------
// Operations

Status DagStore::RegisterShard(const std::string& key, const std::string& url, bool lazy) {
  if (key.empty()) return Status(Code::kInvalidArgument, "shard key is empty");
  if (Status s = ValidateMountUrl(url); !s.ok()) return s;
  std::unique_lock lock(mu_);
  Status read_error;
  if (registering_.count(key) || FindLocked(key, &read_error)) {
    return Refused("shard already exists: " + key);
  }
  if (!read_error.ok()) return read_error;
  if (undecodable_.count(key)) {
    return Refused("shard already exists: " + key + " (its record cannot be decoded)");
  }
  const ShardRecord r{key, url, "", ShardState::kNew, lazy, ""};
  if (lazy) {
    // The key is reserved while its record is committed together with the
    // records of concurrent callers; the shard exists once it is durable.
    registering_.insert(key);
    lock.unlock();
    Status s = CommitGrouped([&](Tx& tx) { return RecordWriter(tx).Put(r); });
    lock.lock();
    registering_.erase(key);
    // Not cached: between the commit and this point nothing could find the
    // key (FindLocked skips registering_), and the record loads on demand.
    return s;
  }
  if (Status s = PersistLocked({&r}); !s.ok()) return s;
  shards_[key].record.Assign(r);
  return RunWorker(lock, key, false);
}

Status DagStore::CommitGrouped(const std::function<Status(Tx&)>& fn) {
  GroupedWrite write{&fn};
  std::unique_lock lock(group_mu_);
  group_queue_.push_back(&write);
  group_cv_.wait(
      lock, [&] { return write.done || (!group_committing_ && group_queue_.front() == &write); });
  if (write.done) return write.result;
  // Leader: commit everything queued so far in one transaction.
  group_committing_ = true;
  std::vector<GroupedWrite*> group(group_queue_.begin(), group_queue_.end());
  group_queue_.clear();
  lock.unlock();
  Status s = db_->Update([&](Tx& tx) {
    for (GroupedWrite* w : group) {
      if (Status r = (*w->fn)(tx); !r.ok()) return r;
    }
    return Status::OK();
  });
  for (GroupedWrite* w : group) {  // a failed group: each write alone, its own result
    w->result = s.ok() || group.size() == 1 ? s : db_->Update(*w->fn);
  }
  lock.lock();
  for (GroupedWrite* w : group) w->done = true;
  group_committing_ = false;
  group_cv_.notify_all();
  return write.result;
}

Result<size_t> DagStore::RegisterLazyBatch(
    const std::vector<std::pair<std::string, std::string>>& shards) {
  std::vector<ShardRecord> fresh;
  std::set<std::string> seen;
  std::unique_lock lock(mu_);
  std::optional<std::string> last_key;  // the greatest stored key
  {
    // Known keys are skipped: the cache, then the records (every cached key
    // has a record, and so has every undecodable one).
    auto tx = db_->Begin(false);
    if (!tx.ok()) return tx.status();
    Bucket records = tx->GetBucket(kShards);
    for (const auto& [key, url] : shards) {
      if (key.empty()) return Status(Code::kInvalidArgument, "shard key is empty");
      if (Status s = ValidateMountUrl(url); !s.ok()) return s;
      if (registering_.count(key) || shards_.count(key) || !seen.insert(key).second ||
          records.Get(key))
        continue;
      fresh.push_back(ShardRecord{key, url, "", ShardState::kNew, true, ""});
    }
    if (auto last = records.NewCursor().Last()) last_key.emplace(last->key);
  }
  // In key order: the B+tree takes the puts left to right, page after page.
  std::sort(fresh.begin(), fresh.end(),
            [](const ShardRecord& x, const ShardRecord& y) { return x.key < y.key; });
  std::vector<const ShardRecord*> ptrs;
  for (auto& r : fresh) ptrs.push_back(&r);
  // A batch whose keys all sort after every stored key is appended at the
  // tree's right edge: split its pages full, not half full (bbolt's default
  // fill, meant for inserts in random order, would leave every page it
  // writes half empty for good, and a restart reads them all).
  const bool appends = !fresh.empty() && (!last_key || *last_key < fresh.front().key);
  Status s = PersistLocked(ptrs, [&](Tx& tx) {
    if (appends) tx.GetBucket(kShards).SetFillPercent(1.0);
    return Status::OK();
  });
  if (!s.ok()) return s;
  // Not cached: a lazy New record is loaded when an operation touches it.
  return fresh.size();
}

Status DagStore::InitializeShard(const std::string& key) {
  std::unique_lock lock(mu_);
  Status read_error;
  Shard* sh = FindLocked(key, &read_error);
  if (sh == nullptr) return NoShard(key, read_error);
  if (sh->record.state != ShardState::kNew) {
    return Refused("cannot initialize shard; expected state ShardStateNew, was: " +
                   StateLongName(sh->record.state));
  }
  return RunWorker(lock, key, false);
}

Status DagStore::RecoverShard(const std::string& key) {
  std::unique_lock lock(mu_);
  Status read_error;
  Shard* sh = FindLocked(key, &read_error);
  if (sh == nullptr) return NoShard(key, read_error);
  if (sh->record.state != ShardState::kErrored) {
    return Refused("cannot recover shard; expected state ShardStateErrored, was: " +
                   StateLongName(sh->record.state));
  }
  return RunWorker(lock, key, true);
}

Status DagStore::BeginJobLocked(const std::string& key, bool recovering, WorkerJob* job) {
  Shard& sh = shards_.at(key);
  ShardRecord next = sh.record.ToRecord(key);
  next.state = recovering ? ShardState::kRecovering : ShardState::kInitializing;
  std::unique_ptr<car::Index> old_index;
  if (recovering) {  // start from scratch: no transient, no index, no inverted entries
    Status ignored;
    old_index = LoadShardIndex(key, &ignored);
    next.transient.clear();
  }
  if (recovering) {  // durable: the shard's inverted entries go with it
    Status s = PersistLocked({&next}, [&](Tx& tx) {
      if (Status r = inverted::Remove(tx, key, old_index.get()); !r.ok()) return r;
      return index_in_kv_ ? DeleteKvIndex(tx, key) : Status::OK();
    });
    if (!s.ok()) return s;
  } else {
    // Initializing is an in-progress state like Serving: written with the
    // next durable write, not forced to disk (a restart sends a shard found
    // New or Initializing without its index back to New either way).
    dirty_.insert(key);
  }
  sh.record.Assign(next);
  job->key = key;
  job->url = next.url;
  job->generation = ++sh.generation;
  if (recovering) {
    std::error_code ec;
    fs::remove(TransientPath(key), ec);
    fs::remove(IndexPath(key), ec);
  }
  return Status::OK();
}

Status DagStore::BuildJob(WorkerJob& job) {
  Status s =
      BuildShardIndex(job.url, TransientPath(job.key), index_in_kv_ ? "" : IndexPath(job.key),
                      options_, throttle_mu_, throttle_cv_, indexing_, &job.index);
  // The sorted multihashes for the inverted index, here in the worker so
  // that the commit (one thread for many shards in InitializeShards) only
  // merges them.
  if (s.ok()) job.multihashes = ListMultihashes(*job.index);
  return s;
}

Status DagStore::ReadyJobLocked(std::unique_lock<std::mutex>& lock, WorkerJob& job,
                                const Status& built) {
  auto it = shards_.find(job.key);
  if (it == shards_.end() || it->second.generation != job.generation) {
    return Refused("shard " + job.key + " changed state while it was being indexed");
  }
  if (!built.ok()) return FailLocked(lock, job.key, Message(built));
  job.next = it->second.record.ToRecord(job.key);
  job.next.state = ShardState::kAvailable;
  job.next.error.clear();
  job.next.transient = NeedsTransient(job.url) ? TransientPath(job.key) : "";
  // While the commit runs the shard stays Initializing/Recovering and
  // `committing` holds off FailShard, so no other write of this record can
  // pass it; and it leaves dirty_, so no PersistLocked of other shards
  // writes its in-progress state after the commit (on disk it is New or
  // Initializing until then, which a restart treats alike).
  it->second.committing = true;
  dirty_.erase(job.key);
  return Status::OK();
}

Status DagStore::WriteJobs(Tx& tx, const std::vector<WorkerJob*>& jobs) const {
  std::vector<inverted::ShardMultihashes> lists;
  for (WorkerJob* job : jobs) {
    if (index_in_kv_) {
      if (Status p = PutKvIndex(tx, job->key, *job->index); !p.ok()) return p;
    }
    lists.emplace_back(job->key, &job->multihashes);
  }
  if (Status a = inverted::AddMerged(tx, lists); !a.ok()) return a;
  RecordWriter writer(tx);
  for (WorkerJob* job : jobs) {
    if (Status p = writer.Put(job->next); !p.ok()) return p;
  }
  return Status::OK();
}

Status DagStore::FinishJobLocked(std::unique_lock<std::mutex>& lock, WorkerJob& job,
                                 const Status& committed) {
  Shard& done = shards_.at(job.key);  // not destroyable while Initializing/Recovering
  done.committing = false;
  cv_.notify_all();
  if (!committed.ok())
    return FailLocked(lock, job.key, "recording the index: " + Message(committed));
  done.record.Assign(std::move(job.next));
  done.auto_recover_attempts = 0;
  return Status::OK();
}

Status DagStore::RunWorker(std::unique_lock<std::mutex>& lock, const std::string& key,
                           bool recovering) {
  WorkerJob job;
  if (Status s = BeginJobLocked(key, recovering, &job); !s.ok()) return s;
  lock.unlock();
  Status built = BuildJob(job);
  lock.lock();
  if (Status s = ReadyJobLocked(lock, job, built); !s.ok()) return s;
  // One write transaction: the KV index (--index-in-kv), the inverted
  // entries and the Available record, committed outside mu_ together with
  // the same commits of concurrent workers (CommitGrouped; fn is idempotent).
  lock.unlock();
  Status s = CommitGrouped([&](Tx& tx) { return WriteJobs(tx, {&job}); });
  lock.lock();
  return FinishJobLocked(lock, job, s);
}

size_t DagStore::InitializeShards(const std::vector<std::string>& keys,
                                  const BulkInitOptions& options) {
  std::atomic<size_t> next{0};
  // Jobs indexed and ready, with their positions in `keys`; guarded by bulk_mu.
  std::mutex bulk_mu;
  std::condition_variable bulk_cv;
  std::vector<std::pair<size_t, std::unique_ptr<WorkerJob>>> pending;
  const size_t workers =
      std::clamp<size_t>(options.concurrency, 1, std::max<size_t>(1, keys.size()));
  size_t workers_running = workers;
  const size_t max_pending = std::max<size_t>(1, options.max_pending);
  auto report = [&](size_t i, const Status& result) {
    if (options.on_done) options.on_done(i, keys[i], result);
  };
  BulkInitOptions::Stats stats;  // guarded by bulk_mu
  auto worker = [&] {
    double indexing = 0;
    for (;;) {
      if (options.interrupted && options.interrupted()) break;  // what runs finishes
      const size_t i = next++;
      if (i >= keys.size()) break;
      if (options.on_start) options.on_start(i, keys[i]);
      auto job = std::make_unique<WorkerJob>();
      Status s;
      {
        std::unique_lock lock(mu_);
        Status read_error;
        Shard* sh = FindLocked(keys[i], &read_error);
        if (sh == nullptr) {
          s = NoShard(keys[i], read_error);
        } else if (sh->record.state != ShardState::kNew) {
          s = Refused("cannot initialize shard; expected state ShardStateNew, was: " +
                      StateLongName(sh->record.state));
        } else {
          s = BeginJobLocked(keys[i], false, job.get());
        }
        if (s.ok()) {
          lock.unlock();
          const auto started = std::chrono::steady_clock::now();
          Status built = BuildJob(*job);
          indexing += SecondsSince(started);
          lock.lock();
          s = ReadyJobLocked(lock, *job, built);
        }
      }
      if (!s.ok()) {
        report(i, s);
        continue;
      }
      std::unique_lock bulk(bulk_mu);
      bulk_cv.wait(bulk, [&] { return pending.size() < max_pending; });
      pending.emplace_back(i, std::move(job));
      bulk_cv.notify_all();
    }
    std::lock_guard bulk(bulk_mu);
    stats.indexing_seconds += indexing;
    workers_running--;
    bulk_cv.notify_all();
  };
  // The committer: every job that is ready when it comes round goes into one
  // transaction; each is reported once that commit returned.
  auto committer = [&] {
    pthread_setname_np(pthread_self(), "dagstore-commit");  // for top and perf
    for (;;) {
      std::vector<std::pair<size_t, std::unique_ptr<WorkerJob>>> group;
      {
        std::unique_lock bulk(bulk_mu);
        bulk_cv.wait(bulk, [&] { return !pending.empty() || workers_running == 0; });
        if (pending.empty()) return;
        group.swap(pending);
        bulk_cv.notify_all();
      }
      std::vector<WorkerJob*> jobs;
      for (auto& [i, job] : group) jobs.push_back(job.get());
      const auto started = std::chrono::steady_clock::now();
      const double cpu_started = ThreadCpuSeconds();
      Status s = db_->Update([&](Tx& tx) { return WriteJobs(tx, jobs); });
      size_t transactions = 1;
      std::vector<Status> committed(group.size(), s);
      if (!s.ok() && group.size() > 1) {  // each alone: only the shard at fault fails
        for (size_t g = 0; g < group.size(); g++) {
          committed[g] = db_->Update([&](Tx& tx) { return WriteJobs(tx, {jobs[g]}); });
        }
        transactions += group.size();
      }
      {
        std::lock_guard bulk(bulk_mu);
        stats.committing_seconds += SecondsSince(started);
        stats.committing_cpu_seconds += ThreadCpuSeconds() - cpu_started;
        stats.transactions += transactions;
      }
      std::vector<Status> results;
      {
        std::unique_lock lock(mu_);
        for (size_t g = 0; g < group.size(); g++) {
          results.push_back(FinishJobLocked(lock, *jobs[g], committed[g]));
        }
      }
      for (size_t g = 0; g < group.size(); g++) report(group[g].first, results[g]);
    }
  };
  std::thread commit_thread(committer);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < workers; t++) pool.emplace_back(worker);
  worker();  // this thread is one of the workers
  for (auto& t : pool) t.join();
  commit_thread.join();
  if (options.stats != nullptr) *options.stats = stats;
  return std::min(next.load(), keys.size());
}

Status DagStore::FailShard(const std::string& key, const std::string& error) {
  std::unique_lock lock(mu_);
  // A worker committing the shard's Available record finishes first: its
  // write must not land after ours.
  Status read_error;
  cv_.wait(lock, [&] {
    const Shard* sh = FindLocked(key, &read_error);
    return sh == nullptr || !sh->committing;
  });
  if (FindLocked(key, &read_error) == nullptr) return NoShard(key, read_error);
  Status s = FailLocked(lock, key, error);
  return s.code() == Code::kIOError ? s : Status::OK();
}

Status DagStore::FailLocked(std::unique_lock<std::mutex>& /*lock*/, const std::string& key,
                            const std::string& error) {
  Shard& sh = shards_.at(key);
  ShardRecord next = sh.record.ToRecord(key);
  next.state = ShardState::kErrored;
  next.error = error.empty() ? "unknown error" : error;
  Status s = PersistLocked({&next});
  sh.record.Assign(next);  // the state is Errored in memory even if the write failed
  sh.generation++;
  cv_.notify_all();
  if (!s.ok())
    return Status(Code::kIOError, "persisting the failure of " + key + ": " + Message(s));
  if (sh.auto_recover_attempts < options_.max_recover_attempts) {
    sh.auto_recover_attempts++;
    Enqueue(key, true);
  }
  return Status(Code::kAborted, next.error);
}

Result<std::unique_ptr<ShardAccessor>> DagStore::AcquireShard(const std::string& key) {
  std::unique_lock lock(mu_);
  for (;;) {
    Status read_error;
    Shard* found = FindLocked(key, &read_error);
    if (found == nullptr) return NoShard(key, read_error);
    Shard& sh = *found;
    const ShardState state = sh.record.state;
    if (state == ShardState::kAvailable || state == ShardState::kServing) break;
    if (state == ShardState::kNew) {
      if (Status s = RunWorker(lock, key, false); !s.ok()) return s;
    } else if (state == ShardState::kErrored) {
      if (!sh.recover_on_acquire)
        return Status(Code::kAborted, "shard is errored: " + sh.record.error());
      sh.recover_on_acquire = false;
      if (Status s = RunWorker(lock, key, true); !s.ok()) return s;
    } else {
      cv_.wait(lock);
    }
  }
  Shard& sh = shards_.at(key);
  sh.refs++;
  if (sh.record.state == ShardState::kAvailable) {
    sh.record.state = ShardState::kServing;
    dirty_.insert(key);
  }
  const std::string url = sh.record.url;
  lock.unlock();

  std::unique_ptr<ShardAccessor> acc(new ShardAccessor(this, key));
  Status failure;
  auto data = FetchShardData(url, TransientPath(key), options_.http_timeout);
  if (!data.ok()) failure = data.status();
  if (failure.ok()) {
    acc->data_path_ = *data;
    acc->index_ = LoadShardIndex(key, &failure);
    if (!acc->index_) failure = Status(failure.code(), "index file: " + Message(failure));
  }
  if (failure.ok()) {
    auto reader = car::CarReader::OpenFile(acc->data_path_, ShardReadOptions());
    if (reader.ok()) {
      acc->reader_ = std::move(*reader);
    } else {
      failure = reader.status();
    }
  }
  if (failure.ok()) {
    if (NeedsTransient(url)) {  // a re-fetched transient is referenced again
      lock.lock();
      Shard& s2 = shards_.at(key);
      if (s2.record.transient().empty()) {
        s2.record.set_transient(acc->data_path_);
        dirty_.insert(key);
      }
    }
    return acc;
  }
  acc->store_ = nullptr;  // its release is done here
  lock.lock();
  Shard& s3 = shards_.at(key);
  s3.refs--;
  if (s3.refs == 0 && s3.record.state == ShardState::kServing)
    s3.record.state = ShardState::kAvailable;
  (void)FailLocked(lock, key, "acquiring shard: " + Message(failure));
  return Status(Code::kAborted, "acquiring shard " + key + ": " + Message(failure));
}

void DagStore::Release(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = shards_.find(key);
  if (it == shards_.end()) return;
  Shard& sh = it->second;
  if (sh.refs > 0) sh.refs--;
  if (sh.refs == 0 && sh.record.state == ShardState::kServing) {
    sh.record.state = ShardState::kAvailable;
    dirty_.insert(key);
  }
  cv_.notify_all();
}

Status DagStore::DestroyShard(const std::string& key) {
  std::unique_lock lock(mu_);
  Status read_error;
  const Shard* found = FindLocked(key, &read_error);  // notes an undecodable record
  if (undecodable_.count(key)) return DestroyUndecodableLocked(key);
  if (found == nullptr) return NoShard(key, read_error);
  const Shard& sh = *found;
  const ShardState st = sh.record.state;
  if (st == ShardState::kServing || sh.refs > 0) {
    return Refused("cannot destroy shard " + key + ": it is being served");
  }
  if (st == ShardState::kInitializing || st == ShardState::kRecovering) {
    return Refused("cannot destroy shard " + key + " while it is " + StateName(st));
  }
  if (Status s = DropShardLocked(key); !s.ok()) return s;
  shards_.erase(key);
  cv_.notify_all();
  return Status::OK();
}

Status DagStore::DestroyUndecodableLocked(const std::string& key) {
  if (Status s = DropShardLocked(key); !s.ok()) return s;
  undecodable_.erase(key);
  return Status::OK();
}

Status DagStore::DropShardLocked(const std::string& key) {
  Status ignored;
  auto index = LoadShardIndex(key, &ignored);  // without it the inverted index is scanned
  Status s = PersistLocked({}, [&](Tx& tx) {
    if (Status d = RecordWriter(tx).Delete(key); !d.ok()) return d;
    if (Status d = DeleteKvIndex(tx, key); !d.ok()) return d;
    return inverted::Remove(tx, key, index.get());
  });
  if (!s.ok()) return s;
  std::error_code ec;
  fs::remove(IndexPath(key), ec);
  fs::remove(TransientPath(key), ec);
  return Status::OK();
}

std::map<std::string, Status> DagStore::GC() {
  std::map<std::string, Status> result;
  std::lock_guard lock(mu_);
  // The shards that can own a transient: every record naming one (the
  // attention index holds them all; cached shards may be ahead of their
  // records) and the owners of the files in transients/ (by name). Any
  // other shard has neither a transient nor a file to collect.
  std::set<std::string> candidates;
  for (const auto& [key, sh] : shards_) {
    if (!sh.record.transient().empty()) candidates.insert(key);
  }
  Status listed = db_->View([&](Tx& tx) {
    return tx.GetBucket(kAttention).ForEach([&](const Entry& e) {
      candidates.emplace(e.key);
      return Status::OK();
    });
  });
  if (!listed.ok()) return result;  // nothing collected
  std::error_code list_ec;
  for (const auto& entry : fs::directory_iterator(options_.root + "/transients", list_ec)) {
    if (auto key = KeyOfTransientFile(entry.path().filename().string())) candidates.insert(*key);
  }
  std::vector<ShardRecord> changed;
  std::set<std::string> kept;
  std::vector<std::string> busy;  // transients of shards not collectable now
  for (const std::string& key : candidates) {
    Status read_error;  // a shard that cannot be read is not collected
    Shard* found = FindLocked(key, &read_error);
    if (found == nullptr) continue;
    Shard& sh = *found;
    const ShardState st = sh.record.state;
    const bool collectable =
        (st == ShardState::kAvailable || st == ShardState::kErrored) && sh.refs == 0;
    std::error_code ec;
    const std::string path = TransientPath(key);
    if (!collectable) {
      if (!sh.record.transient().empty()) kept.insert(sh.record.transient());
      kept.insert(path);
      busy.push_back(path);
      continue;
    }
    const std::string& transient = sh.record.transient();
    if (transient.empty() && !fs::exists(path, ec)) continue;
    fs::remove(path, ec);
    if (!transient.empty() && transient != path) fs::remove(transient, ec);
    result[key] =
        ec ? Status(Code::kIOError, "removing " + path + ": " + ec.message()) : Status::OK();
    ShardRecord next = sh.record.ToRecord(key);
    next.transient.clear();
    changed.push_back(next);
  }
  std::vector<const ShardRecord*> ptrs;
  for (auto& r : changed) ptrs.push_back(&r);
  if (Status s = PersistLocked(ptrs); !s.ok()) {
    for (auto& r : changed) result[r.key] = s;
    return result;
  }
  for (auto& r : changed) shards_[r.key].record.Assign(r);
  // Unreferenced files (e.g. a .partial left by a cut download) go; the
  // in-progress downloads of shards being initialized/recovered/acquired stay.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.root + "/transients", ec)) {
    const std::string name = entry.path().string();
    if (kept.count(name)) continue;
    if (std::any_of(busy.begin(), busy.end(),
                    [&](const std::string& t) { return IsPartialOf(name, t); }))
      continue;
    fs::remove(entry.path(), ec);
  }
  return result;
}

// ---------------------------------------------------------------------------
// Queries

ShardInfo DagStore::InfoOf(const std::string& key, const Shard& sh) {
  const MemRecord& r = sh.record;
  return ShardInfo{key, r.state, r.error(), r.url, r.transient(), r.lazy, sh.refs};
}

namespace {
// A record Open could not decode: state Unknown, the decoding error.
ShardInfo UndecodableInfo(const std::string& key, const std::string& error) {
  return ShardInfo{key, ShardState::kUnknown, "record cannot be decoded: " + error, "", "", false,
                   0};
}
}  // namespace

Result<ShardInfo> DagStore::GetShardInfo(const std::string& key) const {
  std::lock_guard lock(mu_);
  Status read_error;
  if (const Shard* sh = FindLocked(key, &read_error); sh != nullptr) return InfoOf(key, *sh);
  auto bad = undecodable_.find(key);
  if (bad != undecodable_.end()) return UndecodableInfo(bad->first, bad->second);
  return NoShard(key, read_error);
}

std::vector<ShardInfo> DagStore::AllShardsInfo() const {
  std::lock_guard lock(mu_);
  // Every record, in key order; a cached shard's state is the current one.
  std::vector<ShardInfo> out;
  Status s = db_->View([&](Tx& tx) {
    return tx.GetBucket(kShards).ForEach([&](const Entry& e) {
      const std::string key(e.key);
      if (auto it = shards_.find(key); it != shards_.end()) {
        out.push_back(InfoOf(key, it->second));
        return Status::OK();
      }
      auto r = DecodeRecord(e.value);
      if (!r.ok()) {
        undecodable_.try_emplace(key, Message(r.status()));
        out.push_back(UndecodableInfo(key, undecodable_.at(key)));
        return Status::OK();
      }
      out.push_back(ShardInfo{key, r->state, std::move(r->error), std::move(r->url),
                              std::move(r->transient), r->lazy, 0});
      return Status::OK();
    });
  });
  (void)s;  // a read that fails lists what it read (the datastore's check reports it)
  return out;
}

Result<std::vector<std::string>> DagStore::ShardsContainingMultihash(std::string_view mh) const {
  auto tx = db_->Begin(false);  // rolled back by its destructor
  if (!tx.ok()) return tx.status();
  std::vector<std::string> keys;
  if (Status s = inverted::Reader(*tx, shard_names_.get(), false).Lookup(mh, &keys); !s.ok())
    return s;
  return keys;
}

struct InvertedSnapshot::Impl {
  Impl(Tx read, inverted::ShardNames* names) : tx(std::move(read)), reader(tx, names, false) {}
  Tx tx;
  inverted::Reader reader;  // bound to tx's buckets (declared after it)
};
InvertedSnapshot::InvertedSnapshot(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InvertedSnapshot::InvertedSnapshot(InvertedSnapshot&&) noexcept = default;
InvertedSnapshot& InvertedSnapshot::operator=(InvertedSnapshot&&) noexcept = default;
InvertedSnapshot::~InvertedSnapshot() = default;

Status InvertedSnapshot::Lookup(std::string_view mh, std::vector<std::string>* keys) const {
  return impl_->reader.Lookup(mh, keys);
}

Result<InvertedSnapshot> DagStore::SnapshotInverted() const {
  auto tx = db_->Begin(false);
  if (!tx.ok()) return tx.status();
  auto impl = std::make_unique<InvertedSnapshot::Impl>(std::move(*tx), shard_names_.get());
  return InvertedSnapshot(std::move(impl));
}

Result<std::string> DagStore::GetBlock(const car::Cid& cid) {
  auto keys = ShardsContainingMultihash(cid.multihash());
  if (!keys.ok()) return keys.status();
  Status last = NotFound("block " + cid.ToString());
  for (const auto& key : *keys) {
    auto acc = AcquireShard(key);
    if (!acc.ok()) {
      last = acc.status();
      continue;
    }
    auto block = (*acc)->GetBlock(cid);
    if (block.ok()) return block;
    last = block.status();
  }
  return last;
}

Result<std::string> DagStore::GetMeta(const std::string& name) const {
  std::optional<std::string> value;
  Status s = db_->View([&](Tx& tx) {
    if (auto v = tx.GetBucket(kMeta).Get(name)) value = std::string(*v);
    return Status::OK();
  });
  if (!s.ok()) return s;
  if (!value) return NotFound("meta " + name);
  return *value;
}

Status DagStore::PutMeta(const std::string& name, const std::string& value) {
  std::lock_guard lock(mu_);
  return PersistLocked({}, [&](Tx& tx) { return tx.GetBucket(kMeta).Put(name, value); });
}

// ---------------------------------------------------------------------------
// Accessor

ShardAccessor::~ShardAccessor() {
  if (store_ != nullptr) store_->Release(key_);
}

Result<std::string> ShardAccessor::GetBlock(const car::Cid& cid) {
  std::lock_guard lock(mu_);
  auto section = car::FindSection(*index_, *reader_, cid);
  if (!section.ok()) return section.status();
  if (*section) {
    const auto& block = (*section)->block;
    return std::string(reinterpret_cast<const char*>(block.data()), block.size());
  }
  return NotFound("block " + cid.ToString() + " in shard " + key_);
}

// ---------------------------------------------------------------------------
// Background work

void DagStore::Enqueue(std::string key, bool recover) {
  queue_.emplace_back(std::move(key), recover);  // caller holds mu_
  cv_.notify_all();
}

// Files nobody references: orphaned transients, index files of destroyed
// shards, temporaries of interrupted writes (removed_unreferenced_files
// lists them). Swept after Open returned, not inside it: a store whose 1M
// shards are initialized has 1M index files, and listing and judging them
// made its restart take 2.3 s (docs/dagstore.md, D4). Names are read with
// mu_ released; each batch is judged and its orphans removed under mu_ in
// one read transaction, so no operation starts writing a file between the
// judgment and the unlink. Stops when the store closes (the next Open
// sweeps again). Counts in busy_ while it runs (WaitIdle).
void DagStore::SweepUnreferencedFiles(std::unique_lock<std::mutex>& lock) {
  constexpr size_t kBatch = 1024;
  busy_++;
  for (const char* sub : {"/transients", "/index"}) {
    const std::string dir = options_.root + sub;
    const bool index_dir = std::string_view(sub) == "/index";
    std::error_code ec;
    lock.unlock();
    fs::directory_iterator it(dir, ec);
    std::vector<std::string> names;
    bool listed_all = false;
    while (!listed_all) {
      names.clear();
      for (; !ec && it != fs::directory_iterator() && names.size() < kBatch; it.increment(ec)) {
        names.push_back(it->path().filename().string());
      }
      listed_all = ec || it == fs::directory_iterator();
      lock.lock();
      auto tx = db_->Begin(false);       // after mu_: every record written under it is seen
      if (stopping_ || !tx.ok()) break;  // no snapshot to judge by: nothing removed
      Bucket records = tx->GetBucket(kShards);
      for (const std::string& name : names) {
        const std::string path = dir + "/" + name;
        if (name == ".version" || KeepsFileLocked(records, path, name, index_dir)) continue;
        std::error_code removed;
        if (!fs::remove(path, removed)) continue;
        if (removed_files_.size() < kRemovedFilesListed) removed_files_.push_back(path);
        removed_files_count_++;
      }
      lock.unlock();
    }
    if (!lock.owns_lock()) lock.lock();
    if (stopping_) break;
  }
  sweep_pending_ = false;
  busy_--;
  cv_.notify_all();
}

bool DagStore::KeepsFileLocked(Bucket& records, const std::string& path, const std::string& name,
                               bool index_dir) const {
  if (!index_dir && IsDownloadInProgress(path)) return true;
  std::string_view base = name;
  // WriteFileAtomically's temporary: kept only while its shard is at work.
  const bool temporary = index_dir && base.ends_with(".tmp");
  if (temporary) base.remove_suffix(4);
  const auto key = index_dir ? KeyOfIndexFile(base) : KeyOfTransientFile(base);
  if (!key) return false;
  const auto cached = shards_.find(*key);
  std::optional<ShardRecord> stored;  // the record of a shard not in the cache
  bool undecodable = undecodable_.count(*key) > 0;
  if (cached == shards_.end() && !undecodable) {
    const std::optional<Bytes> json = records.Get(*key);
    if (!json) return false;  // no such shard
    auto r = DecodeRecord(*json);
    undecodable = !r.ok();
    if (r.ok()) stored = std::move(*r);
  }
  if (undecodable) return !temporary;  // whatever its record held stays, as at Open before
  if (index_dir && index_in_kv_) return false;
  if (cached != shards_.end()) {
    const Shard& sh = cached->second;
    const ShardState st = sh.record.state;
    // An initialization or recovery writes its index and transient, an
    // acquire may fetch its transient again: such a shard's files stay
    // (a stale .partial too, until GC finds the shard idle).
    if (st == ShardState::kInitializing || st == ShardState::kRecovering ||
        st == ShardState::kServing || sh.committing || sh.refs > 0) {
      return true;
    }
    if (index_dir) return !temporary && st != ShardState::kNew;
    return sh.record.transient() == path;
  }
  if (index_dir) return !temporary && stored->state != ShardState::kNew;
  return stored->transient == path;
}

std::vector<std::string> DagStore::removed_unreferenced_files(size_t* count) const {
  std::lock_guard lock(mu_);
  if (count != nullptr) *count = removed_files_count_;
  return removed_files_;
}

void DagStore::BackgroundLoop() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock lock(mu_);
  const auto sweep_at = Clock::now() + std::min<std::chrono::milliseconds>(
                                           options_.sweep_delay, std::chrono::hours(24 * 365));
  const bool gc_on = options_.gc_interval.count() > 0;
  auto next_gc = Clock::now() + options_.gc_interval;
  while (!stopping_) {
    if (sweep_pending_ && Clock::now() >= sweep_at) {
      SweepUnreferencedFiles(lock);
      continue;
    }
    if (!queue_.empty()) {
      auto [key, recover] = queue_.front();
      queue_.erase(queue_.begin());
      busy_++;
      Status read_error;  // a shard that cannot be read is left as it is
      if (const Shard* sh = FindLocked(key, &read_error); sh != nullptr) {
        if (recover && sh->record.state == ShardState::kErrored) {
          auto_recoveries_++;
          (void)RunWorker(lock, key, true);
        } else if (!recover && sh->record.state == ShardState::kNew) {
          (void)RunWorker(lock, key, false);
        }
      }
      busy_--;
      cv_.notify_all();
      continue;
    }
    if (gc_on && Clock::now() >= next_gc) {
      lock.unlock();
      (void)GC();
      lock.lock();
      next_gc = Clock::now() + options_.gc_interval;
      continue;
    }
    if (sweep_pending_ || gc_on) {
      auto wake = sweep_pending_ ? sweep_at : next_gc;
      if (sweep_pending_ && gc_on) wake = std::min(sweep_at, next_gc);
      cv_.wait_until(lock, wake);
    } else {
      cv_.wait(lock);
    }
  }
}

void DagStore::WaitIdle() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stopping_ || (queue_.empty() && busy_ == 0 && !sweep_pending_); });
}

}  // namespace boltpp::dagstore
