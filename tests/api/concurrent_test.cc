// File: tests/api/concurrent_test.cc
// Many readers and one writer: readers see stable snapshots while commits
// go on; the map grows while readers are open, without deadlock; a reader's
// views stay valid across remaps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "testutil/random.h"
#include "testutil/raw_file.h"
#include "testutil/snapshot.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

using std::chrono::milliseconds;

class ConcurrentTest : public DBTestBase {
 protected:
  Options MakeOptions() override {
    Options o = TestOptions();
    o.no_sync = true;
    return o;
  }
};

// Each commit writes version v to every key of "data" and to "version".
Status WriteVersion(DB* db, uint64_t v, int keys, size_t value_size) {
  return db->Update([&](Tx& tx) -> Status {
    auto b = tx.CreateBucketIfNotExists("data");
    BOLTPP_RETURN_IF_ERROR(b);
    const std::string value = std::to_string(v) + std::string(value_size, '.');
    for (int k = 0; k < keys; ++k) BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(k), value));
    // Churn: a bucket created and dropped every other version.
    if (v % 2 == 0) {
      auto c = tx.CreateBucketIfNotExists("churn");
      BOLTPP_RETURN_IF_ERROR(c);
      for (int k = 0; k < 50; ++k) BOLTPP_RETURN_IF_ERROR(c->Put(U64Key(k), std::string(200, 'c')));
    } else {
      Status s = tx.DeleteBucket("churn");
      if (!s.ok() && s.code() != Code::kBucketNotFound) return s;
    }
    auto meta = tx.CreateBucketIfNotExists("meta");
    BOLTPP_RETURN_IF_ERROR(meta);
    return meta->Put("version", std::to_string(v));
  });
}

