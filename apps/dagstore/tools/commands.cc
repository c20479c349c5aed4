#include "commands.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace boltpp::dagstore::cli {
namespace {

// A failure of the command: Execute reports it and returns 1.
struct Failed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Check(const Status& s) {
  if (!s.ok()) throw Failed(Message(s));
}

car::Cid ParseCid(const std::string& text) {
  auto cid = car::Cid::FromString(text);
  if (!cid.ok()) throw Failed("bad CID " + text + ": " + Message(cid.status()));
  return std::move(*cid);
}

int ListShards(DagStore& store, const std::string& format, Output& out) {
  auto shards = store.AllShardsInfo();
  if (format == "json") {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& s : shards) {
      arr.push_back({{"Key", s.key}, {"State", StateName(s.state)}, {"Error", s.error}});
    }
    out.Out(arr.dump(2) + "\n");
    return 0;
  }
  if (shards.empty()) return 0;
  size_t kw = 3, sw = 5;
  for (const auto& s : shards) {
    kw = std::max(kw, s.key.size());
    sw = std::max(sw, StateName(s.state).size());
  }
  std::string text;
  auto row = [&](const std::string& k, const std::string& st, const std::string& e) {
    text += k + std::string(kw - k.size() + 2, ' ') + st;
    if (!e.empty()) text += std::string(sw - st.size() + 2, ' ') + e;
    text += "\n";
  };
  row("KEY", "STATE", "ERROR");
  for (const auto& s : shards) row(s.key, StateName(s.state), s.error);
  out.Out(text);
  return 0;
}

int RegisterShard(DagStore& store, const Request& r, Output& out) {
  if (store.GetShardInfo(r.key).ok()) {
    out.Out("Shard " + r.key + " is already registered\n");
    return 0;
  }
  Status s = store.RegisterShard(r.key, r.url, r.lazy);
  if (!s.ok()) {
    if (store.GetShardInfo(r.key).ok())
      throw Failed("shard " + r.key + " is Errored: " + Message(s));
    throw Failed(Message(s));
  }
  out.Out("Registered shard " + r.key + "\n");
  return 0;
}

int InitializeAll(DagStore& store, int concurrency, Output& out) {
  std::vector<std::string> keys;
  for (const auto& s : store.AllShardsInfo()) {
    if (s.state == ShardState::kNew) keys.push_back(s.key);
  }
  const size_t total = keys.size();
  std::atomic<size_t> errors{0};
  auto say = [&](size_t i, const std::string& key, const std::string& what) {
    out.Out("(" + std::to_string(i) + "/" + std::to_string(total) + ") " + key + " " + what + "\n");
  };
  // 0 = unlimited: as many workers as the store's own indexing throttle can
  // use, capped so thousands of New shards do not start thousands of threads.
  const size_t unlimited = std::max<size_t>(4, 2 * std::thread::hardware_concurrency());
  DagStore::BulkInitOptions bulk;
  bulk.concurrency = concurrency <= 0 ? unlimited : static_cast<size_t>(concurrency);
  bulk.interrupted = [&] { return out.Interrupted(); };  // stop scheduling; what runs finishes
  bulk.on_start = [&](size_t i, const std::string& key) { say(i + 1, key, "STARTING"); };
  bulk.on_done = [&](size_t i, const std::string& key, const Status& s) {
    if (s.ok()) {
      say(i + 1, key, "SUCCESS");
    } else {
      errors++;
      say(i + 1, key, "ERROR " + Message(s));
    }
  };
  // Shards indexed meanwhile share their Available commit (see
  // InitializeShards): SUCCESS follows the commit, so with concurrency 1 the
  // next shard may print STARTING before the previous one's SUCCESS.
  const size_t started = store.InitializeShards(keys, bulk);
  if (started < total) {
    throw Failed("interrupted: " + std::to_string(total - started) + " of " +
                 std::to_string(total) + " shards not started; run initialize-all again to resume");
  }
  if (errors > 0) {
    throw Failed(std::to_string(errors.load()) + " of " + std::to_string(total) + " shards failed");
  }
  return 0;
}

