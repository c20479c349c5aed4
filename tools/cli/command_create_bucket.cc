// File: tools/cli/command_create_bucket.cc
// `boltpp create-bucket [-p] <db> <bucket> [subbucket...]` (boltpp extra).
#include <string>

#include "cli.h"

namespace boltpp::cli {

namespace {

int RunCreateBucket(Invocation& inv) {
  std::vector<std::string> parents(inv.args.begin() + 1, inv.args.end() - 1);
  const std::string& name = inv.args.back();
  bool create_all = inv.flags.Bool("parents");
  UpdateDatabase(inv, [&](Tx& tx) {
    Bucket parent = OpenBucketPath(tx, parents, create_all, "hint: -p creates missing parents");
    // -p does not fail when the bucket exists.
    Check((create_all ? parent.CreateBucketIfNotExists(name) : parent.CreateBucket(name)).status());
  });
  return 0;
}

}  // namespace

Command CreateBucketCommand() {
  return LeafCommand(
      "create-bucket <bbolt-file> <bucket> [subbucket...]",
      "create a bucket (nested under the ones before it; creates the file if needed)",
      ArgsSpec::Min(2), RunCreateBucket,
      {BoolFlag("parents", "create missing parent buckets, and do not fail if the bucket exists",
                'p'),
       BoolFlag("no-sync", "skip fsync on commit")},
      "  boltpp create-bucket my.db widgets\n  boltpp create-bucket -p my.db a b c");
}

}  // namespace boltpp::cli
