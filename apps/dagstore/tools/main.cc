// boltpp-dagstore: the operator commands of a DAG store (apps-spec 2.6) on a
// root directory (--root, default $BOOST_PATH/dagstore). Every command opens
// the store directly (the datastore's file lock keeps a second process out
// while `serve` runs); failures print one line on stderr and exit 1.
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
};

std::unique_ptr<DagStore> OpenStore(const Global& g, bool serving = false) {
  StoreOptions o;
  o.root = g.root;
  if (o.root.empty()) {
    const char* boost = std::getenv("BOOST_PATH");
    if (boost == nullptr || *boost == '\0') Die("no root directory: give --root or set BOOST_PATH");
    o.root = std::string(boost) + "/dagstore";
  }
  // Short-lived commands neither recover in the background nor resume eager
  // initializations: they report the state as it is. `serve` does both.
  o.requeue_on_start = serving;
  o.max_recover_attempts = serving ? 1 : 0;
  o.errored_policy = serving ? ErroredPolicy::kRecoverOnAcquire : ErroredPolicy::kDoNotRecover;
  if (serving) o.gc_interval = std::chrono::minutes(1);
  auto store = DagStore::Open(o);
  if (!store.ok()) Die(Message(store.status()));
  for (const auto& w : (*store)->open_warnings()) std::cerr << "warning: " << w << "\n";
  return std::move(*store);
}

void Check(const Status& s) {
  if (!s.ok()) Die(Message(s));
}

void ListShards(const Global& g, const std::string& output) {
  auto store = OpenStore(g);
  auto shards = store->AllShardsInfo();
  if (output == "json") {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& s : shards) {
      arr.push_back({{"Key", s.key}, {"State", StateName(s.state)}, {"Error", s.error}});
    }
    std::cout << arr.dump(2) << "\n";
    return;
  }
  if (shards.empty()) return;
  size_t kw = 3, sw = 5;
  for (const auto& s : shards) {
    kw = std::max(kw, s.key.size());
    sw = std::max(sw, StateName(s.state).size());
  }
  auto row = [&](const std::string& k, const std::string& st, const std::string& e) {
    std::string line = k + std::string(kw - k.size() + 2, ' ') + st;
    if (!e.empty()) line += std::string(sw - st.size() + 2, ' ') + e;
    std::cout << line << "\n";
  };
  row("KEY", "STATE", "ERROR");
  for (const auto& s : shards) row(s.key, StateName(s.state), s.error);
}

void RegisterShard(const Global& g, const std::string& key, const std::string& url, bool lazy) {
  auto store = OpenStore(g);
  if (store->GetShardInfo(key).ok()) {
    std::cout << "Shard " << key << " is already registered\n";
    return;
  }
  Status s = store->RegisterShard(key, url, lazy);
  if (!s.ok()) {
    if (store->GetShardInfo(key).ok()) Die("shard " + key + " is Errored: " + Message(s));
    Die(Message(s));
  }
  std::cout << "Registered shard " << key << "\n";
}

void InitializeAll(const Global& g, int concurrency) {
  auto store = OpenStore(g);
  std::vector<std::string> keys;
  for (const auto& s : store->AllShardsInfo()) {
    if (s.state == ShardState::kNew) keys.push_back(s.key);
  }
  const size_t total = keys.size();
  std::mutex out_mu;
  std::atomic<size_t> next{0};
  std::atomic<size_t> errors{0};
  auto say = [&](size_t i, const std::string& key, const std::string& what) {
    std::lock_guard lock(out_mu);
    std::cout << "(" << i << "/" << total << ") " << key << " " << what << std::endl;
  };
  auto worker = [&] {
    for (;;) {
      if (g_interrupted) return;  // stop scheduling; what runs finishes
      const size_t i = next++;
      if (i >= total) return;
      say(i + 1, keys[i], "STARTING");
      Status s = store->InitializeShard(keys[i]);
      if (s.ok()) {
        say(i + 1, keys[i], "SUCCESS");
      } else {
        errors++;
        say(i + 1, keys[i], "ERROR " + Message(s));
      }
    }
  };
  // 0 = unlimited: as many workers as the store's own indexing throttle can
  // use, capped so thousands of New shards do not start thousands of threads.
  const size_t unlimited = std::max<size_t>(4, 2 * std::thread::hardware_concurrency());
  const size_t threads =
      std::min<size_t>(concurrency <= 0 ? unlimited : static_cast<size_t>(concurrency), total);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; t++) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  Check(store->Close());
  const size_t started = std::min(next.load(), total);
  if (started < total) {
    Die("interrupted: " + std::to_string(total - started) + " of " + std::to_string(total) +
        " shards not started; run initialize-all again to resume");
  }
  if (errors > 0)
    Die(std::to_string(errors.load()) + " of " + std::to_string(total) + " shards failed");
}

