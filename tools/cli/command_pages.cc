// File: tools/cli/command_pages.cc
// `boltpp pages <db>`: a table of every page below the high-water mark.
#include <cstdio>
#include <string>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

namespace {

std::string PadRight(const std::string& s, size_t w) {
  return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}

// One row of the table, or one object of the JSON array (after a comma
// unless it is the first).
void PrintPageRow(const PageInfo& p, bool json, bool first) {
  const bool free = p.type == "free";
  if (json) {
    Json row{{"id", p.id}, {"type", p.type}};
    if (!free) {
      row["count"] = p.count;
      row["overflow"] = p.overflow_count;
    }
    Out(std::string(first ? "" : ",") + GoJson(row, {.escape_html = true}));
    return;
  }
  std::string count = free ? "" : std::to_string(p.count);
  std::string overflow = free || p.overflow_count == 0 ? "" : std::to_string(p.overflow_count);
  Out(PadRight(std::to_string(p.id), 8) + " " + PadRight(p.type, 10) + " " + PadRight(count, 6) +
      " " + PadRight(overflow, 6) + "\n");
}

int RunPages(Invocation& inv) {
  auto db = OpenSourceDB(inv);
  bool json = inv.flags.Bool("json");
  Out(json ? "[" : "ID       TYPE       ITEMS  OVRFLW\n======== ========== ====== ======\n");
  ViewOrThrow(*db, [&](Tx& tx) {
    for (uint64_t id = 0;;) {
      auto r = tx.Page(id);
      if (!r.ok()) {
        if (json) Out("]\n");
        throw CliError("page error: id=" + std::to_string(id) +
                       ", err=" + StatusMessage(r.status()));
      }
      if (!r->has_value()) break;
      const PageInfo& p = **r;
      PrintPageRow(p, json, id == 0);
      id += 1;
      if (p.type != "free") id += static_cast<uint64_t>(p.overflow_count);
    }
  });
  if (json) Out("]\n");
  return 0;
}

}  // namespace

Command PagesCommand() {
  Command c = LeafCommand(
      "pages <bbolt-file>", "print a list of pages in bbolt database", ArgsSpec::Exact(1), RunPages,
      {BoolFlag("json", "print a JSON array of {\"id\",\"type\",\"count\",\"overflow\"}")},
      "  boltpp pages my.db");
  c.long_desc =
      "Pages prints a table of pages with their type (meta, leaf, branch, freelist).\n"
      "Leaf and branch pages will show a key count in the \"items\" column while the\n"
      "freelist will show the number of free pages in the \"items\" column.\n\n"
      "The \"overflow\" column shows the number of blocks that the page spills over\n"
      "into. Normally there is no overflow but large keys and values can cause\n"
      "a single page to take up multiple blocks.";
  return c;
}

}  // namespace boltpp::cli
