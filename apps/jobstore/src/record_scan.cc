// File: apps/jobstore/src/record_scan.cc
#include "record_scan.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <vector>

#include "internal.h"

namespace boltpp::jobstore::internal {

namespace {

// A cursor over text that accepts JSON in the exact form nlohmann's dump
// (indent -1) writes it; every method returns false on anything else.
class CanonicalScanner {
 public:
  explicit CanonicalScanner(std::string_view text) : t_(text) {}

  size_t pos() const { return pos_; }
  bool AtEnd() const { return pos_ == t_.size(); }

  // Consumes c when the text continues with it.
  bool Char(char c) {
    if (pos_ >= t_.size() || t_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // Consumes literal when the text continues with it.
  bool Literal(std::string_view literal) {
    if (t_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  bool Value(int depth) {
    if (pos_ >= t_.size() || depth > kMaxDepth) return false;
    switch (t_[pos_]) {
      case '{':
        return Object(depth + 1);
      case '[':
        return Array(depth + 1);
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Integer(nullptr);
    }
  }

  // A string token (quotes included).
  bool String() {
    if (!Char('"')) return false;
    while (pos_ < t_.size()) {
      // Runs of plain ASCII (most of a record) in a tight loop.
      const char* p = t_.data() + pos_;
      const char* const end = t_.data() + t_.size();
      while (p != end && kPlainAscii[static_cast<unsigned char>(*p)]) ++p;
      pos_ = static_cast<size_t>(p - t_.data());
      if (p == end) return false;
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (!Escape()) return false;
      } else if (!Utf8Sequence()) {
        return false;
      }
    }
    return false;
  }

  // An integer nlohmann keeps as an integer and writes back the same: one
  // that fits uint64 (int64 when negative; nlohmann makes larger ones
  // floats), no leading zero, no "-0". *out, when asked for, must fit int64.
  bool Integer(int64_t* out) {
    const size_t start = pos_;
    const bool negative = pos_ < t_.size() && t_[pos_] == '-';
    if (negative) ++pos_;
    const size_t digits = pos_;
    while (pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9') ++pos_;
    const size_t n = pos_ - digits;
    if (n == 0 || (t_[digits] == '0' && (n > 1 || negative))) return false;
    if (pos_ < t_.size() && (t_[pos_] == '.' || t_[pos_] == 'e' || t_[pos_] == 'E')) return false;
    const char* first = t_.data() + start;
    const char* last = t_.data() + pos_;
    if (!out && n < 19) return true;  // fits int64 (and uint64) whatever the digits
    if (out || negative) {
      int64_t v = 0;
      auto r = std::from_chars(first, last, v);
      if (r.ec != std::errc() || r.ptr != last) return false;
      if (out) *out = v;
      return true;
    }
    uint64_t v = 0;
    auto r = std::from_chars(first, last, v);
    return r.ec == std::errc() && r.ptr == last;
  }

 private:
  static constexpr int kMaxDepth = 64;  // deeper documents take the slow path

  // Bytes a string holds as they are: ASCII from 0x20, but '"' and '\\'.
  static constexpr std::array<bool, 256> kPlainAscii = [] {
    std::array<bool, 256> plain{};
    for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
    return plain;
  }();

  bool Object(int depth) {
    ++pos_;  // '{'
    const size_t slot = OpenContainer();
    if (Char('}')) return true;
    // Raw keys (canonical, so equal exactly when their text is): the first
    // ones in place, any beyond in a vector (an allocation per object was a
    // fifth of the scan).
    std::array<std::string_view, 24> first_keys;
    size_t key_count = 0;
    std::vector<std::string_view> more_keys;
    auto same = [](std::string_view a, std::string_view b) {
      // Both are string tokens ("..."): compare a middle byte before memcmp.
      return a.size() == b.size() && a[a.size() / 2] == b[b.size() / 2] && a == b;
    };
    do {
      const size_t key_start = pos_;
      if (!String()) return false;
      const std::string_view key = t_.substr(key_start, pos_ - key_start);
      for (size_t i = 0; i < std::min(key_count, first_keys.size()); ++i) {
        if (same(first_keys[i], key)) return false;  // nlohmann keeps one of the two
      }
      for (auto k : more_keys) {
        if (same(k, key)) return false;
      }
      if (key_count < first_keys.size()) {
        first_keys[key_count] = key;
      } else {
        more_keys.push_back(key);
      }
      ++key_count;
      if (!Char(':') || !Value(depth)) return false;
    } while (Char(','));
    CloseContainer(slot, key_count);
    return Char('}');
  }

  bool Array(int depth) {
    ++pos_;  // '['
    const size_t slot = OpenContainer();
    if (Char(']')) return true;
    size_t count = 0;
    do {
      if (!Value(depth)) return false;
      ++count;
    } while (Char(','));
    CloseContainer(slot, count);
    return Char(']');
  }

  // Container sizes, when asked for (set_sizes): one slot per object or
  // array in text order, its member count once scanned.
  size_t OpenContainer() {
    if (!sizes_) return 0;
    sizes_->push_back(0);
    return sizes_->size() - 1;
  }
  void CloseContainer(size_t slot, size_t count) {
    if (sizes_) (*sizes_)[slot] = static_cast<uint32_t>(count);
  }

  // The escapes nlohmann writes: \" \\ \b \f \n \r \t, and \u00xx (lower
  // case hex) for the other characters below 0x20.
  bool Escape() {
    if (pos_ + 1 >= t_.size()) return false;
    const char e = t_[pos_ + 1];
    if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
      pos_ += 2;
      return true;
    }
    if (e != 'u' || pos_ + 6 > t_.size() || t_.substr(pos_ + 2, 2) != "00") return false;
    auto hex = [](char h) {
      return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
    };
    const int hi = hex(t_[pos_ + 4]), lo = hex(t_[pos_ + 5]);
    if (hi < 0 || lo < 0) return false;
    const int c = hi * 16 + lo;
    if (c >= 0x20 || c == 0x08 || c == 0x09 || c == 0x0a || c == 0x0c || c == 0x0d) return false;
    pos_ += 6;
    return true;
  }

  // One well-formed UTF-8 sequence of 2 to 4 bytes (RFC 3629), as
  // nlohmann's lexer accepts them.
  bool Utf8Sequence() {
    auto byte = [&](size_t i) {
      return pos_ + i < t_.size() ? static_cast<unsigned char>(t_[pos_ + i]) : 0;
    };
    auto in = [](unsigned char b, unsigned char lo, unsigned char hi) {
      return b >= lo && b <= hi;
    };
    const unsigned char b0 = byte(0), b1 = byte(1);
    size_t len = 0;
    if (in(b0, 0xc2, 0xdf)) {
      len = in(b1, 0x80, 0xbf) ? 2 : 0;
    } else if (b0 == 0xe0) {
      len = in(b1, 0xa0, 0xbf) ? 3 : 0;
    } else if (in(b0, 0xe1, 0xec) || in(b0, 0xee, 0xef)) {
      len = in(b1, 0x80, 0xbf) ? 3 : 0;
    } else if (b0 == 0xed) {
      len = in(b1, 0x80, 0x9f) ? 3 : 0;
    } else if (b0 == 0xf0) {
      len = in(b1, 0x90, 0xbf) ? 4 : 0;
    } else if (in(b0, 0xf1, 0xf3)) {
      len = in(b1, 0x80, 0xbf) ? 4 : 0;
    } else if (b0 == 0xf4) {
      len = in(b1, 0x80, 0x8f) ? 4 : 0;
    }
    if (len == 0) return false;
    for (size_t i = 2; i < len; ++i) {
      if (!in(byte(i), 0x80, 0xbf)) return false;
    }
    pos_ += len;
    return true;
  }

  std::string_view t_;
  size_t pos_ = 0;
  std::vector<uint32_t>* sizes_ = nullptr;

 public:
  void set_sizes(std::vector<uint32_t>* sizes) { sizes_ = sizes; }
};

// A string token whose text the slow path copies unchanged.
std::optional<std::string_view> StringToken(CanonicalScanner& s, std::string_view text) {
  const size_t start = s.pos();
  if (!s.String()) return std::nullopt;
  return text.substr(start, s.pos() - start);
}

void AppendInt(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Builds the tree of a text CanonicalScanner accepted (so every token is
// well formed and no object has a key twice): the tree nlohmann's parser
// builds from it, node for node (non-negative integers unsigned, negative
// ones signed, members in text order), without its character-at-a-time
// lexer.
class CanonicalBuilder {
 public:
  // sizes: the scanner's container sizes (set_sizes), to reserve storage.
  CanonicalBuilder(std::string_view text, const std::vector<uint32_t>& sizes)
      : t_(text), sizes_(sizes) {}

  Json Value() {
    switch (t_[pos_]) {
      case '{':
        return Object();
      case '[':
        return Array();
      case '"':
        return Json(String());
      case 't':
        pos_ += 4;
        return Json(true);
      case 'f':
        pos_ += 5;
        return Json(false);
      case 'n':
        pos_ += 4;
        return Json(nullptr);
      default:
        return Number();
    }
  }

 private:
  Json Object() {
    Json j(Json::value_t::object);
    auto& members = j.get_ref<Json::object_t&>();
    members.reserve(sizes_[next_size_++]);
    if (t_[++pos_] == '}') {
      ++pos_;
      return j;
    }
    while (true) {
      std::string key = String();
      ++pos_;  // ':'
      // No duplicate to look for (the scanner refused them): append.
      members.emplace_back(std::move(key), Value());
      if (t_[pos_++] == '}') return j;  // else ','
    }
  }

  Json Array() {
    Json j(Json::value_t::array);
    auto& items = j.get_ref<Json::array_t&>();
    items.reserve(sizes_[next_size_++]);
    if (t_[++pos_] == ']') {
      ++pos_;
      return j;
    }
    while (true) {
      items.push_back(Value());
      if (t_[pos_++] == ']') return j;  // else ','
    }
  }

  // A string token at pos_, unescaped (the canonical escapes only).
  std::string String() {
    const size_t start = ++pos_;
    const char* const first = t_.data() + start;
    const char* const quote =
        static_cast<const char*>(std::memchr(first, '"', t_.size() - start));  // scanned: found
    const char* const escape =
        static_cast<const char*>(std::memchr(first, '\\', static_cast<size_t>(quote - first)));
    if (!escape) {
      pos_ = static_cast<size_t>(quote - t_.data()) + 1;
      return std::string(first, quote);
    }
    const size_t end = static_cast<size_t>(escape - t_.data());
    std::string out(t_.substr(start, end - start));
    pos_ = end;
    while (t_[pos_] != '"') {
      if (t_[pos_] != '\\') {
        out += t_[pos_++];
        continue;
      }
      const char e = t_[pos_ + 1];
      switch (e) {
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {  // \u00xx, xx < 0x20 (lower-case hex)
          auto hex = [](char h) { return h <= '9' ? h - '0' : h - 'a' + 10; };
          out += static_cast<char>(hex(t_[pos_ + 4]) * 16 + hex(t_[pos_ + 5]));
          pos_ += 6;
          continue;
        }
        default:  // '"' or '\\'
          out += e;
          break;
      }
      pos_ += 2;
    }
    ++pos_;
    return out;
  }

  Json Number() {
    const size_t start = pos_;
    if (t_[pos_] == '-') ++pos_;
    while (pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9') ++pos_;
    const char* first = t_.data() + start;
    const char* last = t_.data() + pos_;
    if (*first == '-') {
      int64_t v = 0;
      std::from_chars(first, last, v);
      return Json(v);
    }
    uint64_t v = 0;
    std::from_chars(first, last, v);
    return Json(v);
  }

  std::string_view t_;
  size_t pos_ = 0;
  const std::vector<uint32_t>& sizes_;
  size_t next_size_ = 0;
};

}  // namespace

std::optional<LocalStateRecordView> ScanLocalStateRecord(std::string_view text) {
  CanonicalScanner s(text);
  LocalStateRecordView r;
  if (!s.Literal("{\"Execution\":")) return std::nullopt;
  const size_t execution_start = s.pos();
  if (!s.Value(1)) return std::nullopt;
  r.execution = text.substr(execution_start, s.pos() - execution_start);
  if (!s.Literal(",\"RequesterNodeID\":")) return std::nullopt;
  auto requester = StringToken(s, text);
  if (!requester) return std::nullopt;
  r.requester_node_id = *requester;
  int64_t state = 0, version = 0;
  if (!s.Literal(",\"State\":") || !s.Integer(&state)) return std::nullopt;
  if (state < std::numeric_limits<int>::min() || state > std::numeric_limits<int>::max()) {
    return std::nullopt;
  }
  r.state = static_cast<int>(state);
  if (!s.Literal(",\"Version\":") || !s.Integer(&version) || version < 0) return std::nullopt;
  r.version = static_cast<uint64_t>(version);
  if (!s.Literal(",\"CreateTime\":")) return std::nullopt;
  auto create_time = StringToken(s, text);
  if (!create_time) return std::nullopt;
  r.create_time = *create_time;
  // The slow path reformats CreateTime from its parsed value: copy it only
  // when that gives the same text (no escapes, FormatRfc3339Nano's form).
  const std::string_view inner = create_time->substr(1, create_time->size() - 2);
  if (inner.find('\\') != std::string_view::npos ||
      FormatRfc3339Nano(ParseRfc3339(inner).value_or(0)) != inner) {
    return std::nullopt;
  }
  // UpdateTime and LatestComment are replaced: any canonical string will do.
  if (!s.Literal(",\"UpdateTime\":") || !StringToken(s, text)) return std::nullopt;
  if (!s.Literal(",\"LatestComment\":") || !StringToken(s, text)) return std::nullopt;
  if (!s.Char('}') || !s.AtEnd()) return std::nullopt;
  return r;
}

std::string RewriteLocalStateRecord(const LocalStateRecordView& record, int state, uint64_t version,
                                    int64_t update_time, std::string_view comment) {
  std::string out;
  out.reserve(record.execution.size() + record.requester_node_id.size() + comment.size() + 200);
  out += "{\"Execution\":";
  out += record.execution;
  out += ",\"RequesterNodeID\":";
  out += record.requester_node_id;
  out += ",\"State\":";
  if (state < 0) {
    out += '-';
    AppendInt(out, static_cast<uint64_t>(-static_cast<int64_t>(state)));
  } else {
    AppendInt(out, static_cast<uint64_t>(state));
  }
  out += ",\"Version\":";
  AppendInt(out, version);
  out += ",\"CreateTime\":";
  out += record.create_time;
  out += ",\"UpdateTime\":\"";
  out += FormatRfc3339Nano(update_time);
  out += "\",\"LatestComment\":";
  out += Dump(Json(comment));
  out += '}';
  return out;
}

std::string LocalStateHistoryRecord(const LocalStateHistory& h) {
  std::string out = "{\"ExecutionID\":";
  out += Dump(Json(h.execution_id));
  auto append_signed = [&](int v) {
    if (v < 0) out += '-';
    AppendInt(out, v < 0 ? static_cast<uint64_t>(-static_cast<int64_t>(v)) : uint64_t(v));
  };
  out += ",\"PreviousState\":";
  append_signed(static_cast<int>(h.previous_state));
  out += ",\"NewState\":";
  append_signed(static_cast<int>(h.new_state));
  out += ",\"NewVersion\":";
  AppendInt(out, h.new_version);
  out += ",\"Comment\":";
  out += Dump(Json(h.comment));
  out += ",\"Time\":\"";
  out += FormatRfc3339Nano(h.time);
  out += "\"}";
  return out;
}

std::string WriteCountersRecord(uint64_t stamp, const StateCounts& counts) {
  std::string out = "{\"Tx\":";
  AppendInt(out, stamp);
  out += ",\"Counts\":[";
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i) out += ',';
    AppendInt(out, counts[i]);
  }
  out += "]}";
  return out;
}

std::optional<CountersRecord> ScanCountersRecord(std::string_view text) {
  CountersRecord r;
  size_t pos = 0;
  auto literal = [&](std::string_view l) {
    if (text.substr(pos, l.size()) != l) return false;
    pos += l.size();
    return true;
  };
  // A JSON unsigned integer nlohmann reads as such: no leading zero, fits uint64.
  auto number = [&](uint64_t* out) {
    const size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start || (text[start] == '0' && pos - start > 1)) return false;
    auto res = std::from_chars(text.data() + start, text.data() + pos, *out);
    return res.ec == std::errc() && res.ptr == text.data() + pos;
  };
  if (!literal("{\"Tx\":") || !number(&r.stamp) || !literal(",\"Counts\":[")) return std::nullopt;
  for (size_t i = 0; i < r.counts.size(); ++i) {
    if ((i && !literal(",")) || !number(&r.counts[i])) return std::nullopt;
  }
  if (!literal("]}") || pos != text.size()) return std::nullopt;
  return r;
}

namespace {

// nlohmann's escaping of a string (ensure_ascii off): '"' and '\\' and the
// characters below 0x20 escaped (\b \f \n \r \t, else \u00xx in lower-case
// hex), everything else as it is. A string with a byte from 0x80 goes to
// nlohmann's serializer, which also checks (and replaces invalid) UTF-8.
void AppendJsonString(std::string& out, const std::string& s) {
  static constexpr std::array<bool, 256> kAsIs = [] {
    std::array<bool, 256> as_is{};
    for (int c = 0x20; c < 0x80; ++c) as_is[c] = c != '"' && c != '\\';
    return as_is;
  }();
  size_t i = 0;
  while (i < s.size() && kAsIs[static_cast<unsigned char>(s[i])]) ++i;
  if (i == s.size()) {
    out += '"';
    out += s;
    out += '"';
    return;
  }
  for (size_t k = i; k < s.size(); ++k) {
    if (static_cast<unsigned char>(s[k]) >= 0x80) {
      out += Json(s).dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
      return;
    }
  }
  out += '"';
  out.append(s, 0, i);
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (kAsIs[c]) {
      out += static_cast<char>(c);
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
  }
  out += '"';
}

// Appends j as nlohmann's dump writes it; false (out unspecified) when the
// tree holds a float or a binary value.
bool AppendJson(std::string& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      out += "null";
      return true;
    case Json::value_t::boolean:
      out += j.get<bool>() ? "true" : "false";
      return true;
    case Json::value_t::number_integer: {
      const int64_t v = j.get<int64_t>();
      if (v < 0) {
        out += '-';
        AppendInt(out, uint64_t{0} - static_cast<uint64_t>(v));
      } else {
        AppendInt(out, static_cast<uint64_t>(v));
      }
      return true;
    }
    case Json::value_t::number_unsigned:
      AppendInt(out, j.get<uint64_t>());
      return true;
    case Json::value_t::string:
      AppendJsonString(out, j.get_ref<const std::string&>());
      return true;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const Json& item : j) {
        if (!first) out += ',';
        first = false;
        if (!AppendJson(out, item)) return false;
      }
      out += ']';
      return true;
    }
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : j.get_ref<const Json::object_t&>()) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, key);
        out += ':';
        if (!AppendJson(out, value)) return false;
      }
      out += '}';
      return true;
    }
    default:  // floats, binary, discarded
      return false;
  }
}

}  // namespace

