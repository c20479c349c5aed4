// File: tools/cli/command_check.cc
// `boltpp check <db> [--from-page N]`: the consistency check. Prints each
// problem, then "N errors found" and fails with "invalid value"; or "OK".
#include <string>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

Command CheckCommand() {
  Command c;
  c.name = "check";
  c.use = "check <bbolt-file>";
  c.short_desc = "verify integrity of bbolt database data";
  c.args = ArgsSpec::Exact(1);
  c.flags = {
      Uint64Flag("from-page", "", "check db integrity starting from the given page ID"),
      BoolFlag("json", "print {\"ok\":...,\"errors\":[...]} (the exit status is the same)"),
  };
  c.example = "  boltpp check my.db\n  boltpp check --from-page 12 my.db";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    CheckSourceDBPath(path);
    auto db = OpenDB(path, inv, {});
    CheckOptions opts;
    opts.from_page = inv.flags.Uint("from-page");
    opts.printable_keys = true;
    std::vector<std::string> errors;
    {
      Progress progress("checking", 0, false);
      ViewOrThrow(*db, [&](Tx& tx) { errors = tx.Check(opts); });
    }
    if (inv.flags.Bool("json")) {
      Json list = Json::array();
      for (const std::string& e : errors) list.push_back(BytesJson(e));
      Out(GoJson(Json{{"ok", errors.empty()}, {"errors", std::move(list)}}) + "\n");
    } else {
      for (auto& e : errors) OutLine(e);
      if (!errors.empty()) {
        Out(std::to_string(errors.size()) + " errors found\n");
      } else {
        Out("OK\n");
      }
    }
    if (!errors.empty()) throw CliError("invalid value");
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
