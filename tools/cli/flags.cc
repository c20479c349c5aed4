// File: tools/cli/flags.cc
#include "flags.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "cli.h"

namespace boltpp::cli {

namespace {

FlagDef Make(std::string name, char shorthand, FlagType type, std::string def, std::string usage) {
  FlagDef f;
  f.name = std::move(name);
  f.shorthand = shorthand;
  f.type = type;
  f.def = std::move(def);
  f.usage = std::move(usage);
  return f;
}

// Why a strconv parse failed: Go's ErrSyntax or ErrRange.
enum class NumFailure { kNone, kSyntax, kRange };

[[noreturn]] void ThrowNumError(const char* fn, const std::string& s, NumFailure failure) {
  throw CliError(std::string("strconv.") + fn + ": parsing " + GoQuote(s) + ": " +
                 (failure == NumFailure::kRange ? "value out of range" : "invalid syntax"));
}

// For base 0: the base Go's prefix selects ("0x", "0o", "0b", a leading
// "0" for octal, else 10) and how many characters the prefix takes.
size_t TakeBasePrefix(const std::string& s, int* base) {
  *base = 10;
  if (s[0] != '0') return 0;
  if (s.size() >= 3) {
    switch (s[1]) {
      case 'x':
      case 'X':
        *base = 16;
        return 2;
      case 'o':
      case 'O':
        *base = 8;
        return 2;
      case 'b':
      case 'B':
        *base = 2;
        return 2;
    }
  }
  *base = 8;
  return 1;
}

// The value of a digit in bases up to 36; 36 for a character that is none.
int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 36;
}

struct ParsedUint {
  uint64_t value = 0;
  NumFailure failure = NumFailure::kNone;
};

// strconv.ParseUint's rules without its message: a bad digit anywhere is a
// syntax error, even after the value overflowed.
ParsedUint ParseUnsigned(const std::string& s, int base, int bits) {
  if (s.empty()) return {0, NumFailure::kSyntax};
  const bool underscores = base == 0;
  size_t i = base == 0 ? TakeBasePrefix(s, &base) : 0;
  const uint64_t max =
      bits >= 64 ? std::numeric_limits<uint64_t>::max() : ((uint64_t{1} << bits) - 1);
  const auto ubase = static_cast<uint64_t>(base);
  ParsedUint r;
  bool any = i == 1 && base == 8;  // a lone "0"
  for (; i < s.size(); ++i) {
    if (s[i] == '_' && underscores) continue;
    const int d = DigitValue(s[i]);
    if (d >= base) return {0, NumFailure::kSyntax};
    any = true;
    const auto ud = static_cast<uint64_t>(d);
    if (r.failure == NumFailure::kNone && r.value > (max - ud) / ubase) {
      r.failure = NumFailure::kRange;
    } else if (r.failure == NumFailure::kNone) {
      r.value = r.value * ubase + ud;
    }
  }
  if (!any) return {0, NumFailure::kSyntax};
  return r;
}

// Splits a --fields style value as Go's encoding/csv would for one record
// (quotes are honoured; good enough for flag values).
std::vector<std::string> ReadAsCsv(const std::string& v) {
  std::vector<std::string> out;
  if (v.empty()) return out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < v.size() && v[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"' && cur.empty()) {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

FlagDef BoolFlag(std::string name, std::string usage, char shorthand) {
  return Make(std::move(name), shorthand, FlagType::kBool, "false", std::move(usage));
}
FlagDef StringFlag(std::string name, std::string def, std::string usage, char shorthand) {
  return Make(std::move(name), shorthand, FlagType::kString, std::move(def), std::move(usage));
}
FlagDef IntFlag(std::string name, std::string def, std::string usage) {
  return Make(std::move(name), 0, FlagType::kInt, std::move(def), std::move(usage));
}
FlagDef Int64Flag(std::string name, std::string def, std::string usage) {
  return Make(std::move(name), 0, FlagType::kInt64, std::move(def), std::move(usage));
}
FlagDef Uint64Flag(std::string name, std::string def, std::string usage) {
  return Make(std::move(name), 0, FlagType::kUint64, std::move(def), std::move(usage));
}
FlagDef Uint32Flag(std::string name, std::string def, std::string usage) {
  return Make(std::move(name), 0, FlagType::kUint32, std::move(def), std::move(usage));
}
FlagDef Float64Flag(std::string name, std::string def, std::string usage) {
  return Make(std::move(name), 0, FlagType::kFloat64, std::move(def), std::move(usage));
}
FlagDef StringSliceFlag(std::string name, std::string usage) {
  return Make(std::move(name), 0, FlagType::kStringSlice, "", std::move(usage));
}
FlagDef DurationFlag(std::string name, std::string def, std::string usage) {
  return Make(std::move(name), 0, FlagType::kDuration, std::move(def), std::move(usage));
}
FlagDef Required(FlagDef f) {
  f.required = true;
  return f;
}

uint64_t GoParseUint(const std::string& s, int base, int bits) {
  const ParsedUint r = ParseUnsigned(s, base, bits);
  if (r.failure != NumFailure::kNone) ThrowNumError("ParseUint", s, r.failure);
  return r.value;
}

int64_t GoParseInt(const std::string& s, int bits) {
  if (s.empty()) ThrowNumError("ParseInt", s, NumFailure::kSyntax);
  const bool has_sign = s[0] == '+' || s[0] == '-';
  const bool neg = s[0] == '-';
  const ParsedUint u = ParseUnsigned(s.substr(has_sign ? 1 : 0), 0, 64);
  if (u.failure != NumFailure::kNone) ThrowNumError("ParseInt", s, u.failure);
  const uint64_t cutoff = uint64_t{1} << (bits - 1);
  if (neg ? u.value > cutoff : u.value >= cutoff) {
    ThrowNumError("ParseInt", s, NumFailure::kRange);
  }
  return neg ? static_cast<int64_t>(0 - u.value) : static_cast<int64_t>(u.value);
}

double GoParseFloat(const std::string& s) {
  if (s.empty()) ThrowNumError("ParseFloat", s, NumFailure::kSyntax);
  std::string digits;
  for (char c : s) {
    if (c != '_') digits += c;
  }
  const char* p = digits.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(p, &end);
  // Go accepts "inf", "infinity" and "nan" too; so does strtod.
  if (end == p || *end != '\0') ThrowNumError("ParseFloat", s, NumFailure::kSyntax);
  if (errno == ERANGE && std::isinf(v)) ThrowNumError("ParseFloat", s, NumFailure::kRange);
  return v;
}

bool GoParseBool(const std::string& s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False")
    return false;
  ThrowNumError("ParseBool", s, NumFailure::kSyntax);
}

namespace {

// The text stored for a value of a flag that is not a slice (numbers in
// canonical form); throws strconv's or time's message for a bad one.
std::string CanonicalValue(const FlagDef& f, const std::string& value) {
  switch (f.type) {
    case FlagType::kBool:
      return GoParseBool(value) ? "true" : "false";
    case FlagType::kInt:
    case FlagType::kInt64:
      return std::to_string(GoParseInt(value, 64));
    case FlagType::kUint64:
    case FlagType::kUint32:
      return std::to_string(GoParseUint(value, 0, f.type == FlagType::kUint32 ? 32 : 64));
    case FlagType::kFloat64:
      GoParseFloat(value);
      return value;
    case FlagType::kDuration: {
      int64_t ns = 0;
      if (!ParseGoDuration(value, &ns)) throw CliError("time: invalid duration " + GoQuote(value));
      return std::to_string(ns);
    }
    case FlagType::kString:
    case FlagType::kStringSlice:
      break;
  }
  return value;
}

// How pflag names a flag in its messages: "-f, --format" or "--format".
std::string ShownName(const FlagDef& f) {
  return f.shorthand ? std::string("-") + f.shorthand + ", --" + f.name : "--" + f.name;
}

}  // namespace

void FlagSet::Add(const FlagDef& def) {
  for (auto& d : defs_) {
    if (d.name == def.name) return;  // first definition wins (local before global)
  }
  defs_.push_back(def);
}

const FlagDef* FlagSet::Find(const std::string& name) const {
  for (auto& d : defs_) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const FlagDef* FlagSet::FindShort(char c) const {
  for (auto& d : defs_) {
    if (d.shorthand == c) return &d;
  }
  return nullptr;
}

void FlagSet::Set(const FlagDef& f, const std::string& value) {
  if (f.type == FlagType::kStringSlice) {
    auto parts = ReadAsCsv(value);
    auto& cur = slices_[f.name];
    if (!Changed(f.name)) cur.clear();  // the first use replaces the default
    cur.insert(cur.end(), parts.begin(), parts.end());
  } else {
    try {
      std::string canonical = CanonicalValue(f, value);
      values_[f.name] = std::move(canonical);
    } catch (const CliError& e) {
      throw CliError("invalid argument " + GoQuote(value) + " for " + GoQuote(ShownName(f)) +
                     " flag: " + e.what());
    }
  }
  changed_[f.name] = true;
}

void FlagSet::ParseLong(const std::string& arg, const std::vector<std::string>& in, size_t* next) {
  std::string name = arg.substr(2);
  if (name[0] == '-' || name[0] == '=') throw CliError("bad flag syntax: " + arg);
  std::optional<std::string> value;
  if (auto eq = name.find('='); eq != std::string::npos) {
    value = name.substr(eq + 1);
    name.resize(eq);
  }
  const FlagDef* f = Find(name);
  if (!f) throw CliError("unknown flag: --" + name);
  if (!value) {
    if (f->type == FlagType::kBool) {
      value = "true";
    } else if (*next < in.size()) {
      value = in[(*next)++];
    } else {
      throw CliError("flag needs an argument: " + arg);
    }
  }
  Set(*f, *value);
}

void FlagSet::ParseShorts(const std::string& arg, const std::vector<std::string>& in,
                          size_t* next) {
  std::string shorts = arg.substr(1);
  while (!shorts.empty()) {
    const char c = shorts[0];
    const FlagDef* f = FindShort(c);
    if (!f) throw CliError(std::string("unknown shorthand flag: '") + c + "' in -" + shorts);
    std::string value;
    std::string rest = shorts.substr(1);
    if (shorts.size() > 2 && shorts[1] == '=') {
      value = shorts.substr(2);
      rest.clear();
    } else if (f->type == FlagType::kBool) {
      value = "true";
    } else if (shorts.size() > 1) {
      value = shorts.substr(1);
      rest.clear();
    } else if (*next < in.size()) {
      value = in[(*next)++];
    } else {
      throw CliError(std::string("flag needs an argument: '") + c + "' in -" + shorts);
    }
    Set(*f, value);
    shorts = rest;
  }
}

void FlagSet::Parse(const std::vector<std::string>& in, std::vector<std::string>* positional) {
  size_t next = 0;
  while (next < in.size()) {
    const std::string& arg = in[next++];
    if (arg == "--") {  // ends the flags
      positional->insert(positional->end(), in.begin() + static_cast<long>(next), in.end());
      return;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional->push_back(arg);
    } else if (arg[1] == '-') {
      ParseLong(arg, in, &next);
    } else {
      ParseShorts(arg, in, &next);
    }
  }
}

void FlagSet::CheckRequired() const {
  std::vector<std::string> missing;
  for (auto& d : defs_) {
    if (d.required && !Changed(d.name)) missing.push_back(d.name);
  }
  if (missing.empty()) return;
  std::sort(missing.begin(), missing.end());
  std::string s = "required flag(s) \"";
  for (size_t i = 0; i < missing.size(); ++i) {
    if (i) s += "\", \"";
    s += missing[i];
  }
  throw CliError(s + "\" not set");
}

const std::string& FlagSet::Str(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  if (const FlagDef* f = Find(name)) return f->def;
  static const std::string empty;
  return empty;
}

bool FlagSet::Bool(const std::string& name) const { return Str(name) == "true"; }

// The getters parse values Set already checked, or a default: "" is 0.
int64_t FlagSet::Int(const std::string& name) const {
  const std::string& v = Str(name);
  return v.empty() ? 0 : GoParseInt(v, 64);
}

uint64_t FlagSet::Uint(const std::string& name) const {
  const std::string& v = Str(name);
  return v.empty() ? 0 : GoParseUint(v, 0, 64);
}

double FlagSet::Float(const std::string& name) const {
  const std::string& v = Str(name);
  return v.empty() ? 0 : GoParseFloat(v);
}

std::vector<std::string> FlagSet::Slice(const std::string& name) const {
  if (auto it = slices_.find(name); it != slices_.end()) return it->second;
  return {};
}

int64_t FlagSet::DurationNs(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return std::stoll(it->second);
  int64_t ns = 0;
  if (const FlagDef* f = Find(name)) ParseGoDuration(f->def, &ns);
  return ns;
}

}  // namespace boltpp::cli
