// File: tests/reliability/kill_child.cc
// The child of the kill test (kill_test.cc):
//   boltpp_kill_child <db> <log> <seed> <run> [wal]
// Opens the database, finds the last committed transaction i (state/n) and
// commits i+1, i+2, ... forever, appending each id to <log> and fdatasync-ing
// the log after Commit returns. A reader thread keeps read transactions open
// so that some freed pages are pending when the kill comes. Options vary
// with <run>; "wal" runs in WAL mode, checkpointing every 32 KiB of log and
// every 20 ms. Exits non-zero on any error (the parent reports its stderr).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "boltpp/boltpp.h"
#include "reliability/kill_txn.h"

using namespace boltpp;
using namespace boltpp::reliability;

static void Die(const char* what, const Status& s) {
  std::fprintf(stderr, "kill_child: %s: %s\n", what, s.ToString().c_str());
  std::exit(2);
}

int main(int argc, char** argv) {
  if (argc != 5 && !(argc == 6 && std::string(argv[5]) == "wal")) {
    std::fprintf(stderr, "usage: %s <db> <log> <seed> <run> [wal]\n", argv[0]);
    return 64;
  }
  const std::string path = argv[1];
  const uint64_t seed = std::strtoull(argv[3], nullptr, 0);
  const uint64_t run = std::strtoull(argv[4], nullptr, 0);
  Options o;
  o.timeout = std::chrono::milliseconds(5000);
  o.freelist_type = run % 2 ? FreelistType::kHashMap : FreelistType::kArray;
  o.no_freelist_sync = run % 5 == 3;
  // A kill keeps the page cache, so syncing only slows the child down; sync
  // on some runs anyway so both paths are killed mid-way.
  o.no_sync = run % 3 != 0;
  if (argc == 6) {
    o.wal = true;
    o.wal_checkpoint_bytes = 32 * 1024;
    o.wal_checkpoint_interval = std::chrono::milliseconds(20);
  }
  auto db = DB::Open(path, o);
  if (!db.ok()) Die("open", db.status());
  auto n = KillTxnCommitted(db->get());
  if (!n.ok()) Die("read state", n.status());

  int log = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (log < 0) {
    std::perror("kill_child: open log");
    return 2;
  }
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      Status s = (*db)->View([](Tx& tx) {
        Bucket b = tx.GetBucket("b0");
        if (b) {
          Cursor c = b.NewCursor();
          for (auto e = c.First(); e; e = c.Next()) {
          }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(500));
        return tx.status();
      });
      if (!s.ok()) Die("reader", s);
    }
  });
  for (uint64_t i = *n + 1;; i++) {
    const Ops ops = KillTxnOps(seed, i);
    Status s;
    if (i % 2) {
      s = (*db)->Update([&](Tx& tx) { return ApplyOps(tx, ops); });
    } else {
      auto tx = (*db)->Begin(true);
      if (!tx.ok()) Die("begin", tx.status());
      s = ApplyOps(*tx, ops);
      if (s.ok()) s = tx->Commit();
    }
    if (!s.ok()) Die("commit", s);
    const std::string line = std::to_string(i) + "\n";
    if (write(log, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
        fdatasync(log) != 0) {
      std::perror("kill_child: log");
      return 2;
    }
  }
  stop = true;
  reader.join();
}
