// The store's lifecycle (apps-spec 2.3 operation table and refusals),
// restart reconciliation, recover-once, GC, destroy cleanup and the inverted
// index. Every test ends with the store's Verify (Tx::Check included).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "boltpp/boltpp.h"
#include "helpers.h"
#include "testutil/raw_file.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace fs = std::filesystem;

namespace boltpp::dagstore::testing {
namespace {

using boltpp::testing::TempDir;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.File("cars"));
    root_ = dir_.File("root");
  }
  // Every store a test wrote passes Go bbolt's check too (stores are closed
  // by then: they live in the test body).
  void TearDown() override { EXPECT_EQ(GoCheckRoot(root_), ""); }
  std::string Car(const std::string& name, uint64_t index) {
    return MakeCar(dir_.File("cars"), name, index);
  }
  ShardState StateOf(DagStore& s, const std::string& key) {
    auto info = s.GetShardInfo(key);
    EXPECT_TRUE(info.ok());
    return info.ok() ? info->state : ShardState::kUnknown;
  }
  // Every block of the CAR is found through the inverted index and read back.
  void ExpectAllBlocks(DagStore& s, const std::string& key, const std::string& car) {
    for (const auto& [cid, block] : BlocksOf(car)) {
      auto keys = s.ShardsContainingMultihash(cid.multihash());
      ASSERT_OK(keys.status());
      EXPECT_NE(std::find(keys->begin(), keys->end(), key), keys->end()) << cid.ToString();
      auto got = s.GetBlock(cid);
      ASSERT_TRUE(got.ok()) << Message(got.status());
      EXPECT_EQ(*got, block) << cid.ToString();
    }
  }
  TempDir dir_;
  std::string root_;
};

TEST_F(StoreTest, OpenCreatesTheLayout) {
  auto s = OpenStore(TestOptions(root_));
  ASSERT_TRUE(s);
  EXPECT_TRUE(fs::is_regular_file(root_ + "/datastore/dagstore.db"));
  EXPECT_TRUE(fs::is_directory(root_ + "/transients"));
  EXPECT_EQ(ReadFile(root_ + "/index/.version"), "1");
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, OpenRefusesAnotherIndexVersion) {
  fs::create_directories(root_ + "/index");
  WriteFile(root_ + "/index/.version", "2");
  auto s = DagStore::Open(TestOptions(root_));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(Message(s.status()).find("unsupported index version \"2\""), std::string::npos);
}

TEST_F(StoreTest, OpenRefusesASecondOpenerOfTheSameRoot) {
  auto s = OpenStore(TestOptions(root_));
  auto again = DagStore::Open(TestOptions(root_));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(Message(again.status()).find("locked by another process"), std::string::npos);
}

TEST_F(StoreTest, EagerRegisterIndexesAndServesEveryBlock) {
  const std::string car = Car("a.car", 1);
  auto s = OpenStore(TestOptions(root_));
  ASSERT_OK(s->RegisterShard("shard-a", FileUrl(car), false));
  EXPECT_EQ(StateOf(*s, "shard-a"), ShardState::kAvailable);
  auto index = car::Index::Load(s->IndexPath("shard-a"));
  ASSERT_OK(index.status());
  // identity CIDs and duplicates kept: one record per section
  EXPECT_EQ(index->record_count(), BlocksOf(car).size());
  bool has_identity = false;
  for (const auto& [cid, block] : BlocksOf(car)) has_identity |= cid.hash_code() == car::kIdentity;
  EXPECT_TRUE(has_identity) << "the corpus should hold identity CIDs";
  ExpectAllBlocks(*s, "shard-a", car);
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, LazyRegisterStaysNewUntilInitialized) {
  const std::string car = Car("a.car", 1);
  auto s = OpenStore(TestOptions(root_));
  ASSERT_OK(s->RegisterShard("k", FileUrl(car), true));
  EXPECT_EQ(StateOf(*s, "k"), ShardState::kNew);
  EXPECT_FALSE(fs::exists(s->IndexPath("k")));
  ASSERT_OK(s->InitializeShard("k"));
  EXPECT_EQ(StateOf(*s, "k"), ShardState::kAvailable);
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, RefusedTransitionsSayWhy) {
  const std::string car = Car("a.car", 1);
  auto s = OpenStore(TestOptions(root_));
  ASSERT_OK(s->RegisterShard("k", FileUrl(car), false));
  Status dup = s->RegisterShard("k", FileUrl(car), true);
  EXPECT_EQ(Message(dup), "shard already exists: k");
  EXPECT_EQ(Message(s->InitializeShard("k")),
            "cannot initialize shard; expected state ShardStateNew, was: ShardStateAvailable");
  EXPECT_EQ(Message(s->RecoverShard("k")),
            "cannot recover shard; expected state ShardStateErrored, was: ShardStateAvailable");
  EXPECT_TRUE(IsNotFound(s->InitializeShard("nope")));
  EXPECT_TRUE(IsNotFound(s->RecoverShard("nope")));
  EXPECT_TRUE(IsNotFound(s->DestroyShard("nope")));
  EXPECT_TRUE(IsNotFound(s->AcquireShard("nope").status()));
  EXPECT_NE(Message(s->RegisterShard("x", "ftp://h/a.car", true)).find("unsupported mount URL"),
            std::string::npos);
  EXPECT_NE(Message(s->RegisterShard("x", "file://relative.car", true)).find("absolute path"),
            std::string::npos);
  EXPECT_EQ(Message(s->RegisterShard("", FileUrl(car), true)), "shard key is empty");
  EXPECT_EQ(s->AllShardsInfo().size(), 1u);
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, AcquireServesAndReleaseMakesAvailable) {
  const std::string car = Car("a.car", 1);
  auto s = OpenStore(TestOptions(root_));
  ASSERT_OK(s->RegisterShard("k", FileUrl(car), true));
  {
    auto a = s->AcquireShard("k");  // lazy: initializes first
    ASSERT_TRUE(a.ok()) << Message(a.status());
    auto b = s->AcquireShard("k");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(StateOf(*s, "k"), ShardState::kServing);
    EXPECT_EQ(s->GetShardInfo("k")->refs, 2);
    EXPECT_EQ(Message(s->DestroyShard("k")), "cannot destroy shard k: it is being served");
    const auto blocks = BlocksOf(car);
    auto got = (*a)->GetBlock(blocks.back().first);
    ASSERT_OK(got.status());
    EXPECT_EQ(*got, blocks.back().second);
    a->reset();
    EXPECT_EQ(StateOf(*s, "k"), ShardState::kServing);
  }
  EXPECT_EQ(StateOf(*s, "k"), ShardState::kAvailable);
  EXPECT_EQ(s->GetShardInfo("k")->refs, 0);
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, FailThenManualRecover) {
  const std::string car = Car("a.car", 1);
  auto o = TestOptions(root_);
  o.max_recover_attempts = 0;
  auto s = OpenStore(o);
  ASSERT_OK(s->RegisterShard("k", FileUrl(car), false));
  ASSERT_OK(s->FailShard("k", "disk on fire"));
  EXPECT_EQ(StateOf(*s, "k"), ShardState::kErrored);
  EXPECT_EQ(s->GetShardInfo("k")->error, "disk on fire");
  EXPECT_EQ(Message(s->AcquireShard("k").status()), "shard is errored: disk on fire");
  EXPECT_EQ(Message(s->InitializeShard("k")),
            "cannot initialize shard; expected state ShardStateNew, was: ShardStateErrored");
  ASSERT_OK(s->RecoverShard("k"));
  EXPECT_EQ(StateOf(*s, "k"), ShardState::kAvailable);
  EXPECT_EQ(s->GetShardInfo("k")->error, "");
  ExpectAllBlocks(*s, "k", car);
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, MissingCarMakesEagerRegistrationErrored) {
  auto o = TestOptions(root_);
  o.max_recover_attempts = 0;
  auto s = OpenStore(o);
  Status st = s->RegisterShard("k", FileUrl(dir_.File("cars/none.car")), false);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(Message(st).find("missing"), std::string::npos) << Message(st);
  EXPECT_EQ(StateOf(*s, "k"), ShardState::kErrored);
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, DamagedIndexFileIsRecoveredOnce) {
  const std::string car = Car("a.car", 1);
  auto s = OpenStore(TestOptions(root_));
  ASSERT_OK(s->RegisterShard("k", FileUrl(car), false));
  WriteFile(s->IndexPath("k"), "garbage");
  auto a = s->AcquireShard("k");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(Message(a.status()).find("index file"), std::string::npos) << Message(a.status());
  s->WaitIdle();
  EXPECT_EQ(s->auto_recoveries(), 1);
  EXPECT_EQ(StateOf(*s, "k"), ShardState::kAvailable);
  ExpectAllBlocks(*s, "k", car);
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, DeletedCarStaysErroredAfterOneRecovery) {
  const std::string car = Car("a.car", 1);
  auto s = OpenStore(TestOptions(root_));
  ASSERT_OK(s->RegisterShard("k", FileUrl(car), false));
  fs::remove(car);
  EXPECT_FALSE(s->AcquireShard("k").ok());
  s->WaitIdle();
  EXPECT_EQ(s->auto_recoveries(), 1);
  EXPECT_EQ(StateOf(*s, "k"), ShardState::kErrored);
  EXPECT_NE(s->GetShardInfo("k")->error.find("missing"), std::string::npos);
  EXPECT_FALSE(s->AcquireShard("k").ok());  // no second automatic recovery
  s->WaitIdle();
  EXPECT_EQ(s->auto_recoveries(), 1);
  // recovery dropped the index and the inverted entries
  EXPECT_FALSE(fs::exists(s->IndexPath("k")));
  EXPECT_EQ(Problems(*s), "");
  // the CAR comes back: a manual recovery works
  Car("a.car", 1);
  ASSERT_OK(s->RecoverShard("k"));
  ExpectAllBlocks(*s, "k", car);
}

