// boltpp-dagstore: the operator commands of a DAG store (apps-spec 2.6) on a
// root directory (--root, default $BOOST_PATH/dagstore). While `serve` runs
// (it holds the datastore's file lock), the commands of commands.h reach it
// through its admin socket (admin.h); otherwise they open the store directly.
// Failures print one line on stderr and exit 1.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "boltpp/car/hash.h"
#include "boltpp/dagstore/http_server.h"
#include "boltpp/dagstore/store.h"
#include "admin.h"
#include "commands.h"

namespace fs = std::filesystem;
using namespace boltpp;
using namespace boltpp::dagstore;

namespace {

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted = true; }

[[noreturn]] void Die(const std::string& msg) {
  std::cerr << "boltpp-dagstore: " << msg << "\n";
  std::exit(1);
}

struct Global {
  std::string root;
  bool index_in_kv = false;
  bool wal = true;  // StoreOptions::wal
};

std::string RootOf(const Global& g) {
  if (!g.root.empty()) return g.root;
  const char* boost = std::getenv("BOOST_PATH");
  if (boost == nullptr || *boost == '\0') Die("no root directory: give --root or set BOOST_PATH");
  return std::string(boost) + "/dagstore";
}

Result<std::unique_ptr<DagStore>> TryOpenStore(const Global& g, bool serving) {
  const std::string root = RootOf(g);
  StoreOptions o;
  o.root = root;
  o.index_in_kv = g.index_in_kv;
  o.wal = g.wal;
  // Short-lived commands neither recover in the background nor resume eager
  // initializations: they report the state as it is. `serve` does both.
  o.requeue_on_start = serving;
  o.max_recover_attempts = serving ? 1 : 0;
  o.errored_policy = serving ? ErroredPolicy::kRecoverOnAcquire : ErroredPolicy::kDoNotRecover;
  if (serving) o.gc_interval = std::chrono::minutes(1);
  auto store = DagStore::Open(o);
  if (!store.ok()) return store.status();
  for (const auto& w : (*store)->open_warnings()) std::cerr << "warning: " << w << "\n";
  // We hold the datastore's lock: no daemon runs, so a socket file left by a
  // killed `serve` is stale (serve replaces it itself).
  const std::string sock = cli::AdminSocketPath(root);
  std::error_code ec;
  if (!serving && fs::is_socket(sock, ec) && fs::remove(sock, ec)) {
    std::cerr << "warning: removed stale admin socket " << sock << "\n";
  }
  return store;
}

std::unique_ptr<DagStore> OpenStore(const Global& g, bool serving = false) {
  auto store = TryOpenStore(g, serving);
  if (!store.ok()) Die(Message(store.status()));
  return std::move(*store);
}

void Check(const Status& s) {
  if (!s.ok()) Die(Message(s));
}

// stdout (or get-block's OUT file, created on the first write, so a failed
// lookup leaves no file) and stderr of this process.
class LocalOutput : public cli::Output {
 public:
  explicit LocalOutput(std::string file) : file_(std::move(file)) {}
  void Out(std::string_view bytes) override {
    std::lock_guard lock(mu_);
    if (!failure_.empty()) return;
    std::ostream* os = &std::cout;
    if (!file_.empty() && file_ != "-") {
      if (!f_.is_open()) {
        f_.open(file_, std::ios::binary | std::ios::trunc);
        if (!f_.is_open()) {
          failure_ = "cannot open " + file_;
          return;
        }
      }
      os = &f_;
    }
    os->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    os->flush();
    if (!os->good()) failure_ = "cannot write " + (os == &f_ ? file_ : std::string("to stdout"));
  }
  void Err(std::string_view line) override {
    std::lock_guard lock(mu_);
    std::cerr << line << std::flush;
  }
  bool Interrupted() const override { return g_interrupted; }
  // Closes the file; the first write failure, or "".
  std::string Finish() {
    std::lock_guard lock(mu_);
    if (f_.is_open()) {
      f_.close();
      if (f_.fail() && failure_.empty()) failure_ = "cannot write " + file_;
    }
    return failure_;
  }

 private:
  std::mutex mu_;
  std::string file_;
  std::ofstream f_;
  std::string failure_;
};

