// File: tools/cli/command_buckets.cc
// `boltpp buckets <db>`: the top-level bucket names, one per line, raw.
#include <string>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

Command BucketsCommand() {
  Command c;
  c.name = "buckets";
  c.use = "buckets <bbolt-file>";
  c.short_desc = "print a list of buckets in bbolt database";
  c.args = ArgsSpec::Exact(1);
  c.flags = {BoolFlag("json", "print a JSON array (names that are not UTF-8 as {\"base64\":...})")};
  c.example = "  boltpp buckets my.db";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    CheckSourceDBPath(path);
    auto db = OpenDB(path, inv, {});
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
  };
  return c;
}

}  // namespace boltpp::cli
