// File: src/node_map.h
// NodeMap: a bucket's materialized nodes by page id, probed at every level
// of every descent in a write transaction (BucketImpl::PageNode, NodeFor).
//
// Written by hand because std::unordered_map cost a fifth of the wall time
// of deleting random keys from a 1M-key tree (perf: its prime modulo and
// its chained buckets, one cache miss per probe): this is open addressing
// with linear probing over a power-of-two table of (id, node) slots,
// Fibonacci hashing, at most half full, erase by backward shift (no
// tombstones), so a probe is one multiply, one shift and usually one cache
// line.
//
// Contracts: values are never null (an empty slot has a null node); a
// pointer returned by find() is valid until the next insert or erase;
// iteration order is unspecified (bbolt's Go map iterates in random order).
// clear() keeps a small table for the pooled bucket handle's next use and
// frees a large one, so a small transaction after a large one does not pay
// for clearing the large table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "format/page.h"

namespace boltpp {

struct Node;

class NodeMap {
 public:
  using pgid_t = format::pgid_t;
  struct Slot {
    pgid_t first = 0;        // the page id (placeholder ids included)
    Node* second = nullptr;  // null: the slot is empty
  };

  class Iterator {
   public:
    Iterator(Slot* at, Slot* end) : at_(at), end_(end) { Skip(); }
    Slot& operator*() const { return *at_; }
    Iterator& operator++() {
      ++at_;
      Skip();
      return *this;
    }
    bool operator!=(const Iterator& o) const { return at_ != o.at_; }

   private:
    void Skip() {
      while (at_ != end_ && at_->second == nullptr) ++at_;
    }
    Slot* at_;
    Slot* end_;
  };

  NodeMap() = default;
  NodeMap(const NodeMap&) = delete;
  NodeMap& operator=(const NodeMap&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The slot holding id, or nullptr.
  Slot* find(pgid_t id) const {
    if (size_ == 0) return nullptr;
    for (size_t i = Home(id);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.second == nullptr) return nullptr;
      if (s.first == id) return &s;
    }
  }
  // Sets id's node (inserting or replacing). Requires: node != nullptr.
  void set(pgid_t id, Node* node) {
    if ((size_ + 1) * 2 > capacity()) Grow();
    for (size_t i = Home(id);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.second == nullptr) {
        s = {id, node};
        size_++;
        return;
      }
      if (s.first == id) {
        s.second = node;
        return;
      }
    }
  }

  // Removes id if present.
  void erase(pgid_t id) {
    Slot* s = find(id);
    if (!s) return;
    size_t hole = static_cast<size_t>(s - slots_.get());
    // Backward shift: move later members of the probe run into the hole
    // when the hole lies on their way from their home slot.
    for (size_t i = (hole + 1) & mask_;; i = (i + 1) & mask_) {
      Slot& next = slots_[i];
      if (next.second == nullptr) break;
      const size_t home = Home(next.first);
      const bool hole_on_the_way = ((i - home) & mask_) >= ((i - hole) & mask_);
      if (hole_on_the_way) {
        slots_[hole] = next;
        hole = i;
      }
    }
    slots_[hole] = Slot{};
    size_--;
  }

  void clear() {
    if (capacity() > kKeepSlots) {
      slots_.reset();
      mask_ = 0;
      shift_ = 64;
    } else if (size_ > 0) {
      for (size_t i = 0; i < capacity(); i++) slots_[i] = Slot{};
    }
    size_ = 0;
  }

  Iterator begin() const { return Iterator(slots_.get(), slots_.get() + capacity()); }
  Iterator end() const { return Iterator(slots_.get() + capacity(), slots_.get() + capacity()); }

 private:
  static constexpr size_t kMinSlots = 16;
  static constexpr size_t kKeepSlots = 1024;

  size_t capacity() const { return slots_ ? mask_ + 1 : 0; }
  size_t Home(pgid_t id) const {
    return static_cast<size_t>((id * UINT64_C(0x9E3779B97F4A7C15)) >> shift_);
  }

  void Grow() {
    const size_t old_capacity = capacity();
    const size_t new_capacity = old_capacity == 0 ? kMinSlots : old_capacity * 2;
    std::unique_ptr<Slot[]> old = std::move(slots_);
    slots_ = std::make_unique<Slot[]>(new_capacity);
    mask_ = new_capacity - 1;
    shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(new_capacity));
    size_ = 0;
    for (size_t i = 0; i < old_capacity; i++) {
      if (old[i].second) set(old[i].first, old[i].second);
    }
  }

  std::unique_ptr<Slot[]> slots_;
  size_t mask_ = 0;
  unsigned shift_ = 64;
  size_t size_ = 0;
};

}  // namespace boltpp
