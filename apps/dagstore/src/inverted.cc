// The inverted index's reads and writes (see inverted.h for the layout).
#include "inverted.h"

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "boltpp/car/varint.h"
#include "internal.h"

namespace boltpp::dagstore {

std::string EncodeIdList(const std::vector<uint64_t>& ids) {
  std::string out;
  for (uint64_t id : ids) car::AppendUvarint(&out, id);
  return out;
}

namespace {

// Calls visit(id) for each id of the encoded list `value`, in order, until it
// returns false. kCorruption on a value that is not a list of uvarints
// (visit has then seen the ids before the damage). The one decoder of id
// lists: decoding, membership and lookups all walk through it.
template <typename Visit>
Status ForEachId(std::string_view value, Visit&& visit) {
  const auto* p = reinterpret_cast<const uint8_t*>(value.data());
  for (size_t pos = 0; pos < value.size();) {
    uint64_t id = 0;
    car::VarintError err{};
    const size_t n = car::DecodeUvarint(p + pos, value.size() - pos, &id, &err);
    if (n == 0) return Status(Code::kCorruption, "damaged inverted-index value");
    pos += n;
    if (!visit(id)) break;
  }
  return Status::OK();
}

}  // namespace

Status DecodeIdListInto(std::string_view bytes, std::vector<uint64_t>* ids) {
  ids->clear();
  Status s = ForEachId(bytes, [&](uint64_t id) {
    ids->push_back(id);
    return true;
  });
  if (!s.ok()) ids->clear();
  return s;
}

std::string ShardIdKey(uint64_t id) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; i--, id >>= 8) key[static_cast<size_t>(i)] = static_cast<char>(id & 0xff);
  return key;
}

namespace inverted {
namespace {

// The id of `key` in shard-ids, nullopt when it has none.
Result<std::optional<uint64_t>> FindId(const Bucket& ids, std::string_view key) {
  const std::optional<Bytes> v = ids.Get(key);
  if (!v) return std::optional<uint64_t>();
  uint64_t id = 0;
  car::VarintError err{};
  const size_t n =
      car::DecodeUvarint(reinterpret_cast<const uint8_t*>(v->data()), v->size(), &id, &err);
  if (n == 0 || n != v->size()) {
    return Status(Code::kCorruption, "shard-ids: damaged id of shard " + std::string(key));
  }
  return std::optional<uint64_t>(id);
}

// Assigns ids to shards (shard-keys' sequence) and remembers them.
class IdAssigner {
 public:
  explicit IdAssigner(Tx& tx) : ids_(tx.GetBucket(kIdsByKey)), keys_(tx.GetBucket(kKeysById)) {}

  // The shard's id, given one now when it has none.
  Result<uint64_t> IdOf(const std::string& key) {
    if (auto known = assigned_.find(key); known != assigned_.end()) return known->second;
    auto found = FindId(ids_, key);
    if (!found.ok()) return found.status();
    uint64_t id = 0;
    if (*found) {
      id = **found;
    } else {
      auto next = keys_.NextSequence();
      if (!next.ok()) return next.status();
      id = *next;
      if (keys_.Get(ShardIdKey(id))) {  // the sequence is behind the ids stored
        return Status(Code::kCorruption, "shard-keys: id " + std::to_string(id) +
                                             " is already taken (its sequence is behind)");
      }
      if (Status s = ids_.Put(key, EncodeIdList({id})); !s.ok()) return s;
      if (Status s = keys_.Put(ShardIdKey(id), key); !s.ok()) return s;
    }
    assigned_.emplace(key, id);
    return id;
  }