TEST_F(StoreTest, DamagedCarIsErroredWithTheReason) {
  const std::string car = Car("a.car", 1);
  auto o = TestOptions(root_);
  o.max_recover_attempts = 0;
  auto s = OpenStore(o);
  std::string bytes = ReadFile(car);
  WriteFile(car, bytes.substr(0, bytes.size() * 6 / 10));  // truncated inside a section
  Status st = s->RegisterShard("k", FileUrl(car), false);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(Message(st).find("indexing"), std::string::npos) << Message(st);
  EXPECT_EQ(StateOf(*s, "k"), ShardState::kErrored);
  EXPECT_FALSE(fs::exists(s->IndexPath("k")));
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, DestroyDropsIndexFileRecordAndInvertedEntries) {
  const std::string a = Car("a.car", 1);
  const std::string b = Car("b.car", 2);
  auto o = TestOptions(root_);
  o.max_recover_attempts = 0;
  auto s = OpenStore(o);
  ASSERT_OK(s->RegisterShard("a", FileUrl(a), false));
  ASSERT_OK(s->RegisterShard("b", FileUrl(b), false));
  ASSERT_OK(s->DestroyShard("a"));
  EXPECT_FALSE(fs::exists(s->IndexPath("a")));
  EXPECT_TRUE(IsNotFound(s->GetShardInfo("a").status()));
  for (const auto& [cid, block] : BlocksOf(a)) {
    auto keys = s->ShardsContainingMultihash(cid.multihash());
    ASSERT_OK(keys.status());
    EXPECT_EQ(std::count(keys->begin(), keys->end(), "a"), 0);
  }
  ExpectAllBlocks(*s, "b", b);
  EXPECT_EQ(Problems(*s), "");
  // destroying an Errored shard whose index is gone still cleans up (full scan)
  fs::remove(s->IndexPath("b"));
  ASSERT_OK(s->FailShard("b", "x"));
  ASSERT_OK(s->DestroyShard("b"));
  size_t entries = 0;
  ASSERT_OK(s->db()->View([&](Tx& tx) {
    for (const char* name : {"inverted", "shard-ids", "shard-keys"}) {
      Status c = tx.GetBucket(name).ForEach([&](const Entry&) {
        entries++;
        return Status::OK();
      });
      if (!c.ok()) return c;
    }
    return Status::OK();
  }));
  EXPECT_EQ(entries, 0u);  // the entries and the shards' ids are gone
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, SharedBlocksMapToEveryShardHoldingThem) {
  const std::string a = Car("a.car", 1);
  const std::string copy = dir_.File("cars/copy.car");
  fs::copy_file(a, copy);
  auto s = OpenStore(TestOptions(root_));
  ASSERT_OK(s->RegisterShard("one", FileUrl(a), false));
  ASSERT_OK(s->RegisterShard("two", FileUrl(copy), false));
  for (const auto& [cid, block] : BlocksOf(a)) {
    auto keys = s->ShardsContainingMultihash(cid.multihash());
    ASSERT_OK(keys.status());
    EXPECT_EQ(std::set<std::string>(keys->begin(), keys->end()),
              (std::set<std::string>{"one", "two"}));
  }
  ASSERT_OK(s->DestroyShard("one"));
  fs::remove(a);
  ExpectAllBlocks(*s, "two", copy);  // served by the other shard
  EXPECT_EQ(Problems(*s), "");
}

// InvertedSnapshot answers like ShardsContainingMultihash, sees the state
// of its snapshot (not later commits), clears the caller's vector for an
// unknown multihash, and reports a damaged entry.
TEST_F(StoreTest, InvertedSnapshotAnswersLikeSingleLookups) {
  const std::string a = Car("a.car", 1), b = Car("b.car", 2);
  auto s = OpenStore(TestOptions(root_));
  ASSERT_OK(s->RegisterShard("a", FileUrl(a), false));
  ASSERT_OK(s->RegisterShard("b", FileUrl(b), false));
  {
    auto snap = s->SnapshotInverted();
    ASSERT_OK(snap.status());
    ASSERT_OK(s->DestroyShard("b"));  // after the snapshot: it still sees "b"
    std::vector<std::string> keys;
    for (const auto& [cid, block] : BlocksOf(b)) {
      ASSERT_OK(snap->Lookup(cid.multihash(), &keys));
      EXPECT_NE(std::find(keys.begin(), keys.end(), "b"), keys.end()) << cid.ToString();
    }
    for (const auto& [cid, block] : BlocksOf(a)) {
      auto single = s->ShardsContainingMultihash(cid.multihash());
      ASSERT_OK(single.status());
      ASSERT_OK(snap->Lookup(cid.multihash(), &keys));
      std::erase(keys, "b");  // shared blocks: b is gone from the newer state only
      EXPECT_EQ(keys, *single) << cid.ToString();
    }
    ASSERT_OK(snap->Lookup(std::string("\x12\x03xyz", 5), &keys));
    EXPECT_TRUE(keys.empty());
  }
  const auto blocks_a = BlocksOf(a);
  const std::string mh(blocks_a[1].first.multihash());
  std::string stored;
  ASSERT_OK(s->db()->Update([&](Tx& tx) {
    Bucket inv = tx.GetBucket("inverted");
    stored = std::string(inv.Get(mh).value_or(""));
    // a's id, between two ids no shard has (what damage could leave)
    std::vector<uint64_t> ids;
    if (Status d = DecodeIdListInto(stored, &ids); !d.ok()) return d;
    ids.insert(ids.begin(), 97);
    ids.push_back(5);
    return inv.Put(mh, EncodeIdList(ids));
  }));
  // Lookups skip the ids without a key (the other shards still answer);
  // verify reports them.
  auto snap = s->SnapshotInverted();
  ASSERT_OK(snap.status());
  std::vector<std::string> keys{"stale", "stale", "stale"};
  ASSERT_OK(snap->Lookup(mh, &keys));
  EXPECT_EQ(keys, std::vector<std::string>{"a"});
  auto single = s->ShardsContainingMultihash(mh);
  ASSERT_OK(single.status());
  EXPECT_EQ(*single, std::vector<std::string>{"a"});
  snap = Status(Code::kAborted, "released");  // the snapshot ends before the repair
  const std::string problems = Problems(*s);
  EXPECT_NE(problems.find(": inverted-index entry names shard id 97, which has no key"),
            std::string::npos)
      << problems;
  // A value that does not decode is an error.
  ASSERT_OK(s->db()->Update([&](Tx& tx) { return tx.GetBucket("inverted").Put(mh, "\x80"); }));
  EXPECT_EQ(s->ShardsContainingMultihash(mh).status().code(), Code::kCorruption);
  keys = {"stale"};
  snap = s->SnapshotInverted();
  ASSERT_OK(snap.status());
  EXPECT_EQ(snap->Lookup(mh, &keys).code(), Code::kCorruption);
  EXPECT_TRUE(keys.empty());
  snap = Status(Code::kAborted, "released");
  ASSERT_OK(s->db()->Update([&](Tx& tx) { return tx.GetBucket("inverted").Put(mh, stored); }));
  EXPECT_EQ(Problems(*s), "");
}

// Rewrites a closed store's datastore as schema version 1 wrote it: the
// inverted entries list the shard keys themselves, and there are no ids.
void RewriteAsSchemaOne(const std::string& root) {
  auto db = DB::Open(root + "/datastore/dagstore.db");
  ASSERT_OK(db.status());
  ASSERT_OK((*db)->Update([&](Tx& tx) {
    std::map<std::string, std::string> key_of;  // ShardIdKey -> shard key
    Status s = tx.GetBucket("shard-keys").ForEach([&](const Entry& e) {
      key_of[std::string(e.key)] = std::string(e.value);
      return Status::OK();
    });
    if (!s.ok()) return s;
    std::vector<std::pair<std::string, std::string>> rewritten;
    s = tx.GetBucket("inverted").ForEach([&](const Entry& e) {
      std::vector<uint64_t> ids;
      if (Status d = DecodeIdListInto(e.value, &ids); !d.ok()) return d;
      std::vector<std::string> keys;
      for (uint64_t id : ids) keys.push_back(key_of.at(ShardIdKey(id)));
      rewritten.emplace_back(e.key, EncodeKeyList(keys));
      return Status::OK();
    });
    if (!s.ok()) return s;
    for (const auto& [mh, value] : rewritten) {
      if (Status p = tx.GetBucket("inverted").Put(mh, value); !p.ok()) return p;
    }
    for (const char* name : {"shard-ids", "shard-keys"}) {
      if (Status d = tx.DeleteBucket(name); !d.ok()) return d;
    }
    return tx.GetBucket("meta").Put("version", "1");
  }));
  ASSERT_OK((*db)->Close());
}

// A store written with schema version 1 is converted when it is opened:
// every entry then names its shards by id, lookups answer as before (shared
// blocks included), and destroy and verify work on the converted store. A
// schema newer than the build's is refused with a clear message.
TEST_F(StoreTest, OpenConvertsASchemaOneStoreAndRefusesANewerOne) {
  const std::string a = Car("a.car", 1), b = Car("b.car", 2);
  const std::string copy = dir_.File("cars/copy.car");
  fs::copy_file(a, copy);
  {
    auto s = OpenStore(TestOptions(root_));
    ASSERT_OK(s->RegisterShard("one", FileUrl(a), false));
    ASSERT_OK(s->RegisterShard("two", FileUrl(copy), false));
    ASSERT_OK(s->RegisterShard("three", FileUrl(b), false));
    ASSERT_OK(s->Close());
  }
  RewriteAsSchemaOne(root_);
  // As an old store may also be: an entry listing a key twice, a damaged
  // entry (its bytes, read as ids, would name shards at random), and no
  // version written.
  const std::string damaged = std::string("\x12\x20", 2) + std::string(32, 'z');
  const std::string first_mh(BlocksOf(b)[0].first.multihash());
  {
    auto db = DB::Open(root_ + "/datastore/dagstore.db");
    ASSERT_OK(db.status());
    ASSERT_OK((*db)->Update([&](Tx& tx) {
      Bucket inv = tx.GetBucket("inverted");
      if (Status p = inv.Put(first_mh, EncodeKeyList({"three", "three"})); !p.ok()) return p;
      if (Status p = inv.Put(damaged, "\x09x"); !p.ok()) return p;
      return tx.GetBucket("meta").Delete("version");
    }));
    ASSERT_OK((*db)->Close());
  }
  {
    auto s = OpenStore(TestOptions(root_));
    ASSERT_TRUE(s);
    EXPECT_EQ(s->open_warnings(),
              std::vector<std::string>{"converting the inverted index to schema 2: 1 damaged "
                                       "entries kept as damaged (verify lists them)"});
    EXPECT_EQ(s->ShardsContainingMultihash(damaged).status().code(), Code::kCorruption);
    std::string hex = "1220";
    for (int i = 0; i < 32; i++) hex += "7a";  // 'z'
    EXPECT_EQ(Problems(*s), "inverted: multihash " + hex + ": damaged inverted-index value\n");
    ASSERT_OK(s->db()->Update([&](Tx& tx) { return tx.GetBucket("inverted").Delete(damaged); }));
    auto keys = s->ShardsContainingMultihash(first_mh);
    ASSERT_OK(keys.status());
    EXPECT_EQ(*keys, std::vector<std::string>{"three"});  // listed once
    EXPECT_EQ(Problems(*s), "");
    ExpectAllBlocks(*s, "one", a);
    ExpectAllBlocks(*s, "two", copy);
    ExpectAllBlocks(*s, "three", b);
    std::set<uint64_t> ids_named;
    ASSERT_OK(s->db()->View([&](Tx& tx) {
      EXPECT_EQ(tx.GetBucket("meta").Get("version").value_or(""), "2");
      return tx.GetBucket("inverted").ForEach([&](const Entry& e) {
        std::vector<uint64_t> ids;
        if (Status d = DecodeIdListInto(e.value, &ids); !d.ok()) return d;
        ids_named.insert(ids.begin(), ids.end());
        return Status::OK();
      });
    }));
    EXPECT_EQ(ids_named, (std::set<uint64_t>{1, 2, 3}));
    ASSERT_OK(s->DestroyShard("two"));
    ExpectAllBlocks(*s, "one", a);
    EXPECT_EQ(Problems(*s), "");
    ASSERT_OK(s->Close());
  }
  {
    auto db = DB::Open(root_ + "/datastore/dagstore.db");
    ASSERT_OK(db.status());
    ASSERT_OK((*db)->Update([&](Tx& tx) { return tx.GetBucket("meta").Put("version", "3"); }));
    ASSERT_OK((*db)->Close());
  }
  auto refused = DagStore::Open(TestOptions(root_));
  EXPECT_EQ(refused.status().code(), Code::kVersionMismatch);
  EXPECT_EQ(Message(refused.status()),
            "datastore schema version \"3\" is unknown to this build (it reads 1 and 2)");
}