// A reader sees exactly one version everywhere, and the same one when it
// reads again later in the same transaction.
TEST_F(ConcurrentTest, ReadersSeeStableSnapshots) {
  const int kKeys = 300;
  ASSERT_OK(WriteVersion(db(), 0, kKeys, 20));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> committed{0};
  std::atomic<int> reads{0};
  std::thread writer([&] {
    for (uint64_t v = 1; !stop.load(); ++v) {
      Status s = WriteVersion(db(), v, kKeys, 20 + (v % 7) * 30);
      EXPECT_OK(s);
      if (!s.ok()) return;
      committed = v;
    }
  });
  auto reader = [&](int id) {
    Random rnd(static_cast<uint64_t>(id));
    while (!stop.load()) {
      Status s = db()->View([&](Tx& tx) -> Status {
        auto vs = tx.GetBucket("meta").Get("version");
        if (!vs) return Status(Code::kCorruption, "no version");
        const std::string version(*vs);
        const uint64_t v = std::stoull(version);
        auto check_all = [&]() {
          Cursor c = tx.GetBucket("data").NewCursor();
          int n = 0;
          for (auto e = c.First(); e; e = c.Next(), ++n) {
            std::string val(e->value);
            if (val.compare(0, version.size(), version) != 0 || val[version.size()] != '.') {
              ADD_FAILURE() << "reader " << id << " saw version " << val.substr(0, 8)
                            << " in a snapshot of " << version;
              return;
            }
          }
          EXPECT_EQ(n, kKeys);
          EXPECT_EQ(tx.GetBucket("churn") ? 0u : 1u, v % 2)
              << "bucket churn in snapshot " << version;
        };
        check_all();
        std::this_thread::sleep_for(milliseconds(rnd.Uniform(3)));
        check_all();  // the same snapshot after commits went on
        EXPECT_EQ(Str(tx.GetBucket("meta").Get("version")), version);
        return Status::OK();
      });
      EXPECT_OK(s);
      ++reads;
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 6; ++i) readers.emplace_back(reader, i);
  std::this_thread::sleep_for(milliseconds(1500));
  stop = true;
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_GT(committed.load(), 10u);
  EXPECT_GT(reads.load(), 20);
  EXPECT_EQ(db()->GetStats().open_tx_n, 0);
}

// The file and the map grow many times while short readers keep coming.
TEST_F(ConcurrentTest, MapGrowsWithReadersOpen) {
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  const uint8_t* first_map = db()->GetInfo().data;
  auto reader = [&] {
    while (!stop.load()) {
      Status s = db()->View([&](Tx& tx) {
        Bucket b = tx.GetBucket("grow");
        if (!b) return Status::OK();
        Cursor c = b.NewCursor();
        uint64_t expect = 0;
        for (auto e = c.First(); e; e = c.Next(), ++expect) {
          EXPECT_EQ(U64FromKey(std::string(e->key)), expect);
          EXPECT_EQ(e->value.size(), 50000u);
          if (!e->value.empty()) {
            EXPECT_EQ(e->value[e->value.size() - 1], static_cast<char>('a' + expect % 26));
          }
        }
        return c.status();
      });
      EXPECT_OK(s);
      ++reads;
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) readers.emplace_back(reader);
  auto writer = std::async(std::launch::async, [&] {
    for (uint64_t i = 0; i < 400; ++i) {
      Status s = db()->Update([&](Tx& tx) -> Status {
        auto b = tx.CreateBucketIfNotExists("grow");
        BOLTPP_RETURN_IF_ERROR(b);
        return b->Put(U64Key(i), std::string(50000, static_cast<char>('a' + i % 26)));
      });
      if (!s.ok()) return s;
    }
    return Status::OK();
  });
  const bool done = writer.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  stop = true;
  for (auto& t : readers) t.join();
  ASSERT_TRUE(done) << "writer did not finish: deadlock between remap and readers?";
  ASSERT_OK(writer.get());
  EXPECT_GT(reads.load(), 0);
  EXPECT_GT(FileSizeOf(tdb().path()), uint64_t{16} << 20)
      << "the file should have grown past 16 MiB";
  EXPECT_NE(db()->GetInfo().data, first_map) << "the map should have been replaced";
}

// A long-lived reader in the same thread as the growing writer: bbolt
// deadlocks here (a remap waits for every reader); boltpp keeps old maps
// alive, so the commit goes through and the reader's views stay valid.
TEST_F(ConcurrentTest, LongReaderDuringRemap) {
  ASSERT_OK(PutAll(db(), "old", {{"a", std::string(1000, 'A')}, {"b", std::string(3, 'B')}}));
  ASSERT_OK_AND_ASSIGN(Tx reader, db()->Begin(false));
  Bucket old = reader.GetBucket("old");
  ASSERT_TRUE(old);
  const auto va = old.Get("a");
  const auto vb = old.Get("b");
  ASSERT_TRUE(va && vb);
  DBSnap before;
  ASSERT_OK(SnapshotTx(reader, &before));

  auto writer = std::async(std::launch::async, [&] {
    for (uint64_t i = 0; i < 40; ++i) {
      Status s = db()->Update([&](Tx& tx) -> Status {
        auto b = tx.CreateBucketIfNotExists("big");
        BOLTPP_RETURN_IF_ERROR(b);
        BOLTPP_RETURN_IF_ERROR(tx.GetBucket("old").Put("a", "overwritten"));
        return b->Put(U64Key(i), std::string(256 * 1024, 'x'));
      });
      if (!s.ok()) return s;
    }
    return Status::OK();
  });
  const bool done = writer.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  EXPECT_TRUE(done) << "a writer that grows the map blocked on an open reader (bbolt's deadlock)";
  if (done) {
    ASSERT_OK(writer.get());
    // The reader still sees its snapshot through its old views.
    EXPECT_EQ(std::string(*va), std::string(1000, 'A'));
    EXPECT_EQ(std::string(*vb), "BBB");
    DBSnap again;
    ASSERT_OK(SnapshotTx(reader, &again));
    EXPECT_EQ(DiffSnaps(before, again), "");
  }
  ASSERT_OK(reader.Rollback());  // unblocks the writer if it was stuck
  if (!done) {
    ASSERT_OK(writer.get());
  }
  EXPECT_EQ(Str([&] {
              std::optional<std::string> v;
              EXPECT_OK(db()->View([&](Tx& tx) {
                v = Str(tx.GetBucket("old").Get("a"));
                return Status::OK();
              }));
              return v;
            }()),
            "overwritten");
}

// Pages freed while a reader is open are not reused until it ends (docs/design.md
// "Transactions and concurrency").
TEST_F(ConcurrentTest, ReaderPinsFreedPages) {
  ASSERT_OK(WriteVersion(db(), 0, 200, 100));
  ASSERT_OK_AND_ASSIGN(Tx reader, db()->Begin(false));
  DBSnap pinned;
  ASSERT_OK(SnapshotTx(reader, &pinned));
  for (uint64_t v = 1; v < 30; ++v) ASSERT_OK(WriteVersion(db(), v, 200, 100));
  const Stats with_reader = db()->GetStats();
  EXPECT_GT(with_reader.pending_page_n, 0) << "pages freed after the reader began stay pending";
  DBSnap again;
  ASSERT_OK(SnapshotTx(reader, &again));
  EXPECT_EQ(DiffSnaps(pinned, again), "");
  ASSERT_OK(reader.Rollback());
  ASSERT_OK(WriteVersion(db(), 30, 200, 100));
  EXPECT_LT(db()->GetStats().pending_page_n, with_reader.pending_page_n)
      << "released once the reader ended";
}

// Writers from many threads serialize; every commit lands.
TEST_F(ConcurrentTest, ManyWriters) {
  const int threads = 6, per_thread = 30;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        EXPECT_OK(db()->Update([&](Tx& tx) -> Status {
          auto b = tx.CreateBucketIfNotExists("w" + std::to_string(t));
          BOLTPP_RETURN_IF_ERROR(b);
          auto seq = b->NextSequence();
          BOLTPP_RETURN_IF_ERROR(seq);
          return b->Put(U64Key(*seq), std::to_string(i));
        }));
      }
    });
  }
  for (auto& t : ts) t.join();
  ASSERT_OK(db()->View([&](Tx& tx) {
    for (int t = 0; t < threads; ++t) {
      Bucket b = tx.GetBucket("w" + std::to_string(t));
      EXPECT_EQ(b.Sequence(), static_cast<uint64_t>(per_thread));
      EXPECT_EQ(b.Stats().key_n, per_thread);
    }
    return Status::OK();
  }));
}

// Begin(true) waits for the current writer.
TEST_F(ConcurrentTest, WriterWaitsForWriter) {
  ASSERT_OK_AND_ASSIGN(Tx w1, db()->Begin(true));
  ASSERT_OK(w1.CreateBucket("first"));
  std::atomic<bool> second_started{false};
  std::thread t([&] {
    auto w2 = db()->Begin(true);
    second_started = true;
    EXPECT_OK(w2);
    if (w2.ok()) {
      EXPECT_TRUE(w2->GetBucket("first")) << "the second writer sees the first one's commit";
      EXPECT_OK(w2->CreateBucket("second"));
      EXPECT_OK(w2->Commit());
    }
  });
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_FALSE(second_started.load());
  ASSERT_OK(w1.Commit());
  t.join();
  EXPECT_TRUE(second_started.load());
}

}  // namespace
}  // namespace boltpp::testing
