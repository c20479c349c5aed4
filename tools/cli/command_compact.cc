// File: tools/cli/command_compact.cc
// `boltpp compact [--tx-max-size N] [--no-sync] -o <dst> <src>`: copies every
// bucket and key into a new, tightly packed file.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli.h"

namespace boltpp::cli {

Command CompactCommand() {
  Command c;
  c.name = "compact";
  c.use = "compact [options] -o <dst-bbolt-file> <src-bbolt-file>";
  c.short_desc =
      "creates a compacted copy of the database from source path to the destination path, "
      "preserving the original.";
  c.long_desc =
      "compact opens a database at source path and walks it recursively, copying keys\n"
      "as they are found from all buckets, to a newly created database at the destination path.\n"
      "The original database is left untouched.";
  c.args = ArgsSpec::Min(1);
  c.flags = {
      Required(StringFlag("output", "", "", 'o')),
      Int64Flag("tx-max-size", "65536", ""),
      BoolFlag("no-sync", ""),
  };
  c.flags[0].usage = "the compacted copy to create";
  c.flags[1].usage =
      "commit the copy every this many bytes of keys and values (0 = one transaction)";
  c.flags[2].usage = "do not fsync the copy's commits";
  c.example = "  boltpp compact -o small.db big.db";
  c.run = [](Invocation& inv) {
    const std::string& src_path = inv.args[0];
    std::string dst_path = inv.flags.Str("output");
    if (dst_path.empty()) throw CliError("output file required");
    FileInfo fi = CheckSourceDBPath(src_path);
    uint64_t initial = fi.size;

    auto src = OpenDB(src_path, inv, {});
    OpenOptions dopt;
    dopt.read_only = false;
    dopt.no_sync = inv.flags.Bool("no-sync");
    dopt.file_mode = fi.mode & 0777;
    auto dst = OpenDB(dst_path, inv, dopt);

    Status s;
    {
      Progress progress("compacting", initial, true);
      progress.Poll([dst_path] {
        struct stat st;
        return ::stat(dst_path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
      });
      s = Compact(*dst, *src, inv.flags.Int("tx-max-size"));
    }
    Check(s);

    struct stat st;
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
  };
  return c;
}

}  // namespace boltpp::cli
