// File: tools/cli/command_compact.cc
// `boltpp compact [--tx-max-size N] [--no-sync] -o <dst> <src>`: copies every
// bucket and key into a new, tightly packed file (Compact: the page copy into
// a new file, the logical copy into an existing one; docs/design.md).
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli.h"

namespace boltpp::cli {

namespace {

// Compact's progress: the size of the copy against the source's.
Status CompactWithProgress(DB& dst, DB& src, const std::string& dst_path, uint64_t src_size,
                           int64_t tx_max_size) {
  Progress progress("compacting", src_size, true);
  progress.Poll([dst_path] {
    struct stat st;
    return ::stat(dst_path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  });
  return Compact(dst, src, tx_max_size);
}

int RunCompact(Invocation& inv) {
  const std::string& src_path = inv.args[0];
  std::string dst_path = inv.flags.Str("output");
  if (dst_path.empty()) throw CliError("output file required");
  FileInfo fi = CheckSourceDBPath(src_path);
  const uint64_t initial = fi.size;
  auto src = OpenDB(src_path, inv, {});
  OpenOptions dopt;
  dopt.read_only = false;
  dopt.no_sync = inv.flags.Bool("no-sync");
  dopt.file_mode = fi.mode & 0777;
  struct stat st;
  const bool dst_existed = ::stat(dst_path.c_str(), &st) == 0;
  auto dst = OpenDB(dst_path, inv, dopt);
  Status s = CompactWithProgress(*dst, *src, dst_path, initial, inv.flags.Int("tx-max-size"));
  if (!s.ok()) {
    // A failed copy is no copy: the file this command created goes (an
    // existing one stays: Compact left it as it was, or, for the logical
    // copy into a non-empty file, with the commits made before the error).
    if (!dst_existed) {
      dst.reset();
      std::remove(dst_path.c_str());
    }
    ThrowStatus(s);
  }

  if (::stat(dst_path.c_str(), &st) != 0) {
    throw CliError("stat " + dst_path + ": " + std::strerror(errno));
  }
  if (st.st_size == 0) throw CliError("zero db size");
  char line[128];
  std::snprintf(line, sizeof(line), "%llu -> %lld bytes (gain=%.2fx)\n",
                static_cast<unsigned long long>(initial), static_cast<long long>(st.st_size),
                static_cast<double>(initial) / static_cast<double>(st.st_size));
  Out(line);
  return 0;
}

}  // namespace

Command CompactCommand() {
  Command c = LeafCommand(
      "compact [options] -o <dst-bbolt-file> <src-bbolt-file>",
      "creates a compacted copy of the database from source path to the destination path, "
      "preserving the original.",
      ArgsSpec::Min(1), RunCompact,
      {Required(StringFlag("output", "", "the compacted copy to create", 'o')),
       Int64Flag("tx-max-size", "65536",
                 "into an existing file (copied key by key): commit every this many bytes of keys "
                 "and values (0 = one transaction); a new file is written in one commit"),
       BoolFlag("no-sync", "do not fsync the copy's commits")},
      "  boltpp compact -o small.db big.db");
  c.long_desc =
      "compact opens a database at source path and walks it recursively, copying keys\n"
      "as they are found from all buckets, to a newly created database at the destination path.\n"
      "The original database is left untouched.";
  return c;
}

}  // namespace boltpp::cli
