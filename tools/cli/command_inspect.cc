// File: tools/cli/command_inspect.cc
// `boltpp inspect <db>`: the bucket tree with key counts, as bbolt's
// json.MarshalIndent(tx.Inspect(), "", "    ").
#include <string>

#include "cli.h"

namespace boltpp::cli {

namespace {

void Write(const BucketStructure& b, int depth, std::string* out) {
  std::string ind((depth + 1) * 4, ' ');
  std::string close(depth * 4, ' ');
  *out += "{\n";
  *out += ind + "\"name\": " + JsonString(b.name) + ",\n";
  *out += ind + "\"keyN\": " + std::to_string(b.key_n);
  if (!b.children.empty()) {
    *out += ",\n" + ind + "\"buckets\": [\n";
    std::string cind((depth + 2) * 4, ' ');
    for (size_t i = 0; i < b.children.size(); ++i) {
      *out += cind;
      Write(b.children[i], depth + 2, out);
      *out += i + 1 < b.children.size() ? ",\n" : "\n";
    }
    *out += ind + "]";
  }
  *out += "\n" + close + "}";
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
      Write(bs, 0, &out);
    });
    Out(out + "\n");
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
