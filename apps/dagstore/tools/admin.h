// The admin endpoint of a running `serve`: a Unix socket <root>/admin.sock
// (mode 0600) through which the other commands on the same root reach the
// daemon that holds the datastore's lock, instead of failing "locked".
//
// Protocol (HTTP/1.1 over the Unix socket, cpp-httplib on both ends):
//   POST /v1/run        body: the Request as JSON. The answer is a chunked
//                       stream of frames "<kind><decimal length>\n<bytes>":
//                       kind 'o' = stdout bytes, 'e' = stderr text, and one
//                       final 'x' whose bytes are the exit status. A stream
//                       that ends without 'x' means the daemon died.
//   POST /v1/interrupt  body: a request id; that command stops scheduling
//                       (initialize-all's Ctrl-C), as SIGINT does directly.
//
// Stale socket: a socket file nobody listens on (a serve killed -9) refuses
// connections; the command then opens the store directly, and whoever holds
// the datastore's lock (that command, or the next serve) removes the file.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "commands.h"

namespace boltpp::dagstore::cli {

std::string AdminSocketPath(const std::string& root);

class AdminServer {
 public:
  explicit AdminServer(DagStore* store);
  ~AdminServer();
  // Replaces any stale socket file (the caller holds the datastore's lock,
  // so no other daemon can own it) and starts answering in the background.
  Status Start();
  // Interrupts the running commands (they stop scheduling), stops, waits
  // for them and removes the socket file.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sends `request` to the daemon of `root` and writes its answer to `out`.
// Returns std::nullopt when no daemon listens (no socket, or a stale one),
// else the command's exit status; a daemon that dies mid-command gives a
// clear error on `out` and 1. While waiting, a set `interrupted` is passed
// on to the daemon once (POST /v1/interrupt).
std::optional<int> ForwardToDaemon(const std::string& root, const Request& request, Output& out,
                                   const std::atomic<bool>& interrupted);

}  // namespace boltpp::dagstore::cli
