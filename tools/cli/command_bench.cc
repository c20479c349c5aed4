// File: tools/cli/command_bench.cc
// `boltpp bench [flags]`: bbolt's synthetic benchmark. Writes --count keys
// in transactions of --batch-size into bucket "bench" (or one sub-bucket per
// transaction in the -nest modes), then reads them for at least a second,
// and prints the "# Write" / "# Read" lines with Go duration formatting.
//
// stderr: as bbolt when stderr is not a terminal ("starting write
// benchmark.", "Starting write iteration N", "Completed N requests, N/s ");
// on a terminal a progress bar replaces the per-iteration and per-second lines.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "cli.h"

namespace boltpp::cli {

namespace {

const std::string kBenchBucket = "bench";

struct BenchOptions {
  std::string profile_mode, write_mode, read_mode;
  int64_t iterations = 1000;
  int64_t batch_size = 0;
  int64_t key_size = 8;
  int64_t value_size = 32;
  double fill_percent = 0.5;
  bool no_sync = false;
  bool wal = false;
  bool work = false;
  std::string path;
  bool gobench = false;
  int64_t page_size = 4096;
  int64_t initial_mmap_size = 0;
};

struct Results {
  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> duration_ns{0};
  int64_t OpDuration() const {
    int64_t n = completed.load();
    return n == 0 ? 0 : duration_ns.load() / n;
  }
  int64_t OpsPerSecond() const {
    int64_t op = OpDuration();
    return op == 0 ? 0 : 1000000000LL / op;
  }
};

struct NestedKey {
  std::string bucket, key;
};

using Clock = std::chrono::steady_clock;

int64_t Since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count();
}

// Go's checkProgress: every second "Completed %d requests, %d/s " (non-tty),
// or a progress bar (tty).
class Ticker {
 public:
  Ticker(Results* r, uint64_t total, const char* label) : r_(r) {
    if (Progress::Enabled()) {
      bar_ = std::make_unique<Progress>(label, total, false);
      bar_->Poll([r] { return static_cast<uint64_t>(r->completed.load()); });
      return;
    }
    th_ = std::thread([this] {
      int64_t last_completed = 0;
      auto last = Clock::now();
      std::unique_lock<std::mutex> lock(mu_);
      auto next = Clock::now() + std::chrono::seconds(1);
      while (!stop_) {
        if (cv_.wait_until(lock, next, [this] { return stop_; })) break;
        auto now = Clock::now();
        next += std::chrono::seconds(1);
        int64_t completed = r_->completed.load();
        int64_t taken = std::chrono::duration_cast<std::chrono::nanoseconds>(now - last).count();
        if (taken <= 0) taken = 1;
        int64_t rate = (completed - last_completed) * 1000000000LL / taken;
        std::string line = "Completed " + std::to_string(completed) + " requests, " +
                           std::to_string(rate) + "/s \n";
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
        last_completed = completed;
        last = now;
      }
    });
  }
  ~Ticker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (th_.joinable()) th_.join();
    bar_.reset();
  }

 private:
  Results* r_;
  std::unique_ptr<Progress> bar_;
  std::thread th_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

void Log(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stderr);
  std::fflush(stderr);
}

std::string MakeKey(int64_t size, uint32_t v) {
  std::string k(static_cast<size_t>(size), '\0');
  k[0] = static_cast<char>(v >> 24);
  k[1] = static_cast<char>(v >> 16);
  k[2] = static_cast<char>(v >> 8);
  k[3] = static_cast<char>(v);
  return k;
}

std::vector<NestedKey> RunWrites(DB& db, BenchOptions& o, Results* results,
                                 const std::function<uint32_t()>& next, bool nested, bool quiet) {
  std::vector<NestedKey> keys;
  bool record = o.read_mode == "rnd";
  std::string value(static_cast<size_t>(o.value_size), '\0');
  for (int64_t i = 0; i < o.iterations; i += o.batch_size) {
    UpdateOrThrow(db, [&](Tx& tx) {
      auto top = tx.CreateBucketIfNotExists(kBenchBucket);
      Check(top.status());
      Bucket b = *top;
      b.SetFillPercent(o.fill_percent);
      std::string name;
      if (nested) {
        name = MakeKey(o.key_size, next());
        auto sub = b.CreateBucketIfNotExists(name);
        Check(sub.status());
        b = *sub;
        b.SetFillPercent(o.fill_percent);
      }
      if (!quiet) Log("Starting write iteration " + std::to_string(i) + "\n");
      for (int64_t j = 0; j < o.batch_size; ++j) {
        std::string key = MakeKey(o.key_size, next());
        Check(b.Put(key, value));
        if (record) keys.push_back({name, key});
        results->completed.fetch_add(1);
      }
      if (!quiet) Log("Finished write iteration " + std::to_string(i) + "\n");
    });
  }
  return keys;
}

