// File: tests/reliability/crash_test.cc
// Crash simulation on MemFileSystem (leveldb's FaultInjectionTestEnv, redb's
// crash backend, SQLite's test6.c). Random transactions are committed one by
// one. Just before every sync the file system hands the test its durable
// image and the writes issued since, and the test builds the files a power
// cut at that moment could leave: nothing landed, everything landed, a random
// subset, a random subset in random order, writes torn into 512-byte sectors
// landing in any order, or an in-order prefix with a torn last write.
//
// Every image must open, check clean and hold exactly the previous commit,
// or -- once the commit's meta page is among the unsynced writes -- the
// previous or the new commit (and the new one when every write landed).
// Every third image must also accept a further commit. Images that fail are
// saved under $TMPDIR and their path printed with the seed.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <random>

#include "testutil/mem_fs.h"
#include "testutil/model.h"
#include "testutil/random.h"
#include "reliability/stats.h"

namespace boltpp::reliability {
using namespace boltpp::testing;  // the shared test toolkit (tests/testutil)
namespace {

struct CrashConfig {
  const char* name;
  uint32_t page_size;
  FreelistType freelist;
  bool no_freelist_sync;
  bool no_grow_sync;
  int commits;
  uint64_t seed;
  bool wal = false;               // WAL mode: images of the data file and of its log
  uint64_t checkpoint_bytes = 0;  // WAL: checkpoint past this much log
  bool sync_thread = false;       // WAL: Options::wal_sync_thread (the record first)
};

const CrashConfig kCrashConfigs[] = {
    {"page4k_array", 4096, FreelistType::kArray, false, false, 120, 1001},
    {"page1k_hashmap", 1024, FreelistType::kHashMap, false, true, 120, 2002},
    {"page4k_nofreelistsync", 4096, FreelistType::kArray, true, false, 80, 3003},
    // Each image of both files replays: fewer commits, with a checkpoint every few.
    {"wal_page4k_array", 4096, FreelistType::kArray, false, false, 40, 4004, true, 12 * 1024},
    {"wal_page1k_hashmap_syncthread", 1024, FreelistType::kHashMap, false, true, 40, 5005, true,
     5 * 1024, true},
};

constexpr int kRandomImagesPerSync = 6;

void PrintTo(const CrashConfig& c, std::ostream* os) { *os << c.name << " seed " << c.seed; }

Options CrashOptions(const CrashConfig& c, FileSystem* fs) {
  Options o;
  o.page_size = c.page_size;
  o.freelist_type = c.freelist;
  o.no_freelist_sync = c.no_freelist_sync;
  o.no_grow_sync = c.no_grow_sync;
  o.timeout = std::chrono::milliseconds(-1);
  o.file_system = fs;
  o.wal = c.wal;
  o.wal_sync_thread = c.sync_thread;
  if (c.checkpoint_bytes) o.wal_checkpoint_bytes = c.checkpoint_bytes;
  o.wal_checkpoint_interval = std::chrono::milliseconds(0);  // checkpoints at known points
  return o;
}

constexpr const char* kDbPath = "/crash.db";
constexpr const char* kLogPath = "/crash.db-wal";
constexpr const char* kLogPath2 = "/crash.db-wal2";  // the second log file (docs/format.md)

// The images of the two log files (an empty string: no file).
using LogImages = std::array<std::string, 2>;

// Why the crash image img (and log_imgs, the two logs', when not null) is not
// acceptable ("" when it is): it must open, check clean and hold prev, or --
// when the commit point (meta write, or in WAL mode the log record) was
// among the unsynced writes -- prev or next (next when every write landed).
// With extra_commit, it must also take one more commit. *is_new tells which.
std::string ImageProblem(const std::string& img, const LogImages* log_imgs, const Options& base,
                         const MBucket& prev, const MBucket& next, bool meta_pending,
                         CrashMode mode, bool extra_commit, uint64_t salt, bool* is_new) {
  MemFileSystem fs;
  fs.PutFile("/img.db", img);
  if (log_imgs && !(*log_imgs)[0].empty()) fs.PutFile("/img.db-wal", (*log_imgs)[0]);
  if (log_imgs && !(*log_imgs)[1].empty()) fs.PutFile("/img.db-wal2", (*log_imgs)[1]);
  Options o = base;
  o.file_system = &fs;
  *is_new = false;
  auto db = DB::Open("/img.db", o);
  if (!db.ok()) return "open: " + db.status().ToString();
  if (std::string c = CheckDB(db->get()); !c.empty()) return c;
  MBucket got;
  Status r = ReadModel(db->get(), &got);
  if (!r.ok()) return "read: " + r.ToString();
  const bool eq_prev = Diff(prev, got).empty();
  const bool eq_next = Diff(next, got).empty();
  *is_new = eq_next && !eq_prev;
  if (!meta_pending && !eq_prev) {
    return "before the meta write, the image is not the previous commit:\n" + Diff(prev, got);
  }
  if (meta_pending && !eq_prev && !eq_next) {
    return "the image is neither the previous nor the new commit:\nvs previous:\n" +
           Diff(prev, got) + "vs new:\n" + Diff(next, got);
  }
  if (meta_pending && mode == CrashMode::kApplyAll && !eq_next) {
    return "every write landed but the image is not the new commit";
  }
  if (!extra_commit) return "";
  // Recovery must leave a file that takes more commits.
  std::mt19937_64 rng(salt);
  GenConfig gc;
  Ops more = RandomOps(rng, gc, 40);
  Status u = (*db)->Update([&](Tx& tx) { return ApplyOps(tx, more); });
  if (!u.ok()) return "commit after recovery: " + u.ToString();
  if (std::string c2 = CheckDB(db->get()); !c2.empty())
    return "after a commit on the recovered image: " + c2;
  ApplyOps(&got, more);
  MBucket again;
  if (!ReadModel(db->get(), &again).ok() || !Diff(got, again).empty()) {
    return "commit after recovery lost data: " + Diff(got, again);
  }
  return "";
}

class CrashImages : public ::testing::TestWithParam<CrashConfig> {
 protected:
  void VerifyImage(const std::string& img, CrashMode mode, bool meta_pending,
                   const LogImages* log_imgs = nullptr) {
    images_++;
    bool is_new = false;
    const std::string why =
        ImageProblem(img, log_imgs, CrashOptions(GetParam(), nullptr), prev_, next_, meta_pending,
                     mode, images_ % 3 == 0, static_cast<uint64_t>(images_), &is_new);
    if (is_new) new_images_++;
    if (why.empty()) return;
    failures_++;
    if (failures_ > 3) return;  // enough detail
    char name[256];
    std::snprintf(name, sizeof name, "%s/boltpp-crash-%s-seed%llu-commit%d-sync%d-%s.db",
                  std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp", GetParam().name,
                  static_cast<unsigned long long>(seed_), commit_, sync_in_commit_,
                  CrashModeName(mode));
    std::ofstream(name, std::ios::binary)
        .write(img.data(), static_cast<std::streamsize>(img.size()));
    ADD_FAILURE() << "crash image fails: config=" << GetParam().name << " seed=" << seed_
                  << " commit=" << commit_ << " sync#" << sync_in_commit_
                  << " mode=" << CrashModeName(mode) << " meta_pending=" << meta_pending
                  << "\nsaved as " << name << "\n"
                  << why;
  }

