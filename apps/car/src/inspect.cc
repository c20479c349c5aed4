// go-car's Inspect statistics and `car verify` checks.
#include "boltpp/car/inspect.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "boltpp/car/hash.h"
#include "boltpp/car/index.h"
#include "boltpp/car/varint.h"

namespace boltpp::car {

namespace {

Status Damage(std::string what) { return Status(Code::kCorruption, std::move(what)); }

// Re-hashes a section's block; an error names the section and both CIDs.
Status CheckBlockHash(const CarReader& reader, const Section& s) {
  const CidInfo& ci = s.cid_info;
  Status why;
  if (DigestMatches(ci.hash_code, s.block, s.cid.subspan(ci.digest_offset, ci.digest_size), &why)) {
    return Status::OK();
  }
  const uint64_t at = reader.payload_offset() + s.offset;
  if (!why.ok()) return Status(why.code(), fmt::format("section at byte {}: {}", at, why.detail()));
  std::string got;
  why = Digest(ci.hash_code, s.block, ci.digest_size, &got);
  std::string got_cid = "?";
  if (why.ok()) {
    got_cid = ci.version == 0
                  ? Cid::V0({reinterpret_cast<const uint8_t*>(got.data()), got.size()}).ToString()
                  : Cid::V1(ci.codec, ci.hash_code,
                            {reinterpret_cast<const uint8_t*>(got.data()), got.size()})
                        .ToString();
  }
  const std::string_view cid(reinterpret_cast<const char*>(s.cid.data()), s.cid.size());
  return Damage(
      fmt::format("section at byte {}: mismatch in content integrity, expected: {}, got: {}", at,
                  CidToString(cid, ci), got_cid));
}

std::string CountsString(const std::map<uint64_t, uint64_t>& counts) {
  std::string out;
  for (const auto& [code, n] : counts) out += fmt::format("\n\t{}: {}", MulticodecName(code), n);
  return out;
}

}  // namespace

std::string InspectReport::ToString() const {
  std::string out = fmt::format("Version: {}\n", version);
  if (version == 2 && v2) {
    std::string hex;
    for (uint8_t b : v2->characteristics) hex += fmt::format("{:02x}", b);
    out += fmt::format(
        "Characteristics: {}\nData offset: {}\nData (payload) length: {}\nIndex offset: {}\n"
        "Index type: {}\n",
        hex, v2->data_offset, v2->data_size, v2->index_offset, index_type);
  }
  out += "Roots:";
  if (roots.empty()) out += " (none)";
  if (roots.size() == 1) out += " " + roots[0].ToString();
  if (roots.size() > 1) {
    for (const Cid& r : roots) out += "\n\t" + r.ToString();
  }
  out += fmt::format("\nRoot blocks present in data: {}\nBlock count: {}\n",
                     roots_present ? "Yes" : "No", block_count);
  out += fmt::format("Min / average / max block length (bytes): {} / {} / {}\n", min_block,
                     avg_block, max_block);
  out += fmt::format("Min / average / max CID length (bytes): {} / {} / {}\n", min_cid, avg_cid,
                     max_cid);
  out += "Block count per codec:" + CountsString(codec_counts) + "\n";
  out += "CID count per multihash:" + CountsString(hash_counts) + "\n";
  return out;
}

Result<InspectReport> Inspect(CarReader& reader, bool verify_hashes) {
  InspectReport r;
  r.version = reader.version();
  r.v2 = reader.v2_header();
  r.roots = reader.roots();
  if (reader.seekable()) {
    Status s = reader.Rewind();
    if (!s.ok()) return s;
  }
  std::vector<bool> present(r.roots.size(), false);
  size_t present_count = 0;
  uint64_t total_cid = 0, total_block = 0;
  uint64_t min_cid = UINT64_MAX, min_block = UINT64_MAX;
  Section s;
  for (;;) {
    auto more = reader.Next(&s, verify_hashes);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (present_count < r.roots.size()) {
      const std::string_view cid(reinterpret_cast<const char*>(s.cid.data()), s.cid.size());
      for (size_t i = 0; i < r.roots.size(); i++) {
        if (!present[i] && r.roots[i].bytes() == cid) {
          present[i] = true;
          present_count++;
        }
      }
    }
    r.codec_counts[s.cid_info.codec]++;
    r.hash_counts[s.cid_info.hash_code]++;
    if (verify_hashes) {
      Status st = CheckBlockHash(reader, s);
      if (!st.ok()) return st;
    }
    const uint64_t cid_len = s.cid_info.size, block_len = s.block_size();
    r.block_count++;
    total_cid += cid_len;
    total_block += block_len;
    min_cid = std::min(min_cid, cid_len);
    min_block = std::min(min_block, block_len);
    r.max_cid = std::max(r.max_cid, cid_len);
    r.max_block = std::max(r.max_block, block_len);
  }
  r.roots_present = present_count == r.roots.size();
  if (r.block_count > 0) {
    r.min_cid = min_cid;
    r.min_block = min_block;
    r.avg_cid = total_cid / r.block_count;
    r.avg_block = total_block / r.block_count;
  }
  if (r.version == 2) {
    r.index_type = "(none)";
    if (r.v2->has_index() && reader.seekable()) {
      auto codec = reader.IndexCodec();
      if (!codec.ok()) return codec.status();
      r.index_type = MulticodecName(*codec);
    }
  }
  return r;
}

Status Verify(const std::string& path, const VerifyOptions& opts) {
  ReadOptions ro;
  ro.zero_length_section_as_eof = opts.zero_length_section_as_eof;
  auto opened = CarReader::OpenFile(path, ro);
  if (!opened.ok()) return opened.status();
  CarReader& reader = **opened;
  if (reader.roots().empty()) return Damage("no roots listed in car header");
  std::optional<Index> index;
  if (reader.version() == 2) {
    const V2Header& h = *reader.v2_header();
    const uint64_t file_size = reader.input_size();
    const uint64_t length_to_index = kPragmaSize + kV2HeaderSize + h.data_size;
    if (file_size > h.data_offset + h.data_size && h.index_offset == 0) {
      return Damage("header claims no index, but extra bytes in file beyond data size");
    }
    if (h.index_offset != 0 && h.index_offset < h.data_offset + h.data_size) {
      return Damage(
          fmt::format("index offset overlaps with data. data ends at {}. index offset of {}",
                      std::max(length_to_index, h.data_offset + h.data_size), h.index_offset));
    }
    if (h.has_index()) {
      auto bytes = reader.IndexBytes();
      if (!bytes.ok()) return bytes.status();
      auto parsed = Index::Parse({reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()});
      if (!parsed.ok()) {
        return Damage(
            fmt::format("index at byte {}: {}", h.index_offset, parsed.status().detail()));
      }
      index = std::move(*parsed);
    }
  }
  std::set<std::string> missing_roots;
  for (const Cid& c : reader.roots()) missing_roots.insert(c.bytes());
  Section s;
  std::vector<uint64_t> offsets;
  for (;;) {
    auto more = reader.Next(&s, true);
    if (!more.ok()) return more.status();
    if (!*more) break;
    const std::string cid(reinterpret_cast<const char*>(s.cid.data()), s.cid.size());
    if (!missing_roots.empty()) missing_roots.erase(cid);
    if (opts.rehash_blocks) {
      Status st = CheckBlockHash(reader, s);
      if (!st.ok()) return st;
    }
    if (index && s.cid_info.hash_code != kIdentity) {
      offsets.clear();
      index->Lookup(s.cid_info.hash_code,
                    s.cid.subspan(s.cid_info.digest_offset, s.cid_info.digest_size), &offsets);
      if (std::find(offsets.begin(), offsets.end(), s.offset) == offsets.end()) {
        return Damage(
            fmt::format("could not look up known cid {} (section at byte {}) in index: {}",
                        CidToString(cid, s.cid_info), reader.payload_offset() + s.offset,
                        offsets.empty() ? "not found" : "no entry at its offset"));
      }
    }
  }
  if (!missing_roots.empty()) {
    std::string list;
    for (const std::string& b : missing_roots) {
      if (!list.empty()) list += " ";
      list += Cid::FromBytes(b)->ToString() + ":{}";
    }
    return Damage(fmt::format("header lists root(s) not present as a block: map[{}]", list));
  }
  return Status::OK();
}

}  // namespace boltpp::car
