// File: tests/api/bucket_test.cc
// Bucket: get/put/delete, error codes, nested buckets, inline
// transitions, sequences, ForEach, Stats (bbolt's vectors), fill percent,
// size limits. Names follow bbolt's bucket_test.go.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdio>

#include "testutil/random.h"
#include "testutil/raw_file.h"
#include "testutil/snapshot.h"
#include "testutil/test_db.h"

namespace boltpp::testing {
namespace {

class BucketTest : public DBTestBase {};

// Bucket tests that write a lot use no_sync to stay fast.
class BucketBigTest : public DBTestBase {
 protected:
  Options MakeOptions() override {
    Options o = TestOptions();
    o.no_sync = true;
    return o;
  }
};

using KV = std::map<std::string, std::string>;

TEST_F(BucketTest, Get_NonExistent) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_OK(b);
    EXPECT_FALSE(b->Get("foo").has_value());
    return Status::OK();
  }));
}

TEST_F(BucketTest, Get_FromNode) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_OK(b->Put("foo", "bar"));
    EXPECT_EQ(Str(b->Get("foo")), "bar");
    return Status::OK();
  }));
}

TEST_F(BucketTest, Get_IncompatibleValue) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    EXPECT_OK(tx.CreateBucket("widgets"));
    EXPECT_OK(tx.GetBucket("widgets").CreateBucket("foo"));
    EXPECT_FALSE(tx.GetBucket("widgets").Get("foo").has_value())
        << "Get of a bucket key returns nothing";
    return Status::OK();
  }));
}

// docs/format.md "Branch and leaf pages": an empty value comes back as an empty, present value.
TEST_F(BucketTest, Get_EmptyValue) {
  ASSERT_OK(PutAll(db(), "widgets", {{"empty", ""}}));
  ASSERT_OK(db()->View([](Tx& tx) {
    auto v = tx.GetBucket("widgets").Get("empty");
    EXPECT_TRUE(v.has_value());
    if (v) {
      EXPECT_TRUE(v->empty());
    }
    return Status::OK();
  }));
}

// No key is empty, so Get("") finds nothing: in an empty bucket, in a
// bucket with keys, before and after commit (bbolt returns nil).
TEST_F(BucketTest, Get_EmptyKey) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto empty = tx.CreateBucket("empty");
    EXPECT_FALSE(empty->Get("").has_value()) << "new empty bucket";
    EXPECT_FALSE(empty->GetBucket(""));
    auto full = tx.CreateBucket("full");
    EXPECT_OK(full->Put("a", "1"));
    EXPECT_FALSE(full->Get("").has_value()) << "new bucket with a key";
    EXPECT_OK(full->Delete(""));
    return Status::OK();
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_FALSE(tx.GetBucket("empty").Get("").has_value()) << "committed empty bucket";
    EXPECT_FALSE(tx.GetBucket("full").Get("").has_value()) << "committed bucket with a key";
    EXPECT_FALSE(tx.GetBucket(""));
    return Status::OK();
  }));
  EXPECT_EQ(ReadAll(db(), "full"), (KV{{"a", "1"}}));
}

TEST_F(BucketTest, Put) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_OK(b->Put("foo", "bar"));
    EXPECT_EQ(Str(tx.GetBucket("widgets").Get("foo")), "bar");
    return Status::OK();
  }));
}

TEST_F(BucketTest, Put_Repeat) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_OK(b->Put("foo", "bar"));
    EXPECT_OK(b->Put("foo", "baz"));
    EXPECT_EQ(Str(b->Get("foo")), "baz");
    return Status::OK();
  }));
  EXPECT_EQ(ReadAll(db(), "widgets"), (KV{{"foo", "baz"}}));
}

// Keys and values are copied by Put.
TEST_F(BucketTest, Put_CopiesArguments) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    std::string k = "key", v = "value";
    EXPECT_OK(b->Put(k, v));
    k[0] = 'X';
    v[0] = 'X';
    EXPECT_EQ(Str(b->Get("key")), "value");
    EXPECT_FALSE(b->Get("Xey").has_value());
    return Status::OK();
  }));
  EXPECT_EQ(ReadAll(db(), "widgets"), (KV{{"key", "value"}}));
}

// bucket.h: views stay valid until the transaction ends, even while the
// transaction keeps writing (node growth, overwrites, deletes).
TEST_F(BucketTest, ViewsValidUntilTxEnds) {
  ASSERT_OK(PutAll(db(), "widgets", {{"committed", "on disk"}}));
  ASSERT_OK(db()->Update([](Tx& tx) {
    Bucket b = tx.GetBucket("widgets");
    std::vector<std::pair<std::string, Bytes>> views;
    auto disk = b.Get("committed");
    for (int i = 0; i < 10; ++i)
      EXPECT_OK(b.Put("k" + std::to_string(i), "short" + std::to_string(i)));
    for (int i = 0; i < 10; ++i)
      views.emplace_back("short" + std::to_string(i), *b.Get("k" + std::to_string(i)));
    Cursor c = b.NewCursor();
    auto first = c.First();
    // Lots of writes into the same node, overwrites and deletes.
    for (int i = 0; i < 3000; ++i) EXPECT_OK(b.Put(U64Key(i), std::string(i % 50, 'z')));
    for (int i = 0; i < 10; i += 2) EXPECT_OK(b.Put("k" + std::to_string(i), "overwritten"));
    for (int i = 1; i < 10; i += 2) EXPECT_OK(b.Delete("k" + std::to_string(i)));
    EXPECT_OK(b.Put("committed", "changed"));
    for (const auto& [want, view] : views) EXPECT_EQ(std::string(view), want);
    EXPECT_EQ(Str(disk), "on disk");
    EXPECT_TRUE(first.has_value());
    if (first) {
      EXPECT_EQ(std::string(first->key), "committed");
      EXPECT_EQ(std::string(first->value), "on disk");
    }
    return Status::OK();
  }));
}

// bbolt TestBucket_Put_Large: keys and values up to ~20 KB.
TEST_F(BucketTest, Put_Large) {
  const int count = 100, factor = 200;
  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    BOLTPP_RETURN_IF_ERROR(b);
    for (int i = 1; i < count; ++i) {
      BOLTPP_RETURN_IF_ERROR(
          b->Put(std::string(i * factor, '0'), std::string((count - i) * factor, 'X')));
    }
    return Status::OK();
  }));
  ASSERT_OK(db()->View([&](Tx& tx) {
    Bucket b = tx.GetBucket("widgets");
    for (int i = 1; i < count; ++i) {
      EXPECT_EQ(Str(b.Get(std::string(i * factor, '0'))), std::string((count - i) * factor, 'X'))
          << i;
    }
    return Status::OK();
  }));
}

