// File: tools/cli/json_out.h
// JSON output: commands build documents with nlohmann::ordered_json (keys
// keep their insertion order, as Go's struct fields do) and print them with
// GoJson, which writes the bytes Go's encoding/json writes for the same
// document. nlohmann's own dump differs from Go in string escaping (Go
// writes invalid UTF-8 as \ufffd, escapes U+2028/U+2029 and, in Marshal,
// <, > and &), hence one writer of our own over nlohmann's document model.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace boltpp::cli {

using Json = nlohmann::ordered_json;

struct GoJsonStyle {
  int indent = -1;           // < 0: compact (json.Marshal); else spaces per level (MarshalIndent)
  bool escape_html = false;  // escape <, > and & as \u003c... (Go's default encoder does)
};

// v as Go's encoding/json writes it: compact or indented, integers in
// decimal, strings escaped as JsonString (escape_html) or JsonBytes does.
std::string GoJson(const Json& v, GoJsonStyle style = {});

// Bytes as JSON: a string when s is valid UTF-8, else {"base64": "..."}.
// GoJson(BytesJson(s)) == JsonBytes(s).
Json BytesJson(std::string_view s);

}  // namespace boltpp::cli
