// File: tools/cli/command_info.cc
// `boltpp info <db>`: the page size (bbolt: "Page Size: 4096"), and when a
// write-ahead log lies beside the file, its state (a line "WAL: ..." or a
// "wal" object; nothing is added for a file without a log).
#include <string>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

namespace {

// "WAL: my.db-wal, 3 pending records (1234 bytes); a read-write open replays them\n"
std::string WalLine(const std::string& path, const WalInfo& w) {
  std::string s = "WAL: " + path + "-wal, " + std::to_string(w.pending_records) +
                  " pending record" + (w.pending_records == 1 ? "" : "s") + " (" +
                  std::to_string(w.bytes) + " bytes)";
  if (w.pending_records > 0) s += "; a read-write open replays them";
  if (!w.stop.empty()) s += "; scan stopped: " + w.stop;
  return s + "\n";
}

}  // namespace

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
    const WalInfo wal = db->GetWalInfo();
    if (!inv.flags.Bool("json")) {
      Out("Page Size: " + std::to_string(info.page_size) + "\n");
      if (wal.present) Out(WalLine(path, wal));
      return 0;
    }
    uint64_t txid = 0;
    int64_t size = 0;
    ViewOrThrow(*db, [&](Tx& tx) {
      txid = tx.ID();
      size = tx.Size();
    });
    Json j{{"page_size", info.page_size}, {"txid", txid}, {"size", size}, {"file_size", fi.size}};
    if (wal.present) {
      j["wal"] = Json{{"path", path + "-wal"},
                      {"pending_records", wal.pending_records},
                      {"bytes", wal.bytes},
                      {"stop", wal.stop}};
    }
    Out(GoJson(j) + "\n");
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
