// File: tools/cli/command_get.cc
// `boltpp get <db> <bucket> [subbucket...] <key>`: prints one value.
#include <string>

#include "cli.h"

namespace boltpp::cli {

Command GetCommand() {
  Command c;
  c.name = "get";
  c.use = "get PATH [BUCKET..] KEY";
  c.short_desc = "get the value of a key from a (sub)bucket in a bbolt database";
  c.args = ArgsSpec::Min(3);
  c.flags = {
      StringFlag("parse-format", "ascii-encoded", "Input format one of: ascii-encoded|hex"),
      StringFlag("format", "auto",
                 std::string("Output format one of: ") + kFormatModes + " (default: auto)"),
  };
  c.example =
      "  boltpp get my.db widgets foo\n"
      "  boltpp get --parse-format hex --format hex my.db history 0000000000000001";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    std::vector<std::string> buckets(inv.args.begin() + 1, inv.args.end() - 1);
    const std::string& key_str = inv.args.back();
    std::string format = inv.flags.Str("format");
    if (path.empty()) throw CliError("path required");
    if (buckets.empty()) throw CliError("bucket is required: bucket required");
    std::string key = ParseBytes(key_str, inv.flags.Str("parse-format"));
    if (key.empty()) throw CliError("key is required: key required");

    CheckSourceDBPath(path);
    auto db = OpenDB(path, inv, {});
    ViewOrThrow(*db, [&](Tx& tx) {
      Bucket b = FindLastBucket(tx, buckets);
      auto v = b.Get(key);
      if (!v) {
        Check(tx.status());
        throw CliError("Error key not found for key: " + GoQuote(key) + " hex: \"" + Hex(key) +
                       "\"");
      }
      OutLine(FormatBytes(*v, format));
    });
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
