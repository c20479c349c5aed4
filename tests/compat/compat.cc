// File: tests/compat/compat.cc
// See compat.h. The workload below must stay a line-for-line mirror of
// tests/compat/go/bboltgen/main.go: same random draws in the same order.
#include "compat.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace compat {

using boltpp::Bucket;
using boltpp::Code;
using boltpp::Status;
using boltpp::Tx;

// ---------------------------------------------------------------- Rng ----

std::string Rng::Bytes(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = Next();
    for (size_t j = 0; j < 8 && i + j < n; j++) out[i + j] = static_cast<char>(v >> (8 * j));
  }
  return out;
}

std::string Rng::Alpha(size_t n, char base, uint64_t span) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i++)
    out[i] = static_cast<char>(base + static_cast<char>(Uniform(span)));
  return out;
}

// ------------------------------------------------------------- config ----

std::vector<std::string> WorkloadConfig::GoFlags() const {
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  return {"-pagesize=" + std::to_string(page_size),
          "-freelist=" + freelist,
          "-nofreelistsync=" + b(no_freelist_sync),
          "-nosync=" + b(no_sync),
          "-txs=" + std::to_string(txs),
          "-ops=" + std::to_string(ops),
          "-maxkey=" + std::to_string(max_key),
          "-maxvalue=" + std::to_string(max_value),
          "-bulkmax=" + std::to_string(bulk_max),
          "-maxdepth=" + std::to_string(max_depth),
          "-rollback=" + std::to_string(rollback_pct),
          "-reopen=" + std::to_string(reopen_pct),
          "-bigfreelist=" + std::to_string(big_freelist),
          "-hugevalues=" + std::to_string(huge_values)};
}

std::string WorkloadConfig::Describe() const {
  std::string s;
  for (const auto& f : GoFlags()) {
    if (!s.empty()) s += ' ';
    s += f;
  }
  return s;
}

bool IsBigSeed(uint64_t seed) { return seed % 37 == 7; }
bool IsLongSeed(uint64_t seed) { return seed % 37 == 20; }

WorkloadConfig ConfigForSeed(uint64_t seed) {
  const bool big = IsBigSeed(seed);
  const bool long_run = IsLongSeed(seed);
  Rng r(seed, 0xC0FFEE);
  WorkloadConfig c;
  c.page_size = 1024u << r.Uniform(7);  // 1 KiB .. 64 KiB
  c.freelist = r.Chance(50) ? "hashmap" : "array";
  c.no_freelist_sync = r.Chance(25);
  c.no_sync = !r.Chance(3);
  c.rollback_pct = static_cast<int>(r.Between(0, 25));
  c.reopen_pct = static_cast<int>(r.Between(0, 20));
  c.max_depth = static_cast<int>(r.Between(2, 8));
  c.bulk_max = static_cast<int>(r.Between(10, 400));
  c.max_key = r.Chance(15) ? 32768 : static_cast<int>(r.Between(8, 2048));
  if (big) {
    c.txs = static_cast<int>(r.Between(10, 20));
    c.ops = static_cast<int>(r.Between(20, 60));
    c.max_value = static_cast<int>(r.Between(1100000, 1600000));
    c.max_key = 32768;
    c.huge_values = static_cast<int>(r.Between(1, 3));
  } else if (long_run) {
    c.txs = static_cast<int>(r.Between(60, 120));
    c.ops = static_cast<int>(r.Between(1, 12));
    c.max_value = static_cast<int>(c.page_size) * 4;
  } else {
    c.txs = static_cast<int>(r.Between(2, 20));
    c.ops = static_cast<int>(r.Between(1, 30));
    switch (r.Uniform(4)) {
      case 0:
        c.max_value = static_cast<int>(c.page_size) * 4;
        break;
      case 1:
        c.max_value = 16384;
        break;
      case 2:
        c.max_value = 65536;
        break;
      default:
        c.max_value = 262144;
        break;
    }
  }
  return c;
}

// ----------------------------------------------------------- workload ----

