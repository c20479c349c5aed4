// The persisted shard record, the inverted-index value and file-name escaping.
#include <nlohmann/json.hpp>

#include "boltpp/car/varint.h"
#include "boltpp/dagstore/store.h"

namespace boltpp::dagstore {

std::string StateName(ShardState s) {
  switch (s) {
    case ShardState::kNew:
      return "New";
    case ShardState::kInitializing:
      return "Initializing";
    case ShardState::kAvailable:
      return "Available";
    case ShardState::kServing:
      return "Serving";
    case ShardState::kRecovering:
      return "Recovering";
    case ShardState::kErrored:
      return "Errored";
    default:
      return "Unknown";
  }
}

std::string StateLongName(ShardState s) { return "ShardState" + StateName(s); }

namespace {
// True when JSON writes `s` as it is (printable ASCII, no quote/backslash).
bool NeedsNoEscape(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return false;
  }
  return true;
}
}  // namespace

std::string EncodeRecord(const ShardRecord& r) {
  // Fast path for the common record (migrate writes one per CAR): the same
  // bytes nlohmann's dump gives, without building a DOM.
  if (NeedsNoEscape(r.key) && NeedsNoEscape(r.url) && NeedsNoEscape(r.transient) &&
      NeedsNoEscape(r.error)) {
    std::string out;
    out.reserve(48 + r.key.size() + r.url.size() + r.transient.size() + r.error.size());
    out.append("{\"k\":\"").append(r.key).append("\",\"u\":\"").append(r.url);
    out.append("\",\"t\":\"").append(r.transient).append("\",\"s\":");
    out.append(std::to_string(static_cast<int>(r.state)));
    out.append(",\"l\":").append(r.lazy ? "true" : "false");
    out.append(",\"e\":\"").append(r.error).append("\"}");
    return out;
  }
  nlohmann::ordered_json j;
  j["k"] = r.key;
  j["u"] = r.url;
  j["t"] = r.transient;
  j["s"] = static_cast<int>(r.state);
  j["l"] = r.lazy;
  j["e"] = r.error;
  return j.dump();
}

namespace {

// Hand-written fast path for the records EncodeRecord writes (restart reads
// every record: nlohmann's DOM parse was ~5 us of D4's ~7 us per record).
// Accepts exactly {"k":"..","u":"..","t":"..","s":N,"l":true|false,"e":".."}
// with strings free of escapes and control bytes; anything else (escapes,
// other key order, whitespace, damage) returns false and takes nlohmann's
// full parser, so the result never differs from it.
class CanonicalRecordParser {
 public:
  explicit CanonicalRecordParser(std::string_view in) : in_(in) {}
  bool Parse(ShardRecord* r) {
    int state = 0;
    return Lit("{\"k\":") && Str(&r->key) && Lit(",\"u\":") && Str(&r->url) && Lit(",\"t\":") &&
           Str(&r->transient) && Lit(",\"s\":") && Int(&state) && ValidState(state, r) &&
           Lit(",\"l\":") && Bool(&r->lazy) && Lit(",\"e\":") && Str(&r->error) && Lit("}") &&
           pos_ == in_.size();
  }

 private:
  bool Lit(std::string_view lit) {
    if (in_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }
  bool Str(std::string* out) {
    if (pos_ >= in_.size() || in_[pos_] != '"') return false;
    const size_t start = ++pos_;
    while (pos_ < in_.size()) {
      const unsigned char c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        out->assign(in_.data() + start, pos_ - start);
        pos_++;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;  // escapes, UTF-8: full parser
      pos_++;
    }
    return false;
  }
  bool Int(int* out) {
    int v = 0;
    size_t digits = 0;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9' && digits < 4) {
      v = v * 10 + (in_[pos_++] - '0');
      digits++;
    }
    *out = v;
    return digits > 0 && (digits == 1 || in_[pos_ - digits] != '0');
  }
  static bool ValidState(int s, ShardRecord* r) {
    if (s != 0x00 && s != 0x01 && s != 0x02 && s != 0x03 && s != 0x80 && s != 0xF0) return false;
    r->state = static_cast<ShardState>(s);
    return true;
  }
  bool Bool(bool* out) {
    if (Lit("true")) return *out = true;
    *out = false;
    return Lit("false");
  }
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

Result<ShardRecord> DecodeRecord(std::string_view json) {
  if (ShardRecord fast; CanonicalRecordParser(json).Parse(&fast)) return fast;
  try {
    const auto j = nlohmann::json::parse(json);
    ShardRecord r;
    r.key = j.at("k").get<std::string>();
    r.url = j.at("u").get<std::string>();
    r.transient = j.value("t", std::string());
    const int s = j.at("s").get<int>();
    switch (s) {
      case 0x00:
      case 0x01:
      case 0x02:
      case 0x03:
      case 0x80:
      case 0xF0:
        r.state = static_cast<ShardState>(s);
        break;
      default:
        return Status(Code::kCorruption, "unknown shard state " + std::to_string(s));
    }
    r.lazy = j.value("l", false);
    r.error = j.value("e", std::string());
    return r;
  } catch (const std::exception& e) {
    return Status(Code::kCorruption, std::string("undecodable shard record: ") + e.what());
  }
}

std::string EscapeKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < key.size(); i++) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    const bool safe = std::isalnum(c) || c == '_' || c == '-' || (c == '.' && i > 0);
    if (safe) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string EncodeKeyList(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) {
    car::AppendUvarint(&out, k.size());
    out += k;
  }
  return out;
}

Status DecodeKeyListInto(std::string_view bytes, std::vector<std::string>* keys) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t pos = 0, count = 0;
  while (pos < bytes.size()) {
    uint64_t len = 0;
    car::VarintError err{};
    const size_t n = car::DecodeUvarint(p + pos, bytes.size() - pos, &len, &err);
    if (n == 0 || len > bytes.size() - pos - n) {
      keys->clear();
      return Status(Code::kCorruption, "damaged inverted-index value");
    }
    if (count < keys->size()) {
      (*keys)[count].assign(bytes.substr(pos + n, len));  // reuses the buffer
    } else {
      keys->emplace_back(bytes.substr(pos + n, len));
    }
    count++;
    pos += n + len;
  }
  keys->resize(count);
  return Status::OK();
}

Result<std::vector<std::string>> DecodeKeyList(std::string_view bytes) {
  std::vector<std::string> keys;
  if (Status s = DecodeKeyListInto(bytes, &keys); !s.ok()) return s;
  return keys;
}

}  // namespace boltpp::dagstore
