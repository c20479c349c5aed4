// File: src/bucket.cc
// Buckets: key/value access, nested buckets, and the bucket half of commit
// (rebalance, spill, inlining) as in bbolt bucket.go.
#include <unordered_set>

#include "impl.h"

namespace boltpp {

using namespace format;

BucketImpl::BucketImpl(TxImpl* t, BucketImpl* p, BucketHeader h)
    : tx(t), parent(p), header(h), buckets(&t->arena) {}

Status BucketImpl::BeginChange() {
  tx->tree_version++;
  if (tx->closed) return Status(Code::kTxClosed);
  if (!tx->writable) return Status(Code::kTxNotWritable);
  if (!tx->error.ok()) return tx->error;
  // A deleted bucket's handle no longer reaches the tree that commits.
  if (detached) return Status(Code::kBucketNotFound);
  return Status::OK();
}

// Opens a bucket from its stored value (header + optional inline page).
static BucketImpl* OpenValue(BucketImpl* parent, Bytes value) {
  TxImpl* tx = parent->tx;
  auto* data = reinterpret_cast<const uint8_t*>(value.data());
  if (value.size() < kBucketHeaderSize) {
    (void)tx->Poison(Status(Code::kCorruption, "bucket value of " + std::to_string(value.size()) +
                                                   " bytes is too short"));
    return nullptr;
  }
  const BucketHeader header = BucketHeader::Decode(data);
  // A damaged file can point a bucket at one of its ancestors' pages: every
  // walk over nested buckets would then recurse forever.
  int nesting = 0;
  for (BucketImpl* a = parent; a; a = a->parent) {
    if (header.root != 0 && a->header.root == header.root) {
      (void)tx->Poison(
          Corrupt(header.root, "bucket refers to an enclosing bucket's root (a cycle)"));
      return nullptr;
    }
    if (++nesting > kMaxBucketNesting) {
      (void)tx->Poison(
          Status(Code::kCorruption,
                 "buckets nested deeper than " + std::to_string(kMaxBucketNesting) + " levels"));
      return nullptr;
    }
  }
  BucketImpl* b = tx->NewBucket(parent, header);
  if (b->header.root == 0) {
    b->inline_page = PageView{data + kBucketHeaderSize, value.size() - kBucketHeaderSize};
    Status s = ValidateNodePage(b->inline_page, 0);
    if (s.ok() && !b->inline_page.is_leaf()) s = Corrupt(0, "inline bucket page is not a leaf");
    if (!s.ok()) {
      (void)tx->Poison(Status(Code::kCorruption, "inline bucket: " + s.detail()));
      return nullptr;
    }
  }
  return b;
}

uint64_t ChildIndex::Hash(const BucketImpl* parent, Bytes name) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = (reinterpret_cast<uintptr_t>(parent) ^ name.size()) * kMul;
  const char* p = name.data();
  size_t n = name.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  if (n > 0) {
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) w |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
    h = (h ^ w) * kMul;
  }
  h ^= h >> 32;
  h *= 0xBF58476D1CE4E5B9ULL;
  return h ^ (h >> 29);
}

BucketImpl* ChildIndex::Find(const BucketImpl* parent, Bytes name, uint64_t hash) const {
  if (count_ == 0) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (!s.child) return nullptr;
    if (s.hash == hash && s.child->parent == parent && s.child->name == name) return s.child;
  }
}

void ChildIndex::Insert(BucketImpl* child, uint64_t hash) {
  if ((count_ + 1) * 2 > slots_.size()) Grow();
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i].child) i = (i + 1) & mask;
  slots_[i] = Slot{hash, child};
  if (count_ < kFirstFew) first_few_[count_] = static_cast<uint32_t>(i);
  count_++;
}

void ChildIndex::Grow() {
  std::vector<Slot> old(std::max<size_t>(16, slots_.size() * 2));
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  size_t moved = 0;
  for (const Slot& s : old) {
    if (!s.child) continue;
    size_t i = s.hash & mask;
    while (slots_[i].child) i = (i + 1) & mask;
    slots_[i] = s;
    if (moved < kFirstFew) first_few_[moved] = static_cast<uint32_t>(i);
    moved++;
  }
}

BucketImpl* BucketImpl::OpenChild(Bytes name, Bytes value) {
  BucketImpl* child = OpenValue(this, value);
  if (!child) return nullptr;
  child->name = name;
  buckets.emplace(name, child);
  return child;
}

