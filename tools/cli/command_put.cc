// File: tools/cli/command_put.cc
// `boltpp put [-p] [--parse-format F] <db> <bucket> [subbucket...] <key> <value>`:
// sets one key (boltpp extra; bbolt's CLI is read-only).
#include <string>

#include "cli.h"

namespace boltpp::cli {

namespace {

int RunPut(Invocation& inv) {
  std::vector<std::string> buckets(inv.args.begin() + 1, inv.args.end() - 2);
  std::string parse_format = inv.flags.Str("parse-format");
  std::string key = ParseBytes(inv.args[inv.args.size() - 2], parse_format);
  std::string value = ParseBytes(inv.args.back(), parse_format);
  if (key.empty()) throw CliError("key is required: key required");
  bool parents = inv.flags.Bool("parents");
  UpdateDatabase(inv, [&](Tx& tx) {
    Check(OpenBucketPath(tx, buckets, parents, "hint: -p creates it").Put(key, value));
  });
  return 0;
}

}  // namespace

Command PutCommand() {
  return LeafCommand(
      "put <bbolt-file> <bucket> [subbucket...] <key> <value>",
      "set the value of a key in a (sub)bucket (creates the file if needed)", ArgsSpec::Min(4),
      RunPut,
      {StringFlag("parse-format", "ascii-encoded",
                  "Input format of the key and value, one of: ascii-encoded|hex"),
       BoolFlag("parents", "create missing buckets on the way", 'p'),
       BoolFlag("no-sync", "skip fsync on commit")},
      "  boltpp put my.db widgets foo bar\n  boltpp put -p --parse-format hex my.db a b 00ff 0102");
}

}  // namespace boltpp::cli
