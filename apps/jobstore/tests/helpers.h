// File: apps/jobstore/tests/helpers.h
// Shared by the jobstore tests: the checks every test runs on the files it
// wrote (boltpp's Tx::Check, the stores' verify, Go bbolt's check), a command
// runner for the CLI tests, and a settable clock.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "boltpp/jobstore/execution_store.h"
#include "boltpp/jobstore/job_store.h"
#include "boltpp/jobstore/verify.h"
#include "testutil/random.h"
#include "testutil/test_db.h"

namespace boltpp::jobstore::testing {

using boltpp::testing::TempDir;

// Tx::Check finds nothing, verify finds no problem, and (when the Go helper
// is built) Go bbolt's tx.Check() is clean. The file must be closed.
void ExpectSoundFile(const std::string& path, bool expect_verify_clean = true);
// Go bbolt's check on path: "" when clean, its output otherwise. Skips (returns
// "") when the Go helper was not built, unless CI=true.
std::string GoCheck(const std::string& path);
bool HaveGo();

struct CommandResult {
  int status = -1;
  std::string out, err;
};
// Runs `sh -c command` and captures stdout and stderr.
CommandResult Run(const std::string& command);
// Runs fn in a forked child that then _exits without closing anything, as a
// crash (kill -9) leaves the files: fn leaks the stores it opened. Fails the
// test when fn returns false or the child does not exit normally.
void RunThenCrash(const std::function<bool()>& fn);
// The path of boltpp-jobs.
// text with one random change: damage (a byte, a cut, a deletion) or a form
// other writers use (whitespace, a \u escape, a float, a key twice).
std::string MutateJson(boltpp::testing::Random& rnd, std::string text);

std::string Cli();
std::string TestData(const std::string& name);

// A clock tests move by hand (Unix ns).
struct FakeClock {
  std::atomic<int64_t> now{1'700'000'000'000'000'000};
  std::function<int64_t()> fn() {
    return [this] { return now.load(); };
  }
  void Advance(std::chrono::nanoseconds d) { now += d.count(); }
};

// Everything under bucket path `path` in tx (keys, values, nested buckets and
// their sequences) as text, or "" when path does not exist: compares states.
std::string SnapshotPath(Tx& tx, const std::vector<std::string>& path);

// Store options for tests: short lock timeout, no fsync, the given clock.
StoreOptions TestStoreOptions(FakeClock* clock = nullptr);

LocalExecutionState NewLocal(const std::string& id, const std::string& job,
                             LocalState state = LocalState::kCreated);
Json NewJob(const std::string& id, const std::string& ns = "default",
            const std::vector<std::string>& labels = {});
Json NewExecution(const std::string& id, const std::string& job,
                  const std::string& node = "node-1");

#define EXPECT_ERRC(expr, want) EXPECT_EQ((expr).code(), (want)) << (expr).ToString()
#define ASSERT_NO_ERR(expr)                                 \
  do {                                                      \
    auto _e = (expr);                                       \
    ASSERT_TRUE(_e.ok()) << #expr << ": " << _e.ToString(); \
  } while (0)

// The fixture of the store tests: a Store (ExecutionStore or JobStore)
// opened on `file_name` in a fresh directory with a fake clock. TearDown
// closes it and checks the file (ExpectSoundFile: Tx::Check, the store's
// verify, Go bbolt's check).
template <typename Store>
class StoreTest : public ::testing::Test {
 protected:
  explicit StoreTest(const char* file_name) : path_(dir_.File(file_name)) {}
  void SetUp() override { Open(); }
  void TearDown() override {
    store_.reset();
    ExpectSoundFile(path_);
  }
  void Open(StoreOptions o = {}) {
    if (!o.clock) o = TestStoreOptions(&clock_);
    store_.reset();
    auto s = Store::Open(path_, o);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    store_ = std::move(*s);
  }
  uint64_t Txid() { return boltpp::testing::CurrentTxid(&store_->db()); }

  TempDir dir_;
  std::string path_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
};

}  // namespace boltpp::jobstore::testing
