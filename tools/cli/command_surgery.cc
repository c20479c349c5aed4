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
#include "raw_io.h"
#include "format/page.h"

namespace boltpp::cli {

namespace {

constexpr const char* kAbandonHint =
    "Please consider executing `./bbolt surgery freelist abandon ...`\n";

FlagDef OutputFlag() { return Required(StringFlag("output", "", "path to the filePath db file")); }

// Throws when --output was given as "".
void ValidateOutput(const Invocation& inv) {
  if (inv.flags.Str("output").empty()) {
    throw CliError(
        "output database path wasn't given, specify output database file path with --output "
        "option");
  }
}

// One read(2) of up to n bytes, retrying EINTR; -1 with errno on failure.
ssize_t ReadSome(int fd, char* buf, size_t n) {
  for (;;) {
    ssize_t got = ::read(fd, buf, n);
    if (got >= 0 || errno != EINTR) return got;
  }
}

// bbolt common.CopyFile: refuses an existing destination.
void CopyFileOrThrow(const std::string& src, const std::string& dst, const std::string& tag) {
  auto fail = [&](const std::string& m) { throw CliError("[" + tag + "] copy file failed: " + m); };
  auto fail_errno = [&](const std::string& op) { fail(op + ": " + std::strerror(errno)); };
  struct stat st;
  if (::stat(dst.c_str(), &st) == 0) fail("output file " + GoQuote(dst) + " already exists");
  os::UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) fail_errno("open " + src);
  os::UniqueFd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (!out.valid()) fail_errno("open " + dst);
  std::string buf(1 << 20, '\0');
  uint64_t copied = 0;
  for (;;) {
    ssize_t n = ReadSome(in.get(), buf.data(), buf.size());
    if (n < 0) fail_errno("read " + src);
    if (n == 0) break;
    if (!os::PwriteFull(out.get(), buf.data(), static_cast<size_t>(n), copied)) {
      fail_errno("write " + dst);
    }
    copied += static_cast<uint64_t>(n);
  }
  bool size_ok = ::fstat(in.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) == copied;
  bool sync_ok = ::fsync(out.get()) == 0;
  const int sync_errno = errno;
  if (!size_ok) fail("the size of the copy differs from the source");
  if (!sync_ok) fail("sync " + dst + ": " + std::strerror(sync_errno));
}

// The first 1024 bytes of a meta page (page header included), as bbolt's
// surgery reads and writes them, and the meta decoded from them.
struct MetaPage {
  std::string buf;
  format::Meta meta;
  // Re-encodes meta's fields (with a fresh checksum) into buf.
  void Encode() { meta.EncodeFields(reinterpret_cast<uint8_t*>(buf.data())); }
};

// bbolt ReadMetaPageAt: 1024 bytes at meta_id * page_size.
MetaPage ReadMetaPageAt(const std::string& path, uint32_t meta_id, uint32_t page_size) {
  if (meta_id > 1) throw CliError("invalid metaPageId: " + std::to_string(meta_id));
  os::UniqueFd fd = OpenOrThrow(path, O_RDONLY);
  MetaPage m;
  m.buf.assign(1024, '\0');
  ReadFullAt(fd.get(), uint64_t{meta_id} * page_size, m.buf.data(), m.buf.size());
  m.meta = format::Meta::Decode(reinterpret_cast<const uint8_t*>(m.buf.data()));
  return m;
}

void WriteMetaPageAt(const std::string& path, const MetaPage& m, uint32_t meta_id,
                     uint32_t page_size) {
  if (meta_id > 1) throw CliError("invalid metaPageId: " + std::to_string(meta_id));
  os::UniqueFd fd = OpenOrThrow(path, O_RDWR);
  bool ok = os::PwriteFull(fd.get(), m.buf.data(), m.buf.size(), uint64_t{meta_id} * page_size) &&
            ::fsync(fd.get()) == 0;
  if (!ok) throw CliError("write " + path + ": " + std::strerror(errno));
}

// Runs f, prefixing the message of a CliError it throws.
template <typename F>
void Wrap(const std::string& prefix, F&& f) {
  try {
    f();
  } catch (const CliError& e) {
    throw CliError(prefix + e.what());
  }
}

// The meta with the higher txid (bbolt readMetaPage).
format::Meta ReadActiveMeta(const std::string& path) {
  PageSizeHwm ps;
  try {
    ps = ReadPageAndHWMSize(path);
  } catch (const CliError& e) {
    throw CliError(std::string("read Page size failed: ") + e.what());
  }
  format::Meta m[2];
  for (uint32_t i = 0; i < 2; ++i) {
    Wrap("read meta page " + std::to_string(i) + " failed: ",
         [&] { m[i] = ReadMetaPageAt(path, i, static_cast<uint32_t>(ps.page_size)).meta; });
  }
  return m[0].txid > m[1].txid ? m[0] : m[1];
}

// surgeon.CopyPage.
void CopyPage(const std::string& path, uint64_t src, uint64_t dst) {
  std::string buf = ReadPage(path, src);
  format::Store<uint64_t>(reinterpret_cast<uint8_t*>(buf.data()) + format::kPageIdOff, dst);
  WritePage(path, buf);
}

void ClearFreelistInMetaPage(const std::string& path, uint64_t id) {
  std::string buf;
  Wrap("ReadPage " + std::to_string(id) + " failed: ", [&] { buf = ReadPage(path, id); });
  if (buf.size() < format::kPageHeaderSize + format::kMetaSize)
    throw CliError("meta page is truncated");
  auto* p = reinterpret_cast<uint8_t*>(buf.data());
  format::Meta meta = format::Meta::Decode(p);
  meta.freelist = format::kNoFreelist;
  meta.EncodeFields(p);
  Wrap("WritePage " + std::to_string(id) + " failed: ", [&] { WritePage(path, buf); });
}

void ClearFreelist(const std::string& path) {
  Wrap("clearFreelist on meta page 0 failed: ", [&] { ClearFreelistInMetaPage(path, 0); });
  Wrap("clearFreelist on meta page 1 failed: ", [&] { ClearFreelistInMetaPage(path, 1); });
}

// An element of a page being rewritten (the fields format::ReadInode and
// format::WriteInodes use), owning its bytes.
struct Inode {
  uint32_t flags = 0;
  uint64_t pgid = 0;
  std::string key, value;
};

// bbolt's checks of [start, end) against a page of count elements (end -1
// means to the end of the page).
void CheckClearRange(int64_t start, int64_t end, int64_t count) {
  auto str = [](int64_t v) { return std::to_string(v); };
  if (start < 0 || start >= count) {
    throw CliError("the start index (" + str(start) + ") is out of range [0, " + str(count) + ")");
  }
  if ((end < 0 || end > count) && end != -1) {
    throw CliError("the end index (" + str(end) + ") is out of range [0, " + str(count) + "]");
  }
  if (start > end && end != -1) {
    throw CliError("the start index (" + str(start) + ") is bigger than the end index (" +
                   str(end) + ")");
  }
  if (start == end) {
    throw CliError("invalid: the start index (" + str(start) + ") is equal to the end index (" +
                   str(end) + ")");
  }
}

// Every element of a branch or leaf page, bounds-checked.
std::vector<Inode> ReadInodes(const std::string& buf, uint64_t pgid) {
  format::PageView view{reinterpret_cast<const uint8_t*>(buf.data()), buf.size()};
  std::vector<Inode> inodes(view.count());
  for (size_t i = 0; i < inodes.size(); ++i) {
    if (!format::ReadInode(view, i, &inodes[i]) || inodes[i].key.empty()) {
      throw CliError("page " + std::to_string(pgid) + ": element " + std::to_string(i) +
                     " is damaged");
    }
  }
  return inodes;
}

// Drops elements [start, end) from the page in buf and returns the bytes
// its data now needs. As bbolt does, dropping a tail only lowers the count;
// dropping from the middle rewrites the elements and their data.
uint64_t DropElements(std::string& buf, std::vector<Inode> inodes, int64_t start, int64_t end) {
  auto* p = reinterpret_cast<uint8_t*>(buf.data());
  const int64_t count = static_cast<int64_t>(inodes.size());
  if (end == count || end == -1) {
    inodes.resize(static_cast<size_t>(start));
    format::Store<uint16_t>(p + format::kPageCountOff, static_cast<uint16_t>(start));
    uint64_t data = format::kPageHeaderSize + format::kLeafElementSize * inodes.size();
    for (const Inode& in : inodes) data += in.key.size() + in.value.size();
    return data;
  }
  inodes.erase(inodes.begin() + start, inodes.begin() + end);
  return format::WriteInodes(p, format::PageFlags(p) == format::kLeafPage, inodes);
}

// surgeon.ClearPageElements with abandonFreelist=false: returns whether the
// freelist should be abandoned (a branch page changed, or the overflow did).
bool ClearPageElements(const std::string& path, uint64_t pgid, int64_t start, int64_t end) {
  std::string buf;
  Wrap("ReadPage failed: ", [&] { buf = ReadPage(path, pgid); });
  auto* p = reinterpret_cast<uint8_t*>(buf.data());
  const uint16_t flags = format::PageFlags(p);
  if (flags != format::kLeafPage && flags != format::kBranchPage) {
    throw CliError("can't clear elements in " + GoQuote(format::PageTypeName(flags)) + " page");
  }
  const int64_t count = format::PageCount(p);
  if (count == 0) return false;
  CheckClearRange(start, end, count);
  const uint32_t pre_overflow = format::PageOverflow(p);
  const uint64_t data_written = DropElements(buf, ReadInodes(buf, pgid), start, end);

  PageSizeHwm ps;
  Wrap("ReadPageAndHWMSize failed: ", [&] { ps = ReadPageAndHWMSize(path); });
  const auto dw = static_cast<uint32_t>(data_written);
  const auto psz = static_cast<uint32_t>(ps.page_size);
  const uint32_t overflow = dw % psz == 0 ? dw / psz - 1 : dw / psz;
  format::Store<uint32_t>(p + format::kPageOverflowOff, overflow);
  const uint64_t datasz = ps.page_size * (uint64_t{overflow} + 1);
  if (datasz > buf.size()) throw CliError("WritePage failed: the page grew");
  Wrap("WritePage failed: ", [&] { WritePage(path, buf.substr(0, datasz)); });
  return pre_overflow != overflow || flags == format::kBranchPage;
}

// Every writing subcommand edits a copy: after its own argument checks it
// checks the source and copies it to --output (refusing an existing file),
// as bbolt's surgery commands do. Returns the copy's path.
std::string CopySourceToOutput(const Invocation& inv, const std::string& tag) {
  CheckSourceDBPath(inv.args[0]);
  std::string out = inv.flags.Str("output");
  CopyFileOrThrow(inv.args[0], out, tag);
  return out;
}

void WarnAbandonedPages() {
  Out("WARNING: The clearing has abandoned some pages that are not yet referenced from free "
      "list.\n");
  Out(kAbandonHint);
}

uint64_t PageIdFlag(const Invocation& inv) {
  uint64_t id = inv.flags.Uint("pageId");
  if (id < 2) throw CliError("the pageId must be at least 2, but got " + std::to_string(id));
  return id;
}

// A surgery subcommand on one file: "NAME <bbolt-file>", exactly one
// positional argument.
Command FileCommand(const std::string& name, std::string short_desc, std::vector<FlagDef> flags,
                    std::string example, std::function<int(Invocation&)> run) {
  return LeafCommand(name + " <bbolt-file>", std::move(short_desc), ArgsSpec::Exact(1),
                     std::move(run), std::move(flags), std::move(example));
}

// ---- subcommands ----

uint64_t MetaTxid(const std::string& page) {
  return format::Meta::Decode(reinterpret_cast<const uint8_t*>(page.data())).txid;
}

int RunRevertMetaPage(Invocation& inv) {
  ValidateOutput(inv);
  std::string out = CopySourceToOutput(inv, "revert-meta-page");
  Wrap("revert-meta-page command failed: ", [&] {
    // guts_cli.GetActiveMetaPage: reads both metas as pages; the higher
    // txid is active (meta 0 on a tie).
    if (MetaTxid(ReadPage(out, 0)) < MetaTxid(ReadPage(out, 1))) {
      CopyPage(out, 0, 1);
    } else {
      CopyPage(out, 1, 0);
    }
  });
  Out("The meta page is reverted.\n");
  return 0;
}

int RunCopyPage(Invocation& inv) {
  ValidateOutput(inv);
  uint64_t from = inv.flags.Uint("from-page"), to = inv.flags.Uint("to-page");
  if (from == to)
    throw CliError("'--from-page' and '--to-page' have the same value: " + std::to_string(from));
  std::string out = CopySourceToOutput(inv, "copy-page");
  Wrap("copy-page command failed: ", [&] { CopyPage(out, from, to); });
  if (ReadActiveMeta(inv.args[0]).freelist != format::kNoFreelist) {
    Out("WARNING: the free list might have changed.\n");
    Out(kAbandonHint);
  }
  Out("The page " + std::to_string(from) + " was successfully copied to page " +
      std::to_string(to) + "\n");
  return 0;
}

int RunClearPage(Invocation& inv) {
  ValidateOutput(inv);
  uint64_t id = PageIdFlag(inv);
  std::string out = CopySourceToOutput(inv, "clear-page");
  bool abandon = false;
  Wrap("clear-page command failed: ", [&] { abandon = ClearPageElements(out, id, 0, -1); });
  if (abandon) WarnAbandonedPages();
  Out("The page (" + std::to_string(id) + ") was cleared\n");
  return 0;
}

int RunClearPageElements(Invocation& inv) {
  ValidateOutput(inv);
  uint64_t id = PageIdFlag(inv);
  int64_t from = inv.flags.Int("from-index"), to = inv.flags.Int("to-index");
  std::string out = CopySourceToOutput(inv, "clear-page-element");
  bool abandon = false;
  Wrap("clear-page-element command failed: ",
       [&] { abandon = ClearPageElements(out, id, from, to); });
  if (abandon) WarnAbandonedPages();
  Out("All elements in [" + std::to_string(from) + ", " + std::to_string(to) + ") in page " +
      std::to_string(id) + " were cleared\n");
  return 0;
}

int RunFreelistAbandon(Invocation& inv) {
  ValidateOutput(inv);
  std::string out = CopySourceToOutput(inv, "freelist abandon");
  Wrap("abandom-freelist command failed: ", [&] { ClearFreelist(out); });
  Out("The freelist was abandoned in both meta pages.\n"
      "It may cause some delay on next startup because bbolt needs to scan "
      "the whole db to reconstruct the free "
      "list.\n");
  return 0;
}

int RunFreelistRebuild(Invocation& inv) {
  ValidateOutput(inv);
  FileInfo fi = CheckSourceDBPath(inv.args[0]);
  if (ReadActiveMeta(inv.args[0]).freelist != format::kNoFreelist) {
    throw CliError(
        "the file already has freelist, please consider to abandon the freelist to forcibly "
        "rebuild it");
  }
  std::string out = CopySourceToOutput(inv, "freelist rebuild");
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
}

int RunMetaValidate(Invocation& inv) {
  const std::string& src = inv.args[0];
  CheckSourceDBPath(src);
  uint32_t page_size = 0;
  for (uint32_t i = 0; i <= 1; ++i) {
    MetaPage m;
    Wrap("read meta page " + std::to_string(i) + " failed: ",
         [&] { m = ReadMetaPageAt(src, i, page_size); });
    Status valid = m.meta.ValidateBasic();
    if (!valid.ok()) {
      Out("WARNING: The meta page " + std::to_string(i) + " isn't valid: " + valid.ToString() +
          "!\n");
    } else {
      Out("The meta page " + std::to_string(i) + " is valid!\n");
    }
    page_size = m.meta.page_size;
  }
  return 0;
}

// --fields of meta update: "key:value" pairs for pageSize, root, freelist
// and pgid, in bbolt's words when one is wrong.
std::map<std::string, uint64_t> ParseMetaFields(const std::vector<std::string>& pairs) {
  std::map<std::string, uint64_t> fields;
  for (const std::string& field : pairs) {
    if (std::count(field.begin(), field.end(), ':') != 1)
      throw CliError("invalid key-value pair: " + field);
    std::string k = field.substr(0, field.find(':'));
    std::string v = field.substr(field.find(':') + 1);
    if (k != "pageSize" && k != "root" && k != "freelist" && k != "pgid") {
      throw CliError("field " + GoQuote(k) + " isn't allowed to be updated");
    }
    try {
      fields[k] = GoParseUint(v, 10, 64);
    } catch (const CliError&) {
      throw CliError("invalid value " + GoQuote(v) + " for field " + GoQuote(k));
    }
  }
  return fields;
}

// Sets the given fields, and repairs magic, version, meta flags (bbolt sets
// them to 4) and checksum; true when anything was set or repaired.
bool UpdateMeta(format::Meta& m, const std::map<std::string, uint64_t>& fields) {
  for (const auto& [k, v] : fields) {
    if (k == "pageSize") m.page_size = static_cast<uint32_t>(v);
    if (k == "root") {
      m.root = v;
      m.root_sequence = 0;  // common.NewInBucket(root, 0)
    }
    if (k == "freelist") m.freelist = v;
    if (k == "pgid") m.pgid = v;
  }
  const format::Meta repaired = [&] {
    format::Meta r = m;
    r.magic = format::kMagic;
    r.version = format::kVersion;
    r.flags = format::kMetaPage;
    r.checksum = r.ComputeChecksum();
    return r;
  }();
  bool changed = !fields.empty() || m.magic != repaired.magic || m.version != repaired.version ||
                 m.flags != repaired.flags || m.checksum != repaired.checksum;
  m = repaired;
  return changed;
}

int RunMetaUpdate(Invocation& inv) {
  ValidateOutput(inv);
  uint32_t meta_id = static_cast<uint32_t>(inv.flags.Uint("meta-page"));
  if (meta_id > 1) throw CliError("invalid meta page id: " + std::to_string(meta_id));
  std::map<std::string, uint64_t> fields = ParseMetaFields(inv.flags.Slice("fields"));
  std::string out = CopySourceToOutput(inv, "meta update");
  uint32_t page_size = 0;
  if (meta_id == 1) {
    Wrap("read the first meta page failed: ",
         [&] { page_size = ReadMetaPageAt(out, 0, 0).meta.page_size; });
  }
  MetaPage m;
  Wrap("read meta page " + std::to_string(meta_id) + " failed: ",
       [&] { m = ReadMetaPageAt(out, meta_id, page_size); });
  bool changed = UpdateMeta(m.meta, fields);
  if (changed) {
    m.Encode();
    Wrap("[meta update] write meta page " + std::to_string(meta_id) + " failed: ",
         [&] { WriteMetaPageAt(out, m, meta_id, page_size); });
  }
  if (meta_id == 1 && page_size != m.meta.page_size) {
    Out("WARNING: The page size (" + std::to_string(page_size) +
        ") in the first meta page doesn't match the " + "second meta page (" +
        std::to_string(m.meta.page_size) + ")\n");
  }
  Out(changed ? "The meta page " + std::to_string(meta_id) + " has been updated!\n"
              : "Nothing changed!\n");
  return 0;
}

}  // namespace

