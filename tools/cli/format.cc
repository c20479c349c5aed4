// File: tools/cli/format.cc
// Byte formatting exactly as bbolt's Go CLI does it (%q, %x, unicode.IsPrint,
// time.Duration), plus JSON, base64 and SHA-256 helpers.
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <openssl/sha.h>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

namespace {

constexpr uint32_t kRuneError = 0xFFFD;

struct RuneRange {
  uint32_t lo, hi;
};
constexpr RuneRange kPrintRanges[] = {
#include "isprint_table.inc"
};

// utf8.DecodeRuneInString: (rune, width); invalid input gives (RuneError, 1).
std::pair<uint32_t, size_t> DecodeRune(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  if (s.empty()) return {kRuneError, 0};
  uint8_t b0 = b(0);
  if (b0 < 0x80) return {b0, 1};
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;
  uint32_t r;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    r = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    r = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    r = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {kRuneError, 1};
  }
  if (s.size() < n) return {kRuneError, 1};
  if (b(1) < lo || b(1) > hi) return {kRuneError, 1};
  r = (r << 6) | (b(1) & 0x3F);
  for (size_t i = 2; i < n; ++i) {
    if (b(i) < 0x80 || b(i) > 0xBF) return {kRuneError, 1};
    r = (r << 6) | (b(i) & 0x3F);
  }
  return {r, n};
}

void AppendRune(std::string* out, uint32_t r) {
  if (r < 0x80) {
    *out += static_cast<char>(r);
  } else if (r < 0x800) {
    *out += static_cast<char>(0xC0 | (r >> 6));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    *out += static_cast<char>(0xE0 | (r >> 12));
    *out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (r >> 18));
    *out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

const char kLowerHex[] = "0123456789abcdef";

void AppendHexN(std::string* out, uint32_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) *out += kLowerHex[(v >> (4 * i)) & 0xF];
}

}  // namespace

bool IsPrintRune(uint32_t r) {
  size_t lo = 0, hi = sizeof(kPrintRanges) / sizeof(kPrintRanges[0]);
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (r < kPrintRanges[mid].lo) {
      hi = mid;
    } else if (r > kPrintRanges[mid].hi) {
      lo = mid + 1;
    } else {
      return true;
    }
  }
  return false;
}

// The two-character escapes Go's strconv.Quote and encoding/json share:
// \" \\ \n \r \t \b \f. Appends one and returns true for those runes.
static bool AppendShortEscape(uint32_t r, std::string* out) {
  switch (r) {
    case '"':
      *out += "\\\"";
      return true;
    case '\\':
      *out += "\\\\";
      return true;
    case '\n':
      *out += "\\n";
      return true;
    case '\r':
      *out += "\\r";
      return true;
    case '\t':
      *out += "\\t";
      return true;
    case '\b':
      *out += "\\b";
      return true;
    case '\f':
      *out += "\\f";
      return true;
    default:
      return false;
  }
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  while (!s.empty()) {
    uint32_t r = static_cast<uint8_t>(s[0]);
    size_t width = 1;
    if (r >= 0x80) std::tie(r, width) = DecodeRune(s);
    if (width == 1 && r == kRuneError) {
      out += "\\x";
      AppendHexN(&out, static_cast<uint8_t>(s[0]), 2);
      s.remove_prefix(1);
      continue;
    }
    s.remove_prefix(width);
    if (AppendShortEscape(r, &out)) continue;
    if (IsPrintRune(r)) {
      AppendRune(&out, r);
      continue;
    }
    switch (r) {
      case '\a':
        out += "\\a";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (r < ' ' || r == 0x7F) {
          out += "\\x";
          AppendHexN(&out, r, 2);
        } else if (r < 0x10000) {
          out += "\\u";
          AppendHexN(&out, r, 4);
        } else {
          out += "\\U";
          AppendHexN(&out, r, 8);
        }
    }
  }
  out += '"';
  return out;
}

std::string Hex(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out += kLowerHex[c >> 4];
    out += kLowerHex[c & 0xF];
  }
  return out;
}

bool ValidUtf8(std::string_view s) {
  while (!s.empty()) {
    if (static_cast<uint8_t>(s[0]) < 0x80) {
      s.remove_prefix(1);
      continue;
    }
    auto [r, w] = DecodeRune(s);
    if (w == 1 && r == kRuneError) return false;
    s.remove_prefix(w);
  }
  return true;
}

bool IsPrintable(std::string_view s) {
  while (!s.empty()) {
    uint32_t r = static_cast<uint8_t>(s[0]);
    size_t w = 1;
    if (r >= 0x80) std::tie(r, w) = DecodeRune(s);
    if (w == 1 && r == kRuneError) return false;  // not valid UTF-8
    if (!IsPrintRune(r)) return false;
    s.remove_prefix(w);
  }
  return true;
}