  // WAL mode: a sync of any of the three files (data, log, second log).
  // Each other file is taken as it is durably or as it is live (both are
  // states a crash can leave; every combination comes up over the images),
  // and the commit point is the log's sync: before it an image may hold the
  // previous or the new commit (replay decides), after it only the new one.
  // A checkpoint's syncs (data file only) are thus cut with either log
  // header, the old log's records and the new log's, and the meta written
  // or not.
  void OnWalSync(const std::string& path, const CrashState& st) {
    sync_in_commit_++;
    syncs_++;
    const std::string paths[3] = {kDbPath, kLogPath, kLogPath2};
    const int synced = path == kLogPath ? 1 : path == kLogPath2 ? 2 : 0;
    const bool is_log = synced != 0;
    std::string states[3][2];  // durable, live
    for (int f = 0; f < 3; f++) {
      if (f == synced || !fs_->Exists(paths[f])) continue;
      states[f][0] = fs_->DurableBytes(paths[f]);
      states[f][1] = fs_->LiveBytes(paths[f]);
    }
    const bool pending = !log_synced_in_commit_;
    for (int i = 0; i < 2 + random_images_; i++) {
      const auto m = static_cast<CrashMode>(i < 2 ? i : 2 + (i - 2) % 4);
      // All landed (the synced file's writes and the others') is the new
      // commit once the log is being synced.
      std::string files[3];
      int bit = 0;
      for (int f = 0; f < 3; f++) {
        if (f == synced) continue;
        const int live = m == CrashMode::kApplyAll ? 1 : (i >> bit) & 1;
        files[f] = states[f][live];
        bit++;
      }
      const CrashMode rule = is_log ? m : CrashMode::kSubset;
      files[synced] = MakeCrashImage(st, m, rng_);
      const LogImages logs{files[1], files[2]};
      VerifyImage(files[0], rule, pending, &logs);
    }
    if (is_log) {
      log_synced_in_commit_ = true;
      prev_ = next_;  // the commit is durable: from now on only it is acceptable
    }
  }

