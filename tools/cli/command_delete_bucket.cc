// File: tools/cli/command_delete_bucket.cc
// `boltpp delete-bucket <db> <bucket> [subbucket...]`: deletes the last
// bucket named and everything in it (boltpp extra).
#include <string>

#include "cli.h"

namespace boltpp::cli {

Command DeleteBucketCommand() {
  Command c;
  c.name = "delete-bucket";
  c.use = "delete-bucket <bbolt-file> <bucket> [subbucket...]";
  c.short_desc = "delete a bucket and everything in it";
  c.args = ArgsSpec::Min(2);
  c.flags = {BoolFlag("no-sync", "skip fsync on commit")};
  c.example = "  boltpp delete-bucket my.db widgets\n  boltpp delete-bucket my.db a b";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    std::vector<std::string> names(inv.args.begin() + 1, inv.args.end());
    CheckSourceDBPath(path);
    auto db = OpenForWrite(path, inv);
    UpdateOrThrow(*db, [&](Tx& tx) {
      if (names.size() == 1) {
        Check(tx.DeleteBucket(names[0]));
        return;
      }
      std::vector<std::string> parent(names.begin(), names.end() - 1);
      Bucket b = FindLastBucket(tx, parent);
      Check(b.DeleteBucket(names.back()));
    });
    Check(db->Close());
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
