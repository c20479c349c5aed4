// File: tools/cli/command_shrink.cc
// `boltpp shrink [--pages-per-tx N] [--no-sync] <db>` (boltpp extra): shrinks
// a database file in place (DB::Shrink): packs under-filled leaves, moves
// the pages nearest the end into free pages lower down, truncates the file.
#include <cstdio>
#include <string>

#include "cli.h"

namespace boltpp::cli {

Command ShrinkCommand() {
  Command c;
  c.name = "shrink";
  c.use = "shrink [options] <bbolt-file>";
  c.short_desc = "shrink the database file in place, giving its free pages back to the disk";
  c.long_desc =
      "shrink packs under-filled leaves and moves the pages nearest the end of the file\n"
      "into free pages lower down, in ordinary write transactions (copy-on-write: a crash\n"
      "or another process's reader never sees a half-moved tree), then truncates the free\n"
      "tail. The file stays a valid bbolt file; no second file is written.";
  c.args = ArgsSpec::Exact(1);
  c.flags = {
      Int64Flag("pages-per-tx", "4096", "pages moved per write transaction"),
      BoolFlag("no-sync", "skip fsync on commit"),
  };
  c.example = "  boltpp shrink my.db\n  boltpp shrink --pages-per-tx 512 my.db";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    CheckSourceDBPath(path);
    const int64_t per_tx = inv.flags.Int("pages-per-tx");
    if (per_tx <= 0) throw CliError("--pages-per-tx must be positive");
    auto db = OpenForWrite(path, inv);
    auto r = db->Shrink(ShrinkOptions{static_cast<size_t>(per_tx)});
    Check(r.status());
    Check(db->Close());
    char line[160];
    std::snprintf(line, sizeof(line), "%llu -> %llu bytes (gain=%.2fx), %llu pages moved\n",
                  static_cast<unsigned long long>(r->size_before),
                  static_cast<unsigned long long>(r->size_after),
                  static_cast<double>(r->size_before) / static_cast<double>(r->size_after),
                  static_cast<unsigned long long>(r->pages_moved));
    Out(line);
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