// Lookups from several threads share the store's kept id -> key names
// while other shards get ids (register) and lose them (destroy): every
// lookup of a's blocks names a, and none fails.
TEST_F(StoreTest, ConcurrentLookupsWhileShardsComeAndGo) {
  const std::string a = Car("a.car", 1);
  const std::string copy = dir_.File("cars/copy.car");
  fs::copy_file(a, copy);
  auto s = OpenStore(TestOptions(root_));
  ASSERT_OK(s->RegisterShard("a", FileUrl(a), false));
  const auto blocks = BlocksOf(a);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, lookups{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; t++) {
    readers.emplace_back([&, t] {
      std::vector<std::string> keys;
      for (size_t i = static_cast<size_t>(t); !done || lookups < 300; i++) {
        const std::string mh(blocks[i % blocks.size()].first.multihash());
        Status st;
        if (i % 2 == 0) {
          auto found = s->ShardsContainingMultihash(mh);
          st = found.status();
          if (found.ok()) keys = *found;
        } else if (auto snap = s->SnapshotInverted(); snap.ok()) {
          st = snap->Lookup(mh, &keys);
        } else {
          st = snap.status();
        }
        // a, and at most the copy registered now: never a name kept wrongly
        const bool only_known = std::all_of(keys.begin(), keys.end(), [](const std::string& k) {
          return k == "a" || k.starts_with("copy");
        });
        if (!st.ok() || !only_known || keys.size() > 2 ||
            std::find(keys.begin(), keys.end(), "a") == keys.end()) {
          failures++;
        }
        lookups++;
      }
    });
  }
  for (int round = 0; round < 10; round++) {
    const std::string key = "copy" + std::to_string(round);
    ASSERT_OK(s->RegisterShard(key, FileUrl(copy), false));
    ASSERT_OK(s->DestroyShard(key));
  }
  done = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0) << "of " << lookups.load() << " lookups";
  EXPECT_EQ(Problems(*s), "");
}

// Shards are named in the inverted index by ids that shard-ids and
// shard-keys map both ways; verify reports a mapping missing either way and
// an id left behind by a shard without a record.
TEST_F(StoreTest, VerifyChecksTheShardIds) {
  const std::string a = Car("a.car", 1);
  auto o = TestOptions(root_);
  o.max_recover_attempts = 0;  // the refused shard stays Errored (no recovery racing the test)
  auto s = OpenStore(o);
  ASSERT_OK(s->RegisterShard("a", FileUrl(a), false));
  ASSERT_OK(
      s->db()->Update([&](Tx& tx) { return tx.GetBucket("shard-keys").Delete(ShardIdKey(1)); }));
  std::string problems = Problems(*s);
  EXPECT_NE(problems.find("shard-ids: id 1 of shard a is not in shard-keys"), std::string::npos)
      << problems;
  EXPECT_NE(problems.find("names shard id 1, which has no key"), std::string::npos) << problems;
  ASSERT_OK(s->db()->Update([&](Tx& tx) {
    if (Status p = tx.GetBucket("shard-keys").Put(ShardIdKey(1), "a"); !p.ok()) return p;
    return tx.GetBucket("shard-keys").Put(ShardIdKey(7), "ghost");
  }));
  EXPECT_EQ(Problems(*s), "shard-keys: the entry of shard ghost is not in shard-ids\n");
  ASSERT_OK(s->db()->Update(
      [&](Tx& tx) { return tx.GetBucket("shard-ids").Put("ghost", EncodeIdList({7})); }));
  EXPECT_EQ(Problems(*s),
            "shard-ids: shard ghost has no record\n"
            "shard-keys: id 7 of shard ghost is past the sequence (1: it would be given again)\n");
  // An id past the sequence is refused when it comes round, not given twice.
  ASSERT_OK(s->db()->Update([&](Tx& tx) { return tx.GetBucket("shard-keys").SetSequence(6); }));
  const std::string b = Car("b.car", 2);
  const Status st = s->RegisterShard("b", FileUrl(b), false);
  EXPECT_EQ(Message(st),
            "recording the index: shard-keys: id 7 is already taken (its sequence is behind)");
  EXPECT_EQ(StateOf(*s, "b"), ShardState::kErrored);
  ASSERT_OK(s->DestroyShard("b"));
  ASSERT_OK(s->db()->Update([&](Tx& tx) {
    if (Status d = tx.GetBucket("shard-ids").Delete("ghost"); !d.ok()) return d;
    return tx.GetBucket("shard-keys").Delete(ShardIdKey(7));
  }));
  EXPECT_EQ(Problems(*s), "");
}

// A damaged inverted entry met while adding a shard's multihashes fails
// that shard's Available commit (nothing of it is written: one transaction),
// and the shard is Errored with the reason; once repaired it recovers.
TEST_F(StoreTest, DamagedInvertedEntryFailsTheAvailableCommit) {
  const std::string a = Car("a.car", 1);
  auto o = TestOptions(root_);
  o.max_recover_attempts = 0;
  auto s = OpenStore(o);
  const auto blocks = BlocksOf(a);
  const std::string mh(blocks[0].first.multihash());
  ASSERT_OK(s->db()->Update([&](Tx& tx) { return tx.GetBucket("inverted").Put(mh, "\x80"); }));
  const Status st = s->RegisterShard("a", FileUrl(a), false);
  EXPECT_EQ(Message(st), "recording the index: damaged inverted-index value");
  EXPECT_EQ(StateOf(*s, "a"), ShardState::kErrored);
  auto keys = s->ShardsContainingMultihash(blocks[1].first.multihash());
  ASSERT_OK(keys.status());
  EXPECT_TRUE(keys->empty());  // the failed commit wrote nothing
  ASSERT_OK(s->db()->Update([&](Tx& tx) { return tx.GetBucket("inverted").Delete(mh); }));
  ASSERT_OK(s->RecoverShard("a"));
  ExpectAllBlocks(*s, "a", a);
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, StatesAndIndexSurviveReopen) {
  const std::string a = Car("a.car", 1);
  const std::string b = Car("b.car", 2);
  {
    auto o = TestOptions(root_);
    o.max_recover_attempts = 0;
    auto s = OpenStore(o);
    ASSERT_OK(s->RegisterShard("a", FileUrl(a), false));
    ASSERT_OK(s->RegisterShard("b", FileUrl(b), true));
    ASSERT_OK(s->RegisterShard("c", FileUrl(dir_.File("cars/none.car")), true));
    ASSERT_OK(s->FailShard("c", "gone"));
    ASSERT_OK(s->Close());
  }
  auto o = TestOptions(root_);
  o.errored_policy = ErroredPolicy::kDoNotRecover;
  auto s = OpenStore(o);
  EXPECT_EQ(StateOf(*s, "a"), ShardState::kAvailable);
  EXPECT_EQ(StateOf(*s, "b"), ShardState::kNew);
  EXPECT_EQ(StateOf(*s, "c"), ShardState::kErrored);
  EXPECT_EQ(s->GetShardInfo("c")->error, "gone");
  ExpectAllBlocks(*s, "a", a);
  EXPECT_EQ(Problems(*s), "");
}

// How PutRecords leaves the attention index (bucket "attention": the keys of
// the records a restart reconciles, meta "attention" = "1" once built).
enum class AttentionIndex {
  kKept,    // as the store writes it, in the records' transaction
  kAbsent,  // as in a file written before the index existed: Open builds it
};

// The documented rule (docs/dagstore.md): a record needs attention at
// restart unless it is Available or lazy New, and whenever it names a
// transient.
bool NeedsAttentionRule(const ShardRecord& r) {
  if (!r.transient.empty()) return true;
  return !(r.state == ShardState::kAvailable || (r.state == ShardState::kNew && r.lazy));
}

// Writes raw records into a closed store, as a crash would leave them, plus
// an undecodable record "junk" (listed in the attention index when kept, as
// a rebuild lists it).
void PutRecords(const std::string& root, const std::vector<ShardRecord>& records,
                AttentionIndex index = AttentionIndex::kKept) {
  auto db = DB::Open(root + "/datastore/dagstore.db");
  ASSERT_OK(db.status());
  ASSERT_OK((*db)->Update([&](Tx& tx) {
    Bucket attention = tx.GetBucket("attention");
    for (const auto& r : records) {
      if (Status s = tx.GetBucket("shards").Put(r.key, EncodeRecord(r)); !s.ok()) return s;
      Status a = NeedsAttentionRule(r) ? attention.Put(r.key, "") : attention.Delete(r.key);
      if (!a.ok()) return a;
    }
    if (Status s = attention.Put("junk", ""); !s.ok()) return s;
    if (index == AttentionIndex::kAbsent) {
      if (Status s = tx.DeleteBucket("attention"); !s.ok()) return s;
      if (Status s = tx.GetBucket("meta").Delete("attention"); !s.ok()) return s;
    }
    return tx.GetBucket("shards").Put("junk", "{not json");
  }));
  ASSERT_OK((*db)->Close());
}

