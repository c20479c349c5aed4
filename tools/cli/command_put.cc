// File: tools/cli/command_put.cc
// `boltpp put [-p] [--parse-format F] <db> <bucket> [subbucket...] <key> <value>`:
// sets one key (boltpp extra; bbolt's CLI is read-only).
#include <string>

#include "cli.h"

namespace boltpp::cli {

Command PutCommand() {
  Command c;
  c.name = "put";
  c.use = "put <bbolt-file> <bucket> [subbucket...] <key> <value>";
  c.short_desc = "set the value of a key in a (sub)bucket (creates the file if needed)";
  c.args = ArgsSpec::Min(4);
  c.flags = {
      StringFlag("parse-format", "ascii-encoded",
                 "Input format of the key and value, one of: ascii-encoded|hex"),
      BoolFlag("parents", "create missing buckets on the way", 'p'),
      BoolFlag("no-sync", "skip fsync on commit"),
  };
  c.example =
      "  boltpp put my.db widgets foo bar\n  boltpp put -p --parse-format hex my.db a b 00ff 0102";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    std::vector<std::string> buckets(inv.args.begin() + 1, inv.args.end() - 2);
    std::string pf = inv.flags.Str("parse-format");
    std::string key = ParseBytes(inv.args[inv.args.size() - 2], pf);
    std::string value = ParseBytes(inv.args.back(), pf);
    if (key.empty()) throw CliError("key is required: key required");
    bool parents = inv.flags.Bool("parents");
    auto db = OpenForWrite(path, inv);
    UpdateOrThrow(*db, [&](Tx& tx) {
      Bucket b;
      for (size_t i = 0; i < buckets.size(); ++i) {
        Bucket next = i == 0 ? tx.GetBucket(buckets[i]) : b.GetBucket(buckets[i]);
        if (!next) {
          Check(tx.status());
          if (!parents)
            throw CliError(std::string(CodeMessage(Code::kBucketNotFound)), "hint: -p creates it");
          auto r = i == 0 ? tx.CreateBucket(buckets[i]) : b.CreateBucket(buckets[i]);
          Check(r.status());
          next = *r;
        }
        b = next;
      }
      Check(b.Put(key, value));
    });
    Check(db->Close());
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
