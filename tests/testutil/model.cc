// File: tests/testutil/model.cc
#include "testutil/model.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace boltpp::testing {

// ---- applying ops to a transaction ----

namespace {

bool Lenient(const Status& s) {
  return s.code() == Code::kBucketNotFound || s.code() == Code::kBucketExists ||
         s.code() == Code::kIncompatibleValue;
}

// Whether a is b or inside it.
bool WithinPath(const Path& a, const Path& b) {
  return a.size() >= b.size() && std::equal(b.begin(), b.end(), a.begin());
}

// The bucket at path; created when create is set. A null Bucket when missing
// (or when a path element is a plain key); *err for engine errors.
Bucket Resolve(Tx& tx, const Path& path, bool create, Status* err) {
  Bucket b;
  for (size_t i = 0; i < path.size(); i++) {
    Bucket next = i == 0 ? tx.GetBucket(path[i]) : b.GetBucket(path[i]);
    if (!next && create) {
      auto r = i == 0 ? tx.CreateBucketIfNotExists(path[i]) : b.CreateBucketIfNotExists(path[i]);
      if (!r.ok()) {
        if (!Lenient(r.status())) *err = r.status();
        return Bucket();
      }
      next = *r;
    }
    if (!next) {
      if (!tx.status().ok()) *err = tx.status();
      return Bucket();
    }
    b = next;
  }
  return b;
}

MBucket* ResolveModel(MBucket* root, const Path& path, bool create) {
  MBucket* b = root;
  for (const std::string& name : path) {
    auto it = b->sub.find(name);
    if (it == b->sub.end()) {
      if (!create || b->kv.count(name)) return nullptr;
      it = b->sub.emplace(name, MBucket{}).first;
    }
    b = &it->second;
  }
  return b;
}

}  // namespace

Status ApplyOp(Tx& tx, const Op& op) {
  Status err;
  switch (op.type) {
    case Op::kPut: {
      Bucket b = Resolve(tx, op.path, true, &err);
      if (!b) return err;
      Status s = b.Put(op.key, op.value);
      return Lenient(s) ? Status::OK() : s;
    }
    case Op::kDelete: {
      Bucket b = Resolve(tx, op.path, false, &err);
      if (!b) return err;
      Status s = b.Delete(op.key);
      return Lenient(s) ? Status::OK() : s;
    }
    case Op::kDeleteRange: {
      Bucket b = Resolve(tx, op.path, false, &err);
      if (!b) return err;
      Cursor c = b.NewCursor();
      for (auto e = c.Seek(op.key); e && (op.value.empty() || e->key < op.value);) {
        if (e->is_bucket) {
          e = c.Next();
          continue;
        }
        if (Status s = c.Delete(); !s.ok()) return s;
        e = c.Next();
      }
      return c.status();
    }
    case Op::kCreateBucket: {
      if (op.path.empty()) {
        auto r = tx.CreateBucketIfNotExists(op.key);
        return r.ok() || Lenient(r.status()) ? Status::OK() : r.status();
      }
      Bucket b = Resolve(tx, op.path, true, &err);
      if (!b) return err;
      auto r = b.CreateBucketIfNotExists(op.key);
      return r.ok() || Lenient(r.status()) ? Status::OK() : r.status();
    }
    case Op::kDeleteBucket: {
      Status s;
      if (op.path.empty()) {
        s = tx.DeleteBucket(op.key);
      } else {
        Bucket b = Resolve(tx, op.path, false, &err);
        if (!b) return err;
        s = b.DeleteBucket(op.key);
      }
      return Lenient(s) ? Status::OK() : s;
    }
    case Op::kNextSeq: {
      Bucket b = Resolve(tx, op.path, true, &err);
      if (!b) return err;
      auto r = b.NextSequence();
      return r.ok() ? Status::OK() : r.status();
    }
    case Op::kMoveBucket: {
      Path moved = op.path;
      moved.push_back(op.key);
      if (WithinPath(op.dst, moved) || op.dst == op.path) return Status::OK();
      Bucket src = Resolve(tx, op.path, false, &err);
      if (!err.ok()) return err;
      Bucket dst = Resolve(tx, op.dst, false, &err);
      if (!err.ok()) return err;
      if ((!src && !op.path.empty()) || (!dst && !op.dst.empty())) return Status::OK();
      Status s = tx.MoveBucket(op.key, src, dst);
      return Lenient(s) ? Status::OK() : s;
    }
  }
  return Status(Code::kInvalidArgument, "bad op");
}

Status ApplyOps(Tx& tx, const Ops& ops) {
  for (const Op& op : ops) {
    if (Status s = ApplyOp(tx, op); !s.ok()) return s;
  }
  return Status::OK();
}

