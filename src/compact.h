// File: src/compact.h
// Compaction's two ways of copying a database (docs/design.md,
// "Compaction"), for Compact (src/compact.cc) and white-box tests.
//
// The page copy (src/compact_pages.cc) rebuilds every tree bottom up from
// the source's pages in key order: leaves packed full (bbolt's fill rules at
// fill percent 1.0), branches over them, each bucket's pages written as they
// are finished, in big sequential writes into a fresh destination, then one
// ordinary commit (freelist, metas). The logical copy puts every key through
// ordinary write transactions, as bbolt's compact does.
#pragma once

#include <cstdint>
#include <string>

#include "boltpp/db.h"

namespace boltpp {

enum class CompactMethod {
  kAuto,   // the page copy when the destination can take it, else the logical copy
  kPages,  // the page copy only (kInvalidArgument when the destination cannot take it)
  kKeys,   // the logical copy only
};

// Copies src into dst with `method`; *used (when given) tells which copy ran.
// tx_max_size bounds the logical copy's transactions; the page copy runs as
// one commit whose memory is bounded by its write buffer, not by the data.
Status CompactWith(DB& dst, DB& src, int64_t tx_max_size, CompactMethod method,
                   CompactMethod* used = nullptr);

// Why the page copy cannot write into dst ("" when it can): dst must be
// writable, not in WAL mode, and hold no bucket or key.
std::string PageCopyRefusal(DB& dst);

// The page copy. Requires PageCopyRefusal(dst) == "" (checked again inside
// dst's write transaction). On any error dst is left as it was: its write
// transaction is rolled back and the file cut back to its previous length.
Status CompactPages(DB& dst, DB& src);

// The logical copy (bbolt compact.go): every bucket, key, value and
// sequence through write transactions of at most tx_max_size bytes of keys
// and values (0 = one transaction), leaves filled to 100%.
Status CompactKeys(DB& dst, DB& src, int64_t tx_max_size);

}  // namespace boltpp
