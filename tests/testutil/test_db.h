// File: tests/testutil/test_db.h
// TestDB: a database in a fresh temporary directory whose teardown runs
// Tx::Check() and fails the test on any error (bbolt's btesting.MustCreateDB
// does the same on cleanup). DBTestBase is the gtest fixture around it.
//
// Environment:
//   BOLTPP_TEST_FREELIST=hashmap   run with the hashmap freelist (default array)
//   BOLTPP_KEEP_TMP=1              keep temporary files (they are also kept,
//                                  and their path printed, when a test fails)
//   TEST_TMPDIR / TMPDIR           where temporary directories are made
// (TempDir itself lives in testutil/temp_dir.h.)
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "boltpp/boltpp.h"
#include "testutil/status_matchers.h"
#include "testutil/temp_dir.h"

namespace boltpp::testing {

// Options every test starts from: 4 KiB pages, a lock timeout instead of
// waiting forever, and the freelist type from BOLTPP_TEST_FREELIST.
Options TestOptions();
FreelistType FreelistFromEnv();
const char* FreelistName(FreelistType t);

class TestDB {
 public:
  explicit TestDB(Options options = TestOptions(), const std::string& name = "db");
  ~TestDB();
  TestDB(const TestDB&) = delete;
  TestDB& operator=(const TestDB&) = delete;

  // Opens (creating) the database with options(). Fails the test on error.
  ::testing::AssertionResult Open();
  ::testing::AssertionResult Reopen();  // Close + Open
  void Close();                         // fails the test if Close fails
  bool is_open() const { return db_ != nullptr; }

  DB* db() const { return db_.get(); }
  DB* operator->() const { return db_.get(); }
  const std::string& path() const { return path_; }
  const TempDir& dir() const { return dir_; }
  Options& options() { return options_; }

  // Runs Check() in a read transaction (opening the file if it is closed)
  // and returns the errors; "" entries describe failures to even run it.
  std::vector<std::string> CheckErrors();
  // Adds a test failure for every Check() error.
  void MustCheck();
  // The file is damaged on purpose: do not check it at teardown.
  void SkipFinalCheck() { final_check_ = false; }
  // Teardown: MustCheck (unless skipped), Close. Idempotent.
  void Finish();

 private:
  TempDir dir_;
  std::string path_;
  Options options_;
  std::unique_ptr<DB> db_;
  bool final_check_ = true;
  bool finished_ = false;
};

// gtest fixture: a TestDB opened in SetUp and checked in TearDown.
class DBTestBase : public ::testing::Test {
 protected:
  // Override to change the options of the fixture's database.
  virtual Options MakeOptions() { return TestOptions(); }
  void SetUp() override;
  void TearDown() override;

  DB* db() { return tdb_->db(); }
  TestDB& tdb() { return *tdb_; }

 private:
  std::unique_ptr<TestDB> tdb_;
};

// ---- small helpers for test bodies ----

// Runs fn in Update and returns the status.
inline Status Update(DB* db, const std::function<Status(Tx&)>& fn) { return db->Update(fn); }

// Creates (if needed) bucket `bucket` and puts every pair in one transaction.
Status PutAll(DB* db, const std::string& bucket, const std::map<std::string, std::string>& kvs);
// Reads every key/value of a bucket (sub-buckets appear with value "<bucket>").
std::map<std::string, std::string> ReadAll(DB* db, const std::string& bucket);
// The meta txid as seen by a new read transaction.
uint64_t CurrentTxid(DB* db);

// std::string copies of optional views.
inline std::optional<std::string> Str(const std::optional<Bytes>& v) {
  if (!v) return std::nullopt;
  return std::string(*v);
}

}  // namespace boltpp::testing
