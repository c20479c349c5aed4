// File: src/compact.cc
// Compact: the page copy (src/compact_pages.cc) into a fresh destination,
// else the logical copy here: every bucket, key, value and sequence of src
// into dst in sorted order with fill percent 1.0, committing every
// tx_max_size bytes (bbolt compact.go).
#include <string>
#include <vector>

#include "compact.h"
#include "impl.h"

namespace boltpp {
namespace {

class Compactor {
 public:
  Compactor(DB& dst, int64_t tx_max_size) : dst_(dst), tx_max_size_(tx_max_size) {}

  Status Begin() {
    auto t = dst_.Begin(true);
    if (!t.ok()) return t.status();
    tx_ = std::move(*t);
    return Status::OK();
  }

  // Copies the bucket src (at path) and everything in it.
  Status CopyBucket(const std::vector<std::string>& path, Bucket src) {
    if (Status s = Account(path.back().size()); !s.ok()) return s;
    Bucket parent = Open(std::vector<std::string>(path.begin(), path.end() - 1));
    // bbolt fills the parent fully too, which matters for buckets of many
    // inline sub-buckets.
    if (parent) parent.SetFillPercent(1.0);
    auto created =
        path.size() == 1 ? tx_.CreateBucket(path.back()) : parent.CreateBucket(path.back());
    if (!created.ok()) return created.status();
    if (Status s = created->SetSequence(src.Sequence()); !s.ok()) return s;
    Cursor c = src.NewCursor();
    for (auto e = c.First(); e; e = c.Next()) {
      if (e->is_bucket) {
        std::vector<std::string> child = path;
        child.emplace_back(e->key);
        if (Status s = CopyBucket(child, src.GetBucket(e->key)); !s.ok()) return s;
        continue;
      }
      if (Status s = Account(e->key.size() + e->value.size()); !s.ok()) return s;
      Bucket b = Open(path);
      b.SetFillPercent(1.0);
      if (Status s = b.Put(e->key, e->value); !s.ok()) return s;
    }
    return c.status();
  }

  Status Finish() { return tx_.Commit(); }

 private:
  // Commits the destination when this entry would pass tx_max_size.
  Status Account(size_t size) {
    const auto sz = static_cast<int64_t>(size);
    if (tx_max_size_ != 0 && size_ + sz > tx_max_size_) {
      if (Status s = tx_.Commit(); !s.ok()) return s;
      if (Status s = Begin(); !s.ok()) return s;
      size_ = 0;
      cached_path_.clear();
      cached_ = Bucket();
    }
    size_ += sz;
    return Status::OK();
  }

  Bucket Open(const std::vector<std::string>& path) {
    if (path.empty()) return Bucket();
    if (cached_ && path == cached_path_) return cached_;
    Bucket b = tx_.GetBucket(path[0]);
    for (size_t i = 1; i < path.size() && b; i++) b = b.GetBucket(path[i]);
    cached_path_ = path;
    cached_ = b;
    return b;
  }

  DB& dst_;
  int64_t tx_max_size_;
  int64_t size_ = 0;
  Tx tx_;
  std::vector<std::string> cached_path_;
  Bucket cached_;
};

}  // namespace

Status CompactKeys(DB& dst, DB& src, int64_t tx_max_size) {
  Compactor c(dst, tx_max_size);
  if (Status s = c.Begin(); !s.ok()) return s;
  Status s = src.View([&](Tx& tx) {
    return tx.ForEach([&](Bytes name, Bucket b) { return c.CopyBucket({std::string(name)}, b); });
  });
  if (!s.ok()) return s;
  return c.Finish();
}

std::string PageCopyRefusal(DB& dst) {
  if (dst.IsReadOnly()) return "the destination is read-only";
  if (dst.impl()->logging()) return "the destination is in WAL mode (its log records operations)";
  bool empty = false;
  Status s = dst.View([&](Tx& tx) {
    empty = !tx.NewCursor().First().has_value();
    return Status::OK();
  });
  if (!s.ok()) return "the destination cannot be read: " + s.ToString();
  return empty ? "" : "the destination is not empty";
}

Status CompactWith(DB& dst, DB& src, int64_t tx_max_size, CompactMethod method,
                   CompactMethod* used) {
  if (method == CompactMethod::kAuto) {
    method = PageCopyRefusal(dst).empty() ? CompactMethod::kPages : CompactMethod::kKeys;
  }
  if (used) *used = method;
  if (method == CompactMethod::kPages) return CompactPages(dst, src);
  return CompactKeys(dst, src, tx_max_size);
}

Status Compact(DB& dst, DB& src, int64_t tx_max_size) {
  return CompactWith(dst, src, tx_max_size, CompactMethod::kAuto);
}

}  // namespace boltpp