namespace {

using Path = std::vector<std::string>;

int CompareBytes(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c < 0 ? -1 : 1;
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

int ComparePaths(const Path& a, const Path& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); i++) {
    int c = CompareBytes(a[i], b[i]);
    if (c != 0) return c;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

bool IsPrefix(const Path& prefix, const Path& p) {
  if (prefix.size() > p.size()) return false;
  for (size_t i = 0; i < prefix.size(); i++)
    if (prefix[i] != p[i]) return false;
  return true;
}

std::string HexPath(const Path& p) {
  std::string s;
  for (size_t i = 0; i < p.size(); i++) {
    if (i) s += '/';
    s += Hex(p[i]);
  }
  return s;
}

// Thrown inside the workload to unwind to RunWorkload.
struct WorkloadError {
  Status status;
};

class Workload {
 public:
  Workload(std::string path, WorkloadConfig cfg, uint64_t seed, uint64_t stream)
      : path_(std::move(path)),
        cfg_(std::move(cfg)),
        r_(seed, stream),
        seed_(seed),
        stream_(stream) {}

  void Main() {
    Open();
    LoadBuckets();
    if (cfg_.big_freelist > 0) BigFreelist();
    if (cfg_.huge_values > 0) PutHugeValues();
    Run();
    Close();
  }

 private:
  [[noreturn]] void Fail(const std::string& what, const Status& s) {
    throw WorkloadError{Status(s.code() == Code::kOk ? Code::kAborted : s.code(),
                               "seed " + std::to_string(seed_) + " stream " +
                                   std::to_string(stream_) + " tx " + std::to_string(tx_num_) +
                                   " op " + std::to_string(op_num_) + ": " + what + ": " +
                                   s.ToString())};
  }
  void Must(const std::string& what, const Status& s) {
    if (!s.ok()) Fail(what, s);
  }

  boltpp::Options MakeOptions() const {
    boltpp::Options o;
    o.timeout = std::chrono::milliseconds(10000);
    o.page_size = cfg_.page_size;
    o.freelist_type =
        cfg_.freelist == "hashmap" ? boltpp::FreelistType::kHashMap : boltpp::FreelistType::kArray;
    o.no_freelist_sync = cfg_.no_freelist_sync;
    o.no_sync = cfg_.no_sync;
    o.wal = cfg_.wal;
    o.wal_checkpoint_bytes = 64 * 1024;
    o.wal_checkpoint_interval = std::chrono::milliseconds(0);
    o.no_truncate = cfg_.keep_free_tail;
    return o;
  }

  void Open() {
    auto db = boltpp::DB::Open(path_, MakeOptions());
    if (!db.ok()) Fail("open", db.status());
    db_ = std::move(db.value());
  }
  void Close() {
    Must("close", db_->Close());
    db_.reset();
  }

  void InsertBucket(Path p) {
    auto it = std::lower_bound(buckets_.begin(), buckets_.end(), p,
                               [](const Path& a, const Path& b) { return ComparePaths(a, b) < 0; });
    buckets_.insert(it, std::move(p));
  }
  void RemoveBucketTree(const Path& p) {
    Path copy = p;  // p may refer into buckets_
    std::erase_if(buckets_, [&](const Path& q) { return IsPrefix(copy, q); });
  }

  void Walk(Bucket b, const Path& p) {
    buckets_.push_back(p);
    auto c = b.NewCursor();
    for (auto e = c.First(); e; e = c.Next()) {
      if (e->is_bucket) {
        Path q = p;
        q.emplace_back(e->key);
        Walk(b.GetBucket(e->key), q);
      }
    }
  }

  void LoadBuckets() {
    buckets_.clear();
    Status s = db_->View([&](Tx& tx) -> Status {
      auto c = tx.NewCursor();
      for (auto e = c.First(); e; e = c.Next()) {
        Bucket b = tx.GetBucket(e->key);
        if (!b)
          return Status(Code::kCorruption, "top-level key " + Hex(e->key) + " is not a bucket");
        Walk(b, Path{std::string(e->key)});
      }
      return c.status();
    });
    Must("load buckets", s);
  }

  Bucket BucketAt(Tx& tx, const Path& p) {
    Bucket b = tx.GetBucket(p[0]);
    for (size_t i = 1; i < p.size() && b; i++) b = b.GetBucket(p[i]);
    if (!b) Fail("bucket " + HexPath(p) + " is missing", Status(Code::kBucketNotFound));
    return b;
  }

  const Path& Pick() { return buckets_[r_.Uniform(buckets_.size())]; }

  // 0 missing, 1 plain key, 2 bucket.
  static int Kind(const Bucket& b, std::string_view k) {
    auto c = b.NewCursor();
    auto e = c.Seek(k);
    if (!e || e->key != k) return 0;
    return e->is_bucket ? 2 : 1;
  }

  std::string GenKey() {
    uint64_t r = r_.Uniform(100);
    int64_t n;
    if (r < 45) {
      n = r_.Between(1, 6);
      if (n > cfg_.max_key) n = cfg_.max_key;
      return r_.Alpha(static_cast<size_t>(n), 'a', 6);
    } else if (r < 85) {
      n = r_.Between(1, 24);
    } else if (r < 97) {
      n = r_.Between(25, 512);
    } else {
      n = r_.Between(513, cfg_.max_key);
    }
    if (n > cfg_.max_key) n = cfg_.max_key;
    return r_.Bytes(static_cast<size_t>(n));
  }

  std::string GenName() {
    int64_t n = r_.Between(1, 10);
    if (r_.Chance(70)) return r_.Alpha(static_cast<size_t>(n), 'A', 26);
    return r_.Bytes(static_cast<size_t>(n));
  }

  std::string GenValue() {
    uint64_t r = r_.Uniform(1000);
    int64_t ps = cfg_.page_size;
    int64_t n;
    if (r < 80) {
      n = 0;
    } else if (r < 600) {
      n = r_.Between(1, 64);
    } else if (r < 850) {
      n = r_.Between(65, ps);
    } else if (r < 970) {
      n = r_.Between(ps + 1, 4 * ps);
    } else {
      n = r_.Between(4 * ps + 1, cfg_.max_value);
    }
    if (n > cfg_.max_value) n = cfg_.max_value;
    return r_.Bytes(static_cast<size_t>(n));
  }

  void Op(Tx& tx) {
    if (buckets_.empty()) {
      CreateBucket(tx, true);
      return;
    }
    uint64_t r = r_.Uniform(100);
    if (r < 38) {
      Path p = Pick();
      std::string k = GenKey();
      std::string v = GenValue();
      Bucket b = BucketAt(tx, p);
      if (Kind(b, k) != 2) Must("put", b.Put(k, v));
    } else if (r < 50) {
      Path p = Pick();
      std::string probe = GenKey();
      Bucket b = BucketAt(tx, p);
      auto c = b.NewCursor();
      auto e = c.Seek(probe);
      if (!e) e = c.First();
      if (e && !e->is_bucket) {
        std::string k(e->key);
        Must("delete", b.Delete(k));
      }
    } else if (r < 60) {
      CreateBucket(tx, false);
    } else if (r < 64) {
      Path p = buckets_[r_.Uniform(buckets_.size())];
      Status s;
      if (p.size() == 1) {
        s = tx.DeleteBucket(p[0]);
      } else {
        Path parent(p.begin(), p.end() - 1);
        s = BucketAt(tx, parent).DeleteBucket(p.back());
      }
      Must("delete bucket " + HexPath(p), s);
      RemoveBucketTree(p);
    } else if (r < 70) {
      Path p = Pick();
      Bucket b = BucketAt(tx, p);
      if (r_.Chance(50)) {
        uint64_t v = r_.Next();
        if (r_.Chance(50)) v = r_.Uniform(1000);
        Must("set sequence", b.SetSequence(v));
      } else {
        uint64_t prev = b.Sequence();
        auto n = b.NextSequence();
        if (!n.ok()) Fail("next sequence", n.status());
        if (*n != prev + 1)
          Fail("NextSequence returned " + std::to_string(*n) + " after " + std::to_string(prev),
               Status(Code::kAborted));
      }
    } else if (r < 78) {
      Path p = Pick();
      int64_t n = r_.Between(10, cfg_.bulk_max);
      std::string prefix = r_.Alpha(static_cast<size_t>(r_.Between(1, 4)), 'a', 6);
      const int64_t vmaxes[4] = {16, 100, cfg_.page_size / 2, int64_t{cfg_.page_size} * 2};
      int64_t vmax = vmaxes[r_.Uniform(4)];
      if (vmax > 16384) vmax = 16384;
      if (vmax > cfg_.max_value) vmax = cfg_.max_value;
      int64_t stride = r_.Between(1, 3);
      const double fills[4] = {0.1, 0.5, 0.9, 1.0};
      double fill = fills[r_.Uniform(4)];
      Bucket b = BucketAt(tx, p);
      b.SetFillPercent(fill);
      for (int64_t i = 0; i < n; i++) {
        std::string k = prefix;
        uint32_t x = static_cast<uint32_t>(i * stride);
        k += static_cast<char>(x >> 24);
        k += static_cast<char>(x >> 16);
        k += static_cast<char>(x >> 8);
        k += static_cast<char>(x);
        std::string v = r_.Bytes(static_cast<size_t>(r_.Between(0, vmax)));
        if (Kind(b, k) != 2) Must("bulk put", b.Put(k, v));
      }
    } else if (r < 83) {
      Path p = Pick();
      std::string probe = GenKey();
      int64_t n = r_.Between(1, 200);
      Bucket b = BucketAt(tx, p);
      std::vector<std::string> keys;
      auto c = b.NewCursor();
      for (auto e = c.Seek(probe); e && static_cast<int64_t>(keys.size()) < n; e = c.Next()) {
        if (!e->is_bucket) keys.emplace_back(e->key);
      }
      Must("bulk delete cursor", c.status());
      for (const auto& k : keys) Must("bulk delete", b.Delete(k));
    } else if (r < 88) {
      Path p = Pick();
      std::string probe = GenKey();
      Bucket b = BucketAt(tx, p);
      auto c = b.NewCursor();
      auto e = c.Seek(probe);
      if (e && !e->is_bucket) Must("cursor delete", c.Delete());
    } else {
      Path p = Pick();
      std::string probe = GenKey();
      Bucket b = BucketAt(tx, p);
      auto c = b.NewCursor();
      auto e = c.Seek(probe);
      if (!e) e = c.First();
      if (e && !e->is_bucket) {
        std::string kk(e->key);
        std::string nv = GenValue();
        Must("overwrite", b.Put(kk, nv));
      }
    }
  }

  void CreateBucket(Tx& tx, bool top) {
    bool parent_top = top || r_.Chance(25);
    Path p;
    if (!parent_top) {
      p = Pick();
      if (static_cast<int>(p.size()) >= cfg_.max_depth) parent_top = true;
    }
    std::string name = GenName();
    Bucket nb;
    Path np;
    if (parent_top) {
      if (tx.GetBucket(name)) return;
      auto res = tx.CreateBucket(name);
      if (!res.ok()) Fail("create bucket", res.status());
      nb = *res;
      np = Path{name};
    } else {
      Bucket b = BucketAt(tx, p);
      if (Kind(b, name) != 0) return;
      auto res = b.CreateBucket(name);
      if (!res.ok()) Fail("create bucket", res.status());
      nb = *res;
      np = p;
      np.push_back(name);
    }
    InsertBucket(np);
    if (r_.Chance(50)) {
      int64_t n = r_.Between(0, 8);
      for (int64_t i = 0; i < n; i++) {
        std::string k = GenKey();
        std::string v = r_.Bytes(static_cast<size_t>(r_.Between(0, 40)));
        Must("populate", nb.Put(k, v));
      }
    }
  }

  void BigFreelist() {
    const std::string name("\0bigfreelist", 12);
    Status s = db_->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists(name);
      if (!b.ok()) return b.status();
      std::string v(static_cast<size_t>(cfg_.big_freelist) * cfg_.page_size - 64, '\x5a');
      return b->Put("huge", v);
    });
    Must("big freelist put", s);
    s = db_->Update([&](Tx& tx) -> Status { return tx.GetBucket(name).Delete("huge"); });
    Must("big freelist delete", s);
    Close();
    Open();
    LoadBuckets();
  }