// A failed read: the reads so far are added to the results (as bbolt does).
[[noreturn]] void InvalidValue(Results* results, int64_t num_reads) {
  results->completed.fetch_add(num_reads);
  throw CliError("invalid value");
}

// Reads every key of b with a cursor; a sub-bucket among them is an error.
void ScanKeys(const Bucket& b, Results* results, int64_t* num_reads) {
  Cursor c = b.NewCursor();
  for (auto e = c.First(); e; e = c.Next()) {
    ++*num_reads;
    if (e->is_bucket) InvalidValue(results, *num_reads);
  }
  Check(c.status());
}

// One pass of --read-mode over the data (a sequential scan, or a get per
// written key); adds the reads to the results and returns how many it made.
int64_t ReadPass(const Tx& tx, const BenchOptions& o, bool nested, Results* results,
                 const std::vector<NestedKey>& keys) {
  int64_t num_reads = 0;
  Bucket top = tx.GetBucket(kBenchBucket);
  if (o.read_mode == "seq" && !nested) {
    if (top) ScanKeys(top, results, &num_reads);
    results->completed.fetch_add(num_reads);
  } else if (o.read_mode == "seq") {
    if (top) {
      ForEachOrThrow(top, [&](const Entry& e) {
        if (Bucket b = top.GetBucket(e.key)) ScanKeys(b, results, &num_reads);
        results->completed.fetch_add(
            num_reads);  // bbolt adds the running total after every sub-bucket
      });
    }
  } else {
    for (const NestedKey& k : keys) {
      Bucket b = nested && top ? top.GetBucket(k.bucket) : top;
      if (nested && !b) continue;
      auto v = b ? b.Get(k.key) : std::nullopt;
      ++num_reads;
      if (!v) InvalidValue(results, num_reads);
    }
    results->completed.fetch_add(num_reads);
  }
  return num_reads;
}

// Read passes for at least a second, in one read transaction. After the
// matching sequential write mode every pass must read every key.
void RunReads(DB& db, const BenchOptions& o, Results* results, const std::vector<NestedKey>& keys) {
  const bool nested = o.write_mode == "seq-nest" || o.write_mode == "rnd-nest";
  const std::string seq_mode = nested ? "seq-nest" : "seq";
  ViewOrThrow(db, [&](Tx& tx) {
    auto t = Clock::now();
    do {
      int64_t num_reads = ReadPass(tx, o, nested, results, keys);
      if (o.write_mode == seq_mode && num_reads != o.iterations) {
        throw CliError("read " + seq_mode + ": iter mismatch: expected " +
                       std::to_string(o.iterations) + ", got " + std::to_string(num_reads));
      }
    } while (Since(t) < 1000000000LL);
  });
}

// Go's testing.BenchmarkResult: the width and precision of the ns/op
// column for values of at least at_least.
struct NsPerOpFormat {
  double at_least;
  int width;
  int precision;
};
constexpr NsPerOpFormat kNsPerOpFormats[] = {
    {999.95, 10, 0},   {99.995, 12, 1},    {9.9995, 13, 2},     {0.99995, 14, 3},
    {0.099995, 15, 4}, {0.0099995, 16, 5}, {0.00099995, 17, 6},
};