TEST_F(BucketTest, Put_IncompatibleValue) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b0 = tx.CreateBucket("widgets");
    EXPECT_OK(tx.GetBucket("widgets").CreateBucket("foo"));
    EXPECT_CODE(b0->Put("foo", "bar"), Code::kIncompatibleValue);
    EXPECT_CODE(b0->Delete("foo"), Code::kIncompatibleValue);
    EXPECT_TRUE(b0->GetBucket("foo")) << "the bucket survives";
    return Status::OK();
  }));
}

TEST_F(BucketTest, Put_EmptyKey) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_CODE(b->Put("", "bar"), Code::kKeyRequired);
    EXPECT_CODE(b->Put(Bytes(), "bar"), Code::kKeyRequired);
    return Status::OK();
  }));
}

TEST_F(BucketTest, Put_KeyTooLarge) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_CODE(b->Put(std::string(kMaxKeySize + 1, 'k'), "bar"), Code::kKeyTooLarge);
    EXPECT_OK(b->Put(std::string(kMaxKeySize, 'k'), "max"));
    return Status::OK();
  }));
  EXPECT_EQ(ReadAll(db(), "widgets"), (KV{{std::string(kMaxKeySize, 'k'), "max"}}));
}

// A value of MaxValueSize + 1 bytes is refused before it is read: the bytes
// come from a reserved, never-touched anonymous mapping.
TEST_F(BucketTest, Put_ValueTooLarge) {
  const size_t n = kMaxValueSize + 1;
  void* p = mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_OK(db()->Update([&](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_CODE(b->Put("foo", Bytes(static_cast<const char*>(p), n)), Code::kValueTooLarge);
    return Status::OK();
  }));
  munmap(p, n);
}

TEST_F(BucketTest, Delete) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_OK(b->Put("foo", "bar"));
    EXPECT_OK(b->Delete("foo"));
    EXPECT_FALSE(b->Get("foo").has_value());
    return Status::OK();
  }));
}

TEST_F(BucketTest, Delete_Large) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    for (int i = 0; i < 100; ++i)
      BOLTPP_RETURN_IF_ERROR(b->Put(std::to_string(i), std::string(1024, '*')));
    return Status::OK();
  }));
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    Bucket b = tx.GetBucket("widgets");
    for (int i = 0; i < 100; ++i) BOLTPP_RETURN_IF_ERROR(b.Delete(std::to_string(i)));
    return Status::OK();
  }));
  EXPECT_TRUE(ReadAll(db(), "widgets").empty());
}

TEST_F(BucketTest, Delete_NonExisting) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_OK(b->CreateBucket("nested"));
    return Status::OK();
  }));
  ASSERT_OK(db()->Update([](Tx& tx) {
    Bucket b = tx.GetBucket("widgets");
    EXPECT_OK(b.Delete("foo"));
    EXPECT_TRUE(b.GetBucket("nested"));
    return Status::OK();
  }));
}

// bbolt TestBucket_Nested: a nested bucket survives its parent splitting.
TEST_F(BucketTest, Nested) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("widgets");
    BOLTPP_RETURN_IF_ERROR(b->CreateBucket("foo"));
    return b->Put("bar", "0000");
  }));
  tdb().MustCheck();
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.GetBucket("widgets").Put("bar", "xxxx"); }));
  tdb().MustCheck();
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    Bucket b = tx.GetBucket("widgets");
    for (int i = 0; i < 10000; ++i)
      BOLTPP_RETURN_IF_ERROR(b.Put(std::to_string(i), std::to_string(i)));
    return Status::OK();
  }));
  tdb().MustCheck();
  ASSERT_OK(db()->Update(
      [](Tx& tx) { return tx.GetBucket("widgets").GetBucket("foo").Put("baz", "yyyy"); }));
  tdb().MustCheck();
  ASSERT_OK(db()->View([](Tx& tx) {
    Bucket b = tx.GetBucket("widgets");
    EXPECT_EQ(Str(b.GetBucket("foo").Get("baz")), "yyyy");
    EXPECT_EQ(Str(b.Get("bar")), "xxxx");
    for (int i = 0; i < 10000; ++i) {
      if (Str(b.Get(std::to_string(i))) != std::to_string(i)) {
        ADD_FAILURE() << "key " << i;
        break;
      }
    }
    return Status::OK();
  }));
}

TEST_F(BucketTest, Delete_Bucket) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_OK(b->CreateBucket("foo"));
    EXPECT_CODE(b->Delete("foo"), Code::kIncompatibleValue);
    return Status::OK();
  }));
}

TEST_F(BucketTest, DeleteBucket_Nested) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto widgets = tx.CreateBucket("widgets");
    auto foo = widgets->CreateBucket("foo");
    auto bar = foo->CreateBucket("bar");
    BOLTPP_RETURN_IF_ERROR(bar->Put("baz", "bat"));
    return tx.GetBucket("widgets").DeleteBucket("foo");
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_FALSE(tx.GetBucket("widgets").GetBucket("foo"));
    return Status::OK();
  }));
}

TEST_F(BucketTest, DeleteBucket_Nested2) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto widgets = tx.CreateBucket("widgets");
    auto foo = widgets->CreateBucket("foo");
    auto bar = foo->CreateBucket("bar");
    return bar->Put("baz", "bat");
  }));
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    Bucket widgets = tx.GetBucket("widgets");
    EXPECT_TRUE(widgets);
    Bucket foo = widgets.GetBucket("foo");
    EXPECT_TRUE(foo);
    Bucket bar = foo.GetBucket("bar");
    EXPECT_TRUE(bar);
    EXPECT_EQ(Str(bar.Get("baz")), "bat");
    return tx.DeleteBucket("widgets");
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_FALSE(tx.GetBucket("widgets"));
    return Status::OK();
  }));
}

