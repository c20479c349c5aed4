// File: tools/cli/command_stats.cc
// `boltpp stats <db> [prefix]`: Bucket.Stats() summed over the top-level
// buckets whose names start with prefix, in bbolt's exact layout.
#include <string>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

namespace {

// Go: int(float32(a) * 100.0 / float32(b)), 0 when b is 0.
int Percent(int64_t a, int64_t b) {
  if (b == 0) return 0;
  float r = static_cast<float>(a) * 100.0f / static_cast<float>(b);
  return static_cast<int>(r);
}

std::string N(int64_t v) { return std::to_string(v); }

}  // namespace

Command StatsCommand() {
  Command c;
  c.name = "stats";
  c.use = "stats <bbolt-file>";
  c.short_desc = "print stats of bbolt database";
  c.long_desc =
      "usage: bolt stats PATH\n\n"
      "Stats performs an extensive search of the database to track every page\n"
      "reference. It starts at the current meta page and recursively iterates\n"
      "through every accessible bucket.";
  c.args = ArgsSpec::Range(1, 2);
  c.flags = {BoolFlag("json", "print the statistics as a JSON object")};
  c.example = "  boltpp stats my.db\n  boltpp stats my.db execution-";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    std::string prefix = inv.args.size() > 1 ? inv.args[1] : "";
    CheckSourceDBPath(path);
    auto db = OpenDB(path, inv, {});
    BucketStats s;
    int count = 0;
    ViewOrThrow(*db, [&](Tx& tx) {
      ForEachBucketOrThrow(tx, [&](Bytes name, Bucket b) {
        if (name.substr(0, prefix.size()) == prefix) {
          s.Add(b.Stats());
          ++count;
        }
      });
      Check(tx.status());
    });
    if (inv.flags.Bool("json")) {
      Json j{{"buckets", count},
             {"branch_page_n", s.branch_page_n},
             {"branch_overflow_n", s.branch_overflow_n},
             {"leaf_page_n", s.leaf_page_n},
             {"leaf_overflow_n", s.leaf_overflow_n},
             {"key_n", s.key_n},
             {"depth", s.depth},
             {"branch_alloc", s.branch_alloc},
             {"branch_inuse", s.branch_inuse},
             {"leaf_alloc", s.leaf_alloc},
             {"leaf_inuse", s.leaf_inuse},
             {"bucket_n", s.bucket_n},
             {"inline_bucket_n", s.inline_bucket_n},
             {"inline_bucket_inuse", s.inline_bucket_inuse}};
      Out(GoJson(j) + "\n");
      return 0;
    }
    std::string o;
    o += "Aggregate statistics for " + N(count) + " buckets\n\n";
    o += "Page count statistics\n";
    o += "\tNumber of logical branch pages: " + N(s.branch_page_n) + "\n";
    o += "\tNumber of physical branch overflow pages: " + N(s.branch_overflow_n) + "\n";
    o += "\tNumber of logical leaf pages: " + N(s.leaf_page_n) + "\n";
    o += "\tNumber of physical leaf overflow pages: " + N(s.leaf_overflow_n) + "\n";
    o += "Tree statistics\n";
    o += "\tNumber of keys/value pairs: " + N(s.key_n) + "\n";
    o += "\tNumber of levels in B+tree: " + N(s.depth) + "\n";
    o += "Page size utilization\n";
    o += "\tBytes allocated for physical branch pages: " + N(s.branch_alloc) + "\n";
    o += "\tBytes actually used for branch data: " + N(s.branch_inuse) + " (" +
         N(Percent(s.branch_inuse, s.branch_alloc)) + "%)\n";
    o += "\tBytes allocated for physical leaf pages: " + N(s.leaf_alloc) + "\n";
    o += "\tBytes actually used for leaf data: " + N(s.leaf_inuse) + " (" +
         N(Percent(s.leaf_inuse, s.leaf_alloc)) + "%)\n";
    o += "Bucket statistics\n";
    o += "\tTotal number of buckets: " + N(s.bucket_n) + "\n";
    o += "\tTotal number on inlined buckets: " + N(s.inline_bucket_n) + " (" +
         N(Percent(s.inline_bucket_n, s.bucket_n)) + "%)\n";
    o += "\tBytes used for inlined buckets: " + N(s.inline_bucket_inuse) + " (" +
         N(Percent(s.inline_bucket_inuse, s.leaf_inuse)) + "%)\n";
    Out(o);
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