// testing.BenchmarkResult.String() for N and T.
std::string GoBenchResult(int64_t n, int64_t t_ns) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "%8lld", static_cast<long long>(n));
  std::string s = buf;
  double ns = static_cast<double>(t_ns) / static_cast<double>(n);
  if (ns == 0) return s;
  NsPerOpFormat f{0, 18, 7};  // smaller values, and NaN, as in Go
  for (const NsPerOpFormat& candidate : kNsPerOpFormats) {
    if (std::fabs(ns) >= candidate.at_least) {
      f = candidate;
      break;
    }
  }
  if (std::isfinite(ns)) {
    std::snprintf(buf, sizeof(buf), "%*.*f ns/op", f.width, f.precision, ns);
  } else {
    const char* text = std::isnan(ns) ? "NaN" : (ns > 0 ? "+Inf" : "-Inf");  // Go's spelling
    std::snprintf(buf, sizeof(buf), "%*s ns/op", f.width, text);
  }
  return s + "\t" + buf;
}

BenchOptions ReadBenchOptions(const FlagSet& f) {
  BenchOptions o;
  o.profile_mode = f.Str("profile-mode");
  o.write_mode = f.Str("write-mode");
  o.read_mode = f.Str("read-mode");
  o.iterations = f.Int("count");
  o.batch_size = f.Int("batch-size");
  o.key_size = f.Int("key-size");
  o.value_size = f.Int("value-size");
  o.fill_percent = f.Float("fill-percent");
  o.no_sync = f.Bool("no-sync");
  o.wal = f.Bool("wal");
  o.work = f.Bool("work");
  o.path = f.Str("path");
  o.gobench = f.Bool("gobench-output");
  o.page_size = f.Int("page-size");
  o.initial_mmap_size = f.Int("initial-mmap-size");
  return o;
}

// bbolt's checks, in bbolt's order.
void ValidateBenchOptions(const BenchOptions& o) {
  if (o.batch_size < 0 || (o.batch_size > 0 && o.iterations % o.batch_size != 0)) {
    throw CliError("the number of iterations must be divisible by the batch size");
  }
  if (o.write_mode != "seq" && o.write_mode != "rnd" && o.write_mode != "seq-nest" &&
      o.write_mode != "rnd-nest") {
    throw CliError("the write mode should be one of seq, rnd, seq-nest, or rnd-nest");
  }
  if (o.key_size < 4)
    throw CliError("the key size must be at least 4 bytes (keys start with a 32-bit counter)");
  if (o.value_size < 0) throw CliError("the value size must not be negative");
  if (o.page_size < 0 || o.page_size > (1 << 24) || o.initial_mmap_size < 0) {
    throw CliError("invalid --page-size or --initial-mmap-size");
  }
}

// A fresh name for the database in $TMPDIR (or /tmp): bolt-bench-XXXXXX.
std::string TempBenchPath() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/bolt-bench-XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw CliError(std::string("temp file: ") + std::strerror(errno));
  ::close(fd);
  ::unlink(tmpl.c_str());
  return tmpl;
}

std::unique_ptr<DB> OpenBenchDB(const BenchOptions& o, const Invocation& inv) {
  OpenOptions oo;
  oo.read_only = false;
  oo.no_sync = o.no_sync;
  oo.wal = o.wal;
  oo.page_size = static_cast<uint32_t>(o.page_size);
  oo.initial_mmap_size = static_cast<size_t>(o.initial_mmap_size);
  return OpenDB(o.path, inv, oo);
}

// "# Write\t..." or "# Read\t...", as bbolt prints them.
std::string ResultLine(const char* name, const Results& r) {
  return std::string("# ") + name + "\t" + std::to_string(r.completed.load()) + "(ops)\t" +
         GoDuration(r.duration_ns) + "\t(" + GoDuration(r.OpDuration()) + "/op)\t(" +
         std::to_string(r.OpsPerSecond()) + " op/sec)\n";
}

// The write phase: keys in a sequential or random order.
std::vector<NestedKey> BenchWrites(DB& db, BenchOptions& o, std::mt19937_64& rng, Results* wr) {
  uint32_t seq = 0;
  std::function<uint32_t()> next;
  if (o.write_mode == "seq" || o.write_mode == "seq-nest") {
    next = [&seq] { return ++seq; };
  } else {
    next = [&rng] { return static_cast<uint32_t>(rng() >> 32); };
  }
  const bool nested = o.write_mode == "seq-nest" || o.write_mode == "rnd-nest";
  Log("starting write benchmark.\n");
  Ticker ticker(wr, static_cast<uint64_t>(std::max<int64_t>(o.iterations, 0)), "writing");
  auto t = Clock::now();
  std::vector<NestedKey> keys;
  try {
    keys = RunWrites(db, o, wr, next, nested, Progress::Enabled());
  } catch (const CliError& e) {
    throw CliError(std::string("write: ") + e.what(), e.hint());
  }
  wr->duration_ns = Since(t);
  return keys;
}