// Deleting a bucket with many pages frees them all (the teardown Check
// reports any leak as "unreachable unfreed"), and the space is reused.
TEST_F(BucketTest, DeleteBucket_Large) {
  auto fill = [&]() {
    return db()->Update([](Tx& tx) -> Status {
      auto widgets = tx.CreateBucket("widgets");
      BOLTPP_RETURN_IF_ERROR(widgets);
      auto foo = widgets->CreateBucket("foo");
      BOLTPP_RETURN_IF_ERROR(foo);
      char v[128];
      for (int i = 0; i < 1000; ++i) {
        snprintf(v, sizeof v, "%0100d", i);
        BOLTPP_RETURN_IF_ERROR(foo->Put(std::to_string(i), v));
      }
      return foo->Put("overflow", std::string(20000, 'o'));
    });
  };
  ASSERT_OK(fill());
  int64_t size_full = 0;
  {
    ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
    size_full = tx.Size();
    BucketStats st = tx.GetBucket("widgets").Stats();
    EXPECT_GT(st.leaf_page_n, 10);
    EXPECT_EQ(st.bucket_n, 2);
  }
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.DeleteBucket("widgets"); }));
  tdb().MustCheck();
  ASSERT_OK(db()->Update([](Tx&) { return Status::OK(); }));  // release pending pages
  ASSERT_OK(fill());
  ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(false));
  EXPECT_LE(tx.Size(), size_full + 8 * 4096) << "the freed pages should be reused";
}

TEST_F(BucketTest, Bucket_IncompatibleValue) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto widgets = tx.CreateBucket("widgets");
    EXPECT_OK(widgets->Put("foo", "bar"));
    EXPECT_FALSE(tx.GetBucket("widgets").GetBucket("foo"));
    return Status::OK();
  }));
}

TEST_F(BucketTest, CreateBucket_IncompatibleValue) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto widgets = tx.CreateBucket("widgets");
    EXPECT_OK(widgets->Put("foo", "bar"));
    EXPECT_CODE(widgets->CreateBucket("foo"), Code::kIncompatibleValue);
    EXPECT_CODE(widgets->CreateBucketIfNotExists("foo"), Code::kIncompatibleValue);
    return Status::OK();
  }));
}

TEST_F(BucketTest, DeleteBucket_IncompatibleValue) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto widgets = tx.CreateBucket("widgets");
    EXPECT_OK(widgets->Put("foo", "bar"));
    EXPECT_CODE(tx.GetBucket("widgets").DeleteBucket("foo"), Code::kIncompatibleValue);
    EXPECT_EQ(Str(widgets->Get("foo")), "bar");
    return Status::OK();
  }));
}

// Error codes [verified against bbolt] at the top level and in a bucket.
TEST_F(BucketTest, ErrorCodes) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    EXPECT_OK(tx.CreateBucket("widgets"));
    EXPECT_CODE(tx.CreateBucket("widgets"), Code::kBucketExists);
    EXPECT_CODE(tx.CreateBucket(""), Code::kBucketNameRequired);
    EXPECT_CODE(tx.CreateBucketIfNotExists(""), Code::kBucketNameRequired);
    EXPECT_CODE(tx.DeleteBucket("missing"), Code::kBucketNotFound);
    Bucket w = tx.GetBucket("widgets");
    EXPECT_OK(w.CreateBucket("sub"));
    EXPECT_CODE(w.CreateBucket("sub"), Code::kBucketExists);
    EXPECT_CODE(w.CreateBucket(""), Code::kBucketNameRequired);
    EXPECT_CODE(w.DeleteBucket("missing"), Code::kBucketNotFound);
    EXPECT_CODE(w.DeleteBucket(""), Code::kBucketNotFound);
    EXPECT_FALSE(w.GetBucket(""));
    return Status::OK();
  }));
}

TEST_F(BucketTest, CreateBucketIfNotExists) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto a = tx.CreateBucketIfNotExists("widgets");
    EXPECT_OK(a);
    EXPECT_OK(a->Put("k", "v"));
    auto b = tx.CreateBucketIfNotExists("widgets");
    EXPECT_OK(b);
    EXPECT_EQ(Str(b->Get("k")), "v") << "the existing bucket is returned";
    auto n1 = b->CreateBucketIfNotExists("nested");
    EXPECT_OK(n1);
    EXPECT_OK(n1->Put("x", "y"));
    auto n2 = b->CreateBucketIfNotExists("nested");
    EXPECT_EQ(Str(n2->Get("x")), "y");
    return Status::OK();
  }));
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucketIfNotExists("widgets");
    EXPECT_OK(b);
    EXPECT_EQ(Str(b->Get("k")), "v");
    EXPECT_EQ(Str(b->CreateBucketIfNotExists("nested")->Get("x")), "y");
    return Status::OK();
  }));
}

TEST_F(BucketTest, Sequence) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto bkt = tx.CreateBucket("0");
    EXPECT_EQ(bkt->Sequence(), 0u);
    EXPECT_OK(bkt->SetSequence(1000));
    EXPECT_EQ(bkt->Sequence(), 1000u);
    return Status::OK();
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_EQ(tx.GetBucket("0").Sequence(), 1000u);
    return Status::OK();
  }));
}

TEST_F(BucketTest, NextSequence) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto widgets = tx.CreateBucket("widgets");
    auto woojits = tx.CreateBucket("woojits");
    auto s1 = widgets->NextSequence();
    EXPECT_OK(s1);
    EXPECT_EQ(*s1, 1u);
    auto s2 = widgets->NextSequence();
    EXPECT_EQ(*s2, 2u);
    auto s3 = woojits->NextSequence();
    EXPECT_EQ(*s3, 1u) << "buckets count separately";
    return Status::OK();
  }));
}

// bbolt #296: a sequence change alone is persisted.
TEST_F(BucketTest, NextSequence_Persist) {
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.CreateBucket("widgets").status(); }));
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.GetBucket("widgets").NextSequence().status(); }));
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto seq = tx.GetBucket("widgets").NextSequence();
    EXPECT_OK(seq);
    EXPECT_EQ(*seq, 2u);
    return Status::OK();
  }));
  ASSERT_TRUE(tdb().Reopen());
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_EQ(tx.GetBucket("widgets").Sequence(), 2u);
    return Status::OK();
  }));
}

// Sequences of nested and non-inline buckets persist; rollback undoes them.
TEST_F(BucketTest, Sequence_NestedAndRollback) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto big = tx.CreateBucket("big");
    for (uint64_t i = 0; i < 500; ++i)
      BOLTPP_RETURN_IF_ERROR(big->Put(U64Key(i), std::string(40, 'b')));
    auto nested = big->CreateBucket("nested");
    BOLTPP_RETURN_IF_ERROR(nested->SetSequence(~uint64_t{0} - 1));
    return big->SetSequence(77);
  }));
  {
    ASSERT_OK_AND_ASSIGN(Tx tx, db()->Begin(true));
    ASSERT_OK(tx.GetBucket("big").SetSequence(1));
    auto s = tx.GetBucket("big").GetBucket("nested").NextSequence();
    ASSERT_OK(s);
    EXPECT_EQ(*s, ~uint64_t{0});
    ASSERT_OK(tx.Rollback());
  }
  ASSERT_TRUE(tdb().Reopen());
  ASSERT_OK(db()->View([](Tx& tx) {
    EXPECT_EQ(tx.GetBucket("big").Sequence(), 77u);
    EXPECT_NE(tx.GetBucket("big").Root(), 0u);
    EXPECT_EQ(tx.GetBucket("big").GetBucket("nested").Sequence(), ~uint64_t{0} - 1);
    return Status::OK();
  }));
}

