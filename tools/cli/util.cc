// File: tools/cli/util.cc
// Shared helpers: output, argument checks, opening databases, raw page I/O.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "cli.h"
#include "raw_io.h"
#include "format/page.h"

namespace boltpp::cli {

void Out(std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); }
void OutLine(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}
void Err(std::string_view s) {
  std::fflush(stdout);
  std::fwrite(s.data(), 1, s.size(), stderr);
  std::fflush(stderr);
}

void ArgsSpec::Check(size_t n) const {
  const std::string got = std::to_string(n);
  const std::string lo = std::to_string(a);
  switch (rule) {
    case kAny:
      return;
    case kExact:
      if (n != static_cast<size_t>(a)) throw CliError("accepts " + lo + " arg(s), received " + got);
      return;
    case kMin:
      if (n < static_cast<size_t>(a)) {
        throw CliError("requires at least " + lo + " arg(s), only received " + got);
      }
      return;
    case kRange:
      if (n < static_cast<size_t>(a) || n > static_cast<size_t>(b)) {
        throw CliError("accepts between " + lo + " and " + std::to_string(b) +
                       " arg(s), received " + got);
      }
      return;
    case kMax:
      if (n > static_cast<size_t>(a))
        throw CliError("accepts at most " + lo + " arg(s), received " + got);
      return;
  }
}

FlagDef OutputFormatFlag(std::string name, const std::string& usage_suffix, char shorthand) {
  return StringFlag(std::move(name), "auto",
                    std::string("Output format one of: ") + kFormatModes + usage_suffix, shorthand);
}

std::chrono::milliseconds Invocation::LockTimeout() const {
  if (!flags.Find("timeout") || !flags.Changed("timeout")) return std::chrono::milliseconds(-1);
  int64_t ns = flags.DurationNs("timeout");
  if (ns < 0) return std::chrono::milliseconds(-1);
  if (ns == 0) return std::chrono::milliseconds(0);  // wait forever, as bbolt
  int64_t ms = (ns + 999999) / 1000000;
  return std::chrono::milliseconds(ms);
}

FileInfo CheckSourceDBPath(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw CliError("source database file " + GoQuote(path) + " doesn't exist");
    throw CliError("failed to open source database file " + GoQuote(path) + ": stat " + path +
                   ": " + std::strerror(errno));
  }
  FileInfo fi;
  fi.size = static_cast<uint64_t>(st.st_size);
  fi.mode = st.st_mode & 07777;
  return fi;
}

std::string StatusMessage(const Status& s) {
  switch (s.code()) {
    case Code::kTimeout:
      return "database is locked by another process; retry with --timeout";
    case Code::kCorruption:
    case Code::kIOError:
    case Code::kInvalidArgument:
    case Code::kAborted:
    case Code::kDatabaseFailed:
      return s.ToString();
    default:
      // bbolt's own words, so that scripts written for bbolt keep working;
      // boltpp's extra detail goes on the next line.
      return std::string(CodeMessage(s.code()));
  }
}

void ThrowStatus(const Status& s) {
  std::string hint;
  bool detail_in_msg = s.code() == Code::kCorruption || s.code() == Code::kIOError ||
                       s.code() == Code::kInvalidArgument || s.code() == Code::kAborted ||
                       s.code() == Code::kDatabaseFailed;
  if (s.code() == Code::kTimeout) {
    hint =
        "hint: another process holds the file lock; use --timeout 10s to wait for it (0 waits "
        "forever)";
  } else if (!detail_in_msg && !s.detail().empty()) {
    hint = "detail: " + s.detail();
  }
  throw CliError(StatusMessage(s), hint);
}

std::unique_ptr<DB> OpenDB(const std::string& path, const Invocation& inv, const OpenOptions& o) {
  Options opt;
  opt.read_only = o.read_only;
  opt.timeout = inv.LockTimeout();
  opt.no_sync = o.no_sync;
  opt.file_mode = o.file_mode;
  opt.page_size = o.page_size;
  opt.initial_mmap_size = o.initial_mmap_size;
  opt.wal = o.wal;
  auto r = DB::Open(path, opt);
  if (!r.ok()) {
    const Status& s = r.status();
    if (s.code() == Code::kTimeout && opt.timeout.count() > 0) {
      throw CliError("timeout: database is still locked by another process after " +
                         GoDuration(static_cast<int64_t>(opt.timeout.count()) * 1000000),
                     "hint: a longer --timeout waits longer (0 waits forever)");
    }
    if (!o.read_only && (s.code() == Code::kIOError) &&
        (s.detail().find("ermission denied") != std::string::npos ||
         s.detail().find("ead-only file system") != std::string::npos)) {
      throw CliError("cannot open " + GoQuote(path) + " for writing: " + s.ToString());
    }
    ThrowStatus(s);
  }
  return std::move(r).value();
}

