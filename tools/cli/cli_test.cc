// File: tools/cli/cli_test.cc
// Behaviour tests of the boltpp tool beyond the golden cases: errors (missing
// file, bad arguments, locked, damaged and read-only files), the write
// commands, export/import round trips (with non-UTF-8 bytes), surgery,
// --json, bench, help. Every test that writes a database checks it after.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "boltpp/boltpp.h"
#include "cli_test_util.h"

namespace boltpp::cli::test {
namespace {

using nlohmann::json;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CopyFile(TestData() + "/jobs-300.db", db());
    CopyFile(TestData() + "/not-a-db.txt", dir_.File("not-a-db.txt"));
  }
  std::string db() const { return dir_.File("jobs.db"); }
  std::string P(const std::string& name) const { return dir_.File(name); }
  RunResult R(const std::vector<std::string>& args, const std::string& in = "") {
    return RunTool(args, dir_.path(), in);
  }
  // `boltpp check` must print OK.
  void ExpectCheckOk(const std::string& path) {
    RunResult r = R({"check", path});
    EXPECT_FALSE(r.signaled);
    EXPECT_EQ(r.exit_code, 0) << path << ": " << r.out << r.err;
    EXPECT_EQ(r.out, "OK\n") << path;
  }
  void ExpectError(const RunResult& r, const std::string& first_line) {
    EXPECT_FALSE(r.signaled) << r.err;
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_EQ(r.FirstErrLine(), first_line) << r.err;
  }
  // `boltpp surgery <args> --output <copy> <db>` prints message, leaves
  // page `page` of the copy with `items` elements, and the copy checks OK.
  void ExpectCleared(std::vector<std::string> args, const std::string& copy,
                     const std::string& message, const std::string& page, int items) {
    args.insert(args.begin(), "surgery");
    args.insert(args.end(), {"--output", copy, db()});
    RunResult r = R(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, message);
    EXPECT_NE(R({"page", copy, page}).out.find("Item Count: " + std::to_string(items) + "\n"),
              std::string::npos);
    ExpectCheckOk(P(copy));
  }
  TempDir dir_;
};

// ---------------------------------------------------------------- errors

TEST_F(CliTest, MissingFile) {
  for (std::string cmd : {"info", "check", "buckets", "pages", "stats", "inspect"}) {
    ExpectError(R({cmd, "nope.db"}), "Error: source database file \"nope.db\" doesn't exist");
  }
  ExpectError(R({"keys", "nope.db", "b"}), "Error: source database file \"nope.db\" doesn't exist");
  ExpectError(R({"get", "nope.db", "b", "k"}),
              "Error: source database file \"nope.db\" doesn't exist");
  ExpectError(R({"page", "nope.db", "0"}), "Error: source database file \"nope.db\" doesn't exist");
  ExpectError(R({"dump", "nope.db", "0"}), "Error: source database file \"nope.db\" doesn't exist");
  ExpectError(R({"page-item", "nope.db", "0", "0"}),
              "Error: source database file \"nope.db\" doesn't exist");
  ExpectError(R({"compact", "-o", "x.db", "nope.db"}),
              "Error: source database file \"nope.db\" doesn't exist");
  ExpectError(R({"export", "nope.db"}), "Error: source database file \"nope.db\" doesn't exist");
  ExpectError(R({"delete", "nope.db", "b", "k"}),
              "Error: source database file \"nope.db\" doesn't exist");
  ExpectError(R({"delete-bucket", "nope.db", "b"}),
              "Error: source database file \"nope.db\" doesn't exist");
  ExpectError(R({"surgery", "meta", "validate", "nope.db"}),
              "Error: source database file \"nope.db\" doesn't exist");
  EXPECT_FALSE(Exists(P("nope.db")));
}

TEST_F(CliTest, BadArguments) {
  ExpectError(R({"info"}), "Error: accepts 1 arg(s), received 0");
  ExpectError(R({"info", "a", "b"}), "Error: accepts 1 arg(s), received 2");
  ExpectError(R({"get", db(), "execution"}), "Error: requires at least 3 arg(s), only received 2");
  ExpectError(R({"keys", db()}), "Error: requires at least 2 arg(s), only received 1");
  ExpectError(R({"stats"}), "Error: accepts between 1 and 2 arg(s), received 0");
  ExpectError(R({"foo"}), "Error: unknown command \"foo\" for \"boltpp\"");
  ExpectError(R({"info", "--bogus", db()}), "Error: unknown flag: --bogus");
  ExpectError(R({"keys", "-x", db(), "execution"}), "Error: unknown shorthand flag: 'x' in -x");
  ExpectError(R({"get", db(), "execution", "k", "--format"}),
              "Error: flag needs an argument: --format");
  ExpectError(R({"check", "--from-page", "abc", db()}),
              "Error: invalid argument \"abc\" for \"--from-page\" flag: strconv.ParseUint: "
              "parsing \"abc\": "
              "invalid syntax");
  ExpectError(R({"compact", db()}), "Error: required flag(s) \"output\" not set");
  ExpectError(R({"page", db()}), "Error: page id required");
  ExpectError(R({"page", "--all", db(), "1"}),
              "Error: invalid args: either use '--all' or 'pageid...'");
  ExpectError(R({"page", db(), "x"}), "Error: strconv.ParseUint: parsing \"x\": invalid syntax");
  ExpectError(
      R({"get", "--format", "nope", db(), "execution", "e-027315f5-cb1d-e447-3633-6a57b7d9286c"}),
      "Error: formatBytes: unsupported format: nope");
  ExpectError(R({"get", "--parse-format", "hex", db(), "execution", "zz"}),
              "Error: encoding/hex: invalid byte: U+007A 'z'");
  ExpectError(R({"get", "--parse-format", "hex", db(), "execution", "abc"}),
              "Error: encoding/hex: odd length hex string");
  ExpectError(R({"get", db(), "execution", ""}), "Error: key is required: key required");
  ExpectError(R({"page-item", "--key-only", "--value-only", db(), "4", "0"}),
              "Error: the --key-only or --value-only flag may be set, but not both");
  ExpectError(R({"page-item", db(), "4", "9"}),
              "Error: leafPageElement: expected item index less than 2, but got 9");
  ExpectError(R({"page-item", db(), "0", "0"}),
              "Error: leafPageElement: expected item index less than 0, but got 0");
  ExpectError(R({"check", "--from-page", "1", db()}), "Error: invalid value");
  ExpectError(R({"dump", db(), "9999"}), "Error: EOF");
  ExpectError(R({"dump", "not-a-db.txt", "0"}), "Error: unexpected EOF");
}

