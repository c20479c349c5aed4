// File: tools/cli/command_info.cc
// `boltpp info <db>`: the page size (bbolt: "Page Size: 4096").
#include <string>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

Command InfoCommand() {
  Command c;
  c.name = "info";
  c.use = "info <bbolt-file>";
  c.short_desc = "prints basic information about the bbolt database.";
  c.args = ArgsSpec::Exact(1);
  c.flags = {BoolFlag("json", "print the information as a JSON object")};
  c.example = "  boltpp info my.db\n  boltpp info --json my.db";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    FileInfo fi = CheckSourceDBPath(path);
    auto db = OpenDB(path, inv, {});
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
    Json j{{"page_size", info.page_size}, {"txid", txid}, {"size", size}, {"file_size", fi.size}};
    Out(GoJson(j) + "\n");
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
