// File: tools/cli/command_surgery.cc
// `boltpp surgery ...`: low-level repairs on a copy of a database file
// (revert-meta-page, copy-page, clear-page, clear-page-elements, freelist
// abandon|rebuild, meta validate|update). Every command that writes copies
// the source to --output first and edits only the copy, as bbolt does.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include "cli.h"
#include "format/page.h"

namespace boltpp::cli {

namespace {

constexpr const char* kAbandonHint = "Please consider executing `./bbolt surgery freelist abandon ...`\n";

FlagDef OutputFlag() { return Required(StringFlag("output", "", "path to the filePath db file")); }

// Throws when --output was given as "".
void ValidateOutput(const Invocation& inv) {
  if (inv.flags.Str("output").empty()) {
    throw CliError(
        "output database path wasn't given, specify output database file path with --output option");
  }
}

// bbolt common.CopyFile: refuses an existing destination.
void CopyFileOrThrow(const std::string& src, const std::string& dst, const std::string& tag) {
  auto fail = [&](const std::string& m) { throw CliError("[" + tag + "] copy file failed: " + m); };
  struct stat st;
  if (::stat(dst.c_str(), &st) == 0) fail("output file " + GoQuote(dst) + " already exists");
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) fail("open " + src + ": " + std::strerror(errno));
  int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (out < 0) {
    int e = errno;
    ::close(in);
    fail("open " + dst + ": " + std::strerror(e));
  }
  std::string buf(1 << 20, '\0');
  uint64_t copied = 0;
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(in);
      ::close(out);
      fail("read " + src + ": " + std::strerror(e));
    }
    if (n == 0) break;
    ssize_t off = 0;
    while (off < n) {
      ssize_t w = ::write(out, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        int e = errno;
        ::close(in);
        ::close(out);
        fail("write " + dst + ": " + std::strerror(e));
      }
      off += w;
    }
    copied += static_cast<uint64_t>(n);
  }
  struct stat sst;
  bool size_ok = ::fstat(in, &sst) == 0 && static_cast<uint64_t>(sst.st_size) == copied;
  bool sync_ok = ::fsync(out) == 0;
  ::close(in);
  ::close(out);
  if (!size_ok) fail("the size of the copy differs from the source");
  if (!sync_ok) fail("sync " + dst + ": " + std::strerror(errno));
}

struct RawMeta {
  std::string buf;  // 1024 bytes starting at the page header
  uint32_t magic() const { return format::Load<uint32_t>(p() + 16); }
  uint32_t version() const { return format::Load<uint32_t>(p() + 20); }
  uint32_t page_size() const { return format::Load<uint32_t>(p() + 24); }
  uint32_t flags() const { return format::Load<uint32_t>(p() + 28); }
  uint64_t freelist() const { return format::Load<uint64_t>(p() + 48); }
  uint64_t txid() const { return format::Load<uint64_t>(p() + 64); }
  uint64_t checksum() const { return format::Load<uint64_t>(p() + 72); }
  uint64_t Sum64() const { return format::Fnv1a64(p() + 16, 56); }
  const uint8_t* p() const { return reinterpret_cast<const uint8_t*>(buf.data()); }
  uint8_t* mp() { return reinterpret_cast<uint8_t*>(buf.data()); }
  // bbolt Meta.Validate: magic, version, checksum.
  std::string Validate() const {
    if (magic() != format::kMagic) return "invalid database";
    if (version() != format::kVersion) return "version mismatch";
    if (checksum() != Sum64()) return "checksum error";
    return "";
  }
};

