// File: tools/cli/command_import.cc
// `boltpp import [-i FILE] [--tx-max-size N] <db>`: loads JSON Lines written
// by `boltpp export` into a new or existing database, committing every
// --tx-max-size bytes. A malformed line stops the import with its line
// number; the transaction it belongs to is rolled back (earlier
// transactions stay committed).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.h"

namespace boltpp::cli {

namespace {

using nlohmann::json;

// A name, key or value: a JSON string, or {"base64":"..."}.
bool DecodeBytes(const json& j, std::string* out, std::string* why) {
  if (j.is_string()) {
    *out = j.get<std::string>();
    return true;
  }
  if (j.is_object() && j.size() == 1 && j.contains("base64") && j["base64"].is_string()) {
    if (Base64Decode(j["base64"].get<std::string>(), out)) return true;
    *why = "invalid base64";
    return false;
  }
  *why = "expected a string or {\"base64\":...}";
  return false;
}

struct Record {
  bool is_bucket = false;
  std::vector<std::string> path;
  bool has_sequence = false;
  uint64_t sequence = 0;
  std::string key, value;
};

// Parses one line; returns "" or why it is malformed.
std::string ParseRecord(const std::string& line, Record* r) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return "malformed JSON";
  if (!j.is_object()) return "expected a JSON object";
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return "missing \"type\"";
  std::string t = type->get<std::string>();
  if (t == "bucket") {
    r->is_bucket = true;
  } else if (t == "kv") {
    r->is_bucket = false;
  } else {
    return "unknown type " + GoQuote(t) + " (want \"bucket\" or \"kv\")";
  }
  auto path = j.find("path");
  if (path == j.end() || !path->is_array() || path->empty())
    return "\"path\" must be a non-empty array";
  for (auto& p : *path) {
    std::string name, why;
    if (!DecodeBytes(p, &name, &why)) return "\"path\": " + why;
    if (name.empty()) return "\"path\": empty bucket name";
    r->path.push_back(std::move(name));
  }
  if (r->is_bucket) {
    auto seq = j.find("sequence");
    if (seq != j.end()) {
      if (!seq->is_number_unsigned() && !(seq->is_number_integer() && seq->get<int64_t>() >= 0)) {
        return "\"sequence\" must be a non-negative integer";
      }
      r->has_sequence = true;
      r->sequence = seq->get<uint64_t>();
    }
    return "";
  }
  auto key = j.find("key");
  auto value = j.find("value");
  if (key == j.end()) return "missing \"key\"";
  if (value == j.end()) return "missing \"value\"";
  std::string why;
  if (!DecodeBytes(*key, &r->key, &why)) return "\"key\": " + why;
  if (r->key.empty()) return "\"key\": empty key";
  if (!DecodeBytes(*value, &r->value, &why)) return "\"value\": " + why;
  return "";
}

class Importer {
 public:
  Importer(DB* db, int64_t tx_max) : db_(db), tx_max_(tx_max) {}

  // Applies a record inside the current transaction; "" or the engine error.
  std::string Apply(const Record& r) {
    if (!tx_) Begin();
    Bucket b;
    std::string err = Walk(r.path, &b);
    if (!err.empty()) return err;
    if (r.is_bucket) {
      if (r.has_sequence) {
        Status s = b.SetSequence(r.sequence);
        if (!s.ok()) return StatusMessage(s);
      }
      pending_bytes_ += 16;
    } else {
      Status s = b.Put(r.key, r.value);
      if (!s.ok()) return StatusMessage(s);
      pending_bytes_ += static_cast<int64_t>(r.key.size() + r.value.size());
    }
    ++pending_records_;
    return "";
  }

  bool ShouldCommit() const { return tx_max_ > 0 && pending_bytes_ >= tx_max_; }

  void Commit() {
    if (!tx_) return;
    Status s = tx_->Commit();
    tx_.reset();
    cache_path_.clear();
    if (!s.ok()) ThrowStatus(s);
    committed_records_ += pending_records_;
    pending_records_ = 0;
    pending_bytes_ = 0;
  }

  void Rollback() {
    if (tx_) {
      (void)tx_->Rollback();
      tx_.reset();
    }
    cache_path_.clear();
    pending_records_ = 0;
    pending_bytes_ = 0;
  }

