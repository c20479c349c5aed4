#include "mount.h"

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>

#include "boltpp/car/file_io.h"

namespace boltpp::dagstore {
namespace {

constexpr std::string_view kFile = "file://";
constexpr std::string_view kHttp = "http://";
constexpr std::string_view kComplete = ".complete";
constexpr std::string_view kPartial = ".partial-";

// `transient_complete` without its ".complete" suffix.
std::string_view TransientStem(std::string_view transient_complete) {
  return transient_complete.substr(0, transient_complete.size() - kComplete.size());
}

// A name no other fetch of this process uses: concurrent fetches of one shard
// each write their own file, and the last rename wins with a whole body. (One
// process owns a store at a time: the datastore's file lock.)
std::string UniquePartialPath(const std::string& transient_complete) {
  static std::atomic<uint64_t> next{0};
  return std::string(TransientStem(transient_complete)) + std::string(kPartial) +
         std::to_string(next++);
}

std::mutex g_downloads_mu;
std::set<std::string> g_downloads;  // partial files being written

// Registers a partial file as being written for its lifetime.
class DownloadInProgress {
 public:
  explicit DownloadInProgress(std::string path) : path_(std::move(path)) {
    std::lock_guard lock(g_downloads_mu);
    g_downloads.insert(path_);
  }
  ~DownloadInProgress() {
    std::lock_guard lock(g_downloads_mu);
    g_downloads.erase(path_);
  }
  DownloadInProgress(const DownloadInProgress&) = delete;
  DownloadInProgress& operator=(const DownloadInProgress&) = delete;

 private:
  std::string path_;
};

struct HttpTarget {
  std::string host;
  int port = 80;
  std::string path;
};

Result<HttpTarget> ParseHttp(const std::string& url) {
  std::string rest = url.substr(kHttp.size());
  const size_t slash = rest.find('/');
  HttpTarget t;
  std::string hostport = rest.substr(0, slash);
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = hostport.rfind(':');
  if (colon != std::string::npos) {
    try {
      t.port = std::stoi(hostport.substr(colon + 1));
    } catch (...) {
      return Status(Code::kInvalidArgument, "bad port in mount URL " + url);
    }
    hostport.resize(colon);
  }
  if (hostport.empty()) return Status(Code::kInvalidArgument, "no host in mount URL " + url);
  t.host = hostport;
  return t;
}

Status Download(const std::string& url, const std::string& dest,
                std::chrono::milliseconds timeout) {
  auto target = ParseHttp(url);
  if (!target.ok()) return target.status();
  const std::string partial = UniquePartialPath(dest);
  const DownloadInProgress in_progress(partial);
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status(Code::kIOError, "cannot create " + partial + ": " + strerror(errno));
  httplib::Client client(target->host, target->port);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
  client.set_connection_timeout(secs.count(), usecs.count());
  client.set_read_timeout(secs.count(), usecs.count());
  bool write_failed = false;
  uint64_t received = 0;
  int status_code = 0;
  uint64_t expected = UINT64_MAX;
  std::optional<std::string> bad_length;  // a Content-Length that is not a number
  auto res = client.Get(
      target->path,
      [&](const httplib::Response& r) {
        status_code = r.status;
        if (r.has_header("Content-Length")) {
          const std::string text = r.get_header_value("Content-Length");
          const char* end = text.data() + text.size();
          auto [ptr, ec] = std::from_chars(text.data(), end, expected);
          if (ec != std::errc() || ptr != end || text.empty()) {
            bad_length = text;
            return false;
          }
        }
        return r.status == 200;
      },
      [&](const char* data, size_t n) {
        if (!car::WriteAll(fd, {data, n}, partial).ok()) {
          write_failed = true;
          return false;
        }
        received += n;
        return true;
      });
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  auto fail = [&](std::string msg) {
    ::unlink(partial.c_str());
    return Status(Code::kIOError, "fetching " + url + ": " + msg);
  };
  if (status_code != 0 && status_code != 200) {
    return fail("HTTP status " + std::to_string(status_code));
  }
  if (bad_length) return fail("bad Content-Length \"" + *bad_length + "\"");
  if (!res) return fail(httplib::to_string(res.error()));
  if (write_failed || !synced) return fail("cannot write " + partial);
  if (expected != UINT64_MAX && received != expected) {
    return fail("transfer cut: got " + std::to_string(received) + " of " +
                std::to_string(expected) + " bytes");
  }
  if (::rename(partial.c_str(), dest.c_str()) != 0) {
    return fail("cannot rename " + partial + ": " + strerror(errno));
  }
  return Status::OK();
}

}  // namespace

bool IsPartialOf(const std::string& path, const std::string& transient_complete) {
  const std::string prefix = std::string(TransientStem(transient_complete)) + std::string(kPartial);
  if (!path.starts_with(prefix) || path.size() == prefix.size()) return false;
  return std::all_of(path.begin() + static_cast<std::ptrdiff_t>(prefix.size()), path.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

Status ValidateMountUrl(const std::string& url) {
  if (url.starts_with(kFile)) {
    if (url.size() == kFile.size() || url[kFile.size()] != '/') {
      return Status(Code::kInvalidArgument,
                    "file mount needs an absolute path (file:///abs/path.car): " + url);
    }
    return Status::OK();
  }
  if (url.starts_with(kHttp)) return ParseHttp(url).status();
  return Status(Code::kInvalidArgument,
                "unsupported mount URL (want file:///... or http://...): " + url);
}

bool IsDownloadInProgress(const std::string& path) {
  std::lock_guard lock(g_downloads_mu);
  return g_downloads.count(path) != 0;
}

bool NeedsTransient(const std::string& url) { return url.starts_with(kHttp); }

Result<std::string> FetchShardData(const std::string& url, const std::string& transient_complete,
                                   std::chrono::milliseconds timeout) {
  if (Status s = ValidateMountUrl(url); !s.ok()) return s;
  if (url.starts_with(kFile)) {
    std::string path = url.substr(kFile.size());
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return Status(Code::kIOError, "shard data " + path + " is missing or not a file");
    }
    return path;
  }
  std::error_code ec;
  if (std::filesystem::is_regular_file(transient_complete, ec)) return transient_complete;
  if (Status s = Download(url, transient_complete, timeout); !s.ok()) return s;
  return transient_complete;
}

}  // namespace boltpp::dagstore
