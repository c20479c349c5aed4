// File: tools/cli/main.cc
// boltpp: a command-line tool for bbolt database files, compatible with the
// newest bbolt CLI. Dispatches to the commands in command_<verb>.cc with
// cobra's rules (subcommand lookup, flag parsing, argument-count checks,
// required flags, help) and prints errors as "Error: <message>", exit 1.
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iterator>

#include "cli.h"

namespace boltpp::cli {

namespace {

FlagDef TimeoutFlag() {
  FlagDef f =
      DurationFlag("timeout", "",
                   "how long to wait for another process's lock on the database file, e.g. 5s "
                   "(default: fail at once; 0 waits forever)");
  f.persistent = true;
  return f;
}

Command HelpCommand() {
  Command c = GroupCommand("help", "Help about any command", {});
  c.use = "help [command]";
  c.long_desc =
      "Help provides help for any command in the application.\n"
      "Simply type boltpp help [path to command] for full details.";
  return c;  // handled in Main
}

Command BuildRoot() {
  Command root;
  root.name = kProgramName;
  root.use = kProgramName;
  root.short_desc = "A simple command line tool for inspecting bbolt databases";
  root.long_desc =
      "boltpp: a command line tool for bbolt database files (boltpp is a C++\n"
      "reimplementation of go.etcd.io/bbolt with the same file format).\n"
      "The bbolt commands print what bbolt 1.5 prints; put, delete, create-bucket,\n"
      "delete-bucket, export, import and shrink are boltpp's own.";
  root.flags.push_back(BoolFlag("version", "version for boltpp", 'v'));
  root.children = {
      BenchCommand(),        BucketsCommand(), CheckCommand(),        CompactCommand(),
      CreateBucketCommand(), DeleteCommand(),  DeleteBucketCommand(), DumpCommand(),
      ExportCommand(),       GetCommand(),     HelpCommand(),         ImportCommand(),
      InfoCommand(),         InspectCommand(), KeysCommand(),         PageCommand(),
      PageItemCommand(),     PagesCommand(),   PutCommand(),          ShrinkCommand(),
      StatsCommand(),        SurgeryCommand(), VersionCommand(),
  };
  return root;
}

struct Resolved {
  const Command* cmd = nullptr;
  std::vector<const Command*> chain;  // root .. cmd
  std::vector<std::string> rest;      // args without the command names
};

const Command* FindChild(const Command& c, const std::string& name) {
  for (auto& ch : c.children) {
    if (ch.name == name) return &ch;
  }
  return nullptr;
}

bool TakesValue(const std::string& flag_arg) {
  // Only the global --timeout flag can appear before the command name and
  // take a separate value.
  return flag_arg == "--timeout";
}

Resolved Resolve(const Command& root, const std::vector<std::string>& args) {
  Resolved r;
  r.cmd = &root;
  r.chain.push_back(&root);
  bool matching = true;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& s = args[i];
    if (s == "--") {
      matching = false;
      r.rest.insert(r.rest.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    if (s.size() > 1 && s[0] == '-') {
      r.rest.push_back(s);
      if (TakesValue(s) && i + 1 < args.size()) r.rest.push_back(args[++i]);
      continue;
    }
    if (matching && !r.cmd->children.empty()) {
      if (const Command* ch = FindChild(*r.cmd, s)) {
        r.cmd = ch;
        r.chain.push_back(ch);
        continue;
      }
    }
    matching = false;
    r.rest.push_back(s);
  }
  return r;
}

int Levenshtein(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Suggestions(const Command& c, const std::string& typed) {
  std::string s;
  for (auto& ch : c.children) {
    if (Levenshtein(typed, ch.name) <= 2 || ch.name.rfind(typed, 0) == 0)
      s += "\t" + ch.name + "\n";
  }
  if (s.empty()) return "";
  return "\n\nDid you mean this?\n" + s;
}

std::string PathOf(const std::vector<const Command*>& chain) {
  std::string p;
  for (auto* c : chain) {
    if (!p.empty()) p += " ";
    p += c->name;
  }
  return p;
}

std::vector<const Command*> ChainTo(const Command& target) {
  // Depth-first search from the root for target's chain.
  std::vector<const Command*> chain;
  std::function<bool(const Command&)> dfs = [&](const Command& c) {
    chain.push_back(&c);
    if (&c == &target) return true;
    for (auto& ch : c.children) {
      if (dfs(ch)) return true;
    }
    chain.pop_back();
    return false;
  };
  dfs(RootCommand());
  return chain;
}

// pflag's type names in usage lines, in FlagType's order ("" for bool).
constexpr const char* kFlagTypeNames[] = {"",       "string", "int",     "int",     "uint",
                                          "uint32", "float",  "strings", "duration"};
static_assert(std::size(kFlagTypeNames) == static_cast<size_t>(FlagType::kDuration) + 1);

std::string TypeName(FlagType t) { return kFlagTypeNames[static_cast<size_t>(t)]; }

std::string FlagUsages(const std::vector<FlagDef>& defs) {
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (auto& f : defs) {
    std::string left =
        f.shorthand ? std::string("  -") + f.shorthand + ", --" + f.name : "      --" + f.name;
    std::string t = TypeName(f.type);
    if (!t.empty()) left += " " + t;
    std::string right = f.usage;
    bool zero = f.def.empty() || f.def == "0" || f.def == "false" || f.def == "0s";
    if (!zero)
      right +=
          f.type == FlagType::kString ? " (default \"" + f.def + "\")" : " (default " + f.def + ")";
    width = std::max(width, left.size());
    rows.emplace_back(left, right);
  }
  std::string out;
  for (auto& [l, r] : rows) out += l + std::string(width - l.size() + 3, ' ') + r + "\n";
  return out;
}

}  // namespace

Command LeafCommand(std::string use, std::string short_desc, ArgsSpec args,
                    std::function<int(Invocation&)> run, std::vector<FlagDef> flags,
                    std::string example) {
  Command c;
  c.name = use.substr(0, use.find(' '));
  c.use = std::move(use);
  c.short_desc = std::move(short_desc);
  c.args = args;
  c.flags = std::move(flags);
  c.run = std::move(run);
  c.example = std::move(example);
  return c;
}

Command GroupCommand(std::string name, std::string short_desc, std::vector<Command> children) {
  Command c;
  c.use = name + " <subcommand>";
  c.name = std::move(name);
  c.short_desc = std::move(short_desc);
  c.children = std::move(children);
  return c;
}

const Command& RootCommand() {
  static const Command root = BuildRoot();
  return root;
}

std::string CommandPath(const Command& c) { return PathOf(ChainTo(c)); }

namespace {

// cobra's "Available Commands:" block: names padded to one column.
std::string AvailableCommands(const Command& c) {
  size_t width = 0;
  for (auto& ch : c.children) width = std::max(width, ch.name.size());
  std::string s = "\nAvailable Commands:\n";
  for (auto& ch : c.children) {
    s += "  " + ch.name + std::string(width - ch.name.size() + 3, ' ') + ch.short_desc + "\n";
  }
  return s;
}

// The command's flags with --help (and, on the root, --timeout), by name.
std::vector<FlagDef> HelpFlags(const Command& c, bool is_root) {
  std::vector<FlagDef> flags = c.flags;
  flags.push_back(
      BoolFlag("help", "help for " + (is_root ? std::string(kProgramName) : c.name), 'h'));
  if (is_root) flags.push_back(TimeoutFlag());
  std::sort(flags.begin(), flags.end(),
            [](const FlagDef& a, const FlagDef& b) { return a.name < b.name; });
  return flags;
}

// cobra's help text for c, whose chain from the root is chain.
std::string HelpText(const Command& c, const std::vector<const Command*>& chain) {
  const bool is_root = chain.size() == 1;
  std::string parent;
  for (size_t i = 0; i + 1 < chain.size(); ++i) parent += chain[i]->name + " ";
  std::string s;
  std::string desc = c.long_desc.empty() ? c.short_desc : c.long_desc;
  if (!desc.empty()) s += desc + "\n\n";
  s += "Usage:\n";
  if (c.run) s += "  " + parent + c.use + (c.flags.empty() && is_root ? "" : " [flags]") + "\n";
  if (!c.children.empty()) s += "  " + PathOf(chain) + " [command]\n";
  if (!c.example.empty()) s += "\nExamples:\n" + c.example + "\n";
  if (!c.children.empty()) s += AvailableCommands(c);
  s += "\nFlags:\n" + FlagUsages(HelpFlags(c, is_root));
  if (!is_root) s += "\nGlobal Flags:\n" + FlagUsages({TimeoutFlag()});
  if (!c.children.empty()) {
    s += "\nUse \"" + PathOf(chain) + " [command] --help\" for more information about a command.\n";
  }
  return s;
}

}  // namespace

void PrintHelp(const Command& c, bool to_stdout) {
  const std::string text = HelpText(c, ChainTo(c));
  if (to_stdout) {
    Out(text);
  } else {
    Err(text);
  }
}

namespace {

int Fail(const std::string& msg, const std::string& hint) {
  std::string s = "Error: " + msg + "\n";
  if (!hint.empty()) s += hint + "\n";
  Err(s);
  return 1;
}

std::string UsageHint(const std::vector<const Command*>& chain) {
  return "Run '" + PathOf(chain) + " --help' for usage.";
}

// `boltpp help [command...]`: the help of the command named.
int RunHelp(const Resolved& r) {
  std::vector<std::string> topic;
  for (auto& a : r.rest) {
    if (!a.empty() && a[0] != '-') topic.push_back(a);
  }
  Resolved t = Resolve(RootCommand(), topic);
  if (!t.rest.empty()) {
    Out("Unknown help topic [`" + t.rest[0] + "`]\n");
    PrintHelp(RootCommand(), true);
    return 0;
  }
  PrintHelp(*t.cmd, true);
  return 0;
}

// Runs step; a CliError it throws gets the hint that points at r's help.
template <typename F>
void WithUsageHint(const Resolved& r, F&& step) {
  try {
    step();
  } catch (const CliError& e) {
    throw CliError(e.what(), UsageHint(r.chain));
  }
}

// The command's own flags, --help and the global --timeout.
FlagSet CommandFlags(const Command& cmd) {
  FlagSet fs;
  for (auto& f : cmd.flags) fs.Add(f);
  fs.Add(BoolFlag("help", "help for " + cmd.name, 'h'));
  fs.Add(TimeoutFlag());
  return fs;
}

// A group without a (known) subcommand prints its help, as cobra does; the
// root also answers --version and refuses an unknown command.
int RunGroup(const Invocation& inv) {
  const Command& root = RootCommand();
  if (inv.cmd == &root && inv.flags.Bool("version")) {
    Out(std::string(kProgramName) + " version " + BOLTPP_VERSION_STRING + "\n");
    return 0;
  }
  if (inv.cmd == &root && !inv.args.empty()) {
    throw CliError("unknown command " + GoQuote(inv.args[0]) + " for " + GoQuote(kProgramName) +
                       Suggestions(root, inv.args[0]),
                   "Run '" + std::string(kProgramName) + " --help' for usage.");
  }
  PrintHelp(*inv.cmd, true);
  return 0;
}

// Buffered output that cannot be written is an error, except on a closed
// pipe (the reader has gone).
void FlushStdout() {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    if (errno != EPIPE) throw CliError(std::string("write stdout: ") + std::strerror(errno));
  }
}

// Resolves the command, parses its flags and checks its arguments with
// cobra's rules, and runs it. Failures are thrown.
int Dispatch(const std::vector<std::string>& args) {
  Resolved r = Resolve(RootCommand(), args);
  if (r.cmd->name == "help" && r.chain.size() == 2) return RunHelp(r);
  Invocation inv;
  inv.cmd = r.cmd;
  inv.flags = CommandFlags(*r.cmd);
  WithUsageHint(r, [&] { inv.flags.Parse(r.rest, &inv.args); });
  if (inv.flags.Bool("help")) {
    PrintHelp(*r.cmd, true);
    return 0;
  }
  if (!r.cmd->run) return RunGroup(inv);
  WithUsageHint(r, [&] {
    r.cmd->args.Check(inv.args.size());
    inv.flags.CheckRequired();
  });
  int rc = r.cmd->run(inv);
  FlushStdout();
  return rc;
}

// The one place where a failure becomes "Error: <message>" (and its hint)
// on stderr and exit status 1.
int Main(int argc, char** argv) {
  try {
    return Dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const CliError& e) {
    std::fflush(stdout);
    return Fail(e.what(), e.hint());
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    return Fail("out of memory", "");
  } catch (const std::exception& e) {
    std::fflush(stdout);
    return Fail(std::string("internal error: ") + e.what(), "");
  }
}

}  // namespace

}  // namespace boltpp::cli

int main(int argc, char** argv) {
  static char buf[1 << 16];
  std::setvbuf(stdout, buf, _IOFBF, sizeof(buf));
  return boltpp::cli::Main(argc, argv);
}
