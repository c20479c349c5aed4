// bench/src/common.cc
#include <fstream>
#include "common.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

namespace bench {

std::string JsonEscape(std::string_view s) {
  std::string o;
  o.reserve(s.size() + 2);
  for (char ch : s) {
    unsigned char u = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\t':
        o += "\\t";
        break;
      case '\r':
        o += "\\r";
        break;
      default:
        if (u < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", u);
          o += b;
        } else {
          o += ch;
        }
    }
  }
  return o;
}

namespace {
void Line(const std::string& s) {
  std::fputs(s.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}
}  // namespace

void EmitBegin(const std::string& phase) {
  Line("{\"ev\":\"begin\",\"phase\":\"" + JsonEscape(phase) + "\"}");
}
void EmitResult(const std::string& phase, double ops, double seconds, const std::string& unit) {
  char b[512];
  std::snprintf(
      b, sizeof b,
      "{\"ev\":\"result\",\"phase\":\"%s\",\"ops\":%.0f,\"seconds\":%.9f,\"unit\":\"%s\"}",
      JsonEscape(phase).c_str(), ops, seconds, JsonEscape(unit).c_str());
  Line(b);
}
void EmitBytes(const std::string& phase, uint64_t bytes) {
  Line("{\"ev\":\"bytes\",\"phase\":\"" + JsonEscape(phase) +
       "\",\"bytes\":" + std::to_string(bytes) + "}");
}
void EmitError(const std::string& phase, const std::string& msg) {
  Line("{\"ev\":\"error\",\"phase\":\"" + JsonEscape(phase) + "\",\"msg\":\"" + JsonEscape(msg) +
       "\"}");
}
void EmitDone() { Line("{\"ev\":\"done\"}"); }
void EmitStartRss() {
  std::ifstream f("/proc/self/status");
  std::string key;
  uint64_t kb = 0;
  while (f >> key) {
    if (key == "VmRSS:") {
      f >> kb;
      break;
    }
    f.ignore(1 << 20, '\n');
  }
  Line("{\"ev\":\"start\",\"rss_kb\":" + std::to_string(kb) + "}");
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string p = dir + "/" + name;
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      total += DirBytes(p);
    } else if (S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_size);
    }
  }
  closedir(d);
  return total;
}

void RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        RemoveTree(path + "/" + name);
      }
      closedir(d);
    }
    rmdir(path.c_str());
  } else {
    unlink(path.c_str());
  }
}

void MakeDirs(const std::string& path) {
  std::string cur;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    cur = path.substr(0, j);
    if (!cur.empty() && mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
      Die("mkdir " + cur + " failed");
    i = j + 1;
  }
}

}  // namespace bench
