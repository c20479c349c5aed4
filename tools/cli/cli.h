// File: tools/cli/cli.h
// The boltpp command-line tool: command table, errors and shared helpers.
//
// The tool mirrors the newest bbolt CLI (cobra-based, 1.5): the same
// commands, flags, output bytes and exit codes. Errors print
// "Error: <message>" on stderr and exit 1; instead of cobra's full usage
// block boltpp prints a one-line hint after it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "boltpp/boltpp.h"
#include "flags.h"

namespace boltpp::cli {

// The CLI's one error convention: every failure (a bad flag or argument, a
// malformed input line, an engine Status through Check/ThrowStatus) is
// thrown as CliError, with context added by catching and rethrowing; Main in
// main.cc is the one place that prints "Error: <what()>" (and the hint) and
// exits 1.
class CliError : public std::runtime_error {
 public:
  explicit CliError(const std::string& msg, std::string hint = {})
      : std::runtime_error(msg), hint_(std::move(hint)) {}
  // Extra lines printed on stderr after the "Error:" line (may be empty).
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

// How many positional arguments a command accepts (cobra's validators).
struct ArgsSpec {
  enum Rule { kAny, kExact, kMin, kRange, kMax };
  Rule rule = kAny;
  int a = 0;
  int b = 0;
  static ArgsSpec Any() { return {}; }
  static ArgsSpec Exact(int n) { return {kExact, n, n}; }
  static ArgsSpec Min(int n) { return {kMin, n, 0}; }
  static ArgsSpec Range(int lo, int hi) { return {kRange, lo, hi}; }
  static ArgsSpec Max(int n) { return {kMax, n, n}; }
  // Throws CliError with cobra's message unless n arguments are acceptable.
  void Check(size_t n) const;
};

struct Command;

// One run of a leaf command: its parsed flags and positional arguments.
struct Invocation {
  const Command* cmd = nullptr;
  FlagSet flags;
  std::vector<std::string> args;