void BenchReads(DB& db, const BenchOptions& o, const std::vector<NestedKey>& keys, Results* rr) {
  Log("starting read benchmark.\n");
  Ticker ticker(rr, 0, "reading");
  auto t = Clock::now();
  try {
    if (o.read_mode != "seq" && o.read_mode != "rnd")
      throw CliError("invalid read mode: " + o.read_mode);
    RunReads(db, o, rr, keys);
  } catch (const CliError& e) {
    throw CliError(std::string("bench: read: ") + e.what(), e.hint());
  }
  rr->duration_ns = Since(t);
}

int Run(Invocation& inv) {
  BenchOptions o = ReadBenchOptions(inv.flags);
  ValidateBenchOptions(o);
  if (o.path.empty()) o.path = TempBenchPath();
  if (o.batch_size == 0) o.batch_size = o.iterations;
  for (const char* p : {"cpuprofile", "memprofile", "blockprofile"}) {
    if (!inv.flags.Str(p).empty())
      Log(std::string("bench: --") + p + " needs the Go runtime; boltpp ignores it\n");
  }
  if (o.work) Log("work: " + o.path + "\n");
  struct Remover {
    std::string path;
    bool keep;
    ~Remover() {
      if (!keep) ::unlink(path.c_str());
    }
  } remover{o.path, o.work};

  auto db = OpenBenchDB(o, inv);
  std::mt19937_64 rng(
      static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()));
  Results wr, rr;
  std::vector<NestedKey> keys = BenchWrites(*db, o, rng, &wr);
  std::shuffle(keys.begin(), keys.end(), rng);
  BenchReads(*db, o, keys, &rr);

  if (o.gobench) {
    Out("BenchmarkWrite\t" + GoBenchResult(wr.completed, wr.duration_ns) + "\n");
    Out("BenchmarkRead \t" + GoBenchResult(rr.completed, rr.duration_ns) + "\n");
  } else {
    Out(ResultLine("Write", wr) + ResultLine("Read", rr));
  }
  Out("\n");
  Check(db->Close());
  return 0;
}

}  // namespace

Command BenchCommand() {
  long page = ::sysconf(_SC_PAGESIZE);
  return LeafCommand(
      "bench", "run synthetic benchmark against bbolt", ArgsSpec::Any(), Run,
      {
          StringFlag("profile-mode", "rw",
                     "profile the reads (r), the writes (w) or both (rw); boltpp ignores it"),
          StringFlag("write-mode", "seq", "seq, rnd, seq-nest or rnd-nest"),
          StringFlag("read-mode", "seq", "seq or rnd"),
          Int64Flag("count", "1000", "number of keys to write"),
          Int64Flag("batch-size", "0", "keys per write transaction (0 = all in one)"),
          IntFlag("key-size", "8", "key size in bytes (the first 4 are a big-endian counter)"),
          IntFlag("value-size", "32", "value size in bytes"),
          StringFlag("cpuprofile", "", "Go CPU profile (accepted for compatibility; ignored)"),
          StringFlag("memprofile", "", "Go memory profile (accepted for compatibility; ignored)"),
          StringFlag("blockprofile", "", "Go block profile (accepted for compatibility; ignored)"),
          Float64Flag("fill-percent", "0.5", "bucket fill percent for the writes"),
          BoolFlag("no-sync", "skip fsync on commit"),
          BoolFlag("wal",
                   "WAL mode: commits append to a log (one sync each), checkpoints at close"),
          BoolFlag("work", "keep the database file and print its path"),
          StringFlag("path", "", "database file (default: a temporary bolt-bench-* file)"),
          BoolFlag("gobench-output", "print results like Go's testing benchmarks"),
          IntFlag("page-size", std::to_string(page > 0 ? page : 4096), "Set page size in bytes."),
          IntFlag("initial-mmap-size", "0", "Set initial mmap size in bytes for database file."),
      },
      "  boltpp bench --count 100000 --batch-size 1000 --write-mode rnd --read-mode rnd");
}

}  // namespace boltpp::cli
