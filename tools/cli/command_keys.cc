// File: tools/cli/command_keys.cc
// `boltpp keys <db> <bucket> [subbucket...]`: one key per line (sub-bucket
// names included), formatted with --format.
#include <string>

#include "cli.h"

namespace boltpp::cli {

Command KeysCommand() {
  Command c;
  c.name = "keys";
  c.use = "keys <bbolt-file> <buckets>";
  c.short_desc = "print a list of keys in the given (sub)bucket in bbolt database";
  c.args = ArgsSpec::Min(2);
  c.flags = {
      StringFlag("format", "auto", std::string("Output format one of: ") + kFormatModes, 'f')};
  c.example = "  boltpp keys my.db widgets\n  boltpp keys --format hex my.db widgets sub";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    std::vector<std::string> buckets(inv.args.begin() + 1, inv.args.end());
    std::string format = inv.flags.Str("format");
    CheckSourceDBPath(path);
    auto db = OpenDB(path, inv, {});
    ViewOrThrow(*db, [&](Tx& tx) {
      Bucket b = FindLastBucket(tx, buckets);
      ForEachOrThrow(b, [&](const Entry& e) { OutLine(FormatBytes(e.key, format)); });
    });
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
