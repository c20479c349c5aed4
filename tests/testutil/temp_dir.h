// File: tests/testutil/temp_dir.h
// TempDir: a fresh temporary directory for one test, removed with everything
// in it on destruction. The one temporary-directory helper of every test
// suite (engine, reliability, compatibility, CLI, applications).
//
// Where it is made: $TEST_TMPDIR, else /dev/shm when prefer_shm is set (and
// writable), else $TMPDIR, else the system's temporary directory. The name is
// <base>/<prefix>-XXXXXX.
//
// It is kept (and its path printed) instead of removed when the current test
// has failed (unless keep_on_failure is off), when Keep() was called, or when $BOLTPP_KEEP_TMP (or
// the options' keep_env variable) is set to anything but "" or "0".
//
// Removal restores the owner's permissions on every directory first, so a
// test may take write or read permission away from a file or folder inside.
#pragma once

#include <string>

namespace boltpp::testing {

struct TempDirOptions {
  std::string prefix = "boltpp-test";
  // RAM-backed /dev/shm when TEST_TMPDIR is not set (big or many files).
  bool prefer_shm = false;
  // Off for directories made per iteration of a long loop, which would
  // otherwise pile up once the test has failed.
  bool keep_on_failure = true;
  // A suite's own "keep the files" variable, honoured beside BOLTPP_KEEP_TMP.
  std::string keep_env;
};

class TempDir {
 public:
  TempDir();
  explicit TempDir(TempDirOptions options);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // False when the directory could not be made (a test failure was added).
  bool ok() const { return ok_; }
  // Keep the directory at destruction (e.g. the files of a failing seed).
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  std::string keep_env_;
  bool keep_on_failure_ = true;
  bool ok_ = false;
  bool keep_ = false;
};

}  // namespace boltpp::testing
