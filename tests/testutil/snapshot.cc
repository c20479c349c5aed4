// File: tests/testutil/snapshot.cc
#include "testutil/snapshot.h"

#include <sstream>

#include "testutil/model.h"
#include "testutil/random.h"

namespace boltpp::testing {

std::string PathString(const BucketPath& p) {
  if (p.empty()) return "/";
  std::string s;
  for (const auto& part : p) {
    bool printable = true;
    for (char ch : part) printable = printable && ch >= 0x20 && ch < 0x7f;
    s += "/" + (printable ? part : "0x" + Hex(part));
  }
  return s;
}

Bucket BucketAt(const Tx& tx, const BucketPath& path) {
  if (path.empty()) return Bucket();
  Bucket b = tx.GetBucket(path[0]);
  for (size_t i = 1; i < path.size() && b; ++i) b = b.GetBucket(path[i]);
  return b;
}

Status SnapshotTx(const Tx& tx, DBSnap* out) {
  out->clear();
  MBucket root;
  Status s = ReadModel(tx, &root);
  if (!s.ok()) return s;
  *out = Flatten(root);
  return Status::OK();
}

Status SnapshotDB(DB* db, DBSnap* out) {
  return db->View([&](Tx& tx) { return SnapshotTx(tx, out); });
}

std::string DiffSnaps(const DBSnap& want, const DBSnap& got, size_t max_diffs) {
  if (want == got) return "";
  std::ostringstream os;
  size_t n = 0;
  auto note = [&](const std::string& s) {
    if (n++ < max_diffs) os << "  " << s << "\n";
  };
  for (const auto& [path, w] : want) {
    auto it = got.find(path);
    if (it == got.end()) {
      note("missing bucket " + PathString(path));
      continue;
    }
    const BucketSnap& g = it->second;
    if (w.sequence != g.sequence) {
      note("bucket " + PathString(path) + ": sequence want " + std::to_string(w.sequence) +
           " got " + std::to_string(g.sequence));
    }
    for (const auto& name : w.buckets) {
      if (!g.buckets.count(name))
        note("bucket " + PathString(path) + ": missing sub-bucket " + Hex(name));
    }
    for (const auto& name : g.buckets) {
      if (!w.buckets.count(name))
        note("bucket " + PathString(path) + ": unexpected sub-bucket " + Hex(name));
    }
    for (const auto& [k, v] : w.kv) {
      auto kit = g.kv.find(k);
      if (kit == g.kv.end()) {
        note("bucket " + PathString(path) + ": missing key " + Hex(k));
      } else if (kit->second != v) {
        note("bucket " + PathString(path) + ": key " + Hex(k) + " want value " + Hex(v, 16) +
             " got " + Hex(kit->second, 16));
      }
    }
    for (const auto& [k, v] : g.kv) {
      if (!w.kv.count(k))
        note("bucket " + PathString(path) + ": unexpected key " + Hex(k) + " = " + Hex(v, 16));
    }
  }
  for (const auto& [path, g] : got) {
    if (!want.count(path)) note("unexpected bucket " + PathString(path));
  }
  if (n > max_diffs) os << "  ... " << (n - max_diffs) << " more differences\n";
  return os.str();
}

}  // namespace boltpp::testing
