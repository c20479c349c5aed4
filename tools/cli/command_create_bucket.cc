// File: tools/cli/command_create_bucket.cc
// `boltpp create-bucket [-p] <db> <bucket> [subbucket...]` (boltpp extra).
#include <string>

#include "cli.h"

namespace boltpp::cli {

Command CreateBucketCommand() {
  Command c;
  c.name = "create-bucket";
  c.use = "create-bucket <bbolt-file> <bucket> [subbucket...]";
  c.short_desc = "create a bucket (nested under the ones before it; creates the file if needed)";
  c.args = ArgsSpec::Min(2);
  c.flags = {
      BoolFlag("parents", "create missing parent buckets, and do not fail if the bucket exists",
               'p'),
      BoolFlag("no-sync", "skip fsync on commit"),
  };
  c.example = "  boltpp create-bucket my.db widgets\n  boltpp create-bucket -p my.db a b c";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    std::vector<std::string> names(inv.args.begin() + 1, inv.args.end());
    bool parents = inv.flags.Bool("parents");
    auto db = OpenForWrite(path, inv);
    UpdateOrThrow(*db, [&](Tx& tx) {
      Bucket b;
      for (size_t i = 0; i < names.size(); ++i) {
        bool last = i + 1 == names.size();
        if (parents) {
          auto r =
              i == 0 ? tx.CreateBucketIfNotExists(names[i]) : b.CreateBucketIfNotExists(names[i]);
          Check(r.status());
          b = *r;
        } else if (last) {
          auto r = i == 0 ? tx.CreateBucket(names[i]) : b.CreateBucket(names[i]);
          Check(r.status());
          b = *r;
        } else {
          b = i == 0 ? tx.GetBucket(names[i]) : b.GetBucket(names[i]);
          if (!b) {
            Check(tx.status());
            throw CliError(std::string(CodeMessage(Code::kBucketNotFound)),
                           "hint: -p creates missing parents");
          }
        }
      }
    });
    Check(db->Close());
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
