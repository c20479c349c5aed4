// File: fuzz/car_fuzz_logic.cc
#include "car_fuzz_logic.h"

#include <string>
#include <vector>

#include "boltpp/car/hash.h"
#include "boltpp/car/index.h"
#include "boltpp/car/inspect.h"
#include "boltpp/car/reader.h"

namespace boltpp::car::fuzz {

namespace {

void LookUpAll(const Index& index) {
  std::vector<uint64_t> offsets;
  size_t seen = 0;
  index.ForEach([&](const IndexEntry& e) {
    offsets.clear();
    index.Lookup(e.hash_code, e.digest, &offsets);
    if (offsets.empty()) __builtin_trap();  // every record must be found
    return ++seen < 100000;
  });
}

}  // namespace

int FuzzCarReader(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  ReadOptions ro;
  ro.zero_length_section_as_eof = (data[0] & 1) != 0;
  ro.max_section_size = (data[0] & 2) ? 4096 : kMaxSectionSize;
  const bool rehash = (data[0] & 4) != 0;
  auto reader = CarReader::OpenBytes({data + 1, size - 1}, ro);
  if (!reader.ok()) return 0;
  CarReader& r = **reader;
  Section s;
  for (int i = 0; i < 100000; i++) {
    auto more = r.Next(&s, true);
    if (!more.ok() || !*more) break;
    if (rehash)
      (void)DigestMatches(s.cid_info.hash_code, s.block,
                          s.cid.subspan(s.cid_info.digest_offset, s.cid_info.digest_size));
    auto again = r.ReadSectionAt(s.offset);
    if (!again.ok() || again->length != s.length) __builtin_trap();  // seekable reads agree
  }
  (void)Inspect(r, rehash);
  for (uint64_t codec : {kMultihashIndexSortedCodec, kIndexSortedCodec}) {
    IndexOptions io;
    io.codec = codec;
    io.store_identity_cids = (data[0] & 8) != 0;
    auto bytes = BuildIndex(r, io);
    if (!bytes.ok()) continue;
    auto index = Index::Parse({reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()});
    if (!index.ok()) {
      if (io.adopt_existing && r.v2_header() && r.v2_header()->has_index())
        continue;        // adopted, maybe damaged
      __builtin_trap();  // an index we wrote must parse
    }
    LookUpAll(*index);
  }
  return 0;
}

int FuzzIndexReader(const uint8_t* data, size_t size) {
  auto index = Index::Parse({data, size});
  if (!index.ok()) return 0;
  LookUpAll(*index);
  return 0;
}

}  // namespace boltpp::car::fuzz
