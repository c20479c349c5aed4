// File: tools/cli/flags.h
// A small command-line flag parser with the rules and error messages of
// spf13/pflag (which bbolt's cobra CLI uses): --name=value, --name value,
// -n value, -nvalue, -abc for booleans, "--" ends the flags, flags may come
// after positional arguments.
//
// Errors are thrown as CliError (cli.h) carrying pflag's or strconv's exact
// message; main.cc turns them into "Error: ..." and exit status 1.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace boltpp::cli {

enum class FlagType {
  kBool,
  kString,
  kInt,
  kInt64,
  kUint64,
  kUint32,
  kFloat64,
  kStringSlice,
  kDuration
};

struct FlagDef {
  std::string name;
  char shorthand = 0;
  FlagType type = FlagType::kString;
  std::string def;  // default value, as text ("" for an empty string)
  std::string usage;
  bool required = false;
  bool persistent = false;  // inherited by subcommands (global flags)
};

FlagDef BoolFlag(std::string name, std::string usage, char shorthand = 0);
FlagDef StringFlag(std::string name, std::string def, std::string usage, char shorthand = 0);
FlagDef IntFlag(std::string name, std::string def, std::string usage);
FlagDef Int64Flag(std::string name, std::string def, std::string usage);
FlagDef Uint64Flag(std::string name, std::string def, std::string usage);
FlagDef Uint32Flag(std::string name, std::string def, std::string usage);
FlagDef Float64Flag(std::string name, std::string def, std::string usage);
FlagDef StringSliceFlag(std::string name, std::string usage);
FlagDef DurationFlag(std::string name, std::string def, std::string usage);
FlagDef Required(FlagDef f);

class FlagSet {
 public:
  void Add(const FlagDef& def);
  const std::vector<FlagDef>& defs() const { return defs_; }
  const FlagDef* Find(const std::string& name) const;
  const FlagDef* FindShort(char c) const;

  // Parses args; positional arguments go to *positional. Throws CliError
  // with pflag's message ("unknown flag: --foo", ...).
  void Parse(const std::vector<std::string>& args, std::vector<std::string>* positional);
  // Throws CliError with cobra's `required flag(s) "a", "b" not set`.
  void CheckRequired() const;

  bool Changed(const std::string& name) const { return changed_.count(name) > 0; }
  const std::string& Str(const std::string& name) const;
  bool Bool(const std::string& name) const;
  int64_t Int(const std::string& name) const;
  uint64_t Uint(const std::string& name) const;
  double Float(const std::string& name) const;
  std::vector<std::string> Slice(const std::string& name) const;
  int64_t DurationNs(const std::string& name) const;

 private:
  // Stores value for f; throws pflag's "invalid argument ..." message.
  void Set(const FlagDef& f, const std::string& value);
  // Parses "--name[=value]" (in[*next] is the value when needed).
  void ParseLong(const std::string& arg, const std::vector<std::string>& in, size_t* next);
  // Parses "-abc", "-ovalue", "-o value" and "-o=value".
  void ParseShorts(const std::string& arg, const std::vector<std::string>& in, size_t* next);

  std::vector<FlagDef> defs_;
  std::map<std::string, std::string> values_;  // name -> text value
  std::map<std::string, std::vector<std::string>> slices_;
  std::map<std::string, bool> changed_;
};

// Go strconv parsing (base 0: 0x, 0o, 0b, leading 0 = octal, "_" between
// digits). Each throws CliError with strconv's text, e.g.
// `strconv.ParseUint: parsing "-1": invalid syntax`.
int64_t GoParseInt(const std::string& s, int bits);
uint64_t GoParseUint(const std::string& s, int base, int bits);
double GoParseFloat(const std::string& s);
bool GoParseBool(const std::string& s);

}  // namespace boltpp::cli