  void OnSync(const CrashState& st) {
    sync_in_commit_++;
    syncs_++;
    bool meta_pending = false;
    for (const PendingOp& op : *st.pending) {
      if (op.kind == PendingOp::kWrite && op.offset < 2 * uint64_t{GetParam().page_size})
        meta_pending = true;
    }
    VerifyImage(MakeCrashImage(st, CrashMode::kDropAll, rng_), CrashMode::kDropAll, meta_pending);
    VerifyImage(MakeCrashImage(st, CrashMode::kApplyAll, rng_), CrashMode::kApplyAll, meta_pending);
    for (int i = 0; i < random_images_; i++) {
      const auto m = static_cast<CrashMode>(2 + i % 4);  // subset, reordered, torn, prefix
      VerifyImage(MakeCrashImage(st, m, rng_), m, meta_pending);
    }
  }

  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  MBucket prev_, next_;
  MemFileSystem* fs_ = nullptr;
  bool log_synced_in_commit_ = false;
  // Seeds rng_ from the config (or BOLTPP_SEED) and prints how to repeat.
  void Seed(const CrashConfig& c) {
    seed_ = SeedOr(c.seed);
    std::printf("config=%s seed=%llu (set BOLTPP_SEED to repeat)\n", c.name,
                static_cast<unsigned long long>(seed_));
    rng_.seed(seed_);
  }