BucketImpl* BucketImpl::Child(Bytes name) {
  if (tx->closed) return nullptr;
  if (!tx->writable) {
    // A reader: the index, then the tree. The key is in the map, which
    // outlives the transaction (no copy: nothing is allocated).
    const uint64_t hash = ChildIndex::Hash(this, name);
    if (BucketImpl* known = tx->child_index.Find(this, name, hash)) return known;
    Inode in;
    if (!Lookup(name, &in)) return nullptr;
    if (in.key != name || !(in.flags & kBucketLeafFlag)) return nullptr;
    BucketImpl* child = OpenValue(this, in.value());
    if (!child) return nullptr;
    child->name = in.key;
    tx->child_index.Insert(child, hash);
    return child;
  }
  if (auto it = buckets.find(name); it != buckets.end()) return it->second;
  Inode in;
  if (!Lookup(name, &in)) return nullptr;
  if (in.key != name || !(in.flags & kBucketLeafFlag)) return nullptr;
  // A writer copies the key, as a modified node's keys may move.
  return OpenChild(tx->Copy(in.key), in.value());
}

static Bytes EmptyBucketValue(TxImpl* tx) {
  uint8_t buf[kBucketHeaderSize + kPageHeaderSize] = {};
  SetPageHeader(buf + kBucketHeaderSize, 0, kLeafPage, 0, 0);
  return tx->Copy(Bytes(reinterpret_cast<const char*>(buf), sizeof buf));
}

Result<BucketImpl*> BucketImpl::CreateChild(Bytes name) {
  if (Status s = BeginChange(); !s.ok()) return s;
  if (name.empty()) return Status(Code::kBucketNameRequired);
  CursorImpl c(this);
  Inode in;
  if (!c.SeekRaw(name, &in)) return c.status();
  if (in.key == name) {
    return Status((in.flags & kBucketLeafFlag) ? Code::kBucketExists : Code::kIncompatibleValue);
  }
  Node* leaf;
  if (Status s = c.LeafNode(&leaf); !s.ok()) return tx->Poison(s);
  Bytes key = tx->Copy(name);
  Bytes value = EmptyBucketValue(tx);
  leaf->Put(key, key, value, 0, kBucketLeafFlag);
  BucketImpl* child = OpenChild(key, value);
  if (!child) return tx->error;
  return child;
}

Status BucketImpl::DeleteChild(Bytes name) {
  if (Status s = BeginChange(); !s.ok()) return s;
  CursorImpl c(this);
  Inode in;
  if (!c.SeekRaw(name, &in)) return c.status();
  if (in.key != name) return Status(Code::kBucketNotFound);
  if (!(in.flags & kBucketLeafFlag)) return Status(Code::kIncompatibleValue);
  std::string key(name);
  BucketImpl* child = Child(key);
  if (!child) return tx->error.ok() ? Status(Code::kBucketNotFound) : tx->error;

  // Delete nested buckets first, so that their pages are freed too.
  std::vector<std::string> nested;
  Status s = child->ForEach([&](const Entry& e) {
    if (e.is_bucket) nested.emplace_back(e.key);
    return Status::OK();
  });
  if (!s.ok()) return s;
  for (const std::string& n : nested) {
    if (Status d = child->DeleteChild(n); !d.ok()) return d;
  }
  buckets.erase(buckets.find(Bytes(key)));
  child->detached = true;
  child->nodes.clear();
  child->root_node = nullptr;
  if (Status f = child->Free(); !f.ok()) return tx->Poison(f);

  // The cursor's path may be stale after nested deletes: seek again.
  if (!c.SeekRaw(key, &in)) return c.status();
  Node* leaf;
  if (Status l = c.LeafNode(&leaf); !l.ok()) return tx->Poison(l);
  leaf->Del(key);
  return Status::OK();
}

