// The inverted index: raw multihash -> the shards whose index holds it
// (not installed). Schema version 2 of the datastore:
//
//   inverted    multihash -> uvarint(shard id), repeated, in the order the
//               shards were added (EncodeIdList)
//   shard-ids   shard key -> uvarint(shard id)
//   shard-keys  ShardIdKey(id) (8 bytes, big-endian) -> shard key
//
// A shard gets its id with its first inverted entries (from shard-keys'
// sequence, so an id is never reused) and loses it with them (recover,
// destroy). Invariants (verify checks them): shard-ids and shard-keys are
// each other's inverse, every id in `inverted` has a shard-keys entry, a
// shard with an id has a record, and no id is past shard-keys' sequence. An
// id costs 1-4 bytes where a key costs ~65: the tree initialize-all rewrites
// is half the size.
//
// Schema version 1 listed the keys themselves (EncodeKeyList);
// MigrateKeyLists converts such a store at Open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "boltpp/boltpp.h"
#include "boltpp/car/index.h"
#include "boltpp/dagstore/store.h"

namespace boltpp::dagstore::inverted {

inline constexpr std::string_view kEntries = "inverted";
inline constexpr std::string_view kIdsByKey = "shard-ids";
inline constexpr std::string_view kKeysById = "shard-keys";
// The datastore's schema version this build writes (meta "version").
inline constexpr std::string_view kSchemaVersion = "2";

// A shard's key and its sorted, distinct multihashes.
using ShardMultihashes = std::pair<std::string, const DagStore::MultihashList*>;

// Creates the index's buckets when missing.
Status CreateBuckets(Tx& tx);

// Adds each shard to the entry of every multihash of its list, giving it an
// id first if it has none. The lists are merged into one sorted run, so each
// entry is read and written once however many shards hold it. Idempotent: a
// shard already listed is not added again. kCorruption on a damaged entry
// (nothing is written then: the caller's transaction rolls back).
Status AddMerged(Tx& tx, const std::vector<ShardMultihashes>& shards);

// Removes the shard from every entry (through its index when given, else by
// scanning the entries) and drops its id.
Status Remove(Tx& tx, const std::string& key, const car::Index* index);

// The longest shard key an entry may name (bbolt's key limit: the key of
// the shard's record).
inline constexpr size_t kMaxShardKeySize = 32768;
// What a damaged schema-1 entry becomes: a value the id decoder rejects
// (its bytes read as ids would name shards at random).
inline constexpr std::string_view kDamagedValue = "\x80";

// Converts a schema-1 store's entries (key lists) to id lists, giving ids
// to the keys they name (those without a record too: verify reports them
// as it did). An entry that is not a list of non-empty keys becomes
// kDamagedValue; *damaged counts them.
Status MigrateKeyLists(Tx& tx, size_t* damaged);

// The keys of shard ids, kept as lookups meet them, for every reader of a
// store. An id names one key for good (ids are never reused), so a kept key
// is right for every snapshot that holds the id. Thread-safe.
class ShardNames {
 public:
  // *key = the key kept for `id`; false when none is kept.
  bool Get(uint64_t id, std::string* key);
  // Keeps `key` as the key of `id` (read from shard-keys), unless id is past
  // last_id (shard-keys' sequence: no id was ever given beyond it, so a
  // damaged entry's huge id does not grow the table).
  void Keep(uint64_t id, std::string_view key, uint64_t last_id);

 private:
  std::shared_mutex mu_;
  // Every kept key back to back, and by id where it is: offset << 16 |
  // length, 0 when not kept (keys are not empty; longer ones are not kept).
  // Two arrays instead of a string per id: a lookup touches two places,
  // not three (a vector slot, a string's heap buffer, its bytes).
  std::string arena_;
  std::vector<uint64_t> spans_;
};

// Reads entries as shard keys.
class Reader {
 public:
  // names: where ids are resolved (nullptr: through the transaction only).
  // strict: an id without a key is an error (verify); else it is skipped
  // (lookups: what damage left behind does not hide the other shards).
  Reader(const Tx& tx, ShardNames* names, bool strict);
  // *keys = the keys of the shards holding `multihash` (empty when none);
  // kCorruption (and *keys empty) on a damaged entry, or an id without a
  // key when strict.
  Status Lookup(std::string_view multihash, std::vector<std::string>* keys);
  // *keys = the keys the entry `value` names.
  Status KeysOf(std::string_view value, std::vector<std::string>* keys);

 private:
  // The key of `id` from shard-keys (opened on first use: most lookups
  // find every key in names_).
  bool ReadKey(uint64_t id, std::string* key);

  const Tx* tx_;
  Bucket entries_, keys_by_id_;
  ShardNames* names_;
  bool strict_;
};

}  // namespace boltpp::dagstore::inverted