void ApplyOp(MBucket* root, const Op& op) {
  switch (op.type) {
    case Op::kPut: {
      MBucket* b = ResolveModel(root, op.path, true);
      if (b && !b->sub.count(op.key)) b->kv[op.key] = op.value;
      return;
    }
    case Op::kDelete: {
      MBucket* b = ResolveModel(root, op.path, false);
      if (b) b->kv.erase(op.key);
      return;
    }
    case Op::kDeleteRange: {
      MBucket* b = ResolveModel(root, op.path, false);
      if (!b) return;
      auto lo = b->kv.lower_bound(op.key);
      auto hi = op.value.empty() ? b->kv.end() : b->kv.lower_bound(op.value);
      if (!op.value.empty() && op.value <= op.key) return;
      b->kv.erase(lo, hi);
      return;
    }
    case Op::kCreateBucket: {
      MBucket* b = ResolveModel(root, op.path, true);
      if (b && !b->kv.count(op.key)) b->sub.emplace(op.key, MBucket{});
      return;
    }
    case Op::kDeleteBucket: {
      MBucket* b = ResolveModel(root, op.path, false);
      if (b) b->sub.erase(op.key);
      return;
    }
    case Op::kNextSeq: {
      MBucket* b = ResolveModel(root, op.path, true);
      if (b) b->seq++;
      return;
    }
    case Op::kMoveBucket: {
      Path moved = op.path;
      moved.push_back(op.key);
      if (WithinPath(op.dst, moved) || op.dst == op.path) return;
      MBucket* src = ResolveModel(root, op.path, false);
      MBucket* dst = ResolveModel(root, op.dst, false);
      if (!src || !dst || !src->sub.count(op.key)) return;
      if (dst->sub.count(op.key) || dst->kv.count(op.key)) return;
      MBucket b = std::move(src->sub[op.key]);
      src->sub.erase(op.key);
      dst->sub.emplace(op.key, std::move(b));
      return;
    }
  }
}

void ApplyOps(MBucket* root, const Ops& ops) {
  for (const Op& op : ops) ApplyOp(root, op);
}

// ---- reading a database back ----

namespace {

Status ReadBucket(const Bucket& b, MBucket* out, int depth) {
  if (depth > 200) return Status(Code::kCorruption, "bucket nesting deeper than 200");
  out->seq = b.Sequence();
  Cursor c = b.NewCursor();
  for (auto e = c.First(); e; e = c.Next()) {
    if (e->is_bucket) {
      Bucket child = b.GetBucket(e->key);
      if (!child)
        return Status(Code::kCorruption, "bucket entry " + std::string(e->key) + " does not open");
      if (Status s = ReadBucket(child, &out->sub[std::string(e->key)], depth + 1); !s.ok())
        return s;
    } else {
      out->kv[std::string(e->key)] = std::string(e->value);
    }
  }
  return c.status();
}

void DiffInto(const MBucket& w, const MBucket& g, const std::string& path, std::ostringstream& os,
              int* budget) {
  if (*budget <= 0) return;
  if (w.seq != g.seq) {
    os << path << ": sequence want " << w.seq << " got " << g.seq << "\n";
    --*budget;
  }
  for (const auto& [k, v] : w.kv) {
    auto it = g.kv.find(k);
    if (it == g.kv.end()) {
      os << path << ": missing key " << k << "\n";
    } else if (it->second != v) {
      os << path << ": key " << k << " value differs (want " << v.size() << " bytes, got "
         << it->second.size() << ")\n";
    } else {
      continue;
    }
    if (--*budget <= 0) return;
  }
  for (const auto& [k, v] : g.kv) {
    if (!w.kv.count(k)) {
      os << path << ": unexpected key " << k << "\n";
      if (--*budget <= 0) return;
    }
  }
  for (const auto& [k, b] : w.sub) {
    auto it = g.sub.find(k);
    if (it == g.sub.end()) {
      os << path << ": missing bucket " << k << "\n";
      if (--*budget <= 0) return;
    } else {
      DiffInto(b, it->second, path + "/" + k, os, budget);
    }
  }
  for (const auto& [k, b] : g.sub) {
    if (!w.sub.count(k)) {
      os << path << ": unexpected bucket " << k << "\n";
      if (--*budget <= 0) return;
    }
  }
}

size_t CountKeysRec(const MBucket& b) {
  size_t n = b.kv.size();
  for (const auto& [k, s] : b.sub) n += CountKeysRec(s);
  return n;
}

}  // namespace

Status ReadModel(const Tx& tx, MBucket* out) {
  *out = MBucket{};
  Cursor c = tx.NewCursor();
  for (auto e = c.First(); e; e = c.Next()) {
    Bucket b = tx.GetBucket(e->key);
    if (!b)
      return Status(Code::kCorruption,
                    "top-level bucket " + std::string(e->key) + " does not open");
    if (Status s = ReadBucket(b, &out->sub[std::string(e->key)], 1); !s.ok()) return s;
  }
  if (Status s = c.status(); !s.ok()) return s;
  return tx.status();
}

Status ReadModel(DB* db, MBucket* out) {
  return db->View([&](Tx& tx) { return ReadModel(tx, out); });
}