Status BucketImpl::MoveChild(Bytes name, BucketImpl* dst) {
  if (tx->closed || dst->tx->closed) return Status(Code::kTxClosed);
  if (!tx->writable || !dst->tx->writable) return Status(Code::kTxNotWritable);
  if (dst->tx != tx) return Status(Code::kDifferentDB);
  if (Status s = BeginChange(); !s.ok()) return s;
  if (dst->detached) return Status(Code::kBucketNotFound);
  if (dst == this || (header.root != 0 && header.root == dst->header.root))
    return Status(Code::kSameBuckets);
  CursorImpl src_cur(this);
  Inode in;
  if (!src_cur.SeekRaw(name, &in)) return src_cur.status();
  if (in.key != name) return Status(Code::kBucketNotFound);
  if (!(in.flags & kBucketLeafFlag)) return Status(Code::kIncompatibleValue);
  CursorImpl dst_cur(dst);
  Inode there;
  if (!dst_cur.SeekRaw(name, &there)) return dst_cur.status();
  if (there.key == name) {
    return Status((there.flags & kBucketLeafFlag) ? Code::kBucketExists : Code::kIncompatibleValue);
  }
  auto cached = buckets.find(name);
  BucketImpl* child = cached == buckets.end() ? nullptr : cached->second;
  for (BucketImpl* a = dst; a && child; a = a->parent) {
    if (a == child) {
      return Status(Code::kInvalidArgument,
                    "cannot move a bucket into itself or one of its descendants");
    }
  }
  Node* src_leaf;
  Node* dst_leaf;
  if (Status s = src_cur.LeafNode(&src_leaf); !s.ok()) return tx->Poison(s);
  if (Status s = dst_cur.LeafNode(&dst_leaf); !s.ok()) return tx->Poison(s);
  Bytes key = tx->Copy(name);
  Bytes value = tx->Copy(in.value());
  if (child) {
    buckets.erase(cached);
    child->parent = dst;
    child->name = key;
    dst->buckets.emplace(key, child);
  }
  src_leaf->Del(key);
  dst_leaf->Put(key, key, value, 0, kBucketLeafFlag);
  return Status::OK();
}

std::optional<Bytes> BucketImpl::Get(Bytes key) {
  if (tx->closed || key.empty()) return std::nullopt;  // keys are never empty
  Inode in;
  if (!Lookup(key, &in)) return std::nullopt;
  if (in.key != key || (in.flags & kBucketLeafFlag)) return std::nullopt;
  return in.value();
}

Status CheckPut(Bytes key, Bytes value) {
  if (key.empty()) return Status(Code::kKeyRequired);
  if (key.size() > kMaxKeySize) return Status(Code::kKeyTooLarge);
  if (value.size() > kMaxValueSize) return Status(Code::kValueTooLarge);
  return Status::OK();
}

Status BucketImpl::Put(Bytes key, Bytes value) {
  if (Status s = BeginChange(); !s.ok()) return s;
  if (Status s = CheckPut(key, value); !s.ok()) return s;
  Node* leaf = AppendLeaf(key);
  if (leaf) {
    tx->stats.cursor_count++;  // as the descent's cursor would count
  } else {
    CursorImpl c(this);
    Inode in;
    if (!c.SeekRaw(key, &in)) return c.status();
    if (in.key == key && (in.flags & kBucketLeafFlag)) return Status(Code::kIncompatibleValue);
    if (Status s = c.LeafNode(&leaf); !s.ok()) return tx->Poison(s);
  }
  PutInLeaf(leaf, key, value);
  return Status::OK();
}

bool BucketImpl::PutInLeaf(Node* leaf, Bytes key, Bytes value) {
  // Key and value copied side by side, as a leaf page holds them (one
  // allocation; Node::Write then copies both with one memcpy).
  auto* mem = static_cast<char*>(tx->arena.allocate(key.size() + value.size(), 1));
  std::memcpy(mem, key.data(), key.size());
  if (!value.empty()) std::memcpy(mem + key.size(), value.data(), value.size());
  const Bytes k(mem, key.size());
  leaf->Put(k, k, Bytes(mem + key.size(), value.size()), 0, 0);
  append_leaf = leaf;
  if (!leaf->Oversized()) return false;
  leaf->SplitOversized();
  return true;
}

Node* BucketImpl::AppendLeaf(Bytes key) const {
  Node* leaf = append_leaf;
  if (!leaf || !leaf->is_leaf || leaf->inodes.empty() ||
      CompareKeys(leaf->inodes.back().key, key) >= 0) {
    return nullptr;
  }
  const Node* n = leaf;
  for (const Node* p = n->parent; p; n = p, p = p->parent) {
    if (p->inodes.empty() || p->inodes.back().pgid != n->pgid ||
        CompareKeys(p->inodes.back().key, key) > 0) {
      return nullptr;
    }
  }
  return n == root_node ? leaf : nullptr;
}

Status BucketImpl::Delete(Bytes key) {
  if (Status s = BeginChange(); !s.ok()) return s;
  CursorImpl c(this);
  Inode in;
  if (!c.SeekRaw(key, &in)) return c.status();
  if (in.key != key) return Status::OK();
  if (in.flags & kBucketLeafFlag) return Status(Code::kIncompatibleValue);
  Node* leaf;
  if (Status s = c.LeafNode(&leaf); !s.ok()) return tx->Poison(s);
  leaf->Del(key);
  return Status::OK();
}