TEST_F(BucketTest, ForEach) {
  auto verify = [](Bucket b) {
    std::vector<std::tuple<std::string, std::string, bool>> items;
    EXPECT_OK(b.ForEach([&](const Entry& e) {
      items.emplace_back(std::string(e.key), std::string(e.value), e.is_bucket);
      return Status::OK();
    }));
    using T = std::tuple<std::string, std::string, bool>;
    EXPECT_EQ(items, (std::vector<T>{T{"bar", "0002", false}, T{"baz", "0001", false},
                                     T{"csubbucket", "", true}, T{"foo", "0000", false}}));
  };
  ASSERT_OK(db()->Update([&](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_OK(b->Put("foo", "0000"));
    EXPECT_OK(b->Put("baz", "0001"));
    EXPECT_OK(b->Put("bar", "0002"));
    EXPECT_OK(b->CreateBucket("csubbucket"));
    verify(*b);
    return Status::OK();
  }));
  ASSERT_OK(db()->View([&](Tx& tx) {
    verify(tx.GetBucket("widgets"));
    return Status::OK();
  }));
}

TEST_F(BucketTest, ForEachBucket) {
  auto verify = [](Bucket b, std::vector<std::string> want) {
    std::vector<std::string> items;
    EXPECT_OK(b.ForEachBucket([&](Bytes k) {
      items.emplace_back(k);
      return Status::OK();
    }));
    EXPECT_EQ(items, want);
  };
  ASSERT_OK(db()->Update([&](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_OK(b->Put("foo", "0000"));
    EXPECT_OK(b->CreateBucket("zsubbucket"));
    EXPECT_OK(b->Put("baz", "0001"));
    EXPECT_OK(b->Put("bar", "0002"));
    EXPECT_OK(b->CreateBucket("csubbucket"));
    verify(*b, {"csubbucket", "zsubbucket"});
    auto empty = tx.CreateBucket("nobuckets");
    EXPECT_OK(empty->Put("foo", "0000"));
    verify(*empty, {});
    return Status::OK();
  }));
  ASSERT_OK(db()->View([&](Tx& tx) {
    verify(tx.GetBucket("widgets"), {"csubbucket", "zsubbucket"});
    verify(tx.GetBucket("nobuckets"), {});
    return Status::OK();
  }));
}

TEST_F(BucketTest, ForEach_ShortCircuit) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("widgets");
    EXPECT_OK(b->Put("bar", "0000"));
    EXPECT_OK(b->Put("baz", "0000"));
    EXPECT_OK(b->Put("foo", "0000"));
    int index = 0;
    Status s = b->ForEach([&](const Entry& e) {
      ++index;
      if (e.key == "baz") return Status(Code::kAborted, "marker");
      return Status::OK();
    });
    EXPECT_EQ(s.code(), Code::kAborted);
    EXPECT_NE(s.ToString().find("marker"), std::string::npos);
    EXPECT_EQ(index, 2);
    return Status::OK();
  }));
}

// docs/format.md "Buckets": a bucket is inline while small and bucket-free; it moves to
// its own pages when it grows or gets a sub-bucket, and back when it shrinks.
TEST_F(BucketTest, InlineTransitions) {
  auto root_of = [&](const BucketPath& path) {
    uint64_t r = ~uint64_t{0};
    EXPECT_OK(db()->View([&](Tx& tx) {
      Bucket b = BucketAt(tx, path);
      EXPECT_TRUE(b) << PathString(path);
      if (b) r = b.Root();
      return Status::OK();
    }));
    return r;
  };
  ASSERT_OK(PutAll(db(), "b", {{"k1", "v1"}}));
  EXPECT_EQ(root_of({"b"}), 0u);
  // Grow past pageSize/4.
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    for (int i = 0; i < 40; ++i)
      BOLTPP_RETURN_IF_ERROR(
          tx.GetBucket("b").Put("key" + std::to_string(i), std::string(50, 'x')));
    return Status::OK();
  }));
  EXPECT_NE(root_of({"b"}), 0u);
  tdb().MustCheck();
  // Shrink again: inline, old pages freed (Check verifies).
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    for (int i = 0; i < 40; ++i)
      BOLTPP_RETURN_IF_ERROR(tx.GetBucket("b").Delete("key" + std::to_string(i)));
    return Status::OK();
  }));
  EXPECT_EQ(root_of({"b"}), 0u);
  tdb().MustCheck();
  // A sub-bucket makes the parent non-inline; the empty child is inline.
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.GetBucket("b").CreateBucket("child").status(); }));
  EXPECT_NE(root_of({"b"}), 0u);
  EXPECT_EQ(root_of({"b", "child"}), 0u);
  tdb().MustCheck();
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.GetBucket("b").DeleteBucket("child"); }));
  EXPECT_EQ(root_of({"b"}), 0u);
  EXPECT_EQ(ReadAll(db(), "b"), (KV{{"k1", "v1"}}));
  ASSERT_TRUE(tdb().Reopen());
  EXPECT_EQ(ReadAll(db(), "b"), (KV{{"k1", "v1"}}));
}

// Buckets nested 100 deep, with data at each level.
TEST_F(BucketTest, NestedDepth) {
  const int kDepth = 100;
  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    auto b = tx.CreateBucket("level0");
    BOLTPP_RETURN_IF_ERROR(b);
    Bucket cur = *b;
    for (int i = 1; i < kDepth; ++i) {
      BOLTPP_RETURN_IF_ERROR(cur.Put("value", std::to_string(i - 1)));
      auto next = cur.CreateBucket("level" + std::to_string(i));
      BOLTPP_RETURN_IF_ERROR(next);
      cur = *next;
    }
    return cur.Put("value", std::to_string(kDepth - 1));
  }));
  ASSERT_TRUE(tdb().Reopen());
  BucketPath path;
  ASSERT_OK(db()->View([&](Tx& tx) {
    for (int i = 0; i < kDepth; ++i) {
      path.push_back("level" + std::to_string(i));
      Bucket b = BucketAt(tx, path);
      EXPECT_TRUE(b) << i;
      if (!b) break;
      EXPECT_EQ(Str(b.Get("value")), std::to_string(i));
    }
    BucketStats st = tx.GetBucket("level0").Stats();
    EXPECT_EQ(st.bucket_n, kDepth);
    EXPECT_EQ(st.inline_bucket_n, 1) << "only the innermost bucket has no sub-bucket";
    EXPECT_EQ(st.depth, kDepth);
    EXPECT_EQ(st.key_n, 2 * kDepth - 1);
    return Status::OK();
  }));
  // Delete a middle level: everything below goes, pages are freed.
  ASSERT_OK(db()->Update([&](Tx& tx) {
    return BucketAt(tx, BucketPath(path.begin(), path.begin() + 50)).DeleteBucket("level50");
  }));
  ASSERT_OK(db()->View([&](Tx& tx) {
    EXPECT_TRUE(BucketAt(tx, BucketPath(path.begin(), path.begin() + 50)));
    EXPECT_FALSE(BucketAt(tx, BucketPath(path.begin(), path.begin() + 51)));
    return Status::OK();
  }));
  tdb().MustCheck();
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.DeleteBucket("level0"); }));
}