void Gc(const Global& g) {
  auto store = OpenStore(g);
  auto result = store->GC();
  if (result.empty()) {
    std::cout << "no shards collected\n";
    return;
  }
  bool failed = false;
  for (const auto& [key, s] : result) {
    if (s.ok()) {
      std::cout << key << " SUCCESS\n";
    } else {
      failed = true;
      std::cout << key << " ERROR " << Message(s) << "\n";
    }
  }
  if (failed) std::exit(1);
}

car::Cid ParseCidOrDie(const std::string& text) {
  auto cid = car::Cid::FromString(text);
  if (!cid.ok()) Die("bad CID " + text + ": " + Message(cid.status()));
  return std::move(*cid);
}

void LookupPieceCid(const Global& g, const std::string& text) {
  const car::Cid cid = ParseCidOrDie(text);
  auto store = OpenStore(g);
  auto keys = store->ShardsContainingMultihash(cid.multihash());
  if (!keys.ok()) Die(Message(keys.status()));
  if (keys->empty()) Die("CID " + text + " was not found in any piece");
  std::string list;
  for (const auto& k : *keys) list += (list.empty() ? "" : " ") + k;
  std::cout << "Given CID was found in the following pieces: [" << list << "]\n";
}

void GetBlock(const Global& g, const std::string& text, const std::string& out) {
  const car::Cid cid = ParseCidOrDie(text);
  auto store = OpenStore(g);
  auto block = store->GetBlock(cid);
  if (!block.ok()) Die(Message(block.status()));
  if (out.empty() || out == "-") {
    std::cout.write(block->data(), static_cast<std::streamsize>(block->size()));
    std::cout.flush();
    if (!std::cout.good()) Die("cannot write the block to stdout");
    return;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  if (!f.is_open()) Die("cannot open " + out);
  f.write(block->data(), static_cast<std::streamsize>(block->size()));
  f.close();
  if (f.fail()) Die("cannot write " + out);
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

void Migrate(const Global& g, const std::string& dir, bool key_from_name) {
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
  auto store = OpenStore(g);
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  constexpr size_t kBatch = 10000;  // one durable transaction per batch
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

void Verify(const Global& g) {
  auto store = OpenStore(g);
  auto problems = store->Verify();
  for (const auto& p : problems) std::cout << p << "\n";
  if (!problems.empty()) std::exit(1);
  std::cout << "OK: " << store->AllShardsInfo().size() << " shards\n";
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
  auto* gc = app.add_subcommand("gc", "remove the transients of idle shards");
  auto* lpc = app.add_subcommand("lookup-piece-cid", "the shards holding a block");
  lpc->alias("lpc");
  lpc->add_option("cid", cid, "block CID")->required();
  auto* get = app.add_subcommand("get-block", "write a block (raw bytes) to OUT or stdout");
  get->add_option("cid", cid, "block CID")->required();
  get->add_option("out", out, "output file (default stdout)");
  auto* mig = app.add_subcommand("migrate", "lazily register every .car under DIR");
  mig->add_option("dir", dir, "directory of CAR files")->required();
  mig->add_flag("--key-from-name", key_from_name,
                "shard key = file name without .car (default: pseudo piece CID)");
  auto* ver = app.add_subcommand("verify", "check the store's invariants");
  auto* serve = app.add_subcommand("serve", "answer /ipfs/{cid}?format=raw and /piece/{key}");
  serve->add_option("--listen", listen, "HOST:PORT (port 0 = any)")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (*list) ListShards(g, output);
  if (*reg) RegisterShard(g, key, url, lazy);
  if (*init) Check(OpenStore(g)->InitializeShard(key));
  if (*all) InitializeAll(g, concurrency);
  if (*rec) Check(OpenStore(g)->RecoverShard(key));
  if (*des) {
    Check(OpenStore(g)->DestroyShard(key));
    std::cout << "Destroyed shard " << key << "\n";
  }
  if (*gc) Gc(g);
  if (*lpc) LookupPieceCid(g, cid);
  if (*get) GetBlock(g, cid, out);
  if (*mig) Migrate(g, dir, key_from_name);
  if (*ver) Verify(g);
  if (*serve) Serve(g, listen);
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
