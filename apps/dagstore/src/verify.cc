// DagStore::Verify: the invariants of apps-spec 4.3.
#include <filesystem>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "boltpp/boltpp.h"
#include "boltpp/car/index.h"
#include "boltpp/car/reader.h"
#include "boltpp/dagstore/store.h"
#include "internal.h"
#include "inverted.h"
#include "mount.h"

namespace fs = std::filesystem;

namespace boltpp::dagstore {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Sections of the CAR at `path` (same reading rules as indexing).
Result<uint64_t> CountSections(const std::string& path) {
  auto reader = car::CarReader::OpenFile(path, ShardReadOptions());
  if (!reader.ok()) return reader.status();
  uint64_t n = 0;
  car::Section section;
  for (;;) {
    auto more = (*reader)->Next(&section, false);
    if (!more.ok()) return more.status();
    if (!*more) return n;
    n++;
  }
}

// The ids the inverted index names shards by: shard-ids and shard-keys are
// each other's inverse, and every shard with an id has a record.
Status VerifyShardIds(const Tx& tx, const std::unordered_set<std::string>& known,
                      std::vector<std::string>* problems) {
  const Bucket keys_by_id = tx.GetBucket(inverted::kKeysById);
  const Bucket ids_by_key = tx.GetBucket(inverted::kIdsByKey);
  std::vector<uint64_t> ids;
  Status s = ids_by_key.ForEach([&](const Entry& e) {
    const std::string key(e.key);
    if (!DecodeIdListInto(e.value, &ids).ok() || ids.size() != 1) {
      problems->push_back("shard-ids: shard " + key + " has a damaged id");
      return Status::OK();
    }
    const std::optional<Bytes> back = keys_by_id.Get(ShardIdKey(ids[0]));
    if (!back || *back != e.key) {
      problems->push_back("shard-ids: id " + std::to_string(ids[0]) + " of shard " + key +
                          " is not in shard-keys");
    }
    if (!known.count(key)) problems->push_back("shard-ids: shard " + key + " has no record");
    return Status::OK();
  });
  if (!s.ok()) return s;
  const uint64_t last_id = keys_by_id.Sequence();
  return keys_by_id.ForEach([&](const Entry& e) {
    const std::optional<Bytes> id = ids_by_key.Get(e.value);
    if (!id || e.key.size() != 8 || !DecodeIdListInto(*id, &ids).ok() || ids.size() != 1 ||
        ShardIdKey(ids[0]) != e.key) {
      problems->push_back("shard-keys: the entry of shard " + std::string(e.value) +
                          " is not in shard-ids");
    } else if (ids[0] > last_id) {
      problems->push_back("shard-keys: id " + std::to_string(ids[0]) + " of shard " +
                          std::string(e.value) + " is past the sequence (" +
                          std::to_string(last_id) + ": it would be given again)");
    }
    return Status::OK();
  });
}

}  // namespace

