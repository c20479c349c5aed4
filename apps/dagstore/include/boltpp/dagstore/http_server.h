// Retrieval over HTTP (cpp-httplib):
//   GET /ipfs/{cid}?format=raw  the block (application/vnd.ipld.raw), found
//                               through the inverted index and a shard index
//   GET /piece/{key}            the shard's CAR bytes (application/vnd.ipld.car)
// 404 for an unknown CID or shard, 400 for a malformed CID or a format other
// than raw, 503 naming the shard error when the shard cannot be read.
// Every request acquires the shard and releases it when answered.
#pragma once

#include <memory>
#include <string>

#include "boltpp/dagstore/store.h"

namespace boltpp::dagstore {

class HttpServer {
 public:
  explicit HttpServer(DagStore* store);
  ~HttpServer();
  // Binds host:port (port 0 = any free port); returns the port.
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop (blocks).
  void Run();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace boltpp::dagstore
