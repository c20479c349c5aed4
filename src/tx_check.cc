// File: src/tx_check.cc
// The consistency checker (bbolt tx_check.go), with bbolt's messages, plus
// Inspect and Page. The checker never trusts the file: every page is
// bounds-checked and a page met twice is reported, not walked again.
#include <cctype>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

#include "impl.h"

namespace boltpp {

using namespace format;

namespace {

std::string Hex(Bytes b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (unsigned char c : b) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

std::string StackString(const std::vector<pgid_t>& stack) {
  std::string s = "[";
  for (size_t i = 0; i < stack.size(); i++) {
    if (i) s += ' ';
    s += std::to_string(stack[i]);
  }
  return s + "]";
}

class Checker {
 public:
  Checker(TxImpl* tx, const CheckOptions& opts) : tx_(tx), opts_(opts) {}

  std::vector<std::string> Run() {
    LoadFreed();
    reachable_.insert(0);
    reachable_.insert(1);
    if (tx_->meta.freelist != kNoFreelist) {
      PageView p;
      if (tx_->RawPage(tx_->meta.freelist, &p).ok()) {
        for (uint64_t i = 0; i <= PageOverflow(p.data); i++)
          reachable_.insert(tx_->meta.freelist + i);
      }
    }
    if (opts_.from_page != 0) {
      if (opts_.from_page < 2 || opts_.from_page >= tx_->meta.pgid) {
        Error("page ID (" + std::to_string(opts_.from_page) + ") out of range [2, " +
              std::to_string(tx_->meta.pgid) + ")");
        return errors_;
      }
      CheckTree(opts_.from_page, {}, nullptr, nullptr);
      return errors_;
    }
    CheckTree(tx_->meta.root, {}, nullptr, nullptr);
    if (have_freelist_) {
      for (pgid_t i = 0; i < tx_->meta.pgid; i++) {
        if (!reachable_.count(i) && !freed_.count(i))
          Error("page " + std::to_string(i) + ": unreachable unfreed");
      }
    }
    return errors_;
  }

 private:
  void Error(std::string e) { errors_.push_back(std::move(e)); }

  std::string Key(Bytes k) const {
    if (opts_.printable_keys) {
      bool printable = true;
      for (unsigned char c : k) printable = printable && std::isprint(c);
      if (printable) return std::string(k);
    }
    return Hex(k);
  }

  // The freed set: what this snapshot's freelist page lists, or the writer's
  // in-memory freelist while a commit checks itself. In WAL mode between
  // checkpoints the freelist page is the checkpoint's: the in-memory one
  // then, when this snapshot is the newest and no writer runs (else the
  // leak check is skipped).
  void LoadFreed() {
    std::vector<pgid_t> ids;
    const bool stale = tx_->db->FreelistStale(tx_->meta);
    if (stale && tx_->writable && tx_->committing) {
      ids = tx_->db->freelist->AllIds();
    } else if (stale) {
      if (tx_->writable || !tx_->db->FreeIdsAt(tx_->meta.txid, &ids)) return;
    } else if (tx_->meta.freelist != kNoFreelist) {
      PageView p;
      Status s = tx_->RawPage(tx_->meta.freelist, &p);
      if (s.ok()) s = DecodeFreelist(p.data, p.span, tx_->meta.freelist, &ids);
      if (!s.ok()) {
        Error(s.ToString());
        return;
      }
    } else if (tx_->writable && tx_->committing) {
      ids = tx_->db->freelist->AllIds();
    } else {
      return;
    }
    have_freelist_ = true;
    for (pgid_t id : ids) {
      if (!freed_.insert(id).second) Error("page " + std::to_string(id) + ": already freed");
    }
  }

  // Checks the page tree rooted at id: bounds, references, types, key order,
  // then every nested bucket. Returns the largest key under it.
  Bytes CheckTree(pgid_t id, std::vector<pgid_t> stack, const Bytes* min_key,
                  const Bytes* max_key) {
    stack.push_back(id);
    if (stack.size() > static_cast<size_t>(kMaxTreeDepth)) {
      Error("page " + std::to_string(id) + ": tree too deep (stack: " + StackString(stack) + ")");
      return {};
    }
    if (id >= tx_->meta.pgid) {
      Error("page " + std::to_string(id) + ": out of bounds: " + std::to_string(tx_->meta.pgid) +
            " (stack: " + StackString(stack) + ")");
      return {};
    }
    PageView p;
    if (Status s = tx_->RawPage(id, &p); !s.ok()) {
      Error(s.ToString() + " (stack: " + StackString(stack) + ")");
      return {};
    }
    bool again = false;
    for (uint64_t i = 0; i <= PageOverflow(p.data); i++) {
      if (!reachable_.insert(id + i).second) {
        Error("page " + std::to_string(id + i) +
              ": multiple references (stack: " + StackString(stack) + ")");
        again = true;
      }
    }
    if (again) return {};
    if (freed_.count(id)) Error("page " + std::to_string(id) + ": reachable freed");
    if (!p.is_branch() && !p.is_leaf()) {
      Error("page " + std::to_string(id) + ": invalid type: " + PageTypeName(p.flags()) +
            " (stack: " + StackString(stack) + ")");
      return {};
    }
    if (Status s = ValidateNodePage(p, id); !s.ok()) {
      Error(s.ToString() + " (stack: " + StackString(stack) + ")");
      return {};
    }
    return p.is_branch() ? CheckBranch(id, p, stack, min_key, max_key)
                         : CheckLeaf(id, p, stack, min_key, max_key);
  }

  void CheckOrder(pgid_t id, const char* type, size_t i, Bytes key, const Bytes* prev,
                  const Bytes* max_key, const std::vector<pgid_t>& stack) {
    if (i == 0 && prev && CompareKeys(*prev, key) > 0) {
      Error("the first key[" + std::to_string(i) + "]=(hex)" + Key(key) + " on " + type + " page(" +
            std::to_string(id) + ") needs to be >= the key in the ancestor (" + Key(*prev) +
            "). Stack: " + StackString(stack));
    }
    if (i > 0 && prev) {
      int c = CompareKeys(*prev, key);
      if (c >= 0) {
        Error("key[" + std::to_string(i) + "]=(hex)" + Key(key) + " on " + type + " page(" +
              std::to_string(id) + ") needs to be > (found " + (c > 0 ? "<" : "=") +
              ") than previous element (hex)" + Key(*prev) + ". Stack: " + StackString(stack));
      }
    }
    if (max_key && CompareKeys(key, *max_key) >= 0) {
      Error("key[" + std::to_string(i) + "]=(hex)" + Key(key) + " on " + type + " page(" +
            std::to_string(id) + ") needs to be < than key of the next element in ancestor (hex)" +
            Key(*max_key) + ". Pages stack: " + StackString(stack));
    }
  }

  Bytes CheckBranch(pgid_t id, const PageView& p, const std::vector<pgid_t>& stack,
                    const Bytes* min_key, const Bytes* max_key) {
    Bytes running_storage;
    const Bytes* running = min_key;
    Bytes max_in_subtree;
    for (size_t i = 0; i < p.count(); i++) {
      BranchElem e, next;
      if (!ReadBranchElem(p, i, &e)) {
        Error("page " + std::to_string(id) + ": branch element " + std::to_string(i) +
              " out of bounds");
        return max_in_subtree;
      }
      CheckOrder(id, "branch", i, e.key, running, max_key, stack);
      const Bytes* child_max = max_key;
      if (i + 1 < p.count() && ReadBranchElem(p, i + 1, &next)) child_max = &next.key;
      Bytes child_min = e.key;
      max_in_subtree = CheckTree(e.pgid, stack, &child_min, child_max);
      running_storage = max_in_subtree;
      running = &running_storage;
    }
    return max_in_subtree;
  }

  Bytes CheckLeaf(pgid_t id, const PageView& p, const std::vector<pgid_t>& stack,
                  const Bytes* min_key, const Bytes* max_key) {
    Bytes prev_storage;
    const Bytes* prev = min_key;
    for (size_t i = 0; i < p.count(); i++) {
      LeafElem e;
      if (!ReadLeafElem(p, i, &e)) {
        Error("page " + std::to_string(id) + ": leaf element " + std::to_string(i) +
              " out of bounds");
        return prev_storage;
      }
      CheckOrder(id, "leaf", i, e.key, prev, max_key, stack);
      prev_storage = e.key;
      prev = &prev_storage;
      if (e.flags & kBucketLeafFlag) CheckBucketValue(id, e);
    }
    return prev_storage;
  }

  void CheckBucketValue(pgid_t id, const LeafElem& e) {
    if (e.value.size() < kBucketHeaderSize) {
      Error("page " + std::to_string(id) + ": bucket \"" + Key(e.key) + "\" value too short");
      return;
    }
    auto* data = reinterpret_cast<const uint8_t*>(e.value.data());
    BucketHeader h = BucketHeader::Decode(data);
    if (h.root != 0) {
      CheckTree(h.root, {}, nullptr, nullptr);
      return;
    }
    PageView inl{data + kBucketHeaderSize, e.value.size() - kBucketHeaderSize};
    Status s = ValidateNodePage(inl, 0);
    if (s.ok() && !inl.is_leaf()) s = Status(Code::kCorruption, "inline page is not a leaf");
    if (!s.ok()) {
      Error("page " + std::to_string(id) + ": inline bucket \"" + Key(e.key) +
            "\": " + s.ToString());
      return;
    }
    Bytes prev;
    for (size_t i = 0; i < inl.count(); i++) {
      LeafElem ie;
      if (!ReadLeafElem(inl, i, &ie)) {
        Error("page " + std::to_string(id) + ": inline bucket \"" + Key(e.key) +
              "\": element out of bounds");
        return;
      }
      CheckOrder(id, "leaf", i, ie.key, i ? &prev : nullptr, nullptr, {id});
      prev = ie.key;
      if (ie.flags & kBucketLeafFlag) CheckBucketValue(id, ie);
    }
  }

  TxImpl* tx_;
  CheckOptions opts_;
  std::unordered_set<pgid_t> reachable_;
  std::unordered_set<pgid_t> freed_;
  bool have_freelist_ = false;
  std::vector<std::string> errors_;
};

BucketStructure InspectBucket(BucketImpl* b, std::string name) {
  BucketStructure s;
  s.name = std::move(name);
  std::vector<std::string> children;
  (void)b->ForEach([&](const Entry& e) {
    if (e.is_bucket) {
      children.emplace_back(e.key);
    } else {
      s.key_n++;
    }
    return Status::OK();
  });
  for (const std::string& c : children) {
    if (BucketImpl* child = b->Child(c)) s.children.push_back(InspectBucket(child, c));
  }
  return s;
}

}  // namespace

std::vector<std::string> TxImpl::Check(const CheckOptions& opts) {
  if (closed) return {CodeMessage(Code::kTxClosed).data()};
  return Checker(this, opts).Run();
}

BucketStructure InspectTx(TxImpl* tx) { return InspectBucket(tx->root, "root"); }

// Whether page id is free or pending in this snapshot: listed on its
// freelist page, or (when none was written) not reachable from its root.
static Result<bool> FreeInSnapshot(TxImpl* tx, pgid_t id) {
  if (tx->meta.freelist == kNoFreelist) {
    if (tx->reachable.empty()) {
      if (Status s = tx->ReachablePages(&tx->reachable); !s.ok()) return s;
    }
    return !tx->reachable[id];
  }
  PageView fp;
  std::vector<pgid_t> ids;
  if (Status s = tx->RawPage(tx->meta.freelist, &fp); !s.ok()) return s;
  if (Status s = DecodeFreelist(fp.data, fp.span, tx->meta.freelist, &ids); !s.ok()) return s;
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

Result<std::optional<PageInfo>> PageInfoOf(TxImpl* tx, pgid_t id) {
  if (tx->closed) return Status(Code::kTxClosed);
  if (id >= tx->meta.pgid) return std::optional<PageInfo>();
  auto free = FreeInSnapshot(tx, id);
  if (!free.ok()) return free.status();
  PageInfo info;
  info.id = id;
  if (*free) {
    // A free page's bytes are stale: report it without trusting its header.
    info.type = "free";
    return std::optional<PageInfo>(info);
  }
  PageView p;
  if (Status s = tx->RawPage(id, &p); !s.ok()) return s;
  info.count = PageCount(p.data);
  info.overflow_count = PageOverflow(p.data);
  info.type = PageTypeName(PageFlags(p.data));
  return std::optional<PageInfo>(info);
}

}  // namespace boltpp
