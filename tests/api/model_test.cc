// File: tests/api/model_test.cc
// Model-based randomized test: random transactions applied both to the
// database and to an in-memory model (bucket path -> keys, values,
// sub-buckets, sequence), compared continually. Nested buckets, puts,
// deletes, bucket deletes and moves, sequences, cursor walks in both
// directions with seeks, deletes during iteration, explicit and implicit
// rollbacks, failing Updates, long-lived readers and reopens.
//
// Every run prints its seed. To replay one:
//   BOLTPP_SEED=<seed> ./boltpp_tests --gtest_filter='Model*<config>*'
// (BOLTPP_SEED replaces the seed of every selected instance; the config
// -- freelist, page size, sync mode -- comes from the instance name.)
// BOLTPP_MODEL_OPS / BOLTPP_MODEL_TXS change the run length.
//
// The default instances give >= 100,000 ops over >= 500 transactions for
// 20 seeds on each freelist type (10 with 4 KiB and 10 with 1 KiB pages),
// with no_sync; a few shorter durable, 16 KiB and no_freelist_sync runs
// complete the matrix.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <set>
#include <sstream>

#include "testutil/random.h"
#include "testutil/snapshot.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

struct ModelConfig {
  const char* name;
  FreelistType freelist;
  uint32_t page_size;
  bool durable;  // fdatasync on (no_sync off)
  bool no_freelist_sync;
  uint64_t seed;
  int64_t ops;  // minimum number of operations
  int64_t txs;  // minimum number of transactions
  // Half the puts append increasing keys to the biggest bucket: with a few
  // thousand operations per transaction, nodes grow past the size at which
  // boltpp splits them before commit.
  bool append_heavy = false;
};

std::string ConfigName(const ModelConfig& c) {
  return std::string(c.name) + "_" + FreelistName(c.freelist) + "_" + std::to_string(c.page_size) +
         "_seed" + std::to_string(c.seed);
}

void PrintTo(const ModelConfig& c, std::ostream* os) { *os << ConfigName(c); }

// One entry of a bucket in key order, as a cursor returns it.
struct Item {
  std::string key;
  std::string value;
  bool is_bucket;
};

std::vector<Item> Items(const BucketSnap& b) {
  std::vector<Item> out;
  out.reserve(b.kv.size() + b.buckets.size());
  auto kv = b.kv.begin();
  auto sub = b.buckets.begin();
  while (kv != b.kv.end() || sub != b.buckets.end()) {
    if (sub == b.buckets.end() || (kv != b.kv.end() && kv->first < *sub)) {
      out.push_back({kv->first, kv->second, false});
      ++kv;
    } else {
      out.push_back({*sub, "", true});
      ++sub;
    }
  }
  return out;
}

bool HasPrefix(const BucketPath& p, const BucketPath& prefix) {
  return p.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), p.begin());
}

class ModelRunner {
 public:
  ModelRunner(const ModelConfig& cfg, uint64_t seed) : cfg_(cfg), rnd_(seed), seed_(seed) {
    Options o = TestOptions();
    o.freelist_type = cfg.freelist;
    o.page_size = cfg.page_size;
    o.no_sync = !cfg.durable;
    o.no_freelist_sync = cfg.no_freelist_sync;
    tdb_ = std::make_unique<TestDB>(o);
    committed_[{}];  // the top level
  }

  void Run(int64_t min_ops, int64_t min_txs) {
    ASSERT_TRUE(tdb_->Open());
    const int64_t avg = std::max<int64_t>(1, min_ops / std::max<int64_t>(1, min_txs));
    while ((ops_ < min_ops || txs_ < min_txs) && !Failed()) {
      const int64_t n = 1 + static_cast<int64_t>(rnd_.Uniform(static_cast<uint64_t>(2 * avg)));
      const uint64_t r = rnd_.Uniform(1000);
      if (r < 20) {
        ReadOnlyTx();
      } else if (r < 25 && txs_ > 0) {
        Reopen();
      } else if (r < 30) {
        LongReader();
      } else {
        WriteTx(n);
      }
      if (txs_ % 97 == 0 && !Failed()) VerifyCommitted(/*check=*/true);
    }
    if (!Failed()) {
      VerifyCommitted(true);
      Reopen();
    }
    tdb_->Finish();  // Check() on the final file
    if (Failed()) DumpContext();
  }

  int64_t ops() const { return ops_; }
  int64_t txs() const { return txs_; }
  std::string Summary() const {
    std::ostringstream os;
    os << "ops=" << ops_ << " txs=" << txs_ << " commits=" << commits_
       << " rollbacks=" << rollbacks_ << " reopens=" << reopens_ << " buckets=" << committed_.size()
       << " keys=" << TotalKeys(committed_) << " biggest=" << biggest_;
    return os.str();
  }

 private:
  static bool Failed() { return ::testing::Test::HasFailure(); }

  static size_t TotalKeys(const DBSnap& m) {
    size_t n = 0;
    for (const auto& [p, b] : m) n += b.kv.size();
    return n;
  }

  void Log(std::string s) {
    if (log_.size() >= 60) log_.pop_front();
    log_.push_back("tx " + std::to_string(txs_) + " op " + std::to_string(ops_) + ": " +
                   std::move(s));
  }

