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

// One field of BucketStats: its JSON name, and its line in the text report
// (after a section title when section is set, with its share of percent_of
// when that is set).
struct StatLine {
  const char* json_name;
  int64_t BucketStats::*field;
  const char* section;
  const char* label;
  int64_t BucketStats::*percent_of;
};

// bbolt's report, in its order (the JSON object keeps the same order).
constexpr StatLine kStatLines[] = {
    {"branch_page_n", &BucketStats::branch_page_n, "Page count statistics",
     "Number of logical branch pages", nullptr},
    {"branch_overflow_n", &BucketStats::branch_overflow_n, nullptr,
     "Number of physical branch overflow pages", nullptr},
    {"leaf_page_n", &BucketStats::leaf_page_n, nullptr, "Number of logical leaf pages", nullptr},
    {"leaf_overflow_n", &BucketStats::leaf_overflow_n, nullptr,
     "Number of physical leaf overflow pages", nullptr},
    {"key_n", &BucketStats::key_n, "Tree statistics", "Number of keys/value pairs", nullptr},
    {"depth", &BucketStats::depth, nullptr, "Number of levels in B+tree", nullptr},
    {"branch_alloc", &BucketStats::branch_alloc, "Page size utilization",
     "Bytes allocated for physical branch pages", nullptr},
    {"branch_inuse", &BucketStats::branch_inuse, nullptr, "Bytes actually used for branch data",
     &BucketStats::branch_alloc},
    {"leaf_alloc", &BucketStats::leaf_alloc, nullptr, "Bytes allocated for physical leaf pages",
     nullptr},
    {"leaf_inuse", &BucketStats::leaf_inuse, nullptr, "Bytes actually used for leaf data",
     &BucketStats::leaf_alloc},
    {"bucket_n", &BucketStats::bucket_n, "Bucket statistics", "Total number of buckets", nullptr},
    {"inline_bucket_n", &BucketStats::inline_bucket_n, nullptr, "Total number on inlined buckets",
     &BucketStats::bucket_n},
    {"inline_bucket_inuse", &BucketStats::inline_bucket_inuse, nullptr,
     "Bytes used for inlined buckets", &BucketStats::leaf_inuse},
};

std::string StatsJson(const BucketStats& s, int count) {
  Json j = Json::object();
  j["buckets"] = count;
  for (const StatLine& line : kStatLines) j[line.json_name] = s.*line.field;
  return GoJson(j) + "\n";
}

std::string StatsText(const BucketStats& s, int count) {
  std::string o = "Aggregate statistics for " + std::to_string(count) + " buckets\n\n";
  for (const StatLine& line : kStatLines) {
    if (line.section) o += std::string(line.section) + "\n";
    o += std::string("\t") + line.label + ": " + std::to_string(s.*line.field);
    if (line.percent_of) {
      o += " (" + std::to_string(Percent(s.*line.field, s.*line.percent_of)) + "%)";
    }
    o += "\n";
  }
  return o;
}

int RunStats(Invocation& inv) {
  std::string prefix = inv.args.size() > 1 ? inv.args[1] : "";
  auto db = OpenSourceDB(inv);
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
  Out(inv.flags.Bool("json") ? StatsJson(s, count) : StatsText(s, count));
  return 0;
}

}  // namespace

Command StatsCommand() {
  Command c =
      LeafCommand("stats <bbolt-file>", "print stats of bbolt database", ArgsSpec::Range(1, 2),
                  RunStats, {BoolFlag("json", "print the statistics as a JSON object")},
                  "  boltpp stats my.db\n  boltpp stats my.db execution-");
  c.long_desc =
      "usage: bolt stats PATH\n\n"
      "Stats performs an extensive search of the database to track every page\n"
      "reference. It starts at the current meta page and recursively iterates\n"
      "through every accessible bucket.";
  return c;
}

}  // namespace boltpp::cli
