// File: tools/cli/progress.cc
// A progress line on stderr for long operations. It is drawn only when
// stderr is a terminal (and BOLTPP_NO_PROGRESS is unset), from a helper
// thread, at most five times a second, starting after half a second, and is
// erased when the operation ends, so that pipes and logs never see it.
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "cli.h"

namespace boltpp::cli {

struct Progress::State {
  std::string label;
  uint64_t total = 0;
  bool bytes = false;
  std::atomic<uint64_t> done{0};
  std::function<uint64_t()> poll;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool drawn = false;
  std::thread thread;
  std::chrono::steady_clock::time_point start;
};

namespace {

std::string Human(uint64_t v, bool bytes) {
  char buf[32];
  if (!bytes) {
    std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(v));
    return buf;
  }
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double d = static_cast<double>(v);
  int u = 0;
  while (d >= 1024 && u < 4) {
    d /= 1024;
    ++u;
  }
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(v));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", d, units[u]);
  }
  return buf;
}

void Draw(Progress* /*unused*/, const std::string& line) {
  std::string s = "\r\x1b[K" + line;
  std::fwrite(s.data(), 1, s.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

bool Progress::Enabled() {
  const char* no = std::getenv("BOLTPP_NO_PROGRESS");
  if (no && *no && std::string(no) != "0") return false;
  return ::isatty(STDERR_FILENO) == 1;
}

Progress::Progress(std::string label, uint64_t total, bool bytes) {
  if (!Enabled()) return;
  st_ = std::make_unique<State>();
  st_->label = std::move(label);
  st_->total = total;
  st_->bytes = bytes;
  st_->start = std::chrono::steady_clock::now();
  State* st = st_.get();
  st_->thread = std::thread([st] {
    static const char kSpin[] = "|/-\\";
    int tick = 0;
    std::unique_lock<std::mutex> lock(st->mu);
    if (st->cv.wait_for(lock, std::chrono::milliseconds(500), [st] { return st->stop; })) return;
    while (!st->stop) {
      uint64_t done = st->poll ? st->poll() : st->done.load();
      double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - st->start).count();
      char tail[64];
      std::snprintf(tail, sizeof(tail), " %.1fs", secs);
      std::string line = st->label + " ";
      if (st->total > 0) {
        double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(st->total));
        int width = 30;
        int fill = static_cast<int>(frac * width);
        line += "[" + std::string(fill, '#') + std::string(width - fill, '-') + "] ";
        char pct[16];
        std::snprintf(pct, sizeof(pct), "%3d%% ", static_cast<int>(frac * 100));
        line += pct + Human(done, st->bytes) + "/" + Human(st->total, st->bytes);
      } else {
        line += kSpin[tick % 4];
        line += " " + Human(done, st->bytes);
      }
      line += tail;
      Draw(nullptr, line);
      st->drawn = true;
      ++tick;
      st->cv.wait_for(lock, std::chrono::milliseconds(200), [st] { return st->stop; });
    }
  });
}

Progress::~Progress() { Finish(); }

void Progress::Set(uint64_t done) {
  if (st_) st_->done.store(done);
}

void Progress::Add(uint64_t n) {
  if (st_) st_->done.fetch_add(n);
}

void Progress::Poll(std::function<uint64_t()> fn) {
  if (!st_) return;
  std::lock_guard<std::mutex> lock(st_->mu);
  st_->poll = std::move(fn);
}

void Progress::Finish() {
  if (!st_) return;
  {
    std::lock_guard<std::mutex> lock(st_->mu);
    st_->stop = true;
  }
  st_->cv.notify_all();
  if (st_->thread.joinable()) st_->thread.join();
  if (st_->drawn) Draw(nullptr, "");
  st_.reset();
}

}  // namespace boltpp::cli
