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

std::string EncodeRecord(const ShardRecord& r) {
  nlohmann::ordered_json j;
  j["k"] = r.key;
  j["u"] = r.url;
  j["t"] = r.transient;
  j["s"] = static_cast<int>(r.state);
  j["l"] = r.lazy;
  j["e"] = r.error;
  return j.dump();
}

Result<ShardRecord> DecodeRecord(std::string_view json) {
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

Result<std::vector<std::string>> DecodeKeyList(std::string_view bytes) {
  std::vector<std::string> keys;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t pos = 0;
  while (pos < bytes.size()) {
    uint64_t len = 0;
    car::VarintError err{};
    const size_t n = car::DecodeUvarint(p + pos, bytes.size() - pos, &len, &err);
    if (n == 0 || len > bytes.size() - pos - n) {
      return Status(Code::kCorruption, "damaged inverted-index value");
    }
    keys.emplace_back(bytes.substr(pos + n, len));
    pos += n + len;
  }
  return keys;
}

}  // namespace boltpp::dagstore
