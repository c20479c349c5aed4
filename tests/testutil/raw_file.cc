// File: tests/testutil/raw_file.cc
#include "testutil/raw_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace boltpp::testing {

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileBytes(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

void PatchFile(const std::string& path, uint64_t offset, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) throw std::runtime_error("PatchFile: cannot open " + path);
  ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
  ::close(fd);
  if (n != static_cast<ssize_t>(bytes.size())) throw std::runtime_error("PatchFile: short write");
}

uint64_t FileSizeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

void TruncateFile(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    throw std::runtime_error("TruncateFile failed: " + path);
  }
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

uint64_t Fnv1a64(const void* data, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

RawPageHeader ParsePageHeader(std::string_view file, uint64_t offset) {
  RawPageHeader h;
  h.id = LoadLE<uint64_t>(file, offset);
  h.flags = LoadLE<uint16_t>(file, offset + 8);
  h.count = LoadLE<uint16_t>(file, offset + 10);
  h.overflow = LoadLE<uint32_t>(file, offset + 12);
  return h;
}

RawMeta ParseMeta(std::string_view file, uint64_t offset) {
  RawMeta m;
  m.page_id = LoadLE<uint64_t>(file, offset);
  m.page_flags = LoadLE<uint16_t>(file, offset + 8);
  m.magic = LoadLE<uint32_t>(file, offset + 16);
  m.version = LoadLE<uint32_t>(file, offset + 20);
  m.page_size = LoadLE<uint32_t>(file, offset + 24);
  m.flags = LoadLE<uint32_t>(file, offset + 28);
  m.root = LoadLE<uint64_t>(file, offset + 32);
  m.root_sequence = LoadLE<uint64_t>(file, offset + 40);
  m.freelist = LoadLE<uint64_t>(file, offset + 48);
  m.pgid = LoadLE<uint64_t>(file, offset + 56);
  m.txid = LoadLE<uint64_t>(file, offset + 64);
  m.checksum = LoadLE<uint64_t>(file, offset + 72);
  if (offset + 72 <= file.size()) m.computed_checksum = Fnv1a64(file.data() + offset + 16, 56);
  return m;
}

RawMeta ActiveMeta(std::string_view file, uint32_t page_size) {
  RawMeta m0 = ParseMeta(file, 0);
  RawMeta m1 = ParseMeta(file, page_size);
  if (m0.valid() && m1.valid()) return m1.txid > m0.txid ? m1 : m0;
  if (m1.valid()) return m1;
  return m0;
}

void FixMetaChecksum(std::string* file, uint64_t offset) {
  uint64_t sum = Fnv1a64(file->data() + offset + 16, 56);
  std::memcpy(file->data() + offset + 72, &sum, 8);
}

std::vector<RawLeafElem> ParseLeaf(std::string_view file, uint64_t offset) {
  RawPageHeader h = ParsePageHeader(file, offset);
  std::vector<RawLeafElem> out;
  for (uint32_t i = 0; i < h.count; ++i) {
    uint64_t e = offset + 16 + 16ull * i;
    RawLeafElem el;
    el.flags = LoadLE<uint32_t>(file, e);
    el.pos = LoadLE<uint32_t>(file, e + 4);
    el.ksize = LoadLE<uint32_t>(file, e + 8);
    el.vsize = LoadLE<uint32_t>(file, e + 12);
    uint64_t k = e + el.pos;
    if (k + el.ksize + el.vsize <= file.size()) {
      el.key = std::string(file.substr(k, el.ksize));
      el.value = std::string(file.substr(k + el.ksize, el.vsize));
    }
    out.push_back(std::move(el));
  }
  return out;
}

std::vector<RawBranchElem> ParseBranch(std::string_view file, uint64_t offset) {
  RawPageHeader h = ParsePageHeader(file, offset);
  std::vector<RawBranchElem> out;
  for (uint32_t i = 0; i < h.count; ++i) {
    uint64_t e = offset + 16 + 16ull * i;
    RawBranchElem el;
    el.pos = LoadLE<uint32_t>(file, e);
    el.ksize = LoadLE<uint32_t>(file, e + 4);
    el.pgid = LoadLE<uint64_t>(file, e + 8);
    uint64_t k = e + el.pos;
    if (k + el.ksize <= file.size()) el.key = std::string(file.substr(k, el.ksize));
    out.push_back(std::move(el));
  }
  return out;
}

std::vector<uint64_t> ParseFreelist(std::string_view file, uint64_t offset) {
  RawPageHeader h = ParsePageHeader(file, offset);
  uint64_t count = h.count;
  uint64_t ids = offset + 16;
  if (count == 0xFFFF) {
    count = LoadLE<uint64_t>(file, ids);
    ids += 8;
  }
  std::vector<uint64_t> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count && ids + 8 * (i + 1) <= file.size(); ++i) {
    out.push_back(LoadLE<uint64_t>(file, ids + 8 * i));
  }
  return out;
}

