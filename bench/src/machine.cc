// bench/src/machine.cc: machine description and the disk's durable-commit
// floor.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common.h"
#include "driver.h"

namespace bench {

using nlohmann::json;

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) i++;
  return s.substr(i);
}
std::string ReadFirstLine(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return Trim(line);
}
std::string RealPath(const std::string& p) {
  char buf[4096];
  if (realpath(p.c_str(), buf)) return buf;
  return p;
}

void WriteAll(int fd, const char* buf, size_t n, off_t off) {
  while (n > 0) {
    ssize_t w = pwrite(fd, buf, n, off);
    if (w < 0) Die(std::string("pwrite: ") + std::strerror(errno));
    buf += w;
    n -= static_cast<size_t>(w);
    off += w;
  }
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// One commit shape: `pages` data pages in `extents` runs (the first
// extents-1 runs one page each, the last run the rest), fdatasync, then a
// meta page and fdatasync. The runs start at pseudo-random pages in
// [2, 2 + span_pages), or at consecutive pages when sequential.
struct CommitShape {
  int pages;
  int extents;
  bool sequential;
};

// Times iters commits of the given shape on fd (after 10 warm-up commits).
// Appends each commit's microseconds to commit_us and each sync's to sync_us.
void TimeCommits(int fd, int iters, CommitShape shape, uint64_t span_pages,
                 std::vector<double>* commit_us, std::vector<double>* sync_us) {
  const size_t kPage = 4096;
  std::vector<char> buf(kPage * static_cast<size_t>(shape.pages), 'x');
  Rng rng(0xF100F);
  uint64_t next_page = 0;
  for (int i = -10; i < iters; i++) {
    buf[0] = static_cast<char>(i);
    Clock::time_point t0 = Clock::now();
    for (int e = 0; e < shape.extents; e++) {
      const int n = e + 1 < shape.extents ? 1 : shape.pages - (shape.extents - 1);
      uint64_t page =
          shape.sequential ? next_page : rng.Below(span_pages - static_cast<uint64_t>(n));
      next_page =
          (page + static_cast<uint64_t>(n)) % (span_pages - static_cast<uint64_t>(shape.pages));
      WriteAll(fd, buf.data(), kPage * static_cast<size_t>(n),
               static_cast<off_t>((2 + page) * kPage));
    }
    if (fdatasync(fd) != 0) Die("fdatasync");
    Clock::time_point t1 = Clock::now();
    WriteAll(fd, buf.data(), kPage, static_cast<off_t>((i + 10) % 2) * static_cast<off_t>(kPage));
    if (fdatasync(fd) != 0) Die("fdatasync");
    Clock::time_point t2 = Clock::now();
    if (i < 0) continue;
    commit_us->push_back(std::chrono::duration<double, std::micro>(t2 - t0).count());
    if (sync_us) {
      sync_us->push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      sync_us->push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
    }
  }
}

}  // namespace

LogShapedFile::LogShapedFile(const std::string& path, int records, size_t record_bytes)
    : path_(path), record_(record_bytes, 'r') {
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd_ < 0) Die("open " + path + ": " + std::strerror(errno));
  const size_t space =
      std::max<size_t>(size_t{1} << 20, record_bytes * (static_cast<size_t>(records) + 10) + 4096);
  std::vector<char> zeros(space, 0);
  WriteAll(fd_, zeros.data(), space, 0);
  if (fdatasync(fd_) != 0) Die("fdatasync");
  for (int i = 0; i < 10; i++) AppendMicros();  // warm-up
  end_ = 0;
}

LogShapedFile::~LogShapedFile() {
  close(fd_);
  unlink(path_.c_str());
}

