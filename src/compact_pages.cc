// File: src/compact_pages.cc
// The page copy of Compact (docs/design.md, "Compaction"). It reads the
// source's pages directly, in key order, and rebuilds every tree bottom up
// in the destination:
//  - each bucket's leaf elements are packed into full pages with bbolt's
//    split rule at fill percent 1.0: a page closes when the next element
//    would pass the page size and it holds at least kMinKeysPerPage
//    elements, and a page that already spans overflow pages fills them
//    before it closes. The last two pages of a level become one when they
//    hold 2 * kMinKeysPerPage elements or fewer (bbolt does not split such a
//    node), and a last page of one element takes a second from its
//    neighbour (always for a branch; for a leaf when that element fills less
//    than a quarter page, the size under which bbolt's rebalance merges);
//  - a page gets the next page id when it is finished, so leaves are
//    written in key order, each branch right after its last child, each
//    nested bucket's pages before the parent leaf that holds its header;
//  - a bucket with no nested bucket whose one leaf fits in a quarter page is
//    stored inline in its parent's leaf value (bbolt's rule, as the logical
//    copy would make it);
//  - pages go out in chunks of kChunkBytes with one write each (on a helper
//    thread, while the next chunk fills), past the destination's
//    high-water mark (no committed page is touched); one ordinary commit
//    of the destination then frees its old empty root, writes the
//    freelist, sizes the file (by the growth rule, without its slack past
//    alloc_size) and writes the meta; its syncs cover every page.
// Every read of the source is bounds-checked (page ids within the
// high-water mark and the map, element offsets within the page, a page
// visited at most once, keys strictly increasing in each bucket, bucket
// nesting and tree depth bounded): damage is kCorruption, and the
// destination is left as it was.
#include <algorithm>
#include <forward_list>
#include <future>
#include <system_error>
#include <vector>

#include "compact.h"
#include "impl.h"

namespace boltpp {

using namespace format;

namespace {

constexpr size_t kChunkBytes = size_t{8} << 20;
// bbolt panics on a page of 0xFFFF elements or more.
constexpr size_t kMaxElemsPerPage = 0xFFFE;

// Writes runs of pages at consecutive ids from `first` on, buffered into
// chunks of kChunkBytes (a run larger than a chunk is written on its own).
// A full chunk is written by a helper thread while the next one fills (two
// buffers), so building pages and copying them into the file overlap; a
// write's error is returned by a later Reserve, Flush or Finish.
class PageWriter {
 public:
  // expected_bytes (about what will be written: the source's size) caps the
  // chunk, so a small compaction does not allocate and zero 8 MiB buffers.
  PageWriter(DBImpl* db, pgid_t first, uint32_t page_size, uint64_t expected_bytes)
      : db_(db),
        page_size_(page_size),
        chunk_(std::max<size_t>(std::min<uint64_t>(kChunkBytes, expected_bytes) / page_size_, 1) *
               page_size_),
        buf_first_(first),
        next_(first) {
    buf_.resize(chunk_);
  }
  // Waits for the write in flight (its buffer is a member).
  ~PageWriter() { (void)Wait(); }

  // A run of n pages at the next id (*id): its memory, not zeroed, is valid
  // until the next Reserve or Flush.
  Status Reserve(uint64_t n, pgid_t* id, uint8_t** out) {
    const uint64_t max_size = db_->opts.max_size;
    if (max_size > 0 && (next_ + n + 1) * page_size_ > max_size) {
      return Status(Code::kMaxSizeReached);
    }
    const uint64_t bytes = n * page_size_;
    if (used_ + bytes > chunk_) {
      if (Status s = Flush(); !s.ok()) return s;
    }
    *id = next_;
    next_ += n;
    if (bytes > chunk_) {
      big_.resize(bytes);
      big_id_ = *id;
      buf_first_ = next_;
      *out = big_.data();
      return Status::OK();
    }
    *out = buf_.data() + used_;
    used_ += bytes;
    return Status::OK();
  }

