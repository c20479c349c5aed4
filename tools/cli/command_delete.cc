// File: tools/cli/command_delete.cc
// `boltpp delete [--parse-format F] <db> <bucket> [subbucket...] <key>`:
// removes one key (boltpp extra). A missing key is an error.
#include <string>

#include "cli.h"

namespace boltpp::cli {

namespace {

int RunDelete(Invocation& inv) {
  std::vector<std::string> buckets(inv.args.begin() + 1, inv.args.end() - 1);
  std::string key = ParseBytes(inv.args.back(), inv.flags.Str("parse-format"));
  if (key.empty()) throw CliError("key is required: key required");
  CheckSourceDBPath(inv.args[0]);
  UpdateDatabase(inv, [&](Tx& tx) {
    Bucket b = FindLastBucket(tx, buckets);
    if (!b.Get(key)) {
      Check(tx.status());
      if (b.GetBucket(key)) {
        throw CliError(std::string(CodeMessage(Code::kIncompatibleValue)),
                       "hint: the key names a bucket; use delete-bucket");
      }
      ThrowKeyNotFound(key);
    }
    Check(b.Delete(key));
  });
  return 0;
}

}  // namespace

Command DeleteCommand() {
  return LeafCommand("delete <bbolt-file> <bucket> [subbucket...] <key>",
                     "delete a key from a (sub)bucket", ArgsSpec::Min(3), RunDelete,
                     {StringFlag("parse-format", "ascii-encoded",
                                 "Input format of the key, one of: ascii-encoded|hex"),
                      BoolFlag("no-sync", "skip fsync on commit")},
                     "  boltpp delete my.db widgets foo");
}

}  // namespace boltpp::cli