  void PutHugeValues() {
    const std::string name("\0hugevalues", 11);
    Status s = db_->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists(name);
      if (!b.ok()) return b.status();
      for (int i = 0; i < cfg_.huge_values; i++) {
        std::string k = GenKey();
        int64_t lo = (int64_t{1} << 20) + 1;
        int64_t hi = std::max<int64_t>(cfg_.max_value, lo);
        std::string v = r_.Bytes(static_cast<size_t>(r_.Between(lo, hi)));
        Status ps = b->Put(k, v);
        if (!ps.ok()) return ps;
      }
      return Status::OK();
    });
    Must("huge values", s);
    // The bucket stays out of buckets_, so the random operations never delete
    // these values: the reader must see them.
  }

  void Run() {
    for (int t = 0; t < cfg_.txs; t++) {
      tx_num_ = t;
      op_num_ = -1;
      if (t > 0 && r_.Chance(cfg_.reopen_pct)) {
        Close();
        Open();
      }
      int64_t nops = r_.Between(1, cfg_.ops);
      bool rollback = r_.Chance(cfg_.rollback_pct);
      std::vector<Path> snap = buckets_;
      auto tx = db_->Begin(true);
      if (!tx.ok()) Fail("begin", tx.status());
      for (int64_t i = 0; i < nops; i++) {
        op_num_ = static_cast<int>(i);
        Op(*tx);
      }
      if (rollback) {
        Must("rollback", tx->Rollback());
        buckets_ = std::move(snap);
      } else {
        Must("commit", tx->Commit());
      }
    }
  }

  std::string path_;
  WorkloadConfig cfg_;
  Rng r_;
  uint64_t seed_, stream_;
  std::unique_ptr<boltpp::DB> db_;
  std::vector<Path> buckets_;
  int tx_num_ = -1, op_num_ = -1;
};

}  // namespace