// Runs a command through the running `serve` of the root when there is one,
// else on the store opened here. Exits with the command's status.
[[noreturn]] void RunCommand(const Global& g, const cli::Request& request,
                             const std::string& out_file = "") {
  const std::string root = RootOf(g);
  LocalOutput out(out_file);
  std::optional<int> status = cli::ForwardToDaemon(root, request, out, g_interrupted);
  if (!status) {
    auto store = TryOpenStore(g, false);
    if (!store.ok() && store.status().code() == Code::kTimeout) {
      // A serve may have been starting: its socket answers now.
      status = cli::ForwardToDaemon(root, request, out, g_interrupted);
    }
    if (!status) {
      if (!store.ok()) Die(Message(store.status()));
      status = cli::Execute(**store, request, out);
      if (Status c = (*store)->Close(); !c.ok() && *status == 0) {
        out.Err("boltpp-dagstore: " + Message(c) + "\n");
        status = 1;
      }
    }
  }
  if (std::string failure = out.Finish(); !failure.empty()) Die(failure);
  std::exit(*status);
}

// The "pseudo piece CID" of apps-spec 3.7: CIDv1(fil-commitment-unsealed,
// sha2-256-trunc254-padded over sha256(file bytes), top 2 bits of the last
// byte cleared). It looks like a piece CID (baga6ea4sea...) but is NOT a
// real CommP (no Fr32 padding, no merkle tree).
std::string PseudoPieceCid(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string bytes = ss.str();
  if (!f.good() && !f.eof()) Die("cannot read " + path);
  std::string digest;
  Check(car::Digest(car::kSha2_256, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                    32, &digest));
  digest[31] = static_cast<char>(static_cast<uint8_t>(digest[31]) & 0x3f);
  return car::Cid::V1(0xf101, car::kSha2_256Trunc254Padded,
                      {reinterpret_cast<const uint8_t*>(digest.data()), digest.size()})
      .ToString();
}

void Migrate(const Global& g, const std::string& dir, bool key_from_name, size_t batch_size) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) Die("no such directory: " + dir);
  std::vector<std::string> cars;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".car") {
      cars.push_back(fs::absolute(it->path()).lexically_normal().string());
    }
  }
  if (ec) Die("listing " + dir + ": " + ec.message());
  std::sort(cars.begin(), cars.end());
  // Without WAL mode: each batch is one big commit, and logging it would
  // double the bytes written (bench D1a: 2-3x slower in WAL mode).
  Global bulk = g;
  bulk.wal = false;
  auto store = OpenStore(bulk);
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const size_t kBatch = batch_size;  // one durable transaction per batch
  size_t added = 0;
  for (size_t start = 0; start < cars.size(); start += kBatch) {
    if (g_interrupted)
      Die("interrupted after " + std::to_string(start) + " of " + std::to_string(cars.size()) +
          " CARs; run migrate again to resume");
    std::vector<std::pair<std::string, std::string>> batch;
    for (size_t i = start; i < std::min(cars.size(), start + kBatch); i++) {
      const std::string key =
          key_from_name ? fs::path(cars[i]).stem().string() : PseudoPieceCid(cars[i]);
      batch.emplace_back(key, "file://" + cars[i]);
    }
    auto n = store->RegisterLazyBatch(batch);
    if (!n.ok()) Die(Message(n.status()));
    added += *n;
    if (tty) {
      const size_t done = std::min(cars.size(), start + kBatch);
      const int width = 40;
      const int filled = static_cast<int>(width * done / cars.size());
      std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, ' ') << "] "
                << done << "/" << cars.size() << std::flush;
    }
  }
  if (tty && !cars.empty()) std::cerr << "\n";
  Check(store->PutMeta("migration", "complete"));
  Check(store->Close());
  std::ofstream(fs::path(store->options().root) / ".shard-registration-complete") << "";
  std::cout << "Registered " << added << " shards (" << cars.size() - added
            << " already registered)\n";
}

void Serve(const Global& g, const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) Die("--listen wants HOST:PORT, got " + listen);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    Die("bad port in --listen " + listen);
  }
  auto store = OpenStore(g, true);
  cli::AdminServer admin(store.get());
  if (Status s = admin.Start(); !s.ok()) {
    std::cerr << "warning: no admin endpoint (commands on this root will fail \"locked\"): "
              << Message(s) << "\n";
  }
  HttpServer server(store.get());
  auto bound = server.Bind(listen.substr(0, colon), port);
  if (!bound.ok()) Die(Message(bound.status()));
  std::cout << "listening on http://" << listen.substr(0, colon) << ":" << *bound << std::endl;
  std::thread stopper([&] {
    while (!g_interrupted) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    server.Stop();
  });
  server.Run();
  g_interrupted = true;
  stopper.join();
  admin.Stop();
  Check(store->Close());
}

