// File: tools/cli/command_delete.cc
// `boltpp delete [--parse-format F] <db> <bucket> [subbucket...] <key>`:
// removes one key (boltpp extra). A missing key is an error.
#include <string>

#include "cli.h"

namespace boltpp::cli {

Command DeleteCommand() {
  Command c;
  c.name = "delete";
  c.use = "delete <bbolt-file> <bucket> [subbucket...] <key>";
  c.short_desc = "delete a key from a (sub)bucket";
  c.args = ArgsSpec::Min(3);
  c.flags = {
      StringFlag("parse-format", "ascii-encoded",
                 "Input format of the key, one of: ascii-encoded|hex"),
      BoolFlag("no-sync", "skip fsync on commit"),
  };
  c.example = "  boltpp delete my.db widgets foo";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    std::vector<std::string> buckets(inv.args.begin() + 1, inv.args.end() - 1);
    std::string key = ParseBytes(inv.args.back(), inv.flags.Str("parse-format"));
    if (key.empty()) throw CliError("key is required: key required");
    CheckSourceDBPath(path);
    auto db = OpenForWrite(path, inv);
    UpdateOrThrow(*db, [&](Tx& tx) {
      Bucket b = FindLastBucket(tx, buckets);
      if (!b.Get(key)) {
        Check(tx.status());
        if (b.GetBucket(key)) {
          throw CliError(std::string(CodeMessage(Code::kIncompatibleValue)),
                         "hint: the key names a bucket; use delete-bucket");
        }
        throw CliError("Error key not found for key: " + GoQuote(key) + " hex: \"" + Hex(key) +
                       "\"");
      }
      Check(b.Delete(key));
    });
    Check(db->Close());
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