Status RunWorkload(const std::string& path, const WorkloadConfig& cfg, uint64_t seed,
                   uint64_t stream) {
  if (stream == 0 && FileExists(path))
    return Status(Code::kInvalidArgument, path + " already exists");
  if (stream != 0 && !FileExists(path))
    return Status(Code::kInvalidArgument, path + " does not exist");
  try {
    Workload w(path, cfg, seed, stream);
    w.Main();
  } catch (const WorkloadError& e) {
    return e.status;
  }
  return Status::OK();
}

// --------------------------------------------------------------- dump ----

std::string Hex(std::string_view s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(s.size() * 2, '\0');
  for (size_t i = 0; i < s.size(); i++) {
    auto c = static_cast<unsigned char>(s[i]);
    out[2 * i] = kDigits[c >> 4];
    out[2 * i + 1] = kDigits[c & 15];
  }
  return out;
}

namespace {

struct Dumper {
  std::string out;
  int64_t nb = 0, nk = 0;
  Status status;

  void Walk(const Bucket& b, const std::string& hp) {
    nb++;
    out += "B ";
    out += hp;
    out += ' ';
    out += std::to_string(b.Sequence());
    out += '\n';
    auto c = b.NewCursor();
    for (auto e = c.First(); e; e = c.Next()) {
      if (e->is_bucket) {
        Bucket child = b.GetBucket(e->key);
        if (!child) {
          status =
              Status(Code::kCorruption, "bucket " + hp + "/" + Hex(e->key) + " cannot be opened");
          continue;
        }
        Walk(child, hp + "/" + Hex(e->key));
      } else {
        nk++;
        out += "K ";
        out += hp;
        out += ' ';
        out += Hex(e->key);
        out += ' ';
        out += e->value.empty() ? std::string("-") : Hex(e->value);
        out += '\n';
      }
    }
    if (!c.status().ok() && status.ok()) status = c.status();
  }
};

}  // namespace

