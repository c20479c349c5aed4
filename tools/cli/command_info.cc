// File: tools/cli/command_info.cc
// `boltpp info <db>`: the page size (bbolt: "Page Size: 4096"), and when a
// write-ahead log lies beside the file, its state (a line "WAL: ..." or a
// "wal" object; nothing is added for a file without a log).
#include <filesystem>
#include <string>
#include <vector>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

namespace {

// The log files beside the database: PATH-wal, and PATH-wal2 when present
// (a checkpoint switches commits between the two: docs/format.md).
std::vector<std::string> LogFiles(const std::string& path) {
  std::vector<std::string> files;
  for (const char* x : {"-wal", "-wal2"}) {
    std::error_code ec;
    if (std::filesystem::exists(path + x, ec)) files.push_back(path + x);
  }
  if (files.empty()) files.push_back(path + "-wal");
  return files;
}

// "WAL: my.db-wal, 3 pending records (1234 bytes); a read-write open replays them\n"
// ("WAL: my.db-wal and my.db-wal2, ..." when both log files are there).
std::string WalLine(const std::string& path, const WalInfo& w) {
  const std::vector<std::string> files = LogFiles(path);
  std::string names = files[0];
  for (size_t i = 1; i < files.size(); i++) names += " and " + files[i];
  std::string s = "WAL: " + names + ", " + std::to_string(w.pending_records) + " pending record" +
                  (w.pending_records == 1 ? "" : "s") + " (" + std::to_string(w.bytes) + " bytes)";
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
                    {"files", LogFiles(path)},
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
