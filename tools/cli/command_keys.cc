// File: tools/cli/command_keys.cc
// `boltpp keys <db> <bucket> [subbucket...]`: one key per line (sub-bucket
// names included), formatted with --format.
#include <string>

#include "cli.h"

namespace boltpp::cli {

namespace {

int RunKeys(Invocation& inv) {
  std::vector<std::string> buckets(inv.args.begin() + 1, inv.args.end());
  std::string format = inv.flags.Str("format");
  auto db = OpenSourceDB(inv);
  ViewOrThrow(*db, [&](Tx& tx) {
    ForEachOrThrow(FindLastBucket(tx, buckets),
                   [&](const Entry& e) { OutLine(FormatBytes(e.key, format)); });
  });
  return 0;
}

}  // namespace

Command KeysCommand() {
  return LeafCommand("keys <bbolt-file> <buckets>",
                     "print a list of keys in the given (sub)bucket in bbolt database",
                     ArgsSpec::Min(2), RunKeys, {OutputFormatFlag("format", "", 'f')},
                     "  boltpp keys my.db widgets\n  boltpp keys --format hex my.db widgets sub");
}

}  // namespace boltpp::cli
