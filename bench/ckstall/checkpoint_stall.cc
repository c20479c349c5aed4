// bench/ckstall/checkpoint_stall.cc: boltpp_checkpoint_stall, how long WAL
// checkpoints hold a stream of durable one-key commits (issue 13's goal
// "checkpoints not stalling commits for more than one checkpoint's sync").
//
//   boltpp_checkpoint_stall DIR [SECONDS] [CHECKPOINT_MS] [KEYS]
//
// Creates DIR/ckstall.db in WAL mode, loads KEYS keys (default 100,000; 100
// bytes each) and checkpoints; then for SECONDS (default 10) one thread
// commits one random key at a time (each commit durable: one log fdatasync)
// while another calls DB::Checkpoint() every CHECKPOINT_MS (default 100).
// Each commit dirties a few pages of the data file, so each checkpoint has
// some hundred KiB to sync. Prints one JSON line: the latency of every
// commit (p50, p99, max) and of the commits that overlapped a checkpoint,
// and each checkpoint's duration (p50, max): a checkpoint that holds the
// writer gate through its syncs shows as overlapping commits as slow as the
// checkpoint; one that syncs outside the gate as commits close to the rest.
#include <boltpp/boltpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "checkpoint_stall: %s\n", what.c_str());
  std::exit(1);
}

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::string Key(uint64_t i) {
  char b[32];
  std::snprintf(b, sizeof b, "key%012llu", static_cast<unsigned long long>(i));
  return b;
}

struct Span {
  double start_us, end_us;
};

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: boltpp_checkpoint_stall DIR [SECONDS] [CHECKPOINT_MS] [KEYS]");
  const std::string dir = argv[1];
  const double seconds = argc > 2 ? std::atof(argv[2]) : 10;
  const int ckpt_ms = argc > 3 ? std::atoi(argv[3]) : 100;
  const uint64_t keys = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 100000;
  const std::string path = dir + "/ckstall.db";
  for (const char* x : {"", "-wal", "-wal2"}) std::filesystem::remove(path + x);

  boltpp::Options o;
  o.wal = true;
  o.wal_checkpoint_interval = std::chrono::milliseconds(0);  // only ours
  o.wal_checkpoint_bytes = uint64_t{1} << 30;
  auto db = boltpp::DB::Open(path, o);
  if (!db.ok()) Die(db.status().ToString());
  const std::string value(100, 'v');
  for (uint64_t done = 0; done < keys;) {
    const uint64_t end = std::min(keys, done + 20000);
    boltpp::Status s = (*db)->Update([&](boltpp::Tx& tx) {
      auto b = tx.CreateBucketIfNotExists("b");
      if (!b.ok()) return b.status();
      for (uint64_t i = done; i < end; i++) {
        if (boltpp::Status p = b->Put(Key(i), value); !p.ok()) return p;
      }
      return boltpp::Status::OK();
    });
    if (!s.ok()) Die(s.ToString());
    done = end;
  }
  if (boltpp::Status s = (*db)->Checkpoint(); !s.ok()) Die(s.ToString());

  const auto t0 = Clock::now();
  auto us = [&](Clock::time_point t) {
    return std::chrono::duration<double, std::micro>(t - t0).count();
  };
  std::atomic<bool> stop{false};
  std::vector<Span> ckpts;
  std::thread checkpointer([&] {
    while (!stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ckpt_ms));
      if (stop) break;
      const auto a = Clock::now();
      if (boltpp::Status s = (*db)->Checkpoint(); !s.ok()) Die(s.ToString());
      ckpts.push_back(Span{us(a), us(Clock::now())});
    }
  });
  std::vector<Span> commits;
  const auto deadline = t0 + std::chrono::duration<double>(seconds);
  for (uint64_t n = 0; Clock::now() < deadline; n++) {
    const std::string k = Key(Mix(n) % keys);
    const auto a = Clock::now();
    boltpp::Status s = (*db)->Update(
        [&](boltpp::Tx& tx) { return tx.GetBucket("b").Put(k, std::to_string(n) + value); });
    if (!s.ok()) Die(s.ToString());
    commits.push_back(Span{us(a), us(Clock::now())});
  }
  stop = true;
  checkpointer.join();
  if (boltpp::Status s = (*db)->Close(); !s.ok()) Die(s.ToString());

  std::vector<double> all, overlapping, ck;
  size_t c = 0;
  for (const Span& k : ckpts) ck.push_back(k.end_us - k.start_us);
  for (const Span& m : commits) {
    all.push_back(m.end_us - m.start_us);
    while (c < ckpts.size() && ckpts[c].end_us < m.start_us) c++;
    if (c < ckpts.size() && ckpts[c].start_us < m.end_us) overlapping.push_back(all.back());
  }
  std::printf(
      "{\"commits\": %zu, \"commit_us\": {\"p50\": %.0f, \"p99\": %.0f, \"max\": %.0f}, "
      "\"overlapping\": %zu, \"overlapping_us\": {\"p50\": %.0f, \"p99\": %.0f, \"max\": %.0f}, "
      "\"checkpoints\": %zu, \"checkpoint_us\": {\"p50\": %.0f, \"max\": %.0f}}\n",
      all.size(), Pct(all, 0.5), Pct(all, 0.99), Pct(all, 1.0), overlapping.size(),
      Pct(overlapping, 0.5), Pct(overlapping, 0.99), Pct(overlapping, 1.0), ck.size(), Pct(ck, 0.5),
      Pct(ck, 1.0));
  return 0;
}