std::unique_ptr<DB> OpenSourceDB(const Invocation& inv) {
  CheckSourceDBPath(inv.args[0]);
  return OpenDB(inv.args[0], inv, {});
}

std::unique_ptr<DB> OpenForWrite(const std::string& path, const Invocation& inv) {
  RequireWritable(path);
  OpenOptions o;
  o.read_only = false;
  o.no_sync = inv.flags.Bool("no-sync");
  return OpenDB(path, inv, o);
}

void RequireWritable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return;  // a new file: Open reports problems
  if ((st.st_mode & 0222) == 0 || ::access(path.c_str(), W_OK) != 0) {
    throw CliError("database file " + GoQuote(path) + " is read-only; refusing to modify it",
                   "hint: make it writable (chmod u+w) or work on a copy");
  }
}

namespace {

// The sub-bucket name of parent; a missing one is created when
// create_missing, else throws "bucket not found" with hint.
Bucket ChildBucket(const Tx& tx, Bucket parent, const std::string& name, bool create_missing,
                   const std::string& hint) {
  if (Bucket b = parent.GetBucket(name)) return b;
  Check(tx.status());
  if (!create_missing) throw CliError(std::string(CodeMessage(Code::kBucketNotFound)), hint);
  auto r = parent.CreateBucket(name);
  Check(r.status());
  return *r;
}

}  // namespace

Bucket FindLastBucket(const Tx& tx, const std::vector<std::string>& names) {
  if (names.empty()) throw CliError(std::string(CodeMessage(Code::kBucketNotFound)));
  Bucket b = tx.Root();
  for (const std::string& name : names) b = ChildBucket(tx, b, name, false, "");
  return b;
}

Bucket OpenBucketPath(Tx& tx, const std::vector<std::string>& names, bool create_missing,
                      const std::string& hint) {
  Bucket b = tx.Root();
  for (const std::string& name : names) b = ChildBucket(tx, b, name, create_missing, hint);
  return b;
}

void ThrowKeyNotFound(std::string_view key) {
  throw CliError("Error key not found for key: " + GoQuote(key) + " hex: \"" + Hex(key) + "\"");
}

std::vector<uint64_t> ParsePageIdArgs(const std::vector<std::string>& args) {
  std::vector<uint64_t> ids;
  for (size_t i = 1; i < args.size(); ++i) {
    if (!args[i].empty()) ids.push_back(ParsePageId(args[i]));
  }
  return ids;
}

// ---- raw page access ----
os::UniqueFd OpenOrThrow(const std::string& path, int flags) {
  os::UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd.valid()) throw CliError("open " + path + ": " + std::strerror(errno));
  return fd;
}

void ReadFullAt(int fd, uint64_t off, char* buf, size_t n, bool partial_is_unexpected) {
  if (off > static_cast<uint64_t>(INT64_MAX)) throw CliError("negative offset");
  ssize_t got = os::PreadFull(fd, buf, n, off);
  if (got < 0) throw CliError(std::strerror(errno));
  if (static_cast<size_t>(got) == n) return;
  throw CliError(partial_is_unexpected && got > 0 ? "unexpected EOF" : "EOF");
}

namespace {

std::string UnexpectedPageId(uint64_t id, uint64_t page_id) {
  return "error: invalid value due to unexpected Page id: " + std::to_string(id) +
         " != " + std::to_string(page_id);
}

}  // namespace

PageSizeHwm ReadPageAndHWMSize(const std::string& path) {
  os::UniqueFd f = OpenOrThrow(path, O_RDONLY);
  std::string buf(4096, '\0');
  ReadFullAt(f.get(), 0, buf.data(), buf.size(), true);
  format::Meta meta = format::Meta::Decode(reinterpret_cast<const uint8_t*>(buf.data()));
  if (meta.magic != format::kMagic) throw CliError("the Meta Page has wrong (unexpected) magic");
  return PageSizeHwm{meta.page_size, meta.pgid};
}