// The subcommands: help and flags, with the functions above.
Command SurgeryCommand() {
  Command abandon = FileCommand(
      "abandon", "Abandon the freelist from both meta pages", {OutputFlag()},
      "  boltpp surgery freelist abandon --output fixed.db broken.db", RunFreelistAbandon);
  Command rebuild = FileCommand(
      "rebuild", "Rebuild the freelist", {OutputFlag()},
      "  boltpp surgery freelist rebuild --output fixed.db no-freelist.db", RunFreelistRebuild);
  Command update = FileCommand(
      "update", "Update fields in meta pages",
      {OutputFlag(),
       StringSliceFlag(
           "fields",
           "comma separated list of fields (supported fields: pageSize, root, freelist and pgid) "
           "to be updated, and each item is a colon-separated key-value pair"),
       Uint32Flag("meta-page", "", "the meta page ID to operate on, valid values are 0 and 1")},
      "  boltpp surgery meta update --meta-page 1 --fields root:16,freelist:8 --output fixed.db "
      "broken.db",
      RunMetaUpdate);
  Command validate = FileCommand("validate", "Validate both meta pages", {},
                                 "  boltpp surgery meta validate my.db", RunMetaValidate);
  Command clear_page = FileCommand(
      "clear-page", "Clears all elements from the given page, which can be a branch or leaf page",
      {OutputFlag(), Required(Uint64Flag("pageId", "", "page Id"))},
      "  boltpp surgery clear-page --pageId 7 --output fixed.db broken.db", RunClearPage);
  Command clear_elements = FileCommand(
      "clear-page-elements",
      "Clears elements from the given page, which can be a branch or leaf page",
      {OutputFlag(), Required(Uint64Flag("pageId", "", "page id")),
       Required(
           IntFlag("from-index", "", "start element index (included) to clear, starting from 0")),
       Required(IntFlag(
           "to-index", "",
           "end element index (excluded) to clear, starting from 0, -1 means to the end of page"))},
      "  boltpp surgery clear-page-elements --pageId 7 --from-index 1 --to-index -1 --output "
      "fixed.db broken.db",
      RunClearPageElements);
  Command copy_page = FileCommand(
      "copy-page", "Copy page from the source page Id to the destination page Id",
      {OutputFlag(), Required(Uint64Flag("from-page", "", "source page Id")),
       Required(Uint64Flag("to-page", "", "destination page Id"))},
      "  boltpp surgery copy-page --from-page 3 --to-page 2 --output fixed.db broken.db",
      RunCopyPage);
  Command revert =
      FileCommand("revert-meta-page",
                  "Revert the meta page to revert the changes performed by the latest transaction",
                  {OutputFlag()}, "  boltpp surgery revert-meta-page --output fixed.db broken.db",
                  RunRevertMetaPage);
  return GroupCommand(
      "surgery", "surgery related commands",
      {clear_page, clear_elements, copy_page,
       GroupCommand("freelist", "freelist related surgery commands", {abandon, rebuild}),
       GroupCommand("meta", "meta page related surgery commands", {update, validate}), revert});
}

}  // namespace boltpp::cli
