// The operator commands of boltpp-dagstore, run against an open store and
// writing through an Output, so that the same code answers a command run
// directly (the process opened the store) and one forwarded to a running
// `serve` over its admin socket (admin.h): the outputs are the same bytes.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "boltpp/dagstore/store.h"

namespace boltpp::dagstore::cli {

// A command and its arguments (what travels over the admin socket as JSON).
struct Request {
  std::string command;  // list-shards, register-shard, ... (the subcommand name)
  std::string key, url, cid, output = "table";
  bool lazy = false;
  int concurrency = 0;
  std::string id;  // chosen by the client; names the request for an interrupt
};
nlohmann::json ToJson(const Request& r);
Request RequestFromJson(const nlohmann::json& j);

// True for the commands a running `serve` answers through its admin socket.
bool ForwardedToDaemon(std::string_view command);

// Where a command's output goes. Out gets stdout bytes (get-block writes raw
// block bytes), Err whole stderr lines. Implementations are thread-safe
// (initialize-all writes from several threads).
class Output {
 public:
  virtual ~Output() = default;
  virtual void Out(std::string_view bytes) = 0;
  virtual void Err(std::string_view line) = 0;
  // True once the command should stop scheduling work (Ctrl-C).
  virtual bool Interrupted() const = 0;
};

// Runs `request` on `store`; returns the exit status (0 or 1). Failures are
// written as one line "boltpp-dagstore: <message>" to Err.
int Execute(DagStore& store, const Request& request, Output& out);

}  // namespace boltpp::dagstore::cli
