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

int RunInfo(Invocation& inv) {
  const std::string& path = inv.args[0];
  auto db = OpenSourceDB(inv);
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
  Json j{{"page_size", info.page_size},
         {"txid", txid},
         {"size", size},
         {"file_size", CheckSourceDBPath(path).size}};
  if (wal.present) {
    j["wal"] = Json{{"path", path + "-wal"},
                    {"pending_records", wal.pending_records},
                    {"bytes", wal.bytes},
                    {"stop", wal.stop}};
  }
  Out(GoJson(j) + "\n");
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