  void DumpContext() {
    std::ostringstream os;
    os << "[model] FAILED seed=" << seed_ << " config=" << ConfigName(cfg_) << " after "
       << Summary() << "\n[model] replay: BOLTPP_SEED=" << seed_
       << " ./boltpp_tests --gtest_filter='*" << cfg_.name << "_" << FreelistName(cfg_.freelist)
       << "_" << cfg_.page_size << "_seed" << cfg_.seed << "'"
       << "\n[model] last operations:\n";
    for (const auto& l : log_) os << "  " << l << "\n";
    std::cout << os.str() << std::flush;
    ADD_FAILURE() << os.str();
  }

  // ---- random choices ----

  std::string RandomKey() {
    const uint64_t r = rnd_.Uniform(1000);
    if (r < 450) return rnd_.SmallAlphabet(1 + rnd_.Uniform(6));
    if (r < 750) return rnd_.Bytes(1 + rnd_.Uniform(16));
    if (r < 940) return U64Key(rnd_.Uniform(20000));
    if (r < 998) return rnd_.Printable(100 + rnd_.Uniform(1900));
    return rnd_.Bytes(20000 + rnd_.Uniform(kMaxKeySize - 20000 + 1));
  }

  std::string RandomValue() {
    const uint64_t r = rnd_.Uniform(1000);
    if (r < 20) return std::string();
    if (r < 700) return rnd_.Bytes(rnd_.Uniform(65));
    if (r < 900) return rnd_.Bytes(64 + rnd_.Uniform(1000));
    if (r < 990) return rnd_.Bytes(1000 + rnd_.Uniform(4000));
    return rnd_.Bytes(5000 + rnd_.Uniform(35000));
  }

  std::vector<BucketPath> Paths(const DBSnap& m, bool with_top) {
    std::vector<BucketPath> out;
    out.reserve(m.size());
    for (const auto& [p, b] : m) {
      if (with_top || !p.empty()) out.push_back(p);
    }
    return out;
  }

  // A random bucket path, or nullopt when there is none (top level excluded).
  std::optional<BucketPath> PickBucket(const DBSnap& m) {
    if (m.size() <= 1) return std::nullopt;
    auto it = m.begin();
    std::advance(it, 1 + static_cast<long>(rnd_.Uniform(m.size() - 1)));
    return it->first;
  }

  // Biased towards big buckets (the largest of three random picks), so that
  // some trees grow several levels deep.
  std::optional<BucketPath> PickBigBucket(const DBSnap& m) {
    std::optional<BucketPath> best;
    size_t best_n = 0;
    for (int i = 0; i < 3; ++i) {
      auto p = PickBucket(m);
      if (!p) return p;
      const size_t n = m.at(*p).kv.size();
      if (!best || n > best_n) {
        best = p;
        best_n = n;
      }
    }
    return best;
  }

  // An existing key of b (often), or a fresh one. Existing keys are found
  // with lower_bound of a random probe (a linear std::advance is too slow).
  std::string PickKey(const BucketSnap& b) {
    const uint64_t r = rnd_.Uniform(100);
    if (r < 45 && !b.kv.empty()) {
      auto it = b.kv.lower_bound(rnd_.Bytes(1 + rnd_.Uniform(3)));
      if (it == b.kv.end()) it = b.kv.begin();
      return it->first;
    }
    if (r < 50 && !b.buckets.empty()) {
      auto it = b.buckets.lower_bound(rnd_.Bytes(1 + rnd_.Uniform(3)));
      if (it == b.buckets.end()) it = b.buckets.begin();
      return *it;
    }
    return RandomKey();
  }

  // ---- transactions ----

  void WriteTx(int64_t n) {
    // Decide the fate first: a rolled-back transaction works on a copy.
    const uint64_t r = rnd_.Uniform(100);
    enum Fate {
      kCommit,
      kUpdate,
      kRollback,
      kDrop,
      kFailUpdate
    } fate = r < 45   ? kCommit
             : r < 85 ? kUpdate
             : r < 92 ? kRollback
             : r < 96 ? kDrop
                      : kFailUpdate;
    const bool keeps = fate == kCommit || fate == kUpdate;
    DBSnap scratch;
    if (!keeps) scratch = committed_;
    DBSnap& m = keeps ? committed_ : scratch;
    Log(std::string("begin write tx, fate ") + std::to_string(static_cast<int>(fate)) + ", " +
        std::to_string(n) + " ops");
    auto body = [&](Tx& tx) -> Status {
      EXPECT_EQ(tx.ID(), expected_txid_ + 1) << "a writer's id is the last commit's + 1";
      for (int64_t i = 0; i < n && !Failed(); ++i) {
        Op(tx, m);
        ++ops_;
      }
      if (rnd_.OneIn(20) && !Failed()) VerifyTx(tx, m, "inside the write transaction");
      return Status::OK();
    };
    ++txs_;
    if (fate == kUpdate || fate == kFailUpdate) {
      Status s = tdb_->db()->Update([&](Tx& tx) -> Status {
        Status b = body(tx);
        if (!b.ok()) return b;
        return fate == kFailUpdate ? Status(Code::kAborted, "model: planned failure")
                                   : Status::OK();
      });
      if (fate == kFailUpdate) {
        EXPECT_CODE(s, Code::kAborted);
      } else {
        EXPECT_OK(s) << "Update commit";
      }
    } else {
      auto tx = tdb_->db()->Begin(true);
      EXPECT_OK(tx);
      if (!tx.ok()) return;
      EXPECT_OK(body(*tx));
      if (fate == kCommit) {
        EXPECT_OK(tx->Commit());
      } else if (fate == kRollback) {
        EXPECT_OK(tx->Rollback());
      }
      // kDrop: the destructor rolls back.
    }
    if (keeps) {
      for (const auto& [path, b] : m) biggest_ = std::max(biggest_, b.kv.size());
      ++commits_;
      ++expected_txid_;
    } else {
      ++rollbacks_;
    }
    Log("end write tx");
    if (!keeps && rnd_.OneIn(6) && !Failed()) VerifyCommitted(false);
  }

