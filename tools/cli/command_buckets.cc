// File: tools/cli/command_buckets.cc
// `boltpp buckets <db>`: the top-level bucket names, one per line, raw.
#include <string>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

namespace {

int RunBuckets(Invocation& inv) {
  auto db = OpenSourceDB(inv);
  bool json = inv.flags.Bool("json");
  Json names = Json::array();
  ViewOrThrow(*db, [&](Tx& tx) {
    ForEachBucketOrThrow(tx, [&](Bytes name, Bucket) {
      if (json) {
        names.push_back(BytesJson(name));
      } else {
        Out(name);
        Out("\n");
      }
    });
  });
  if (json) Out(GoJson(names) + "\n");
  return 0;
}

}  // namespace

Command BucketsCommand() {
  return LeafCommand(
      "buckets <bbolt-file>", "print a list of buckets in bbolt database", ArgsSpec::Exact(1),
      RunBuckets,
      {BoolFlag("json", "print a JSON array (names that are not UTF-8 as {\"base64\":...})")},
      "  boltpp buckets my.db");
}

}  // namespace boltpp::cli
