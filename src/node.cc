// File: src/node.cc
// In-memory nodes: materialize, modify, rebalance, split and spill
// (bbolt node.go). The split and spill rules are bbolt's exactly, so boltpp
// lays out pages the way bbolt does.
#include <algorithm>
#include <chrono>

#include "impl.h"

namespace boltpp {

using namespace format;

Node* Node::Root() {
  Node* n = this;
  while (n->parent) n = n->parent;
  return n;
}

static size_t ElementSize(const Inode& in) {
  return kLeafElementSize + in.key.size() + in.value_size;
}

size_t Node::Size() const {
  size_t sz = kPageHeaderSize;
  for (const Inode& in : inodes) sz += ElementSize(in);
  return sz;
}

Status Node::ChildAt(size_t index, Node** out) {
  if (is_leaf || index >= inodes.size()) {
    return Status(Code::kCorruption, "invalid child index on node of page " + std::to_string(pgid));
  }
  return bucket->NodeFor(inodes[index].pgid, this, out);
}

static size_t LowerBound(const std::vector<Inode>& inodes, Bytes key) {
  auto it = std::lower_bound(inodes.begin(), inodes.end(), key,
                             [](const Inode& in, Bytes k) { return CompareKeys(in.key, k) < 0; });
  return static_cast<size_t>(it - inodes.begin());
}

size_t Node::ChildIndex(const Node* child) const { return LowerBound(inodes, child->key); }

void Node::Put(Bytes old_key, Bytes new_key, Bytes value, pgid_t child, uint32_t flags) {
  // Key-order inserts land past the last key: no search, no memmove.
  const bool past_end = !inodes.empty() && CompareKeys(inodes.back().key, old_key) < 0;
  size_t index = past_end ? inodes.size() : LowerBound(inodes, old_key);
  const bool exact = index < inodes.size() && inodes[index].key == old_key;
  const Inode in = is_leaf ? Inode::Leaf(flags, new_key, value) : Inode::Branch(new_key, child);
  if (exact) {
    tracked_size += ElementSize(in) - ElementSize(inodes[index]);
    inodes[index] = in;
    return;
  }
  last_insert_appended = index == inodes.size();
  tracked_size += ElementSize(in);
  inodes.insert(inodes.begin() + static_cast<std::ptrdiff_t>(index), in);
}

void Node::Del(Bytes k) {
  size_t index = LowerBound(inodes, k);
  if (index >= inodes.size() || inodes[index].key != k) return;
  tracked_size -= ElementSize(inodes[index]);
  inodes.erase(inodes.begin() + static_cast<std::ptrdiff_t>(index));
  unbalanced = true;
}

Status Node::Read(const PageView& p, pgid_t id) {
  pgid = id;
  is_leaf = p.is_leaf();
  const size_t n = p.count();
  inodes.resize(n);
  size_t size = kPageHeaderSize;
  for (size_t i = 0; i < n; i++) {
    Inode& in = inodes[i];
    if (!ReadInode(p, i, &in)) {
      return Corrupt(id, std::string(is_leaf ? "leaf" : "branch") + " element " +
                             std::to_string(i) + " out of bounds");
    }
    if (in.key.empty()) return Corrupt(id, "zero-length key at element " + std::to_string(i));
    size += ElementSize(in);
  }
  tracked_size = size;
  key = n > 0 ? inodes[0].key : Bytes();
  return Status::OK();
}

void Node::Write(uint8_t* page, size_t span) const {
  const size_t used = WriteInodes(page, is_leaf, inodes);
  std::memset(page + used, 0, span - used);
}

// bbolt's splitIndex over inodes[begin, end): the size of the left piece.
size_t Node::SplitIndex(size_t begin, size_t end, size_t threshold) const {
  size_t sz = kPageHeaderSize, index = 0;
  for (size_t i = 0; begin + i + kMinKeysPerPage < end; i++) {
    index = i;
    const Inode& in = inodes[begin + i];
    const size_t elsize = kLeafElementSize + in.key.size() + in.value_size;
    if (i >= kMinKeysPerPage && sz + elsize > threshold) break;
    sz += elsize;
  }
  return index;
}

// Whether inodes[begin, end) serialize to less than v bytes.
bool Node::RangeSizeLessThan(size_t begin, size_t end, size_t v) const {
  size_t sz = kPageHeaderSize;
  for (size_t i = begin; i < end; i++) {
    sz += kLeafElementSize + inodes[i].key.size() + inodes[i].value_size;
    if (sz >= v) return false;
  }
  return true;
}

// Where bbolt's rule (splitTwo applied to the remainder until it fits) cuts
// this node into page-sized pieces: the index each piece after the first
// starts at, ascending.
std::vector<size_t> Node::SpillCuts(size_t page_size) const {
  const double fill = std::clamp(bucket->fill_percent, kMinFillPercent, kMaxFillPercent);
  const size_t threshold = static_cast<size_t>(static_cast<double>(page_size) * fill);
  std::vector<size_t> cuts;
  for (size_t start = 0;;) {
    const size_t end = inodes.size();
    if (end - start <= kMinKeysPerPage * 2 || RangeSizeLessThan(start, end, page_size)) break;
    start += SplitIndex(start, end, threshold);
    cuts.push_back(start);
  }
  return cuts;
}

// Splits this node into page-sized pieces at SpillCuts, copying each piece's
// inodes once.
std::vector<Node*> Node::SplitForSpill(size_t page_size) {
  std::vector<size_t> cuts = SpillCuts(page_size);
  std::vector<Node*> parts{this};
  if (cuts.empty()) return parts;
  TxImpl* tx = bucket->tx;
  if (!parent) {
    parent = tx->NewNode(bucket);
    parent->children.push_back(this);
  }
  cuts.push_back(inodes.size());
  for (size_t i = 0; i + 1 < cuts.size(); i++) {
    Node* next = tx->NewNode(bucket);
    next->is_leaf = is_leaf;
    next->parent = parent;
    parent->children.push_back(next);
    next->inodes.assign(inodes.begin() + static_cast<std::ptrdiff_t>(cuts[i]),
                        inodes.begin() + static_cast<std::ptrdiff_t>(cuts[i + 1]));
    parts.push_back(next);
    tx->stats.split++;
  }
  inodes.resize(cuts.front());
  inodes.shrink_to_fit();
  return parts;
}

Status Node::Spill() {
  TxImpl* tx = bucket->tx;
  if (spilled) return Status::OK();
  std::sort(children.begin(), children.end(), [](const Node* x, const Node* y) {
    Bytes kx = x->inodes.empty() ? Bytes() : x->inodes[0].key;
    Bytes ky = y->inodes.empty() ? Bytes() : y->inodes[0].key;
    return CompareKeys(kx, ky) < 0;
  });
  for (size_t i = 0; i < children.size(); i++) {
    if (Status s = children[i]->Spill(); !s.ok()) return s;
  }
  children.clear();
  MergeSplitEntries();

  for (Node* node : SplitForSpill(tx->page_size)) {
    if (Status s = node->Free(); !s.ok()) return s;
    if (node->inodes.size() >= 0xFFFF) {
      return Status(Code::kInvalidArgument, "inode overflow: a node holds 65535 or more keys");
    }
    const size_t pages = (node->Size() + tx->page_size - 1) / tx->page_size;
    pgid_t id;
    uint8_t* buf;
    if (Status s = tx->Allocate(pages, &id, &buf); !s.ok()) return s;
    node->pgid = id;
    node->Write(buf, pages * tx->page_size);
    node->spilled = true;
    if (node->parent && node != this) {
      // A piece split off this node: its entry joins the parent's in one
      // merge when the parent spills (an insert each would move the
      // parent's tail once per piece).
      node->parent->split_entries.push_back(Inode::Branch(node->inodes[0].key, node->pgid));
      node->key = node->inodes[0].key;
    } else if (node->parent) {
      Bytes k = node->key.empty() ? node->inodes[0].key : node->key;
      node->parent->Put(k, node->inodes[0].key, Bytes(), node->pgid, 0);
      node->key = node->inodes[0].key;
    }
    tx->stats.spill++;
  }
  if (parent && parent->pgid == 0) {
    children.clear();
    return parent->Spill();
  }
  return Status::OK();
}

void Node::MergeSplitEntries() {
  if (split_entries.empty()) return;
  // Both runs are in key order: the children spilled in key order, each
  // adding its pieces left to right, and a piece's key falls between its
  // node's entry and the next one.
  std::vector<Inode> merged;
  merged.reserve(inodes.size() + split_entries.size());
  std::merge(inodes.begin(), inodes.end(), split_entries.begin(), split_entries.end(),
             std::back_inserter(merged),
             [](const Inode& a, const Inode& b) { return CompareKeys(a.key, b.key) < 0; });
  inodes = std::move(merged);
  split_entries.clear();
  split_entries.shrink_to_fit();
}

// Where SplitOversized cuts: at one of bbolt's spill cuts, so that the left
// part, once nothing more lands in it, spills into exactly the pages the
// whole node would have. After a key-order insert, the last cut (the right
// part is under a page and takes the following inserts: sequential loads
// lay out pages as bbolt does); otherwise the cut nearest the middle.
size_t Node::InMemorySplitIndex() const {
  const std::vector<size_t> cuts = SpillCuts(bucket->tx->page_size);
  const size_t mid = inodes.size() / 2;
  if (cuts.empty()) return mid;
  if (last_insert_appended) return cuts.back();
  size_t best = cuts.front();
  for (size_t c : cuts) {
    if ((c > mid ? c - mid : mid - c) < (best > mid ? best - mid : mid - best)) best = c;
  }
  return best;
}

bool Node::Oversized() {
  const size_t n = inodes.size();
  if (n > kInMemorySplitMaxInodes) return true;
  if (n <= kInMemorySplitInodes || n % kInMemorySplitCheckEvery != 0) return false;
  const size_t limit = kInMemorySplitPages * bucket->tx->page_size;
  if (tracked_size <= limit) return false;
  tracked_size = Size();  // exact: a change Put and Del do not see may have left it stale
  return tracked_size > limit;
}

void Node::SplitOversized() {
  TxImpl* tx = bucket->tx;
  for (Node* n = this; n && n->inodes.size() > kInMemorySplitInodes;) {
    if (!n->parent) {
      // A new root takes over n's page id, so that page is still freed once.
      Node* root = tx->NewNode(bucket);
      bucket->nodes.erase(n->pgid);
      root->pgid = n->pgid == 0 ? tx->next_placeholder++ : n->pgid;
      n->pgid = tx->next_placeholder++;
      n->key = n->inodes[0].key;
      n->parent = root;
      root->children.push_back(n);
      root->inodes.push_back(Inode::Branch(n->key, n->pgid));
      root->tracked_size = root->Size();
      bucket->nodes.set(root->pgid, root);
      bucket->nodes.set(n->pgid, n);
      bucket->root_node = root;
    }
    if (CompareKeys(n->inodes[0].key, n->key) < 0) {
      // Smaller keys were inserted into the parent's first child: its entry
      // key must drop to them first, or the right half's key could equal it.
      n->parent->Put(n->key, n->inodes[0].key, Bytes(), n->pgid, 0);
      n->key = n->inodes[0].key;
    }
    const size_t mid = n->InMemorySplitIndex();
    Node* right = tx->NewNode(bucket);
    right->is_leaf = n->is_leaf;
    right->pgid = tx->next_placeholder++;
    right->inodes.assign(n->inodes.begin() + static_cast<std::ptrdiff_t>(mid), n->inodes.end());
    n->inodes.resize(mid);
    right->tracked_size = right->Size();
    n->tracked_size = n->Size();
    right->key = right->inodes[0].key;
    right->unbalanced = n->unbalanced;
    if (!right->is_leaf) {
      std::vector<Node*> keep;
      for (Node* c : n->children) {
        (CompareKeys(c->key, right->key) >= 0 ? right->children : keep).push_back(c);
      }
      n->children = std::move(keep);
      for (Node* c : right->children) c->parent = right;
    }
    bucket->nodes.set(right->pgid, right);
    right->parent = n->parent;
    n->parent->children.push_back(right);
    n->parent->Put(right->key, right->key, Bytes(), right->pgid, 0);
    n = n->parent->inodes.size() > kInMemorySplitMaxInodes ? n->parent : nullptr;
  }
}

void Node::RemoveChild(const Node* target) {
  auto it = std::find(children.begin(), children.end(), target);
  if (it != children.end()) children.erase(it);
}

Status Node::Free() {
  if (pgid == 0 || IsPlaceholderPgid(pgid)) {
    pgid = 0;
    return Status::OK();
  }
  Status s = bucket->tx->FreePage(pgid);
  pgid = 0;
  return s;
}

// Moves the materialized children of `from`'s inodes under `to` (branches;
// a leaf's inodes name no page).
static void AdoptChildren(BucketImpl* b, const std::vector<Inode>& from, Node* to) {
  if (to->is_leaf) return;
  for (const Inode& in : from) {
    NodeMap::Slot* it = b->nodes.find(in.pgid);
    if (!it) continue;
    Node* child = it->second;
    if (child->parent) child->parent->RemoveChild(child);
    child->parent = to;
    to->children.push_back(child);
  }
}

Status Node::Rebalance() {
  if (!unbalanced) return Status::OK();
  unbalanced = false;
  TxImpl* tx = bucket->tx;
  tx->stats.rebalance++;
  const size_t threshold = tx->page_size / 4;
  if (Size() > threshold && inodes.size() > MinKeys()) return Status::OK();

  if (!parent) {
    // The root: collapse a branch with a single child into it.
    if (!is_leaf && inodes.size() == 1) {
      Node* child;
      if (Status s = bucket->NodeFor(inodes[0].pgid, this, &child); !s.ok()) return s;
      is_leaf = child->is_leaf;
      inodes = child->inodes;
      children = child->children;
      for (size_t i = 0; !is_leaf && i < inodes.size(); i++) {
        if (NodeMap::Slot* it = bucket->nodes.find(inodes[i].pgid)) it->second->parent = this;
      }
      child->parent = nullptr;
      bucket->nodes.erase(child->pgid);
      return child->Free();
    }
    return Status::OK();
  }

  if (inodes.empty()) {
    parent->Del(key);
    parent->RemoveChild(this);
    bucket->nodes.erase(pgid);
    if (Status s = Free(); !s.ok()) return s;
    return parent->Rebalance();
  }

  if (parent->inodes.size() < 2) {
    return Status(Code::kCorruption,
                  "page " + std::to_string(parent->pgid) + ": branch with a single child");
  }
  const bool use_next = parent->ChildIndex(this) == 0;
  const size_t my_index = parent->ChildIndex(this);
  Node* target;
  if (Status s = parent->ChildAt(use_next ? my_index + 1 : my_index - 1, &target); !s.ok())
    return s;
  if (target->is_leaf != is_leaf) {
    // Only a damaged tree has leaves and branches as siblings; merging them
    // would read child ids as values (and values as ids).
    return Corrupt(parent->pgid, "leaf and branch pages under one parent");
  }
  if (use_next) {
    // Absorb the right sibling.
    AdoptChildren(bucket, target->inodes, this);
    inodes.insert(inodes.end(), target->inodes.begin(), target->inodes.end());
    parent->Del(target->key);
    parent->RemoveChild(target);
    bucket->nodes.erase(target->pgid);
    if (Status s = target->Free(); !s.ok()) return s;
  } else {
    // Append this node to the left sibling.
    AdoptChildren(bucket, inodes, target);
    target->inodes.insert(target->inodes.end(), inodes.begin(), inodes.end());
    parent->Del(key);
    parent->RemoveChild(this);
    bucket->nodes.erase(pgid);
    if (Status s = Free(); !s.ok()) return s;
  }
  return parent->Rebalance();
}

}  // namespace boltpp