  // Starts writing what Reserve handed out so far (the chunk on the helper
  // thread, after the previous one is done; a large run right here).
  Status Flush() {
    if (Status s = Wait(); !s.ok()) return s;
    if (!big_.empty()) {
      Status s = Write(big_id_, big_.data(), big_.size());
      big_.clear();
      big_.shrink_to_fit();
      if (!s.ok()) return s;
    }
    if (used_ > 0) {
      std::swap(buf_, in_flight_);
      if (buf_.size() < chunk_) buf_.resize(chunk_);
      const pgid_t first = buf_first_;
      const size_t n = used_;
      try {
        pending_ = std::async(std::launch::async,
                              [this, first, n] { return Write(first, in_flight_.data(), n); });
      } catch (const std::system_error&) {  // no thread to be had: write here
        if (Status s = Write(first, in_flight_.data(), n); !s.ok()) return s;
      }
    }
    buf_first_ = next_;
    used_ = 0;
    return Status::OK();
  }

  // Flush, then waits until every page is written.
  Status Finish() {
    Status s = Flush();
    Status w = Wait();
    return s.ok() ? w : s;
  }

  // Waits for the write in flight; its status.
  Status Wait() { return pending_.valid() ? pending_.get() : Status::OK(); }

  pgid_t next() const { return next_; }

 private:
  Status Write(pgid_t id, const uint8_t* data, size_t n) {
    return db_->file->WriteAt(id * page_size_, data, n);
  }

  DBImpl* db_;
  uint32_t page_size_;
  size_t chunk_;
  std::vector<uint8_t> buf_;  // the chunk being filled
  size_t used_ = 0;
  pgid_t buf_first_;  // the id of the page at buf_[0]
  pgid_t next_;
  std::vector<uint8_t> in_flight_;  // the chunk the helper thread writes
  std::future<Status> pending_;     // its write
  std::vector<uint8_t> big_;        // a run larger than a chunk, written at the next Flush
  pgid_t big_id_ = 0;
};

// Elements of one page being filled: leaf elements at level 0, branch
// elements (first key of a child, its page id) above.
struct PendingPage {
  std::vector<Inode> elems;
  size_t bytes = kPageHeaderSize;  // the page's size once written

  void Clear() {
    elems.clear();
    bytes = kPageHeaderSize;
  }
};

// One level of a tree being built. `held` is the finished page before
// `current`, kept back until an element comes after `current` holds
// kMinKeysPerPage: until then the level may end there, and its last two
// pages may still be joined (JoinLastPages).
struct Level {
  PendingPage current;
  PendingPage held;
  bool has_held = false;
  uint64_t written = 0;
};

// Builds one bucket's tree from its leaf elements, given in key order.
class TreeBuilder {
 public:
  TreeBuilder(PageWriter* out, uint32_t page_size) : out_(out), page_size_(page_size) {}

  Status AddLeaf(uint32_t flags, Bytes key, Bytes value) {
    if (flags & kBucketLeafFlag) has_bucket_ = true;
    return Add(0, Inode::Leaf(flags, key, value));
  }

  // Keeps a value this builder's elements point at until the tree is built.
  Bytes Keep(std::string value) {
    kept_.push_front(std::move(value));
    return Bytes(kept_.front());
  }

  // bbolt's Inlineable: one leaf, no nested bucket, at most a quarter page.
  bool Inlineable() const {
    return levels_.size() <= 1 && !has_bucket_ &&
           (levels_.empty() || (levels_[0].written == 0 && !levels_[0].has_held &&
                                levels_[0].current.bytes <= page_size_ / 4));
  }

  // The bucket value of an Inlineable() bucket: header, then its leaf page.
  std::string InlineValue(uint64_t sequence) const {
    const PendingPage empty;
    const PendingPage& leaf = levels_.empty() ? empty : levels_[0].current;
    std::string value(kBucketHeaderSize + leaf.bytes, '\0');
    auto* p = reinterpret_cast<uint8_t*>(value.data());
    BucketHeader{0, sequence}.Encode(p);
    WriteInodes(p + kBucketHeaderSize, true, leaf.elems);
    return value;
  }