  void ReadOnlyTx() {
    ++txs_;
    Log("read-only tx");
    EXPECT_OK(tdb_->db()->View([&](Tx& tx) {
      EXPECT_EQ(tx.ID(), expected_txid_);
      EXPECT_CODE(tx.CreateBucket("x"), Code::kTxNotWritable);
      VerifyTx(tx, committed_, "read-only transaction");
      for (int i = 0; i < 20 && !Failed(); ++i) {
        auto p = PickBucket(committed_);
        if (!p) break;
        CursorWalk(tx, *p, committed_.at(*p));
        ++ops_;
      }
      for (int i = 0; i < 3 && !Failed(); ++i) {
        OpStats(tx, committed_);
        ++ops_;
      }
      return Status::OK();
    }));
  }

  // A reader opened before several commits still sees its snapshot.
  void LongReader() {
    Log("long reader begins");
    auto reader = tdb_->db()->Begin(false);
    EXPECT_OK(reader);
    if (!reader.ok()) return;
    const DBSnap pinned = committed_;
    const uint64_t id = reader->ID();
    const int writes = 1 + static_cast<int>(rnd_.Uniform(4));
    for (int i = 0; i < writes && !Failed(); ++i)
      WriteTx(1 + static_cast<int64_t>(rnd_.Uniform(50)));
    EXPECT_EQ(reader->ID(), id);
    VerifyTx(*reader, pinned, "long-lived reader after later commits");
    EXPECT_OK(reader->Rollback());
    ++txs_;
    Log("long reader ends");
  }

  void Reopen() {
    Log("reopen");
    ++reopens_;
    ASSERT_TRUE(tdb_->Reopen());
    EXPECT_EQ(CurrentTxid(tdb_->db()), expected_txid_);
    VerifyCommitted(rnd_.OneIn(2));
  }

  void VerifyCommitted(bool check) {
    EXPECT_OK(tdb_->db()->View([&](Tx& tx) {
      VerifyTx(tx, committed_, "committed state");
      if (check) {
        auto errors = tx.Check();
        EXPECT_EQ(errors, std::vector<std::string>{}) << "Check() after tx " << txs_;
      }
      return Status::OK();
    }));
  }

  // Walks every bucket of tx with a cursor alongside the model (no copies).
  void VerifyTx(const Tx& tx, const DBSnap& want, const char* what) {
    EXPECT_OK(tx.status()) << what;
    {
      Cursor c = tx.NewCursor();
      const BucketSnap& top = want.at({});
      auto it = top.buckets.begin();
      for (auto e = c.First(); e && !Failed(); e = c.Next(), ++it) {
        EXPECT_TRUE(it != top.buckets.end())
            << what << ": unexpected top-level bucket " << Hex(e->key);
        if (it == top.buckets.end()) return;
        EXPECT_TRUE(e->key == *it)
            << what << ": top-level bucket " << Hex(e->key) << ", model has " << Hex(*it);
        EXPECT_TRUE(e->is_bucket);
      }
      EXPECT_TRUE(it == top.buckets.end())
          << what << ": top-level bucket " << (it == top.buckets.end() ? "" : Hex(*it))
          << " missing";
      EXPECT_OK(c.status());
    }
    for (const auto& [path, b] : want) {
      if (path.empty() || Failed()) continue;
      Bucket bk = BucketAt(tx, path);
      EXPECT_TRUE(bk) << what << ": bucket " << PathString(path) << " missing";
      if (!bk) return;
      EXPECT_EQ(bk.Sequence(), b.sequence) << what << ": sequence of " << PathString(path);
      Cursor c = bk.NewCursor();
      auto kv = b.kv.begin();
      auto sub = b.buckets.begin();
      for (auto e = c.First(); e && !Failed(); e = c.Next()) {
        const bool more = kv != b.kv.end() || sub != b.buckets.end();
        EXPECT_TRUE(more) << what << ": " << PathString(path) << " has an extra key "
                          << Hex(e->key);
        if (!more) return;
        if (sub == b.buckets.end() || (kv != b.kv.end() && kv->first < *sub)) {
          EXPECT_TRUE(e->key == kv->first && !e->is_bucket && e->value == kv->second)
              << what << ": " << PathString(path) << " has " << Hex(e->key)
              << (e->is_bucket ? " (bucket)" : "") << " = " << Hex(e->value, 16) << ", model "
              << Hex(kv->first) << " = " << Hex(kv->second, 16);
          ++kv;
        } else {
          EXPECT_TRUE(e->key == *sub && e->is_bucket)
              << what << ": " << PathString(path) << " has " << Hex(e->key) << ", model sub-bucket "
              << Hex(*sub);
          ++sub;
        }
      }
      EXPECT_TRUE(kv == b.kv.end() && sub == b.buckets.end())
          << what << ": " << PathString(path) << " is missing "
          << (kv != b.kv.end()         ? "key " + Hex(kv->first)
              : sub != b.buckets.end() ? "bucket " + Hex(*sub)
                                       : "");
      EXPECT_OK(c.status());
    }
    // Inspect agrees with the model's tree and key counts.
    if (rnd_.OneIn(4)) {
      std::function<void(const BucketStructure&, const BucketPath&)> cmp =
          [&](const BucketStructure& s, const BucketPath& p) {
            const BucketSnap& b = want.at(p);
            EXPECT_EQ(s.key_n, static_cast<int64_t>(b.kv.size())) << PathString(p);
            EXPECT_EQ(s.children.size(), b.buckets.size()) << PathString(p);
            size_t i = 0;
            for (const auto& name : b.buckets) {
              if (i >= s.children.size()) break;
              EXPECT_EQ(s.children[i].name, name);
              BucketPath c = p;
              c.push_back(name);
              cmp(s.children[i++], c);
            }
          };
      BucketStructure root = tx.Inspect();
      EXPECT_EQ(root.name, "root");
      cmp(root, {});
    }
  }

