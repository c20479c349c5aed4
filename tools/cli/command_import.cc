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

// A name, key or value: a JSON string, or {"base64":"..."}. Throws
// CliError("<field>: <why>") for anything else.
std::string DecodeBytes(const json& j, const char* field) {
  if (j.is_string()) return j.get<std::string>();
  std::string out;
  if (j.is_object() && j.size() == 1 && j.contains("base64") && j["base64"].is_string()) {
    if (Base64Decode(j["base64"].get<std::string>(), &out)) return out;
    throw CliError(std::string(field) + ": invalid base64");
  }
  throw CliError(std::string(field) + ": expected a string or {\"base64\":...}");
}

struct Record {
  bool is_bucket = false;
  std::vector<std::string> path;
  bool has_sequence = false;
  uint64_t sequence = 0;
  std::string key, value;
};

// "type": "bucket" or "kv".
bool ParseIsBucket(const json& j) {
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) throw CliError("missing \"type\"");
  const std::string t = type->get<std::string>();
  if (t != "bucket" && t != "kv") {
    throw CliError("unknown type " + GoQuote(t) + " (want \"bucket\" or \"kv\")");
  }
  return t == "bucket";
}

// "path": a non-empty array of non-empty bucket names.
std::vector<std::string> ParsePath(const json& j) {
  auto path = j.find("path");
  if (path == j.end() || !path->is_array() || path->empty())
    throw CliError("\"path\" must be a non-empty array");
  std::vector<std::string> names;
  for (auto& p : *path) {
    names.push_back(DecodeBytes(p, "\"path\""));
    if (names.back().empty()) throw CliError("\"path\": empty bucket name");
  }
  return names;
}

// A bucket record's optional "sequence".
void ParseSequence(const json& j, Record* r) {
  auto seq = j.find("sequence");
  if (seq == j.end()) return;
  if (!seq->is_number_unsigned() && !(seq->is_number_integer() && seq->get<int64_t>() >= 0)) {
    throw CliError("\"sequence\" must be a non-negative integer");
  }
  r->has_sequence = true;
  r->sequence = seq->get<uint64_t>();
}

// A kv record's "key" (not empty) and "value".
void ParseKeyValue(const json& j, Record* r) {
  auto key = j.find("key");
  auto value = j.find("value");
  if (key == j.end()) throw CliError("missing \"key\"");
  if (value == j.end()) throw CliError("missing \"value\"");
  r->key = DecodeBytes(*key, "\"key\"");
  if (r->key.empty()) throw CliError("\"key\": empty key");
  r->value = DecodeBytes(*value, "\"value\"");
}

// Parses one line; throws CliError saying why it is malformed.
Record ParseRecord(const std::string& line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw CliError("malformed JSON");
  if (!j.is_object()) throw CliError("expected a JSON object");
  Record r;
  r.is_bucket = ParseIsBucket(j);
  r.path = ParsePath(j);
  if (r.is_bucket) {
    ParseSequence(j, &r);
  } else {
    ParseKeyValue(j, &r);
  }
  return r;
}

class Importer {
 public:
  Importer(DB* db, int64_t tx_max) : db_(db), tx_max_(tx_max) {}

  // Begins a write transaction unless one is open; throws the engine error.
  void BeginIfNeeded() {
    if (tx_) return;
    auto r = db_->Begin(true);
    if (!r.ok()) ThrowStatus(r.status());
    tx_ = std::make_unique<Tx>(std::move(r).value());
  }

