// File: tests/testutil/test_db.cc
#include "testutil/test_db.h"

#include <chrono>
#include <cstdlib>

#include "testutil/raw_file.h"

namespace boltpp::testing {

FreelistType FreelistFromEnv() {
  const char* v = std::getenv("BOLTPP_TEST_FREELIST");
  if (v != nullptr && std::string(v) == "hashmap") return FreelistType::kHashMap;
  return FreelistType::kArray;
}

const char* FreelistName(FreelistType t) {
  return t == FreelistType::kHashMap ? "hashmap" : "array";
}

Options TestOptions() {
  Options o;
  o.page_size = 4096;
  o.timeout = std::chrono::milliseconds(10000);
  o.freelist_type = FreelistFromEnv();
  return o;
}

TestDB::TestDB(Options options, const std::string& name)
    : path_(dir_.File(name)), options_(std::move(options)) {}

TestDB::~TestDB() { Finish(); }

::testing::AssertionResult TestDB::Open() {
  if (db_) return ::testing::AssertionFailure() << "TestDB::Open: already open";
  auto r = DB::Open(path_, options_);
  if (!r.ok()) {
    return ::testing::AssertionFailure() << "DB::Open(" << path_ << ") -> " << Describe(r.status());
  }
  db_ = std::move(r).value();
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult TestDB::Reopen() {
  Close();
  return Open();
}

void TestDB::Close() {
  if (!db_) return;
  Status s = db_->Close();
  EXPECT_TRUE(s.ok()) << "DB::Close -> " << Describe(s);
  db_.reset();
}

std::vector<std::string> TestDB::CheckErrors() {
  std::vector<std::string> errors;
  auto run = [&](DB* db) -> bool {
    auto tx = db->Begin(false);
    if (!tx.ok()) return false;
    errors = tx->Check();
    EXPECT_OK(tx->Rollback());
    return true;
  };
  if (db_ && run(db_.get())) return errors;
  // Closed, or the handle cannot start transactions (e.g. kDatabaseFailed
  // after an injected fault): check the file through a fresh handle on the
  // real file system.
  Close();
  Options o = options_;
  o.file_system = nullptr;
  o.read_only = false;
  auto r = DB::Open(path_, o);
  if (!r.ok()) return {"could not open the database to check it: " + Describe(r.status())};
  std::unique_ptr<DB> db = std::move(r).value();
  if (!run(db.get())) errors = {"could not begin a read transaction to check the database"};
  Status s = db->Close();
  EXPECT_TRUE(s.ok()) << Describe(s);
  return errors;
}

void TestDB::MustCheck() {
  auto errors = CheckErrors();
  for (const auto& e : errors) ADD_FAILURE() << "Check(" << path_ << "): " << e;
}

void TestDB::Finish() {
  if (finished_) return;
  finished_ = true;
  if (final_check_ && (db_ || FileExists(path_))) MustCheck();
  Close();
}

void DBTestBase::SetUp() {
  tdb_ = std::make_unique<TestDB>(MakeOptions());
  ASSERT_TRUE(tdb_->Open());
}

void DBTestBase::TearDown() {
  if (tdb_) tdb_->Finish();
  tdb_.reset();
}

Status PutAll(DB* db, const std::string& bucket, const std::map<std::string, std::string>& kvs) {
  return db->Update([&](Tx& tx) -> Status {
    auto b = tx.CreateBucketIfNotExists(bucket);
    if (!b.ok()) return b.status();
    for (const auto& [k, v] : kvs) {
      Status s = b->Put(k, v);
      if (!s.ok()) return s;
    }
    return Status::OK();
  });
}

std::map<std::string, std::string> ReadAll(DB* db, const std::string& bucket) {
  std::map<std::string, std::string> out;
  Status s = db->View([&](Tx& tx) -> Status {
    Bucket b = tx.GetBucket(bucket);
    if (!b) return Status(Code::kBucketNotFound);
    return b.ForEach([&](const Entry& e) -> Status {
      out[std::string(e.key)] = e.is_bucket ? "<bucket>" : std::string(e.value);
      return Status::OK();
    });
  });
  EXPECT_TRUE(s.ok()) << "ReadAll(" << bucket << ") -> " << Describe(s);
  return out;
}

uint64_t CurrentTxid(DB* db) {
  auto tx = db->Begin(false);
  EXPECT_TRUE(tx.ok()) << Describe(tx.status());
  if (!tx.ok()) return 0;
  uint64_t id = tx->ID();
  EXPECT_OK(tx->Rollback());
  return id;
}

}  // namespace boltpp::testing
