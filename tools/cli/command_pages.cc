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

}  // namespace

Command PagesCommand() {
  Command c;
  c.name = "pages";
  c.use = "pages <bbolt-file>";
  c.short_desc = "print a list of pages in bbolt database";
  c.long_desc =
      "Pages prints a table of pages with their type (meta, leaf, branch, freelist).\n"
      "Leaf and branch pages will show a key count in the \"items\" column while the\n"
      "freelist will show the number of free pages in the \"items\" column.\n\n"
      "The \"overflow\" column shows the number of blocks that the page spills over\n"
      "into. Normally there is no overflow but large keys and values can cause\n"
      "a single page to take up multiple blocks.";
  c.args = ArgsSpec::Exact(1);
  c.flags = {BoolFlag("json", "print a JSON array of {\"id\",\"type\",\"count\",\"overflow\"}")};
  c.example = "  boltpp pages my.db";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    CheckSourceDBPath(path);
    auto db = OpenDB(path, inv, {});
    bool json = inv.flags.Bool("json");
    if (!json) {
      Out("ID       TYPE       ITEMS  OVRFLW\n");
      Out("======== ========== ====== ======\n");
    } else {
      Out("[");
    }
    ViewOrThrow(*db, [&](Tx& tx) {
      uint64_t id = 0;
      bool first = true;
      for (;;) {
        auto r = tx.Page(id);
        if (!r.ok()) {
          if (json) Out("]\n");
          throw CliError("page error: id=" + std::to_string(id) +
                         ", err=" + StatusMessage(r.status()));
        }
        if (!r->has_value()) break;
        const PageInfo& p = **r;
        if (json) {
          Json row{{"id", p.id}, {"type", p.type}};
          if (p.type != "free") {
            row["count"] = p.count;
            row["overflow"] = p.overflow_count;
          }
          Out(std::string(first ? "" : ",") + GoJson(row, {.escape_html = true}));
          first = false;
        } else {
          std::string count, overflow;
          if (p.type != "free") {
            count = std::to_string(p.count);
            if (p.overflow_count > 0) overflow = std::to_string(p.overflow_count);
          }
          Out(PadRight(std::to_string(p.id), 8) + " " + PadRight(p.type, 10) + " " +
              PadRight(count, 6) + " " + PadRight(overflow, 6) + "\n");
        }
        id += 1;
        if (p.type != "free") id += static_cast<uint64_t>(p.overflow_count);
      }
    });
    if (json) Out("]\n");
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