std::string BytesToAsciiOrHex(std::string_view s) {
  if (IsPrintable(s)) return std::string(s);
  return Hex(s);
}

std::string FormatBytes(std::string_view b, const std::string& format) {
  if (format == "ascii-encoded") return GoQuote(b);
  if (format == "hex") return Hex(b);
  if (format == "bytes") return std::string(b);
  if (format == "auto") return BytesToAsciiOrHex(b);
  if (format == "redacted") {
    return "<redacted len:" + std::to_string(b.size()) + " sha256:" + Hex(Sha256(b)) + ">";
  }
  throw CliError("formatBytes: unsupported format: " + format);
}

namespace {

int HexVal(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's hex.InvalidByteError text: "encoding/hex: invalid byte: %#U".
std::string InvalidHexByte(unsigned char c) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "U+%04X", c);
  std::string s = std::string("encoding/hex: invalid byte: ") + buf;
  if (IsPrintRune(c)) {
    s += " '";
    AppendRune(&s, c);
    s += "'";
  }
  return s;
}

}  // namespace

std::string ParseBytes(const std::string& s, const std::string& format) {
  if (format == "ascii-encoded") return s;
  if (format == "hex") {
    std::string out;
    size_t j = 1;
    for (; j < s.size(); j += 2) {
      int a = HexVal(static_cast<unsigned char>(s[j - 1]));
      int b = HexVal(static_cast<unsigned char>(s[j]));
      if (a < 0) throw CliError(InvalidHexByte(static_cast<unsigned char>(s[j - 1])));
      if (b < 0) throw CliError(InvalidHexByte(static_cast<unsigned char>(s[j])));
      out += static_cast<char>((a << 4) | b);
    }
    if (s.size() % 2 == 1) {
      if (HexVal(static_cast<unsigned char>(s[j - 1])) < 0) {
        throw CliError(InvalidHexByte(static_cast<unsigned char>(s[j - 1])));
      }
      throw CliError("encoding/hex: odd length hex string");
    }
    return out;
  }
  throw CliError("parseBytes: unsupported format: " + format);
}

// ---- SHA-256 (OpenSSL) ----
std::string Sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

// ---- base64 (standard alphabet, padded) ----
namespace {
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string Base64Encode(std::string_view s) {
  std::string out;
  size_t i = 0;
  for (; i + 3 <= s.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<uint8_t>(s[i])} << 16) |
                 (uint32_t{static_cast<uint8_t>(s[i + 1])} << 8) | static_cast<uint8_t>(s[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  size_t rest = s.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{static_cast<uint8_t>(s[i])} << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint32_t{static_cast<uint8_t>(s[i])} << 16) |
                 (uint32_t{static_cast<uint8_t>(s[i + 1])} << 8);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool Base64Decode(std::string_view s, std::string* out) {
  out->clear();
  if (s.size() % 4 != 0) return false;
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  for (size_t i = 0; i < s.size(); i += 4) {
    bool last = i + 4 == s.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = s[i + j];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad) return false;  // data after padding
      v[j] = val(c);
      if (v[j] < 0) return false;
    }
    uint32_t n =
        (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    *out += static_cast<char>((n >> 16) & 0xFF);
    if (pad < 2) *out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) *out += static_cast<char>(n & 0xFF);
    // Reject non-canonical encodings (stray bits after the last byte).
    if (pad == 1 && (n & 0xFF) != 0) return false;
    if (pad == 2 && (n & 0xFFFF) != 0) return false;
  }
  return true;
}

// ---- JSON ----
namespace {
std::string JsonEscape(std::string_view s, bool html) {
  std::string out = "\"";
  while (!s.empty()) {
    uint8_t c = static_cast<uint8_t>(s[0]);
    if (c < 0x80) {
      s.remove_prefix(1);
      if (AppendShortEscape(c, &out)) continue;
      if (c < 0x20 || (html && (c == '<' || c == '>' || c == '&'))) {
        out += "\\u00";
        AppendHexN(&out, c, 2);
      } else {
        out += static_cast<char>(c);
      }
      continue;
    }
    auto [r, w] = DecodeRune(s);
    if (w == 1 && r == kRuneError) {
      out += "\\ufffd";
    } else if (r == 0x2028 || r == 0x2029) {
      out += "\\u";
      AppendHexN(&out, r, 4);
    } else {
      out.append(s.data(), w);
    }
    s.remove_prefix(w);
  }
  out += '"';
  return out;
}
}  // namespace

std::string JsonString(std::string_view s) { return JsonEscape(s, /*html=*/true); }

Json BytesJson(std::string_view s) {
  if (ValidUtf8(s)) return Json(std::string(s));
  return Json{{"base64", Base64Encode(s)}};
}

std::string JsonBytes(std::string_view s) { return GoJson(BytesJson(s)); }