  // Applies a record inside the open transaction; throws CliError with the
  // engine's message.
  void Apply(const Record& r) {
    Bucket b = Walk(r.path);
    if (r.is_bucket) {
      if (r.has_sequence) ThrowIfFailed(b.SetSequence(r.sequence));
      pending_bytes_ += 16;
    } else {
      ThrowIfFailed(b.Put(r.key, r.value));
      pending_bytes_ += static_cast<int64_t>(r.key.size() + r.value.size());
    }
    ++pending_records_;
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
  // The message alone: the import's own hint replaces ThrowStatus's.
  static void ThrowIfFailed(const Status& s) {
    if (!s.ok()) throw CliError(StatusMessage(s));
  }

  // The bucket at path, created (with its parents) when missing. The path
  // of the previous record is cached, as records come in key order.
  Bucket Walk(const std::vector<std::string>& path) {
    size_t common = 0;
    while (common < path.size() && common < cache_path_.size() &&
           path[common] == cache_path_[common])
      ++common;
    cache_path_.resize(common);
    cache_buckets_.resize(common);
    for (size_t i = common; i < path.size(); ++i) {
      Bucket parent = i == 0 ? tx_->Root() : cache_buckets_[i - 1];
      Result<Bucket> r = parent.CreateBucketIfNotExists(path[i]);
      if (!r.ok()) throw CliError("bucket " + GoQuote(path[i]) + ": " + StatusMessage(r.status()));
      cache_path_.push_back(path[i]);
      cache_buckets_.push_back(*r);
    }
    return cache_buckets_.back();
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

// The input: stdin, or the --input file (closed on destruction).
class Input {
 public:
  explicit Input(const std::string& path) {
    if (path.empty()) return;
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) throw CliError("open " + path + ": " + std::strerror(errno));
    name_ = path;
    struct stat st;
    if (::fstat(fileno(file_), &st) == 0 && S_ISREG(st.st_mode)) {
      size_ = static_cast<uint64_t>(st.st_size);
    }
  }
  ~Input() {
    if (file_ != stdin) std::fclose(file_);
    std::free(line_);
  }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  // The next line without its line end; false at the end of the input.
  // Throws "read <name>: <reason>" on a read error.
  bool NextLine(std::string* line) {
    ssize_t n = ::getline(&line_, &cap_, file_);
    if (n < 0 && std::ferror(file_)) {
      throw CliError("read " + name_ + ": " + std::strerror(errno));
    }
    if (n < 0) return false;
    bytes_read_ += static_cast<uint64_t>(n);
    line->assign(line_, static_cast<size_t>(n));
    while (!line->empty() && (line->back() == '\n' || line->back() == '\r')) line->pop_back();
    return true;
  }
  uint64_t size() const { return size_; }  // a regular file's size, else 0
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  FILE* file_ = stdin;
  std::string name_ = "stdin";
  uint64_t size_ = 0;
  char* line_ = nullptr;
  size_t cap_ = 0;
  uint64_t bytes_read_ = 0;
};

// Loads every record of in. A bad record stops the import: its transaction
// is rolled back and the error names its line.
void ImportLines(Input& in, Importer& imp, Progress& progress) {
  uint64_t lineno = 0;
  auto at_line = [&](auto&& step) {
    try {
      return step();
    } catch (const CliError& e) {
      imp.Rollback();
      progress.Finish();
      throw CliError("line " + std::to_string(lineno) + ": " + e.what(),
                     "import stopped: " + std::to_string(imp.committed()) +
                         " records before this line's transaction were committed; nothing of its "
                         "transaction was kept");
    }
  };
  std::string line;
  while (in.NextLine(&line)) {
    ++lineno;
    progress.Set(in.bytes_read());
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
    const Record record = at_line([&] { return ParseRecord(line); });
    imp.BeginIfNeeded();
    at_line([&] { imp.Apply(record); });
    if (imp.ShouldCommit()) imp.Commit();
  }
}

int RunImport(Invocation& inv) {
  Input in(inv.flags.Str("input"));
  auto db = OpenForWrite(inv.args[0], inv);
  Importer imp(db.get(), inv.flags.Int("tx-max-size"));
  Progress progress("importing", in.size(), true);
  ImportLines(in, imp, progress);  // a failure leaves with imp's transaction rolled back
  imp.Commit();
  progress.Finish();
  Check(db->Close());
  return 0;
}

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
  c.run = RunImport;
  return c;
}

}  // namespace boltpp::cli