std::string Dump(const Tx& tx) {
  Dumper d;
  auto c = tx.NewCursor();
  for (auto e = c.First(); e; e = c.Next()) {
    Bucket b = tx.GetBucket(e->key);
    if (!b) {
      d.out += "! top-level key " + Hex(e->key) + " is not a bucket\n";
      continue;
    }
    d.Walk(b, Hex(e->key));
  }
  d.out += "T " + std::to_string(d.nb) + " " + std::to_string(d.nk) + "\n";
  if (!d.status.ok()) d.out += "! " + d.status.ToString() + "\n";
  if (!c.status().ok()) d.out += "! " + c.status().ToString() + "\n";
  return d.out;
}

std::string Summary(const Tx& tx) {
  std::string out;
  auto c = tx.NewCursor();
  for (auto e = c.First(); e; e = c.Next()) {
    Bucket b = tx.GetBucket(e->key);
    int64_t n = 0;
    if (b) {
      auto bc = b.NewCursor();
      for (auto be = bc.First(); be; be = bc.Next())
        if (!be->is_bucket) n++;
    }
    out += Hex(e->key) + " " + std::to_string(n) + "\n";
  }
  return out;
}

ReadResult ReadWithBoltpp(const std::string& path) {
  ReadResult r;
  boltpp::Options o;
  o.read_only = true;
  o.timeout = std::chrono::milliseconds(10000);
  auto db = boltpp::DB::Open(path, o);
  if (!db.ok()) {
    r.status = db.status();
    return r;
  }
  r.status = (*db)->View([&](Tx& tx) -> Status {
    r.check = tx.Check();
    r.dump = Dump(tx);
    r.summary = Summary(tx);
    return tx.status();
  });
  Status cs = (*db)->Close();
  if (r.status.ok()) r.status = cs;
  return r;
}