namespace {

void NewLine(const GoJsonStyle& style, int depth, std::string* out) {
  if (style.indent < 0) return;
  *out += '\n';
  out->append(static_cast<size_t>(style.indent * depth), ' ');
}

// Writes the members of an object or the elements of an array between
// open and close; an empty one is written "{}" or "[]", as Go does.
template <typename Each>
void WriteContainer(const Json& v, char open, char close, const GoJsonStyle& style, int depth,
                    std::string* out, Each&& each) {
  *out += open;
  if (!v.empty()) {
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) *out += ',';
      first = false;
      NewLine(style, depth + 1, out);
      each(it);
    }
    NewLine(style, depth, out);
  }
  *out += close;
}

void WriteJson(const Json& v, const GoJsonStyle& style, int depth, std::string* out) {
  switch (v.type()) {
    case Json::value_t::object:
      WriteContainer(v, '{', '}', style, depth, out, [&](Json::const_iterator it) {
        *out += JsonEscape(it.key(), style.escape_html);
        *out += style.indent < 0 ? ":" : ": ";
        WriteJson(it.value(), style, depth + 1, out);
      });
      return;
    case Json::value_t::array:
      WriteContainer(v, '[', ']', style, depth, out,
                     [&](Json::const_iterator it) { WriteJson(*it, style, depth + 1, out); });
      return;
    case Json::value_t::string:
      *out += JsonEscape(v.get_ref<const std::string&>(), style.escape_html);
      return;
    default:  // null, booleans and numbers: nlohmann writes them as Go does
      *out += v.dump();
  }
}

}  // namespace

std::string GoJson(const Json& v, GoJsonStyle style) {
  std::string out;
  WriteJson(v, style, 0, &out);
  return out;
}

// ---- Go time.Duration ----
std::string GoDuration(int64_t d) {
  char buf[40];
  int w = sizeof(buf);
  uint64_t u = static_cast<uint64_t>(d);
  bool neg = d < 0;
  if (neg) u = 0 - u;
  auto fmt_frac = [&](uint64_t v, int prec) {
    bool print = false;
    for (int i = 0; i < prec; ++i) {
      int digit = static_cast<int>(v % 10);
      print = print || digit != 0;
      if (print) buf[--w] = static_cast<char>('0' + digit);
      v /= 10;
    }
    if (print) buf[--w] = '.';
    return v;
  };
  auto fmt_int = [&](uint64_t v) {
    if (v == 0) {
      buf[--w] = '0';
    } else {
      while (v > 0) {
        buf[--w] = static_cast<char>('0' + v % 10);
        v /= 10;
      }
    }
  };
  const uint64_t kSecond = 1000000000ull;
  if (u < kSecond) {
    int prec = 0;
    buf[--w] = 's';
    if (u == 0) return "0s";
    if (u < 1000) {
      prec = 0;
      buf[--w] = 'n';
    } else if (u < 1000000) {
      prec = 3;
      buf[--w] = '\xB5';  // "µ" is C2 B5
      buf[--w] = '\xC2';
    } else {
      prec = 6;
      buf[--w] = 'm';
    }
    u = fmt_frac(u, prec);
    fmt_int(u);
  } else {
    buf[--w] = 's';
    u = fmt_frac(u, 9);
    fmt_int(u % 60);
    u /= 60;
    if (u > 0) {
      buf[--w] = 'm';
      fmt_int(u % 60);
      u /= 60;
      if (u > 0) {
        buf[--w] = 'h';
        fmt_int(u);
      }
    }
  }
  if (neg) buf[--w] = '-';
  return std::string(buf + w, sizeof(buf) - w);
}

bool ParseGoDuration(const std::string& s0, int64_t* ns) {
  std::string s = s0;
  if (s.empty()) return false;
  // boltpp extension: a bare number means seconds.
  {
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(v)) {
      *ns = static_cast<int64_t>(v * 1e9);
      return true;
    }
  }
  bool neg = false;
  size_t i = 0;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  if (s.substr(i) == "0") {
    *ns = 0;
    return true;
  }
  if (i >= s.size()) return false;
  double total = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return false;
    double v = std::strtod(s.substr(start, i - start).c_str(), nullptr);
    size_t ustart = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') ++i;
    std::string unit = s.substr(ustart, i - ustart);
    double mult;
    if (unit == "ns") {
      mult = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      mult = 1e3;
    } else if (unit == "ms") {
      mult = 1e6;
    } else if (unit == "s") {
      mult = 1e9;
    } else if (unit == "m") {
      mult = 60e9;
    } else if (unit == "h") {
      mult = 3600e9;
    } else {
      return false;
    }
    total += v * mult;
  }
  if (total > 9.2e18) return false;
  *ns = static_cast<int64_t>(neg ? -total : total);
  return true;
}

uint64_t ParsePageId(const std::string& s) { return GoParseUint(s, 10, 64); }

}  // namespace boltpp::cli
