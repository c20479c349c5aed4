// File: tools/cli/flags.cc
#include "flags.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

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

std::string NumError(const char* fn, const std::string& s, bool range) {
  return std::string("strconv.") + fn + ": parsing " + GoQuote(s) + ": " +
         (range ? "value out of range" : "invalid syntax");
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

std::string GoParseUint(const std::string& s0, int base, int bits, uint64_t* out) {
  const char* fn = "ParseUint";
  std::string s = s0;
  if (s.empty()) return NumError(fn, s0, false);
  bool base0 = base == 0;
  size_t i = 0;
  if (base == 0) {
    base = 10;
    if (s[0] == '0') {
      if (s.size() >= 3 && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
      } else if (s.size() >= 3 && (s[1] == 'o' || s[1] == 'O')) {
        base = 8;
        i = 2;
      } else if (s.size() >= 3 && (s[1] == 'b' || s[1] == 'B')) {
        base = 2;
        i = 2;
      } else {
        base = 8;
        i = 1;
      }
    }
  }
  uint64_t max = bits >= 64 ? std::numeric_limits<uint64_t>::max() : ((uint64_t{1} << bits) - 1);
  uint64_t n = 0;
  bool range = false;
  bool any = i > 0 && base == 8 && i == 1;  // a lone "0"
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_' && base0) continue;
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'z') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'Z') {
      d = c - 'A' + 10;
    } else {
      return NumError(fn, s0, false);
    }
    if (d >= base) return NumError(fn, s0, false);
    any = true;
    if (!range) {
      if (n > (max - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
        range = true;
      } else {
        n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
      }
    }
  }
  if (!any) return NumError(fn, s0, false);
  if (range) return NumError(fn, s0, true);
  *out = n;
  return "";
}

std::string GoParseInt(const std::string& s0, int bits, int64_t* out) {
  if (s0.empty()) return NumError("ParseInt", s0, false);
  std::string s = s0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s = s.substr(1);
  }
  uint64_t u = 0;
  std::string err = GoParseUint(s, 0, 64, &u);
  if (!err.empty()) {
    bool range = err.find("out of range") != std::string::npos;
    return NumError("ParseInt", s0, range);
  }
  uint64_t cutoff = uint64_t{1} << (bits - 1);
  if (!neg && u >= cutoff) return NumError("ParseInt", s0, true);
  if (neg && u > cutoff) return NumError("ParseInt", s0, true);
  *out = neg ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u);
  return "";
}

std::string GoParseFloat(const std::string& s, double* out) {
  if (s.empty()) return NumError("ParseFloat", s, false);
  std::string t;
  for (char c : s) {
    if (c != '_') t += c;
  }
  const char* p = t.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(p, &end);
  if (end == p || *end != '\0') {
    // Go accepts "inf", "infinity", "nan" too; strtod does as well.
    return NumError("ParseFloat", s, false);
  }
  if (errno == ERANGE && std::isinf(v)) return NumError("ParseFloat", s, true);
  *out = v;
  return "";
}

std::string GoParseBool(const std::string& s, bool* out) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") {
    *out = true;
    return "";
  }
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    *out = false;
    return "";
  }
  return NumError("ParseBool", s, false);
}

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

