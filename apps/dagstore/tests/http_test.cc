// http:// mounts (transient copies; a local server that fails, stalls or
// cuts the transfer), GC of transients, and the retrieval server answering
// concurrent clients.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "boltpp/dagstore/http_server.h"
#include "helpers.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace fs = std::filesystem;

namespace boltpp::dagstore::testing {
namespace {

using boltpp::testing::TempDir;
using Mode = TestHttpServer::Mode;

// Joins a test's helper thread when the test returns, an early ASSERT
// included (a joinable thread's destructor would end the whole binary).
struct JoinOnExit {
  std::thread& thread;
  ~JoinOnExit() {
    if (thread.joinable()) thread.join();
  }
};

// Whether a download (its .partial-<n> file) shows in `transients` within
// about 10 s.
bool DownloadStarts(const std::string& transients) {
  for (int i = 0; i < 10000; i++) {
    for (const auto& e : fs::directory_iterator(transients)) {
      if (e.path().filename().string().find(".partial-") != std::string::npos) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

class HttpMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.File("cars"));
    car_ = MakeCar(dir_.File("cars"), "a.car", 1);
    server_.Add("/a.car", ReadFile(car_));
    auto o = TestOptions(dir_.File("root"));
    o.max_recover_attempts = 0;
    store_ = OpenStore(o);
  }
  void TearDown() override {
    store_.reset();  // closed: Go bbolt's check needs the file lock
    EXPECT_EQ(GoCheckRoot(dir_.File("root")), "");
  }
  size_t TransientFiles() {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_.File("root/transients"))) {
      (void)e;
      n++;
    }
    return n;
  }
  TempDir dir_;
  std::string car_;
  TestHttpServer server_;
  std::unique_ptr<DagStore> store_;
};

TEST_F(HttpMountTest, DownloadsIntoATransientAndServesFromIt) {
  ASSERT_OK(store_->RegisterShard("k", server_.Url("/a.car"), false));
  auto info = store_->GetShardInfo("k");
  ASSERT_OK(info.status());
  EXPECT_EQ(info->state, ShardState::kAvailable);
  EXPECT_EQ(info->transient, store_->TransientPath("k"));
  EXPECT_EQ(ReadFile(info->transient), ReadFile(car_));
  for (const auto& [cid, block] : BlocksOf(car_)) {
    auto got = store_->GetBlock(cid);
    ASSERT_TRUE(got.ok()) << Message(got.status());
    EXPECT_EQ(*got, block);
  }
  EXPECT_EQ(server_.requests(), 1);  // the transient is reused
  EXPECT_EQ(Problems(*store_), "");
}

TEST_F(HttpMountTest, ServerErrorMakesTheShardErrored) {
  server_.SetMode("/a.car", Mode::kFail);
  Status s = store_->RegisterShard("k", server_.Url("/a.car"), false);
  EXPECT_NE(Message(s).find("HTTP status 500"), std::string::npos) << Message(s);
  EXPECT_EQ(store_->GetShardInfo("k")->state, ShardState::kErrored);
  EXPECT_EQ(TransientFiles(), 0u);
  EXPECT_EQ(Problems(*store_), "");
  // the server heals: a manual recovery fetches again
  server_.SetMode("/a.car", Mode::kServe);
  ASSERT_OK(store_->RecoverShard("k"));
  EXPECT_EQ(store_->GetShardInfo("k")->state, ShardState::kAvailable);
  EXPECT_EQ(Problems(*store_), "");
}