 private:
  Bucket ids_, keys_;
  std::unordered_map<std::string, uint64_t> assigned_;
};

// Whether the entry `value` lists `id` (kCorruption when damaged).
Result<bool> ListsId(std::string_view value, uint64_t id) {
  bool listed = false;
  Status s = ForEachId(value, [&](uint64_t each) {
    listed = each == id;
    return !listed;
  });
  if (!s.ok()) return s;
  return listed;
}

// Whether two multihashes are the same bytes (CompareKeys: no memcmp call
// for keys that differ in their first 32 bytes).
bool SameMultihash(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CompareKeys(a, b) == 0;
}

// One multihash of one shard (by its index in the shards' list).
struct Item {
  std::string_view mh;
  uint32_t shard;
  // The tree's key order, without memcmp calls: a commit merges and
  // compares tens of thousands of multihashes, and memcmp calls were a
  // tenth of the committer's time.
  bool operator<(const Item& o) const {
    const int c = CompareKeys(mh, o.mh);
    return c < 0 || (c == 0 && shard < o.shard);
  }
};

// Every shard's multihashes in one run sorted by multihash: one sorted run
// per shard, merged pairwise (log2(shards) passes, not one per shard).
std::vector<Item> MergedRun(const std::vector<ShardMultihashes>& shards) {
  std::vector<Item> items;
  std::vector<size_t> runs{0};  // where each run starts, then the end
  for (uint32_t j = 0; j < shards.size(); j++) {
    for (std::string_view mh : shards[j].second->sorted) items.push_back({mh, j});
    runs.push_back(items.size());
  }
  while (runs.size() > 2) {
    std::vector<size_t> merged{0};
    for (size_t r = 0; r + 2 < runs.size(); r += 2) {
      std::inplace_merge(items.begin() + static_cast<ptrdiff_t>(runs[r]),
                         items.begin() + static_cast<ptrdiff_t>(runs[r + 1]),
                         items.begin() + static_cast<ptrdiff_t>(runs[r + 2]));
      merged.push_back(runs[r + 2]);
    }
    if ((runs.size() - 1) % 2 == 1) merged.push_back(runs.back());  // an odd run, carried
    runs.swap(merged);
  }
  return items;
}

// Drops `id` from the entry of `mh`, deleting the entry when it empties.
Status RemoveIdFrom(Bucket& entries, std::string_view mh, uint64_t id) {
  const std::optional<Bytes> v = entries.Get(mh);
  if (!v) return Status::OK();
  std::vector<uint64_t> ids;
  if (Status s = DecodeIdListInto(*v, &ids); !s.ok()) return s;
  if (std::erase(ids, id) == 0) return Status::OK();
  const std::string copy(mh);  // mh may point into the page we rewrite
  if (ids.empty()) return entries.Delete(copy);
  return entries.Put(copy, EncodeIdList(ids));
}

}  // namespace

Status CreateBuckets(Tx& tx) {
  for (auto name : {kEntries, kIdsByKey, kKeysById}) {
    auto b = tx.CreateBucketIfNotExists(name);
    if (!b.ok()) return b.status();
  }
  return Status::OK();
}

Status AddMerged(Tx& tx, const std::vector<ShardMultihashes>& shards) {
  IdAssigner assigner(tx);
  std::vector<uint64_t> ids;
  std::vector<std::string> encoded;  // each shard's id as one list element
  for (const auto& shard : shards) {
    auto id = assigner.IdOf(shard.first);
    if (!id.ok()) return id.status();
    ids.push_back(*id);
    encoded.push_back(EncodeIdList({*id}));
  }
  const std::vector<Item> items = MergedRun(shards);
  std::string value;
  // One cursor walks the sorted run: each Seek and Put starts from where the
  // last one left it (Cursor::Put), not from the root.
  Cursor at = tx.GetBucket(kEntries).NewCursor();
  for (size_t i = 0; i < items.size();) {
    const std::string_view mh = items[i].mh;
    value.clear();
    const std::optional<Entry> found = at.Seek(mh);
    if (!found && !at.status().ok()) return at.status();
    const bool stored = found && SameMultihash(found->key, mh) && !found->is_bucket;
    if (stored) value.assign(found->value);
    const size_t stored_size = value.size();
    size_t j = i;
    for (; j < items.size() && SameMultihash(items[j].mh, mh); j++) {
      const uint32_t shard = items[j].shard;
      if (stored_size > 0) {
        auto listed = ListsId(std::string_view(value).substr(0, stored_size), ids[shard]);
        if (!listed.ok()) return listed.status();
        if (*listed) continue;
      }
      value += encoded[shard];
    }
    if (!stored || value.size() != stored_size) {
      if (Status s = at.Put(mh, value); !s.ok()) return s;
    }
    i = j;
  }
  return Status::OK();
}

Status Remove(Tx& tx, const std::string& key, const car::Index* index) {
  Bucket ids = tx.GetBucket(kIdsByKey);
  auto found = FindId(ids, key);
  if (!found.ok()) return found.status();
  if (!*found) return Status::OK();  // never added (the invariant: no entry names it)
  const uint64_t id = **found;
  Bucket entries = tx.GetBucket(kEntries);
  std::vector<std::string> holding;
  if (index != nullptr) {
    holding = SortedMultihashes(*index);
  } else {
    Status s = entries.ForEach([&](const Entry& e) {
      auto listed = ListsId(e.value, id);
      if (listed.ok() && *listed) holding.emplace_back(e.key);
      return Status::OK();
    });
    if (!s.ok()) return s;
  }
  for (const auto& mh : holding) {
    if (Status s = RemoveIdFrom(entries, mh, id); !s.ok()) return s;
  }
  if (Status s = ids.Delete(key); !s.ok()) return s;
  return tx.GetBucket(kKeysById).Delete(ShardIdKey(id));
}

Status MigrateKeyLists(Tx& tx, size_t* damaged) {
  *damaged = 0;
  IdAssigner assigner(tx);
  Cursor at = tx.GetBucket(kEntries).NewCursor();
  std::vector<std::string> keys;
  std::vector<uint64_t> ids;
  for (auto e = at.First(); e; e = at.Next()) {
    if (e->is_bucket) continue;
    const std::string mh(e->key);  // the writes below rewrite the page e points into
    const bool listed = DecodeKeyListInto(e->value, &keys).ok() &&
                        std::none_of(keys.begin(), keys.end(), [](const std::string& k) {
                          return k.empty() || k.size() > kMaxShardKeySize;
                        });
    std::string value(kDamagedValue);
    if (listed) {
      ids.clear();
      for (const auto& key : keys) {
        auto id = assigner.IdOf(key);
        if (!id.ok()) return id.status();
        if (std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(*id);
      }
      value = EncodeIdList(ids);
    } else {
      ++*damaged;  // read as ids its bytes would name shards at random
    }
    if (Status s = at.Put(mh, value); !s.ok()) return s;
  }
  return at.status();
}

bool ShardNames::Get(uint64_t id, std::string* key) {
  std::shared_lock lock(mu_);
  if (id >= spans_.size() || spans_[id] == 0) return false;
  key->assign(arena_, spans_[id] >> 16, spans_[id] & 0xffff);
  return true;
}

void ShardNames::Keep(uint64_t id, std::string_view key, uint64_t last_id) {
  if (key.empty() || key.size() > 0xffff || id > last_id) return;  // see the header
  std::unique_lock lock(mu_);
  if (id >= spans_.size()) spans_.resize(id + 1);
  if (spans_[id] != 0) return;  // kept meanwhile by another reader
  spans_[id] = static_cast<uint64_t>(arena_.size()) << 16 | key.size();
  arena_.append(key);
}

Reader::Reader(const Tx& tx, ShardNames* names, bool strict)
    : tx_(&tx), entries_(tx.GetBucket(kEntries)), names_(names), strict_(strict) {}

bool Reader::ReadKey(uint64_t id, std::string* key) {
  if (!keys_by_id_) keys_by_id_ = tx_->GetBucket(kKeysById);
  const std::optional<Bytes> stored = keys_by_id_ ? keys_by_id_.Get(ShardIdKey(id)) : std::nullopt;
  if (!stored || stored->empty()) return false;
  key->assign(*stored);
  if (names_ != nullptr) names_->Keep(id, *key, keys_by_id_.Sequence());
  return true;
}

Status Reader::Lookup(std::string_view multihash, std::vector<std::string>* keys) {
  const std::optional<Bytes> v = entries_.Get(multihash);
  if (!v) {
    keys->clear();
    return Status::OK();
  }
  return KeysOf(*v, keys);
}

Status Reader::KeysOf(std::string_view value, std::vector<std::string>* keys) {
  // Decoded in place, each key written over the caller's old elements: a
  // per-call lookup allocates nothing once its vector has grown.
  size_t n = 0;
  uint64_t unnamed = 0;
  bool complete = true;
  Status s = ForEachId(value, [&](uint64_t id) {
    if (keys->size() <= n) keys->emplace_back();
    std::string& key = (*keys)[n];
    if ((names_ != nullptr && names_->Get(id, &key)) || ReadKey(id, &key)) {
      n++;
      return true;
    }
    // Left behind by damage: skipped, so the other shards still answer,
    // unless strict.
    unnamed = id;
    complete = !strict_;
    return complete;
  });
  if (s.ok() && !complete) {
    s = Status(Code::kCorruption, "inverted-index entry names shard id " +
                                      std::to_string(unnamed) + ", which has no key");
  }
  if (!s.ok()) {
    keys->clear();
    return s;
  }
  keys->resize(n);
  return Status::OK();
}

}  // namespace inverted
}  // namespace boltpp::dagstore
