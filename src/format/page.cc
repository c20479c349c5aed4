// File: src/format/page.cc
#include "format/page.h"

#include <cstdio>

namespace boltpp::format {

uint64_t Fnv1a64(const uint8_t* data, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= data[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string PageTypeName(uint16_t flags) {
  switch (flags) {
    case kBranchPage: return "branch";
    case kLeafPage: return "leaf";
    case kMetaPage: return "meta";
    case kFreelistPage: return "freelist";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "unknown<%02x>", flags);
      return buf;
    }
  }
}

Status Corrupt(pgid_t id, const std::string& what) {
  return Status(Code::kCorruption, "page " + std::to_string(id) + ": " + what);
}

size_t LeafBytesUsed(const PageView& p) {
  size_t used = kPageHeaderSize;
  if (p.count() == 0) return used;
  LeafElem last;
  if (!ReadLeafElem(p, p.count() - 1u, &last)) return used;
  const uint8_t* e = p.data + kPageHeaderSize + (p.count() - 1u) * kLeafElementSize;
  used += kLeafElementSize * (p.count() - 1u);
  used += Load<uint32_t>(e + 4) + last.key.size() + last.value.size();
  return used;
}

size_t BranchBytesUsed(const PageView& p) {
  size_t used = kPageHeaderSize;
  if (p.count() == 0) return used;
  BranchElem last;
  if (!ReadBranchElem(p, p.count() - 1u, &last)) return used;
  const uint8_t* e = p.data + kPageHeaderSize + (p.count() - 1u) * kBranchElementSize;
  used += kBranchElementSize * (p.count() - 1u);
  used += Load<uint32_t>(e) + last.key.size();
  return used;
}

Status ValidateNodePage(const PageView& p, pgid_t id) {
  if (p.span < kPageHeaderSize) return Corrupt(id, "page header out of bounds");
  const uint16_t flags = p.flags();
  if (flags != kBranchPage && flags != kLeafPage) {
    return Corrupt(id, "invalid page type: " + PageTypeName(flags));
  }
  if (kPageHeaderSize + uint64_t{p.count()} * 16 > p.span) {
    return Corrupt(id, "element count " + std::to_string(p.count()) + " does not fit in the page");
  }
  return Status::OK();
}

Meta Meta::Decode(const uint8_t* page) {
  const uint8_t* m = page + kPageHeaderSize;
  Meta meta;
  meta.magic = Load<uint32_t>(m + 0);
  meta.version = Load<uint32_t>(m + 4);
  meta.page_size = Load<uint32_t>(m + 8);
  meta.flags = Load<uint32_t>(m + 12);
  meta.root = Load<uint64_t>(m + 16);
  meta.root_sequence = Load<uint64_t>(m + 24);
  meta.freelist = Load<uint64_t>(m + 32);
  meta.pgid = Load<uint64_t>(m + 40);
  meta.txid = Load<uint64_t>(m + 48);
  meta.checksum = Load<uint64_t>(m + 56);
  return meta;
}

static void EncodeMetaFields(const Meta& meta, uint8_t* m) {
  Store<uint32_t>(m + 0, meta.magic);
  Store<uint32_t>(m + 4, meta.version);
  Store<uint32_t>(m + 8, meta.page_size);
  Store<uint32_t>(m + 12, meta.flags);
  Store<uint64_t>(m + 16, meta.root);
  Store<uint64_t>(m + 24, meta.root_sequence);
  Store<uint64_t>(m + 32, meta.freelist);
  Store<uint64_t>(m + 40, meta.pgid);
  Store<uint64_t>(m + 48, meta.txid);
}

uint64_t Meta::ComputeChecksum() const {
  uint8_t buf[kMetaSize] = {};
  EncodeMetaFields(*this, buf);
  return Fnv1a64(buf, 56);
}

void Meta::EncodePage(uint8_t* page, pgid_t page_id) const {
  SetPageHeader(page, page_id, kMetaPage, 0, 0);
  uint8_t* m = page + kPageHeaderSize;
  EncodeMetaFields(*this, m);
  Store<uint64_t>(m + 56, ComputeChecksum());
}

Status Meta::Validate() const {
  if (magic != kMagic) return Status(Code::kInvalid);
  if (version != kVersion) return Status(Code::kVersionMismatch);
  if (checksum != ComputeChecksum()) return Status(Code::kChecksum);
  if (page_size < 512 || page_size > kMaxPageSize || (page_size & (page_size - 1)) != 0) {
    return Status(Code::kInvalid, "meta page size " + std::to_string(page_size) + " is not a power of two");
  }
  if (pgid > kMaxMapSize / page_size) {
    return Status(Code::kInvalid, "meta high-water mark " + std::to_string(pgid) + " is impossibly large");
  }
  if (pgid < 3 || root < 2 || root >= pgid) {
    return Status(Code::kInvalid, "meta root " + std::to_string(root) + " outside [2, " + std::to_string(pgid) + ")");
  }
  if (freelist != kNoFreelist && (freelist < 2 || freelist >= pgid)) {
    return Status(Code::kInvalid,
                  "meta freelist " + std::to_string(freelist) + " outside [2, " + std::to_string(pgid) + ")");
  }
  return Status::OK();
}

Status DecodeFreelist(const uint8_t* page, size_t span, pgid_t id, std::vector<pgid_t>* ids) {
  ids->clear();
  if (span < kPageHeaderSize) return Corrupt(id, "freelist header out of bounds");
  if (PageFlags(page) != kFreelistPage) {
    return Corrupt(id, "invalid freelist page type: " + PageTypeName(PageFlags(page)));
  }
  uint64_t count = PageCount(page);
  uint64_t start = kPageHeaderSize;
  if (count == 0xFFFF) {
    if (span < kPageHeaderSize + 8) return Corrupt(id, "freelist count out of bounds");
    count = Load<uint64_t>(page + kPageHeaderSize);
    start += 8;
  }
  if (count > (span - start) / 8) {
    return Corrupt(id, "freelist count " + std::to_string(count) + " does not fit in the page");
  }
  ids->resize(count);
  if (count > 0) std::memcpy(ids->data(), page + start, count * 8);
  return Status::OK();
}

void EncodeFreelist(uint8_t* page, const std::vector<pgid_t>& ids) {
  uint8_t* out = page + kPageHeaderSize;
  if (ids.size() < 0xFFFF) {
    Store<uint16_t>(page + kPageCountOff, static_cast<uint16_t>(ids.size()));
  } else {
    Store<uint16_t>(page + kPageCountOff, 0xFFFF);
    Store<uint64_t>(out, ids.size());
    out += 8;
  }
  if (!ids.empty()) std::memcpy(out, ids.data(), ids.size() * 8);
}

uint64_t MmapSize(uint64_t size, uint32_t page_size) {
  for (int i = 15; i <= 30; i++) {
    if (size <= (uint64_t{1} << i)) return uint64_t{1} << i;
  }
  uint64_t sz = size;
  if (sz % kMaxMmapStep != 0) sz += kMaxMmapStep - sz % kMaxMmapStep;
  if (sz % page_size != 0) sz = (sz / page_size + 1) * page_size;
  if (sz > kMaxMapSize) sz = kMaxMapSize;
  return sz;
}

}  // namespace boltpp::format