TEST_F(HttpMountTest, CutTransferIsAnErrorNotAShortShard) {
  server_.SetMode("/a.car", Mode::kCut);
  Status s = store_->RegisterShard("k", server_.Url("/a.car"), false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(store_->GetShardInfo("k")->state, ShardState::kErrored);
  EXPECT_NE(store_->GetShardInfo("k")->error.find("fetching"), std::string::npos)
      << store_->GetShardInfo("k")->error;
  EXPECT_EQ(TransientFiles(), 0u);
  EXPECT_FALSE(fs::exists(store_->IndexPath("k")));
  EXPECT_EQ(Problems(*store_), "");
}

TEST_F(HttpMountTest, MalformedContentLengthIsAnError) {
  server_.SetMode("/a.car", Mode::kBadLength);
  Status s = store_->RegisterShard("k", server_.Url("/a.car"), false);
  EXPECT_NE(Message(s).find("bad Content-Length \"x12\""), std::string::npos) << Message(s);
  EXPECT_EQ(store_->GetShardInfo("k")->state, ShardState::kErrored);
  EXPECT_EQ(TransientFiles(), 0u);
  EXPECT_EQ(Problems(*store_), "");
}

TEST_F(HttpMountTest, ConcurrentFetchesOfOneShardEachWriteTheirOwnPartial) {
  ASSERT_OK(store_->RegisterShard("k", server_.Url("/a.car"), false));
  ASSERT_EQ(store_->GC().size(), 1u);  // the transient goes: the next reads fetch again
  const auto blocks = BlocksOf(car_);
  std::vector<std::thread> readers;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; t++) {
    readers.emplace_back([&, t] {
      const auto& [cid, block] = blocks[static_cast<size_t>(t) % blocks.size()];
      auto got = store_->GetBlock(cid);
      if (!got.ok() || *got != block) wrong++;
    });
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(ReadFile(store_->TransientPath("k")), ReadFile(car_));
  EXPECT_EQ(TransientFiles(), 1u);  // no .partial-<n> left behind
  EXPECT_EQ(Problems(*store_), "");
}

TEST_F(HttpMountTest, StalledTransferTimesOut) {
  server_.stall_ms = 1500;  // > the test store's 500 ms http timeout
  server_.SetMode("/a.car", Mode::kStall);
  const auto start = std::chrono::steady_clock::now();
  Status s = store_->RegisterShard("k", server_.Url("/a.car"), false);
  ASSERT_FALSE(s.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1400));
  EXPECT_EQ(store_->GetShardInfo("k")->state, ShardState::kErrored);
  EXPECT_EQ(Problems(*store_), "");
}

// A .partial-<n> being downloaded right now is not a problem for Verify; the
// same kind of file left by a crashed process is an orphan it reports.
TEST_F(HttpMountTest, VerifyIgnoresADownloadInProgressButReportsAnOrphanPartial) {
  server_.stall_ms = 1500;  // the body comes after 1.5 s, within the timeout below
  server_.SetMode("/a.car", Mode::kStall);
  auto o = TestOptions(dir_.File("root2"));
  o.http_timeout = std::chrono::milliseconds(5000);
  auto store = OpenStore(o);
  ASSERT_TRUE(store);
  std::thread registering(
      [&] { EXPECT_OK(store->RegisterShard("k", server_.Url("/a.car"), false)); });
  const JoinOnExit join{registering};  // also when an ASSERT returns early
  ASSERT_TRUE(DownloadStarts(dir_.File("root2/transients"))) << "the download never started";
  EXPECT_EQ(Problems(*store), "");  // in flight: not an orphan
  registering.join();
  EXPECT_EQ(store->GetShardInfo("k")->state, ShardState::kAvailable);
  const std::string orphan = dir_.File("root2/transients/transient-k.partial-999");
  WriteFile(orphan, "half a download");
  EXPECT_EQ(Problems(*store), "transients: unreferenced file " + orphan + "\n");
  ASSERT_OK(store->Close());
  store = OpenStore(o);  // a restart deletes the orphan (its sweep, after Open)
  store->WaitIdle();
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_EQ(Problems(*store), "");
}