  // ---- operations ----

  void Op(Tx& tx, DBSnap& m) {
    // Weights per 10,000; puts back off once the database is big.
    const uint64_t r = rnd_.Uniform(10000);
    const uint64_t put = TotalKeys(m) > (cfg_.append_heavy ? 40000u : 8000u) ? 2500 : 5000;
    if (r < put) return OpPut(tx, m);
    if (r < 6200) return OpDelete(tx, m);
    if (r < 7200) return OpGet(tx, m);
    if (r < 7250) return OpCreateBucket(tx, m);
    if (r < 7260) return OpDeleteBucket(tx, m);
    if (r < 7460) return OpSequence(tx, m);
    if (r < 8475) {
      auto p = rnd_.OneIn(2) ? PickBigBucket(m) : PickBucket(m);
      if (p) CursorWalk(tx, *p, m.at(*p));
      return;
    }
    if (r < 8625) return OpCursorDelete(tx, m);
    if (r < 8725) return OpMoveBucket(tx, m);
    if (r < 8825) return OpForEach(tx, m);
    if (r < 8925) return OpCursorPutRun(tx, m);
    return OpPut(tx, m);
  }

  // A sorted merge through one cursor: keys in ascending order, each
  // Seek'ed (checked against the model) and mostly Put through the cursor,
  // so the cursor's searches start from where it stands.
  void OpCursorPutRun(Tx& tx, DBSnap& m) {
    auto p = rnd_.OneIn(2) ? PickBigBucket(m) : PickBucket(m);
    if (!p) return;
    BucketSnap& b = m.at(*p);
    std::set<std::string> keys;
    const size_t n = 1 + rnd_.Uniform(rnd_.OneIn(10) ? 200 : 20);
    while (keys.size() < n) keys.insert(rnd_.OneIn(4) ? PickKey(b) : RandomKey());
    keys.erase("");
    Log("cursor put run " + PathString(*p) + " " + std::to_string(keys.size()) + " keys");
    Bucket bk = BucketAt(tx, *p);
    EXPECT_TRUE(bk) << PathString(*p);
    if (!bk) return;
    Cursor c = bk.NewCursor();
    for (const std::string& k : keys) {
      if (Failed()) return;
      std::vector<Item> window;
      bool at_start = false, at_end = false;
      const size_t idx = Window(b, k, 1, &window, &at_start, &at_end);
      Same(c.Seek(k), window, idx, "seek in a cursor put run");
      if (rnd_.OneIn(4)) continue;
      const std::string v = RandomValue();
      Status s = c.Put(k, v);
      if (b.buckets.count(k)) {
        EXPECT_CODE(s, Code::kIncompatibleValue);
      } else if (k.size() > kMaxKeySize) {
        EXPECT_CODE(s, Code::kKeyTooLarge);
      } else {
        EXPECT_OK(s) << "cursor put " << Hex(k, 16);
        if (s.ok()) b.kv[k] = v;
      }
    }
    EXPECT_OK(c.status());
  }

  void OpPut(Tx& tx, DBSnap& m) {
    auto p = rnd_.OneIn(2) ? PickBigBucket(m) : PickBucket(m);
    if (!p) return OpCreateBucket(tx, m);
    const bool append = cfg_.append_heavy && rnd_.OneIn(2);
    if (append) {
      size_t most = 0;
      for (const auto& [path, b] : m) {
        if (!path.empty() && b.kv.size() >= most) {
          most = b.kv.size();
          p = path;
        }
      }
    }
    BucketSnap& b = m.at(*p);
    std::string k = append ? U64Key(next_append_++) : rnd_.OneIn(500) ? std::string() : PickKey(b);
    std::string v = RandomValue();
    Log("put " + PathString(*p) + " " + Hex(k, 16) + " (" + std::to_string(v.size()) + " bytes)");
    Bucket bk = BucketAt(tx, *p);
    EXPECT_TRUE(bk) << PathString(*p);
    if (!bk) return;
    Status s = bk.Put(k, v);
    if (k.empty()) {
      EXPECT_CODE(s, Code::kKeyRequired);
    } else if (b.buckets.count(k)) {
      EXPECT_CODE(s, Code::kIncompatibleValue);
    } else {
      EXPECT_OK(s);
      if (s.ok()) b.kv[k] = std::move(v);
    }
    if (rnd_.OneIn(4)) {
      auto got = bk.Get(k);
      auto it = b.kv.find(k);
      if (it == b.kv.end()) {
        EXPECT_FALSE(got.has_value());
      } else {
        EXPECT_TRUE(got.has_value() && *got == it->second) << "read back after put";
      }
    }
  }

