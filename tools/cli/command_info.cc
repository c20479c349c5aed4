// File: tools/cli/command_info.cc
// `boltpp info <db>`: the page size (bbolt: "Page Size: 4096").
#include <string>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

namespace {

int RunInfo(Invocation& inv) {
  auto db = OpenSourceDB(inv);
  Info info = db->GetInfo();
  if (!inv.flags.Bool("json")) {
    Out("Page Size: " + std::to_string(info.page_size) + "\n");
    return 0;
  }
  uint64_t txid = 0;
  int64_t size = 0;
  ViewOrThrow(*db, [&](Tx& tx) {
    txid = tx.ID();
    size = tx.Size();
  });
  const uint64_t file_size = CheckSourceDBPath(inv.args[0]).size;
  Out(GoJson(Json{{"page_size", info.page_size},
                  {"txid", txid},
                  {"size", size},
                  {"file_size", file_size}}) +
      "\n");
  return 0;
}

}  // namespace

Command InfoCommand() {
  return LeafCommand("info <bbolt-file>", "prints basic information about the bbolt database.",
                     ArgsSpec::Exact(1), RunInfo,
                     {BoolFlag("json", "print the information as a JSON object")},
                     "  boltpp info my.db\n  boltpp info --json my.db");
}

}  // namespace boltpp::cli
