// File: tests/api/wal_test.cc
// WAL mode (Options::wal): the log format (src/wal/log.h, white box), the
// records a transaction writes, replay at open, checkpoints and their
// triggers, read-only opens, and logs that do not belong to their data file.
//
// "Crash" here copies the database and its log while the handle is open:
// the copies hold what a process killed at that moment leaves (the page
// cache), i.e. the last checkpoint in the data file plus the log. Power
// cuts are the reliability suite's (tests/reliability, WAL configs).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <mutex>
#include <random>
#include <thread>
#include <tuple>

#include "testutil/fault_fs.h"
#include "testutil/mem_fs.h"
#include "testutil/model.h"
#include "testutil/random.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"
#include "testutil/test_db.h"
#include "wal/log.h"

namespace boltpp::testing {
namespace {

namespace fs = std::filesystem;

// ---- the log format ----

std::string LogOf(uint64_t salt, uint64_t base, const std::vector<std::string>& payloads,
                  uint64_t first_txid) {
  std::string b = wal::EncodeHeader(wal::Header{salt, base});
  for (size_t i = 0; i < payloads.size(); i++)
    b += wal::EncodeRecord(salt, first_txid + i, payloads[i]);
  return b;
}

TEST(WalLogFormat, EmptyAndZeroedLogsHoldNothing) {
  wal::Scan empty = wal::ParseLog("");
  EXPECT_FALSE(empty.has_header);
  EXPECT_TRUE(empty.records.empty());
  EXPECT_EQ(empty.stop, "");
  wal::Scan zero = wal::ParseLog(std::string(100, '\0'));
  EXPECT_FALSE(zero.has_header);
  EXPECT_EQ(zero.stop, "zeroed header");
  wal::Scan hdr = wal::ParseLog(wal::EncodeHeader({7, 3}));
  ASSERT_TRUE(hdr.has_header);
  EXPECT_EQ(hdr.header.base_txid, 3u);
  EXPECT_TRUE(hdr.records.empty());
  EXPECT_EQ(hdr.end, wal::kHeaderSize);
}

TEST(WalLogFormat, RecordsRoundTripAndTrailingZerosAreFreeSpace) {
  std::string b = LogOf(42, 9, {"one", "", std::string(5000, 'x')}, 10);
  const size_t used = b.size();
  b += std::string(4096, '\0');  // preallocated space
  wal::Scan s = wal::ParseLog(b);
  ASSERT_EQ(s.records.size(), 3u);
  EXPECT_EQ(s.stop, "");
  EXPECT_EQ(s.end, used);
  EXPECT_EQ(s.records[0].txid, 10u);
  EXPECT_EQ(s.Payload(s.records[0]), "one");
  EXPECT_EQ(s.Payload(s.records[1]), "");
  EXPECT_EQ(s.Payload(s.records[2]), std::string(5000, 'x'));
}

TEST(WalLogFormat, TornLastRecordEndsTheScan) {
  const std::string full = LogOf(1, 0, {"aaaa", "bbbbbbbbbbbbbbbb"}, 1);
  // Every cut inside the last record keeps exactly the first one.
  const size_t second = wal::kHeaderSize + wal::kFrameSize + 4;
  for (size_t cut = second + 1; cut < full.size(); cut++) {
    wal::Scan s = wal::ParseLog(full.substr(0, cut));
    ASSERT_EQ(s.records.size(), 1u) << "cut at " << cut;
    EXPECT_NE(s.stop.find("torn"), std::string::npos) << s.stop;
    EXPECT_EQ(s.end, second);
  }
}

TEST(WalLogFormat, BadChecksumEndsTheScan) {
  std::string b = LogOf(5, 0, {"first", "second", "third"}, 1);
  const size_t second_payload = wal::kHeaderSize + 2 * wal::kFrameSize + 5;
  b[second_payload + 2] ^= 0x20;
  wal::Scan s = wal::ParseLog(b);
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_NE(s.stop.find("checksum"), std::string::npos) << s.stop;
  // A damaged frame header (the txid) too.
  b = LogOf(5, 0, {"first", "second"}, 1);
  b[wal::kHeaderSize + 16] ^= 1;
  s = wal::ParseLog(b);
  EXPECT_TRUE(s.records.empty());
  EXPECT_FALSE(s.stop.empty());
}

TEST(WalLogFormat, RecordsOfAnOlderGenerationAreNotReplayed) {
  // A reset rewrote the header (new salt) and one record over a longer
  // older log: the older records after it must not count.
  std::string old_log = LogOf(111, 0, {"o1", "o2", "o3", "o4"}, 1);
  std::string fresh = LogOf(222, 4, {"n1"}, 5);
  std::string b = fresh + old_log.substr(fresh.size());
  wal::Scan s = wal::ParseLog(b);
  ASSERT_EQ(s.records.size(), 1u);
  EXPECT_EQ(s.Payload(s.records[0]), "n1");
  EXPECT_NE(s.stop.find("salt"), std::string::npos) << s.stop;
}

TEST(WalLogFormat, DamagedHeaderIsReported) {
  std::string b = LogOf(1, 0, {"a"}, 1);
  b[3] ^= 1;
  wal::Scan s = wal::ParseLog(b);
  EXPECT_FALSE(s.has_header);
  EXPECT_EQ(s.stop, "bad magic");
  b = LogOf(1, 0, {"a"}, 1);
  b[20] ^= 1;  // the salt: the header checksum fails
  s = wal::ParseLog(b);
  EXPECT_FALSE(s.has_header);
  EXPECT_EQ(s.stop, "header checksum mismatch");
}

TEST(WalLogFormat, HeadersSayVersionTwoAndVersionOneIsStillRead) {
  const std::string now = wal::EncodeHeader({7, 3});
  uint32_t version = 0;
  std::memcpy(&version, now.data() + 8, 4);
  EXPECT_EQ(version, 2u)
      << "two-file logs must be refused by one-file builds (they read version 1)";
  wal::Scan old = wal::ParseLog(wal::EncodeHeader({7, 3, 1}));
  ASSERT_TRUE(old.has_header) << old.stop;
  EXPECT_EQ(old.header.version, 1u);
  wal::Scan future = wal::ParseLog(wal::EncodeHeader({7, 3, 3}));
  EXPECT_FALSE(future.has_header);
  EXPECT_EQ(future.stop.rfind("unknown version 3", 0), 0u) << future.stop;
}

TEST(WalLogFormat, OperationsRoundTripAndGarbageNeverCrashes) {
  wal::OpWriter w;
  w.Create(0, "b");
  w.Put(1, "k", std::string(300, 'v'));
  w.Delete(1, "k");
  w.Open(0, "c");
  w.Move(1, "n", 2);
  w.SetSequence(2, uint64_t{1} << 40);
  w.DeleteBucket(0, "b");
  wal::OpReader r(w.bytes());
  std::vector<wal::Op> ops;
  for (;;) {
    wal::Op op;
    auto more = r.Next(&op);
    ASSERT_OK(more.status());
    if (!*more) break;
    ops.push_back(op);
  }
  ASSERT_EQ(ops.size(), 7u);
  EXPECT_EQ(ops[1].code, wal::OpCode::kPut);
  EXPECT_EQ(ops[1].value.size(), 300u);
  EXPECT_EQ(ops[4].dst, 2u);
  EXPECT_EQ(ops[5].number, uint64_t{1} << 40);
  EXPECT_EQ(ops[6].name, "b");
  // Every truncation and random bytes: an error or fewer ops, never a read
  // past the payload (ASan would say).
  const uint64_t seed = SeedOr(99);
  std::mt19937_64 rng(seed);
  for (size_t cut = 0; cut < w.bytes().size(); cut++) {
    wal::OpReader t(std::string_view(w.bytes()).substr(0, cut));
    wal::Op op;
    for (int i = 0; i < 20; i++) {
      auto more = t.Next(&op);
      if (!more.ok() || !*more) break;
    }
  }
  for (int i = 0; i < 2000; i++) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    wal::OpReader t(junk);
    wal::Op op;
    for (int j = 0; j < 64; j++) {
      auto more = t.Next(&op);
      if (!more.ok() || !*more) break;
    }
  }
}

// A transaction's operations are recorded after room for the record's
// frame, so the log writes them in place (AppendFramed): the record reads
// back exactly like one written by Append. The buffer then goes to the next
// transaction's recorder, which starts empty.
TEST(WalLogFormat, AFramedRecordReadsBackAndItsBufferIsReusedEmpty) {
  MemFileSystem mem;
  auto file = mem.Open("log", FileOpenOptions{});
  ASSERT_OK(file);
  wal::LogWriter log(std::move(*file), wal::Header{42, 9}, 0, 0);
  ASSERT_OK(log.Create(9));
  wal::OpWriter w;
  w.Create(0, "b");
  w.Put(1, "k", std::string(3000, 'v'));
  const std::string payload(w.bytes());
  ASSERT_OK(log.AppendFramed(10, w.framed(), /*no_sync=*/false));
  ASSERT_OK(log.Append(11, "plain", /*no_sync=*/false));
  wal::Scan scan = wal::ParseLog(mem.LiveBytes("log"));
  ASSERT_EQ(scan.records.size(), 2u) << scan.stop;
  EXPECT_EQ(scan.records[0].txid, 10u);
  EXPECT_EQ(scan.Payload(scan.records[0]), payload);
  EXPECT_EQ(scan.Payload(scan.records[1]), "plain");

  wal::OpWriter next(w.TakeBuffer());
  EXPECT_TRUE(next.bytes().empty());
  next.Delete(1, "x");
  wal::OpReader r(next.bytes());
  wal::Op op;
  ASSERT_TRUE(*r.Next(&op));
  EXPECT_EQ(op.code, wal::OpCode::kDelete);
  EXPECT_EQ(op.name, "x");
  EXPECT_FALSE(*r.Next(&op));
  std::string no_frame;
  EXPECT_CODE(log.AppendFramed(12, no_frame, false), Code::kInvalidArgument);
}

// ---- the engine in WAL mode ----

Options WalOptions() {
  Options o = TestOptions();
  o.wal = true;
  o.wal_checkpoint_interval = std::chrono::milliseconds(0);  // no timer thread
  return o;
}

// The two log files' suffixes (PATH-wal, PATH-wal2: docs/format.md).
const char* const kLogSuffixes[] = {"-wal", "-wal2"};

void RemoveLogs(const std::string& db_path) {
  for (const char* x : kLogSuffixes) fs::remove(db_path + x);
}

// Copies both log files of src (those present) beside dst, replacing dst's.
void CopyLogs(const std::string& src, const std::string& dst) {
  RemoveLogs(dst);
  for (const char* x : kLogSuffixes) {
    if (fs::exists(src + x)) fs::copy_file(src + x, dst + x);
  }
}

bool AnyLog(const std::string& db_path) {
  return fs::exists(db_path + "-wal") || fs::exists(db_path + "-wal2");
}

// Copies the data file and its logs (when present) to dst_dir: what a
// process killed now leaves behind.
std::string CrashCopy(const std::string& db_path, const TempDir& dst_dir,
                      const std::string& name = "crash.db") {
  const std::string out = dst_dir.File(name);
  fs::copy_file(db_path, out, fs::copy_options::overwrite_existing);
  CopyLogs(db_path, out);
  return out;
}

MBucket ModelOf(DB* db) {
  MBucket m;
  EXPECT_OK(ReadModel(db, &m));
  return m;
}

// The data file at path alone (its log left out) checks clean and holds
// exactly what the copy taken at the checkpoint holds.
void ExpectDataFileAloneIsTheCheckpoint(const std::string& path,
                                        const std::string& checkpoint_copy) {
  TempDir alone;
  const std::string data_only = CrashCopy(path, alone);
  RemoveLogs(data_only);
  auto db = DB::Open(data_only, TestOptions());
  ASSERT_OK(db.status());
  EXPECT_EQ(CheckDB(db->get()), "");
  auto old = DB::Open(checkpoint_copy, TestOptions());
  ASSERT_OK(old.status());
  EXPECT_EQ(Diff(ModelOf(old->get()), ModelOf(db->get())), "")
      << "the data file alone must be the checkpoint";
}

TEST(Wal, CommitsSurviveAKillAndReplayIntoTheDataFile) {
  TestDB t(WalOptions());
  ASSERT_TRUE(t.Open());
  ASSERT_OK(PutAll(t.db(), "b", {{"a", "1"}, {"b", "2"}}));
  ASSERT_OK(t->Checkpoint());
  ASSERT_OK(PutAll(t.db(), "b", {{"c", "3"}}));
  ASSERT_OK(t->Update([](Tx& tx) { return tx.GetBucket("b").Delete("a"); }));
  EXPECT_TRUE(fs::exists(t.path() + "-wal"));
  EXPECT_EQ(t->GetWalInfo().pending_records, 2);
  const MBucket want = ModelOf(t.db());
  EXPECT_EQ(CheckDB(t.db()), "");  // the in-memory freelist is sound too

  TempDir crash;
  const std::string copy = CrashCopy(t.path(), crash);
  {  // Read-only: the last checkpoint, and the log reported pending.
    Options ro = TestOptions();
    ro.read_only = true;
    auto db = DB::Open(copy, ro);
    ASSERT_OK(db.status());
    EXPECT_TRUE((*db)->WalPending());
    EXPECT_EQ((*db)->GetWalInfo().pending_records, 2);
    EXPECT_EQ(CheckDB(db->get()), "");
    EXPECT_EQ(ReadAll(db->get(), "b"),
              (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
  }
  {  // A read-write open without Options::wal replays, checkpoints, drops the log.
    auto db = DB::Open(copy, TestOptions());
    ASSERT_OK(db.status());
    EXPECT_EQ(Diff(want, ModelOf(db->get())), "");
    EXPECT_EQ(CheckDB(db->get()), "");
    EXPECT_FALSE((*db)->WalPending());
    ASSERT_OK((*db)->Close());
  }
  EXPECT_FALSE(AnyLog(copy));
  Options ro = TestOptions();
  ro.read_only = true;
  auto db = DB::Open(copy, ro);
  ASSERT_OK(db.status());
  EXPECT_EQ(Diff(want, ModelOf(db->get())), "") << "the data file alone holds every commit";
}

// One transaction with every kind of operation, including writes through a
// handle after its bucket moved and a bucket recreated after its deletion.
Status EveryOperation(Tx& tx) {
  auto a = tx.CreateBucket("a");
  if (!a.ok()) return a.status();
  auto n = a->CreateBucket("nested");
  if (!n.ok()) return n.status();
  for (int i = 0; i < 50; i++) {
    if (Status s = n->Put("k" + std::to_string(i), std::string(i * 40, 'v')); !s.ok()) return s;
  }
  if (Status s = n->Delete("k3"); !s.ok()) return s;
  Cursor c = n->NewCursor();
  for (auto e = c.Seek("k40"); e && e->key < "k45"; e = c.Next()) {
    if (Status s = c.Delete(); !s.ok()) return s;
  }
  auto b = tx.CreateBucketIfNotExists("b");
  if (!b.ok()) return b.status();
  if (Status s = tx.MoveBucket("nested", *a, *b); !s.ok()) return s;
  if (Status s = n->Put("after-move", "x"); !s.ok()) return s;  // the same handle
  if (auto seq = n->NextSequence(); !seq.ok()) return seq.status();
  if (Status s = b->SetSequence(77); !s.ok()) return s;
  auto d = a->CreateBucket("doomed");
  if (!d.ok()) return d.status();
  if (Status s = d->Put("x", "y"); !s.ok()) return s;
  if (auto dn = d->CreateBucket("inner"); !dn.ok()) return dn.status();
  if (Status s = a->DeleteBucket("doomed"); !s.ok()) return s;
  auto again = a->CreateBucket("doomed");
  if (!again.ok()) return again.status();
  if (Status s = again->Put("reborn", "1"); !s.ok()) return s;
  if (auto e = tx.CreateBucketIfNotExists("a"); !e.ok()) return e.status();  // exists: no record
  return tx.MoveBucket("b", Bucket(), *a);                                   // to the top and back
}

TEST(Wal, EveryOperationKindReplays) {
  TestDB t(WalOptions());
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Update([](Tx& tx) {
    auto old = tx.CreateBucket("old");
    if (!old.ok()) return old.status();
    for (int i = 0; i < 300; i++) {
      if (Status s = old->Put("key" + std::to_string(i), std::string(100, 'o')); !s.ok()) return s;
    }
    return Status::OK();
  }));
  ASSERT_OK(t->Checkpoint());
  ASSERT_OK(t->Update(EveryOperation));
  ASSERT_OK(t->Update([](Tx& tx) {
    Bucket old = tx.GetBucket("old");
    for (int i = 0; i < 300; i += 2) {
      if (Status s = old.Delete("key" + std::to_string(i)); !s.ok()) return s;
    }
    return tx.DeleteBucket("old");
  }));
  const MBucket want = ModelOf(t.db());
  ASSERT_EQ(want.sub.count("a"), 1u);
  EXPECT_EQ(want.sub.at("a").sub.at("b").seq, 77u);
  EXPECT_EQ(want.sub.at("a").sub.at("b").sub.at("nested").seq, 1u);
  TempDir crash;
  const std::string copy = CrashCopy(t.path(), crash);
  auto db = DB::Open(copy, WalOptions());
  ASSERT_OK(db.status());
  EXPECT_EQ(Diff(want, ModelOf(db->get())), "");
  EXPECT_EQ(CheckDB(db->get()), "");
}

TEST(Wal, RollbackWritesNoRecordAndBatchWritesOne) {
  Options o = WalOptions();
  o.max_batch_size = 4;
  o.max_batch_delay = std::chrono::seconds(5);
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  ASSERT_OK(t->Update([](Tx& tx) { return tx.CreateBucket("b").status(); }));
  const WalInfo before = t->GetWalInfo();
  {
    auto tx = t->Begin(true);
    ASSERT_OK(tx.status());
    ASSERT_OK(tx->GetBucket("b").Put("rolled", "back"));
    ASSERT_OK(tx->Rollback());
  }
  EXPECT_EQ(t->Update([](Tx& tx) {
               (void)tx.GetBucket("b").Put("failed", "too");
               return Status(Code::kInvalidArgument, "no");
             }).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(t->GetWalInfo().pending_records, before.pending_records);
  EXPECT_EQ(t->GetWalInfo().bytes, before.bytes);

  std::latch go(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++) {
    threads.emplace_back([&, i] {
      go.arrive_and_wait();
      EXPECT_OK(
          t->Batch([i](Tx& tx) { return tx.GetBucket("b").Put("k" + std::to_string(i), "v"); }));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(t->GetWalInfo().pending_records, before.pending_records + 1)
      << "four Batch callers, one transaction, one record";
  TempDir crash;
  auto db = DB::Open(CrashCopy(t.path(), crash), WalOptions());
  ASSERT_OK(db.status());
  EXPECT_EQ(ReadAll(db->get(), "b").size(), 4u);
  EXPECT_EQ(CheckDB(db->get()), "");
}

TEST(Wal, CheckpointEmptiesTheLogAndTheDataFileHoldsEverything) {
  TestDB t(WalOptions());
  ASSERT_TRUE(t.Open());
  for (int i = 0; i < 20; i++) ASSERT_OK(PutAll(t.db(), "b", {{"k" + std::to_string(i), "v"}}));
  EXPECT_EQ(t->GetWalInfo().pending_records, 20);
  const uint64_t before = t->GetWalInfo().checkpoint_txid;
  ASSERT_OK(t->Checkpoint());
  const WalInfo w = t->GetWalInfo();
  EXPECT_EQ(w.pending_records, 0);
  EXPECT_EQ(w.bytes, static_cast<int64_t>(wal::kHeaderSize));
  EXPECT_GT(w.checkpoint_txid, before);
  EXPECT_NE(w.checkpoint_txid % 2, before % 2) << "checkpoints alternate meta pages";
  ASSERT_OK(t->Checkpoint());  // nothing to do
  EXPECT_EQ(t->GetWalInfo().checkpoint_txid, w.checkpoint_txid);
  t.MustCheck();
  TempDir crash;
  const std::string copy = CrashCopy(t.path(), crash);
  RemoveLogs(copy);
  auto db = DB::Open(copy, TestOptions());
  ASSERT_OK(db.status());
  EXPECT_EQ(ReadAll(db->get(), "b").size(), 20u);
  EXPECT_EQ(CheckDB(db->get()), "");
}

// Puts 400 keys of 200 bytes into bucket "b" (returned in *kv) and
// checkpoints: a tree of a few dozen pages held by the data file.
void LoadAndCheckpoint(DB* db, std::map<std::string, std::string>* kv) {
  for (int i = 0; i < 400; i++) (*kv)["k" + std::to_string(i)] = std::string(200, 'a' + i % 26);
  ASSERT_OK(PutAll(db, "b", *kv));
  ASSERT_OK(db->Checkpoint());
}

TEST(Wal, PagesFreedSinceTheCheckpointAreNotReused) {
  TestDB t(WalOptions());
  ASSERT_TRUE(t.Open());
  std::map<std::string, std::string> kv;
  ASSERT_NO_FATAL_FAILURE(LoadAndCheckpoint(t.db(), &kv));
  TempDir crash;
  const std::string checkpoint_copy = CrashCopy(t.path(), crash, "at-checkpoint.db");
  // Rewrite everything many times: without the rule these commits would
  // overwrite the checkpoint's pages.
  for (int round = 0; round < 20; round++) {
    for (auto& [k, v] : kv) v = std::string(200 + round, 'A' + round);
    ASSERT_OK(PutAll(t.db(), "b", kv));
  }
  ExpectDataFileAloneIsTheCheckpoint(CrashCopy(t.path(), crash), checkpoint_copy);
  EXPECT_EQ(CheckDB(t.db()), "");
}

// Pages a commit allocates past the checkpoint's high-water mark are in no
// checkpoint's tree: once a later commit frees them they are reused, so a
// run of small commits between two checkpoints does not grow the file by
// its every rewritten page (it did: 4 pages per one-key commit).
TEST(Wal, PagesWrittenAndFreedBetweenCheckpointsAreReused) {
  TestDB t(WalOptions());
  ASSERT_TRUE(t.Open());
  std::map<std::string, std::string> kv;
  ASSERT_NO_FATAL_FAILURE(LoadAndCheckpoint(t.db(), &kv));
  const auto pages_at_checkpoint = static_cast<int64_t>(fs::file_size(t.path()) / 4096);
  TempDir crash;
  const std::string checkpoint_copy = CrashCopy(t.path(), crash, "at-checkpoint.db");
  for (int i = 0; i < 600; i++) {
    const std::string key = "k" + std::to_string((i * 7919) % 400);
    kv[key] = std::string(200, 'A' + i % 26);
    ASSERT_OK(PutAll(t.db(), "b", {{key, kv[key]}}));
  }
  ASSERT_EQ(t->GetWalInfo().pending_records, 600) << "no checkpoint may run in between";
  // Held: the checkpoint's pages that were rewritten (at most its whole
  // tree) plus the last commit's; without reuse, about 4 per commit.
  EXPECT_LT(t->GetStats().pending_page_n, pages_at_checkpoint + 16);
  const std::string copy = CrashCopy(t.path(), crash);
  ExpectDataFileAloneIsTheCheckpoint(copy, checkpoint_copy);  // reused pages are never its
  auto replayed = DB::Open(copy, WalOptions());
  ASSERT_OK(replayed.status());
  EXPECT_EQ(Diff(ModelOf(t.db()), ModelOf(replayed->get())), "");
  EXPECT_EQ(CheckDB(replayed->get()), "");
  EXPECT_EQ(CheckDB(t.db()), "");
}

// An ostream whose first write runs a hook: a hot backup that other
// commits overtake after it has written the metas.
class HookedStream : public std::streambuf {
 public:
  explicit HookedStream(std::function<void()> hook) : hook_(std::move(hook)) {}
  std::string bytes;

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (hook_) std::exchange(hook_, nullptr)();
    bytes.append(s, static_cast<size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) xsputn(reinterpret_cast<const char*>(&c), 1);
    return traits_type::not_eof(c);
  }

 private:
  std::function<void()> hook_;
};

// A read transaction begun at a checkpoint names that checkpoint's freelist
// page (its snapshot's meta does): a hot backup of it copies that page,
// however many checkpoints come before the copy reaches it. The next
// checkpoints free the page; it must stay pending until the reader ends.
// It did not: the old freelist page was freed as if the previous
// transaction had written it (bbolt's rule, where every commit writes one),
// so with the reader older than that, the page was released after the
// second checkpoint and rewritten as a leaf under the backup.
TEST(Wal, HotBackupOfACheckpointKeepsItsFreelistPageAcrossLaterCheckpoints) {
  TestDB t(WalOptions());
  ASSERT_TRUE(t.Open());
  std::map<std::string, std::string> kv;
  ASSERT_NO_FATAL_FAILURE(LoadAndCheckpoint(t.db(), &kv));
  const std::map<std::string, std::string> at_checkpoint = kv;
  ASSERT_OK_AND_ASSIGN(Tx reader, t->Begin(false));
  ASSERT_EQ(reader.ID(), t->GetWalInfo().checkpoint_txid);

  std::vector<Status> errors;
  HookedStream buf([&] {
    auto note = [&](Status s) {
      if (!s.ok()) errors.push_back(s);
    };
    // Two checkpoints: the first frees the reader's freelist page, the
    // second leaves no reader between the page's supposed writer and them.
    for (int round = 0; round < 2; round++) {
      for (auto& [k, v] : kv) v = std::string(200, 'A' + round);
      note(PutAll(t.db(), "b", kv));
      note(t->Checkpoint());
    }
    // Then commits that take every free page (and more).
    for (int round = 0; round < 3; round++) {
      std::map<std::string, std::string> more;
      for (int i = 0; i < 1000; i++)
        more["n" + std::to_string(round) + "-" + std::to_string(i)] = std::string(1000, 'x');
      note(PutAll(t.db(), "c", more));
    }
  });
  std::ostream out(&buf);
  auto written = reader.WriteTo(out);
  ASSERT_OK(written);
  ASSERT_OK(reader.Rollback());
  for (const Status& s : errors) ADD_FAILURE() << s.ToString();

  const std::string copy = t.dir().File("backup.db");
  {
    std::ofstream f(copy, std::ios::binary);
    f.write(buf.bytes.data(), static_cast<std::streamsize>(buf.bytes.size()));
  }
  Options ro = TestOptions();
  ro.read_only = true;
  auto db = DB::Open(copy, ro);
  ASSERT_OK(db.status());
  EXPECT_EQ(CheckDB(db->get()), "");
  EXPECT_EQ(ReadAll(db->get(), "b"), at_checkpoint);
}

TEST(Wal, SizeAndTimeThresholdsCheckpoint) {
  {
    Options o = WalOptions();
    o.wal_checkpoint_bytes = 4096;
    TestDB t(o);
    ASSERT_TRUE(t.Open());
    const uint64_t first = t->GetWalInfo().checkpoint_txid;
    for (int i = 0; i < 40; i++)
      ASSERT_OK(PutAll(t.db(), "b", {{"k" + std::to_string(i), std::string(300, 'v')}}));
    EXPECT_GT(t->GetWalInfo().checkpoint_txid, first);
    EXPECT_LT(t->GetWalInfo().bytes, 4096 + 1024);
  }
  Options o = WalOptions();
  o.wal_checkpoint_interval = std::chrono::milliseconds(20);
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  ASSERT_OK(PutAll(t.db(), "b", {{"k", "v"}}));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (t->GetWalInfo().pending_records > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(t->GetWalInfo().pending_records, 0) << "the timer did not checkpoint";
}

TEST(Wal, CloseRemovesTheLogAndReadOnlyOpensNeverWrite) {
  TestDB t(WalOptions());
  ASSERT_TRUE(t.Open());
  ASSERT_OK(PutAll(t.db(), "b", {{"k", "v"}}));
  TempDir crash;
  const std::string copy = CrashCopy(t.path(), crash);
  t.Close();
  EXPECT_FALSE(AnyLog(t.path()));
  ASSERT_TRUE(t.Open());
  EXPECT_EQ(ReadAll(t.db(), "b").size(), 1u);

  auto bytes = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string data = bytes(copy), log = bytes(copy + "-wal"), log2 = bytes(copy + "-wal2");
  Options ro = WalOptions();
  ro.read_only = true;
  {
    auto db = DB::Open(copy, ro);
    ASSERT_OK(db.status());
    EXPECT_TRUE((*db)->WalPending());
    EXPECT_EQ(CheckDB(db->get()), "");
    EXPECT_EQ((*db)->Checkpoint().code(), Code::kDatabaseReadOnly);
  }
  EXPECT_EQ(bytes(copy), data);
  EXPECT_EQ(bytes(copy + "-wal"), log);
  EXPECT_EQ(bytes(copy + "-wal2"), log2);
}

TEST(Wal, LogLongerThanTheCheckpointIsSkipped) {
  TestDB t(WalOptions());
  ASSERT_TRUE(t.Open());
  for (int i = 0; i < 5; i++) ASSERT_OK(PutAll(t.db(), "b", {{"k" + std::to_string(i), "v"}}));
  TempDir crash;
  const std::string before = CrashCopy(t.path(), crash, "before.db");
  ASSERT_OK(t->Checkpoint());
  // The data file of after the checkpoint with the log of before it (a
  // crash between the checkpoint's meta sync and the log's reset).
  const std::string after = CrashCopy(t.path(), crash, "after.db");
  CopyLogs(before, after);
  auto db = DB::Open(after, WalOptions());
  ASSERT_OK(db.status());
  EXPECT_EQ(ReadAll(db->get(), "b").size(), 5u);
  EXPECT_EQ(CheckDB(db->get()), "");
  ASSERT_OK((*db)->Update([](Tx& tx) { return tx.GetBucket("b").Put("k5", "v"); }));
  EXPECT_EQ(ReadAll(db->get(), "b").size(), 6u);
}

TEST(Wal, ALogOfAnotherCheckpointIsAClearError) {
  TestDB t(WalOptions());
  ASSERT_TRUE(t.Open());
  ASSERT_OK(PutAll(t.db(), "b", {{"k", "v"}}));
  TempDir crash;
  const std::string stale_data = CrashCopy(t.path(), crash, "x.db");
  ASSERT_OK(t->Checkpoint());
  ASSERT_OK(PutAll(t.db(), "b", {{"k2", "v"}}));
  // The new log beside the data file of before the checkpoint.
  CopyLogs(t.path(), stale_data);
  auto db = DB::Open(stale_data, WalOptions());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kCorruption);
  EXPECT_NE(db.status().ToString().find("move the log away"), std::string::npos)
      << db.status().ToString();
  Options ro = TestOptions();
  ro.read_only = true;
  auto r = DB::Open(stale_data, ro);
  ASSERT_OK(r.status());
  EXPECT_NE((*r)->GetWalInfo().stop.find("continues the checkpoint"), std::string::npos);
}

TEST(Wal, DamagedHeaderIsAClearErrorAndDamagedRecordsStopReplay) {
  TestDB t(WalOptions());
  ASSERT_TRUE(t.Open());
  for (int i = 0; i < 3; i++) ASSERT_OK(PutAll(t.db(), "b", {{"k" + std::to_string(i), "v"}}));
  TempDir crash;
  const std::string a = CrashCopy(t.path(), crash, "a.db");
  const std::string b = CrashCopy(t.path(), crash, "b.db");
  {
    std::fstream f(a + "-wal", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f.put('X');
  }
  auto db = DB::Open(a, WalOptions());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kCorruption);
  EXPECT_NE(db.status().ToString().find("bad magic"), std::string::npos) << db.status().ToString();
  // Damage the last record (the log's used bytes end with it; zeroes follow): the
  // first two replay.
  const auto size = static_cast<uint64_t>(t->GetWalInfo().bytes);
  {
    std::fstream f(b + "-wal", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 2));
    f.put('\x7f');
  }
  db = DB::Open(b, WalOptions());
  ASSERT_OK(db.status());
  EXPECT_EQ(ReadAll(db->get(), "b").size(), 2u);
  EXPECT_EQ(CheckDB(db->get()), "");
}

// A transaction whose record alone would fill the log commits as a
// checkpoint: its data is written once, to the data file, and no checkpoint
// of its pages is left for the commits after it to wait behind. Both
// parities of its txid: the meta must go to the page the last checkpoint
// does not use (one txid is skipped when needed).
TEST(Wal, ATransactionLargerThanTheLogCommitsAsACheckpoint) {
  for (int extra = 0; extra < 2; extra++) {
    SCOPED_TRACE("small commits before it: " + std::to_string(2 + extra));
    Options o = WalOptions();
    o.wal_checkpoint_bytes = 64 * 1024;
    TestDB t(o);
    ASSERT_TRUE(t.Open());
    ASSERT_OK(PutAll(t.db(), "b", {{"a", "1"}}));
    ASSERT_OK(t->Checkpoint());
    const uint64_t previous = t->GetWalInfo().checkpoint_txid;
    for (int i = 0; i < 2 + extra; i++)
      ASSERT_OK(PutAll(t.db(), "b", {{"small" + std::to_string(i), "v"}}));
    ASSERT_EQ(t->GetWalInfo().pending_records, 2 + extra);
    TempDir crash;
    const std::string before = CrashCopy(t.path(), crash, "before.db");

    const std::string marker = "large-value-marker-";
    uint64_t id = 0;
    ASSERT_OK(t->Update([&](Tx& tx) {
      id = tx.ID();
      auto b = tx.CreateBucketIfNotExists("big");
      if (!b.ok()) return b.status();
      for (int i = 0; i < 400; i++) {
        if (Status s = b->Put("k" + std::to_string(i), marker + std::string(300, 'a' + i % 26));
            !s.ok())
          return s;
      }
      return Status::OK();
    }));
    const WalInfo w = t->GetWalInfo();
    EXPECT_EQ(w.pending_records, 0) << "logged instead";
    EXPECT_EQ(w.bytes, static_cast<int64_t>(wal::kHeaderSize)) << "the log is reset";
    EXPECT_TRUE(w.checkpoint_txid == id || w.checkpoint_txid == id + 1) << w.checkpoint_txid;
    EXPECT_NE(w.checkpoint_txid % 2, previous % 2) << "it overwrote the last checkpoint's meta";
    EXPECT_EQ(w.last_change_txid, id);
    for (const char* x : kLogSuffixes) {
      std::ifstream in(t.path() + x, std::ios::binary);
      const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(log.find(marker), std::string::npos) << "the data went to the log too";
    }
    const MBucket want = ModelOf(t.db());
    EXPECT_EQ(CheckDB(t.db()), "");
    // The data file alone holds it and every commit logged before it.
    const std::string alone = CrashCopy(t.path(), crash, "alone.db");
    RemoveLogs(alone);
    {
      auto db = DB::Open(alone, TestOptions());
      ASSERT_OK(db.status());
      EXPECT_EQ(Diff(want, ModelOf(db->get())), "");
      EXPECT_EQ(CheckDB(db->get()), "");
    }
    // The old log beside the new data file (a crash before the log's reset
    // reached the disk): its records are all older, and are skipped.
    const std::string old_log = CrashCopy(t.path(), crash, "old-log.db");
    CopyLogs(before, old_log);
    {
      auto db = DB::Open(old_log, WalOptions());
      ASSERT_OK(db.status());
      EXPECT_EQ(Diff(want, ModelOf(db->get())), "");
      EXPECT_EQ(CheckDB(db->get()), "");
    }
    // Commits after it are logged again and replay on top of it.
    ASSERT_OK(PutAll(t.db(), "b", {{"after", "x"}}));
    EXPECT_EQ(t->GetWalInfo().pending_records, 1);
    const MBucket after = ModelOf(t.db());
    {
      auto db = DB::Open(CrashCopy(t.path(), crash, "replay.db"), WalOptions());
      ASSERT_OK(db.status());
      EXPECT_EQ(Diff(after, ModelOf(db->get())), "");
      EXPECT_EQ(CheckDB(db->get()), "");
    }
    ASSERT_TRUE(t.Reopen());
    EXPECT_EQ(Diff(after, ModelOf(t.db())), "");
    t.MustCheck();
  }
}

// Strict mode checks the tree before the meta of such a commit, with the
// freelist it writes; a transaction too large even for the log's record
// limit has no such limit this way.
TEST(Wal, ALargeTransactionInStrictModeChecksClean) {
  Options o = WalOptions();
  o.strict_mode = true;
  o.wal_checkpoint_bytes = 16 * 1024;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  for (int round = 0; round < 3; round++) {
    ASSERT_OK(t->Update([&](Tx& tx) {
      auto b = tx.CreateBucketIfNotExists("b");
      if (!b.ok()) return b.status();
      for (int i = 0; i < 300; i++) {
        const std::string k = "k" + std::to_string((i * 7 + round * 13) % 500);
        Status s = (i + round) % 4 == 0 ? b->Delete(k) : b->Put(k, std::string(100 + round, 'v'));
        if (!s.ok()) return s;
      }
      return Status::OK();
    }));
    EXPECT_EQ(t->GetWalInfo().pending_records, 0);
    ASSERT_OK(PutAll(t.db(), "b", {{"small", std::to_string(round)}}));
    EXPECT_EQ(t->GetWalInfo().pending_records, 1);
  }
  t.MustCheck();
}

// WalInfo::last_change_txid: the newest commit that changed data, kept
// across checkpoints, so that "anything written since?" needs no guess at
// the txids checkpoints take.
TEST(Wal, LastChangeTxidTellsWhetherDataChangedSinceTheCheckpoint) {
  TestDB t(WalOptions());
  ASSERT_TRUE(t.Open());
  WalInfo w = t->GetWalInfo();
  EXPECT_EQ(w.last_change_txid, w.checkpoint_txid) << "nothing since the checkpoint at open";
  uint64_t id = 0;
  ASSERT_OK(t->Update([&](Tx& tx) {
    id = tx.ID();
    auto b = tx.CreateBucket("b");
    return b.ok() ? b->Put("k", "v") : b.status();
  }));
  w = t->GetWalInfo();
  EXPECT_EQ(w.last_change_txid, id);
  EXPECT_GT(w.last_change_txid, w.checkpoint_txid);
  ASSERT_OK(t->Checkpoint());
  w = t->GetWalInfo();
  EXPECT_EQ(w.last_change_txid, id) << "a checkpoint changes no data";
  EXPECT_GT(w.checkpoint_txid, id);
  // Neither an empty commit, nor a rollback, nor a failed one change data.
  ASSERT_OK(t->Update([](Tx&) { return Status::OK(); }));
  {
    auto tx = t->Begin(true);
    ASSERT_OK(tx.status());
    ASSERT_OK(tx->GetBucket("b").Put("rolled", "back"));
    ASSERT_OK(tx->Rollback());
  }
  EXPECT_EQ(t->Update([](Tx& tx) {
               (void)tx.GetBucket("b").Put("failed", "x");
               return Status(Code::kInvalidArgument, "no");
             }).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(t->GetWalInfo().last_change_txid, id);
  ASSERT_OK(t->Checkpoint());
  EXPECT_EQ(t->GetWalInfo().last_change_txid, id);
  // A delete changes data.
  ASSERT_OK(t->Update([&](Tx& tx) {
    id = tx.ID();
    return tx.GetBucket("b").Delete("k");
  }));
  EXPECT_EQ(t->GetWalInfo().last_change_txid, id);
  ASSERT_OK(PutAll(t.db(), "b", {{"k2", "v"}}));
  const uint64_t last = t->GetWalInfo().last_change_txid;
  EXPECT_GT(last, id);

  // A read-only open of the crashed files: the last pending record's txid.
  TempDir crash;
  const std::string copy = CrashCopy(t.path(), crash);
  {
    Options ro = TestOptions();
    ro.read_only = true;
    auto db = DB::Open(copy, ro);
    ASSERT_OK(db.status());
    EXPECT_EQ((*db)->GetWalInfo().last_change_txid, last);
  }
  // Replayed at a read-write open: the replayed commits changed data.
  {
    auto db = DB::Open(copy, WalOptions());
    ASSERT_OK(db.status());
    w = (*db)->GetWalInfo();
    EXPECT_EQ(w.last_change_txid, last);
    EXPECT_GT(w.checkpoint_txid, last) << "the replay is checkpointed";
  }
  // A clean reopen: the data file's txid (all of it is the checkpoint).
  ASSERT_TRUE(t.Reopen());
  w = t->GetWalInfo();
  EXPECT_EQ(w.last_change_txid, w.checkpoint_txid);
  t.MustCheck();
}

TEST(Wal, LastChangeTxidWithoutWalMode) {
  TestDB t(TestOptions());
  ASSERT_TRUE(t.Open());
  const uint64_t at_open = t->GetWalInfo().last_change_txid;
  EXPECT_GT(at_open, 0u);
  EXPECT_FALSE(t->GetWalInfo().present);
  uint64_t id = 0;
  ASSERT_OK(t->Update([&](Tx& tx) {
    id = tx.ID();
    auto b = tx.CreateBucket("b");
    if (!b.ok()) return b.status();
    for (int i = 0; i < 2000; i++) {
      if (Status s = b->Put("k" + std::to_string(i), std::string(200, 'v')); !s.ok()) return s;
    }
    return Status::OK();
  }));
  EXPECT_EQ(t->GetWalInfo().last_change_txid, id);
  ASSERT_OK(t->Update([](Tx&) { return Status::OK(); }));
  EXPECT_EQ(t->GetWalInfo().last_change_txid, id);
  ASSERT_OK(t->Update([&](Tx& tx) {
    id = tx.ID();
    Bucket b = tx.GetBucket("b");
    for (int i = 0; i < 2000; i += 2) {
      if (Status s = b.Delete("k" + std::to_string(i)); !s.ok()) return s;
    }
    return Status::OK();
  }));
  // Shrink moves pages but changes no data.
  auto r = t->Shrink();
  ASSERT_OK(r.status());
  EXPECT_GT(r->transactions, 0);
  EXPECT_EQ(t->GetWalInfo().last_change_txid, id);
  t.MustCheck();
}

TEST(Wal, RandomTransactionsMatchTheModelAfterReplay) {
  const uint64_t seed = SeedOr(4242);
  std::printf("seed=%llu (set BOLTPP_SEED to repeat)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  GenConfig gc;
  gc.p_move = 0.03;
  Options o = WalOptions();
  o.wal_checkpoint_bytes = 64 * 1024;
  TestDB t(o);
  ASSERT_TRUE(t.Open());
  MBucket model;
  TempDir crash;
  for (int i = 0; i < 60; i++) {
    Ops ops = RandomOps(rng, gc, 1 + static_cast<int>(rng() % 80));
    ASSERT_OK(t->Update([&](Tx& tx) { return ApplyOps(tx, ops); }));
    ApplyOps(&model, ops);
    if (i % 10 == 9) {
      ASSERT_EQ(CheckDB(t.db()), "");
      auto db = DB::Open(CrashCopy(t.path(), crash), TestOptions());
      ASSERT_OK(db.status());
      ASSERT_EQ(Diff(model, ModelOf(db->get())), "") << "after transaction " << i;
      ASSERT_EQ(CheckDB(db->get()), "");
    }
  }
  EXPECT_EQ(Diff(model, ModelOf(t.db())), "");
}

// ---- the checkpoint's syncs run outside the writer gate ----
//
// A checkpoint holds commits only while it writes the freelist page and
// switches commits to the other log file; its data sync and meta sync run
// with commits going on (docs/design.md, "Checkpoint"). These tests run
// through FaultFileSystem over MemFileSystem: the injector's hook runs
// inside the checkpoint's syncs of the data file (before they reach the
// disk), commits there from another thread, and takes the crash images a
// power cut at that moment leaves.

constexpr const char* kMemDb = "/ck.db";

Options MemWalOptions(FileSystem* fs) {
  Options o = WalOptions();
  o.file_system = fs;
  o.wal_checkpoint_bytes = 64 << 20;  // checkpoints only when asked
  return o;
}

// What a power cut leaves: the data file durable or as it is live, and
// both logs as they are durably.
struct CrashImage {
  std::string data, log, log2;
  MBucket want;      // every commit returned before the image
  std::string when;  // for messages
};

CrashImage TakeImage(MemFileSystem* mem, bool live_data, const MBucket& want,
                     const std::string& when) {
  CrashImage im;
  im.data = live_data ? mem->LiveBytes(kMemDb) : mem->DurableBytes(kMemDb);
  im.log = mem->DurableBytes(std::string(kMemDb) + "-wal");
  im.log2 = mem->DurableBytes(std::string(kMemDb) + "-wal2");
  im.want = want;
  im.when = when + (live_data ? " (data file as written)" : " (data file as synced)");
  return im;
}

// The image recovers every commit in want, checks clean, and its data file
// alone is one of the checkpoints in ckpts (a clean bbolt file).
void ExpectImageRecovers(const CrashImage& im, const std::vector<MBucket>& ckpts) {
  SCOPED_TRACE(im.when);
  {
    MemFileSystem fs;
    fs.PutFile(kMemDb, im.data);
    Options o = TestOptions();
    o.file_system = &fs;
    o.read_only = true;
    auto alone = DB::Open(kMemDb, o);  // the logs left out
    ASSERT_OK(alone.status());
    EXPECT_EQ(CheckDB(alone->get()), "");
    const MBucket got = ModelOf(alone->get());
    bool matches = false;
    for (const MBucket& c : ckpts) matches |= Diff(c, got).empty();
    EXPECT_TRUE(matches) << "the data file alone is no checkpoint";
  }
  MemFileSystem fs;
  fs.PutFile(kMemDb, im.data);
  if (!im.log.empty()) fs.PutFile(std::string(kMemDb) + "-wal", im.log);
  if (!im.log2.empty()) fs.PutFile(std::string(kMemDb) + "-wal2", im.log2);
  Options o = WalOptions();
  o.file_system = &fs;
  auto db = DB::Open(kMemDb, o);
  ASSERT_OK(db.status());
  EXPECT_EQ(Diff(im.want, ModelOf(db->get())), "") << "a returned commit is lost";
  EXPECT_EQ(CheckDB(db->get()), "");
  ASSERT_OK((*db)->Update([](Tx& tx) { return tx.GetBucket("b").Put("after-recovery", "1"); }));
  EXPECT_EQ(CheckDB(db->get()), "");
}

TEST(WalCheckpoint, CommitsDuringItsSyncsGoOnAndSurviveACrashAtEveryStep) {
  MemFileSystem mem;
  FaultFileSystem ffs(&mem);
  auto db = DB::Open(kMemDb, MemWalOptions(&ffs));
  ASSERT_OK(db.status());
  std::map<std::string, std::string> kv;
  for (int i = 0; i < 200; i++) kv["k" + std::to_string(i)] = std::string(100, 'a' + i % 26);
  ASSERT_OK(PutAll(db->get(), "b", kv));
  ASSERT_OK((*db)->Checkpoint());
  const MBucket at_first = ModelOf(db->get());
  for (int round = 0; round < 5; round++) {
    for (int i = round; i < 200; i += 5) kv["k" + std::to_string(i)] = std::string(90, 'A' + round);
    ASSERT_OK(PutAll(db->get(), "b", kv));
  }
  const MBucket at_second = ModelOf(db->get());
  const uint64_t first_txid = (*db)->GetWalInfo().checkpoint_txid;

  std::vector<CrashImage> images;
  std::atomic<bool> armed{true};
  int data_syncs = 0;
  MBucket model = at_second;
  ffs.injector().SetHook([&](const FaultEvent& ev) {
    if (!armed || ev.op != FaultOp::kSync || ev.path != kMemDb) return Status::OK();
    const int n = ++data_syncs;  // 1: the pages, 2: the meta
    // The logs now: the old one, and the new one (reset, unsynced header).
    images.push_back(TakeImage(&mem, false, model, "before sync " + std::to_string(n)));
    // A commit while the checkpoint is inside its sync: it must not wait
    // for the checkpoint (a writer gate held here would hang the join).
    Status s;
    std::thread([&] {
      s = (*db)->Update([&](Tx& tx) {
        return tx.GetBucket("b").Put("during-" + std::to_string(n), std::string(50, 'd'));
      });
    }).join();
    EXPECT_OK(s);
    if (s.ok()) model.sub["b"].kv["during-" + std::to_string(n)] = std::string(50, 'd');
    images.push_back(TakeImage(&mem, false, model, "sync " + std::to_string(n)));
    images.push_back(TakeImage(&mem, true, model, "sync " + std::to_string(n)));
    return Status::OK();
  });
  ASSERT_OK((*db)->Checkpoint());
  armed = false;
  ffs.injector().SetHook(nullptr);
  EXPECT_EQ(data_syncs, 2) << "one sync of the pages, one of the meta";
  const WalInfo w = (*db)->GetWalInfo();
  EXPECT_GT(w.checkpoint_txid, first_txid);
  EXPECT_EQ(w.pending_records, 2) << "the commits made during the syncs are in the new log";
  EXPECT_EQ(Diff(model, ModelOf(db->get())), "");
  EXPECT_EQ(CheckDB(db->get()), "");
  // After the checkpoint: the old log retired, the commits since in the new.
  images.push_back(TakeImage(&mem, false, model, "after the checkpoint"));
  {  // A read-only open of that image reports both commits pending.
    MemFileSystem fs;
    fs.PutFile(kMemDb, images.back().data);
    fs.PutFile(std::string(kMemDb) + "-wal", images.back().log);
    fs.PutFile(std::string(kMemDb) + "-wal2", images.back().log2);
    Options ro = TestOptions();
    ro.file_system = &fs;
    ro.read_only = true;
    auto r = DB::Open(kMemDb, ro);
    ASSERT_OK(r.status());
    EXPECT_EQ((*r)->GetWalInfo().pending_records, 2);
    // Past the new generation's records lie the older ones of that file
    // (a reset rewrites only the header): the scan stops there, no damage.
    const std::string stop = (*r)->GetWalInfo().stop;
    EXPECT_TRUE(stop.empty() || stop.starts_with("salt mismatch")) << stop;
  }
  // The next checkpoint switches back to the first file: a third generation.
  ASSERT_OK(PutAll(db->get(), "b", {{"third", "3"}}));
  model.sub["b"].kv["third"] = "3";
  ASSERT_OK((*db)->Checkpoint());
  ASSERT_OK(PutAll(db->get(), "b", {{"fourth", "4"}}));
  model.sub["b"].kv["fourth"] = "4";
  images.push_back(TakeImage(&mem, false, model, "after a second checkpoint"));
  MBucket at_third = model;
  at_third.sub["b"].kv.erase("fourth");
  ASSERT_EQ(images.size(), 8u);
  for (const CrashImage& im : images) {
    ExpectImageRecovers(im, {at_first, at_second, at_third});
  }
  ASSERT_OK((*db)->Close());
  EXPECT_FALSE(mem.Exists(std::string(kMemDb) + "-wal"));
  EXPECT_FALSE(mem.Exists(std::string(kMemDb) + "-wal2"));
}

// A checkpoint that trims the high-water mark publishes the lower mark
// before its meta is durable; a commit made during its syncs must not cut
// the data file to that mark: a crash would leave the durable meta naming
// pages past the end (review of the checkpoint split). Rounds of a commit
// and a checkpoint after a large delete, each checkpoint's data sync with a
// commit inside it and the crash image of the live data file (truncations
// included) at that moment; the file must still shrink once each
// checkpoint is durable.
TEST(WalCheckpoint, CommitsDuringItNeverCutTheFileBelowTheDurableCheckpoint) {
  MemFileSystem mem;
  FaultFileSystem ffs(&mem);
  auto db = DB::Open(kMemDb, MemWalOptions(&ffs));
  ASSERT_OK(db.status());
  std::map<std::string, std::string> kv;
  for (int i = 0; i < 3000; i++) kv["k" + std::to_string(10000 + i)] = std::string(500, 'v');
  ASSERT_OK(PutAll(db->get(), "b", kv));
  ASSERT_OK((*db)->Checkpoint());
  const uint64_t loaded_size = mem.LiveBytes(kMemDb).size();
  ASSERT_OK((*db)->Update([](Tx& tx) {
    Bucket b = tx.GetBucket("b");
    for (int i = 10; i < 3000; i++) {
      if (Status st = b.Delete("k" + std::to_string(10000 + i)); !st.ok()) return st;
    }
    return Status::OK();
  }));
  MBucket model = ModelOf(db->get());
  std::vector<MBucket> checkpoints{model};
  ASSERT_OK((*db)->Checkpoint());
  std::vector<CrashImage> images;
  std::atomic<int> syncs{0};
  int commits = 0;
  ffs.injector().SetHook([&](const FaultEvent& ev) {
    if (ev.op != FaultOp::kSync || ev.path != kMemDb || syncs++ % 2 != 0) return Status::OK();
    // Inside the data sync, before the meta is written: a commit, then the
    // live data file as a power cut could leave it.
    const std::string key = "during-" + std::to_string(commits++);
    Status st;
    std::thread([&] {
      st = (*db)->Update([&](Tx& tx) { return tx.GetBucket("b").Put(key, "d"); });
    }).join();
    EXPECT_OK(st);
    if (st.ok()) model.sub["b"].kv[key] = "d";
    images.push_back(TakeImage(&mem, true, model, "round " + std::to_string(commits)));
    return Status::OK();
  });
  for (int round = 0; round < 4; round++) {
    const std::string key = "round-" + std::to_string(round);
    ASSERT_OK(PutAll(db->get(), "b", {{key, "r"}}));
    model.sub["b"].kv[key] = "r";
    checkpoints.push_back(model);
    ASSERT_OK((*db)->Checkpoint());
  }
  ffs.injector().SetHook(nullptr);
  ASSERT_GE(images.size(), 4u);
  // Every model a checkpoint could hold: the ones before each round's
  // checkpoint, with any of the commits made during earlier syncs.
  std::vector<MBucket> candidates;
  for (const CrashImage& im : images) candidates.push_back(im.want);
  for (MBucket c : checkpoints) candidates.push_back(c);
  for (size_t i = 0; i < images.size(); i++) {
    MBucket without = images[i].want;
    without.sub["b"].kv.erase("during-" + std::to_string(i));
    candidates.push_back(without);
  }
  for (const CrashImage& im : images) ExpectImageRecovers(im, candidates);
  EXPECT_LT(mem.LiveBytes(kMemDb).size(), loaded_size / 2) << "the file was never trimmed";
  EXPECT_EQ(CheckDB(db->get()), "");
  ASSERT_OK((*db)->Close());
}

// A failed data sync or meta sync outside the gate fails the handle: the
// commits made meanwhile returned OK, and the reopen (replaying both logs)
// holds every one of them.
TEST(WalCheckpoint, AFailedSyncOutsideTheGateFailsTheHandleAndLosesNoCommit) {
  for (int failing = 1; failing <= 2; failing++) {
    SCOPED_TRACE(failing == 1 ? "the pages' sync fails" : "the meta's sync fails");
    MemFileSystem mem;
    FaultFileSystem ffs(&mem);
    auto db = DB::Open(kMemDb, MemWalOptions(&ffs));
    ASSERT_OK(db.status());
    for (int i = 0; i < 20; i++)
      ASSERT_OK(PutAll(db->get(), "b", {{"k" + std::to_string(i), "v"}}));
    int data_syncs = 0;
    bool during_ok = false;
    ffs.injector().SetHook([&](const FaultEvent& ev) {
      if (ev.op != FaultOp::kSync || ev.path != kMemDb) return Status::OK();
      if (++data_syncs != failing) return Status::OK();
      std::thread([&] { during_ok = PutAll(db->get(), "b", {{"during", "d"}}).ok(); }).join();
      return Status(Code::kIOError, "injected: sync failed");
    });
    Status c = (*db)->Checkpoint();
    ffs.injector().SetHook(nullptr);
    EXPECT_FALSE(c.ok());
    EXPECT_TRUE(during_ok) << "a commit during the sync waited for it or failed";
    EXPECT_EQ((*db)->Update([](Tx&) { return Status::OK(); }).code(), Code::kDatabaseFailed);
    (void)(*db)->Close();  // keeps both logs
    db = DB::Open(kMemDb, MemWalOptions(&mem));
    ASSERT_OK(db.status());
    const auto got = ReadAll(db->get(), "b");
    EXPECT_EQ(got.size(), 21u);
    EXPECT_EQ(got.count("during"), 1u);
    EXPECT_EQ(CheckDB(db->get()), "");
    ASSERT_OK((*db)->Close());
  }
}

// A transaction too large for the log commits as a checkpoint; one that
// does so while a checkpoint's syncs run waits for that checkpoint's meta
// (both would write the same meta page), and both end up durable.
TEST(WalCheckpoint, ALargeCommitDuringItsSyncWaitsForIt) {
  MemFileSystem mem;
  FaultFileSystem ffs(&mem);
  Options o = MemWalOptions(&ffs);
  o.wal_checkpoint_bytes = 64 * 1024;
  auto db = DB::Open(kMemDb, o);
  ASSERT_OK(db.status());
  for (int i = 0; i < 10; i++) ASSERT_OK(PutAll(db->get(), "b", {{"k" + std::to_string(i), "v"}}));
  std::thread large;
  Status large_status;
  bool started = false;
  ffs.injector().SetHook([&](const FaultEvent& ev) {
    if (started || ev.op != FaultOp::kSync || ev.path != kMemDb) return Status::OK();
    started = true;
    large = std::thread([&] {
      large_status = (*db)->Update([](Tx& tx) {
        auto b = tx.CreateBucketIfNotExists("big");
        if (!b.ok()) return b.status();
        for (int i = 0; i < 300; i++) {
          if (Status s = b->Put("k" + std::to_string(i), std::string(400, 'x')); !s.ok()) return s;
        }
        return Status::OK();
      });
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it reach the wait
    return Status::OK();
  });
  const uint64_t before = (*db)->GetWalInfo().checkpoint_txid;
  ASSERT_OK((*db)->Checkpoint());
  large.join();
  ffs.injector().SetHook(nullptr);
  ASSERT_OK(large_status);
  const WalInfo w = (*db)->GetWalInfo();
  EXPECT_GT(w.checkpoint_txid, before + 1) << "the large commit is a checkpoint too";
  EXPECT_EQ(w.pending_records, 0);
  EXPECT_EQ(CheckDB(db->get()), "");
  const MBucket want = ModelOf(db->get());
  // The data file alone holds everything (the logs left out).
  MemFileSystem copy;
  copy.PutFile(kMemDb, mem.DurableBytes(kMemDb));
  Options ro = TestOptions();
  ro.file_system = &copy;
  auto alone = DB::Open(kMemDb, ro);
  ASSERT_OK(alone.status());
  EXPECT_EQ(Diff(want, ModelOf(alone->get())), "");
  EXPECT_EQ(CheckDB(alone->get()), "");
  ASSERT_OK((*db)->Close());
}

}  // namespace
}  // namespace boltpp::testing

namespace boltpp::testing {
namespace {

// A one-file log (version 1) with `version` written into its header, salt
// and base kept.
std::string WithHeaderVersion(const std::string& log, uint32_t version) {
  wal::Scan scan = wal::ParseLog(log);
  EXPECT_TRUE(scan.has_header) << scan.stop;
  wal::Header h = scan.header;
  h.version = version;
  return wal::EncodeHeader(h) + log.substr(wal::kHeaderSize);
}

uint32_t DurableHeaderVersion(MemFileSystem* mem, const std::string& path) {
  wal::Scan scan = wal::ParseLog(mem->DurableBytes(path));
  EXPECT_TRUE(scan.has_header) << path << ": " << scan.stop;
  return scan.header.version;
}

// A log left by a build from before the second file (version 1, PATH-wal
// only) replays; its header is then rewritten as version 2 durably before
// the open returns, so that a crash from then on never leaves a version-1
// header beside records in PATH-wal2, which such a build would not read.
TEST(WalUpgrade, AOneFileLogReplaysAndBothHeadersAreDurablyVersionTwo) {
  MemFileSystem mem;
  MBucket want;
  {
    auto db = DB::Open(kMemDb, MemWalOptions(&mem));
    ASSERT_OK(db.status());
    for (int i = 0; i < 3; i++) ASSERT_OK(PutAll(db->get(), "b", {{"k" + std::to_string(i), "v"}}));
    want = ModelOf(db->get());
    MemFileSystem old;  // what a crash leaves, as a one-file build wrote it
    old.PutFile(kMemDb, mem.DurableBytes(kMemDb));
    old.PutFile(std::string(kMemDb) + "-wal",
                WithHeaderVersion(mem.DurableBytes(std::string(kMemDb) + "-wal"), 1));
    auto reopened = DB::Open(kMemDb, MemWalOptions(&old));
    ASSERT_OK(reopened.status());
    EXPECT_EQ(Diff(want, ModelOf(reopened->get())), "") << "the version-1 log's commits replay";
    EXPECT_EQ(CheckDB(reopened->get()), "");
    for (const char* x : {"-wal", "-wal2"}) {
      EXPECT_EQ(DurableHeaderVersion(&old, std::string(kMemDb) + x), 2u) << x;
    }
    ASSERT_OK((*reopened)->Update([](Tx& tx) { return tx.GetBucket("b").Put("after", "1"); }));
    EXPECT_EQ(CheckDB(reopened->get()), "");
  }
}

TEST(WalUpgrade, ALogOfANewerVersionIsRefusedWithAClearError) {
  MemFileSystem mem;
  auto db = DB::Open(kMemDb, MemWalOptions(&mem));
  ASSERT_OK(db.status());
  ASSERT_OK(PutAll(db->get(), "b", {{"k", "v"}}));
  MemFileSystem newer;
  newer.PutFile(kMemDb, mem.DurableBytes(kMemDb));
  const std::string log = mem.DurableBytes(std::string(kMemDb) + "-wal");
  newer.PutFile(std::string(kMemDb) + "-wal", WithHeaderVersion(log, 3));
  auto refused = DB::Open(kMemDb, MemWalOptions(&newer));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kCorruption);
  EXPECT_NE(refused.status().ToString().find("unknown version 3"), std::string::npos)
      << refused.status().ToString();
  // Nothing was written: the log is as it was.
  EXPECT_EQ(newer.LiveBytes(std::string(kMemDb) + "-wal"), WithHeaderVersion(log, 3));
}

// What a crash now leaves of the store on mem, opened in WAL mode.
Result<std::unique_ptr<DB>> OpenCrashImage(MemFileSystem* mem, MemFileSystem* image) {
  image->PutFile(kMemDb, mem->DurableBytes(kMemDb));
  for (const char* x : {"-wal", "-wal2"}) {
    const std::string log = mem->DurableBytes(std::string(kMemDb) + x);
    if (!log.empty()) image->PutFile(std::string(kMemDb) + x, log);
  }
  return DB::Open(kMemDb, MemWalOptions(image));
}

// MemWalOptions with the record's sync on the log's sync thread.
Options SyncThreadOptions(FileSystem* fs) {
  Options o = MemWalOptions(fs);
  o.wal_sync_thread = true;
  return o;
}

// Puts "lost" (one small value), or with large 300 keys of 400-byte
// values: a record past wal::kOverlapSyncBytes.
Status PutLost(Tx& tx, bool large) {
  Bucket b = tx.GetBucket("b");
  if (!large) return b.Put("lost", "v");
  for (int i = 0; i < 300; i++) {
    if (Status s = b.Put("lost" + std::to_string(i), std::string(400, 'v')); !s.ok()) return s;
  }
  return Status::OK();
}

// With Options::wal_sync_thread, or with a record of wal::kOverlapSyncBytes
// or more, a logged commit writes its record and starts its sync before it
// writes its pages; when a page write then fails, the commit fails and its
// record is taken back, so neither a crash nor the next commit's sync
// revives it. A small commit without the option writes its pages first and
// the failed commit never writes its record: the same outcome.
// Parameters: (Options::wal_sync_thread, a large transaction).
class WalLogSync : public ::testing::TestWithParam<std::tuple<bool, bool>> {
 protected:
  Options Opts(FileSystem* fs) {
    return std::get<0>(GetParam()) ? SyncThreadOptions(fs) : MemWalOptions(fs);
  }
  bool Large() const { return std::get<1>(GetParam()); }
};

TEST_P(WalLogSync, ACommitWhosePagesFailLeavesNoRecord) {
  MemFileSystem mem;
  FaultFileSystem ffs(&mem);
  auto db = DB::Open(kMemDb, Opts(&ffs));
  ASSERT_OK(db.status());
  ASSERT_OK(PutAll(db->get(), "b", {{"k0", "v"}}));
  const int64_t records = (*db)->GetWalInfo().pending_records;
  ffs.injector().SetPathFilter("ck.db");  // the data file, not its logs
  ffs.injector().FailNth(FaultOp::kWrite, 1);
  Status failed = (*db)->Update([&](Tx& tx) { return PutLost(tx, Large()); });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(ffs.injector().injected(FaultOp::kWrite), 1);
  ffs.injector().ClearAll();
  ffs.injector().SetPathFilter("");
  EXPECT_EQ((*db)->GetWalInfo().pending_records, records);
  ASSERT_OK(PutAll(db->get(), "b", {{"k2", "v"}}));
  EXPECT_EQ(CheckDB(db->get()), "");
  MemFileSystem image;
  auto crashed = OpenCrashImage(&mem, &image);
  ASSERT_OK(crashed.status());
  EXPECT_EQ(ReadAll(crashed->get(), "b"),
            (std::map<std::string, std::string>{{"k0", "v"}, {"k2", "v"}}));
  EXPECT_EQ(CheckDB(crashed->get()), "");
}

INSTANTIATE_TEST_SUITE_P(RecordFirstOrPagesFirst, WalLogSync,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<bool, bool>>& p) {
                           return std::string(std::get<0>(p.param) ? "SyncThread" : "Default") +
                                  (std::get<1>(p.param) ? "LargeRecord" : "SmallRecord");
                         });

// Without Options::wal_sync_thread a small commit writes its pages, then its
// record; a commit whose record reaches wal::kOverlapSyncBytes writes its
// record first (its sync runs on the sync thread while the pages are
// written). Both commits are durable and replay.
TEST(WalLogSyncOrder, ALargeRecordGoesBeforeThePagesASmallOneAfter) {
  MemFileSystem mem;
  FaultFileSystem ffs(&mem);
  auto db = DB::Open(kMemDb, MemWalOptions(&ffs));
  ASSERT_OK(db.status());
  ASSERT_OK(PutAll(db->get(), "b", {{"k0", "v"}}));
  std::mutex mu;
  std::vector<bool> to_log;  // the commit's writes in order: true for a log file
  ffs.injector().SetHook([&](const FaultEvent& ev) {
    if (ev.op == FaultOp::kWrite) {
      std::lock_guard lock(mu);
      to_log.push_back(ev.path.ends_with("-wal") || ev.path.ends_with("-wal2"));
    }
    return Status::OK();
  });
  ASSERT_OK((*db)->Update([](Tx& tx) { return PutLost(tx, false); }));
  ASSERT_GE(to_log.size(), 2u);
  EXPECT_FALSE(to_log.front()) << "a small commit writes a page first";
  EXPECT_TRUE(to_log.back()) << "and its record last";
  to_log.clear();
  ASSERT_OK((*db)->Update([](Tx& tx) { return PutLost(tx, true); }));
  ASSERT_GE(to_log.size(), 2u);
  EXPECT_TRUE(to_log.front()) << "a large commit writes its record first";
  EXPECT_FALSE(to_log.back()) << "and its pages after it";
  ffs.injector().ClearAll();
  EXPECT_EQ(CheckDB(db->get()), "");
  MemFileSystem image;
  auto crashed = OpenCrashImage(&mem, &image);
  ASSERT_OK(crashed.status());
  const auto all = ReadAll(crashed->get(), "b");
  EXPECT_EQ(all.size(), 302u);  // k0, lost, lost0..lost299
  EXPECT_EQ(all.count("lost"), 1u);
  EXPECT_EQ(all.count("lost299"), 1u);
  EXPECT_EQ(CheckDB(crashed->get()), "");
}

// With the sync thread, when the record cannot be taken back either (its
// zeroing write fails), the handle fails with a message that says so: only
// a reopen settles whether the failed commit's record is in the log.
TEST(WalLogSyncThread, ARecordThatCannotBeTakenBackFailsTheHandle) {
  MemFileSystem mem;
  FaultFileSystem ffs(&mem);
  auto db = DB::Open(kMemDb, SyncThreadOptions(&ffs));
  ASSERT_OK(db.status());
  ASSERT_OK(PutAll(db->get(), "b", {{"k0", "v"}}));
  std::atomic<int> writes{0};
  ffs.injector().SetHook([&](const FaultEvent& ev) {
    // The record's write passes; every write after it fails.
    if (ev.op == FaultOp::kWrite && writes++ > 0) return Status(Code::kIOError, "disk gone");
    return Status::OK();
  });
  ASSERT_FALSE((*db)->Update([](Tx& tx) { return tx.GetBucket("b").Put("lost", "v"); }).ok());
  ffs.injector().ClearAll();
  Status after = (*db)->Update([](Tx& tx) { return tx.GetBucket("b").Put("k2", "v"); });
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.ToString().find("could not be taken back"), std::string::npos)
      << after.ToString();
  db->reset();
  MemFileSystem image;
  auto crashed = OpenCrashImage(&mem, &image);
  ASSERT_OK(crashed.status());
  EXPECT_EQ(ReadAll(crashed->get(), "b").count("k0"), 1u);
  EXPECT_EQ(ReadAll(crashed->get(), "b").count("k2"), 0u);
  EXPECT_EQ(CheckDB(crashed->get()), "");
}

}  // namespace
}  // namespace boltpp::testing