TEST_F(BucketTest, FillPercent) {
  ASSERT_OK(db()->Update([](Tx& tx) {
    auto b = tx.CreateBucket("b");
    EXPECT_DOUBLE_EQ(b->FillPercent(), kDefaultFillPercent);
    b->SetFillPercent(0.9);
    EXPECT_DOUBLE_EQ(b->FillPercent(), 0.9);
    return Status::OK();
  }));
  ASSERT_OK(db()->Update([](Tx& tx) {
    EXPECT_DOUBLE_EQ(tx.GetBucket("b").FillPercent(), kDefaultFillPercent) << "not persisted";
    return Status::OK();
  }));
}

// Higher fill makes fewer, fuller pages (bbolt compaction uses 1.0).
TEST_F(BucketBigTest, FillPercentPacksPages) {
  int64_t leaves[2] = {0, 0};
  int idx = 0;
  for (double fill : {0.5, 1.0}) {
    const std::string name = "b" + std::to_string(idx);
    ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucket(name);
      BOLTPP_RETURN_IF_ERROR(b);
      b->SetFillPercent(fill);
      for (uint64_t i = 0; i < 5000; ++i)
        BOLTPP_RETURN_IF_ERROR(b->Put(U64Key(i), std::string(20, 'f')));
      return Status::OK();
    }));
    ASSERT_OK(db()->View([&](Tx& tx) {
      BucketStats st = tx.GetBucket(name).Stats();
      EXPECT_EQ(st.key_n, 5000);
      leaves[idx] = st.leaf_page_n;
      if (fill == 1.0) {
        EXPECT_GT(static_cast<double>(st.leaf_inuse) / static_cast<double>(st.leaf_alloc), 0.9);
      }
      return Status::OK();
    }));
    ++idx;
  }
  EXPECT_LT(leaves[1] * 3, leaves[0] * 2) << leaves[0] << " vs " << leaves[1];
}

// Deleting most keys over several transactions merges underfull pages
// (docs/design.md "The commit protocol", rebalance): every leaf stays above
// ~25% full, the tree gets shallower, and a bucket left with a few keys
// becomes inline again. (bbolt itself rebalances nodes in Go map order, so
// exact page counts are not reproducible even there.)
TEST_F(BucketBigTest, DeletesRebalance) {
  const std::string val(50, '\0');
  char k[16];
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists("w");
      BOLTPP_RETURN_IF_ERROR(b);
      for (int j = 0; j < 500; ++j) {
        snprintf(k, sizeof k, "%06d", i * 500 + j);
        BOLTPP_RETURN_IF_ERROR(b->Put(k, val));
      }
      return Status::OK();
    }));
  }
  int64_t last_depth = 0;
  ASSERT_OK(db()->View([&](Tx& tx) {
    BucketStats s = tx.GetBucket("w").Stats();
    EXPECT_EQ(s.key_n, 10000);
    EXPECT_EQ(s.depth, 3);
    last_depth = s.depth;
    return Status::OK();
  }));
  for (int d = 0; d < 10; ++d) {
    SCOPED_TRACE("delete round " + std::to_string(d));
    ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
      Bucket b = tx.GetBucket("w");
      for (int x = 0; x < 10000; ++x) {
        if (x % 10 == d && x % 1000 != 0) {
          snprintf(k, sizeof k, "%06d", x);
          BOLTPP_RETURN_IF_ERROR(b.Delete(k));
        }
      }
      return Status::OK();
    }));
    tdb().MustCheck();
    ASSERT_OK(db()->View([&](Tx& tx) {
      BucketStats s = tx.GetBucket("w").Stats();
      EXPECT_EQ(s.key_n, 9010 - 1000 * d);  // round 0 keeps the multiples of 1000
      EXPECT_LE(s.depth, last_depth) << "the tree never gets deeper from deletes";
      last_depth = s.depth;
      if (s.leaf_alloc > 0) {
        EXPECT_GE(s.leaf_inuse * 5, s.leaf_alloc) << "leaves are merged once below 25% full";
      }
      if (d == 8) {
        EXPECT_LE(s.depth, 2);
      }
      if (d == 9) {
        EXPECT_EQ(s.depth, 1);
        EXPECT_EQ(s.leaf_page_n, 0) << "10 small keys fit inline";
        EXPECT_EQ(tx.GetBucket("w").Root(), 0u);
      }
      return Status::OK();
    }));
  }
}

// A bucket handle stays usable while its parent changes a lot in the same
// transaction: thousands of sibling buckets (more entries than boltpp keeps
// in one node before splitting in memory) and keys, then commit.
TEST_F(BucketBigTest, HandleSurvivesParentGrowth) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto p = tx.CreateBucket("parent");
    BOLTPP_RETURN_IF_ERROR(p);
    return p->CreateBucket("m-child").status();
  }));
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    Bucket parent = tx.GetBucket("parent");
    Bucket child = parent.GetBucket("m-child");
    if (!child) return Status(Code::kBucketNotFound, "m-child");
    for (int i = 0; i < 3000; ++i) {
      char name[16];
      snprintf(name, sizeof name, "%c-%05d", i % 2 ? 'a' : 'z', i);
      if (i % 3 == 0) {
        auto sib = parent.CreateBucket(name);
        BOLTPP_RETURN_IF_ERROR(sib);
        BOLTPP_RETURN_IF_ERROR(sib->Put("k", name));
      } else {
        BOLTPP_RETURN_IF_ERROR(parent.Put(name, std::string(30, 'p')));
      }
      BOLTPP_RETURN_IF_ERROR(child.Put(U64Key(i), name));
    }
    return Status::OK();
  }));
  ASSERT_TRUE(tdb().Reopen());
  ASSERT_OK(db()->View([](Tx& tx) {
    Bucket parent = tx.GetBucket("parent");
    BucketStats st = parent.Stats();
    EXPECT_EQ(st.bucket_n, 1 + 1 + 1000);
    EXPECT_EQ(st.key_n, 3001 + 3000 + 1000);
    Bucket child = parent.GetBucket("m-child");
    EXPECT_TRUE(child);
    if (!child) return Status::OK();
    for (int i = 0; i < 3000; i += 7) {
      char name[16];
      snprintf(name, sizeof name, "%c-%05d", i % 2 ? 'a' : 'z', i);
      EXPECT_EQ(Str(child.Get(U64Key(i))), std::string(name));
      if (i % 3 == 0) {
        EXPECT_EQ(Str(parent.GetBucket(name).Get("k")), std::string(name));
      } else {
        EXPECT_EQ(Str(parent.Get(name)), std::string(30, 'p'));
      }
    }
    return Status::OK();
  }));
}

