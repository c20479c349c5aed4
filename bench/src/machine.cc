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

}  // namespace

json MeasureFloor(const std::string& dir, int iters) {
  MakeDirs(dir);
  std::string path = dir + "/floor.dat";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("open " + path + ": " + std::strerror(errno));
  const size_t kPage = 4096;
  const int kDataPages = 256;
  std::vector<char> page(kPage, 'x');
  for (int i = 0; i < kDataPages + 2; i++) WriteAll(fd, page.data(), kPage, static_cast<off_t>(i) * kPage);
  if (fdatasync(fd) != 0) Die("fdatasync");
  // Warm-up, then the measured loop.
  std::vector<double> commit_us, sync_us;
  for (int i = -10; i < iters; i++) {
    page[0] = static_cast<char>(i);
    Clock::time_point t0 = Clock::now();
    WriteAll(fd, page.data(), kPage, static_cast<off_t>(2 + (i + 10) % kDataPages) * kPage);
    if (fdatasync(fd) != 0) Die("fdatasync");
    Clock::time_point t1 = Clock::now();
    WriteAll(fd, page.data(), kPage, static_cast<off_t>((i + 10) % 2) * kPage);
    if (fdatasync(fd) != 0) Die("fdatasync");
    Clock::time_point t2 = Clock::now();
    if (i < 0) continue;
    commit_us.push_back(std::chrono::duration<double, std::micro>(t2 - t0).count());
    sync_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    sync_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
  }
  close(fd);
  unlink(path.c_str());
  double total = 0;
  for (double u : commit_us) total += u;
  json j;
  j["iterations"] = iters;
  j["commit_mean_us"] = total / static_cast<double>(commit_us.size());
  j["commit_p50_us"] = Percentile(commit_us, 0.5);
  j["commit_p99_us"] = Percentile(commit_us, 0.99);
  j["commits_per_s"] = 1e6 / (total / static_cast<double>(commit_us.size()));
  j["write_fdatasync_p50_us"] = Percentile(sync_us, 0.5);
  j["write_fdatasync_per_s"] = 1e6 / Percentile(sync_us, 0.5);
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
    std::string sys = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
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