  // Writes every page still pending; *root is the tree's root page.
  Status Finish(pgid_t* root) {
    if (levels_.empty()) levels_.emplace_back();
    for (size_t level = 0;; level++) {
      JoinLastPages(level);
      if (levels_[level].written == 0 && !levels_[level].has_held) {
        return Write(level, /*to_parent=*/false, root);
      }
      if (levels_[level].has_held) {
        levels_[level].has_held = false;
        if (Status s = Write(level, true, nullptr, &Level::held); !s.ok()) return s;
      }
      if (!levels_[level].current.elems.empty()) {
        if (Status s = Write(level, true, nullptr); !s.ok()) return s;
      }
    }
  }

 private:
  size_t ElemSize(size_t level, const Inode& in) const {
    return kLeafElementSize + in.key.size() + (level == 0 ? in.value_size : 0);
  }

  // Whether page p takes one more element of `size` bytes: its first
  // kMinKeysPerPage elements always (bbolt's split rule), then any that fit
  // in the pages it already spans (a run of overflow pages fills up too).
  bool Takes(const PendingPage& p, size_t size) const {
    if (p.elems.size() < kMinKeysPerPage) return true;
    if (p.elems.size() >= kMaxElemsPerPage) return false;
    const size_t span = std::max<size_t>(1, (p.bytes + page_size_ - 1) / page_size_) * page_size_;
    return p.bytes + size <= span;
  }

  Status Add(size_t level, const Inode& in) {
    if (levels_.size() <= level) levels_.emplace_back();
    if (levels_[level].has_held && levels_[level].current.elems.size() >= kMinKeysPerPage) {
      // The level goes on past both pages: the held one is final.
      levels_[level].has_held = false;
      if (Status s = Write(level, true, nullptr, &Level::held); !s.ok()) return s;
    }
    Level& l = levels_[level];
    const size_t size = ElemSize(level, in);
    if (!Takes(l.current, size)) {
      // Nothing is held here: current had kMinKeysPerPage elements.
      std::swap(l.held, l.current);
      l.current.Clear();
      l.has_held = true;
    }
    l.current.elems.push_back(in);
    l.current.bytes += size;
    return Status::OK();
  }

  // The end of a level whose last page is still held: like bbolt, which
  // never splits a node of 2 * kMinKeysPerPage elements or fewer, the two
  // pages become one when they hold no more; a last page of one element
  // takes a second from the held page when that is fewer than bbolt keeps
  // in a page (a branch needs two; a leaf one, but a lone small element
  // makes an under-filled leaf bbolt's rebalance would merge).
  void JoinLastPages(size_t level) {
    Level& l = levels_[level];
    if (!l.has_held) return;
    PendingPage& h = l.held;
    PendingPage& c = l.current;
    const bool merge = h.elems.size() + c.elems.size() <= 2 * kMinKeysPerPage;
    if (!merge) {
      if (c.elems.size() >= kMinKeysPerPage) return;
      if (level == 0 && c.bytes >= page_size_ / 4) return;
      // h has more than kMinKeysPerPage elements (else merge): give one.
      const size_t size = ElemSize(level, h.elems.back());
      c.elems.insert(c.elems.begin(), h.elems.back());
      c.bytes += size;
      h.elems.pop_back();
      h.bytes -= size;
      return;
    }
    h.elems.insert(h.elems.end(), c.elems.begin(), c.elems.end());
    h.bytes += c.bytes - kPageHeaderSize;
    std::swap(h, c);
    h.Clear();
    l.has_held = false;
  }

  // Writes the page (current or held) of `level` at the next page id, then
  // (to_parent) adds its first key and id to the level above. *id, when
  // given, receives the page id.
  Status Write(size_t level, bool to_parent, pgid_t* id,
               PendingPage Level::*which = &Level::current) {
    PendingPage& p = levels_[level].*which;
    const uint64_t n = (p.bytes + page_size_ - 1) / page_size_;
    pgid_t pgid = 0;
    uint8_t* buf = nullptr;
    if (Status s = out_->Reserve(n, &pgid, &buf); !s.ok()) return s;
    SetPageHeader(buf, pgid, 0, 0, static_cast<uint32_t>(n - 1));
    const size_t end = WriteInodes(buf, level == 0, p.elems);
    std::memset(buf + end, 0, n * page_size_ - end);
    levels_[level].written++;
    const Bytes first_key = p.elems.empty() ? Bytes() : p.elems.front().key;
    p.Clear();
    if (id) *id = pgid;
    if (!to_parent) return Status::OK();
    return Add(level + 1, Inode::Branch(first_key, pgid));
  }