  void OpDelete(Tx& tx, DBSnap& m) {
    auto p = PickBucket(m);
    if (!p) return;
    BucketSnap& b = m.at(*p);
    const std::string k = PickKey(b);
    Log("delete " + PathString(*p) + " " + Hex(k, 16));
    Status s = BucketAt(tx, *p).Delete(k);
    if (b.buckets.count(k)) {
      EXPECT_CODE(s, Code::kIncompatibleValue);
    } else {
      EXPECT_OK(s);
      b.kv.erase(k);
    }
  }

  void OpGet(Tx& tx, DBSnap& m) {
    auto p = PickBucket(m);
    if (!p) return;
    const BucketSnap& b = m.at(*p);
    const std::string k = PickKey(b);
    Log("get " + PathString(*p) + " " + Hex(k, 16));
    Bucket bk = BucketAt(tx, *p);
    auto got = bk.Get(k);
    auto it = b.kv.find(k);
    if (it == b.kv.end()) {
      EXPECT_FALSE(got.has_value()) << "key " << Hex(k);
    } else {
      EXPECT_TRUE(got.has_value()) << "key " << Hex(k);
      if (got) {
        EXPECT_TRUE(*got == it->second) << "value of " << Hex(k);
      }
    }
    const bool is_bucket = b.buckets.count(k) > 0;
    EXPECT_EQ(static_cast<bool>(bk.GetBucket(k)), is_bucket) << "GetBucket " << Hex(k);
  }

  void OpCreateBucket(Tx& tx, DBSnap& m) {
    auto paths = Paths(m, true);
    BucketPath parent = paths[rnd_.Uniform(paths.size())];
    if (parent.size() >= 6 || m.size() > 60) parent = {};
    BucketSnap& pb = m.at(parent);
    std::string name;
    const uint64_t r = rnd_.Uniform(100);
    if (r < 10 && !pb.buckets.empty()) {
      name = *std::next(pb.buckets.begin(), static_cast<long>(rnd_.Uniform(pb.buckets.size())));
    } else if (r < 15 && !pb.kv.empty()) {
      name = std::next(pb.kv.begin(), static_cast<long>(rnd_.Uniform(pb.kv.size())))->first;
    } else if (r < 16) {
      name = "";
    } else {
      name = "b" + rnd_.SmallAlphabet(1 + rnd_.Uniform(3), 6);
    }
    if (parent.empty() && m.size() > 60) return;
    const bool if_not_exists = rnd_.OneIn(3);
    Log(std::string(if_not_exists ? "create-if-not-exists " : "create ") + PathString(parent) +
        " " + Hex(name, 16));
    Result<Bucket> res =
        parent.empty() ? (if_not_exists ? tx.CreateBucketIfNotExists(name) : tx.CreateBucket(name))
                       : (if_not_exists ? BucketAt(tx, parent).CreateBucketIfNotExists(name)
                                        : BucketAt(tx, parent).CreateBucket(name));
    if (name.empty()) {
      EXPECT_CODE(res, Code::kBucketNameRequired);
    } else if (pb.kv.count(name)) {
      EXPECT_CODE(res, Code::kIncompatibleValue);
    } else if (pb.buckets.count(name)) {
      if (if_not_exists) {
        EXPECT_OK(res);
      } else {
        EXPECT_CODE(res, Code::kBucketExists);
      }
    } else {
      EXPECT_OK(res);
      if (res.ok()) {
        pb.buckets.insert(name);
        BucketPath child = parent;
        child.push_back(name);
        m[child];
        // Sometimes fill it at once, through the returned handle.
        if (rnd_.OneIn(3)) {
          for (int i = 0; i < 5; ++i) {
            std::string k = RandomKey(), v = RandomValue();
            EXPECT_OK(res->Put(k, v));
            m[child].kv[k] = v;
          }
        }
      }
    }
  }

  void OpDeleteBucket(Tx& tx, DBSnap& m) {
    auto p = PickBucket(m);
    const uint64_t r = rnd_.Uniform(10);
    if (!p || r == 0) {
      // Error cases: a missing name or a plain key.
      auto paths = Paths(m, true);
      const BucketPath parent = paths[rnd_.Uniform(paths.size())];
      const BucketSnap& pb = m.at(parent);
      std::string name =
          (!pb.kv.empty() && rnd_.OneIn(2))
              ? std::next(pb.kv.begin(), static_cast<long>(rnd_.Uniform(pb.kv.size())))->first
              : "missing" + rnd_.SmallAlphabet(4);
      if (pb.buckets.count(name)) return;
      Log("delete-bucket (error case) " + PathString(parent) + " " + Hex(name, 16));
      Status s = parent.empty() ? tx.DeleteBucket(name) : BucketAt(tx, parent).DeleteBucket(name);
      EXPECT_CODE(s, pb.kv.count(name) ? Code::kIncompatibleValue : Code::kBucketNotFound);
      return;
    }
    const BucketPath victim = *p;
    // Mostly small buckets, so that big trees live long enough to grow.
    size_t subtree_keys = 0;
    for (const auto& [path, b] : m) {
      if (HasPrefix(path, victim)) subtree_keys += b.kv.size();
    }
    if (subtree_keys > 300 && !rnd_.OneIn(10)) return;
    const BucketPath parent(victim.begin(), victim.end() - 1);
    Log("delete-bucket " + PathString(victim));
    Status s = parent.empty() ? tx.DeleteBucket(victim.back())
                              : BucketAt(tx, parent).DeleteBucket(victim.back());
    EXPECT_OK(s);
    if (!s.ok()) return;
    m.at(parent).buckets.erase(victim.back());
    for (auto it = m.begin(); it != m.end();) {
      it = HasPrefix(it->first, victim) ? m.erase(it) : std::next(it);
    }
  }