// Restart from every state: Open loads the shards of the attention index
// (kKept), or builds the index first from a scan of a file written before it
// existed (kAbsent); the reconciliation is the same.
class RestartTest : public StoreTest, public ::testing::WithParamInterface<AttentionIndex> {};

INSTANTIATE_TEST_SUITE_P(AttentionIndex, RestartTest,
                         ::testing::Values(AttentionIndex::kKept, AttentionIndex::kAbsent),
                         [](const auto& param_info) {
                           return param_info.param == AttentionIndex::kKept ? "Kept"
                                                                            : "BuiltAtOpen";
                         });

TEST_P(RestartTest, RestartReconcilesEveryState) {
  const std::string a = Car("a.car", 1);
  const std::string b = Car("b.car", 2);
  const std::string c = Car("c.car", 3);
  {
    auto s = OpenStore(TestOptions(root_));
    ASSERT_OK(s->RegisterShard("init-indexed", FileUrl(b), false));
    ASSERT_OK(s->Close());
  }
  // the index file of "init-indexed" exists but its inverted entries were
  // never committed: reconciliation must add them
  {
    auto db = DB::Open(root_ + "/datastore/dagstore.db");
    ASSERT_OK(db.status());
    ASSERT_OK((*db)->Update([&](Tx& tx) { return tx.DeleteBucket("inverted"); }));
    ASSERT_OK((*db)->Update([&](Tx& tx) { return tx.CreateBucket("inverted").status(); }));
    ASSERT_OK((*db)->Close());
  }
  {
    auto s = OpenStore(TestOptions(root_));
    ASSERT_OK(s->RegisterShard("serving", FileUrl(a), false));
    ASSERT_OK(s->Close());
  }
  PutRecords(root_,
             {
                 {"serving", FileUrl(a), "", ShardState::kServing, false, ""},
                 {"init-indexed", FileUrl(b), "", ShardState::kInitializing, false, ""},
                 {"init-lazy", FileUrl(c), "", ShardState::kInitializing, true, ""},
                 {"init-eager", FileUrl(c), "", ShardState::kInitializing, false, ""},
                 {"recovering", FileUrl(c), "", ShardState::kRecovering, false, ""},
                 {"errored", FileUrl(c), "", ShardState::kErrored, false, "boom"},
                 {"new", FileUrl(c), "", ShardState::kNew, true, ""},
             },
             GetParam());
  WriteFile(root_ + "/transients/transient-orphan.complete", "x");
  WriteFile(root_ + "/index/orphan.full.idx", "x");
  auto o = TestOptions(root_);
  o.errored_policy = ErroredPolicy::kRecoverOnAcquire;
  auto s = OpenStore(o);
  auto built = s->GetMeta("attention");  // built at Open when absent
  ASSERT_OK(built.status());
  EXPECT_EQ(*built, "1");
  s->WaitIdle();  // the eager shard sent back to New is initialized again
  EXPECT_EQ(StateOf(*s, "serving"), ShardState::kAvailable);
  EXPECT_EQ(StateOf(*s, "init-indexed"), ShardState::kAvailable);
  EXPECT_EQ(StateOf(*s, "init-lazy"), ShardState::kNew);
  EXPECT_EQ(StateOf(*s, "init-eager"), ShardState::kAvailable);
  EXPECT_EQ(StateOf(*s, "recovering"), ShardState::kErrored);
  EXPECT_EQ(s->GetShardInfo("recovering")->error, "recovery interrupted by a restart");
  EXPECT_EQ(StateOf(*s, "errored"), ShardState::kErrored);
  EXPECT_EQ(StateOf(*s, "new"), ShardState::kNew);
  EXPECT_FALSE(fs::exists(root_ + "/transients/transient-orphan.complete"));
  EXPECT_FALSE(fs::exists(root_ + "/index/orphan.full.idx"));
  ASSERT_EQ(s->open_warnings().size(), 1u);  // the junk record
  EXPECT_NE(s->open_warnings()[0].find("shard record junk cannot be decoded (kept"),
            std::string::npos)
      << s->open_warnings()[0];
  std::vector<std::string> removed = s->removed_unreferenced_files();  // by the sweep after Open
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed, (std::vector<std::string>{root_ + "/index/orphan.full.idx",
                                               root_ + "/transients/transient-orphan.complete"}));
  ExpectAllBlocks(*s, "init-indexed", b);
  // RecoverOnAcquire: the first acquire recovers the errored shard
  auto acc = s->AcquireShard("errored");
  ASSERT_TRUE(acc.ok()) << Message(acc.status());
  acc->reset();
  EXPECT_EQ(StateOf(*s, "errored"), ShardState::kAvailable);
  EXPECT_EQ(Problems(*s), "shard junk: record cannot be decoded: " +
                              s->GetShardInfo("junk")->error.substr(26) + "\n");
  ASSERT_OK(s->DestroyShard("junk"));
  EXPECT_EQ(Problems(*s), "");
}

// A record Open cannot decode is data it must not destroy: the record, its
// index file, its transient and its inverted entries stay; it lists as
// Unknown, Verify reports it, registering its key is refused, and only
// DestroyShard removes it (with its files and inverted entries).
TEST_F(StoreTest, UndecodableRecordIsKeptReportedAndOnlyDestroyRemovesIt) {
  const std::string a = Car("a.car", 1);
  {
    auto s = OpenStore(TestOptions(root_));
    ASSERT_OK(s->RegisterShard("bad", FileUrl(a), false));
    ASSERT_OK(s->Close());
  }
  WriteFile(root_ + "/transients/transient-bad.complete", ReadFile(a));
  {
    auto db = DB::Open(root_ + "/datastore/dagstore.db");
    ASSERT_OK(db.status());
    ASSERT_OK((*db)->Update([&](Tx& tx) { return tx.GetBucket("shards").Put("bad", "{\"k\":"); }));
    ASSERT_OK((*db)->Close());
  }
  auto s = OpenStore(TestOptions(root_));
  ASSERT_TRUE(s);
  const std::string interrupted = s->IndexPath("bad") + ".tmp";  // an interrupted write's
  WriteFile(interrupted, "x");
  s->WaitIdle();  // the sweep after Open: the record's files stay, the temporary goes
  EXPECT_TRUE(fs::exists(s->IndexPath("bad")));
  EXPECT_TRUE(fs::exists(root_ + "/transients/transient-bad.complete"));
  EXPECT_FALSE(fs::exists(interrupted));
  auto info = s->GetShardInfo("bad");
  ASSERT_OK(info.status());
  EXPECT_EQ(info->state, ShardState::kUnknown);
  EXPECT_EQ(info->error.rfind("record cannot be decoded: ", 0), 0u) << info->error;
  ASSERT_EQ(s->AllShardsInfo().size(), 1u);
  const std::string problems = Problems(*s);
  EXPECT_EQ(problems, "shard bad: " + info->error + "\n");  // nothing else: files and entries kept
  EXPECT_NE(Message(s->RegisterShard("bad", FileUrl(a), true)).find("cannot be decoded"),
            std::string::npos);
  auto added = s->RegisterLazyBatch({{"bad", FileUrl(a)}});
  ASSERT_OK(added.status());
  EXPECT_EQ(*added, 0u);
  ASSERT_OK(s->Close());
  s = OpenStore(TestOptions(root_));  // still there after another restart
  EXPECT_EQ(Problems(*s), problems);
  ASSERT_OK(s->DestroyShard("bad"));
  EXPECT_FALSE(fs::exists(s->IndexPath("bad")));
  EXPECT_FALSE(fs::exists(root_ + "/transients/transient-bad.complete"));
  EXPECT_TRUE(s->AllShardsInfo().empty());
  EXPECT_EQ(Problems(*s), "");  // the inverted entries went too
}

// Restart matches index file names back to keys (EscapeKey's inverse): a
// key with escaped bytes keeps its file, a look-alike name that no key
// spells canonically is removed.
TEST_F(StoreTest, RestartKeepsIndexFilesOfKeysWithEscapedBytes) {
  const std::string a = Car("a.car", 1);
  const std::string key = "dir/with space%.car";
  {
    auto s = OpenStore(TestOptions(root_));
    ASSERT_OK(s->RegisterShard(key, FileUrl(a), false));
    ASSERT_OK(s->Close());
  }
  const std::string lookalike = root_ + "/index/dir%2fwith%20space%25.car.full.idx";  // lower case
  WriteFile(lookalike, "x");
  auto s = OpenStore(TestOptions(root_));
  s->WaitIdle();  // the sweep of unreferenced files runs after Open
  EXPECT_TRUE(fs::exists(s->IndexPath(key)));
  EXPECT_FALSE(fs::exists(lookalike));
  ExpectAllBlocks(*s, key, a);
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, RecoverNowPolicyRecoversAtOpen) {
  const std::string c = Car("c.car", 3);
  { auto s = OpenStore(TestOptions(root_)); }
  PutRecords(root_, {{"errored", FileUrl(c), "", ShardState::kErrored, false, "boom"}});
  auto o = TestOptions(root_);
  o.errored_policy = ErroredPolicy::kRecoverNow;
  auto s = OpenStore(o);
  s->WaitIdle();
  EXPECT_EQ(StateOf(*s, "errored"), ShardState::kAvailable);
  ASSERT_OK(s->DestroyShard("junk"));  // PutRecords' undecodable record
  EXPECT_EQ(Problems(*s), "");
}

// The keys of the attention index of a closed store.
std::vector<std::string> AttentionKeys(const std::string& root) {
  std::vector<std::string> keys;
  Options ro;
  ro.read_only = true;
  auto db = DB::Open(root + "/datastore/dagstore.db", ro);
  EXPECT_OK(db.status());
  if (!db.ok()) return keys;
  EXPECT_OK((*db)->View([&](Tx& tx) {
    EXPECT_EQ(std::string(tx.GetBucket("meta").Get("attention").value_or("")), "1");
    return tx.GetBucket("attention").ForEach([&](const Entry& e) {
      keys.emplace_back(e.key);
      return Status::OK();
    });
  }));
  return keys;
}

