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
    case kBranchPage:
      return "branch";
    case kLeafPage:
      return "leaf";
    case kMetaPage:
      return "meta";
    case kFreelistPage:
      return "freelist";
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
  used += Load<uint32_t>(e + kLeafElemPosOff) + last.key.size() + last.value.size();
  return used;
}

size_t BranchBytesUsed(const PageView& p) {
  size_t used = kPageHeaderSize;
  if (p.count() == 0) return used;
  BranchElem last;
  if (!ReadBranchElem(p, p.count() - 1u, &last)) return used;
  const uint8_t* e = p.data + kPageHeaderSize + (p.count() - 1u) * kBranchElementSize;
  used += kBranchElementSize * (p.count() - 1u);
  used += Load<uint32_t>(e + kBranchElemPosOff) + last.key.size();
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
  Meta meta;
  meta.magic = Load<uint32_t>(page + kMetaMagicOff);
  meta.version = Load<uint32_t>(page + kMetaVersionOff);
  meta.page_size = Load<uint32_t>(page + kMetaPageSizeOff);
  meta.flags = Load<uint32_t>(page + kMetaFlagsOff);
  meta.root = Load<uint64_t>(page + kMetaRootOff);
  meta.root_sequence = Load<uint64_t>(page + kMetaRootSequenceOff);
  meta.freelist = Load<uint64_t>(page + kMetaFreelistOff);
  meta.pgid = Load<uint64_t>(page + kMetaPgidOff);
  meta.txid = Load<uint64_t>(page + kMetaTxidOff);
  meta.checksum = Load<uint64_t>(page + kMetaChecksumOff);
  return meta;
}

// Writes every field but the checksum at its offset in a meta page.
static void EncodeChecksummedFields(const Meta& meta, uint8_t* page) {
  Store<uint32_t>(page + kMetaMagicOff, meta.magic);
  Store<uint32_t>(page + kMetaVersionOff, meta.version);
  Store<uint32_t>(page + kMetaPageSizeOff, meta.page_size);
  Store<uint32_t>(page + kMetaFlagsOff, meta.flags);
  Store<uint64_t>(page + kMetaRootOff, meta.root);
  Store<uint64_t>(page + kMetaRootSequenceOff, meta.root_sequence);
  Store<uint64_t>(page + kMetaFreelistOff, meta.freelist);
  Store<uint64_t>(page + kMetaPgidOff, meta.pgid);
  Store<uint64_t>(page + kMetaTxidOff, meta.txid);
}

uint64_t Meta::ComputeChecksum() const {
  uint8_t page[kPageHeaderSize + kMetaSize] = {};
  EncodeChecksummedFields(*this, page);
  return Fnv1a64(page + kMetaMagicOff, kMetaChecksummedSize);
}

void Meta::EncodeFields(uint8_t* page) const {
  EncodeChecksummedFields(*this, page);
  Store<uint64_t>(page + kMetaChecksumOff, ComputeChecksum());
}

void Meta::EncodePage(uint8_t* page, pgid_t page_id) const {
  SetPageHeader(page, page_id, kMetaPage, 0, 0);
  EncodeFields(page);
}

Status Meta::ValidateBasic() const {
  if (magic != kMagic) return Status(Code::kInvalid);
  if (version != kVersion) return Status(Code::kVersionMismatch);
  if (checksum != ComputeChecksum()) return Status(Code::kChecksum);
  return Status::OK();
}

Status Meta::Validate() const {
  if (Status s = ValidateBasic(); !s.ok()) return s;
  if (page_size < 512 || page_size > kMaxPageSize || (page_size & (page_size - 1)) != 0) {
    return Status(Code::kInvalid,
                  "meta page size " + std::to_string(page_size) + " is not a power of two");
  }
  if (pgid > kMaxMapSize / page_size) {
    return Status(Code::kInvalid,
                  "meta high-water mark " + std::to_string(pgid) + " is impossibly large");
  }
  if (pgid < 3 || root < 2 || root >= pgid) {
    return Status(Code::kInvalid, "meta root " + std::to_string(root) + " outside [2, " +
                                      std::to_string(pgid) + ")");
  }
  if (freelist != kNoFreelist && (freelist < 2 || freelist >= pgid)) {
    return Status(Code::kInvalid, "meta freelist " + std::to_string(freelist) + " outside [2, " +
                                      std::to_string(pgid) + ")");
  }
  return Status::OK();
}

bool ReadFreelistHeader(const uint8_t* page, size_t span, FreelistHeader* out) {
  if (span < kPageHeaderSize) return false;
  out->count = PageCount(page);
  out->ids_offset = kPageHeaderSize;
  if (out->count == 0xFFFF) {
    if (span < kPageHeaderSize + 8) return false;
    out->count = Load<uint64_t>(page + kPageHeaderSize);
    out->ids_offset += 8;
  }
  return true;
}

Status DecodeFreelist(const uint8_t* page, size_t span, pgid_t id, std::vector<pgid_t>* ids) {
  ids->clear();
  if (span < kPageHeaderSize) return Corrupt(id, "freelist header out of bounds");
  if (PageFlags(page) != kFreelistPage) {
    return Corrupt(id, "invalid freelist page type: " + PageTypeName(PageFlags(page)));
  }
  FreelistHeader h;
  if (!ReadFreelistHeader(page, span, &h)) return Corrupt(id, "freelist count out of bounds");
  const uint64_t count = h.count;
  const size_t start = h.ids_offset;
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