int Gc(DagStore& store, Output& out) {
  auto result = store.GC();
  if (result.empty()) {
    out.Out("no shards collected\n");
    return 0;
  }
  int status = 0;
  std::string text;
  for (const auto& [key, s] : result) {
    if (s.ok()) {
      text += key + " SUCCESS\n";
    } else {
      status = 1;
      text += key + " ERROR " + Message(s) + "\n";
    }
  }
  out.Out(text);
  return status;
}

int LookupPieceCid(DagStore& store, const std::string& text, Output& out) {
  const car::Cid cid = ParseCid(text);
  auto keys = store.ShardsContainingMultihash(cid.multihash());
  if (!keys.ok()) throw Failed(Message(keys.status()));
  if (keys->empty()) throw Failed("CID " + text + " was not found in any piece");
  std::string list;
  for (const auto& k : *keys) list += (list.empty() ? "" : " ") + k;
  out.Out("Given CID was found in the following pieces: [" + list + "]\n");
  return 0;
}

int GetBlock(DagStore& store, const std::string& text, Output& out) {
  const car::Cid cid = ParseCid(text);
  auto block = store.GetBlock(cid);
  if (!block.ok()) throw Failed(Message(block.status()));
  out.Out(*block);
  return 0;
}

int Verify(DagStore& store, Output& out) {
  auto problems = store.Verify();
  std::string text;
  for (const auto& p : problems) text += p + "\n";
  if (!problems.empty()) {
    out.Out(text);
    return 1;
  }
  out.Out("OK: " + std::to_string(store.AllShardsInfo().size()) + " shards\n");
  return 0;
}

int Dispatch(DagStore& store, const Request& r, Output& out) {
  const std::string& c = r.command;
  if (c == "list-shards") return ListShards(store, r.output, out);
  if (c == "register-shard") return RegisterShard(store, r, out);
  if (c == "initialize-shard") {
    Check(store.InitializeShard(r.key));
    return 0;
  }
  if (c == "initialize-all") return InitializeAll(store, r.concurrency, out);
  if (c == "recover-shard") {
    Check(store.RecoverShard(r.key));
    return 0;
  }
  if (c == "destroy-shard") {
    Check(store.DestroyShard(r.key));
    out.Out("Destroyed shard " + r.key + "\n");
    return 0;
  }
  if (c == "gc") return Gc(store, out);
  if (c == "lookup-piece-cid") return LookupPieceCid(store, r.cid, out);
  if (c == "get-block") return GetBlock(store, r.cid, out);
  if (c == "verify") return Verify(store, out);
  throw Failed("unknown command " + c);
}

}  // namespace

nlohmann::json ToJson(const Request& r) {
  return {{"id", r.id},   {"command", r.command}, {"key", r.key},   {"url", r.url},
          {"cid", r.cid}, {"output", r.output},   {"lazy", r.lazy}, {"concurrency", r.concurrency}};
}

Request RequestFromJson(const nlohmann::json& j) {
  Request r;
  r.id = j.value("id", "");
  r.command = j.value("command", "");
  r.key = j.value("key", "");
  r.url = j.value("url", "");
  r.cid = j.value("cid", "");
  r.output = j.value("output", "table");
  r.lazy = j.value("lazy", false);
  r.concurrency = j.value("concurrency", 0);
  return r;
}

bool ForwardedToDaemon(std::string_view command) {
  static const std::set<std::string_view> kForwarded = {"list-shards",
                                                        "register-shard",
                                                        "initialize-shard",
                                                        "initialize-all",
                                                        "recover-shard",
                                                        "destroy-shard",
                                                        "gc",
                                                        "lookup-piece-cid",
                                                        "get-block",
                                                        "verify"};
  return kForwarded.count(command) != 0;
}

int Execute(DagStore& store, const Request& request, Output& out) {
  try {
    return Dispatch(store, request, out);
  } catch (const std::exception& e) {  // Failed, or bad_alloc, filesystem errors, ...
    out.Err(std::string("boltpp-dagstore: ") + e.what() + "\n");
    return 1;
  }
}

}  // namespace boltpp::dagstore::cli
