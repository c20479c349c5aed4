// File: tools/cli/command_check.cc
// `boltpp check <db> [--from-page N]`: the consistency check. Prints each
// problem, then "N errors found" and fails with "invalid value"; or "OK".
#include <string>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

namespace {

void PrintErrors(const std::vector<std::string>& errors, bool json) {
  if (json) {
    Json list = Json::array();
    for (const std::string& e : errors) list.push_back(BytesJson(e));
    Out(GoJson(Json{{"ok", errors.empty()}, {"errors", std::move(list)}}) + "\n");
    return;
  }
  for (auto& e : errors) OutLine(e);
  if (!errors.empty()) {
    Out(std::to_string(errors.size()) + " errors found\n");
  } else {
    Out("OK\n");
  }
}

int RunCheck(Invocation& inv) {
  auto db = OpenSourceDB(inv);
  CheckOptions opts;
  opts.from_page = inv.flags.Uint("from-page");
  opts.printable_keys = true;
  std::vector<std::string> errors;
  {
    Progress progress("checking", 0, false);
    ViewOrThrow(*db, [&](Tx& tx) { errors = tx.Check(opts); });
  }
  PrintErrors(errors, inv.flags.Bool("json"));
  if (!errors.empty()) throw CliError("invalid value");
  return 0;
}

}  // namespace

Command CheckCommand() {
  return LeafCommand(
      "check <bbolt-file>", "verify integrity of bbolt database data", ArgsSpec::Exact(1), RunCheck,
      {Uint64Flag("from-page", "", "check db integrity starting from the given page ID"),
       BoolFlag("json", "print {\"ok\":...,\"errors\":[...]} (the exit status is the same)")},
      "  boltpp check my.db\n  boltpp check --from-page 12 my.db");
}

}  // namespace boltpp::cli