  PageWriter* out_;
  uint32_t page_size_;
  std::vector<Level> levels_;  // [0]: leaves; index-addressed (Add may grow it)
  bool has_bucket_ = false;
  std::forward_list<std::string> kept_;
};

// Walks the source's trees in key order and feeds them to TreeBuilders.
class PageCopier {
 public:
  PageCopier(TxImpl* src, PageWriter* out, uint32_t page_size)
      : src_(src), out_(out), page_size_(page_size) {
    seen_.assign(std::min<uint64_t>(src->meta.pgid, src->mapped_pages()), false);
  }

  // Copies the tree under root (the root bucket's or a bucket's) into b.
  Status CopyTree(pgid_t root, TreeBuilder& b, int nesting) {
    KeyOrder order;
    return Walk(root, 0, b, order, nesting);
  }

 private:
  struct KeyOrder {
    Bytes prev;
    bool any = false;
  };

  Status Walk(pgid_t id, int depth, TreeBuilder& b, KeyOrder& order, int nesting) {
    if (depth > kMaxTreeDepth) {
      return Corrupt(id, "tree deeper than " + std::to_string(kMaxTreeDepth) + " levels");
    }
    if (id < 2) return Corrupt(id, "a tree points at a meta page");
    if (id < seen_.size()) {
      if (seen_[id]) return Corrupt(id, "multiple references");
      seen_[id] = true;
    }
    PageView p;
    if (Status s = src_->NodePage(id, &p); !s.ok()) return s;
    if (p.is_leaf()) return CopyLeaf(p, id, b, order, nesting);
    for (size_t i = 0; i < p.count(); i++) {
      BranchElem e;
      if (!ReadBranchElem(p, i, &e)) return Corrupt(id, "branch element out of bounds");
      if (Status s = Walk(e.pgid, depth + 1, b, order, nesting); !s.ok()) return s;
    }
    return Status::OK();
  }

  // Copies the elements of leaf page p (page id, or the page holding an
  // inline bucket) into b, each nested bucket first.
  Status CopyLeaf(const PageView& p, pgid_t id, TreeBuilder& b, KeyOrder& order, int nesting) {
    for (size_t i = 0; i < p.count(); i++) {
      LeafElem e;
      if (!ReadLeafElem(p, i, &e)) return Corrupt(id, "leaf element out of bounds");
      if (e.key.empty()) return Corrupt(id, "empty key");
      if (order.any && CompareKeys(order.prev, e.key) >= 0) {
        return Corrupt(id, "keys out of order");
      }
      order.prev = e.key;
      order.any = true;
      Bytes value = e.value;
      if (e.flags & kBucketLeafFlag) {
        if (Status s = CopyBucket(e.value, id, b, nesting + 1, &value); !s.ok()) return s;
      }
      if (Status s = b.AddLeaf(e.flags, e.key, value); !s.ok()) return s;
    }
    return Status::OK();
  }

