// File: tests/testutil/temp_dir.cc
#include "testutil/temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <vector>

namespace boltpp::testing {

namespace fs = std::filesystem;

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

bool EnvFlag(const std::string& name) {
  if (name.empty()) return false;
  const std::string v = Env(name.c_str());
  return !v.empty() && v != "0";
}

std::string TempBase(bool prefer_shm) {
  if (std::string v = Env("TEST_TMPDIR"); !v.empty()) return v;
  if (prefer_shm && fs::is_directory("/dev/shm") && ::access("/dev/shm", W_OK) == 0) {
    return "/dev/shm";
  }
  if (std::string v = Env("TMPDIR"); !v.empty()) return v;
  return fs::temp_directory_path().string();
}

bool CurrentTestFailed() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return info != nullptr && info->result() != nullptr && info->result()->Failed();
}

// Gives the owner full access to dir and every directory below it (not
// following symbolic links), so that remove_all can empty them.
void RestoreOwnerAccess(const fs::path& dir) {
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) RestoreOwnerAccess(it->path());
  }
}

}  // namespace

TempDir::TempDir() : TempDir(TempDirOptions()) {}

TempDir::TempDir(TempDirOptions options)
    : keep_env_(std::move(options.keep_env)), keep_on_failure_(options.keep_on_failure) {
  std::string tmpl = TempBase(options.prefer_shm) + "/" + options.prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed for " << tmpl;
    path_ = tmpl;
    return;
  }
  path_ = buf.data();
  ok_ = true;
}

TempDir::~TempDir() {
  if (!ok_) return;
  if (keep_ || EnvFlag("BOLTPP_KEEP_TMP") || EnvFlag(keep_env_) ||
      (keep_on_failure_ && CurrentTestFailed())) {
    std::cerr << "[boltpp] kept temporary files in " << path_ << "\n";
    return;
  }
  RestoreOwnerAccess(path_);
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace boltpp::testing
