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

}  // namespace

Command InspectCommand() {
  Command c;
  c.name = "inspect";
  c.use = "inspect <bbolt-file>";
  c.short_desc = "inspect the structure of the database";
  c.args = ArgsSpec::Exact(1);
  c.example = "  boltpp inspect my.db";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    CheckSourceDBPath(path);
    auto db = OpenDB(path, inv, {});
    std::string out;
    ViewOrThrow(*db, [&](Tx& tx) {
      BucketStructure bs = tx.Inspect();
      Check(tx.status());
      out = GoJson(StructureJson(bs), {.indent = 4, .escape_html = true});
    });
    Out(out + "\n");
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