std::vector<std::string> DagStore::Verify() {
  std::vector<std::string> problems;
  std::unique_lock lock(mu_);
  // The files Open left to the background sweep are judged once it ran.
  cv_.wait(lock, [&] { return stopping_ || !sweep_pending_; });
  Status s = db_->View([&](Tx& tx) {
    for (const auto& line : tx.Check()) problems.push_back("datastore: " + line);
    return Status::OK();
  });
  if (!s.ok()) problems.push_back("datastore: " + Message(s));

  // Every record (the datastore is the truth; a cached shard's state is the
  // current one), and the attention index the records call for.
  struct Current {
    ShardRecord record;
    int refs = 0;
  };
  std::vector<Current> current;
  std::unordered_set<std::string> known;  // every key with a record
  std::set<std::string> needs_attention;  // from the records as persisted
  std::set<std::string> in_attention;
  bool attention_built = false;
  s = db_->View([&](Tx& tx) {
    attention_built = tx.GetBucket("meta").Get("attention").has_value();
    Status a = tx.GetBucket("attention").ForEach([&](const Entry& e) {
      in_attention.emplace(e.key);
      return Status::OK();
    });
    if (!a.ok()) return a;
    Status records = tx.GetBucket("shards").ForEach([&](const Entry& e) {
      std::string key(e.key);
      known.insert(key);
      auto r = DecodeRecord(e.value);
      if (!r.ok()) {
        // Damaged outside the store: in the index or not (a rebuild lists it,
        // a record damaged after it needed no attention does not).
        undecodable_.try_emplace(key, Message(r.status()));
        in_attention.erase(key);
        return Status::OK();
      }
      if (NeedsAttention(*r)) needs_attention.insert(key);
      auto cached = shards_.find(key);
      if (cached != shards_.end()) {
        current.push_back({cached->second.record.ToRecord(key), cached->second.refs});
      } else {
        current.push_back({std::move(*r), 0});
      }
      return Status::OK();
    });
    if (!records.ok()) return records;
    // In the same snapshot as the records: a shard registered meanwhile is
    // not an id without a record.
    if (Status ids = VerifyShardIds(tx, known, &problems); !ids.ok()) {
      problems.push_back("shard-ids: " + Message(ids));
    }
    return Status::OK();
  });
  if (!s.ok()) problems.push_back("datastore: " + Message(s));

  std::unordered_map<std::string, std::unordered_set<std::string>> held;  // key -> multihashes
  std::set<std::string> wanted_files;
  for (const auto& [key, error] : undecodable_) {
    problems.push_back("shard " + key + ": record cannot be decoded: " + error);
    wanted_files.insert(IndexPath(key));
    wanted_files.insert(TransientPath(key));
  }
  for (const auto& [r, refs] : current) {
    const std::string& key = r.key;
    const std::string where = "shard " + key + ": ";
    if (!index_in_kv_) wanted_files.insert(IndexPath(key));
    if (!r.transient.empty()) {
      wanted_files.insert(r.transient);
      std::error_code ec;
      if (!fs::exists(r.transient, ec))
        problems.push_back(where + "transient " + r.transient + " is missing");
    }
    if (r.state == ShardState::kErrored && r.error.empty()) {
      problems.push_back(where + "Errored without an error message");
    }
    if (r.state == ShardState::kServing && refs == 0) {
      problems.push_back(where + "Serving with no reader");
    }
    if (r.state != ShardState::kAvailable && r.state != ShardState::kServing) continue;
    auto index = LoadShardIndex(key);
    if (!index.ok()) {
      problems.push_back(where +
                         (index_in_kv_ ? "index: " : "index file " + IndexPath(key) + ": ") +
                         Message(index.status()));
      continue;
    }
    std::string data = r.url.starts_with("file://") ? r.url.substr(7) : r.transient;
    if (!data.empty()) {
      auto sections = CountSections(data);
      if (!sections.ok()) {
        problems.push_back(where + "reading " + data + ": " + Message(sections.status()));
      } else if (*sections != index->record_count()) {
        problems.push_back(where + "index has " + std::to_string(index->record_count()) +
                           " records but the CAR has " + std::to_string(*sections) + " sections");
      }
    }
    auto& mhs = held[key];
    for (auto& mh : SortedMultihashes(*index)) mhs.insert(std::move(mh));
  }

  // Both directions of the inverted index.
  std::unordered_map<std::string, size_t> found;  // key -> multihashes naming it
  s = db_->View([&](Tx& tx) {
    // What the file says, not what lookups kept: names resolved in this
    // snapshot only (one shard-keys read per id, not per entry).
    inverted::ShardNames names;
    inverted::Reader reader(tx, &names, true);
    std::vector<std::string> keys;
    return tx.GetBucket(inverted::kEntries).ForEach([&](const Entry& e) {
      if (Status k = reader.KeysOf(e.value, &keys); !k.ok() || keys.empty()) {
        problems.push_back("inverted: multihash " + Hex(e.key) +
                           (k.ok() ? " has an empty value" : ": " + Message(k)));
        return Status::OK();
      }
      for (const auto& key : keys) {
        const bool exists = known.count(key) > 0;
        if (exists && undecodable_.count(key)) continue;  // reported above
        if (!exists) {
          problems.push_back("inverted: multihash " + Hex(e.key) + " names unknown shard " + key);
          continue;
        }
        auto h = held.find(key);
        if (h == held.end()) continue;  // not Available: entries may lag until recovery
        if (!h->second.count(std::string(e.key))) {
          problems.push_back("inverted: multihash " + Hex(e.key) + " names shard " + key +
                             ", whose index does not hold it");
        } else {
          found[key]++;
        }
      }
      return Status::OK();
    });
  });
  if (!s.ok()) problems.push_back("inverted: " + Message(s));
  for (const auto& [key, mhs] : held) {
    if (found[key] != mhs.size()) {
      problems.push_back("shard " + key + ": " + std::to_string(mhs.size() - found[key]) + " of " +
                         std::to_string(mhs.size()) +
                         " multihashes are missing from the inverted index");
    }
  }

  // idx/<key> buckets (--index-in-kv) of shards that no longer exist.
  s = db_->View([&](Tx& tx) {
    return tx.GetBucket("idx").ForEachBucket([&](Bytes name) {
      if (!known.count(std::string(name))) {
        problems.push_back("idx: index bucket of unknown shard " + std::string(name));
      }
      return Status::OK();
    });
  });
  if (!s.ok()) problems.push_back("idx: " + Message(s));

  // The attention index (what a restart reconciles) against the records.
  if (!attention_built) problems.push_back("attention: the index is not marked built (meta)");
  for (const auto& key : needs_attention) {
    if (!in_attention.count(key)) {
      problems.push_back("attention: shard " + key +
                         " is missing (a restart would not reconcile it)");
    }
  }
  for (const auto& key : in_attention) {
    if (!needs_attention.count(key)) {
      problems.push_back("attention: shard " + key +
                         (known.count(key) ? " needs no attention" : " does not exist"));
    }
  }

  std::error_code ec;
  for (const char* sub : {"/transients", "/index"}) {
    for (const auto& entry : fs::directory_iterator(options_.root + sub, ec)) {
      const std::string path = entry.path().string();
      if (entry.path().filename() == ".version" || wanted_files.count(path)) continue;
      // A download running now is not an orphan (one that ended meanwhile
      // renamed or removed its file).
      if (IsDownloadInProgress(path) || !fs::exists(path, ec)) continue;
      problems.push_back(std::string(sub + 1) + ": unreferenced file " + path);
    }
  }
  return problems;
}

}  // namespace boltpp::dagstore