  int random_images_ = kRandomImagesPerSync;  // per sync, besides none and all landed
  int commit_ = 0;
  int sync_in_commit_ = 0;
  int64_t images_ = 0, new_images_ = 0, syncs_ = 0, failures_ = 0;
};

TEST_P(CrashImages, EveryImageHoldsPreviousOrNewCommit) {
  const CrashConfig& c = GetParam();
  Seed(c);
  MemFileSystem fs;
  fs_ = &fs;
  auto db = DB::Open(kDbPath, CrashOptions(c, &fs));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  fs.SetSyncHook([this, wal = c.wal](const std::string& path, const CrashState& st) {
    if (wal) {
      OnWalSync(path, st);
    } else {
      OnSync(st);
    }
  });

  GenConfig gc;
  const int commits = Scaled(c.commits, 5);
  int64_t commits_as_checkpoint = 0;
  for (commit_ = 1; commit_ <= commits && failures_ == 0; commit_++) {
    sync_in_commit_ = 0;
    log_synced_in_commit_ = false;
    std::uniform_int_distribution<int> size(1, commit_ % 10 == 0 ? 600 : 120);
    Ops ops = RandomOps(rng_, gc, size(rng_));
    next_ = prev_;
    ApplyOps(&next_, ops);
    Status s = (*db)->Update([&](Tx& tx) { return ApplyOps(tx, ops); });
    ASSERT_TRUE(s.ok()) << "commit " << commit_ << ": " << s.ToString();
    // A WAL commit that synced no log committed as a checkpoint (its record
    // would have filled the log): its images are those of the data file.
    if (c.wal && !log_synced_in_commit_ && sync_in_commit_ > 0) commits_as_checkpoint++;
    prev_ = next_;
  }
  fs.SetSyncHook(nullptr);
  ASSERT_TRUE((*db)->Close().ok());
  // After a clean close, the durable image is the last commit (and in WAL
  // mode the log is gone).
  next_ = prev_;
  EXPECT_FALSE(fs.Exists(kLogPath));
  EXPECT_FALSE(fs.Exists(kLogPath2));
  VerifyImage(fs.DurableBytes(kDbPath), CrashMode::kDropAll, false);
  PrintStats(std::string("crash_") + c.name,
             {{"crash_commits", commits},
              {"crash_syncs", syncs_},
              {"crash_images", images_},
              {"crash_images_new_commit", new_images_},
              {"crash_image_failures", failures_},
              {"crash_commits_as_checkpoint", commits_as_checkpoint}});
  EXPECT_EQ(failures_, 0);
  if (c.wal && commits >= 20) {
    EXPECT_GT(commits_as_checkpoint, 0) << "no commit large enough to commit as a checkpoint";
  }
}

// DB::Shrink under power cuts: a database whose file is mostly free is
// shrunk in small batches with the sync hook on, so every batch's syncs
// (and the truncation at each commit) are cut at every point. Shrink changes
// no content, so every image must hold exactly it.
TEST_P(CrashImages, ShrinkKeepsContents) {
  const CrashConfig& c = GetParam();
  Seed(c);
  MemFileSystem fs;
  auto db = DB::Open(kDbPath, CrashOptions(c, &fs));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  GenConfig gc;
  Ops fill;
  for (int i = 0; i < 300; i++)
    fill.push_back(Op{Op::kPut, {"hole"}, KeyName(i), std::string(300, 'h')});
  fill.push_back(Op{Op::kDeleteBucket, {}, "hole", {}});
  // Not scaled down: a smaller file may already be at its smallest size.
  for (int i = 0; i < 12; i++) {
    Ops ops = RandomOps(rng_, gc, 100);
    if (i == 2) ops.insert(ops.begin(), fill.begin(), fill.end() - 1);
    if (i == 6) ops.push_back(fill.back());
    ApplyOps(&prev_, ops);
    ASSERT_TRUE((*db)->Update([&](Tx& tx) { return ApplyOps(tx, ops); }).ok());
  }
  next_ = prev_;
  // WAL mode: the batches go to the log and the data file changes at each
  // checkpoint (the settles), so images of both files are cut at every sync
  // (fewer random ones per sync: each image replays the log; none under a
  // reduced scale, the sanitizer runs: CI time).
  fs_ = &fs;
  if (c.wal) random_images_ = Scale() < 1.0 ? 0 : 2;
  fs.SetSyncHook([this, wal = c.wal](const std::string& path, const CrashState& st) {
    if (wal) {
      OnWalSync(path, st);
    } else {
      OnSync(st);
    }
  });
  auto r = (*db)->Shrink(ShrinkOptions{16});
  fs.SetSyncHook(nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->transactions, 1);
  // The file's size moves in growth steps (powers of two here): the mark
  // must drop, the size must not grow.
  EXPECT_LE(r->size_after, r->size_before);
  EXPECT_LT(r->high_water_after, r->high_water_before)
      << "high-water mark " << r->high_water_before << " -> " << r->high_water_after << ", "
      << r->pages_moved << " pages moved in " << r->transactions << " transactions";
  ASSERT_TRUE((*db)->Close().ok());
  EXPECT_FALSE(fs.Exists(kLogPath));
  EXPECT_FALSE(fs.Exists(kLogPath2));
  VerifyImage(fs.DurableBytes(kDbPath), CrashMode::kDropAll, false);
  PrintStats(
      std::string("crash_shrink_") + c.name,
      {{"crash_syncs", syncs_}, {"crash_images", images_}, {"crash_image_failures", failures_}});
  EXPECT_EQ(failures_, 0);
}

INSTANTIATE_TEST_SUITE_P(Configs, CrashImages, ::testing::ValuesIn(kCrashConfigs),
                         [](const ::testing::TestParamInfo<CrashConfig>& p) {
                           return std::string(p.param.name);
                         });

// The harness has teeth: with no_sync the data pages and the meta page of
// several commits are all unsynced at once, so some crash images hold a
// meta page whose tree never reached the disk (or whose freed pages were
// overwritten). Such images must be caught. (Power-cut safety is not
// promised with no_sync; this only proves the checks can fail.)
TEST(CrashHarness, DetectsCommitsWithoutDataSync) {
  MemFileSystem fs;
  Options o;
  o.page_size = 1024;
  o.no_sync = true;
  o.file_system = &fs;
  auto db = DB::Open("/ns.db", o);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Sync().ok());
  std::mt19937_64 rng(5);
  GenConfig gc;
  MBucket prev, next;
  for (int i = 0; i < 3; i++) {
    Ops ops = RandomOps(rng, gc, 150);
    ApplyOps(&next, ops);
    ASSERT_TRUE((*db)->Update([&](Tx& tx) { return ApplyOps(tx, ops); }).ok());
  }
  // prev = nothing committed durably; next = the last commit. Images between
  // are legitimately neither, so count only failures to open or check.
  int bad = 0, images = 0;
  fs.SetSyncHook([&](const std::string&, const CrashState& st) {
    for (int i = 0; i < 200; i++) {
      std::string img = MakeCrashImage(st, i % 2 ? CrashMode::kSubset : CrashMode::kTorn, rng);
      bool is_new;
      std::string why =
          ImageProblem(img, nullptr, o, prev, next, true, CrashMode::kSubset, false, 0, &is_new);
      images++;
      if (!why.empty() && why.find("neither") == std::string::npos) bad++;
    }
  });
  ASSERT_TRUE((*db)->Sync().ok());
  fs.SetSyncHook(nullptr);
  std::printf("%d of %d no-sync crash images fail to open or check\n", bad, images);
  EXPECT_GT(bad, 0) << "the crash harness cannot tell a missing data sync";
}

// MakeCrashImage itself: the modes do what they say on a small example.
TEST(CrashImageMaker, ModesBehave) {
  std::string durable(2048, 'd');
  std::vector<PendingOp> pending{{PendingOp::kWrite, 0, std::string(1024, 'a')},
                                 {PendingOp::kTruncate, 4096, {}},
                                 {PendingOp::kWrite, 3072, std::string(1024, 'b')}};
  CrashState st{&durable, &pending};
  std::mt19937_64 rng(1);
  EXPECT_EQ(MakeCrashImage(st, CrashMode::kDropAll, rng), durable);
  std::string all = MakeCrashImage(st, CrashMode::kApplyAll, rng);
  ASSERT_EQ(all.size(), 4096u);
  EXPECT_EQ(all.substr(0, 1024), std::string(1024, 'a'));
  EXPECT_EQ(all.substr(1024, 1024), std::string(1024, 'd'));
  EXPECT_EQ(all.substr(2048, 1024), std::string(1024, '\0'));
  EXPECT_EQ(all.substr(3072), std::string(1024, 'b'));
  // Torn images mix sectors: over many tries, some first sectors are new and
  // some old, and every sector is all-old or all-new.
  int mixed = 0;
  for (int i = 0; i < 50; i++) {
    std::string t = MakeCrashImage(st, CrashMode::kTorn, rng);
    ASSERT_GE(t.size(), 2048u);
    const bool s0 = t[0] == 'a', s1 = t[512] == 'a';
    EXPECT_EQ(t.substr(0, 512), std::string(512, s0 ? 'a' : 'd'));
    EXPECT_EQ(t.substr(512, 512), std::string(512, s1 ? 'a' : 'd'));
    mixed += s0 != s1;
  }
  EXPECT_GT(mixed, 0);
}

// MemFileSystem keeps a mapping coherent with later writes and growth.
TEST(MemFileSystem, MappingSeesWritesAndGrowth) {
  MemFileSystem fs;
  auto f = fs.Open("/x", FileOpenOptions{});
  ASSERT_TRUE(f.ok());
  auto m = (*f)->Map(1 << 20, false, false);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*f)->WriteAt(0, "hello", 5).ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>((*m)->data()), 5), "hello");
  ASSERT_TRUE((*f)->Truncate(100000, true).ok());
  ASSERT_TRUE((*f)->WriteAt(99990, "0123456789", 10).ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>((*m)->data()) + 99990, 10), "0123456789");
  EXPECT_EQ(fs.DurableBytes("/x").size(), 100000u);  // the truncate synced
  EXPECT_EQ(fs.LiveBytes("/x").size(), 100000u);
  char buf[4];
  EXPECT_FALSE((*f)->ReadAt(99998, buf, 4).ok());
}

}  // namespace
}  // namespace boltpp::reliability
