// File: tools/cli/command_delete_bucket.cc
// `boltpp delete-bucket <db> <bucket> [subbucket...]`: deletes the last
// bucket named and everything in it (boltpp extra).
#include <string>

#include "cli.h"

namespace boltpp::cli {

namespace {

int RunDeleteBucket(Invocation& inv) {
  std::vector<std::string> parents(inv.args.begin() + 1, inv.args.end() - 1);
  CheckSourceDBPath(inv.args[0]);
  UpdateDatabase(inv, [&](Tx& tx) {
    Bucket parent = parents.empty() ? tx.Root() : FindLastBucket(tx, parents);
    Check(parent.DeleteBucket(inv.args.back()));
  });
  return 0;
}

}  // namespace

Command DeleteBucketCommand() {
  return LeafCommand("delete-bucket <bbolt-file> <bucket> [subbucket...]",
                     "delete a bucket and everything in it", ArgsSpec::Min(2), RunDeleteBucket,
                     {BoolFlag("no-sync", "skip fsync on commit")},
                     "  boltpp delete-bucket my.db widgets\n  boltpp delete-bucket my.db a b");
}

}  // namespace boltpp::cli