Status BucketImpl::MaterializeRoot() {
  if (root_node) return Status::OK();
  Node* n;
  return NodeFor(header.root, nullptr, &n);
}

Status BucketImpl::SetSequence(uint64_t v) {
  if (Status s = BeginChange(); !s.ok()) return s;
  if (Status s = MaterializeRoot(); !s.ok()) return tx->Poison(s);
  header.sequence = v;
  return Status::OK();
}

Result<uint64_t> BucketImpl::NextSequence() {
  if (Status s = BeginChange(); !s.ok()) return s;
  if (Status s = MaterializeRoot(); !s.ok()) return tx->Poison(s);
  return ++header.sequence;
}

Status BucketImpl::ForEach(const std::function<Status(const Entry&)>& fn) {
  if (tx->closed) return Status(Code::kTxClosed);
  CursorImpl c(this);
  for (auto e = c.First(); e; e = c.Next()) {
    if (Status s = fn(*e); !s.ok()) return s;
  }
  return c.status();
}

static void AddPageStats(BucketImpl* b, const PageView& p, int depth, BucketStats* s,
                         BucketStats* sub);

BucketStats BucketImpl::Stats() {
  BucketStats s, sub;
  s.bucket_n = 1;
  if (header.root == 0) {
    s.inline_bucket_n = 1;
    AddPageStats(this, inline_page, 0, &s, &sub);
  } else {
    Status st = tx->ForEachTreePage(header.root, false, [&](pgid_t, const PageView& p, int depth) {
      AddPageStats(this, p, depth, &s, &sub);
    });
    if (!st.ok()) (void)tx->Poison(st);
  }
  s.branch_alloc = (s.branch_page_n + s.branch_overflow_n) * tx->page_size;
  s.leaf_alloc = (s.leaf_page_n + s.leaf_overflow_n) * tx->page_size;
  s.depth += sub.depth;
  s.Add(sub);
  return s;
}

static void AddPageStats(BucketImpl* b, const PageView& p, int depth, BucketStats* s,
                         BucketStats* sub) {
  if (p.is_leaf()) {
    s->key_n += p.count();
    const int64_t used = static_cast<int64_t>(LeafBytesUsed(p));
    if (b->header.root == 0) {
      s->inline_bucket_inuse += used;
    } else {
      s->leaf_page_n++;
      s->leaf_inuse += used;
      s->leaf_overflow_n += PageOverflow(p.data);
      for (size_t i = 0; i < p.count(); i++) {
        LeafElem e;
        if (!ReadLeafElem(p, i, &e) || !(e.flags & kBucketLeafFlag)) continue;
        if (BucketImpl* child = OpenValue(b, e.value)) sub->Add(child->Stats());
      }
    }
  } else if (p.is_branch()) {
    s->branch_page_n++;
    s->branch_inuse += static_cast<int64_t>(BranchBytesUsed(p));
    s->branch_overflow_n += PageOverflow(p.data);
  }
  if (depth + 1 > s->depth) s->depth = depth + 1;
}

Status BucketImpl::NodeFor(pgid_t id, Node* parent_node, Node** out) {
  if (NodeMap::Slot* it = nodes.find(id)) {
    *out = it->second;
    return Status::OK();
  }
  PageView p;
  if (header.root == 0) {
    if (id != 0) return Corrupt(id, "inline bucket refers to a page");
    p = inline_page;
  } else if (Status s = tx->NodePage(id, &p); !s.ok()) {
    return s;
  }
  Node* n = tx->NewNode(this);
  n->parent = parent_node;
  if (Status s = n->Read(p, id); !s.ok()) return s;
  if (parent_node) {
    parent_node->children.push_back(n);
  } else {
    root_node = n;
  }
  nodes.set(id, n);
  tx->stats.node_count++;
  *out = n;
  return Status::OK();
}

Status BucketImpl::PageNode(pgid_t id, PageView* page, Node** node) {
  *node = nullptr;
  if (header.root == 0) {
    if (id != 0) {
      // Only a node split in memory (placeholder id) can hang under an inline root.
      if (NodeMap::Slot* it = nodes.find(id)) {
        *node = it->second;
        return Status::OK();
      }
      return Corrupt(id, "inline bucket refers to a page");
    }
    if (root_node) {
      *node = root_node;
    } else {
      *page = inline_page;
    }
    return Status::OK();
  }
  if (NodeMap::Slot* it = nodes.find(id)) {
    *node = it->second;
    return Status::OK();
  }
  return tx->NodePage(id, page);
}

