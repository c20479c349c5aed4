// File: tools/cli/command_export.cc
// `boltpp export [-o FILE] <db>`: the whole database as JSON Lines:
//   {"type":"bucket","path":[P,...],"sequence":N}          one per bucket, before its contents
//   {"type":"kv","path":[P,...],"key":K,"value":V}         one per key
// Each P, K and V is a JSON string when the bytes are valid UTF-8, else
// {"base64":"..."}. Buckets and keys come in key order, depth first.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli.h"
#include "json_out.h"

namespace boltpp::cli {

namespace {

class Sink {
 public:
  explicit Sink(FILE* f) : f_(f) {}
  void Write(const std::string& s) {
    buf_ += s;
    if (buf_.size() >= (1 << 20)) Flush();
  }
  void Flush() {
    if (buf_.empty()) return;
    if (std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      throw CliError(std::string("write: ") + std::strerror(errno));
    }
    bytes_ += buf_.size();
    buf_.clear();
  }
  uint64_t bytes() const { return bytes_ + buf_.size(); }

 private:
  FILE* f_;
  std::string buf_;
  uint64_t bytes_ = 0;
};

Json PathJson(const std::vector<std::string>& path) {
  Json list = Json::array();
  for (const std::string& name : path) list.push_back(BytesJson(name));
  return list;
}

void ExportBucket(const Bucket& b, std::vector<std::string>* path, Sink* out, Progress* progress) {
  const Json path_json = PathJson(*path);
  out->Write(GoJson(Json{{"type", "bucket"}, {"path", path_json}, {"sequence", b.Sequence()}}) +
             "\n");
  progress->Add(1);
  ForEachOrThrow(b, [&](const Entry& e) {
    if (e.is_bucket) {
      Bucket sub = b.GetBucket(e.key);
      if (!sub) throw CliError("bucket " + GoQuote(e.key) + " could not be opened");
      path->emplace_back(e.key);
      ExportBucket(sub, path, out, progress);
      path->pop_back();
      return;
    }
    out->Write(GoJson(Json{{"type", "kv"},
                           {"path", path_json},
                           {"key", BytesJson(e.key)},
                           {"value", BytesJson(e.value)}}) +
               "\n");
    progress->Add(1);
  });
}

// Where the lines go: stdout, or --output through a temporary file renamed
// over it by Finish (written directly when --output exists and is not a
// regular file: a FIFO, /dev/stdout...). An unfinished temporary file is
// removed.
class Output {
 public:
  explicit Output(const std::string& path) : path_(path) {
    if (path.empty()) return;
    struct stat st;
    direct_ = ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
    tmp_ = direct_ ? path : path + ".tmp";
    file_ = std::fopen(tmp_.c_str(), "wb");
    if (!file_) throw CliError("open " + path + ": " + std::strerror(errno));
  }
  ~Output() {
    if (!file_ || file_ == stdout) return;
    std::fclose(file_);
    if (!direct_) std::remove(tmp_.c_str());
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  FILE* file() const { return file_; }

  // Syncs and closes the file and renames it into place (stdout: nothing).
  void Finish() {
    if (file_ == stdout) return;
    if (std::fflush(file_) != 0 || (!direct_ && ::fsync(fileno(file_)) != 0)) {
      throw CliError("write " + path_ + ": " + std::strerror(errno));
    }
    std::fclose(file_);
    file_ = nullptr;
    if (!direct_ && std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      throw CliError("rename " + tmp_ + ": " + std::strerror(errno));
    }
  }

 private:
  std::string path_, tmp_;
  FILE* file_ = stdout;
  bool direct_ = false;
};

int RunExport(Invocation& inv) {
  auto db = OpenSourceDB(inv);
  Output out(inv.flags.Str("output"));
  Sink sink(out.file());
  Progress progress("exporting", 0, false);
  ViewOrThrow(*db, [&](Tx& tx) {
    ForEachBucketOrThrow(tx, [&](Bytes name, Bucket b) {
      std::vector<std::string> path{std::string(name)};
      ExportBucket(b, &path, &sink, &progress);
    });
  });
  sink.Flush();
  out.Finish();
  return 0;
}

}  // namespace

Command ExportCommand() {
  return LeafCommand("export <bbolt-file>",
                     "write every bucket and key as JSON Lines (to stdout or -o FILE)",
                     ArgsSpec::Exact(1), RunExport,
                     {StringFlag("output", "", "write to this file instead of stdout", 'o')},
                     "  boltpp export my.db > my.jsonl\n  boltpp export -o my.jsonl my.db");
}

}  // namespace boltpp::cli
