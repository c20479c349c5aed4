// File: tools/cli/command_inspect.cc
// `boltpp inspect <db>`: the bucket tree with key counts, as bbolt's
// json.MarshalIndent(tx.Inspect(), "", "    ").
#include <string>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

namespace {

// bbolt's BucketStructure: Name, KeyN, and Children as "buckets" (omitted
// when empty).
Json StructureJson(const BucketStructure& b) {
  Json j{{"name", b.name}, {"keyN", b.key_n}};
  if (!b.children.empty()) {
    Json children = Json::array();
    for (const BucketStructure& c : b.children) children.push_back(StructureJson(c));
    j["buckets"] = std::move(children);
  }
  return j;
}

int RunInspect(Invocation& inv) {
  auto db = OpenSourceDB(inv);
  std::string out;
  ViewOrThrow(*db, [&](Tx& tx) {
    BucketStructure bs = tx.Inspect();
    Check(tx.status());
    out = GoJson(StructureJson(bs), {.indent = 4, .escape_html = true});
  });
  Out(out + "\n");
  return 0;
}

}  // namespace

Command InspectCommand() {
  return LeafCommand("inspect <bbolt-file>", "inspect the structure of the database",
                     ArgsSpec::Exact(1), RunInspect, {}, "  boltpp inspect my.db");
}

}  // namespace boltpp::cli