// The sweep of unreferenced files runs after Open, beside the operations
// callers start meanwhile: it removes what a crash left, but not the files
// of a shard being initialized (its index's temporary, its transient).
TEST_F(HttpMountTest, SweepAfterOpenKeepsTheFilesOfAShardBeingInitialized) {
  server_.stall_ms = 8000;  // the download outlasts the sweep's delay by far
  server_.SetMode("/a.car", Mode::kStall);
  const std::string root = dir_.File("root3");
  auto o = TestOptions(root);
  o.http_timeout = std::chrono::milliseconds(30000);
  o.sweep_delay = std::chrono::milliseconds(3000);
  auto store = OpenStore(o);
  ASSERT_TRUE(store);
  std::thread registering(
      [&] { EXPECT_OK(store->RegisterShard("k", server_.Url("/a.car"), false)); });
  const JoinOnExit join{registering};  // also when an ASSERT returns early
  ASSERT_TRUE(DownloadStarts(root + "/transients")) << "the download never started";
  // What the initialization of k writes next, and what a crash left.
  const std::string k_temporary = store->IndexPath("k") + ".tmp";
  const std::string k_transient = root + "/transients/transient-k.complete";
  WriteFile(k_temporary, "x");
  WriteFile(k_transient, "x");
  const std::vector<std::string> orphans = {
      root + "/index/gone.full.idx", root + "/index/gone.full.idx.tmp",
      root + "/transients/transient-gone.complete", root + "/transients/transient-gone.partial-7"};
  for (const auto& f : orphans) WriteFile(f, "x");
  store->WaitIdle();  // the sweep ran; the registration is the caller's, not background work
  ASSERT_EQ(store->GetShardInfo("k")->state, ShardState::kInitializing)
      << "the download ended before the sweep: the test proves nothing";
  EXPECT_TRUE(fs::exists(k_temporary));
  EXPECT_TRUE(fs::exists(k_transient));
  for (const auto& f : orphans) EXPECT_FALSE(fs::exists(f)) << f;
  std::vector<std::string> removed = store->removed_unreferenced_files();
  std::vector<std::string> expected = orphans;
  std::sort(removed.begin(), removed.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(removed, expected);
  registering.join();
  EXPECT_EQ(store->GetShardInfo("k")->state, ShardState::kAvailable);
  EXPECT_FALSE(fs::exists(k_temporary));  // renamed to the index by the initialization
  EXPECT_EQ(Problems(*store), "");
  ASSERT_OK(store->Close());
  EXPECT_EQ(GoCheckRoot(root), "");
}

TEST_F(HttpMountTest, UnreachableServerIsAnError) {
  Status s = store_->RegisterShard("k", "http://127.0.0.1:1/a.car", false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(store_->GetShardInfo("k")->state, ShardState::kErrored);
}

// After a restart GC finds what to collect without the whole shard map: a
// shard whose record names a transient (the attention index lists it) and
// one Open never loaded whose file sits in transients/ (found by name).
TEST_F(HttpMountTest, GcAfterARestartFindsTransientsThroughTheAttentionIndexAndFileNames) {
  ASSERT_OK(store_->RegisterShard("http", server_.Url("/a.car"), false));
  ASSERT_OK(store_->RegisterShard("file", FileUrl(car_), false));
  ASSERT_OK(store_->Close());
  auto o = TestOptions(dir_.File("root"));
  o.max_recover_attempts = 0;
  store_ = OpenStore(o);
  store_->WaitIdle();  // the sweep after Open ran: it would take the copy below for an orphan
  EXPECT_EQ(store_->GetShardInfo("http")->transient, store_->TransientPath("http"));
  WriteFile(store_->TransientPath("file"), ReadFile(car_));  // e.g. a copy left by hand
  auto result = store_->GC();
  ASSERT_EQ(result.size(), 2u);
  EXPECT_OK(result["http"]);
  EXPECT_OK(result["file"]);
  EXPECT_EQ(TransientFiles(), 0u);
  EXPECT_EQ(store_->GetShardInfo("http")->transient, "");
  EXPECT_EQ(Problems(*store_), "");
  ASSERT_OK(store_->Close());
  store_ = OpenStore(o);
  EXPECT_TRUE(store_->GC().empty());
  EXPECT_EQ(Problems(*store_), "");
}

TEST_F(HttpMountTest, GcDropsTransientsOfIdleShardsOnly) {
  ASSERT_OK(store_->RegisterShard("idle", server_.Url("/a.car"), false));
  server_.Add("/b.car", ReadFile(car_));
  ASSERT_OK(store_->RegisterShard("busy", server_.Url("/b.car"), false));
  auto held = store_->AcquireShard("busy");
  ASSERT_TRUE(held.ok());
  WriteFile(dir_.File("root/transients/transient-stray.partial"), "x");
  // a download in progress for the busy shard survives; one of the idle goes
  WriteFile(dir_.File("root/transients/transient-busy.partial-7"), "x");
  WriteFile(dir_.File("root/transients/transient-idle.partial-8"), "x");
  auto result = store_->GC();
  ASSERT_EQ(result.size(), 1u);
  EXPECT_OK(result["idle"]);
  EXPECT_FALSE(fs::exists(store_->TransientPath("idle")));
  EXPECT_TRUE(fs::exists(store_->TransientPath("busy")));
  EXPECT_FALSE(fs::exists(dir_.File("root/transients/transient-stray.partial")));
  EXPECT_TRUE(fs::exists(dir_.File("root/transients/transient-busy.partial-7")));
  EXPECT_FALSE(fs::exists(dir_.File("root/transients/transient-idle.partial-8")));
  fs::remove(dir_.File("root/transients/transient-busy.partial-7"));  // that download "ends"
  EXPECT_EQ(store_->GetShardInfo("idle")->transient, "");
  EXPECT_TRUE(store_->GC().empty());  // nothing left to collect
  held->reset();
  // the collected shard is fetched again on its next acquire
  auto again = store_->AcquireShard("idle");
  ASSERT_TRUE(again.ok()) << Message(again.status());
  EXPECT_TRUE(fs::exists(store_->TransientPath("idle")));
  again->reset();
  EXPECT_EQ(Problems(*store_), "");
}

TEST_F(HttpMountTest, GcRunsOnItsInterval) {
  store_.reset();
  auto o = TestOptions(dir_.File("root2"));
  o.gc_interval = std::chrono::milliseconds(50);
  auto s = OpenStore(o);
  ASSERT_OK(s->RegisterShard("k", server_.Url("/a.car"), false));
  EXPECT_TRUE(fs::exists(s->TransientPath("k")));
  for (int i = 0; i < 200 && fs::exists(s->TransientPath("k")); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(fs::exists(s->TransientPath("k")));
  for (int i = 0; i < 200 && !s->GetShardInfo("k")->transient.empty(); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(s->GetShardInfo("k")->transient, "");
  EXPECT_EQ(Problems(*s), "");
}

TEST_F(HttpMountTest, ServeAnswersConcurrentClientsWithTheRightBytes) {
  ASSERT_OK(store_->RegisterShard("k", FileUrl(car_), false));
  HttpServer server(store_.get());
  auto port = server.Bind("127.0.0.1", 0);
  ASSERT_OK(port.status());
  std::thread runner([&] { server.Run(); });
  const auto blocks = BlocksOf(car_);
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; c++) {
    clients.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", *port);
      for (size_t i = c; i < blocks.size(); i += 3) {
        auto res = client.Get("/ipfs/" + blocks[i].first.ToString() + "?format=raw");
        if (!res || res->status != 200 || res->body != blocks[i].second ||
            res->get_header_value("Content-Type") != "application/vnd.ipld.raw") {
          wrong++;
        }
      }
      auto piece = client.Get("/piece/k");
      if (!piece || piece->status != 200 || piece->body != ReadFile(car_)) wrong++;
    });
  }
  for (auto& t : clients) t.join();
  httplib::Client client("127.0.0.1", *port);
  auto missing =
      client.Get("/ipfs/bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am?format=raw");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto bad = client.Get("/ipfs/notacid");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto no_piece = client.Get("/piece/nope");
  ASSERT_TRUE(no_piece);
  EXPECT_EQ(no_piece->status, 404);
  ASSERT_OK(store_->FailShard("k", "injected"));
  auto errored = client.Get("/piece/k");
  ASSERT_TRUE(errored);
  EXPECT_EQ(errored->status, 503);
  EXPECT_NE(errored->body.find("injected"), std::string::npos);
  server.Stop();
  runner.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(store_->GetShardInfo("k")->refs, 0);
  EXPECT_EQ(Problems(*store_), "");
}

}  // namespace
}  // namespace boltpp::dagstore::testing