double LogShapedFile::AppendMicros() {
  record_[0] = static_cast<char>(record_[0] + 1);
  const Clock::time_point t0 = Clock::now();
  WriteAll(fd_, record_.data(), record_.size(), end_);
  if (fdatasync(fd_) != 0) Die("fdatasync");
  const Clock::time_point t1 = Clock::now();
  end_ += static_cast<off_t>(record_.size());
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

namespace {

// Times iters log-shaped commits (after 10 warm-up ones): one write and one
// sync each, the floor of a WAL commit (LogShapedFile).
void TimeAppends(const std::string& path, int iters, size_t record_bytes,
                 std::vector<double>* commit_us) {
  LogShapedFile log(path, iters, record_bytes);
  for (int i = 0; i < iters; i++) commit_us->push_back(log.AppendMicros());
}

double PerSecond(const std::vector<double>& us) {
  double total = 0;
  for (double u : us) total += u;
  return us.empty() ? 0 : 1e6 / (total / static_cast<double>(us.size()));
}

}  // namespace

// The floor is the cheapest durable commit: one data page (consecutive pages
// near the file's start) and a meta page, each followed by fdatasync. The
// other shapes show what a commit pays in a file of span_mib MiB, like the
// benchmark's databases: one page anywhere in it, and the 6 data pages a
// one-key commit rewrites in a 4-level bbolt tree (leaf, 2 branches, bucket
// root, root bucket leaf, freelist), contiguous or as 3 extents.
json MeasureFloor(const std::string& dir, int iters, int span_mib) {
  MakeDirs(dir);
  std::string path = dir + "/floor.dat";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("open " + path + ": " + std::strerror(errno));
  // The floor first, in a small file (as before the spread shapes existed),
  // then the file is extended to span_mib with real blocks, not holes.
  const size_t kPage = 4096;
  std::vector<char> page(kPage, 'x');
  for (int i = 0; i < 256 + 2; i++)
    WriteAll(fd, page.data(), kPage, static_cast<off_t>(i) * static_cast<off_t>(kPage));
  if (fdatasync(fd) != 0) Die("fdatasync");
  std::vector<double> commit_us, sync_us, page_us, contiguous_us, extents_us, append_us;
  TimeCommits(fd, iters, CommitShape{1, 1, true}, 256, &commit_us, &sync_us);
  TimeAppends(dir + "/log.dat", iters, 128, &append_us);
  const size_t kChunk = 1 << 20;
  const uint64_t span_pages = std::max<uint64_t>(uint64_t(span_mib) * 256, 256);
  std::vector<char> chunk(kChunk, 'x');
  for (uint64_t off = 0; off < (span_pages + 2) * kPage; off += kChunk) {
    WriteAll(fd, chunk.data(), kChunk, static_cast<off_t>(off));
  }
  if (fdatasync(fd) != 0) Die("fdatasync");
  TimeCommits(fd, iters, CommitShape{1, 1, false}, span_pages, &page_us, nullptr);
  TimeCommits(fd, iters, CommitShape{6, 1, false}, span_pages, &contiguous_us, nullptr);
  TimeCommits(fd, iters, CommitShape{6, 3, false}, span_pages, &extents_us, nullptr);
  close(fd);
  unlink(path.c_str());
  json j;
  j["iterations"] = iters;
  j["span_mib"] = span_mib;
  j["commit_p50_us"] = Percentile(commit_us, 0.5);
  j["commit_p99_us"] = Percentile(commit_us, 0.99);
  j["commits_per_s"] = PerSecond(commit_us);
  j["write_fdatasync_p50_us"] = Percentile(sync_us, 0.5);
  j["write_fdatasync_per_s"] = 1e6 / Percentile(sync_us, 0.5);
  // The single-sync floor, measured like commits_per_s (mean of whole commits).
  j["single_sync_commits_per_s"] = PerSecond(append_us);
  j["single_sync_p50_us"] = Percentile(append_us, 0.5);
  j["one_page_spread_per_s"] = PerSecond(page_us);
  j["six_pages_contiguous_per_s"] = PerSecond(contiguous_us);
  j["six_pages_3_extents_per_s"] = PerSecond(extents_us);
  return j;
}

json DescribeMachine(const std::string& dir) {
  json m;
  m["nproc"] = sysconf(_SC_NPROCESSORS_ONLN);
  {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("model name", 0) == 0) {
        m["cpu"] = Trim(line.substr(line.find(':') + 1));
        break;
      }
    }
  }
  {
    std::ifstream f("/proc/meminfo");
    std::string key;
    uint64_t kb;
    while (f >> key >> kb) {
      if (key == "MemTotal:") {
        m["mem_gib"] = static_cast<double>(kb) / (1024.0 * 1024.0);
        break;
      }
      f.ignore(1 << 20, '\n');
    }
  }
  struct utsname u;
  if (uname(&u) == 0) m["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.machine;
  m["loadavg"] = ReadFirstLine("/proc/loadavg");

  // The mount holding dir: longest matching mount point in /proc/mounts.
  std::string real = RealPath(dir);
  std::ifstream mounts("/proc/mounts");
  std::string dev, mnt, type, opts, line;
  size_t best = 0;
  json fs;
  while (std::getline(mounts, line)) {
    std::istringstream ls(line);
    ls >> dev >> mnt >> type >> opts;
    bool match = real == mnt || mnt == "/" || real.rfind(mnt + "/", 0) == 0;
    if (match && mnt.size() >= best) {
      best = mnt.size();
      fs = json{{"device", dev}, {"mount", mnt}, {"type", type}, {"options", opts}};
    }
  }
  struct stat st;
  if (stat(real.c_str(), &st) == 0) {
    // /sys/dev/block/MAJ:MIN -> the block device (or partition); rotational
    // and model live on the whole disk.
    std::string sys = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" +
                      std::to_string(minor(st.st_dev));
    std::string rp = RealPath(sys);
    std::string base = rp;
    if (access((rp + "/queue/rotational").c_str(), R_OK) != 0) base = rp.substr(0, rp.rfind('/'));
    std::string rot = ReadFirstLine(base + "/queue/rotational");
    if (!rot.empty()) fs["rotational"] = rot == "1";
    std::string model = ReadFirstLine(base + "/device/model");
    if (!model.empty()) fs["model"] = model;
    std::string sched = ReadFirstLine(base + "/queue/scheduler");
    if (!sched.empty()) fs["scheduler"] = sched;
    std::string name = base.substr(base.rfind('/') + 1);
    fs["block_device"] = name;
    std::string vendor = ReadFirstLine(base + "/device/vendor");
    if (!vendor.empty()) fs["vendor"] = vendor;
  }
  fs["path"] = real;
  m["filesystem"] = fs;
#ifdef __VERSION__
  m["compiler"] = std::string(__VERSION__);
#endif
#ifdef BENCH_BUILD_FLAGS
  m["build"] = BENCH_BUILD_FLAGS;
#endif
  return m;
}

}  // namespace bench