  void OpSequence(Tx& tx, DBSnap& m) {
    auto p = PickBucket(m);
    if (!p) return;
    BucketSnap& b = m.at(*p);
    Bucket bk = BucketAt(tx, *p);
    EXPECT_EQ(bk.Sequence(), b.sequence) << PathString(*p);
    if (rnd_.OneIn(4)) {
      const uint64_t v = rnd_.OneIn(2) ? rnd_.Uniform(1000) : rnd_.Next() >> 1;
      Log("set-sequence " + PathString(*p) + " " + std::to_string(v));
      EXPECT_OK(bk.SetSequence(v));
      b.sequence = v;
    } else {
      Log("next-sequence " + PathString(*p));
      auto s = bk.NextSequence();
      EXPECT_OK(s);
      if (s.ok()) {
        EXPECT_EQ(*s, b.sequence + 1);
        b.sequence = *s;
      }
    }
  }

  // Forward or backward full walks, or Seek followed by mixed Next/Prev,
  // checked against the model with the newest end semantics (cursor_test.cc).
  void CursorWalk(const Tx& tx, const BucketPath& p, const BucketSnap& b) {
    Bucket bk = BucketAt(tx, p);
    EXPECT_TRUE(bk) << PathString(p);
    if (!bk) return;
    Cursor c = bk.NewCursor();
    // Mostly seeks with short walks; full walks are O(bucket size).
    const uint64_t mode = rnd_.Uniform(10) < 2 ? rnd_.Uniform(2) : 2;
    Log("cursor walk mode " + std::to_string(mode) + " " + PathString(p) + " (" +
        std::to_string(b.kv.size() + b.buckets.size()) + " items)");
    if (mode == 0 || mode == 1) {
      const std::vector<Item> items = Items(b);
      if (mode == 0) {
        size_t i = 0;
        for (auto e = c.First(); e && !Failed(); e = c.Next(), ++i) Same(e, items, i, "forward");
        EXPECT_EQ(i, items.size()) << "forward walk length";
      } else {
        size_t i = items.size();
        for (auto e = c.Last(); e && !Failed(); e = c.Prev()) Same(e, items, --i, "backward");
        EXPECT_EQ(i, 0u) << "backward walk length";
      }
      EXPECT_OK(c.status());
      return;
    }
    // Seek, then up to 40 mixed Next/Prev steps, against a window of the
    // model around the target.
    const int kSteps = 40;
    std::string target = RandomKey();
    if (rnd_.OneIn(3)) target = PickKey(b);
    std::vector<Item> window;
    bool at_start = false, at_end = false;
    size_t idx = Window(b, target, kSteps + 1, &window, &at_start, &at_end);
    auto e = c.Seek(target);
    Same(e, window, idx, "seek");
    if (!e || idx >= window.size()) {
      EXPECT_OK(c.status());
      return;
    }
    const int steps = static_cast<int>(rnd_.Uniform(kSteps));
    for (int s = 0; s < steps && !Failed(); ++s) {
      if (rnd_.OneIn(2)) {
        auto n = c.Next();
        if (idx + 1 < window.size()) {
          Same(n, window, ++idx, "next");
        } else if (at_end) {
          EXPECT_FALSE(n.has_value()) << "next at the end";
        } else {
          break;  // past the window
        }
      } else {
        auto pr = c.Prev();
        if (idx > 0) {
          Same(pr, window, --idx, "prev");
        } else if (at_start) {
          EXPECT_FALSE(pr.has_value()) << "prev at the start";
        } else {
          break;
        }
      }
    }
    EXPECT_OK(c.status());
  }

  void Same(const std::optional<Entry>& e, const std::vector<Item>& items, size_t idx,
            const char* how) {
    if (idx >= items.size()) {
      EXPECT_FALSE(e.has_value()) << how << " past the end returned " << (e ? Hex(e->key) : "");
      return;
    }
    EXPECT_TRUE(e.has_value()) << how << " expected " << Hex(items[idx].key);
    if (!e) return;
    EXPECT_TRUE(e->key == items[idx].key)
        << how << ": got " << Hex(e->key) << " want " << Hex(items[idx].key);
    EXPECT_EQ(e->is_bucket, items[idx].is_bucket) << how << " " << Hex(e->key);
    EXPECT_TRUE(e->value == items[idx].value) << how << " value of " << Hex(e->key);
  }