  // --timeout: how long to wait for the file lock (negative = try once).
  std::chrono::milliseconds LockTimeout() const;
};

struct Command {
  std::string name;        // "get", "update"
  std::string use;         // "get PATH [BUCKET..] KEY" (without the program name)
  std::string short_desc;  // one line
  std::string long_desc;   // optional
  ArgsSpec args;
  std::vector<FlagDef> flags;
  std::function<int(Invocation&)> run;  // null for a group of subcommands
  std::vector<Command> children;
  std::string example;  // optional, shown in help
};

// A leaf command; use starts with its name ("get PATH [BUCKET..] KEY").
Command LeafCommand(std::string use, std::string short_desc, ArgsSpec args,
                    std::function<int(Invocation&)> run, std::vector<FlagDef> flags = {},
                    std::string example = {});
// A group of subcommands, used as "<name> <subcommand>".
Command GroupCommand(std::string name, std::string short_desc, std::vector<Command> children);

// ---- the commands (one file each: command_<verb>.cc) ----
Command InfoCommand();
Command CheckCommand();
Command BucketsCommand();
Command KeysCommand();
Command GetCommand();
Command PageCommand();
Command PageItemCommand();
Command PagesCommand();
Command StatsCommand();
Command DumpCommand();
Command InspectCommand();
Command CompactCommand();
Command ShrinkCommand();
Command BenchCommand();
Command SurgeryCommand();
Command VersionCommand();
Command PutCommand();
Command DeleteCommand();
Command CreateBucketCommand();
Command DeleteBucketCommand();
Command ExportCommand();
Command ImportCommand();

constexpr const char* kProgramName = "boltpp";
constexpr const char* kFormatModes = "auto|ascii-encoded|hex|bytes|redacted";
// An output format flag (default "auto"): "Output format one of: <modes>"
// and usage_suffix.
FlagDef OutputFormatFlag(std::string name, const std::string& usage_suffix = "",
                         char shorthand = 0);
constexpr const char* kPageSeparator = "===============================================";

// ---- output ----
// Writes bytes to stdout unchanged (binary safe).
void Out(std::string_view s);
void OutLine(std::string_view s);  // s + "\n"
void Err(std::string_view s);      // stderr

// ---- byte formatting, as the Go CLI does it ----
// Go's strconv.Quote (the %q verb): printable runes kept, the rest escaped.
std::string GoQuote(std::string_view s);
// Lowercase hex (Go %x).
std::string Hex(std::string_view s);
// Valid UTF-8 made only of printable runes (Go unicode.IsPrint).
bool IsPrintable(std::string_view s);
bool IsPrintRune(uint32_t r);
// The string itself when printable, else hex.
std::string BytesToAsciiOrHex(std::string_view s);
// --format: auto|ascii-encoded|hex|bytes|redacted; throws
// "formatBytes: unsupported format: X".
std::string FormatBytes(std::string_view b, const std::string& format);
// --parse-format: ascii-encoded|hex; throws on bad input.
std::string ParseBytes(const std::string& s, const std::string& format);
// SHA-256 digest (32 raw bytes).
std::string Sha256(std::string_view data);
// Strict UTF-8 validation (no surrogates, no overlongs, max U+10FFFF).
bool ValidUtf8(std::string_view s);
std::string Base64Encode(std::string_view s);
bool Base64Decode(std::string_view s, std::string* out);
// A JSON string literal for valid UTF-8 text.
std::string JsonString(std::string_view s);
// A JSON string when s is valid UTF-8, else {"base64":"..."}.
std::string JsonBytes(std::string_view s);
// Go's time.Duration.String(), e.g. "1.497µs", "1.000017737s", "1m2s".
std::string GoDuration(int64_t ns);
// Parses "1s", "500ms", "1m30s", or a bare number of seconds ("2", "0.5").
bool ParseGoDuration(const std::string& s, int64_t* ns);
// strconv.ParseUint(s, 10, 64) with Go's error text.
uint64_t ParsePageId(const std::string& s);
// The page ids in args after the first (the file), skipping empty ones as
// bbolt does; throws on an id that does not parse.
std::vector<uint64_t> ParsePageIdArgs(const std::vector<std::string>& args);

// ---- database access ----
// stat(path): throws `source database file "<path>" doesn't exist`.
struct FileInfo {
  uint64_t size = 0;
  uint32_t mode = 0;  // permission bits
};
FileInfo CheckSourceDBPath(const std::string& path);
// The message boltpp prints for an engine status (bbolt's words for bbolt's
// errors; a locked file gets a retry hint).
std::string StatusMessage(const Status& s);
[[noreturn]] void ThrowStatus(const Status& s);
inline void Check(const Status& s) {
  if (!s.ok()) ThrowStatus(s);
}

struct OpenOptions {
  bool read_only = true;
  bool no_sync = false;
  uint32_t file_mode = 0600;
  uint32_t page_size = 0;
  size_t initial_mmap_size = 0;
  bool wal = false;  // Options::wal
};
// Opens a database, turning failures into CliError.
std::unique_ptr<DB> OpenDB(const std::string& path, const Invocation& inv, const OpenOptions& o);
// For commands that read the database named by the first argument:
// CheckSourceDBPath, then OpenDB read-only.
std::unique_ptr<DB> OpenSourceDB(const Invocation& inv);
// For commands that modify a file: refuses a file without write permission.
void RequireWritable(const std::string& path);
// For commands that modify a file: RequireWritable, then OpenDB read-write,
// honouring the command's --no-sync flag.
std::unique_ptr<DB> OpenForWrite(const std::string& path, const Invocation& inv);
// The bucket at the end of names (top-level first); throws "bucket not found".
Bucket FindLastBucket(const Tx& tx, const std::vector<std::string>& names);
// The bucket at the end of names in a write transaction (the top level when
// names is empty). A missing bucket is created when create_missing, else
// throws "bucket not found" with hint.
Bucket OpenBucketPath(Tx& tx, const std::vector<std::string>& names, bool create_missing,
                      const std::string& hint);
// Throws bbolt's "Error key not found for key: <quoted> hex: <hex>".
[[noreturn]] void ThrowKeyNotFound(std::string_view key);

// ---- progress on stderr (only when stderr is a terminal) ----
class Progress {
 public:
  // total == 0: unknown total (a counter and a spinner).
  Progress(std::string label, uint64_t total, bool bytes);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void Set(uint64_t done);
  void Add(uint64_t n);
  // Called by the drawing thread to get the current value (instead of Set).
  void Poll(std::function<uint64_t()> fn);
  void Finish();
  static bool Enabled();

 private:
  struct State;
  std::unique_ptr<State> st_;
};

// Run fn in a read-only / read-write transaction. Exceptions thrown by fn
// (CliError) are carried across the engine, which only sees a failed
// callback, and rethrown here; an engine error is thrown as CliError.
void ViewOrThrow(DB& db, const std::function<void(Tx&)>& fn);
void UpdateOrThrow(DB& db, const std::function<void(Tx&)>& fn);
// For commands that edit the database named by the first argument:
// OpenForWrite, fn in one write transaction, then Close (a failure thrown).
void UpdateDatabase(const Invocation& inv, const std::function<void(Tx&)>& fn);
// Bucket::ForEach / Tx::ForEach with the same exception carrying.
void ForEachOrThrow(const Bucket& b, const std::function<void(const Entry&)>& fn);
void ForEachBucketOrThrow(const Tx& tx, const std::function<void(Bytes name, Bucket b)>& fn);

// Command lookup for help.
const Command& RootCommand();
std::string CommandPath(const Command& c);
void PrintHelp(const Command& c, bool to_stdout);

}  // namespace boltpp::cli
