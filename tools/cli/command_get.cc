// File: tools/cli/command_get.cc
// `boltpp get <db> <bucket> [subbucket...] <key>`: prints one value.
#include <string>

#include "cli.h"

namespace boltpp::cli {

namespace {

int RunGet(Invocation& inv) {
  const std::string& path = inv.args[0];
  std::vector<std::string> buckets(inv.args.begin() + 1, inv.args.end() - 1);
  std::string format = inv.flags.Str("format");
  if (path.empty()) throw CliError("path required");
  if (buckets.empty()) throw CliError("bucket is required: bucket required");
  std::string key = ParseBytes(inv.args.back(), inv.flags.Str("parse-format"));
  if (key.empty()) throw CliError("key is required: key required");
  auto db = OpenSourceDB(inv);
  ViewOrThrow(*db, [&](Tx& tx) {
    auto v = FindLastBucket(tx, buckets).Get(key);
    if (!v) {
      Check(tx.status());
      ThrowKeyNotFound(key);
    }
    OutLine(FormatBytes(*v, format));
  });
  return 0;
}

}  // namespace

Command GetCommand() {
  return LeafCommand(
      "get PATH [BUCKET..] KEY", "get the value of a key from a (sub)bucket in a bbolt database",
      ArgsSpec::Min(3), RunGet,
      {StringFlag("parse-format", "ascii-encoded", "Input format one of: ascii-encoded|hex"),
       OutputFormatFlag("format", " (default: auto)")},
      "  boltpp get my.db widgets foo\n"
      "  boltpp get --parse-format hex --format hex my.db history 0000000000000001");
}

}  // namespace boltpp::cli