// bbolt ReadMetaPageAt: 1024 bytes at meta_id * page_size.
RawMeta ReadMetaPageAt(const std::string& path, uint32_t meta_id, uint32_t page_size) {
  if (meta_id > 1) throw CliError("invalid metaPageId: " + std::to_string(meta_id));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw CliError("open " + path + ": " + std::strerror(errno));
  RawMeta m;
  m.buf.assign(1024, '\0');
  size_t got = 0;
  uint64_t off = uint64_t{meta_id} * page_size;
  while (got < m.buf.size()) {
    ssize_t r = ::pread(fd, m.buf.data() + got, m.buf.size() - got, static_cast<off_t>(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  if (got != m.buf.size()) throw CliError("EOF");
  return m;
}

void WriteMetaPageAt(const std::string& path, const RawMeta& m, uint32_t meta_id, uint32_t page_size) {
  if (meta_id > 1) throw CliError("invalid metaPageId: " + std::to_string(meta_id));
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw CliError("open " + path + ": " + std::strerror(errno));
  uint64_t off = uint64_t{meta_id} * page_size;
  ssize_t w = ::pwrite(fd, m.buf.data(), m.buf.size(), static_cast<off_t>(off));
  int e = errno;
  bool ok = w == static_cast<ssize_t>(m.buf.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw CliError("write " + path + ": " + std::strerror(e));
}

// The meta with the higher txid (bbolt readMetaPage).
RawMeta ReadActiveMeta(const std::string& path) {
  PageSizeHwm ps;
  try {
    ps = ReadPageAndHWMSize(path);
  } catch (const CliError& e) {
    throw CliError(std::string("read Page size failed: ") + e.what());
  }
  RawMeta m[2];
  for (uint32_t i = 0; i < 2; ++i) {
    try {
      m[i] = ReadMetaPageAt(path, i, static_cast<uint32_t>(ps.page_size));
    } catch (const CliError& e) {
      throw CliError("read meta page " + std::to_string(i) + " failed: " + e.what());
    }
  }
  return m[0].txid() > m[1].txid() ? m[0] : m[1];
}

template <typename F>
void Wrap(const std::string& prefix, F&& f) {
  try {
    f();
  } catch (const CliError& e) {
    throw CliError(prefix + e.what());
  }
}

// surgeon.CopyPage.
void CopyPage(const std::string& path, uint64_t src, uint64_t dst) {
  std::string buf = ReadPage(path, src);
  format::Store<uint64_t>(reinterpret_cast<uint8_t*>(buf.data()), dst);
  WritePage(path, buf);
}

void ClearFreelistInMetaPage(const std::string& path, uint64_t id) {
  std::string buf;
  Wrap("ReadPage " + std::to_string(id) + " failed: ", [&] { buf = ReadPage(path, id); });
  if (buf.size() < format::kPageHeaderSize + format::kMetaSize) throw CliError("meta page is truncated");
  auto* p = reinterpret_cast<uint8_t*>(buf.data());
  format::Store<uint64_t>(p + 48, format::kNoFreelist);
  format::Store<uint64_t>(p + 72, format::Fnv1a64(p + 16, 56));
  Wrap("WritePage " + std::to_string(id) + " failed: ", [&] { WritePage(path, buf); });
}

void ClearFreelist(const std::string& path) {
  Wrap("clearFreelist on meta page 0 failed: ", [&] { ClearFreelistInMetaPage(path, 0); });
  Wrap("clearFreelist on meta page 1 failed: ", [&] { ClearFreelistInMetaPage(path, 1); });
}

struct Inode {
  uint32_t flags = 0;
  uint64_t pgid = 0;
  std::string key, value;
};

// surgeon.ClearPageElements with abandonFreelist=false: returns whether the
// freelist should be abandoned (a branch page changed, or the overflow did).
bool ClearPageElements(const std::string& path, uint64_t pgid, int64_t start, int64_t end) {
  std::string buf;
  Wrap("ReadPage failed: ", [&] { buf = ReadPage(path, pgid); });
  auto* p = reinterpret_cast<uint8_t*>(buf.data());
  uint16_t flags = format::PageFlags(p);
  bool leaf = flags == format::kLeafPage;
  bool branch = flags == format::kBranchPage;
  if (!leaf && !branch) throw CliError("can't clear elements in " + GoQuote(PageTypeName(flags)) + " page");
  int64_t count = format::PageCount(p);
  if (count == 0) return false;
  if (start < 0 || start >= count) {
    throw CliError("the start index (" + std::to_string(start) + ") is out of range [0, " + std::to_string(count) +
                   ")");
  }
  if ((end < 0 || end > count) && end != -1) {
    throw CliError("the end index (" + std::to_string(end) + ") is out of range [0, " + std::to_string(count) + "]");
  }
  if (start > end && end != -1) {
    throw CliError("the start index (" + std::to_string(start) + ") is bigger than the end index (" +
                   std::to_string(end) + ")");
  }
  if (start == end) {
    throw CliError("invalid: the start index (" + std::to_string(start) + ") is equal to the end index (" +
                   std::to_string(end) + ")");
  }
  uint32_t pre_overflow = format::PageOverflow(p);

  // Read every element first (bounds-checked).
  std::vector<Inode> inodes;
  format::PageView view{p, buf.size()};
  for (int64_t i = 0; i < count; ++i) {
    Inode in;
    if (leaf) {
      format::LeafElem e;
      if (!format::ReadLeafElem(view, static_cast<size_t>(i), &e) || e.key.empty()) {
        throw CliError("page " + std::to_string(pgid) + ": element " + std::to_string(i) + " is damaged");
      }
      in.flags = e.flags;
      in.key = e.key;
      in.value = e.value;
    } else {
      format::BranchElem e;
      if (!format::ReadBranchElem(view, static_cast<size_t>(i), &e) || e.key.empty()) {
        throw CliError("page " + std::to_string(pgid) + ": element " + std::to_string(i) + " is damaged");
      }
      in.pgid = e.pgid;
      in.key = e.key;
    }
    inodes.push_back(std::move(in));
  }

  uint64_t data_written;
  if (end == count || end == -1) {
    inodes.resize(static_cast<size_t>(start));
    format::Store<uint16_t>(p + format::kPageCountOff, static_cast<uint16_t>(start));
    data_written = format::kPageHeaderSize + 16 * inodes.size();
    for (auto& in : inodes) data_written += in.key.size() + in.value.size();
  } else {
    inodes.erase(inodes.begin() + start, inodes.begin() + end);
    format::Store<uint16_t>(p + format::kPageCountOff, static_cast<uint16_t>(inodes.size()));
    // common.WriteInodeToPage: elements, then each key followed by its value.
    uint64_t off = format::kPageHeaderSize + 16 * inodes.size();
    for (size_t i = 0; i < inodes.size(); ++i) {
      auto& in = inodes[i];
      uint8_t* elem = p + format::kPageHeaderSize + 16 * i;
      uint32_t pos = static_cast<uint32_t>(off - (format::kPageHeaderSize + 16 * i));
      if (leaf) {
        format::Store<uint32_t>(elem, in.flags);
        format::Store<uint32_t>(elem + 4, pos);
        format::Store<uint32_t>(elem + 8, static_cast<uint32_t>(in.key.size()));
        format::Store<uint32_t>(elem + 12, static_cast<uint32_t>(in.value.size()));
      } else {
        format::Store<uint32_t>(elem, pos);
        format::Store<uint32_t>(elem + 4, static_cast<uint32_t>(in.key.size()));
        format::Store<uint64_t>(elem + 8, in.pgid);
      }
      std::memcpy(p + off, in.key.data(), in.key.size());
      std::memcpy(p + off + in.key.size(), in.value.data(), in.value.size());
      off += in.key.size() + in.value.size();
    }
    data_written = off;
  }
  PageSizeHwm ps;
  Wrap("ReadPageAndHWMSize failed: ", [&] { ps = ReadPageAndHWMSize(path); });
  uint32_t dw = static_cast<uint32_t>(data_written);
  uint32_t psz = static_cast<uint32_t>(ps.page_size);
  uint32_t overflow = dw % psz == 0 ? dw / psz - 1 : dw / psz;
  format::Store<uint32_t>(p + format::kPageOverflowOff, overflow);
  uint64_t datasz = ps.page_size * (uint64_t{overflow} + 1);
  if (datasz > buf.size()) throw CliError("WritePage failed: the page grew");
  Wrap("WritePage failed: ", [&] { WritePage(path, buf.substr(0, datasz)); });
  return pre_overflow != overflow || branch;
}

// ---- subcommands ----

Command RevertMetaPage() {
  Command c;
  c.name = "revert-meta-page";
  c.use = "revert-meta-page <bbolt-file>";
  c.short_desc = "Revert the meta page to revert the changes performed by the latest transaction";
  c.args = ArgsSpec::Exact(1);
  c.flags = {OutputFlag()};
  c.example = "  boltpp surgery revert-meta-page --output fixed.db broken.db";
  c.run = [](Invocation& inv) {
    ValidateOutput(inv);
    const std::string& src = inv.args[0];
    std::string out = inv.flags.Str("output");
    CheckSourceDBPath(src);
    CopyFileOrThrow(src, out, "revert-meta-page");
    Wrap("revert-meta-page command failed: ", [&] {
      // guts_cli.GetActiveMetaPage: reads both metas as pages; the higher
      // txid is active (meta 0 on a tie).
      std::string b0 = ReadPage(out, 0);
      std::string b1 = ReadPage(out, 1);
      uint64_t t0 = format::Load<uint64_t>(reinterpret_cast<const uint8_t*>(b0.data()) + 64);
      uint64_t t1 = format::Load<uint64_t>(reinterpret_cast<const uint8_t*>(b1.data()) + 64);
      if (t0 < t1) {
        CopyPage(out, 0, 1);
      } else {
        CopyPage(out, 1, 0);
      }
    });
    Out("The meta page is reverted.\n");
    return 0;
  };
  return c;
}

Command CopyPageCmd() {
  Command c;
  c.name = "copy-page";
  c.use = "copy-page <bbolt-file>";
  c.short_desc = "Copy page from the source page Id to the destination page Id";
  c.args = ArgsSpec::Exact(1);
  c.flags = {OutputFlag(), Required(Uint64Flag("from-page", "", "source page Id")),
             Required(Uint64Flag("to-page", "", "destination page Id"))};
  c.example = "  boltpp surgery copy-page --from-page 3 --to-page 2 --output fixed.db broken.db";
  c.run = [](Invocation& inv) {
    ValidateOutput(inv);
    uint64_t from = inv.flags.Uint("from-page"), to = inv.flags.Uint("to-page");
    if (from == to) throw CliError("'--from-page' and '--to-page' have the same value: " + std::to_string(from));
    const std::string& src = inv.args[0];
    std::string out = inv.flags.Str("output");
    CheckSourceDBPath(src);
    CopyFileOrThrow(src, out, "copy-page");
    Wrap("copy-page command failed: ", [&] { CopyPage(out, from, to); });
    RawMeta m = ReadActiveMeta(src);
    if (m.freelist() != format::kNoFreelist) {
      Out("WARNING: the free list might have changed.\n");
      Out(kAbandonHint);
    }
    Out("The page " + std::to_string(from) + " was successfully copied to page " + std::to_string(to) + "\n");
    return 0;
  };
  return c;
}

Command ClearPageCmd() {
  Command c;
  c.name = "clear-page";
  c.use = "clear-page <bbolt-file>";
  c.short_desc = "Clears all elements from the given page, which can be a branch or leaf page";
  c.args = ArgsSpec::Exact(1);
  c.flags = {OutputFlag(), Required(Uint64Flag("pageId", "", "page Id"))};
  c.example = "  boltpp surgery clear-page --pageId 7 --output fixed.db broken.db";
  c.run = [](Invocation& inv) {
    ValidateOutput(inv);
    uint64_t id = inv.flags.Uint("pageId");
    if (id < 2) throw CliError("the pageId must be at least 2, but got " + std::to_string(id));
    const std::string& src = inv.args[0];
    std::string out = inv.flags.Str("output");
    CheckSourceDBPath(src);
    CopyFileOrThrow(src, out, "clear-page");
    bool abandon = false;
    Wrap("clear-page command failed: ", [&] { abandon = ClearPageElements(out, id, 0, -1); });
    if (abandon) {
      Out("WARNING: The clearing has abandoned some pages that are not yet referenced from free list.\n");
      Out(kAbandonHint);
    }
    Out("The page (" + std::to_string(id) + ") was cleared\n");
    return 0;
  };
  return c;
}

Command ClearPageElementsCmd() {
  Command c;
  c.name = "clear-page-elements";
  c.use = "clear-page-elements <bbolt-file>";
  c.short_desc = "Clears elements from the given page, which can be a branch or leaf page";
  c.args = ArgsSpec::Exact(1);
  c.flags = {OutputFlag(), Required(Uint64Flag("pageId", "", "page id")),
             Required(IntFlag("from-index", "", "start element index (included) to clear, starting from 0")),
             Required(IntFlag("to-index", "",
                              "end element index (excluded) to clear, starting from 0, -1 means to the end of page"))};
  c.example =
      "  boltpp surgery clear-page-elements --pageId 7 --from-index 1 --to-index -1 --output fixed.db broken.db";
  c.run = [](Invocation& inv) {
    ValidateOutput(inv);
    uint64_t id = inv.flags.Uint("pageId");
    if (id < 2) throw CliError("the pageId must be at least 2, but got " + std::to_string(id));
    int64_t from = inv.flags.Int("from-index"), to = inv.flags.Int("to-index");
    const std::string& src = inv.args[0];
    std::string out = inv.flags.Str("output");
    CheckSourceDBPath(src);
    CopyFileOrThrow(src, out, "clear-page-element");
    bool abandon = false;
    Wrap("clear-page-element command failed: ", [&] { abandon = ClearPageElements(out, id, from, to); });
    if (abandon) {
      Out("WARNING: The clearing has abandoned some pages that are not yet referenced from free list.\n");
      Out(kAbandonHint);
    }
    Out("All elements in [" + std::to_string(from) + ", " + std::to_string(to) + ") in page " + std::to_string(id) +
        " were cleared\n");
    return 0;
  };
  return c;
}

Command FreelistAbandon() {
  Command c;
  c.name = "abandon";
  c.use = "abandon <bbolt-file>";
  c.short_desc = "Abandon the freelist from both meta pages";
  c.args = ArgsSpec::Exact(1);
  c.flags = {OutputFlag()};
  c.example = "  boltpp surgery freelist abandon --output fixed.db broken.db";
  c.run = [](Invocation& inv) {
    ValidateOutput(inv);
    const std::string& src = inv.args[0];
    std::string out = inv.flags.Str("output");
    CheckSourceDBPath(src);
    CopyFileOrThrow(src, out, "freelist abandon");
    Wrap("abandom-freelist command failed: ", [&] { ClearFreelist(out); });
    Out("The freelist was abandoned in both meta pages.\n"
        "It may cause some delay on next startup because bbolt needs to scan the whole db to reconstruct the free "
        "list.\n");
    return 0;
  };
  return c;
}

Command FreelistRebuild() {
  Command c;
  c.name = "rebuild";
  c.use = "rebuild <bbolt-file>";
  c.short_desc = "Rebuild the freelist";
  c.args = ArgsSpec::Exact(1);
  c.flags = {OutputFlag()};
  c.example = "  boltpp surgery freelist rebuild --output fixed.db no-freelist.db";
  c.run = [](Invocation& inv) {
    ValidateOutput(inv);
    const std::string& src = inv.args[0];
    std::string out = inv.flags.Str("output");
    FileInfo fi = CheckSourceDBPath(src);
    RawMeta m = ReadActiveMeta(src);
    if (m.freelist() != format::kNoFreelist) {
      throw CliError(
          "the file already has freelist, please consider to abandon the freelist to forcibly rebuild it");
    }
    CopyFileOrThrow(src, out, "freelist rebuild");
    // Opening read-write without no_freelist_sync rebuilds and writes it.
    OpenOptions o;
    o.read_only = false;
    o.file_mode = fi.mode & 0777;
    std::unique_ptr<DB> db;
    Wrap("[freelist rebuild] open db file failed: ", [&] { db = OpenDB(out, inv, o); });
    Status s = db->Close();
    if (!s.ok()) throw CliError("[freelist rebuild] close db file failed: " + StatusMessage(s));
    Out("The freelist was successfully rebuilt.\n");
    return 0;
  };
  return c;
}

Command MetaValidate() {
  Command c;
  c.name = "validate";
  c.use = "validate <bbolt-file>";
  c.short_desc = "Validate both meta pages";
  c.args = ArgsSpec::Exact(1);
  c.example = "  boltpp surgery meta validate my.db";
  c.run = [](Invocation& inv) {
    const std::string& src = inv.args[0];
    CheckSourceDBPath(src);
    uint32_t page_size = 0;
    for (uint32_t i = 0; i <= 1; ++i) {
      RawMeta m;
      Wrap("read meta page " + std::to_string(i) + " failed: ", [&] { m = ReadMetaPageAt(src, i, page_size); });
      std::string err = m.Validate();
      if (!err.empty()) {
        Out("WARNING: The meta page " + std::to_string(i) + " isn't valid: " + err + "!\n");
      } else {
        Out("The meta page " + std::to_string(i) + " is valid!\n");
      }
      page_size = m.page_size();
    }
    return 0;
  };
  return c;
}

Command MetaUpdate() {
  Command c;
  c.name = "update";
  c.use = "update <bbolt-file>";
  c.short_desc = "Update fields in meta pages";
  c.args = ArgsSpec::Exact(1);
  c.flags = {OutputFlag(),
             StringSliceFlag("fields",
                             "comma separated list of fields (supported fields: pageSize, root, freelist and pgid) "
                             "to be updated, and each item is a colon-separated key-value pair"),
             Uint32Flag("meta-page", "", "the meta page ID to operate on, valid values are 0 and 1")};
  c.example = "  boltpp surgery meta update --meta-page 1 --fields root:16,freelist:8 --output fixed.db broken.db";
  c.run = [](Invocation& inv) {
    ValidateOutput(inv);
    uint32_t meta_id = static_cast<uint32_t>(inv.flags.Uint("meta-page"));
    if (meta_id > 1) throw CliError("invalid meta page id: " + std::to_string(meta_id));
    std::map<std::string, uint64_t> fields;
    for (const std::string& field : inv.flags.Slice("fields")) {
      size_t colons = static_cast<size_t>(std::count(field.begin(), field.end(), ':'));
      if (colons != 1) throw CliError("invalid key-value pair: " + field);
      std::string k = field.substr(0, field.find(':'));
      std::string v = field.substr(field.find(':') + 1);
      if (k != "pageSize" && k != "root" && k != "freelist" && k != "pgid") {
        throw CliError("field " + GoQuote(k) + " isn't allowed to be updated");
      }
      uint64_t val;
      if (!GoParseUint(v, 10, 64, &val).empty()) {
        throw CliError("invalid value " + GoQuote(v) + " for field " + GoQuote(k));
      }
      fields[k] = val;
    }
    const std::string& src = inv.args[0];
    std::string out = inv.flags.Str("output");
    CheckSourceDBPath(src);
    CopyFileOrThrow(src, out, "meta update");
    uint32_t page_size = 0;
    if (meta_id == 1) {
      Wrap("read the first meta page failed: ", [&] { page_size = ReadMetaPageAt(out, 0, 0).page_size(); });
    }
    RawMeta m;
    Wrap("read meta page " + std::to_string(meta_id) + " failed: ",
         [&] { m = ReadMetaPageAt(out, meta_id, page_size); });
    bool changed = false;
    uint8_t* p = m.mp();
    for (auto& [k, v] : fields) {
      if (k == "pageSize") {
        format::Store<uint32_t>(p + 24, static_cast<uint32_t>(v));
      } else if (k == "root") {
        format::Store<uint64_t>(p + 32, v);
        format::Store<uint64_t>(p + 40, 0);  // common.NewInBucket(root, 0)
      } else if (k == "freelist") {
        format::Store<uint64_t>(p + 48, v);
      } else if (k == "pgid") {
        format::Store<uint64_t>(p + 56, v);
      }
      changed = true;
    }
    if (m.magic() != format::kMagic) {
      format::Store<uint32_t>(p + 16, format::kMagic);
      changed = true;
    }
    if (m.version() != format::kVersion) {
      format::Store<uint32_t>(p + 20, format::kVersion);
      changed = true;
    }
    if (m.flags() != format::kMetaPage) {  // bbolt sets the meta flags to 4
      format::Store<uint32_t>(p + 28, format::kMetaPage);
      changed = true;
    }
    uint64_t sum = m.Sum64();
    if (m.checksum() != sum) {
      format::Store<uint64_t>(p + 72, sum);
      changed = true;
    }
    if (changed) {
      Wrap("[meta update] write meta page " + std::to_string(meta_id) + " failed: ",
           [&] { WriteMetaPageAt(out, m, meta_id, page_size); });
    }
    if (meta_id == 1 && page_size != m.page_size()) {
      Out("WARNING: The page size (" + std::to_string(page_size) + ") in the first meta page doesn't match the " +
          "second meta page (" + std::to_string(m.page_size()) + ")\n");
    }
    if (!changed) {
      Out("Nothing changed!\n");
    } else {
      Out("The meta page " + std::to_string(meta_id) + " has been updated!\n");
    }
    return 0;
  };
  return c;
}

}  // namespace

Command SurgeryCommand() {
  Command c;
  c.name = "surgery";
  c.use = "surgery <subcommand>";
  c.short_desc = "surgery related commands";
  Command freelist;
  freelist.name = "freelist";
  freelist.use = "freelist <subcommand>";
  freelist.short_desc = "freelist related surgery commands";
  freelist.children = {FreelistAbandon(), FreelistRebuild()};
  Command meta;
  meta.name = "meta";
  meta.use = "meta <subcommand>";
  meta.short_desc = "meta page related surgery commands";
  meta.children = {MetaUpdate(), MetaValidate()};
  c.children = {ClearPageCmd(),        ClearPageElementsCmd(), CopyPageCmd(), freelist, meta,
                RevertMetaPage()};
  return c;
}

}  // namespace boltpp::cli
