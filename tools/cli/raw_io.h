// File: tools/cli/raw_io.h
// Raw page access for the commands that read and edit the file directly, as
// bbolt's CLI does (page, page-item, dump, surgery): no transaction, no lock.
// Errors throw CliError with bbolt's words.
#pragma once

#include <cstdint>
#include <string>

#include "cli.h"
#include "os/fd.h"

namespace boltpp::cli {

// Opens path with flags (O_CLOEXEC added); throws "open <path>: <reason>".
os::UniqueFd OpenOrThrow(const std::string& path, int flags);
// Reads exactly n bytes at off, with io.ReadFull's errors: throws "EOF" when
// the file ends first, or "unexpected EOF" when partial_is_unexpected and
// some bytes were read; a read error throws its strerror text.
void ReadFullAt(int fd, uint64_t off, char* buf, size_t n, bool partial_is_unexpected = false);
// Page size and high-water mark from meta page 0 (bbolt guts_cli).
struct PageSizeHwm {
  uint64_t page_size = 0;
  uint64_t hwm = 0;
};
// Throws the bbolt message ("unexpected EOF", "the Meta Page has wrong
// (unexpected) magic", ...).
PageSizeHwm ReadPageAndHWMSize(const std::string& path);
// A page with its overflow pages, read from the file (bbolt guts_cli.ReadPage).
std::string ReadPage(const std::string& path, uint64_t page_id);
// Writes a page buffer (page size * (overflow+1) bytes) at its own id.
void WritePage(const std::string& path, const std::string& buf);

}  // namespace boltpp::cli
