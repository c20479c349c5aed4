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

}  // namespace

Command ExportCommand() {
  Command c;
  c.name = "export";
  c.use = "export <bbolt-file>";
  c.short_desc = "write every bucket and key as JSON Lines (to stdout or -o FILE)";
  c.args = ArgsSpec::Exact(1);
  c.flags = {StringFlag("output", "", "write to this file instead of stdout", 'o')};
  c.example = "  boltpp export my.db > my.jsonl\n  boltpp export -o my.jsonl my.db";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    std::string out_path = inv.flags.Str("output");
    CheckSourceDBPath(path);
    auto db = OpenDB(path, inv, {});
    FILE* f = stdout;
    std::string tmp;
    bool direct = false;  // a FIFO, /dev/stdout...: no temporary file
    if (!out_path.empty()) {
      struct stat st;
      direct = ::stat(out_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
      tmp = direct ? out_path : out_path + ".tmp";
      f = std::fopen(tmp.c_str(), "wb");
      if (!f) throw CliError("open " + out_path + ": " + std::strerror(errno));
    }
    Sink sink(f);
    try {
      Progress progress("exporting", 0, false);
      ViewOrThrow(*db, [&](Tx& tx) {
        ForEachBucketOrThrow(tx, [&](Bytes name, Bucket b) {
          std::vector<std::string> p{std::string(name)};
          ExportBucket(b, &p, &sink, &progress);
        });
      });
      sink.Flush();
      if (f != stdout) {
        if (std::fflush(f) != 0 || (!direct && ::fsync(fileno(f)) != 0)) {
          throw CliError("write " + out_path + ": " + std::strerror(errno));
        }
        std::fclose(f);
        f = nullptr;
        if (!direct && std::rename(tmp.c_str(), out_path.c_str()) != 0) {
          throw CliError("rename " + tmp + ": " + std::strerror(errno));
        }
      }
    } catch (...) {
      if (f && f != stdout) {
        std::fclose(f);
        if (!direct) std::remove(tmp.c_str());
      }
      throw;
    }
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