std::vector<std::string> SplitLines(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string_view::npos) nl = s.size();
    out.emplace_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

namespace {

std::string_view Field(std::string_view line, int i) {
  size_t pos = 0;
  for (int k = 0; k < i; k++) {
    pos = line.find(' ', pos);
    if (pos == std::string_view::npos) return {};
    pos++;
  }
  size_t end = line.find(' ', pos);
  return line.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
}

std::string Clip(std::string_view s, size_t n = 120) {
  if (s.size() <= n) return std::string(s);
  return std::string(s.substr(0, n)) + "...(" + std::to_string(s.size()) + " chars)";
}

std::string DescribeLine(std::string_view line) {
  if (line.empty()) return "<end of dump>";
  char t = line[0];
  if (t == 'K')
    return "key in bucket [" + Clip(Field(line, 1)) + "] key " + Clip(Field(line, 2)) + " value " +
           Clip(Field(line, 3), 64);
  if (t == 'B')
    return "bucket [" + Clip(Field(line, 1)) + "] sequence " + std::string(Field(line, 2));
  return Clip(line);
}

}  // namespace

std::string CompareDumps(std::string_view a, std::string_view b, std::string_view an,
                         std::string_view bn) {
  if (a == b) return "";
  size_t pa = 0, pb = 0;
  int64_t line = 1;
  while (true) {
    size_t ea = a.find('\n', pa), eb = b.find('\n', pb);
    std::string_view la =
        pa < a.size() ? a.substr(pa, (ea == std::string_view::npos ? a.size() : ea) - pa) : "";
    std::string_view lb =
        pb < b.size() ? b.substr(pb, (eb == std::string_view::npos ? b.size() : eb) - pb) : "";
    if (la != lb || (pa >= a.size()) != (pb >= b.size())) {
      std::ostringstream os;
      os << "dumps differ at line " << line << ":\n  " << an << ": " << DescribeLine(la) << "\n  "
         << bn << ": " << DescribeLine(lb);
      // The first differing key: a K line on either side.
      if (!la.empty() && !lb.empty() && la[0] == 'K' && lb[0] == 'K' &&
          Field(la, 1) == Field(lb, 1) && Field(la, 2) == Field(lb, 2))
        os << "\n  (same key, different value: " << Field(la, 3).size() / 2 << " vs "
           << Field(lb, 3).size() / 2 << " bytes)";
      return os.str();
    }
    if (pa >= a.size()) return "dumps differ (trailing data)";
    pa = ea == std::string_view::npos ? a.size() : ea + 1;
    pb = eb == std::string_view::npos ? b.size() : eb + 1;
    line++;
  }
}

void DumpStats::Add(const DumpStats& o) {
  buckets += o.buckets;
  keys += o.keys;
  max_depth = std::max(max_depth, o.max_depth);
  values_over_1mib += o.values_over_1mib;
  empty_values += o.empty_values;
  keys_over_16kib += o.keys_over_16kib;
  nonzero_seq += o.nonzero_seq;
  overflow_values += o.overflow_values;
}