std::string FlagSet::Set(const FlagDef& f, const std::string& value,
                         const std::string& shown_name) {
  (void)shown_name;
  std::string err;
  switch (f.type) {
    case FlagType::kBool: {
      bool b;
      err = GoParseBool(value, &b);
      if (err.empty()) values_[f.name] = b ? "true" : "false";
      break;
    }
    case FlagType::kString:
      values_[f.name] = value;
      break;
    case FlagType::kInt:
    case FlagType::kInt64: {
      int64_t v;
      err = GoParseInt(value, 64, &v);
      if (err.empty()) values_[f.name] = std::to_string(v);
      break;
    }
    case FlagType::kUint64:
    case FlagType::kUint32: {
      uint64_t v;
      err = GoParseUint(value, 0, f.type == FlagType::kUint32 ? 32 : 64, &v);
      if (err.empty()) values_[f.name] = std::to_string(v);
      break;
    }
    case FlagType::kFloat64: {
      double v;
      err = GoParseFloat(value, &v);
      if (err.empty()) values_[f.name] = value;
      break;
    }
    case FlagType::kStringSlice: {
      auto parts = ReadAsCsv(value);
      auto& cur = slices_[f.name];
      if (!Changed(f.name)) cur.clear();
      cur.insert(cur.end(), parts.begin(), parts.end());
      break;
    }
    case FlagType::kDuration: {
      int64_t ns;
      if (!ParseGoDuration(value, &ns)) {
        err = "time: invalid duration " + GoQuote(value);
      } else {
        values_[f.name] = std::to_string(ns);
      }
      break;
    }
  }
  if (!err.empty()) {
    std::string flag_name =
        f.shorthand ? std::string("-") + f.shorthand + ", --" + f.name : "--" + f.name;
    return "invalid argument " + GoQuote(value) + " for " + GoQuote(flag_name) + " flag: " + err;
  }
  changed_[f.name] = true;
  return "";
}

std::string FlagSet::Parse(const std::vector<std::string>& in,
                           std::vector<std::string>* positional) {
  size_t i = 0;
  while (i < in.size()) {
    const std::string& s = in[i++];
    if (s.size() < 2 || s[0] != '-') {
      positional->push_back(s);
      continue;
    }
    if (s[1] == '-') {
      if (s.size() == 2) {  // "--" ends the flags
        for (; i < in.size(); ++i) positional->push_back(in[i]);
        break;
      }
      std::string name = s.substr(2);
      if (name[0] == '-' || name[0] == '=') return "bad flag syntax: " + s;
      std::string value;
      bool has_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      const FlagDef* f = Find(name);
      if (!f) return "unknown flag: --" + name;
      if (!has_value) {
        if (f->type == FlagType::kBool) {
          value = "true";
        } else if (i < in.size()) {
          value = in[i++];
        } else {
          return "flag needs an argument: " + s;
        }
      }
      if (auto err = Set(*f, value, "--" + name); !err.empty()) return err;
      continue;
    }
    // Shorthand flags: -abc, -ovalue, -o value, -o=value.
    std::string shorts = s.substr(1);
    while (!shorts.empty()) {
      char c = shorts[0];
      const FlagDef* f = FindShort(c);
      if (!f) {
        return std::string("unknown shorthand flag: '") + c + "' in -" + shorts;
      }
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
      } else if (i < in.size()) {
        value = in[i++];
      } else {
        return std::string("flag needs an argument: '") + c + "' in -" + shorts;
      }
      if (auto err = Set(*f, value, std::string("-") + c); !err.empty()) return err;
      shorts = rest;
    }
  }
  return "";
}

std::string FlagSet::MissingRequired() const {
  std::vector<std::string> missing;
  for (auto& d : defs_) {
    if (d.required && !Changed(d.name)) missing.push_back(d.name);
  }
  if (missing.empty()) return "";
  std::sort(missing.begin(), missing.end());
  std::string s = "required flag(s) \"";
  for (size_t i = 0; i < missing.size(); ++i) {
    if (i) s += "\", \"";
    s += missing[i];
  }
  return s + "\" not set";
}

const std::string& FlagSet::Str(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  if (const FlagDef* f = Find(name)) return f->def;
  static const std::string empty;
  return empty;
}

bool FlagSet::Bool(const std::string& name) const { return Str(name) == "true"; }

int64_t FlagSet::Int(const std::string& name) const {
  int64_t v = 0;
  if (!GoParseInt(Str(name), 64, &v).empty()) return 0;
  return v;
}

uint64_t FlagSet::Uint(const std::string& name) const {
  uint64_t v = 0;
  if (!GoParseUint(Str(name), 0, 64, &v).empty()) return 0;
  return v;
}

double FlagSet::Float(const std::string& name) const {
  double v = 0;
  if (!GoParseFloat(Str(name), &v).empty()) return 0;
  return v;
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