Status BucketImpl::Rebalance() {
  std::vector<Node*> snapshot;
  snapshot.reserve(nodes.size());
  for (auto& [id, n] : nodes) snapshot.push_back(n);
  for (Node* n : snapshot) {
    // A node merged away by an earlier rebalance is no longer in the map.
    NodeMap::Slot* it = nodes.find(n->pgid);
    if (!it || it->second != n) continue;
    if (Status s = n->Rebalance(); !s.ok()) return s;
  }
  for (auto& [name, child] : buckets) {
    if (Status s = child->Rebalance(); !s.ok()) return s;
  }
  return Status::OK();
}

bool BucketImpl::Inlineable() const {
  const Node* n = root_node;
  if (!n || !n->is_leaf) return false;
  size_t size = kPageHeaderSize;
  for (const Inode& in : n->inodes) {
    size += kLeafElementSize + in.key.size() + in.value_size;
    if ((in.flags & kBucketLeafFlag) || size > tx->page_size / 4) return false;
  }
  return true;
}

Bytes BucketImpl::WriteInline() {
  const size_t size = kBucketHeaderSize + root_node->Size();
  auto* buf = static_cast<uint8_t*>(tx->arena.allocate(size, 8));
  std::memset(buf, 0, kBucketHeaderSize + kPageHeaderSize);
  header.Encode(buf);
  root_node->Write(buf + kBucketHeaderSize, size - kBucketHeaderSize);
  return Bytes(reinterpret_cast<const char*>(buf), size);
}

Status BucketImpl::Spill() {
  for (auto& [name, child] : buckets) {
    Bytes value;
    if (child->Inlineable()) {
      if (Status s = child->Free(); !s.ok()) return s;
      value = child->WriteInline();
    } else {
      if (Status s = child->Spill(); !s.ok()) return s;
      uint8_t hdr[kBucketHeaderSize];
      child->header.Encode(hdr);
      value = tx->Copy(Bytes(reinterpret_cast<const char*>(hdr), sizeof hdr));
    }
    if (!child->root_node) continue;  // unchanged: its stored value stands
    CursorImpl c(this);
    Inode in;
    if (!c.SeekRaw(name, &in)) return c.status();
    if (in.key != name || !(in.flags & kBucketLeafFlag)) {
      return Status(Code::kCorruption, "misplaced bucket header for \"" + std::string(name) + "\"");
    }
    Node* leaf;
    if (Status s = c.LeafNode(&leaf); !s.ok()) return s;
    Bytes key = tx->Copy(name);
    leaf->Put(key, key, value, 0, kBucketLeafFlag);
  }
  if (!root_node) return Status::OK();
  if (Status s = root_node->Spill(); !s.ok()) return s;
  root_node = root_node->Root();
  header.root = root_node->pgid;
  return Status::OK();
}

// Frees every page of this bucket's tree, following materialized nodes
// where there are any (so pages already freed by rebalance are skipped).
static Status FreeTree(BucketImpl* b, pgid_t id, int depth) {
  if (depth > kMaxTreeDepth) return Corrupt(id, "tree too deep (a cycle?)");
  PageView p;
  Node* n;
  if (Status s = b->PageNode(id, &p, &n); !s.ok()) return s;
  if (n) {
    if (Status s = n->Free(); !s.ok()) return s;
    if (n->is_leaf) return Status::OK();
    for (const Inode& in : n->inodes) {
      if (Status s = FreeTree(b, in.pgid, depth + 1); !s.ok()) return s;
    }
    return Status::OK();
  }
  if (Status s = b->tx->FreePage(id); !s.ok()) return s;
  if (p.is_leaf()) return Status::OK();
  for (size_t i = 0; i < p.count(); i++) {
    BranchElem e;
    if (!ReadBranchElem(p, i, &e)) return Corrupt(id, "branch element out of bounds");
    if (Status s = FreeTree(b, e.pgid, depth + 1); !s.ok()) return s;
  }
  return Status::OK();
}

Status BucketImpl::Free() {
  if (header.root == 0) return Status::OK();
  Status s = FreeTree(this, header.root, 0);
  header.root = 0;
  return s;
}

}  // namespace boltpp