DumpStats StatsOfDump(std::string_view dump, uint32_t page_size) {
  DumpStats st;
  size_t pos = 0;
  while (pos < dump.size()) {
    size_t nl = dump.find('\n', pos);
    if (nl == std::string_view::npos) nl = dump.size();
    std::string_view line = dump.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    if (line[0] == 'B') {
      st.buckets++;
      std::string_view p = Field(line, 1);
      st.max_depth = std::max<int64_t>(st.max_depth, 1 + std::count(p.begin(), p.end(), '/'));
      if (Field(line, 2) != "0") st.nonzero_seq++;
    } else if (line[0] == 'K') {
      st.keys++;
      std::string_view k = Field(line, 2), v = Field(line, 3);
      size_t vlen = v == "-" ? 0 : v.size() / 2;
      if (vlen == 0) st.empty_values++;
      if (vlen > (1u << 20)) st.values_over_1mib++;
      if (vlen > page_size) st.overflow_values++;
      if (k.size() / 2 > 16384) st.keys_over_16kib++;
    }
  }
  return st;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

bool WriteFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(out);
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// ---------------------------------------------------------- processes ----

std::string ProcResult::Describe() const {
  if (spawn_failed) return "could not start";
  if (timed_out) return "timed out after " + std::to_string(seconds) + "s (killed)";
  if (exit_code >= 128) return "killed by signal " + std::to_string(exit_code - 128);
  return "exit code " + std::to_string(exit_code);
}

std::string ShellQuote(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    bool plain = !a.empty() &&
                 a.find_first_not_of(
                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
                     std::string::npos;
    if (plain) {
      s += a;
    } else {
      s += '\'';
      for (char c : a) {
        if (c == '\'')
          s += "'\\''";
        else
          s += c;
      }
      s += '\'';
    }
  }
  return s;
}

namespace {

extern "C" char** environ;

// Forks and execs; the child gets stdout/stderr redirected and dies with us.
// Everything the child needs is prepared before fork().
int Spawn(const std::vector<std::string>& argv, const std::string& out_path,
          const std::string& err_path, const std::vector<std::string>& env) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; e++) {
    std::string_view kv(*e);
    bool overridden = false;
    for (const auto& o : env) {
      auto eq = o.find('=');
      if (eq != std::string::npos && kv.substr(0, eq + 1) == std::string_view(o).substr(0, eq + 1))
        overridden = true;
    }
    if (!overridden) env_store.emplace_back(kv);
  }
  for (const auto& o : env) env_store.push_back(o);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  const char* outp = out_path.empty() ? "/dev/null" : out_path.c_str();
  const char* errp = err_path.empty() ? "/dev/null" : err_path.c_str();
  bool search = argv[0].find('/') == std::string::npos;

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;
  // Child: async-signal-safe calls only.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  int in = open("/dev/null", O_RDONLY);
  int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || o < 0 || e < 0) _exit(127);
  dup2(in, 0);
  dup2(o, 1);
  dup2(e, 2);
  if (search)
    execvpe(args[0], args.data(), envp.data());
  else
    execve(args[0], args.data(), envp.data());
  _exit(127);
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ProcResult RunProcess(const std::vector<std::string>& argv, const std::string& stdout_path,
                      const std::string& stderr_path, std::chrono::milliseconds timeout,
                      const std::vector<std::string>& env) {
  ProcResult r;
  auto start = std::chrono::steady_clock::now();
  int pid = Spawn(argv, stdout_path, stderr_path, env);
  if (pid < 0) {
    r.spawn_failed = true;
    return r;
  }
  int status = 0;
  auto sleep = std::chrono::microseconds(200);
  while (true) {
    int w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) {
      r.spawn_failed = true;
      return r;
    }
    if (std::chrono::steady_clock::now() - start > timeout) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(sleep);
    sleep = std::min<std::chrono::microseconds>(sleep * 2, std::chrono::milliseconds(20));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = DecodeStatus(status);
  if (r.exit_code == 127 && !r.timed_out) r.spawn_failed = true;
  return r;
}

bool BackgroundProcess::Start(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_ = Spawn(argv, log_path, log_path + ".err", {});
  return pid_ > 0;
}

bool BackgroundProcess::Running() {
  if (pid_ <= 0) return false;
  int st = 0;
  int w = waitpid(pid_, &st, WNOHANG);
  if (w == pid_) {
    status_ = DecodeStatus(st);
    pid_ = -1;
    return false;
  }
  return true;
}

int BackgroundProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return status_;
  kill(pid_, SIGTERM);
  auto start = std::chrono::steady_clock::now();
  int st = 0;
  while (true) {
    int w = waitpid(pid_, &st, WNOHANG);
    if (w == pid_) break;
    if (std::chrono::steady_clock::now() - start > grace) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &st, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  status_ = DecodeStatus(st);
  pid_ = -1;
  return status_;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace compat