  uint64_t committed() const { return committed_records_; }

 private:
  void Begin() {
    auto r = db_->Begin(true);
    if (!r.ok()) ThrowStatus(r.status());
    tx_ = std::make_unique<Tx>(std::move(r).value());
  }

  // The bucket at path, created (with its parents) when missing.
  std::string Walk(const std::vector<std::string>& path, Bucket* out) {
    size_t common = 0;
    while (common < path.size() && common < cache_path_.size() &&
           path[common] == cache_path_[common])
      ++common;
    cache_path_.resize(common);
    cache_buckets_.resize(common);
    for (size_t i = common; i < path.size(); ++i) {
      Result<Bucket> r = i == 0 ? tx_->CreateBucketIfNotExists(path[i])
                                : cache_buckets_[i - 1].CreateBucketIfNotExists(path[i]);
      if (!r.ok()) return "bucket " + GoQuote(path[i]) + ": " + StatusMessage(r.status());
      cache_path_.push_back(path[i]);
      cache_buckets_.push_back(*r);
    }
    *out = cache_buckets_.back();
    return "";
  }

  DB* db_;
  int64_t tx_max_;
  std::unique_ptr<Tx> tx_;
  std::vector<std::string> cache_path_;
  std::vector<Bucket> cache_buckets_;
  int64_t pending_bytes_ = 0;
  uint64_t pending_records_ = 0;
  uint64_t committed_records_ = 0;
};

}  // namespace

Command ImportCommand() {
  Command c;
  c.name = "import";
  c.use = "import <bbolt-file>";
  c.short_desc =
      "load JSON Lines written by export (from stdin or -i FILE) into a new or existing database";
  c.args = ArgsSpec::Exact(1);
  c.flags = {
      StringFlag("input", "", "read this file instead of stdin", 'i'),
      Int64Flag("tx-max-size", "1048576",
                "commit after this many bytes of keys and values (0 = one transaction)"),
      BoolFlag("no-sync", "skip fsync on commit"),
  };
  c.example = "  boltpp import -i my.jsonl new.db\n  boltpp export old.db | boltpp import new.db";
  c.run = [](Invocation& inv) {
    const std::string& path = inv.args[0];
    std::string in_path = inv.flags.Str("input");
    FILE* in = stdin;
    uint64_t total = 0;
    if (!in_path.empty()) {
      in = std::fopen(in_path.c_str(), "rb");
      if (!in) throw CliError("open " + in_path + ": " + std::strerror(errno));
      struct stat st;
      if (::fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
        total = static_cast<uint64_t>(st.st_size);
    }
    struct Closer {
      FILE* f;
      ~Closer() {
        if (f && f != stdin) std::fclose(f);
      }
    } closer{in};

    auto db = OpenForWrite(path, inv);
    Importer imp(db.get(), inv.flags.Int("tx-max-size"));
    Progress progress("importing", total, true);

    char* line = nullptr;
    size_t cap = 0;
    struct Free {
      char** p;
      ~Free() { std::free(*p); }
    } free_line{&line};
    uint64_t lineno = 0, read_bytes = 0;
    ssize_t n;
    while ((n = ::getline(&line, &cap, in)) >= 0) {
      ++lineno;
      read_bytes += static_cast<uint64_t>(n);
      progress.Set(read_bytes);
      std::string s(line, static_cast<size_t>(n));
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
      if (s.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
      Record r;
      std::string why = ParseRecord(s, &r);
      if (why.empty()) why = imp.Apply(r);
      if (!why.empty()) {
        imp.Rollback();
        progress.Finish();
        throw CliError("line " + std::to_string(lineno) + ": " + why,
                       "import stopped: " + std::to_string(imp.committed()) +
                           " records before this line's transaction were committed; nothing of its "
                           "transaction "
                           "was kept");
      }
      if (imp.ShouldCommit()) imp.Commit();
    }
    if (std::ferror(in)) {
      imp.Rollback();
      throw CliError("read " + (in_path.empty() ? std::string("stdin") : in_path) + ": " +
                     std::strerror(errno));
    }
    imp.Commit();
    progress.Finish();
    Check(db->Close());
    return 0;
  };
  return c;
}

}  // namespace boltpp::cli