std::string DumpJson(const Json& j) {
  std::string out;
  if (AppendJson(out, j)) return out;
  return j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

std::optional<Json> ParseCanonicalJson(std::string_view text) {
  // The sizes buffer is reused by the thread's next parses (no allocation).
  // (A buffer grown past 64k containers by one big document is given back.)
  thread_local std::vector<uint32_t> sizes;
  sizes.clear();
  if (sizes.capacity() > (size_t{1} << 16)) sizes.shrink_to_fit();
  CanonicalScanner s(text);
  s.set_sizes(&sizes);
  if (!s.Value(0) || !s.AtEnd()) return std::nullopt;
  return CanonicalBuilder(text, sizes).Value();
}

std::optional<SpecSortKey> ScanSpecSortKey(std::string_view text) {
  CanonicalScanner s(text);
  SpecSortKey key;
  bool seen_id = false, seen_time = false;
  if (!s.Char('{')) return std::nullopt;
  if (s.Char('}')) return s.AtEnd() ? std::optional(key) : std::nullopt;
  do {
    const auto name = StringToken(s, text);
    if (!name || !s.Char(':') || s.AtEnd()) return std::nullopt;
    const char next = text[s.pos()];
    if (*name == "\"ID\"") {
      if (seen_id) return std::nullopt;  // nlohmann keeps the last one
      seen_id = true;
      if (next == '"') {
        const auto id = StringToken(s, text);
        if (!id || id->find('\\') != std::string_view::npos) return std::nullopt;
        key.id = id->substr(1, id->size() - 2);
        continue;
      }
      key.id = {};  // not a string: Str gives ""
    } else if (*name == "\"CreateTime\"") {
      if (seen_time) return std::nullopt;
      seen_time = true;
      if (next == '-' || (next >= '0' && next <= '9')) {
        // An integer within int64 (anything else, e.g. a float, is left to
        // the slow path, which Int() reads differently).
        if (!s.Integer(&key.create_time)) return std::nullopt;
        continue;
      }
      key.create_time = 0;  // not a number: Int gives 0
    }
    if (!s.Value(1)) return std::nullopt;
  } while (s.Char(','));
  if (!s.Char('}') || !s.AtEnd()) return std::nullopt;
  return key;
}

bool IsCanonicalJson(std::string_view text) {
  CanonicalScanner s(text);
  return s.Value(0) && s.AtEnd();
}

}  // namespace boltpp::jobstore::internal