int Run(int argc, char** argv) {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  CLI::App app{"boltpp-dagstore: a DAG store (shard indices over CAR files) on boltpp"};
  app.require_subcommand(1);
  // Subcommands inherit fallthrough when they are added: it lets --root follow
  // the subcommand too (`boltpp-dagstore list-shards --root DIR`).
  app.fallthrough();
  Global g;
  app.add_option("--root", g.root, "store root (default $BOOST_PATH/dagstore)");
  app.add_flag("--index-in-kv", g.index_in_kv,
               "when creating the store: keep shard indexes in the datastore, not in files");
  app.add_flag("--wal,!--no-wal", g.wal,
               "datastore in WAL mode (default; one log sync per commit, checkpointed at "
               "exit); --no-wal: two syncs per commit, no log");
  std::string key, url, cid, out, dir, output = "table", listen = "127.0.0.1:8080";
  bool lazy = false, include_sealed = false, key_from_name = false;
  int concurrency = 0;

  auto* list = app.add_subcommand("list-shards", "list the shards: KEY STATE ERROR");
  list->add_option("--output", output, "table or json")->check(CLI::IsMember({"table", "json"}));
  auto* reg = app.add_subcommand("register-shard", "register a shard (eager unless --lazy)");
  reg->add_option("key", key, "shard key")->required();
  reg->add_option("url", url, "file:///abs/path.car or http://host:port/path")->required();
  reg->add_flag("--lazy", lazy, "register only; index on first use");
  auto* init = app.add_subcommand("initialize-shard", "index a New shard");
  init->add_option("key", key, "shard key")->required();
  auto* all = app.add_subcommand("initialize-all", "index every New shard");
  all->add_option("--concurrency", concurrency, "shards at once (0 = unlimited)")->required();
  all->add_flag("--include-sealed", include_sealed, "accepted for compatibility (no sealing here)");
  auto* rec = app.add_subcommand("recover-shard", "re-fetch and re-index an Errored shard");
  rec->add_option("key", key, "shard key")->required();
  auto* des = app.add_subcommand("destroy-shard", "remove a shard and its files");
  des->add_option("key", key, "shard key")->required();
  app.add_subcommand("gc", "remove the transients of idle shards");
  auto* lpc = app.add_subcommand("lookup-piece-cid", "the shards holding a block");
  lpc->alias("lpc");
  lpc->add_option("cid", cid, "block CID")->required();
  auto* get = app.add_subcommand("get-block", "write a block (raw bytes) to OUT or stdout");
  get->add_option("cid", cid, "block CID")->required();
  get->add_option("out", out, "output file (default stdout)");
  auto* mig = app.add_subcommand("migrate", "lazily register every .car under DIR");
  mig->add_option("dir", dir, "directory of CAR files")->required();
  size_t batch = 10000;
  mig->add_option("--batch", batch, "CARs registered per durable transaction")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  mig->add_flag("--key-from-name", key_from_name,
                "shard key = file name without .car (default: pseudo piece CID)");
  app.add_subcommand("verify", "check the store's invariants");
  auto* serve = app.add_subcommand("serve", "answer /ipfs/{cid}?format=raw and /piece/{key}");
  serve->add_option("--listen", listen, "HOST:PORT (port 0 = any)")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (*mig) Migrate(g, dir, key_from_name, batch);
  if (*serve) Serve(g, listen);
  if (*mig || *serve) return 0;
  cli::Request request;
  request.command = app.get_subcommands().front()->get_name();
  request.key = key;
  request.url = url;
  request.cid = cid;
  request.output = output;
  request.lazy = lazy;
  request.concurrency = concurrency;
  RunCommand(g, request, *get ? out : "");
  return 0;
}

}  // namespace

// Any exception escaping a command (std::bad_alloc, a filesystem error, ...)
// is reported like every other failure: one line on stderr, exit status 1.
int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    Die(e.what());
  }
}