  // Up to n items before `target` and n items from it on, merged from keys
  // and sub-buckets; returns the index of the first item >= target.
  static size_t Window(const BucketSnap& b, const std::string& target, int n,
                       std::vector<Item>* out, bool* at_start, bool* at_end) {
    std::vector<Item> before, after;
    {
      auto kv = b.kv.lower_bound(target);
      auto sub = b.buckets.lower_bound(target);
      while (static_cast<int>(after.size()) < n && (kv != b.kv.end() || sub != b.buckets.end())) {
        if (sub == b.buckets.end() || (kv != b.kv.end() && kv->first < *sub)) {
          after.push_back({kv->first, kv->second, false});
          ++kv;
        } else {
          after.push_back({*sub, "", true});
          ++sub;
        }
      }
      *at_end = kv == b.kv.end() && sub == b.buckets.end();
    }
    {
      auto kv = std::make_reverse_iterator(b.kv.lower_bound(target));
      auto sub = std::make_reverse_iterator(b.buckets.lower_bound(target));
      while (static_cast<int>(before.size()) < n &&
             (kv != b.kv.rend() || sub != b.buckets.rend())) {
        if (sub == b.buckets.rend() || (kv != b.kv.rend() && kv->first > *sub)) {
          before.push_back({kv->first, kv->second, false});
          ++kv;
        } else {
          before.push_back({*sub, "", true});
          ++sub;
        }
      }
      *at_start = kv == b.kv.rend() && sub == b.buckets.rend();
    }
    out->assign(before.rbegin(), before.rend());
    const size_t idx = out->size();
    out->insert(out->end(), after.begin(), after.end());
    return idx;
  }

  // Deleting while walking forwards: no key is skipped (bucket.h).
  void OpCursorDelete(Tx& tx, DBSnap& m) {
    auto p = PickBucket(m);
    if (!p) return;
    BucketSnap& b = m.at(*p);
    const std::vector<Item> items = Items(b);
    Bucket bk = BucketAt(tx, *p);
    Cursor c = bk.NewCursor();
    size_t idx = 0;
    std::optional<Entry> e;
    if (rnd_.OneIn(2) || items.empty()) {
      e = c.First();
    } else {
      idx = rnd_.Uniform(items.size());
      e = c.Seek(items[idx].key);
    }
    const int pct =
        rnd_.OneIn(10) ? static_cast<int>(rnd_.Uniform(101)) : static_cast<int>(rnd_.Uniform(30));
    const size_t limit = rnd_.OneIn(5) ? items.size() : rnd_.Uniform(60);
    Log("cursor delete " + PathString(*p) + " from " + std::to_string(idx) + " pct " +
        std::to_string(pct));
    size_t steps = 0;
    for (; e && steps < limit && !Failed(); e = c.Next(), ++idx, ++steps) {
      EXPECT_LT(idx, items.size()) << "cursor went past the model's last item";
      if (idx >= items.size()) break;
      EXPECT_TRUE(e->key == items[idx].key) << "after deletes the cursor returned " << Hex(e->key)
                                            << ", expected " << Hex(items[idx].key);
      if (e->key != items[idx].key) break;
      if (!rnd_.Percent(pct)) continue;
      if (items[idx].is_bucket) {
        EXPECT_CODE(c.Delete(), Code::kIncompatibleValue);
      } else {
        EXPECT_OK(c.Delete());
        b.kv.erase(items[idx].key);
      }
    }
    if (steps < limit && !e) {
      EXPECT_EQ(idx, items.size()) << "cursor ended early";
    }
    EXPECT_OK(c.status());
  }

