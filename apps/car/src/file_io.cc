#include "boltpp/car/file_io.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace boltpp::car {
namespace {

Status IoError(std::string_view what, const std::string& path) {
  return Status(Code::kIOError, fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

// Syncs the directory holding `path` so a rename into it is durable.
Status SyncParentDirectory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open", dir);
  Status s;
  if (fsync(fd) != 0) s = IoError("sync", dir);
  close(fd);
  return s;
}

}  // namespace

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    const ssize_t w = write(fd, data.data(), data.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return IoError("write", what);
    data.remove_prefix(static_cast<size_t>(w));
  }
  return Status::OK();
}

Status WriteFileAtomically(const std::string& path,
                           const std::function<Status(const PieceWriter&)>& fill) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("create", tmp);
  Status s = fill([&](std::string_view piece) { return WriteAll(fd, piece, tmp); });
  if (s.ok() && fsync(fd) != 0) s = IoError("sync", tmp);
  if (close(fd) != 0 && s.ok()) s = IoError("close", tmp);
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status(Code::kIOError,
               fmt::format("rename {} to {}: {}", tmp, path, std::strerror(errno)));
  }
  if (!s.ok()) {
    unlink(tmp.c_str());
    return s;
  }
  return SyncParentDirectory(path);
}

Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  return WriteFileAtomically(path, [&](const PieceWriter& write) { return write(bytes); });
}

}  // namespace boltpp::car