// ---------------------------------------------------------------- Stats

// bbolt TestBucket_Stats (4 KiB pages).
TEST_F(BucketBigTest, Stats) {
  const std::string big_key = "really-big-value";
  for (int i = 0; i < 500; ++i) {
    ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists("woojits");
      BOLTPP_RETURN_IF_ERROR(b);
      char k[16];
      snprintf(k, sizeof k, "%03d", i);
      return b->Put(k, std::to_string(i));
    }));
  }
  const int64_t long_len = 10 * 4096 + 17;
  ASSERT_OK(db()->Update(
      [&](Tx& tx) { return tx.GetBucket("woojits").Put(big_key, std::string(long_len, '*')); }));
  tdb().MustCheck();
  ASSERT_OK(db()->View([&](Tx& tx) {
    BucketStats s = tx.GetBucket("woojits").Stats();
    EXPECT_EQ(s.branch_page_n, 1);
    EXPECT_EQ(s.branch_overflow_n, 0);
    EXPECT_EQ(s.leaf_page_n, 7);
    EXPECT_EQ(s.leaf_overflow_n, 10);
    EXPECT_EQ(s.key_n, 501);
    EXPECT_EQ(s.depth, 2);
    EXPECT_EQ(s.branch_alloc, 4096);
    EXPECT_EQ(s.branch_inuse, 149);
    EXPECT_EQ(s.leaf_alloc, 69632);
    EXPECT_EQ(s.leaf_inuse, 7 * 16 + 501 * 16 + 500 * 3 + static_cast<int64_t>(big_key.size()) +
                                1 * 10 + 2 * 90 + 3 * 400 + long_len);
    EXPECT_EQ(s.bucket_n, 1);
    EXPECT_EQ(s.inline_bucket_n, 0);
    EXPECT_EQ(s.inline_bucket_inuse, 0);
    return Status::OK();
  }));
}

TEST_F(BucketTest, Stats_Small) {
  ASSERT_OK(PutAll(db(), "whozawhats", {{"foo", "bar"}}));
  ASSERT_OK(db()->View([](Tx& tx) {
    BucketStats s = tx.GetBucket("whozawhats").Stats();
    EXPECT_EQ(s.branch_page_n, 0);
    EXPECT_EQ(s.branch_overflow_n, 0);
    EXPECT_EQ(s.leaf_page_n, 0);
    EXPECT_EQ(s.leaf_overflow_n, 0);
    EXPECT_EQ(s.key_n, 1);
    EXPECT_EQ(s.depth, 1);
    EXPECT_EQ(s.branch_inuse, 0);
    EXPECT_EQ(s.leaf_inuse, 0);
    EXPECT_EQ(s.branch_alloc, 0);
    EXPECT_EQ(s.leaf_alloc, 0);
    EXPECT_EQ(s.bucket_n, 1);
    EXPECT_EQ(s.inline_bucket_n, 1);
    EXPECT_EQ(s.inline_bucket_inuse, 16 + 16 + 6);
    return Status::OK();
  }));
}

TEST_F(BucketTest, Stats_EmptyBucket) {
  ASSERT_OK(db()->Update([](Tx& tx) { return tx.CreateBucket("whozawhats").status(); }));
  ASSERT_OK(db()->View([](Tx& tx) {
    BucketStats s = tx.GetBucket("whozawhats").Stats();
    EXPECT_EQ(s.branch_page_n, 0);
    EXPECT_EQ(s.leaf_page_n, 0);
    EXPECT_EQ(s.key_n, 0);
    EXPECT_EQ(s.depth, 1);
    EXPECT_EQ(s.leaf_inuse, 0);
    EXPECT_EQ(s.leaf_alloc, 0);
    EXPECT_EQ(s.bucket_n, 1);
    EXPECT_EQ(s.inline_bucket_n, 1);
    EXPECT_EQ(s.inline_bucket_inuse, 16);
    return Status::OK();
  }));
}

TEST_F(BucketTest, Stats_Nested) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto b = tx.CreateBucket("foo");
    char k[16];
    for (int i = 0; i < 100; ++i) {
      snprintf(k, sizeof k, "%02d", i);
      BOLTPP_RETURN_IF_ERROR(b->Put(k, k));
    }
    auto bar = b->CreateBucket("bar");
    for (int i = 0; i < 10; ++i)
      BOLTPP_RETURN_IF_ERROR(bar->Put(std::to_string(i), std::to_string(i)));
    auto baz = bar->CreateBucket("baz");
    for (int i = 0; i < 10; ++i)
      BOLTPP_RETURN_IF_ERROR(baz->Put(std::to_string(i), std::to_string(i)));
    return Status::OK();
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    BucketStats s = tx.GetBucket("foo").Stats();
    EXPECT_EQ(s.branch_page_n, 0);
    EXPECT_EQ(s.branch_overflow_n, 0);
    EXPECT_EQ(s.leaf_page_n, 2);
    EXPECT_EQ(s.leaf_overflow_n, 0);
    EXPECT_EQ(s.key_n, 122);
    EXPECT_EQ(s.depth, 3);
    EXPECT_EQ(s.branch_inuse, 0);
    const int64_t foo = 16 + 101 * 16 + 100 * 2 + 100 * 2 + 3 + 16;
    const int64_t bar = 16 + 11 * 16 + 10 + 10 + 3 + 16;
    const int64_t baz = 16 + 10 * 16 + 10 + 10;
    EXPECT_EQ(s.leaf_inuse, foo + bar + baz);
    EXPECT_EQ(s.branch_alloc, 0);
    EXPECT_EQ(s.leaf_alloc, 8192);
    EXPECT_EQ(s.bucket_n, 3);
    EXPECT_EQ(s.inline_bucket_n, 1);
    EXPECT_EQ(s.inline_bucket_inuse, baz);
    return Status::OK();
  }));
}