  void OpMoveBucket(Tx& tx, DBSnap& m) {
    auto p = PickBucket(m);
    if (!p) return;
    const BucketPath moved = *p;
    const BucketPath src(moved.begin(), moved.end() - 1);
    const std::string name = moved.back();
    auto paths = Paths(m, true);
    const BucketPath dst = paths[rnd_.Uniform(paths.size())];
    if (dst.size() >= 6) return;
    auto at = [&](const BucketPath& path) { return path.empty() ? Bucket() : BucketAt(tx, path); };
    Log("move " + PathString(moved) + " -> " + PathString(dst));
    Status s = tx.MoveBucket(name, at(src), at(dst));
    const BucketSnap& db = m.at(dst);
    if (dst == src) {
      EXPECT_CODE(s, Code::kSameBuckets);
      return;
    }
    if (HasPrefix(dst, moved)) {
      EXPECT_FALSE(s.ok()) << "moving " << PathString(moved) << " into its own descendant "
                           << PathString(dst);
      return;
    }
    if (db.buckets.count(name)) {
      EXPECT_CODE(s, Code::kBucketExists);
      return;
    }
    if (db.kv.count(name)) {
      EXPECT_CODE(s, Code::kIncompatibleValue);
      return;
    }
    EXPECT_OK(s);
    if (!s.ok()) return;
    // Re-root the subtree.
    std::vector<std::pair<BucketPath, BucketSnap>> sub;
    for (auto it = m.begin(); it != m.end();) {
      if (HasPrefix(it->first, moved)) {
        BucketPath np = dst;
        np.push_back(name);
        np.insert(np.end(), it->first.begin() + static_cast<long>(moved.size()), it->first.end());
        sub.emplace_back(std::move(np), std::move(it->second));
        it = m.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [np, snap] : sub) m[np] = std::move(snap);
    m.at(src).buckets.erase(name);
    m.at(dst).buckets.insert(name);
  }

  void OpForEach(Tx& tx, DBSnap& m) {
    auto p = PickBucket(m);
    if (!p) return;
    const std::vector<Item> items = Items(m.at(*p));
    Log("foreach " + PathString(*p));
    size_t i = 0;
    EXPECT_OK(BucketAt(tx, *p).ForEach([&](const Entry& e) {
      EXPECT_LT(i, items.size());
      if (i < items.size()) {
        EXPECT_TRUE(e.key == items[i].key && e.is_bucket == items[i].is_bucket &&
                    e.value == items[i].value)
            << "ForEach item " << i << " " << Hex(e.key);
      }
      ++i;
      return Status::OK();
    }));
    EXPECT_EQ(i, items.size());
    std::vector<std::string> names;
    EXPECT_OK(BucketAt(tx, *p).ForEachBucket([&](Bytes n) {
      names.emplace_back(n);
      return Status::OK();
    }));
    const BucketSnap& b = m.at(*p);
    EXPECT_TRUE(std::equal(names.begin(), names.end(), b.buckets.begin(), b.buckets.end()))
        << "ForEachBucket";
  }

  // BucketStats: key_n counts every entry of the subtree, bucket_n its
  // buckets. Stats read pages, as bbolt's do, so this runs on committed
  // state only (a read-only transaction).
  void OpStats(const Tx& tx, const DBSnap& m) {
    auto p = PickBucket(m);
    if (!p) return;
    int64_t keys = 0, buckets = 0;
    for (const auto& [path, b] : m) {
      if (!HasPrefix(path, *p)) continue;
      keys += static_cast<int64_t>(b.kv.size() + b.buckets.size());
      ++buckets;
    }
    Log("stats " + PathString(*p));
    BucketStats st = BucketAt(tx, *p).Stats();
    EXPECT_EQ(st.key_n, keys) << PathString(*p);
    EXPECT_EQ(st.bucket_n, buckets) << PathString(*p);
  }

  const ModelConfig cfg_;
  Random rnd_;
  const uint64_t seed_;
  std::unique_ptr<TestDB> tdb_;
  DBSnap committed_;
  uint64_t expected_txid_ = 1;
  int64_t ops_ = 0, txs_ = 0, commits_ = 0, rollbacks_ = 0, reopens_ = 0;
  size_t biggest_ = 0;  // most keys seen in one bucket
  uint64_t next_append_ = uint64_t{1} << 40;
  std::deque<std::string> log_;
};

class ModelTest : public ::testing::TestWithParam<ModelConfig> {};

TEST_P(ModelTest, RandomTransactions) {
  const ModelConfig& cfg = GetParam();
  const uint64_t seed = SeedOr(cfg.seed);
  const int64_t ops = EnvInt("BOLTPP_MODEL_OPS", cfg.ops);
  const int64_t txs = EnvInt("BOLTPP_MODEL_TXS", cfg.txs);
  RecordProperty("seed", std::to_string(seed));
  std::cout << "[model] " << ConfigName(cfg) << " seed=" << seed << std::endl;
  const auto start = std::chrono::steady_clock::now();
  ModelRunner runner(cfg, seed);
  runner.Run(ops, txs);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  RecordProperty("ops", std::to_string(runner.ops()));
  RecordProperty("txs", std::to_string(runner.txs()));
  std::cout << "[model] " << ConfigName(cfg) << " seed=" << seed << " " << runner.Summary()
            << " in " << ms << " ms" << std::endl;
  if (!HasFailure()) {
    EXPECT_GE(runner.ops(), ops);
    EXPECT_GE(runner.txs(), txs);
  }
}

std::vector<ModelConfig> Configs() {
  std::vector<ModelConfig> out;
  // The done-criterion: 20 seeds per freelist type, >= 100k ops, >= 500 txs.
  for (FreelistType fl : {FreelistType::kArray, FreelistType::kHashMap}) {
    for (uint32_t ps : {4096u, 1024u}) {
      for (uint64_t s = 0; s < 10; ++s) {
        const uint64_t seed =
            1000 + s + (ps == 1024 ? 100 : 0) + (fl == FreelistType::kHashMap ? 10000 : 0);
        out.push_back({"fast", fl, ps, false, false, seed, 100000, 500});
      }
    }
  }
  // Shorter runs over the other axes.
  out.push_back({"durable", FreelistType::kArray, 4096, true, false, 7001, 8000, 80});
  out.push_back({"durable", FreelistType::kHashMap, 1024, true, false, 7002, 8000, 80});
  out.push_back({"page16k", FreelistType::kArray, 16384, false, false, 7003, 30000, 200});
  out.push_back({"page16k", FreelistType::kHashMap, 16384, false, false, 7004, 30000, 200});
  out.push_back({"nofreelistsync", FreelistType::kArray, 4096, false, true, 7005, 30000, 200});
  out.push_back({"nofreelistsync", FreelistType::kHashMap, 1024, false, true, 7006, 30000, 200});
  out.push_back({"bigtx", FreelistType::kArray, 4096, false, false, 7007, 60000, 10, true});
  out.push_back({"bigtx", FreelistType::kHashMap, 1024, false, false, 7008, 60000, 10, true});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Configs, ModelTest, ::testing::ValuesIn(Configs()),
                         [](const auto& pi) { return ConfigName(pi.param); });

}  // namespace
}  // namespace boltpp::testing
