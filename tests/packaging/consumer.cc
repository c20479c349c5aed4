// File: tests/packaging/consumer.cc
// A program outside the boltpp tree, built against an installed boltpp by
// cmake_consumer/ (find_package) and pkgconfig_consumer/ (pkg-config). It
// uses the public API the way an application does, through the installed
// headers and library only:
//   consumer write DB N   creates DB with N keys in bucket "widgets" (nested
//                         bucket "parts", sequences), through a FileSystem
//                         subclass defined here (vtables across the library
//                         boundary), then compacts it into DB.compact
//   consumer read DB N    checks DB holds exactly what `write` put there
//   consumer version      prints the run-time and compile-time versions
// Every mode ends with Tx::Check on the database. Exit status 0 when all
// holds, 1 with a message on stderr otherwise.
#include <boltpp/boltpp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "consumer: %s\n", what.c_str());
  return 1;
}

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "key%06d", i);
  return buf;
}
std::string Value(int i) { return "value-" + std::to_string(i * 7); }

// Counts the syncs the engine asks for: a subclass of the library's
// FileSystem and File, called from inside libboltpp.
class CountingFileSystem : public boltpp::FileSystem {
 public:
  boltpp::Result<std::unique_ptr<boltpp::File>> Open(const std::string& path,
                                                     const boltpp::FileOpenOptions& opts) override {
    auto file = boltpp::FileSystem::Default()->Open(path, opts);
    if (!file.ok()) return file.status();
    return std::unique_ptr<boltpp::File>(new CountingFile(std::move(*file), &syncs));
  }
  bool Exists(const std::string& path) override { return Default()->Exists(path); }
  boltpp::Status Remove(const std::string& path) override { return Default()->Remove(path); }
  boltpp::Result<uint32_t> FileMode(const std::string& path) override {
    return Default()->FileMode(path);
  }
  int syncs = 0;

 private:
  class CountingFile : public boltpp::FileWrapper {
   public:
    CountingFile(std::unique_ptr<boltpp::File> target, int* syncs)
        : FileWrapper(std::move(target)), syncs_(syncs) {}
    boltpp::Status Sync() override {
      ++*syncs_;
      return FileWrapper::Sync();
    }

   private:
    int* syncs_;
  };
};

int CheckFile(boltpp::DB& db) {
  boltpp::Status s = db.View([](boltpp::Tx& tx) {
    auto errors = tx.Check();
    if (!errors.empty()) return boltpp::Status(boltpp::Code::kCorruption, errors.front());
    return boltpp::Status::OK();
  });
  return s.ok() ? 0 : Fail("check: " + s.ToString());
}

int Write(const std::string& path, int n) {
  CountingFileSystem fs;
  boltpp::Options options;
  options.file_system = &fs;
  auto db = boltpp::DB::Open(path, options);
  if (!db.ok()) return Fail("open " + path + ": " + db.status().ToString());
  boltpp::Status s = (*db)->Update([n](boltpp::Tx& tx) {
    auto widgets = tx.CreateBucket("widgets");
    if (!widgets.ok()) return widgets.status();
    for (int i = 0; i < n; ++i) {
      if (auto st = widgets->Put(Key(i), Value(i)); !st.ok()) return st;
    }
    auto parts = widgets->CreateBucket("parts");
    if (!parts.ok()) return parts.status();
    if (auto seq = parts->NextSequence(); !seq.ok() || *seq != 1)
      return boltpp::Status(boltpp::Code::kAborted, "sequence");
    return parts->Put("gear", "42");
  });
  if (!s.ok()) return Fail("update: " + s.ToString());
  // Errors cross the library boundary as Status values with bbolt's words.
  s = (*db)->Update([](boltpp::Tx& tx) { return tx.CreateBucket("widgets").status(); });
  if (s.code() != boltpp::Code::kBucketExists || s.ToString() != "bucket already exists") {
    return Fail("CreateBucket twice gave '" + s.ToString() + "'");
  }
  if (fs.syncs == 0) return Fail("the FileSystem subclass saw no Sync");
  if (int rc = CheckFile(**db)) return rc;

  auto compacted = boltpp::DB::Open(path + ".compact");
  if (!compacted.ok()) return Fail("open compact: " + compacted.status().ToString());
  if (s = boltpp::Compact(**compacted, **db, 0); !s.ok()) return Fail("compact: " + s.ToString());
  if (int rc = CheckFile(**compacted)) return rc;
  std::printf("wrote %d keys to %s (%d syncs), compacted into %s.compact\n", n, path.c_str(),
              fs.syncs, path.c_str());
  return 0;
}

int Read(const std::string& path, int n) {
  boltpp::Options options;
  options.read_only = true;
  auto db = boltpp::DB::Open(path, options);
  if (!db.ok()) return Fail("open " + path + ": " + db.status().ToString());
  int seen = 0;
  boltpp::Status s = (*db)->View([&](boltpp::Tx& tx) {
    boltpp::Bucket widgets = tx.GetBucket("widgets");
    if (!widgets) return boltpp::Status(boltpp::Code::kBucketNotFound, "widgets");
    boltpp::Cursor c = widgets.NewCursor();
    for (auto e = c.First(); e; e = c.Next()) {
      if (e->is_bucket) continue;
      if (e->key != Key(seen) || e->value != Value(seen)) {
        return boltpp::Status(boltpp::Code::kCorruption, "unexpected key " + std::string(e->key));
      }
      ++seen;
    }
    auto gear = widgets.GetBucket("parts").Get("gear");
    if (!gear || *gear != "42") return boltpp::Status(boltpp::Code::kCorruption, "parts/gear");
    if (widgets.GetBucket("parts").Sequence() != 1) {
      return boltpp::Status(boltpp::Code::kCorruption, "parts sequence");
    }
    return c.status();
  });
  if (!s.ok()) return Fail("view: " + s.ToString());
  if (seen != n) return Fail("read " + std::to_string(seen) + " keys, want " + std::to_string(n));
  if (int rc = CheckFile(**db)) return rc;
  std::printf("read %d keys from %s\n", seen, path.c_str());
  return 0;
}

int Version() {
  std::printf("library %s (ABI %d), headers %s\n", boltpp::VersionString(), boltpp::AbiVersion(),
              BOLTPP_VERSION_STRING);
  if (std::strcmp(boltpp::VersionString(), BOLTPP_VERSION_STRING) != 0 ||
      boltpp::VersionNumber() != BOLTPP_VERSION || boltpp::AbiVersion() != BOLTPP_ABI_VERSION) {
    return Fail("the library's version differs from the headers'");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "version") == 0) return Version();
  if (argc == 4 && std::strcmp(argv[1], "write") == 0) return Write(argv[2], std::atoi(argv[3]));
  if (argc == 4 && std::strcmp(argv[1], "read") == 0) return Read(argv[2], std::atoi(argv[3]));
  return Fail("usage: consumer version | write DB N | read DB N");
}