// bbolt TestBucket_Stats_Large (4 KiB pages): 100 commits of 1000 keys.
TEST_F(BucketBigTest, Stats_Large) {
  int index = 0;
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
      auto b = tx.CreateBucketIfNotExists("widgets");
      BOLTPP_RETURN_IF_ERROR(b);
      for (int j = 0; j < 1000; ++j, ++index)
        BOLTPP_RETURN_IF_ERROR(b->Put(std::to_string(index), std::to_string(index)));
      return Status::OK();
    }));
  }
  tdb().MustCheck();
  ASSERT_OK(db()->View([](Tx& tx) {
    BucketStats s = tx.GetBucket("widgets").Stats();
    EXPECT_EQ(s.branch_page_n, 13);
    EXPECT_EQ(s.branch_overflow_n, 0);
    EXPECT_EQ(s.leaf_page_n, 1196);
    EXPECT_EQ(s.leaf_overflow_n, 0);
    EXPECT_EQ(s.key_n, 100000);
    EXPECT_EQ(s.depth, 3);
    EXPECT_EQ(s.branch_alloc, 53248);
    EXPECT_EQ(s.branch_inuse, 25257);
    EXPECT_EQ(s.leaf_alloc, 4898816);
    EXPECT_EQ(s.leaf_inuse, 2596916);
    EXPECT_EQ(s.bucket_n, 1);
    EXPECT_EQ(s.inline_bucket_n, 0);
    EXPECT_EQ(s.inline_bucket_inuse, 0);
    return Status::OK();
  }));
}

// bbolt's stats vector: foo (10 keys), bar (100), baz (1) aggregate to 111
// keys, leaf 1996 bytes in one page, 2 of 3 buckets inline with 236 bytes.
TEST_F(BucketTest, Stats_CommandVector) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto foo = tx.CreateBucket("foo");
    for (int i = 0; i < 10; ++i)
      BOLTPP_RETURN_IF_ERROR(foo->Put(std::to_string(i), std::to_string(i)));
    auto bar = tx.CreateBucket("bar");
    for (int i = 0; i < 100; ++i)
      BOLTPP_RETURN_IF_ERROR(bar->Put(std::to_string(i), std::to_string(i)));
    auto baz = tx.CreateBucket("baz");
    return baz->Put("key", "value");
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    BucketStats total;
    int n = 0;
    EXPECT_OK(tx.ForEach([&](Bytes, Bucket b) {
      total.Add(b.Stats());
      ++n;
      return Status::OK();
    }));
    EXPECT_EQ(n, 3);
    EXPECT_EQ(total.branch_page_n, 0);
    EXPECT_EQ(total.leaf_page_n, 1);
    EXPECT_EQ(total.leaf_overflow_n, 0);
    EXPECT_EQ(total.key_n, 111);
    EXPECT_EQ(total.depth, 1);
    EXPECT_EQ(total.leaf_alloc, 4096);
    EXPECT_EQ(total.leaf_inuse, 1996);
    EXPECT_EQ(total.bucket_n, 3);
    EXPECT_EQ(total.inline_bucket_n, 2);
    EXPECT_EQ(total.inline_bucket_inuse, 236);
    return Status::OK();
  }));
}

// Many keys, binary keys with zero bytes and 0xFF, empty values: a round trip.
TEST_F(BucketBigTest, BinaryKeysRoundTrip) {
  Random rnd(SeedOr(1234));
  KV want;
  ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
    auto b = tx.CreateBucket("bin");
    for (int i = 0; i < 3000; ++i) {
      std::string k = rnd.Bytes(1 + rnd.Uniform(40));
      std::string v = rnd.OneIn(10) ? std::string() : rnd.Bytes(rnd.Skewed(12));
      BOLTPP_RETURN_IF_ERROR(b->Put(k, v));
      want[k] = v;
    }
    return Status::OK();
  }));
  ASSERT_TRUE(tdb().Reopen());
  EXPECT_TRUE(ReadAll(db(), "bin") == want);
}

// ------------------------------------------- nested buckets in read transactions
// A read transaction finds the children it opened again through its own
// index (keyed by parent handle and name), not through the writer's map.

// a/x (on its own pages), a/y (inline), b/x (same name, other parent), a/k (a key).
Status FillReaderChildren(DB* db) {
  return db->Update([](Tx& tx) -> Status {
    for (const char* top : {"a", "b"}) {
      auto t = tx.CreateBucket(top);
      BOLTPP_RETURN_IF_ERROR(t);
      auto x = t->CreateBucket("x");
      BOLTPP_RETURN_IF_ERROR(x);
      for (int i = 0; i < 40; ++i) {
        BOLTPP_RETURN_IF_ERROR(x->Put(U64Key(i), std::string(100, top[0])));
      }
    }
    Bucket a = tx.GetBucket("a");
    auto y = a.CreateBucket("y");
    BOLTPP_RETURN_IF_ERROR(y);
    BOLTPP_RETURN_IF_ERROR(y->Put("small", "inline"));
    return a.Put("k", "plain");
  });
}

TEST_F(BucketTest, ReadTx_ChildOpenedTwiceIsTheSameHandle) {
  ASSERT_OK(FillReaderChildren(db()));
  ASSERT_OK(db()->View([](Tx& tx) {
    Bucket a = tx.GetBucket("a");
    Bucket ax = a.GetBucket("x");
    EXPECT_NE(ax.Root(), 0u) << "a/x should have its own pages";
    EXPECT_EQ(a.GetBucket("x").impl(), ax.impl());
    EXPECT_EQ(tx.GetBucket("a").impl(), a.impl());
    EXPECT_EQ(Str(ax.Get(U64Key(7))), std::string(100, 'a'));

    Bucket ay = a.GetBucket("y");
    EXPECT_EQ(ay.Root(), 0u) << "a/y should be inline";
    EXPECT_EQ(a.GetBucket("y").impl(), ay.impl());
    EXPECT_EQ(Str(ay.Get("small")), "inline");

    // The same name under another parent is another bucket.
    Bucket bx = tx.GetBucket("b").GetBucket("x");
    EXPECT_NE(bx.impl(), ax.impl());
    EXPECT_EQ(Str(bx.Get(U64Key(7))), std::string(100, 'b'));
    EXPECT_EQ(Str(a.GetBucket("x").Get(U64Key(7))), std::string(100, 'a'));

    // Misses stay misses: a missing name, a plain key, a prefix of a name.
    EXPECT_FALSE(a.GetBucket("missing"));
    EXPECT_FALSE(a.GetBucket("missing"));
    EXPECT_FALSE(a.GetBucket("k"));
    EXPECT_FALSE(tx.GetBucket("x"));
    EXPECT_FALSE(a.GetBucket(Bytes("x\0", 2)));
    return Status::OK();
  }));
}