TEST_F(CliTest, CheckFromPageReportsRange) {
  RunResult r = R({"check", "--from-page", "1", db()});
  EXPECT_EQ(r.exit_code, 1);
  auto lines = Lines(r.out);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.back(), "1 errors found");
}

TEST_F(CliTest, PageFailuresContinue) {
  RunResult r = R({"page", db(), "9999", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Printing page 9999 failed: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("Page Type:  meta"), std::string::npos);
  // Page 5 is free but holds an old page with id 5? Any mismatch is reported, never a crash.
  RunResult all = R({"page", "--all", db()});
  EXPECT_EQ(all.exit_code, 0);
  EXPECT_FALSE(all.signaled);
}

TEST_F(CliTest, HelpAndVersion) {
  RunResult r = R({});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Available Commands:"), std::string::npos);
  r = R({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Usage:"), std::string::npos);
  r = R({"help", "get"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("boltpp get PATH [BUCKET..] KEY [flags]"), std::string::npos);
  r = R({"get", "-h"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--parse-format"), std::string::npos);
  r = R({"surgery"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("revert-meta-page"), std::string::npos);
  r = R({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(Lines(r.out).size(), 3u);
  EXPECT_EQ(r.out.rfind("boltpp Version: ", 0), 0u);
  r = R({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("boltpp version ", 0), 0u);
}

// ---------------------------------------------------------------- locking

TEST_F(CliTest, LockedFile) {
  int fd = ::open(db().c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const std::string locked = "Error: database is locked by another process; retry with --timeout";
  ExpectError(R({"info", db()}), locked);
  ExpectError(R({"keys", db(), "execution"}), locked);
  ExpectError(R({"put", db(), "execution", "k", "v"}), locked);
  ExpectError(R({"import", "-i", "/dev/null", db()}), locked);
  RunResult r = R({"--timeout", "200ms", "info", db()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(
      r.FirstErrLine().rfind("Error: timeout: database is still locked by another process", 0), 0u)
      << r.err;
  r = R({"info", "--timeout", "0.2", db()});
  EXPECT_EQ(r.exit_code, 1);
  ::flock(fd, LOCK_UN);
  ::close(fd);
  r = R({"info", "--timeout", "1s", db()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Page Size: 4096\n");
  ExpectCheckOk(db());
}

// ---------------------------------------------------------------- damage

void Corrupt(const std::string& path, uint64_t offset, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

// Runs every read command; none may crash or hang.
void NoCrash(CliTest*, const std::string& path) {
  std::vector<std::vector<std::string>> cmds = {
      {"info", path},
      {"check", path},
      {"buckets", path},
      {"keys", path, "execution"},
      {"keys", path, "execution-history", "e-027315f5-cb1d-e447-3633-6a57b7d9286c"},
      {"get", path, "execution", "e-027315f5-cb1d-e447-3633-6a57b7d9286c"},
      {"stats", path},
      {"pages", path},
      {"inspect", path},
      {"export", path},
      {"page", "--all", path},
      {"page", path, "0", "1", "2", "3", "12"},
      {"page-item", path, "2", "0"},
      {"dump", path, "0", "2"},
      {"surgery", "meta", "validate", path},
  };
  for (auto& c : cmds) {
    RunResult r = RunTool(c, ".");
    std::string joined;
    for (auto& a : c) joined += a + " ";
    EXPECT_FALSE(r.signaled) << joined << "crashed: " << r.err;
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1)
        << joined << "rc=" << r.exit_code << " " << r.err;
    if (r.exit_code == 1) {
      EXPECT_EQ(r.err.rfind("Error: ", 0), 0u) << joined << r.err;
    }
  }
}

TEST_F(CliTest, DamagedLeafPage) {
  // Page 2 is a leaf of "execution": garbage in its elements.
  Corrupt(db(), 2 * 4096 + 16, std::string(512, '\xff'));
  NoCrash(this, db());
  RunResult r = R({"check", db()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_EQ(r.FirstErrLine(), "Error: invalid value");
}

TEST_F(CliTest, DamagedPageHeaders) {
  // Wrong ids, flags, counts and overflow in several pages.
  Corrupt(db(), 2 * 4096, std::string("\x63\0\0\0\0\0\0\0\x7f\0\xff\xff\xff\xff\xff\x7f", 16));
  Corrupt(db(), 3 * 4096 + 8, std::string("\x01\0\xff\xff", 4));
  Corrupt(db(), 159 * 4096, std::string(4096, '\x5a'));
  NoCrash(this, db());
}

TEST_F(CliTest, DamagedMetas) {
  Corrupt(db(), 16, "XXXX");
  Corrupt(db(), 4096 + 16, "XXXX");
  ExpectError(R({"info", db()}), "Error: invalid database");
  ExpectError(R({"dump", db(), "0"}), "Error: the Meta Page has wrong (unexpected) magic");
  NoCrash(this, db());
  RunResult v = R({"surgery", "meta", "validate", db()});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out,
            "WARNING: The meta page 0 isn't valid: invalid database!\n"
            "WARNING: The meta page 1 isn't valid: invalid database!\n");
}

TEST_F(CliTest, HugeHighWaterMarkInMeta0) {
  // page --all trusts meta 0's high-water mark; a damaged one must not make it
  // run (nearly) forever.
  Corrupt(db(), 56, std::string("\0\0\0\0\0\0\x10\0", 8));
  RunResult r = R({"page", "--all", db()});
  EXPECT_FALSE(r.signaled);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_LT(r.out.size(), 8u << 20);
  NoCrash(this, db());
}

TEST_F(CliTest, OneBadMetaFallsBack) {
  // Meta 1 (txid 7) has a bad checksum: the database opens at txid 6.
  Corrupt(db(), 4096 + 72, "\x01\x02");
  RunResult r = R({"info", "--json", db()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["txid"], 6);
  NoCrash(this, db());
}

TEST_F(CliTest, TruncatedAndGarbageFiles) {
  std::string full = ReadFile(db());
  WriteFile(P("trunc.db"), full.substr(0, 5000));
  NoCrash(this, P("trunc.db"));
  WriteFile(P("half.db"), full.substr(0, full.size() / 2));
  NoCrash(this, P("half.db"));
  WriteFile(P("empty.db"), "");
  NoCrash(this, P("empty.db"));
  std::string garbage(65536, '\0');
  uint32_t x = 12345;
  for (auto& ch : garbage) {
    x = x * 1103515245 + 12345;
    ch = static_cast<char>(x >> 24);
  }
  WriteFile(P("garbage.db"), garbage);
  NoCrash(this, P("garbage.db"));
  ExpectError(R({"info", "not-a-db.txt"}), "Error: invalid database");
}

// ---------------------------------------------------------------- read-only

TEST_F(CliTest, ReadOnlyFileIsRefused) {
  ASSERT_EQ(::chmod(db().c_str(), 0444), 0);
  std::string before = ReadFile(db());
  const std::string msg =
      "Error: database file \"" + db() + "\" is read-only; refusing to modify it";
  ExpectError(R({"put", db(), "execution", "k", "v"}), msg);
  ExpectError(R({"delete", db(), "execution", "e-027315f5-cb1d-e447-3633-6a57b7d9286c"}), msg);
  ExpectError(R({"create-bucket", db(), "new"}), msg);
  ExpectError(R({"delete-bucket", db(), "execution"}), msg);
  ExpectError(R({"import", "-i", "/dev/null", db()}), msg);
  EXPECT_EQ(ReadFile(db()), before);
  // Reading still works.
  RunResult r = R({"buckets", db()});
  EXPECT_EQ(r.exit_code, 0);
  ExpectCheckOk(db());
}

// ---------------------------------------------------------------- writes

TEST_F(CliTest, PutGetDeleteBuckets) {
  std::string n = P("new.db");
  ExpectError(R({"put", n, "a", "k", "v"}), "Error: bucket not found");
  ASSERT_EQ(R({"create-bucket", n, "a"}).exit_code, 0);
  ExpectError(R({"create-bucket", n, "a"}), "Error: bucket already exists");
  ASSERT_EQ(R({"create-bucket", "-p", n, "a"}).exit_code, 0);
  ASSERT_EQ(R({"create-bucket", "-p", n, "a", "b", "c"}).exit_code, 0);
  ExpectError(R({"create-bucket", n, "x", "y"}), "Error: bucket not found");
  ASSERT_EQ(R({"put", n, "a", "k1", "v1"}).exit_code, 0);
  ASSERT_EQ(R({"put", n, "a", "b", "k2", "v2"}).exit_code, 0);
  ASSERT_EQ(R({"put", "-p", n, "z", "y", "k3", "v3"}).exit_code, 0);
  ASSERT_EQ(R({"put", "--parse-format", "hex", n, "a", "00ff", "0102"}).exit_code, 0);
  ExpectError(R({"put", n, "a", "b", "v"}), "Error: incompatible value");
  RunResult r = R({"get", n, "a", "k1"});
  EXPECT_EQ(r.out, "v1\n");
  r = R({"get", "--parse-format", "hex", "--format", "hex", n, "a", "00ff"});
  EXPECT_EQ(r.out, "0102\n");
  r = R({"get", n, "z", "y", "k3"});
  EXPECT_EQ(r.out, "v3\n");
  r = R({"keys", n, "a"});
  EXPECT_EQ(r.out, "00ff\nb\nk1\n");
  r = R({"buckets", n});
  EXPECT_EQ(r.out, "a\nz\n");
  ASSERT_EQ(R({"delete", n, "a", "k1"}).exit_code, 0);
  ExpectError(R({"delete", n, "a", "k1"}),
              "Error: Error key not found for key: \"k1\" hex: \"6b31\"");
  ExpectError(R({"delete", n, "a", "b"}), "Error: incompatible value");
  ExpectError(R({"get", n, "a", "k1"}), "Error: Error key not found for key: \"k1\" hex: \"6b31\"");
  ASSERT_EQ(R({"delete-bucket", n, "a", "b"}).exit_code, 0);
  ExpectError(R({"delete-bucket", n, "a", "b"}), "Error: bucket not found");
  ASSERT_EQ(R({"put", n, "a", "plain", "x"}).exit_code, 0);
  ExpectError(R({"delete-bucket", n, "a", "plain"}), "Error: incompatible value");
  ASSERT_EQ(R({"delete-bucket", n, "z"}).exit_code, 0);
  r = R({"buckets", n});
  EXPECT_EQ(r.out, "a\n");
  ExpectCheckOk(n);
}

TEST_F(CliTest, PutIntoExistingDatabase) {
  ASSERT_EQ(R({"put", db(), "execution", "zzz", "hello"}).exit_code, 0);
  EXPECT_EQ(R({"get", db(), "execution", "zzz"}).out, "hello\n");
  ExpectCheckOk(db());
}

// ---------------------------------------------------------------- export/import

TEST_F(CliTest, ExportImportRoundTripJobs) {
  RunResult e1 = R({"export", db()});
  ASSERT_EQ(e1.exit_code, 0) << e1.err;
  auto lines = Lines(e1.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].rfind("{\"type\":\"bucket\",\"path\":[\"execution\"],\"sequence\":", 0), 0u)
      << lines[0];
  // 3 top-level buckets + 600 nested + 2664 - 600 keys... every record is valid JSON.
  size_t buckets = 0, kvs = 0;
  for (auto& l : lines) {
    json j = json::parse(l);
    if (j["type"] == "bucket") ++buckets;
    if (j["type"] == "kv") ++kvs;
  }
  EXPECT_EQ(buckets, 603u);
  EXPECT_EQ(buckets + kvs, 2664u + 3u);

  ASSERT_EQ(R({"export", "-o", "jobs.jsonl", db()}).exit_code, 0);
  EXPECT_EQ(ReadFile(P("jobs.jsonl")), e1.out);
  RunResult imp = R({"import", "-i", "jobs.jsonl", "--tx-max-size", "4096", P("copy.db")});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  ExpectCheckOk(P("copy.db"));
  RunResult e2 = R({"export", P("copy.db")});
  EXPECT_EQ(e2.out, e1.out);
  // Import from stdin too, in one transaction.
  imp = R({"import", "--tx-max-size", "0", P("copy2.db")}, P("jobs.jsonl"));
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_EQ(R({"export", P("copy2.db")}).out, e1.out);
  ExpectCheckOk(P("copy2.db"));
  // Stats and inspect agree with the original.
  EXPECT_EQ(R({"inspect", P("copy.db")}).out, R({"inspect", db()}).out);
}

TEST_F(CliTest, ExportImportNonUtf8) {
  // \xff\xfe is not UTF-8; "é" and "\u0000" are.
  std::string in =
      "{\"type\":\"bucket\",\"path\":[\"plain\"],\"sequence\":42}\n"
      "{\"type\":\"kv\",\"path\":[\"plain\"],\"key\":\"\\u0000nul\",\"value\":\"tab\\tquote\\\"\"}"
      "\n"
      "{\"type\":\"kv\",\"path\":[\"plain\"],\"key\":\"caf\xc3\xa9\",\"value\":\"\"}\n"
      "{\"type\":\"bucket\",\"path\":[\"plain\",{\"base64\":\"gA==\"}],\"sequence\":0}\n"
      "{\"type\":\"kv\",\"path\":[\"plain\",{\"base64\":\"gA==\"}],\"key\":\"k\",\"value\":{"
      "\"base64\":\"wA==\"}}\n"
      "{\"type\":\"kv\",\"path\":[\"plain\"],\"key\":{\"base64\":\"//"
      "4=\"},\"value\":{\"base64\":\"AAH/\"}}\n"
      "{\"type\":\"bucket\",\"path\":[{\"base64\":\"/w==\"}],\"sequence\":18446744073709551615}\n";
  WriteFile(P("in.jsonl"), in);
  RunResult imp = R({"import", "-i", "in.jsonl", P("bin.db")});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  ExpectCheckOk(P("bin.db"));
  RunResult ex = R({"export", P("bin.db")});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  EXPECT_EQ(ex.out, in);
  // The raw bytes are really there.
  RunResult g =
      R({"get", "--parse-format", "hex", "--format", "hex", P("bin.db"), "plain", "fffe"});
  EXPECT_EQ(g.out, "0001ff\n");
  RunResult k = R({"keys", "--format", "ascii-encoded", P("bin.db"), "plain"});
  EXPECT_EQ(k.out, "\"\\x00nul\"\n\"café\"\n\"\\x80\"\n\"\\xff\\xfe\"\n");
  // Re-import into an existing database: same content, still consistent.
  imp = R({"import", "-i", "in.jsonl", P("bin.db")});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_EQ(R({"export", P("bin.db")}).out, in);
  ExpectCheckOk(P("bin.db"));
}

TEST_F(CliTest, ImportStopsAtMalformedLine) {
  std::string good =
      "{\"type\":\"bucket\",\"path\":[\"a\"],\"sequence\":0}\n"
      "{\"type\":\"kv\",\"path\":[\"a\"],\"key\":\"1\",\"value\":\"one\"}\n"
      "{\"type\":\"kv\",\"path\":[\"a\"],\"key\":\"2\",\"value\":\"two\"}\n";
  WriteFile(P("bad.jsonl"),
            good + "{\"type\":\"kv\",\"path\":[\"a\"],\"key\":\"3\"\n" +
                "{\"type\":\"kv\",\"path\":[\"a\"],\"key\":\"4\",\"value\":\"four\"}\n");
  // One transaction: nothing is committed.
  RunResult r = R({"import", "--tx-max-size", "0", "-i", "bad.jsonl", P("one.db")});
  ExpectError(r, "Error: line 4: malformed JSON");
  RunResult b = R({"buckets", P("one.db")});
  EXPECT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(b.out, "");
  ExpectCheckOk(P("one.db"));
  // Small transactions: the lines before the bad line's transaction stay.
  r = R({"import", "--tx-max-size", "1", "-i", "bad.jsonl", P("small.db")});
  ExpectError(r, "Error: line 4: malformed JSON");
  EXPECT_EQ(R({"keys", P("small.db"), "a"}).out, "1\n2\n");
  ExpectCheckOk(P("small.db"));
  // Other kinds of malformed lines.
  struct {
    std::string line, err;
  } cases[] = {
      {"[1,2]", "Error: line 1: expected a JSON object"},
      {"{\"type\":\"x\",\"path\":[\"a\"]}",
       "Error: line 1: unknown type \"x\" (want \"bucket\" or \"kv\")"},
      {"{\"type\":\"kv\",\"path\":[],\"key\":\"k\",\"value\":\"v\"}",
       "Error: line 1: \"path\" must be a non-empty array"},
      {"{\"type\":\"kv\",\"path\":[\"a\"],\"key\":{\"base64\":\"!!\"},\"value\":\"v\"}",
       "Error: line 1: \"key\": invalid base64"},
      {"{\"type\":\"kv\",\"path\":[\"a\"],\"key\":\"\",\"value\":\"v\"}",
       "Error: line 1: \"key\": empty key"},
      {"{\"type\":\"bucket\",\"path\":[\"a\"],\"sequence\":-1}",
       "Error: line 1: \"sequence\" must be a non-negative integer"},
      {"{\"type\":\"kv\",\"path\":[\"a\"],\"key\":\"k\",\"value\":7}",
       "Error: line 1: \"value\": expected a string or {\"base64\":...}"},
  };
  int i = 0;
  for (auto& c : cases) {
    std::string f = P("c" + std::to_string(i) + ".jsonl");
    WriteFile(f, c.line + "\n");
    std::string dbp = P("c" + std::to_string(i++) + ".db");
    ExpectError(R({"import", "-i", f, dbp}), c.err);
    ExpectCheckOk(dbp);
  }
  // A key that is a bucket in the database: the engine's error, with the line.
  WriteFile(P("conflict.jsonl"),
            "{\"type\":\"kv\",\"path\":[\"execution-history\"],\"key\":"
            "\"e-027315f5-cb1d-e447-3633-6a57b7d9286c\",\"value\":\"x\"}\n");
  ExpectError(R({"import", "-i", "conflict.jsonl", db()}), "Error: line 1: incompatible value");
  ExpectCheckOk(db());
}

// ---------------------------------------------------------------- --json

TEST_F(CliTest, JsonOutputs) {
  json info = json::parse(R({"info", "--json", db()}).out);
  EXPECT_EQ(info["page_size"], 4096);
  EXPECT_EQ(info["txid"], 7);
  json buckets = json::parse(R({"buckets", "--json", db()}).out);
  EXPECT_EQ(buckets, json({"execution", "execution-history", "execution-index"}));
  json check = json::parse(R({"check", "--json", db()}).out);
  EXPECT_EQ(check["ok"], true);
  EXPECT_TRUE(check["errors"].empty());
  json stats = json::parse(R({"stats", "--json", db()}).out);
  EXPECT_EQ(stats["buckets"], 3);
  EXPECT_EQ(stats["key_n"], 2664);
  EXPECT_EQ(stats["inline_bucket_n"], 600);
  json pages = json::parse(R({"pages", "--json", db()}).out);
  ASSERT_TRUE(pages.is_array());
  EXPECT_EQ(pages[0]["type"], "meta");
  EXPECT_EQ(pages[4]["type"], "free");
  EXPECT_EQ(pages.size(), Lines(R({"pages", db()}).out).size() - 2);
  RunResult bad = R({"check", "--json", "--from-page", "1", db()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(json::parse(bad.out)["ok"], false);
}

// ---------------------------------------------------------------- surgery

TEST_F(CliTest, SurgeryRevertMetaPage) {
  RunResult r = R({"surgery", "revert-meta-page", "--output", "rev.db", db()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "The meta page is reverted.\n");
  RunResult p1 = R({"page", "rev.db", "1"});
  EXPECT_NE(p1.out.find("Txn ID:     6\n"), std::string::npos) << p1.out;
  EXPECT_NE(p1.out.find("Page ID:    1\n"), std::string::npos);
  json info = json::parse(R({"info", "--json", "rev.db"}).out);
  EXPECT_EQ(info["txid"], 6);
  ExpectCheckOk(P("rev.db"));
  ExpectError(R({"surgery", "revert-meta-page", "--output", "rev.db", db()}),
              "Error: [revert-meta-page] copy file failed: output file \"rev.db\" already exists");
  ExpectError(R({"surgery", "revert-meta-page", db()}),
              "Error: required flag(s) \"output\" not set");
}

TEST_F(CliTest, SurgeryFreelistAbandonAndRebuild) {
  ExpectError(R({"surgery", "freelist", "rebuild", "--output", "x.db", db()}),
              "Error: the file already has freelist, please consider to abandon the freelist to "
              "forcibly rebuild "
              "it");
  RunResult r = R({"surgery", "freelist", "abandon", "--output", "nofl.db", db()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "The freelist was abandoned in both meta pages.\n"
            "It may cause some delay on next startup because bbolt needs to scan the whole db to "
            "reconstruct the "
            "free list.\n");
  EXPECT_NE(R({"page", "nofl.db", "0"}).out.find("Freelist:   <pgid=18446744073709551615>"),
            std::string::npos);
  RunResult v = R({"surgery", "meta", "validate", "nofl.db"});
  EXPECT_EQ(v.out, "The meta page 0 is valid!\nThe meta page 1 is valid!\n");
  ExpectCheckOk(P("nofl.db"));
  r = R({"surgery", "freelist", "rebuild", "--output", "rebuilt.db", "nofl.db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "The freelist was successfully rebuilt.\n");
  RunResult p = R({"page", "rebuilt.db", "0", "1"});
  // The newest meta has a freelist page again.
  EXPECT_EQ(p.out.find("<pgid=18446744073709551615>"), p.out.rfind("<pgid=18446744073709551615>"));
  ExpectCheckOk(P("rebuilt.db"));
  EXPECT_EQ(R({"export", "rebuilt.db"}).out, R({"export", db()}).out);
}

TEST_F(CliTest, SurgeryCopyAndClearPages) {
  ExpectError(
      R({"surgery", "copy-page", "--from-page", "3", "--to-page", "3", "--output", "x.db", db()}),
      "Error: '--from-page' and '--to-page' have the same value: 3");
  ExpectError(R({"surgery", "copy-page", "--output", "x.db", db()}),
              "Error: required flag(s) \"from-page\", \"to-page\" not set");
  // Page 4 is free: overwriting it keeps the database consistent.
  RunResult r =
      R({"surgery", "copy-page", "--from-page", "3", "--to-page", "4", "--output", "cp.db", db()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "WARNING: the free list might have changed.\n"
            "Please consider executing `./bbolt surgery freelist abandon ...`\n"
            "The page 3 was successfully copied to page 4\n");
  EXPECT_EQ(R({"page", "cp.db", "4"}).out.substr(R({"page", "cp.db", "4"}).out.find('\n')),
            R({"page", db(), "3"}).out.substr(R({"page", db(), "3"}).out.find('\n')));
  ExpectCheckOk(P("cp.db"));

  ExpectError(R({"surgery", "clear-page", "--pageId", "1", "--output", "x.db", db()}),
              "Error: the pageId must be at least 2, but got 1");
  ExpectCleared({"clear-page", "--pageId", "4"}, "clr.db", "The page (4) was cleared\n", "4", 0);
  ExpectCleared({"clear-page-elements", "--pageId", "2", "--from-index", "1", "--to-index", "3"},
                "cpe.db", "All elements in [1, 3) in page 2 were cleared\n", "2", 11);
  EXPECT_EQ(Lines(R({"keys", "cpe.db", "execution"}).out).size(), 298u);
  ExpectCleared({"clear-page-elements", "--pageId", "2", "--from-index", "5", "--to-index", "-1"},
                "cpe2.db", "All elements in [5, -1) in page 2 were cleared\n", "2", 5);
  ExpectError(
      R({"surgery", "clear-page-elements", "--pageId", "2", "--from-index", "20", "--to-index",
         "-1", "--output", "e.db", db()}),
      "Error: clear-page-element command failed: the start index (20) is out of range [0, 13)");
  ExpectError(R({"surgery", "clear-page", "--pageId", "0", "--output", "e2.db", db()}),
              "Error: the pageId must be at least 2, but got 0");
}

TEST_F(CliTest, SurgeryClearBranchThenAbandonFreelist) {
  // Find a branch page.
  std::string branch;
  for (auto& l : Lines(R({"pages", db()}).out)) {
    if (l.find(" branch ") != std::string::npos) {
      branch = l.substr(0, l.find(' '));
      break;
    }
  }
  ASSERT_FALSE(branch.empty());
  RunResult r = R({"surgery", "clear-page", "--pageId", branch, "--output", "br.db", db()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "WARNING: The clearing has abandoned some pages that are not yet referenced from free list.\n"
      "Please consider executing `./bbolt surgery freelist abandon ...`\n"
      "The page (" +
          branch + ") was cleared\n");
  RunResult chk = R({"check", "br.db"});
  EXPECT_EQ(chk.exit_code, 1);  // unreachable pages
  EXPECT_FALSE(chk.signaled);
  r = R({"surgery", "freelist", "abandon", "--output", "br2.db", "br.db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectCheckOk(P("br2.db"));
}

TEST_F(CliTest, SurgeryMeta) {
  RunResult v = R({"surgery", "meta", "validate", db()});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, "The meta page 0 is valid!\nThe meta page 1 is valid!\n");
  ExpectError(R({"surgery", "meta", "update", "--meta-page", "0", "--fields", "foo:1", "--output",
                 "m.db", db()}),
              "Error: field \"foo\" isn't allowed to be updated");
  ExpectError(R({"surgery", "meta", "update", "--meta-page", "2", "--output", "m.db", db()}),
              "Error: invalid meta page id: 2");
  ExpectError(R({"surgery", "meta", "update", "--fields", "root", "--output", "m.db", db()}),
              "Error: invalid key-value pair: root");
  ExpectError(R({"surgery", "meta", "update", "--fields", "root:x", "--output", "m.db", db()}),
              "Error: invalid value \"x\" for field \"root\"");
  RunResult r = R({"surgery", "meta", "update", "--meta-page", "1", "--fields", "root:183,pgid:185",
                   "--output", "m.db", db()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "The meta page 1 has been updated!\n");
  RunResult p = R({"page", "m.db", "1"});
  EXPECT_NE(p.out.find("Flags:      00000004\n"), std::string::npos) << p.out;
  EXPECT_EQ(R({"surgery", "meta", "validate", "m.db"}).out,
            "The meta page 0 is valid!\nThe meta page 1 is valid!\n");
  ExpectCheckOk(P("m.db"));
  // A meta with a broken checksum is repaired by an update with no fields.
  Corrupt(db(), 4096 + 72, "\x01\x02");
  EXPECT_EQ(R({"surgery", "meta", "validate", db()}).out,
            "The meta page 0 is valid!\nWARNING: The meta page 1 isn't valid: checksum error!\n");
  r = R({"surgery", "meta", "update", "--meta-page", "1", "--output", "fixed.db", db()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(R({"surgery", "meta", "validate", "fixed.db"}).out,
            "The meta page 0 is valid!\nThe meta page 1 is valid!\n");
  ExpectCheckOk(P("fixed.db"));
}

// ---------------------------------------------------------------- compact

TEST_F(CliTest, CompactOptions) {
  RunResult r = R({"compact", "--tx-max-size", "1024", "--no-sync", "-o", "c.db", db()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(
      r.out, std::regex("1048576 -> [0-9]+ bytes \\(gain=[0-9]+\\.[0-9]{2}x\\)\n")))
      << r.out;
  ExpectCheckOk(P("c.db"));
  EXPECT_EQ(R({"export", "c.db"}).out, R({"export", db()}).out);
  // Compacting into an existing file fails (bbolt: bucket already exists)
  // and leaves that file as it was.
  const std::string before = R({"export", "c.db"}).out;
  ExpectError(R({"compact", "-o", "c.db", db()}), "Error: bucket already exists");
  EXPECT_EQ(R({"export", "c.db"}).out, before);
  ExpectCheckOk(P("c.db"));
}

// A damaged source: a clear error, exit status 1, and no copy left behind.
TEST_F(CliTest, CompactDamagedSource) {
  Corrupt(db(), 2 * 4096 + 16, std::string(512, '\xff'));
  RunResult r = R({"compact", "-o", "c.db", db()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_FALSE(r.signaled);
  EXPECT_EQ(r.FirstErrLine().rfind("Error: page 2: ", 0), 0u) << r.err;
  EXPECT_FALSE(Exists(P("c.db")));
}

// ---------------------------------------------------------------- shrink

TEST_F(CliTest, Shrink) {
  // Delete most of the data, then shrink in place: same contents, smaller file.
  ASSERT_EQ(R({"create-bucket", db(), "tail"}).exit_code, 0);
  std::string lines;
  for (int i = 0; i < 2000; i++) {
    lines += "{\"type\":\"kv\",\"path\":[\"tail\"],\"key\":\"k" + std::to_string(i) +
             "\",\"value\":\"" + std::string(400, 'x') + "\"}\n";
  }
  WriteFile(P("tail.jsonl"), lines);
  ASSERT_EQ(R({"import", "-i", "tail.jsonl", db()}).exit_code, 0);
  ASSERT_EQ(R({"delete-bucket", db(), "tail"}).exit_code, 0);
  const std::string before = R({"export", db()}).out;
  const uint64_t size = static_cast<uint64_t>(ReadFile(db()).size());
  RunResult r = R({"shrink", "--pages-per-tx", "64", db()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      r.out, m,
      std::regex("([0-9]+) -> ([0-9]+) bytes \\(gain=[0-9]+\\.[0-9]{2}x\\), [0-9]+ pages moved\n")))
      << r.out;
  const std::string shrunk = m[2].str();  // m points into r.out, reassigned below
  EXPECT_EQ(std::stoull(shrunk), ReadFile(db()).size());
  EXPECT_LT(std::stoull(shrunk), size);
  ExpectCheckOk(db());
  EXPECT_EQ(R({"export", db()}).out, before);
  // Shrinking again changes nothing.
  r = R({"shrink", db()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind(shrunk + " -> " + shrunk + " bytes", 0), 0u) << r.out;
  ExpectCheckOk(db());
  EXPECT_NE(R({"help"}).out.find("shrink"), std::string::npos);
  r = R({"shrink", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--pages-per-tx"), std::string::npos);
}

TEST_F(CliTest, ShrinkErrors) {
  ExpectError(R({"shrink", "nope.db"}), "Error: source database file \"nope.db\" doesn't exist");
  EXPECT_FALSE(Exists(P("nope.db")));
  ExpectError(R({"shrink"}), "Error: accepts 1 arg(s), received 0");
  ExpectError(R({"shrink", "--pages-per-tx", "0", db()}), "Error: --pages-per-tx must be positive");
  ExpectError(R({"shrink", "not-a-db.txt"}), "Error: invalid database");
  const std::string before = ReadFile(db());
  int fd = ::open(db().c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_SH | LOCK_NB), 0);
  ExpectError(R({"shrink", db()}),
              "Error: database is locked by another process; retry with --timeout");
  ::flock(fd, LOCK_UN);
  ::close(fd);
  ASSERT_EQ(::chmod(db().c_str(), 0444), 0);
  ExpectError(R({"shrink", db()}),
              "Error: database file \"" + db() + "\" is read-only; refusing to modify it");
  ASSERT_EQ(::chmod(db().c_str(), 0644), 0);
  EXPECT_EQ(ReadFile(db()), before);
  // A damaged page: an error, never a crash, and the file is left as it was.
  std::string bytes = before;
  const size_t ps = 4096;
  for (size_t i = 2 * ps; i < bytes.size(); i += 97) bytes[i] = '\xee';
  WriteFile(P("damaged.db"), bytes);
  RunResult r = R({"shrink", "damaged.db"});
  EXPECT_FALSE(r.signaled) << r.err;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.FirstErrLine().rfind("Error: ", 0), 0u) << r.err;
}

// ---------------------------------------------------------------- bench

const std::regex kWriteLine(
    "# Write\t[0-9]+\\(ops\\)\t[0-9.]+(ns|µs|ms|s|m[0-9.]+s)\t\\([0-9.]+(ns|µs|ms|s)/op\\)\t"
    "\\([0-9]+ op/sec\\)");
const std::regex kReadLine(
    "# Read\t[0-9]+\\(ops\\)\t[0-9.]+(ms|s|m[0-9.]+s)\t\\([0-9.]+(ns|µs|ms|s)/op\\)\t"
    "\\([0-9]+ op/sec\\)");

TEST_F(CliTest, Bench) {
  RunResult r = R({"bench", "--count", "200", "--batch-size", "20", "--work", "--path", "b.db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_TRUE(std::regex_match(lines[0], kWriteLine)) << lines[0];
  EXPECT_EQ(lines[0].rfind("# Write\t200(ops)\t", 0), 0u);
  EXPECT_TRUE(std::regex_match(lines[1], kReadLine)) << lines[1];
  EXPECT_EQ(lines[2], "");
  EXPECT_NE(r.err.find("work: b.db\n"), std::string::npos);
  EXPECT_NE(
      r.err.find(
          "starting write benchmark.\nStarting write iteration 0\nFinished write iteration 0\n"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("Starting write iteration 180\n"), std::string::npos);
  EXPECT_NE(r.err.find("starting read benchmark.\n"), std::string::npos);
  EXPECT_EQ(R({"keys", "b.db", "bench"}).out.size(), 200u * 17);  // 8-byte keys in hex
  ExpectCheckOk(P("b.db"));
}

// bench --wal runs in WAL mode: same output, the log gone after the run.
TEST_F(CliTest, BenchWal) {
  RunResult r =
      R({"bench", "--count", "200", "--batch-size", "10", "--wal", "--work", "--path", "w.db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_TRUE(std::regex_match(lines[0], kWriteLine)) << lines[0];
  EXPECT_EQ(R({"keys", "w.db", "bench"}).out.size(), 200u * 17);
  EXPECT_FALSE(Exists(P("w.db-wal")));
  EXPECT_EQ(R({"info", "w.db"}).out, "Page Size: 4096\n");
  ExpectCheckOk(P("w.db"));
}

// A database whose log holds commits: info reports them, read commands see
// the last checkpoint, and a write command replays the log first.
TEST_F(CliTest, InfoShowsAPendingLogAndWritesReplayIt) {
  {
    Options o;
    o.wal = true;
    auto db = DB::Open(P("w.db"), o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Update([](Tx& tx) { return tx.CreateBucket("b").status(); }).ok());
    ASSERT_TRUE((*db)->Checkpoint().ok());
    for (int i = 0; i < 3; i++) {
      ASSERT_TRUE(
          (*db)
              ->Update([i](Tx& tx) { return tx.GetBucket("b").Put("k" + std::to_string(i), "v"); })
              .ok());
    }
    // What a killed process leaves: the data file and the logs as they are
    // now (the checkpoint switched commits to the second log file).
    CopyFile(P("w.db"), P("crash.db"));
    CopyFile(P("w.db-wal"), P("crash.db-wal"));
    CopyFile(P("w.db-wal2"), P("crash.db-wal2"));
  }
  RunResult r = R({"info", "crash.db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(
      r.out, std::regex("Page Size: 4096\nWAL: crash\\.db-wal and crash\\.db-wal2, 3 pending "
                        "records \\([0-9]+ bytes\\); a read-write open replays them\n")))
      << r.out;
  json j = json::parse(R({"info", "--json", "crash.db"}).out);
  EXPECT_EQ(j["wal"]["pending_records"], 3);
  EXPECT_EQ(j["wal"]["stop"], "");
  EXPECT_EQ(R({"keys", "crash.db", "b"}).out, "") << "read-only: the last checkpoint";
  ExpectCheckOk(P("crash.db"));
  r = R({"create-bucket", "crash.db", "other"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(Exists(P("crash.db-wal")));
  EXPECT_FALSE(Exists(P("crash.db-wal2")));
  EXPECT_EQ(R({"info", "crash.db"}).out, "Page Size: 4096\n");
  EXPECT_EQ(R({"keys", "crash.db", "b"}).out, "k0\nk1\nk2\n");
  ExpectCheckOk(P("crash.db"));
}

TEST_F(CliTest, BenchModes) {
  RunResult r = R({"bench", "--count", "100", "--batch-size", "10", "--write-mode", "rnd-nest",
                   "--read-mode", "rnd", "--gobench-output", "--no-sync"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_TRUE(std::regex_match(lines[0], std::regex("BenchmarkWrite\t +100\t +[0-9.]+ ns/op")))
      << lines[0];
  // Go prints the count with %8d: right-aligned in 8 columns, with no
  // padding left when it has 8 or more digits (a fast machine reads that many).
  std::smatch read;
  ASSERT_TRUE(
      std::regex_match(lines[1], read, std::regex("BenchmarkRead \t( *[0-9]+)\t +[0-9.]+ ns/op")))
      << lines[1];
  const std::string count = read[1];
  EXPECT_GE(count.size(), 8u) << lines[1];
  EXPECT_TRUE(count.size() == 8 || count[0] != ' ') << lines[1];
  r = R({"bench", "--count", "50", "--write-mode", "seq-nest", "--work", "--path", "n.db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectCheckOk(P("n.db"));
  ExpectError(R({"bench", "--write-mode", "seq-del"}),
              "Error: the write mode should be one of seq, rnd, seq-nest, or rnd-nest");
  ExpectError(R({"bench", "--count", "10", "--batch-size", "3"}),
              "Error: the number of iterations must be divisible by the batch size");
  // The read mode is checked only after the writes, as in bbolt.
  r = R({"bench", "--count", "10", "--read-mode", "foo"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.FirstErrLine(), "starting write benchmark.");
  EXPECT_NE(r.err.find("starting read benchmark.\nError: bench: read: invalid read mode: foo\n"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace boltpp::cli::test