std::string Diff(const MBucket& want, const MBucket& got) {
  std::ostringstream os;
  int budget = 10;
  DiffInto(want, got, "", os, &budget);
  return os.str();
}

size_t CountKeys(const MBucket& b) { return CountKeysRec(b); }

namespace {

void FlattenInto(const MBucket& b, const BucketPath& path, DBSnap* out) {
  BucketSnap& snap = (*out)[path];
  snap.kv = b.kv;
  snap.sequence = b.seq;
  for (const auto& [name, child] : b.sub) {
    snap.buckets.insert(name);
    BucketPath p = path;
    p.push_back(name);
    FlattenInto(child, p, out);
  }
}

}  // namespace

DBSnap Flatten(const MBucket& root) {
  DBSnap out;
  FlattenInto(root, {}, &out);
  return out;
}

// ---- random generation ----

std::string KeyName(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%05d", i);
  return buf;
}

std::string RandomValue(std::mt19937_64& rng, const GenConfig& c) {
  std::uniform_real_distribution<double> u(0, 1);
  const double r = u(rng);
  size_t n;
  if (r < c.p_large) {
    n = std::uniform_int_distribution<size_t>(3000, 20000)(rng);
  } else if (r < c.p_large + c.p_medium) {
    n = std::uniform_int_distribution<size_t>(200, 1500)(rng);
  } else {
    n = std::uniform_int_distribution<size_t>(0, 64)(rng);
  }
  std::string v(n, '\0');
  uint64_t x = rng();
  for (size_t i = 0; i < n; i++) {
    if (i % 8 == 0) x = x * 6364136223846793005ull + 1442695040888963407ull;
    v[i] = static_cast<char>('a' + (x >> (8 * (i % 8))) % 26);
  }
  return v;
}

Path RandomPath(std::mt19937_64& rng, const GenConfig& c) {
  Path p;
  p.push_back("b" + std::to_string(std::uniform_int_distribution<int>(0, c.top_buckets - 1)(rng)));
  const int depth = std::uniform_int_distribution<int>(0, c.max_depth)(rng);
  for (int i = 0; i < depth; i++)
    p.push_back("n" + std::to_string(std::uniform_int_distribution<int>(0, 2)(rng)));
  return p;
}

Op RandomOp(std::mt19937_64& rng, const GenConfig& c) {
  std::uniform_real_distribution<double> u(0, 1);
  std::uniform_int_distribution<int> key(0, c.key_space - 1);
  Op op;
  op.path = RandomPath(rng, c);
  double r = u(rng);
  if ((r -= c.p_bucket_op) < 0) {
    // Nested buckets are named n0..n2, like the ones paths go through.
    op.type = u(rng) < 0.6 ? Op::kCreateBucket : Op::kDeleteBucket;
    op.key = "n" + std::to_string(std::uniform_int_distribution<int>(0, 2)(rng));
    if (op.path.size() > 1) op.path.pop_back();
    if (op.type == Op::kDeleteBucket && u(rng) < 0.1) {
      op.path.clear();  // a whole top-level bucket
      op.key = "b" + std::to_string(std::uniform_int_distribution<int>(0, c.top_buckets - 1)(rng));
    }
    return op;
  }
  if ((r -= c.p_seq) < 0) {
    op.type = Op::kNextSeq;
    return op;
  }
  if (c.p_move > 0 && (r -= c.p_move) < 0) {
    // A nested bucket n0..n2 moves to another bucket's path or the top level.
    op.type = Op::kMoveBucket;
    op.key = "n" + std::to_string(std::uniform_int_distribution<int>(0, 2)(rng));
    if (op.path.size() > 1) op.path.pop_back();
    op.dst = u(rng) < 0.2 ? Path{} : RandomPath(rng, c);
    return op;
  }
  if ((r -= c.p_delete_range) < 0) {
    op.type = Op::kDeleteRange;
    int a = key(rng), b = key(rng);
    if (a > b) std::swap(a, b);
    op.key = KeyName(a);
    op.value = KeyName(b);
    return op;
  }
  if ((r -= c.p_delete) < 0) {
    op.type = Op::kDelete;
    op.key = KeyName(key(rng));
    return op;
  }
  op.type = Op::kPut;
  op.key = KeyName(key(rng));
  op.value = RandomValue(rng, c);
  return op;
}

Ops RandomOps(std::mt19937_64& rng, const GenConfig& c, int n) {
  Ops ops;
  ops.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) ops.push_back(RandomOp(rng, c));
  return ops;
}

// ---- checking ----

std::string CheckDB(DB* db) {
  std::string out;
  Status s = db->View([&](Tx& tx) {
    for (const std::string& e : tx.Check()) {
      if (out.size() < 2000) out += "check: " + e + "\n";
    }
    MBucket m;
    Status r = ReadModel(tx, &m);
    if (!r.ok()) out += "walk: " + r.ToString() + "\n";
    return Status::OK();
  });
  if (!s.ok()) out += "view: " + s.ToString() + "\n";
  return out;
}

}  // namespace boltpp::testing