// Open reads only the records of the attention index: a lazy New record
// damaged outside the store (not in the index) is not read at Open (no
// warning), and is found the first time something asks for it. Every
// operation on a shard Open did not load loads it on demand.
TEST_F(StoreTest, RestartReadsOnlyTheAttentionIndexAndLoadsTheRestOnDemand) {
  const std::string a = Car("a.car", 1);
  {
    auto o = TestOptions(root_);
    o.max_recover_attempts = 0;
    auto s = OpenStore(o);
    std::vector<std::pair<std::string, std::string>> batch;
    for (int i = 0; i < 100; i++) batch.emplace_back("k" + std::to_string(100 + i), FileUrl(a));
    auto added = s->RegisterLazyBatch(batch);
    ASSERT_OK(added.status());
    ASSERT_OK(s->RegisterShard("avail", FileUrl(a), false));
    ASSERT_OK(s->RegisterShard("errored", FileUrl(dir_.File("cars/none.car")), true));
    ASSERT_OK(s->FailShard("errored", "boom"));
    ASSERT_OK(s->Close());
  }
  EXPECT_EQ(AttentionKeys(root_), std::vector<std::string>{"errored"});
  {
    auto db = DB::Open(root_ + "/datastore/dagstore.db");
    ASSERT_OK(db.status());
    ASSERT_OK((*db)->Update([&](Tx& tx) { return tx.GetBucket("shards").Put("k150", "{"); }));
    ASSERT_OK((*db)->Close());
  }
  auto o = TestOptions(root_);
  o.errored_policy = ErroredPolicy::kDoNotRecover;
  o.max_recover_attempts = 0;  // a failed shard stays Errored
  auto s = OpenStore(o);
  EXPECT_TRUE(s->open_warnings().empty()) << s->open_warnings()[0];
  EXPECT_EQ(StateOf(*s, "errored"), ShardState::kErrored);
  EXPECT_EQ(s->GetShardInfo("k150")->state, ShardState::kUnknown);
  EXPECT_EQ(s->AllShardsInfo().size(), 102u);
  ExpectAllBlocks(*s, "avail", a);        // loaded on demand, acquired
  ASSERT_OK(s->InitializeShard("k101"));  // loaded on demand, initialized
  ExpectAllBlocks(*s, "k101", a);
  EXPECT_EQ(Message(s->RegisterShard("k102", FileUrl(a), true)), "shard already exists: k102");
  ASSERT_OK(s->FailShard("k103", "manual"));
  ASSERT_OK(s->DestroyShard("k104"));
  EXPECT_TRUE(IsNotFound(s->GetShardInfo("k104").status()));
  EXPECT_EQ(Problems(*s), "shard k150: record cannot be decoded: " +
                              s->GetShardInfo("k150")->error.substr(26) + "\n");
  ASSERT_OK(s->DestroyShard("k150"));
  EXPECT_EQ(Problems(*s), "");
  ASSERT_OK(s->Close());
  EXPECT_EQ(AttentionKeys(root_), (std::vector<std::string>{"errored", "k103"}));
  s = OpenStore(o);
  EXPECT_EQ(StateOf(*s, "k101"), ShardState::kAvailable);
  EXPECT_EQ(StateOf(*s, "k103"), ShardState::kErrored);
  EXPECT_EQ(s->AllShardsInfo().size(), 100u);
  EXPECT_EQ(Problems(*s), "");
}

// Verify checks the attention index against a scan of the records: a
// missing entry (a restart would not reconcile that shard), an entry that
// needs no attention, one of no shard, and an index not marked built. The
// repair: drop meta "attention"; the next Open builds the index again.
TEST_F(StoreTest, VerifyReportsAnAttentionIndexThatDisagreesWithTheRecords) {
  auto o = TestOptions(root_);
  o.max_recover_attempts = 0;
  auto s = OpenStore(o);
  ASSERT_OK(s->RegisterShard("a", FileUrl(dir_.File("cars/a.car")), true));
  ASSERT_OK(s->RegisterShard("e", FileUrl(dir_.File("cars/e.car")), true));
  ASSERT_OK(s->FailShard("e", "boom"));
  EXPECT_EQ(Problems(*s), "");
  ASSERT_OK(s->db()->Update([&](Tx& tx) {
    Bucket attention = tx.GetBucket("attention");
    if (Status d = attention.Delete("e"); !d.ok()) return d;
    if (Status p = attention.Put("a", ""); !p.ok()) return p;
    return attention.Put("ghost", "");
  }));
  EXPECT_EQ(Problems(*s),
            "attention: shard e is missing (a restart would not reconcile it)\n"
            "attention: shard a needs no attention\n"
            "attention: shard ghost does not exist\n");
  ASSERT_OK(s->db()->Update([&](Tx& tx) { return tx.GetBucket("meta").Delete("attention"); }));
  EXPECT_NE(Problems(*s).find("attention: the index is not marked built (meta)\n"),
            std::string::npos);
  ASSERT_OK(s->Close());
  s = OpenStore(o);
  EXPECT_EQ(StateOf(*s, "e"), ShardState::kErrored);
  EXPECT_EQ(Problems(*s), "");
  ASSERT_OK(s->Close());
  EXPECT_EQ(AttentionKeys(root_), std::vector<std::string>{"e"});
}

TEST_F(StoreTest, ManyThreadsAcquireAndInitializeConcurrently) {
  auto s = OpenStore(TestOptions(root_));
  std::vector<std::string> cars;
  for (int i = 0; i < 8; i++) {
    cars.push_back(Car("c" + std::to_string(i) + ".car", 10 + i));
    ASSERT_OK(s->RegisterShard("k" + std::to_string(i), FileUrl(cars.back()), true));
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; t++) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; round++) {
        const int i = (t + round) % 8;
        auto acc = s->AcquireShard("k" + std::to_string(i));
        if (!acc.ok()) {
          failures++;
          continue;
        }
        const auto& idx = (*acc)->index();
        if (idx.record_count() == 0) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < 8; i++) {
    EXPECT_EQ(StateOf(*s, "k" + std::to_string(i)), ShardState::kAvailable);
  }
  EXPECT_EQ(Problems(*s), "");
}

// Concurrent initializations commit their Available records (with their
// inverted entries) together, outside the state mutex; a FailShard racing
// them waits for a commit in flight, so the state on disk after a reopen is
// the state the store reported, shard by shard.
TEST_F(StoreTest, ConcurrentInitializationsAndFailuresPersistWhatWasReported) {
  auto o = TestOptions(root_);
  o.max_recover_attempts = 0;
  o.errored_policy = ErroredPolicy::kDoNotRecover;
  std::map<std::string, ShardState> reported;
  {
    auto s = OpenStore(o);
    constexpr int kShards = 12;
    for (int i = 0; i < kShards; i++) {
      ASSERT_OK(s->RegisterShard("k" + std::to_string(i),
                                 FileUrl(Car("c" + std::to_string(i) + ".car", 30 + i)), true));
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++) {
      threads.emplace_back([&, t] {
        for (int i = t; i < kShards; i += 4) (void)s->InitializeShard("k" + std::to_string(i));
      });
    }
    threads.emplace_back([&] {
      for (int i = 1; i < kShards; i += 3) {
        EXPECT_OK(s->FailShard("k" + std::to_string(i), "failed by the test"));
      }
    });
    for (auto& t : threads) t.join();
    for (const auto& info : s->AllShardsInfo()) {
      EXPECT_TRUE(info.state == ShardState::kAvailable || info.state == ShardState::kErrored)
          << info.key << " " << StateName(info.state);
      reported[info.key] = info.state;
    }
    for (int i = 1; i < kShards; i += 3) {
      EXPECT_EQ(reported["k" + std::to_string(i)], ShardState::kErrored);
    }
    EXPECT_EQ(Problems(*s), "");
    ASSERT_OK(s->Close());
  }
  auto s = OpenStore(o);
  for (const auto& [key, state] : reported) EXPECT_EQ(StateOf(*s, key), state) << key;
  EXPECT_EQ(Problems(*s), "");
}

