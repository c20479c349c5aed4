// File: tools/cli/command_page_item.cc
// `boltpp page-item [--key-only|--value-only] [--format F] <db> <pageid> <itemid>`:
// the key and value of one leaf element, read straight from the file.
#include <string>

#include "cli.h"
#include "raw_io.h"
#include "format/page.h"

namespace boltpp::cli {

namespace {

// Element index of the leaf page in buf (page_id), with bbolt's checks.
format::LeafElem LeafElement(const std::string& buf, uint64_t page_id, uint16_t index) {
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
  uint16_t count = format::PageCount(p);
  if (index >= count) {
    throw CliError("leafPageElement: expected item index less than " + std::to_string(count) +
                   ", but got " + std::to_string(index));
  }
  std::string type = format::PageTypeName(format::PageFlags(p));
  if (type != "leaf") {
    throw CliError("leafPageElement: expected page type of 'leaf', but got '" + type + "'");
  }
  format::LeafElem e;
  if (!format::ReadLeafElem(format::PageView{p, buf.size()}, index, &e)) {
    throw CliError("page " + std::to_string(page_id) + ": element " + std::to_string(index) +
                   " lies outside the page");
  }
  return e;
}

int RunPageItem(Invocation& inv) {
  const std::string& path = inv.args[0];
  uint64_t page_id = ParsePageId(inv.args[1]);
  uint64_t item_id = ParsePageId(inv.args[2]);
  bool key_only = inv.flags.Bool("key-only");
  bool value_only = inv.flags.Bool("value-only");
  std::string format = inv.flags.Str("format");
  if (key_only && value_only)
    throw CliError("the --key-only or --value-only flag may be set, but not both");
  CheckSourceDBPath(path);
  std::string buf = ReadPage(path, page_id);
  const auto index = static_cast<uint16_t>(item_id);  // Go: uint16(itemID)
  if (!value_only) OutLine(FormatBytes(LeafElement(buf, page_id, index).key, format));
  if (!key_only) OutLine(FormatBytes(LeafElement(buf, page_id, index).value, format));
  return 0;
}

}  // namespace

Command PageItemCommand() {
  return LeafCommand(
      "page-item [options] <bbolt-file> pageid itemid",
      "print a page item key and value in a bbolt database", ArgsSpec::Exact(3), RunPageItem,
      {BoolFlag("key-only", "Print only the key"), BoolFlag("value-only", "Print only the value"),
       OutputFormatFlag("format")},
      "  boltpp page-item my.db 4 0\n  boltpp page-item --value-only --format bytes my.db 4 0");
}

}  // namespace boltpp::cli
