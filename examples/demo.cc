// File: examples/demo.cc
// A short tour of boltpp's public API: create a database, write nested
// buckets in a transaction, read them back with a cursor, watch a rollback
// leave no trace, batch concurrent writers, take a hot backup, check and
// compact. Usage: boltpp_demo DIR
#include <boltpp/boltpp.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

using boltpp::Bytes;
using boltpp::Status;
using boltpp::Tx;

static void Must(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "demo: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  const std::string path = dir + "/demo.db";
  std::remove(path.c_str());
  auto opened = boltpp::DB::Open(path);
  Must(opened.status(), "open");
  boltpp::DB& db = **opened;

  // One transaction: a bucket of jobs, each with a nested bucket of events.
  Must(db.Update([](Tx& tx) {
    auto jobs = tx.CreateBucket("jobs");
    if (!jobs.ok()) return jobs.status();
    for (int i = 1; i <= 5; i++) {
      std::string id = "job-" + std::to_string(i);
      if (Status s = jobs->Put(id, R"({"state":"queued","cpu":)" + std::to_string(i) + "}");
          !s.ok())
        return s;
    }
    auto events = jobs->CreateBucket("events");
    if (!events.ok()) return events.status();
    for (int i = 0; i < 3; i++) {
      auto seq = events->NextSequence();
      if (!seq.ok()) return seq.status();
      if (Status s = events->Put("event-" + std::to_string(*seq), "created"); !s.ok()) return s;
    }
    return Status::OK();
  }),
       "first update");
  std::printf("wrote 5 jobs and 3 events in one transaction\n");

  // A failing update rolls back: nothing of it is visible afterwards.
  Status failed = db.Update([](Tx& tx) {
    if (Status s = tx.GetBucket("jobs").Put("job-99", "half-written"); !s.ok()) return s;
    return Status(boltpp::Code::kAborted, "changed my mind");
  });
  std::printf("failed update returned \"%s\"\n", failed.ToString().c_str());

  // Batch: 8 threads each add a key; their calls share a few commits.
  std::vector<std::thread> workers;
  for (int t = 0; t < 8; t++) {
    workers.emplace_back([&db, t] {
      Must(db.Batch([t](Tx& tx) {
        return tx.GetBucket("jobs").Put("worker-" + std::to_string(t), "done");
      }),
           "batch");
    });
  }
  for (auto& w : workers) w.join();

  // Read back with a cursor; sub-buckets show up with is_bucket set.
  Must(db.View([](Tx& tx) {
    std::printf("jobs bucket (tx %llu):\n", static_cast<unsigned long long>(tx.ID()));
    auto c = tx.GetBucket("jobs").NewCursor();
    for (auto e = c.First(); e; e = c.Next()) {
      if (e->is_bucket) {
        std::printf("  %.*s/ (bucket)\n", static_cast<int>(e->key.size()), e->key.data());
      } else {
        std::printf("  %.*s = %.*s\n", static_cast<int>(e->key.size()), e->key.data(),
                    static_cast<int>(e->value.size()), e->value.data());
      }
    }
    std::printf("job-99 present after rollback: %s\n",
                tx.GetBucket("jobs").Get("job-99") ? "yes" : "no");
    return c.status();
  }),
       "view");

  // Hot backup, consistency check, compaction.
  const std::string backup = dir + "/demo-backup.db";
  Must(db.View([&](Tx& tx) { return tx.CopyFile(backup); }), "backup");
  Must(db.View([](Tx& tx) {
    auto errors = tx.Check();
    std::printf("check: %s\n", errors.empty() ? "OK" : errors.front().c_str());
    return Status::OK();
  }),
       "check");
  const std::string compacted = dir + "/demo-compacted.db";
  std::remove(compacted.c_str());
  auto dst = boltpp::DB::Open(compacted);
  Must(dst.status(), "open compacted");
  Must(boltpp::Compact(**dst, db, 65536), "compact");
  std::printf("backup written to %s, compacted copy to %s\n", backup.c_str(), compacted.c_str());
  Must((*dst)->Close(), "close compacted");
  Must(db.Close(), "close");
  return 0;
}