  // Copies the bucket whose value (header, inline page) is `stored`, found
  // on page id, and sets *value to its value in the copy (kept by parent).
  Status CopyBucket(Bytes stored, pgid_t id, TreeBuilder& parent, int nesting, Bytes* value) {
    if (nesting > kMaxBucketNesting) {
      return Corrupt(id, "buckets nested deeper than " + std::to_string(kMaxBucketNesting));
    }
    if (stored.size() < kBucketHeaderSize) return Corrupt(id, "bucket value too short");
    const auto* raw = reinterpret_cast<const uint8_t*>(stored.data());
    const BucketHeader h = BucketHeader::Decode(raw);
    TreeBuilder child(out_, page_size_);
    if (h.root == 0) {
      const PageView inline_page{raw + kBucketHeaderSize, stored.size() - kBucketHeaderSize};
      if (Status s = ValidateNodePage(inline_page, id); !s.ok()) return s;
      if (!inline_page.is_leaf()) return Corrupt(id, "inline bucket page is not a leaf");
      KeyOrder order;
      if (Status s = CopyLeaf(inline_page, id, child, order, nesting); !s.ok()) return s;
    } else if (Status s = CopyTree(h.root, child, nesting); !s.ok()) {
      return s;
    }
    if (child.Inlineable()) {
      *value = parent.Keep(child.InlineValue(h.sequence));
      return Status::OK();
    }
    BucketHeader copied{0, h.sequence};
    if (Status s = child.Finish(&copied.root); !s.ok()) return s;
    std::string header(kBucketHeaderSize, '\0');
    copied.Encode(reinterpret_cast<uint8_t*>(header.data()));
    *value = parent.Keep(std::move(header));
    return Status::OK();
  }

  TxImpl* src_;
  PageWriter* out_;
  uint32_t page_size_;
  std::vector<bool> seen_;  // source pages already walked
};

// Writes src's trees through out (past dst's high-water mark); *root is the
// new root bucket's root page.
Status WriteTrees(TxImpl* src, PageWriter* out, uint32_t page_size, pgid_t* root) {
  PageCopier copier(src, out, page_size);
  TreeBuilder top(out, page_size);
  if (Status s = copier.CopyTree(src->meta.root, top, 0); !s.ok()) return s;
  if (Status s = top.Finish(root); !s.ok()) return s;
  return out->Finish();
}

}  // namespace

Status CompactPages(DB& dst, DB& src) {
  auto src_tx = src.Begin(false);
  if (!src_tx.ok()) return src_tx.status();
  auto dst_tx = dst.Begin(true);
  if (!dst_tx.ok()) return dst_tx.status();
  TxImpl* s = src_tx->impl();
  TxImpl* d = dst_tx->impl();
  DBImpl* db = d->db;
  if (db->logging()) {
    return Status(Code::kInvalidArgument, "compact: the destination is in WAL mode");
  }
  PageView old_root;
  if (Status e = d->NodePage(d->meta.root, &old_root); !e.ok()) return e;
  if (old_root.count() != 0 || d->root->root_node != nullptr) {
    return Status(Code::kInvalidArgument, "compact: the destination is not empty");
  }
  auto size_before = db->file->Size();
  if (!size_before.ok()) return size_before.status();
  PageView src_root;
  if (Status e = s->NodePage(s->meta.root, &src_root); !e.ok()) return e;
  if (src_root.count() == 0) return dst_tx->Commit();  // nothing to copy, as the logical copy

  PageWriter out(db, d->meta.pgid, d->page_size, s->meta.pgid * uint64_t{s->page_size});
  pgid_t new_root = 0;
  Status status = WriteTrees(s, &out, d->page_size, &new_root);
  if (status.ok()) status = d->FreePage(d->meta.root);
  if (status.ok()) {
    auto m = db->EnsureMapped(out.next() * uint64_t{d->page_size});
    if (m.ok()) d->SetMap(std::move(*m));
    status = m.status();
  }
  if (!status.ok()) {
    (void)out.Wait();  // no write may land after the cut below
    // Only bytes past every committed page were written (the file grew by
    // the writes alone, unknown to the handle): cut them off again, while
    // this is still the writer (the rollback lets the next one in).
    (void)db->file->Truncate(*size_before, false);
    (void)dst_tx->Rollback();
    return status;
  }
  d->root->header.root = new_root;
  d->meta.pgid = out.next();
  // The commit sizes the file by the growth rule: up to alloc_size a power
  // of two, as bbolt and the logical copy do (so small copies match
  // bbolt's size), past it the pages plus alloc_size of slack, which a
  // compacted file does not need: there it gets exactly its pages (so it is
  // never larger than the logical copy's, whose commits grew it by the
  // rule).
  d->grow_to_fit = true;
  return dst_tx->Commit();
}

}  // namespace boltpp
