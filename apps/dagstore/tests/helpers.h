// Shared helpers of the DAG store tests: generated CARs, stores opened on a
// TempDir, the blocks of a CAR, a local HTTP server that can fail, stall or
// cut a transfer.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "boltpp/car/cid.h"
#include "boltpp/dagstore/store.h"

namespace boltpp::dagstore::testing {

// Writes a deterministic CAR (apps/car generator, identity CIDs and
// duplicates included) and returns its path.
std::string MakeCar(const std::string& dir, const std::string& name, uint64_t file_index,
                    uint64_t min_blocks = 20, uint64_t max_blocks = 60);
inline std::string FileUrl(const std::string& path) { return "file://" + path; }

// Every (CID, block) section of a CAR, in file order.
std::vector<std::pair<car::Cid, std::string>> BlocksOf(const std::string& car_path);

StoreOptions TestOptions(const std::string& root);
std::unique_ptr<DagStore> OpenStore(const StoreOptions& o);

// "" when the store's Verify (Tx::Check included) finds nothing, else the
// problems, one per line.
std::string Problems(DagStore& store);

// Go bbolt 1.3.6's Tx.Check on a datastore file no process holds open: ""
// when clean (or when the Go helper was not built, unless CI=true), else
// what Go reports. The data file alone is checked: with a WAL log pending,
// that is the last checkpoint.
std::string GoCheck(const std::string& db_path);
// GoCheck of <root>/datastore/dagstore.db when it exists.
std::string GoCheckRoot(const std::string& root);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);

// Serves files over HTTP on 127.0.0.1 (any free port) from a background
// thread. Per path, a behaviour: serve, fail with 500, stall (send nothing
// for `stall_ms`), cut the body half way, or send a Content-Length that is
// not a number.
class TestHttpServer {
 public:
  enum class Mode { kServe, kFail, kStall, kCut, kBadLength };
  TestHttpServer();
  ~TestHttpServer();
  void Add(const std::string& path, std::string bytes, Mode mode = Mode::kServe);
  void SetMode(const std::string& path, Mode mode);
  std::string Url(const std::string& path) const;
  int requests() const { return requests_.load(); }
  int stall_ms = 2000;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> requests_{0};
};

}  // namespace boltpp::dagstore::testing
