// File: tools/cli/command_page.cc
// `boltpp page <db> [pageid...] [--all] [--format-value F]`: pages in human
// readable form, read straight from the file (as bbolt's CLI does).
#include <string>

#include "cli.h"
#include "raw_io.h"
#include "format/page.h"

namespace boltpp::cli {

namespace {

std::string FormatKey(std::string_view k) { return IsPrintable(k) ? GoQuote(k) : Hex(k); }

void PrintMeta(const std::string& buf) {
  const format::Meta m = format::Meta::Decode(reinterpret_cast<const uint8_t*>(buf.data()));
  char line[128];
  std::string o;
  std::snprintf(line, sizeof(line), "Version:    %u\n", m.version);
  o += line;
  std::snprintf(line, sizeof(line), "Page Size:  %u bytes\n", m.page_size);
  o += line;
  std::snprintf(line, sizeof(line), "Flags:      %08x\n", m.flags);
  o += line;
  o += "Root:       <pgid=" + std::to_string(m.root) + ">\n";
  o += "Freelist:   <pgid=" + std::to_string(m.freelist) + ">\n";
  o += "HWM:        <pgid=" + std::to_string(m.pgid) + ">\n";
  o += "Txn ID:     " + std::to_string(m.txid) + "\n";
  std::snprintf(line, sizeof(line), "Checksum:   %016llx\n",
                static_cast<unsigned long long>(m.checksum));
  o += line;
  o += "\n";
  Out(o);
}

// Damage found while printing is thrown: "Printing page N failed: ...".
std::string DamageMsg(uint64_t id, size_t i) {
  return "page " + std::to_string(id) + ": element " + std::to_string(i) + " lies outside the page";
}

// "Item Count: N", a blank line, one line per element (line(element)) and
// a blank line. An element outside the page is thrown.
template <typename Elem, typename LineFn>
void PrintElements(const std::string& buf, bool (*read)(const format::PageView&, size_t, Elem*),
                   LineFn line) {
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
  const format::PageView view{p, buf.size()};
  const uint16_t count = format::PageCount(p);
  Out("Item Count: " + std::to_string(count) + "\n\n");
  for (size_t i = 0; i < count; ++i) {
    Elem e;
    if (!read(view, i, &e)) throw CliError(DamageMsg(format::PageId(p), i));
    Out(line(e, i) + "\n");
  }
  Out("\n");
}

// A leaf value: a nested bucket's header, or the bytes as --format-value says.
std::string LeafValue(const format::LeafElem& e, uint64_t pgid, size_t i,
                      const std::string& format_value) {
  if (!(e.flags & format::kBucketLeafFlag)) return FormatBytes(e.value, format_value);
  if (e.value.size() < format::kBucketHeaderSize) throw CliError(DamageMsg(pgid, i));
  auto h = format::BucketHeader::Decode(reinterpret_cast<const uint8_t*>(e.value.data()));
  return "<pgid=" + std::to_string(h.root) + ",seq=" + std::to_string(h.sequence) + ">";
}

void PrintLeaf(const std::string& buf, const std::string& format_value) {
  const uint64_t pgid = format::PageId(reinterpret_cast<const uint8_t*>(buf.data()));
  PrintElements(buf, format::ReadLeafElem, [&](const format::LeafElem& e, size_t i) {
    return FormatKey(e.key) + ": " + LeafValue(e, pgid, i, format_value);
  });
}

void PrintBranch(const std::string& buf) {
  PrintElements(buf, format::ReadBranchElem, [](const format::BranchElem& e, size_t) {
    return FormatKey(e.key) + ": <pgid=" + std::to_string(e.pgid) + ">";
  });
}

void PrintFreelist(const std::string& buf) {
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
  format::FreelistHeader h;
  if (!format::ReadFreelistHeader(p, buf.size(), &h)) throw CliError("freelist page is truncated");
  Out("Item Count: " + std::to_string(h.count) + "\n");
  Out("Overflow: " + std::to_string(format::PageOverflow(p)) + "\n\n");
  std::vector<format::pgid_t> ids;
  if (!format::DecodeFreelist(p, buf.size(), format::PageId(p), &ids).ok()) {
    throw CliError("page " + std::to_string(format::PageId(p)) + ": freelist count " +
                   std::to_string(h.count) + " is larger than the page");
  }
  std::string o;
  for (format::pgid_t id : ids) o += std::to_string(id) + "\n";
  Out(o + "\n");
}

// Returns the page's overflow count; throws on failure.
uint32_t PrintPage(const std::string& path, uint64_t id, const std::string& format_value) {
  std::string buf = ReadPage(path, id);
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
  std::string type = format::PageTypeName(format::PageFlags(p));
  Out("Page ID:    " + std::to_string(format::PageId(p)) + "\n");
  Out("Page Type:  " + type + "\n");
  Out("Total Size: " + std::to_string(buf.size()) + " bytes\n");
  Out("Overflow pages: " + std::to_string(format::PageOverflow(p)) + "\n");
  if (type == "meta") {
    if (buf.size() < format::kPageHeaderSize + format::kMetaSize)
      throw CliError("meta page is truncated");
    PrintMeta(buf);
  } else if (type == "leaf") {
    PrintLeaf(buf, format_value);
  } else if (type == "branch") {
    PrintBranch(buf);
  } else if (type == "freelist") {
    PrintFreelist(buf);
  }
  return format::PageOverflow(p);
}

void Failed(uint64_t id, const std::string& err) {
  Out("Printing page " + std::to_string(id) + " failed: " + err + ". Continuing...\n");
}

// The high-water mark from meta page 0, capped a little past the end of
// the file: a damaged meta can claim a huge one, and bbolt would then print
// "EOF" failures for (nearly) ever. 0 (after a message) when unreadable.
uint64_t PagesToPrint(const std::string& path) {
  uint64_t hwm = 0;
  try {
    PageSizeHwm ps = ReadPageAndHWMSize(path);
    hwm = ps.hwm;
    uint64_t file_pages = ps.page_size ? CheckSourceDBPath(path).size / ps.page_size : 0;
    if (hwm > file_pages + 1024) hwm = file_pages + 1;
  } catch (const CliError& e) {
    Out(std::string("cannot read number of pages: ") + e.what());
  }
  return hwm;
}

// --all: every page below the high-water mark, overflow pages skipped.
void PrintAllPages(const std::string& path, const std::string& format_value) {
  const uint64_t hwm = PagesToPrint(path);
  for (uint64_t id = 0; id < hwm;) {
    if (id > 0) OutLine(kPageSeparator);
    try {
      uint32_t overflow = PrintPage(path, id, format_value);
      id += uint64_t{overflow} + 1;
    } catch (const CliError& e) {
      Failed(id, e.what());
      ++id;
    }
  }
}

int RunPage(Invocation& inv) {
  const std::string& path = inv.args[0];
  std::vector<uint64_t> ids = ParsePageIdArgs(inv.args);
  bool all = inv.flags.Bool("all");
  std::string format_value = inv.flags.Str("format-value");
  if (ids.empty() && !all) throw CliError("page id required");
  if (all && !ids.empty()) throw CliError("invalid args: either use '--all' or 'pageid...'");
  CheckSourceDBPath(path);
  if (all) PrintAllPages(path, format_value);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) OutLine(kPageSeparator);
    try {
      PrintPage(path, ids[i], format_value);
    } catch (const CliError& e) {
      Failed(ids[i], e.what());
    }
  }
  return 0;
}

}  // namespace

Command PageCommand() {
  return LeafCommand("page <bbolt-file> [pageid...]",
                     "page prints one or more pages in human readable format.", ArgsSpec::Min(1),
                     RunPage,
                     {BoolFlag("all", "List all pages."),
                      OutputFormatFlag("format-value", ". Applies to values on the leaf page.")},
                     "  boltpp page my.db 0 1 2\n  boltpp page --all --format-value hex my.db");
}

}  // namespace boltpp::cli
