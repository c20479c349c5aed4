// File: tools/cli/command_dump.cc
// `boltpp dump <db> <pageid>...`: a hexdump of whole pages (without their
// overflow), in bbolt's layout: 16 bytes per line, repeated lines as "*".
#include <fcntl.h>

#include <cstdio>
#include <string>

#include "cli.h"
#include "raw_io.h"

namespace boltpp::cli {

namespace {

void DumpPage(int fd, uint64_t page_id, uint64_t page_size) {
  std::string buf(page_size, '\0');
  if (page_size != 0 && page_id > UINT64_MAX / page_size) throw CliError("EOF");
  uint64_t addr = page_id * page_size;
  ReadFullAt(fd, addr, buf.data(), buf.size());
  std::string out;
  std::string_view prev;
  bool skipped = false;
  char line[96];
  for (uint64_t off = 0; off + 16 <= page_size; off += 16) {
    std::string_view cur(buf.data() + off, 16);
    bool last = off == page_size - 16;
    if (off > 0 && cur == prev && !last) {
      if (!skipped) {
        std::snprintf(line, sizeof(line), "%07llx *\n",
                      static_cast<unsigned long long>(addr + off));
        out += line;
        skipped = true;
      }
    } else {
      const auto* b = reinterpret_cast<const uint8_t*>(cur.data());
      std::snprintf(
          line, sizeof(line),
          "%07llx %02x%02x %02x%02x %02x%02x %02x%02x %02x%02x %02x%02x %02x%02x %02x%02x\n",
          static_cast<unsigned long long>(addr + off), b[0], b[1], b[2], b[3], b[4], b[5], b[6],
          b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
      out += line;
      skipped = false;
    }
    prev = cur;
  }
  out += "\n";
  Out(out);
}

int RunDump(Invocation& inv) {
  const std::string& path = inv.args[0];
  std::vector<uint64_t> ids = ParsePageIdArgs(inv.args);
  if (ids.empty()) throw CliError("page id required");
  CheckSourceDBPath(path);
  uint64_t page_size = ReadPageAndHWMSize(path).page_size;
  if (page_size % 16 != 0 || page_size > (uint64_t{1} << 24)) {
    throw CliError("the meta page claims a page size of " + std::to_string(page_size) + " bytes");
  }
  os::UniqueFd fd = OpenOrThrow(path, O_RDONLY);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) OutLine(kPageSeparator);
    DumpPage(fd.get(), ids[i], page_size);
  }
  return 0;
}

}  // namespace

Command DumpCommand() {
  return LeafCommand("dump <bbolt-file> pageid [pageid...]",
                     "prints a hexadecimal dump of one or more pages of bbolt database.",
                     ArgsSpec::Min(2), RunDump, {}, "  boltpp dump my.db 0 1");
}

}  // namespace boltpp::cli
