// File: fuzz/seeds.cc
#include "seeds.h"

#include <cstdio>
#include <functional>

#include "boltpp/boltpp.h"
#include "testutil/mem_fs.h"

namespace boltpp::fuzz {

namespace {

std::string Make(uint32_t page_size, const std::function<void(DB*)>& fill,
                 bool no_freelist_sync = false, FreelistType fl = FreelistType::kArray) {
  testing::MemFileSystem fs(size_t{64} << 20);
  Options o;
  o.page_size = page_size;
  o.no_freelist_sync = no_freelist_sync;
  o.freelist_type = fl;
  o.file_system = &fs;
  {
    auto db = DB::Open("/seed.db", o);
    if (!db.ok()) return {};
    fill(db->get());
    (void)(*db)->Close();
  }
  return fs.LiveBytes("/seed.db");
}

Status PutN(Tx& tx, const std::string& bucket, int n, size_t vlen, int step = 1) {
  auto b = tx.CreateBucketIfNotExists(bucket);
  if (!b.ok()) return b.status();
  for (int i = 0; i < n; i += step) {
    char k[16];
    std::snprintf(k, sizeof k, "key%05d", i);
    if (Status s = b->Put(k, std::string(vlen, static_cast<char>('a' + i % 26))); !s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> MakeSeedDatabases() {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("empty", Make(1024, [](DB*) {}));
  out.emplace_back("small", Make(1024, [](DB* db) {
                     (void)db->Update([](Tx& tx) {
                       if (Status s = PutN(tx, "b0", 10, 8); !s.ok()) return s;
                       auto b1 = tx.CreateBucket("b1");
                       if (!b1.ok()) return b1.status();
                       (void)b1->NextSequence();
                       auto n = b1->CreateBucket("inline");  // an inline bucket
                       if (!n.ok()) return n.status();
                       return n->Put("x", "y");
                     });
                   }));
  out.emplace_back("tree", Make(1024, [](DB* db) {
                     (void)db->Update([](Tx& tx) { return PutN(tx, "t", 300, 20); });
                   }));
  out.emplace_back("overflow", Make(1024, [](DB* db) {
                     (void)db->Update([](Tx& tx) { return PutN(tx, "o", 4, 3000); });
                   }));
  out.emplace_back("freelist", Make(1024, [](DB* db) {
                     (void)db->Update([](Tx& tx) { return PutN(tx, "f", 300, 30); });
                     (void)db->Update([](Tx& tx) {
                       Bucket b = tx.GetBucket("f");
                       Cursor c = b.NewCursor();
                       int i = 0;
                       for (auto e = c.First(); e; e = c.Next()) {
                         if (i++ % 5 != 0) (void)c.Delete();
                       }
                       return Status::OK();
                     });
                   }));
  out.emplace_back("nofreelistsync",
                   Make(
                       1024,
                       [](DB* db) {
                         (void)db->Update([](Tx& tx) { return PutN(tx, "a", 120, 10); });
                         (void)db->Update([](Tx& tx) { return tx.DeleteBucket("a"); });
                         (void)db->Update([](Tx& tx) { return PutN(tx, "b", 30, 10); });
                       },
                       true));
  out.emplace_back("nested", Make(1024, [](DB* db) {
                     (void)db->Update([](Tx& tx) {
                       auto b = tx.CreateBucket("l0");
                       if (!b.ok()) return b.status();
                       Bucket cur = *b;
                       for (int d = 1; d < 6; d++) {
                         for (int i = 0; i < 12; i++)
                           (void)cur.Put("k" + std::to_string(i), std::string(40, 'n'));
                         auto c = cur.CreateBucket("l" + std::to_string(d));
                         if (!c.ok()) return c.status();
                         cur = *c;
                       }
                       return Status::OK();
                     });
                   }));
  out.emplace_back("hashmap4k",
                   Make(
                       4096,
                       [](DB* db) {
                         (void)db->Update([](Tx& tx) { return PutN(tx, "h", 200, 40); });
                         (void)db->Update([](Tx& tx) { return PutN(tx, "h", 200, 0, 3); });
                       },
                       false, FreelistType::kHashMap));
  return out;
}

std::vector<std::pair<std::string, std::string>> MakeSeedPrograms() {
  auto p = [](std::initializer_list<int> b) {
    std::string s;
    for (int x : b) s.push_back(static_cast<char>(x));
    return s;
  };
  std::vector<std::pair<std::string, std::string>> out;
  // flags, then ops (see FuzzOps): 3 = put run, 9 = commit, 12 = check, ...
  out.emplace_back("splits_1k",
                   p({1, 3, 0, 0, 200, 30, 9, 12, 5, 0, 10, 150, 9, 12, 11, 1, 13, 0, 50}));
  out.emplace_back("nested_overflow",
                   p({0, 6, 4, 0, 4, 7, 200, 0x85, 9, 16, 7, 4, 9, 17, 12, 14, 4, 7}));
  out.emplace_back("hashmap_nofl",
                   p({6, 3, 1, 0, 250, 10, 9, 3, 2, 0, 250, 10, 9, 7, 1, 9, 11, 1, 12, 8, 0, 9}));
  out.emplace_back("rollback",
                   p({0, 3, 0, 0, 100, 5, 10, 3, 0, 0, 100, 50, 15, 0, 9, 9, 12, 13, 0, 20}));
  return out;
}

}  // namespace boltpp::fuzz