std::string ReadPage(const std::string& path, uint64_t page_id) {
  PageSizeHwm ps;
  try {
    ps = ReadPageAndHWMSize(path);
  } catch (const CliError& e) {
    throw CliError(std::string("read Page size: ") + e.what());
  }
  if (ps.page_size < format::kPageHeaderSize || ps.page_size > format::kMaxPageSize) {
    throw CliError("error: invalid value, the meta page claims a page size of " +
                   std::to_string(ps.page_size) + " bytes");
  }
  os::UniqueFd f = OpenOrThrow(path, O_RDONLY);
  struct stat st;
  uint64_t file_size = ::fstat(f.get(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;

  std::string buf(ps.page_size, '\0');
  if (page_id > UINT64_MAX / ps.page_size) throw CliError("EOF");
  uint64_t off = page_id * ps.page_size;
  ReadFullAt(f.get(), off, buf.data(), buf.size());
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
  if (format::PageId(p) != page_id) throw CliError(UnexpectedPageId(format::PageId(p), page_id));
  uint32_t overflow = format::PageOverflow(p);
  uint32_t limit = static_cast<uint32_t>(ps.hwm) - 3u;  // Go: uint32(hwm)-3
  if (overflow >= limit) {
    throw CliError("error: invalid value, Page claims to have " + std::to_string(overflow) +
                   " overflow pages (>=hwm=" + std::to_string(ps.hwm) +
                   "). Interrupting to avoid risky OOM");
  }
  if (overflow == 0) return buf;
  uint64_t total = (uint64_t{overflow} + 1) * ps.page_size;
  if (off + total > file_size) throw CliError("EOF");
  buf.assign(total, '\0');
  ReadFullAt(f.get(), off, buf.data(), buf.size());
  p = reinterpret_cast<const uint8_t*>(buf.data());
  if (format::PageId(p) != page_id) throw CliError(UnexpectedPageId(format::PageId(p), page_id));
  return buf;
}

void WritePage(const std::string& path, const std::string& buf) {
  PageSizeHwm ps = ReadPageAndHWMSize(path);
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data());
  uint64_t expected = ps.page_size * (uint64_t{format::PageOverflow(p)} + 1);
  if (expected != buf.size()) {
    throw CliError("WritePage: len(buf):" + std::to_string(buf.size()) +
                   " != pageSize*(overflow+1):" + std::to_string(expected));
  }
  os::UniqueFd f = OpenOrThrow(path, O_WRONLY);
  uint64_t off = format::PageId(p) * ps.page_size;
  if (!os::PwriteFull(f.get(), buf.data(), buf.size(), off)) {
    throw CliError("write " + path + ": " + std::strerror(errno));
  }
  if (::fsync(f.get()) != 0) throw CliError("sync " + path + ": " + std::strerror(errno));
}

namespace {

// Carries a command's exceptions across an engine call that takes a
// callback returning Status: run(carry) makes the engine call, wrapping each
// callback in carry. An exception a callback throws stops the engine call
// (it sees a kAborted status) and is rethrown here; otherwise a failed
// engine call is thrown as CliError.
template <typename EngineCall>
void CarryExceptions(EngineCall&& run) {
  std::exception_ptr thrown;
  auto carry = [&thrown](auto&& callback) {
    try {
      callback();
      return Status::OK();
    } catch (...) {
      thrown = std::current_exception();
      return Status(Code::kAborted, "stopped by the command");
    }
  };
  Status s = run(carry);
  if (thrown) std::rethrow_exception(thrown);
  Check(s);
}

}  // namespace

void ViewOrThrow(DB& db, const std::function<void(Tx&)>& fn) {
  CarryExceptions(
      [&](auto carry) { return db.View([&](Tx& tx) { return carry([&] { fn(tx); }); }); });
}

void UpdateOrThrow(DB& db, const std::function<void(Tx&)>& fn) {
  CarryExceptions(
      [&](auto carry) { return db.Update([&](Tx& tx) { return carry([&] { fn(tx); }); }); });
}

void UpdateDatabase(const Invocation& inv, const std::function<void(Tx&)>& fn) {
  auto db = OpenForWrite(inv.args[0], inv);
  UpdateOrThrow(*db, fn);
  Check(db->Close());
}

void ForEachOrThrow(const Bucket& b, const std::function<void(const Entry&)>& fn) {
  CarryExceptions(
      [&](auto carry) { return b.ForEach([&](const Entry& e) { return carry([&] { fn(e); }); }); });
}

void ForEachBucketOrThrow(const Tx& tx, const std::function<void(Bytes name, Bucket b)>& fn) {
  CarryExceptions([&](auto carry) {
    return tx.ForEach([&](Bytes name, Bucket b) { return carry([&] { fn(name, b); }); });
  });
}

}  // namespace boltpp::cli