// Thousands of children (the index grows many times): every handle opened
// before a growth is found again after it, and each reads its own data.
TEST_F(BucketBigTest, ReadTx_ManyChildrenFoundAgain) {
  constexpr int kChildren = 3000;
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto p = tx.CreateBucket("p");
    BOLTPP_RETURN_IF_ERROR(p);
    for (int i = 0; i < kChildren; ++i) {
      auto c = p->CreateBucket("job-" + std::to_string(i));
      BOLTPP_RETURN_IF_ERROR(c);
      BOLTPP_RETURN_IF_ERROR(c->Put("state", std::to_string(i)));
    }
    return Status::OK();
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    Bucket p = tx.GetBucket("p");
    std::vector<BucketImpl*> first;
    for (int i = 0; i < kChildren; ++i) {
      Bucket c = p.GetBucket("job-" + std::to_string(i));
      EXPECT_TRUE(c) << i;
      first.push_back(c.impl());
    }
    for (int i = kChildren - 1; i >= 0; --i) {
      Bucket c = p.GetBucket("job-" + std::to_string(i));
      EXPECT_EQ(c.impl(), first[static_cast<size_t>(i)]) << i;
      EXPECT_EQ(Str(c.Get("state")), std::to_string(i));
    }
    return Status::OK();
  }));
}

// A pooled read transaction forgets the children of its last use: a later
// one sees a child deleted and recreated (inline, then on its own pages)
// in between, while a reader that began before the change still sees the
// old child.
TEST_F(BucketTest, ReadTx_ReusedTransactionSeesRecreatedChild) {
  ASSERT_OK(FillReaderChildren(db()));
  for (int round = 0; round < 3; ++round) {
    auto old_reader = db()->Begin(false);
    ASSERT_OK(old_reader.status());
    const std::string before =
        Str(old_reader->GetBucket("a").GetBucket("y").Get("small")).value_or("?");
    ASSERT_OK(db()->Update([&](Tx& tx) -> Status {
      Bucket a = tx.GetBucket("a");
      BOLTPP_RETURN_IF_ERROR(a.DeleteBucket("y"));
      auto y = a.CreateBucket("y");
      BOLTPP_RETURN_IF_ERROR(y);
      // Round 1 makes y large enough for pages of its own.
      const std::string v = round == 1 ? std::string(3000, 'L') : "round-" + std::to_string(round);
      return y->Put("small", v);
    }));
    const std::string want = round == 1 ? std::string(3000, 'L') : "round-" + std::to_string(round);
    for (int i = 0; i < 20; ++i) {  // many begin/end cycles go through the pool
      ASSERT_OK(db()->View([&](Tx& tx) {
        Bucket y = tx.GetBucket("a").GetBucket("y");
        EXPECT_EQ(Str(y.Get("small")), want) << "round " << round;
        EXPECT_EQ(y.Root() != 0, round == 1);
        return Status::OK();
      }));
    }
    EXPECT_EQ(Str(old_reader->GetBucket("a").GetBucket("y").Get("small")), before);
    ASSERT_OK(old_reader->Rollback());
  }
}

// A pooled reader that opened more children than it keeps room for while
// idle works as a fresh one next time, whether its next use opens a few
// children (their slots cleared one by one) or more, in reverse order (the
// handles of the last use are gone: each child reads its own data).
TEST_F(BucketTest, ReadTx_LargeThenSmallReuse) {
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    auto p = tx.CreateBucket("p");
    BOLTPP_RETURN_IF_ERROR(p);
    for (int i = 0; i < 300; ++i) {
      auto c = p->CreateBucket(U64Key(i));
      BOLTPP_RETURN_IF_ERROR(c);
      BOLTPP_RETURN_IF_ERROR(c->Put("id", std::to_string(i)));
    }
    return Status::OK();
  }));
  const int sizes[] = {300, 2, 9, 300, 1, 8, 40, 3};
  for (int round = 0; round < 8; ++round) {
    ASSERT_OK(db()->View([&](Tx& tx) {
      Bucket p = tx.GetBucket("p");
      const int n = sizes[round];
      for (int k = 0; k < n; ++k) {
        const int i = round % 2 == 0 ? k : 299 - k;
        Bucket c = p.GetBucket(U64Key(i));
        EXPECT_TRUE(c);
        EXPECT_EQ(Str(c.Get("id")), std::to_string(i)) << "round " << round;
        EXPECT_EQ(p.GetBucket(U64Key(i)).impl(), c.impl());
      }
      EXPECT_FALSE(p.GetBucket(U64Key(300)));
      return Status::OK();
    }));
  }
}

// A write transaction: a child deleted and recreated is a new, empty
// bucket; the old handle no longer writes.
TEST_F(BucketTest, WriteTx_DeletedAndRecreatedChildIsFresh) {
  ASSERT_OK(FillReaderChildren(db()));
  ASSERT_OK(db()->Update([](Tx& tx) -> Status {
    Bucket a = tx.GetBucket("a");
    Bucket old_x = a.GetBucket("x");
    EXPECT_TRUE(old_x);
    EXPECT_OK(old_x.Put("new", "v"));
    EXPECT_OK(a.DeleteBucket("x"));
    EXPECT_FALSE(a.GetBucket("x"));
    auto x = a.CreateBucket("x");
    EXPECT_OK(x);
    EXPECT_FALSE(x->Get(U64Key(7)).has_value());
    EXPECT_FALSE(x->Get("new").has_value());
    EXPECT_EQ(a.GetBucket("x").impl(), x->impl());
    EXPECT_EQ(old_x.Put("again", "v").code(), Code::kBucketNotFound);
    return x->Put("fresh", "1");
  }));
  ASSERT_OK(db()->View([](Tx& tx) {
    Bucket x = tx.GetBucket("a").GetBucket("x");
    EXPECT_EQ(Str(x.Get("fresh")), "1");
    EXPECT_FALSE(x.Get(U64Key(7)).has_value());
    EXPECT_EQ(Str(tx.GetBucket("b").GetBucket("x").Get(U64Key(7))), std::string(100, 'b'));
    return Status::OK();
  }));
}

}  // namespace
}  // namespace boltpp::testing