// The Available commits of concurrent initializations share one
// transaction (CommitGrouped); when it fails, each write is committed again
// alone, so only the shard whose write fails is Errored (with the reason)
// and every other shard of the group is Available with all its entries.
// Several rounds: whether two commits meet in one group is up to timing.
TEST_F(StoreTest, AFailedGroupedCommitFailsOnlyTheShardWhoseWriteFails) {
  auto o = TestOptions(root_);
  o.max_recover_attempts = 0;
  o.errored_policy = ErroredPolicy::kDoNotRecover;
  auto s = OpenStore(o);
  constexpr int kRounds = 4, kShards = 6;
  std::vector<std::string> cars;
  for (int i = 0; i < kShards; i++) cars.push_back(Car("g" + std::to_string(i) + ".car", 60 + i));
  for (int round = 0; round < kRounds; round++) {
    const std::string bad = "r" + std::to_string(round) + "-bad";
    const std::string bad_car = Car("bad" + std::to_string(round) + ".car", 90 + round);
    const std::string damaged(BlocksOf(bad_car)[0].first.multihash());
    ASSERT_OK(
        s->db()->Update([&](Tx& tx) { return tx.GetBucket("inverted").Put(damaged, "\x80"); }));
    ASSERT_OK(s->RegisterShard(bad, FileUrl(bad_car), true));
    for (int i = 0; i < kShards; i++) {
      ASSERT_OK(s->RegisterShard("r" + std::to_string(round) + "-" + std::to_string(i),
                                 FileUrl(cars[i]), true));
    }
    std::map<std::string, Status> results;
    std::mutex results_mu;
    std::vector<std::thread> threads;
    for (int i = -1; i < kShards; i++) {
      const std::string key = i < 0 ? bad : "r" + std::to_string(round) + "-" + std::to_string(i);
      threads.emplace_back([&, key] {
        Status st = s->InitializeShard(key);
        std::lock_guard lock(results_mu);
        results[key] = st;
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& [key, st] : results) {
      if (key == bad) {
        EXPECT_EQ(Message(st), "recording the index: damaged inverted-index value") << key;
        EXPECT_EQ(StateOf(*s, key), ShardState::kErrored) << key;
      } else {
        EXPECT_OK(st) << key;
        EXPECT_EQ(StateOf(*s, key), ShardState::kAvailable) << key;
      }
    }
    ASSERT_OK(s->db()->Update([&](Tx& tx) { return tx.GetBucket("inverted").Delete(damaged); }));
    ASSERT_OK(s->DestroyShard(bad));  // nothing of it was written
    for (int i = 0; i < kShards; i++) {
      ExpectAllBlocks(*s, "r" + std::to_string(round) + "-" + std::to_string(i), cars[i]);
    }
    EXPECT_EQ(Problems(*s), "") << "round " << round;
  }
  ASSERT_OK(s->Close());
  s = OpenStore(o);
  EXPECT_EQ(s->AllShardsInfo().size(), static_cast<size_t>(kRounds * kShards));
  EXPECT_EQ(Problems(*s), "");
}

// A record that cannot be read because a page of the `shards` bucket is
// damaged is an error naming the damage, never "shard not found" (which
// would let an operator think the shard is gone, or register it again).
TEST_F(StoreTest, ADamagedShardsPageIsAnErrorNotAMissingShard) {
  const std::string root = dir_.File("damaged");  // not Go-checked at TearDown: damaged on purpose
  auto o = TestOptions(root);
  std::vector<std::pair<std::string, std::string>> batch;
  const std::string car = Car("a.car", 1);
  for (int i = 0; i < 300; i++) batch.emplace_back("k" + std::to_string(1000 + i), FileUrl(car));
  {
    auto s = OpenStore(o);
    auto added = s->RegisterLazyBatch(batch);
    ASSERT_TRUE(added.ok()) << Message(added.status());
    ASSERT_OK(s->Close());
  }
  const std::string db_path = root + "/datastore/dagstore.db";
  uint64_t shards_root = 0;
  uint32_t page_size = 0;
  {
    auto db = DB::Open(db_path);
    ASSERT_OK(db.status());
    page_size = (*db)->GetInfo().page_size;
    ASSERT_OK((*db)->View([&](Tx& tx) {
      shards_root = tx.GetBucket("shards").Root();
      return Status::OK();
    }));
    ASSERT_OK((*db)->Close());
  }
  ASSERT_NE(shards_root, 0u) << "the shards bucket must have pages of its own";
  // The page's flags say neither branch nor leaf.
  boltpp::testing::PatchFile(db_path, shards_root * page_size + 8, std::string("\x7f\x00", 2));
  auto s = OpenStore(o);  // Open reads no lazy New record
  auto info = s->GetShardInfo("k1005");
  ASSERT_FALSE(info.ok());
  EXPECT_FALSE(IsNotFound(info.status())) << Message(info.status());
  EXPECT_EQ(info.status().code(), Code::kCorruption) << Message(info.status());
  EXPECT_TRUE(Message(info.status()).starts_with("reading the record of shard k1005: "))
      << Message(info.status());
  const Status init = s->InitializeShard("k1005");
  EXPECT_EQ(init.code(), Code::kCorruption) << Message(init);
  EXPECT_EQ(s->AcquireShard("k1005").status().code(), Code::kCorruption);
  EXPECT_EQ(s->DestroyShard("k1005").code(), Code::kCorruption);
  EXPECT_EQ(s->RecoverShard("k1005").code(), Code::kCorruption);
  EXPECT_EQ(s->FailShard("k1005", "x").code(), Code::kCorruption);
  const Status reg = s->RegisterShard("k1005", FileUrl(car), true);
  EXPECT_EQ(reg.code(), Code::kCorruption) << Message(reg);  // not registered over the damage
  EXPECT_NE(Problems(*s), "");                               // verify sees the damage too
}

// initialize-all's bulk path: every shard reported once with its own
// result (a missing CAR and a shard that is not New fail alone), SUCCESS
// meaning Available with its blocks in the inverted index; interrupted, it
// starts no more shards and a second call resumes with the ones still New.
// initialize-all commits the shards indexed meanwhile together, merging
// their sorted multihash lists: here the committer is held in the first
// report until the other eight shards are indexed, so they go into one
// commit (eight runs, three copies of each CAR among them), and every
// multihash must still map to exactly the shards holding it.
TEST_F(StoreTest, InitializeShardsMergesAGroupOfShardsSharingBlocks) {
  auto s = OpenStore(TestOptions(root_));
  std::vector<std::string> keys, cars;
  for (int i = 0; i < 9; i++) {
    const std::string key = "k" + std::to_string(i);
    if (i < 3) {
      cars.push_back(Car(key + ".car", 40 + i));
    } else {  // copies of the first three
      cars.push_back(dir_.File("cars/" + key + ".car"));
      fs::copy_file(cars[static_cast<size_t>(i % 3)], cars.back());
    }
    keys.push_back(key);
    ASSERT_OK(s->RegisterShard(key, FileUrl(cars.back()), true));
  }
  std::atomic<size_t> started{0};
  std::atomic<bool> first_report{true};
  DagStore::BulkInitOptions bulk;
  bulk.concurrency = 3;
  bulk.on_start = [&](size_t, const std::string&) { started++; };
  bulk.on_done = [&](size_t, const std::string& key, const Status& st) {
    EXPECT_OK(st) << key;
    if (!first_report.exchange(false)) return;
    while (started < keys.size()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // their indexing ends
  };
  DagStore::BulkInitOptions::Stats stats;
  bulk.stats = &stats;
  ASSERT_EQ(s->InitializeShards(keys, bulk), keys.size());
  EXPECT_LE(stats.transactions, 3u) << "the held committer should have grouped the rest";
  for (int i = 0; i < 3; i++) {
    const std::set<std::string> holders{keys[i], keys[i + 3], keys[i + 6]};
    for (const auto& [cid, block] : BlocksOf(cars[i])) {
      auto found = s->ShardsContainingMultihash(cid.multihash());
      ASSERT_OK(found.status());
      EXPECT_EQ(std::set<std::string>(found->begin(), found->end()), holders) << i;
    }
  }
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, InitializeShardsReportsEachShardAndResumesAfterAnInterrupt) {
  auto o = TestOptions(root_);
  o.max_recover_attempts = 0;
  o.errored_policy = ErroredPolicy::kDoNotRecover;
  auto s = OpenStore(o);
  std::map<std::string, std::string> cars;
  std::vector<std::string> keys;
  for (int i = 0; i < 8; i++) {
    const std::string key = "k" + std::to_string(i);
    cars[key] = Car(key + ".car", 200 + i);
    keys.push_back(key);
    ASSERT_OK(s->RegisterShard(key, FileUrl(cars[key]), true));
  }
  ASSERT_OK(s->RegisterShard("missing", FileUrl(dir_.File("cars/none.car")), true));
  keys.insert(keys.begin() + 3, "missing");
  ASSERT_OK(s->RegisterShard("ready", FileUrl(Car("ready.car", 300)), false));  // Available
  keys.insert(keys.begin() + 5, "ready");
  for (size_t concurrency : {1, 3}) {
    SCOPED_TRACE(concurrency);
    std::mutex mu;
    std::vector<std::string> started;
    std::map<std::string, Status> done;
    DagStore::BulkInitOptions bulk;
    bulk.concurrency = concurrency;
    bulk.interrupted = [&] {
      std::lock_guard lock(mu);
      return concurrency == 1 && started.size() >= 4;  // the first run stops after 4
    };
    bulk.on_start = [&](size_t i, const std::string& key) {
      std::lock_guard lock(mu);
      EXPECT_EQ(keys[i], key);
      started.push_back(key);
    };
    bulk.on_done = [&](size_t i, const std::string& key, const Status& st) {
      std::lock_guard lock(mu);
      EXPECT_EQ(keys[i], key);
      EXPECT_TRUE(done.emplace(key, st).second) << key << " reported twice";
      if (st.ok()) {
        EXPECT_EQ(StateOf(*s, key), ShardState::kAvailable) << key;
      }
    };
    std::vector<std::string> todo;
    for (const auto& key : keys) {
      if (auto info = s->GetShardInfo(key); info.ok() && info->state == ShardState::kNew) {
        todo.push_back(key);
      }
    }
    if (concurrency == 1) todo.push_back("ready");  // refused: not New
    keys = todo;
    DagStore::BulkInitOptions::Stats stats;
    bulk.stats = &stats;
    const size_t n = s->InitializeShards(keys, bulk);
    EXPECT_EQ(n, concurrency == 1 ? 4u : keys.size());
    EXPECT_EQ(started.size(), n);
    EXPECT_EQ(done.size(), n);  // every started shard finished
    // Every shard indexed was committed, alone or in a group with others.
    size_t committed = 0;
    for (const auto& [key, st] : done) committed += st.ok();
    EXPECT_GE(stats.transactions, 1u);
    EXPECT_LE(stats.transactions, committed);
    EXPECT_GT(stats.indexing_seconds, 0);
    EXPECT_GT(stats.committing_seconds, 0);
    // The committer's CPU seconds fit in its wall seconds (one thread).
    EXPECT_GT(stats.committing_cpu_seconds, 0);
    EXPECT_LE(stats.committing_cpu_seconds, stats.committing_seconds + 0.01);
    for (const auto& [key, st] : done) {
      if (key == "missing") {
        EXPECT_EQ(Message(st),
                  "shard data " + dir_.File("cars/none.car") + " is missing or not a file");
        EXPECT_EQ(StateOf(*s, key), ShardState::kErrored);
      } else if (key == "ready") {
        EXPECT_EQ(Message(st),
                  "cannot initialize shard; expected state ShardStateNew, was: "
                  "ShardStateAvailable");
      } else {
        EXPECT_OK(st) << key;
        ExpectAllBlocks(*s, key, cars[key]);
      }
    }
    for (size_t i = n; i < keys.size(); i++) {
      if (keys[i] != "ready") {
        EXPECT_EQ(StateOf(*s, keys[i]), ShardState::kNew) << keys[i];
      }
    }
    EXPECT_EQ(Problems(*s), "");
  }
  for (const auto& [key, car] : cars) EXPECT_EQ(StateOf(*s, key), ShardState::kAvailable) << key;
  ASSERT_OK(s->Close());
  s = OpenStore(o);
  for (const auto& [key, car] : cars) ExpectAllBlocks(*s, key, car);
  EXPECT_EQ(Problems(*s), "");
}

// Shards indexed while a commit cannot run (the test holds the writer lock)
// gather into one group. Two of them meet a damaged inverted entry: the
// group's commit fails, is retried one shard per transaction, and only
// those two are Errored; every other shard of the group is Available with
// its entries, and verify is clean (also after a reopen).
TEST_F(StoreTest, AFailingShardInsideAnInitializeGroupFailsAlone) {
  auto o = TestOptions(root_);
  o.max_recover_attempts = 0;
  o.errored_policy = ErroredPolicy::kDoNotRecover;
  o.max_concurrent_index = 0;
  auto s = OpenStore(o);
  std::vector<std::string> keys;
  std::map<std::string, std::string> cars;
  std::vector<std::string> damaged;
  for (int i = 0; i < 8; i++) {
    const std::string key = (i == 2 || i == 6 ? "bad" : "good") + std::to_string(i);
    cars[key] = Car(key + ".car", 400 + i);
    keys.push_back(key);
    ASSERT_OK(s->RegisterShard(key, FileUrl(cars[key]), true));
    if (key.starts_with("bad")) damaged.emplace_back(BlocksOf(cars[key]).back().first.multihash());
  }
  ASSERT_OK(s->db()->Update([&](Tx& tx) {
    for (const auto& mh : damaged) {
      if (Status st = tx.GetBucket("inverted").Put(mh, "\x80"); !st.ok()) return st;
    }
    return Status::OK();
  }));
  auto writer = s->db()->Begin(true);  // holds every commit back
  ASSERT_OK(writer.status());
  std::mutex mu;
  std::map<std::string, Status> done;
  DagStore::BulkInitOptions bulk;
  bulk.concurrency = keys.size();
  bulk.on_done = [&](size_t, const std::string& key, const Status& st) {
    std::lock_guard lock(mu);
    done.emplace(key, st);
  };
  std::thread bulk_thread([&] { EXPECT_EQ(s->InitializeShards(keys, bulk), keys.size()); });
  // Every index file written, then a moment for the workers to queue their
  // shards: the committer holds at most one, the others wait as one group.
  for (int tries = 0; tries < 500; tries++) {
    bool all = true;
    for (const auto& key : keys) all = all && fs::exists(s->IndexPath(key));
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_OK(writer->Rollback());
  bulk_thread.join();
  ASSERT_EQ(done.size(), keys.size());
  for (const auto& [key, st] : done) {
    if (key.starts_with("bad")) {
      EXPECT_EQ(Message(st), "recording the index: damaged inverted-index value") << key;
      EXPECT_EQ(StateOf(*s, key), ShardState::kErrored) << key;
    } else {
      EXPECT_OK(st) << key;
      EXPECT_EQ(StateOf(*s, key), ShardState::kAvailable) << key;
      ExpectAllBlocks(*s, key, cars[key]);
    }
  }
  ASSERT_OK(s->db()->Update([&](Tx& tx) {
    for (const auto& mh : damaged) {
      if (Status st = tx.GetBucket("inverted").Delete(mh); !st.ok()) return st;
    }
    return Status::OK();
  }));
  EXPECT_EQ(Problems(*s), "");
  ASSERT_OK(s->Close());
  s = OpenStore(o);
  for (const auto& [key, car] : cars) {
    if (key.starts_with("good")) ExpectAllBlocks(*s, key, car);
  }
  EXPECT_EQ(Problems(*s), "");
}

// A lazy registration commits its record with other callers' records and
// only then becomes a shard: other callers racing it on the same key see
// either no shard or the registered one, never a destroyed shard brought
// back or an initialization reset to New (rounds of register vs destroy and
// acquire from other threads; verify after every round).
TEST_F(StoreTest, OperationsRacingALazyRegistrationOfTheSameKeyStayConsistent) {
  auto s = OpenStore(TestOptions(root_));
  const std::string car = Car("race.car", 7);
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; round++) {
    const std::string key = "race-" + std::to_string(round);
    std::atomic<bool> registered{false};
    Status destroyed = Status(Code::kInvalidArgument, "not tried");
    std::thread reg([&] {
      // A second lazy registration in the same group widens the window.
      std::thread other([&] { (void)s->RegisterShard(key + "-other", FileUrl(car), true); });
      EXPECT_OK(s->RegisterShard(key, FileUrl(car), true));
      registered = true;
      other.join();
    });
    std::thread racer([&] {
      for (int i = 0; i < 2000 && !destroyed.ok(); i++) {
        if (round % 2 == 0) {
          destroyed = s->DestroyShard(key);
        } else if (s->AcquireShard(key).ok()) {
          destroyed = Status::OK();  // acquired (and released with the accessor)
        }
        if (registered && !destroyed.ok() && i > 10) break;
      }
    });
    reg.join();
    racer.join();
    // The cache and the records agree: a shard is listed exactly when it can
    // be found, and a destroyed one has no record left.
    bool listed = false;
    for (const auto& info : s->AllShardsInfo()) listed = listed || info.key == key;
    EXPECT_EQ(listed, s->GetShardInfo(key).ok()) << key;
    if (round % 2 == 0 && destroyed.ok()) {
      EXPECT_FALSE(listed) << key << " came back";
    }
    EXPECT_EQ(Problems(*s), "") << "round " << round;
  }
  ASSERT_OK(s->Close());
  s = OpenStore(TestOptions(root_));
  EXPECT_EQ(Problems(*s), "");
}

// WAL mode (the default): a process that dies without closing leaves its
// commits in the log. The data file alone is then the last checkpoint (a
// valid bbolt file, Go's check included); the next open replays the log,
// so every reported change is there and verify holds.
TEST_F(StoreTest, WalCrashWithAPendingLogIsReplayedAtReopen) {
  const std::string a = Car("a.car", 1), b = Car("b.car", 2), c = Car("c.car", 3);
  const std::string db_path = root_ + "/datastore/dagstore.db";
  {
    auto s = OpenStore(TestOptions(root_));
    ASSERT_OK(s->RegisterShard("a", FileUrl(a), false));
    ASSERT_OK(s->Close());
  }
  EXPECT_FALSE(fs::exists(db_path + "-wal"));  // Close checkpoints and removes the log
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // the "crashing" process: no Close, no destructors
    auto st = DagStore::Open(TestOptions(root_));
    const bool ok = st.ok() && (*st)->RegisterShard("b", FileUrl(b), false).ok() &&
                    (*st)->RegisterShard("c", FileUrl(c), true).ok() &&
                    (*st)->DestroyShard("a").ok();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  {
    Options ro;
    ro.read_only = true;
    auto db = DB::Open(db_path, ro);
    ASSERT_OK(db.status());
    EXPECT_TRUE((*db)->WalPending());
    ASSERT_OK((*db)->View([&](Tx& tx) {  // the checkpoint: "a" only
      EXPECT_TRUE(tx.GetBucket("shards").Get("a"));
      EXPECT_FALSE(tx.GetBucket("shards").Get("b"));
      return Status::OK();
    }));
    ASSERT_OK((*db)->Close());
  }
  EXPECT_EQ(GoCheck(db_path), "");
  auto s = OpenStore(TestOptions(root_));
  EXPECT_FALSE(s->GetShardInfo("a").ok());
  EXPECT_FALSE(fs::exists(root_ + "/index/a.full.idx"));
  EXPECT_EQ(StateOf(*s, "b"), ShardState::kAvailable);
  EXPECT_EQ(StateOf(*s, "c"), ShardState::kNew);
  ExpectAllBlocks(*s, "b", b);
  EXPECT_EQ(Problems(*s), "");
  ASSERT_OK(s->Close());
  EXPECT_FALSE(fs::exists(db_path + "-wal"));
}

// StoreOptions::wal = false: no log, two syncs per commit; such an open also
// replays (and removes) a log left by a WAL-mode process that died.
TEST_F(StoreTest, WithoutWalModeNoLogIsKeptAndALeftLogIsReplayed) {
  const std::string a = Car("a.car", 1), b = Car("b.car", 2);
  const std::string db_path = root_ + "/datastore/dagstore.db";
  auto plain = TestOptions(root_);
  plain.wal = false;
  {
    auto s = OpenStore(plain);
    ASSERT_OK(s->RegisterShard("a", FileUrl(a), false));
    EXPECT_FALSE(fs::exists(db_path + "-wal"));
    ASSERT_OK(s->Close());
  }
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto st = DagStore::Open(TestOptions(root_));  // WAL mode
    ::_exit(st.ok() && (*st)->RegisterShard("b", FileUrl(b), false).ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(fs::exists(db_path + "-wal"));
  auto s = OpenStore(plain);
  EXPECT_FALSE(fs::exists(db_path + "-wal"));
  EXPECT_EQ(StateOf(*s, "a"), ShardState::kAvailable);
  EXPECT_EQ(StateOf(*s, "b"), ShardState::kAvailable);
  ExpectAllBlocks(*s, "b", b);
  EXPECT_EQ(Problems(*s), "");
}

// Concurrent lazy registrations share commits (group commit): every call
// that returned OK is durable (it survives a reopen), a key registered twice
// at once is accepted exactly once, and the store stays sound.
TEST_F(StoreTest, ConcurrentLazyRegistrationsAreEachDurableAndUnique) {
  const std::string a = Car("a.car", 1);
  constexpr int kThreads = 8, kPerThread = 40;
  std::atomic<int> accepted{0}, refused{0};
  {
    auto s = OpenStore(TestOptions(root_));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; i++) {
          // every key is tried by two threads at once
          const std::string key = "k" + std::to_string((t / 2) * kPerThread + i);
          Status st = s->RegisterShard(key, FileUrl(a), true);
          if (st.ok()) {
            accepted++;
          } else if (Message(st) == "shard already exists: " + key) {
            refused++;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(accepted.load(), kThreads / 2 * kPerThread);
    EXPECT_EQ(refused.load(), kThreads / 2 * kPerThread);
    EXPECT_EQ(Problems(*s), "");
  }
  auto s = OpenStore(TestOptions(root_));
  EXPECT_EQ(s->AllShardsInfo().size(), static_cast<size_t>(kThreads / 2 * kPerThread));
  for (const auto& info : s->AllShardsInfo()) EXPECT_EQ(info.state, ShardState::kNew);
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(StoreTest, LazyBatchRegistrationSkipsKnownKeys) {
  const std::string a = Car("a.car", 1);
  auto s = OpenStore(TestOptions(root_));
  ASSERT_OK(s->RegisterShard("x", FileUrl(a), true));
  auto n = s->RegisterLazyBatch({{"x", FileUrl(a)}, {"y", FileUrl(a)}, {"y", FileUrl(a)}});
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(s->AllShardsInfo().size(), 2u);
  EXPECT_FALSE(s->RegisterLazyBatch({{"z", "bogus://"}}).ok());
  EXPECT_EQ(s->AllShardsInfo().size(), 2u);
  EXPECT_EQ(Problems(*s), "");
}

// Batches whose keys all sort after the stored ones (a migrate of sorted
// keys) are appended with full pages, not bbolt's default half-full split:
// a restart reads every page of the shards bucket. A batch that lands
// between stored keys still goes in, with the default split.
TEST_F(StoreTest, LazyBatchesAppendedInKeyOrderFillTheirPages) {
  const std::string a = FileUrl(Car("a.car", 1));
  auto s = OpenStore(TestOptions(root_));
  auto leaf_fill = [&] {
    double fill = 0;
    EXPECT_OK(s->db()->View([&](Tx& tx) {
      const BucketStats st = tx.GetBucket("shards").Stats();
      fill = static_cast<double>(st.leaf_inuse) / static_cast<double>(st.leaf_alloc);
      return Status::OK();
    }));
    return fill;
  };
  auto key = [](int i, const char* suffix) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "k%06d%s", i, suffix);
    return std::string(buf);
  };
  for (int batch = 0; batch < 4; batch++) {
    std::vector<std::pair<std::string, std::string>> shards;
    for (int i = 0; i < 1500; i++) shards.emplace_back(key(batch * 1500 + i, ""), a);
    ASSERT_EQ(*s->RegisterLazyBatch(shards), 1500u);
  }
  EXPECT_GT(leaf_fill(), 0.9);
  std::vector<std::pair<std::string, std::string>> between;
  for (int i = 0; i < 100; i++) between.emplace_back(key(i * 50, "x"), a);
  ASSERT_EQ(*s->RegisterLazyBatch(between), 100u);
  EXPECT_EQ(Problems(*s), "");
  ASSERT_OK(s->Close());
  s = OpenStore(TestOptions(root_));
  const auto all = s->AllShardsInfo();
  ASSERT_EQ(all.size(), 6100u);
  for (const auto& info : all) {
    EXPECT_EQ(info.state, ShardState::kNew);
    EXPECT_EQ(info.url, a);
  }
  EXPECT_EQ(Problems(*s), "");
}

// The shard map's nodes live in the store's own node memory, which reuses
// the nodes of destroyed shards: destroys and registrations in a row keep
// exactly the right records, in memory and after a reopen.
TEST_F(StoreTest, DestroysAndRegistrationsInARowKeepExactlyTheRightShards) {
  const std::string a = FileUrl(Car("a.car", 1));
  std::set<std::string> want;
  auto first = TestOptions(root_);
  first.max_recover_attempts = 0;  // s1 stays Errored
  auto s = OpenStore(first);
  std::vector<std::pair<std::string, std::string>> batch;
  for (int i = 0; i < 900; i++) batch.emplace_back("s" + std::to_string(i), a);
  ASSERT_EQ(*s->RegisterLazyBatch(batch), 900u);
  for (const auto& [key, url] : batch) want.insert(key);
  for (int i = 0; i < 900; i += 3) {
    ASSERT_OK(s->DestroyShard("s" + std::to_string(i)));
    want.erase("s" + std::to_string(i));
    ASSERT_OK(s->RegisterShard("t" + std::to_string(i), a, true));
    want.insert("t" + std::to_string(i));
  }
  ASSERT_OK(s->RegisterShard("s0", a, true));  // a destroyed key can come back
  want.insert("s0");
  ASSERT_OK(s->FailShard("s1", "broken"));
  auto expect_exactly = [&](DagStore& store) {
    std::set<std::string> got;
    for (const auto& info : store.AllShardsInfo()) {
      got.insert(info.key);
      EXPECT_EQ(info.url, a) << info.key;
      EXPECT_EQ(info.state, info.key == "s1" ? ShardState::kErrored : ShardState::kNew) << info.key;
      EXPECT_EQ(info.error, info.key == "s1" ? "broken" : "") << info.key;
    }
    EXPECT_EQ(got, want);
  };
  expect_exactly(*s);
  EXPECT_EQ(Problems(*s), "");
  ASSERT_OK(s->Close());
  auto o = TestOptions(root_);
  o.errored_policy = ErroredPolicy::kDoNotRecover;
  s = OpenStore(o);
  expect_exactly(*s);
  EXPECT_EQ(Problems(*s), "");
}

// --index-in-kv (apps-spec 2.7): every shard's index in bucket idx/<key>,
// no index files; lookups, recovery, destroy, reopen and Verify as in file
// mode; the mode is fixed when the store is created.
TEST_F(StoreTest, IndexInKvKeepsTheIndexesInTheDatastore) {
  const std::string a = Car("a.car", 1), b = Car("b.car", 2), c = Car("c.car", 3);
  StoreOptions o = TestOptions(root_);
  o.index_in_kv = true;
  {
    auto s = OpenStore(o);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->index_in_kv());
    ASSERT_OK(s->RegisterShard("a", FileUrl(a), false));
    ASSERT_OK(s->RegisterShard("b", FileUrl(b), true));
    ASSERT_OK(s->InitializeShard("b"));
    ASSERT_OK(s->RegisterShard("c", FileUrl(c), false));
    for (const auto& [key, car] : {std::pair{"a", a}, {"b", b}, {"c", c}}) {
      EXPECT_FALSE(fs::exists(s->IndexPath(key)));
      auto index = s->LoadShardIndex(key);
      ASSERT_OK(index.status());
      EXPECT_EQ(index->record_count(), BlocksOf(car).size());  // duplicates and identity kept
      ExpectAllBlocks(*s, key, car);
    }
    EXPECT_EQ(Problems(*s), "");
    ASSERT_OK(s->FailShard("b", "broken"));
    s->WaitIdle();  // recovered once in the background
    EXPECT_EQ(StateOf(*s, "b"), ShardState::kAvailable);
    ASSERT_OK(s->DestroyShard("c"));
    EXPECT_FALSE(s->LoadShardIndex("c").ok());
    EXPECT_EQ(Problems(*s), "");
  }
  {
    auto s = OpenStore(TestOptions(root_));  // the recorded mode wins
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->index_in_kv());
    ExpectAllBlocks(*s, "a", a);
    ExpectAllBlocks(*s, "b", b);
    EXPECT_EQ(Problems(*s), "");
    // A lost record shows in Verify.
    const auto blocks = BlocksOf(a);
    ASSERT_OK(s->db()->Update([&](Tx& tx) {
      return tx.GetBucket("idx").GetBucket("a").Delete(blocks.back().first.multihash());
    }));
    EXPECT_NE(Problems(*s).find("shard a: index has "), std::string::npos) << Problems(*s);
  }
  const std::string files_root = dir_.File("files");
  ASSERT_OK(OpenStore(TestOptions(files_root))->Close());
  StoreOptions kv = TestOptions(files_root);
  kv.index_in_kv = true;
  auto refused = DagStore::Open(kv);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(Message(refused.status()).find("--index-in-kv is chosen when a store is created"),
            std::string::npos);
}

TEST(DagstoreRecordTest, RecordAndKeyListRoundTrip) {
  ShardRecord r{"baga6ea4seaq", "file:///x.car", "/t", ShardState::kErrored, true, "e"};
  EXPECT_EQ(EncodeRecord(r),
            R"({"k":"baga6ea4seaq","u":"file:///x.car","t":"/t","s":240,"l":true,"e":"e"})");
  auto back = DecodeRecord(EncodeRecord(r));
  ASSERT_OK(back.status());
  EXPECT_EQ(EncodeRecord(*back), EncodeRecord(r));
  EXPECT_FALSE(DecodeRecord(R"({"k":"a","u":"b","s":7})").ok());
  std::vector<std::string> keys = {"a", "", std::string(300, 'z')};
  auto decoded = DecodeKeyList(EncodeKeyList(keys));
  ASSERT_OK(decoded.status());
  EXPECT_EQ(*decoded, keys);
  EXPECT_FALSE(DecodeKeyList("\x05"
                             "ab")
                   .ok());
  EXPECT_EQ(EscapeKey("a/b c.car"), "a%2Fb%20c.car");
  EXPECT_EQ(EscapeKey(".hidden"), "%2Ehidden");
}

// DecodeRecord's canonical fast path and nlohmann's parser agree: records
// with every kind of string round-trip; other layouts still decode; damage
// is still refused.
TEST(DagstoreRecordTest, DecodeAgreesWithTheFullParserOnEveryLayout) {
  const std::vector<std::string> strings = {
      "",        "plain",        "quote\"d", "back\\slash", "tab\t", "\xc3\xa9t\xc3\xa9",
      "ctl\x01", "/abs/path.car"};
  for (const auto& a : strings) {
    for (const auto& b : strings) {
      for (ShardState st : {ShardState::kNew, ShardState::kErrored, ShardState::kRecovering}) {
        const ShardRecord r{a, b, a + b, st, a.size() % 2 == 0, b};
        nlohmann::ordered_json j = {{"k", r.key},       {"u", r.url},
                                    {"t", r.transient}, {"s", static_cast<int>(r.state)},
                                    {"l", r.lazy},      {"e", r.error}};
        EXPECT_EQ(EncodeRecord(r), j.dump());  // the fast encoder writes nlohmann's bytes
        auto back = DecodeRecord(EncodeRecord(r));
        ASSERT_OK(back.status());
        EXPECT_EQ(back->key, r.key);
        EXPECT_EQ(back->url, r.url);
        EXPECT_EQ(back->transient, r.transient);
        EXPECT_EQ(back->state, r.state);
        EXPECT_EQ(back->lazy, r.lazy);
        EXPECT_EQ(back->error, r.error);
      }
    }
  }
  auto reordered = DecodeRecord(R"({ "u": "file:///x", "k": "a", "s": 2 })");
  ASSERT_OK(reordered.status());
  EXPECT_EQ(reordered->key, "a");
  EXPECT_EQ(reordered->state, ShardState::kAvailable);
  EXPECT_FALSE(DecodeRecord(R"({"k":"a","u":"b","t":"","s":02,"l":true,"e":""})").ok());
  EXPECT_FALSE(DecodeRecord(R"({"k":"a","u":"b","t":"","s":9,"l":true,"e":""})").ok());
  EXPECT_FALSE(DecodeRecord(R"({"k":"a","u":"b","t":"","s":2,"l":true,"e":""}x)").ok());
  EXPECT_FALSE(DecodeRecord(R"({"k":"a","u":"b","t":"","s":2,"l":true,"e":"")").ok());
}

}  // namespace
}  // namespace boltpp::dagstore::testing