RawBucketRef FindRawBucket(std::string_view file, uint32_t page_size, uint64_t root_pgid,
                           std::string_view name) {
  RawBucketRef ref;
  uint64_t pgid = root_pgid;
  for (int depth = 0; depth < 64; ++depth) {
    uint64_t off = pgid * page_size;
    RawPageHeader h = ParsePageHeader(file, off);
    if (h.flags == kRawBranch) {
      auto elems = ParseBranch(file, off);
      if (elems.empty()) return ref;
      size_t idx = 0;
      for (size_t i = 0; i < elems.size(); ++i) {
        if (elems[i].key <= name) idx = i;
      }
      pgid = elems[idx].pgid;
      continue;
    }
    if (h.flags != kRawLeaf) return ref;
    for (auto& e : ParseLeaf(file, off)) {
      if (e.key == name) {
        ref.found = true;
        ref.elem_flags = e.flags;
        ref.value = e.value;
      }
    }
    return ref;
  }
  return ref;
}

static void CollectLeafCounts(std::string_view file, uint32_t page_size, uint64_t pgid, int depth,
                              std::vector<int>* out) {
  if (depth > 64) return;
  uint64_t off = pgid * page_size;
  RawPageHeader h = ParsePageHeader(file, off);
  if (h.flags == kRawLeaf) {
    out->push_back(h.count);
  } else if (h.flags == kRawBranch) {
    for (auto& e : ParseBranch(file, off))
      CollectLeafCounts(file, page_size, e.pgid, depth + 1, out);
  }
}

std::vector<int> LeafCountsUnder(std::string_view file, uint32_t page_size, uint64_t pgid) {
  std::vector<int> out;
  CollectLeafCounts(file, page_size, pgid, 0, &out);
  return out;
}

}  // namespace boltpp::testing

namespace boltpp::testing {

static void WalkReachable(std::string_view file, uint32_t page_size, uint64_t pgid, int depth,
                          std::vector<uint64_t>* out) {
  if (depth > 64 || (pgid + 1) * page_size > file.size()) {
    out->push_back(pgid);
    return;
  }
  uint64_t off = pgid * page_size;
  RawPageHeader h = ParsePageHeader(file, off);
  for (uint64_t i = 0; i <= h.overflow && i < (1u << 20); ++i) out->push_back(pgid + i);
  if (h.flags == kRawBranch) {
    for (auto& e : ParseBranch(file, off)) WalkReachable(file, page_size, e.pgid, depth + 1, out);
  } else if (h.flags == kRawLeaf) {
    for (auto& e : ParseLeaf(file, off)) {
      if ((e.flags & 1) == 0 || e.value.size() < 16) continue;
      uint64_t root = LoadLE<uint64_t>(e.value, 0);
      if (root != 0) WalkReachable(file, page_size, root, depth + 1, out);
    }
  }
}

std::vector<uint64_t> ReachablePages(std::string_view file, uint32_t page_size,
                                     const RawMeta& meta) {
  std::vector<uint64_t> out{0, 1};
  WalkReachable(file, page_size, meta.root, 0, &out);
  if (meta.freelist != kRawNoFreelist) {
    RawPageHeader h = ParsePageHeader(file, meta.freelist * page_size);
    for (uint64_t i = 0; i <= h.overflow; ++i) out.push_back(meta.freelist + i);
  }
  return out;
}

}  // namespace boltpp::testing
