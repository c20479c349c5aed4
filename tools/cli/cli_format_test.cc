// File: tools/cli/cli_format_test.cc
// Unit tests of the tool's Go-compatible formatting and flag parsing
// (compiled into the test binary; no subprocess).
#include <gtest/gtest.h>

#include <cstdint>

#include "cli.h"

namespace boltpp::cli {
namespace {

TEST(GoDurationTest, MatchesGoTimeDurationString) {
  // Vectors from Go's time package tests.
  const int64_t ns = 1, us = 1000, ms = 1000000, s = 1000000000, m = 60 * s, h = 60 * m;
  EXPECT_EQ(GoDuration(0), "0s");
  EXPECT_EQ(GoDuration(1 * ns), "1ns");
  EXPECT_EQ(GoDuration(1100 * ns), "1.1µs");
  EXPECT_EQ(GoDuration(2200 * us), "2.2ms");
  EXPECT_EQ(GoDuration(3300 * ms), "3.3s");
  EXPECT_EQ(GoDuration(4 * m + 5 * s), "4m5s");
  EXPECT_EQ(GoDuration(4 * m + 5001 * ms), "4m5.001s");
  EXPECT_EQ(GoDuration(5 * h + 6 * m + 7001 * ms), "5h6m7.001s");
  EXPECT_EQ(GoDuration(8 * m + 1 * ns), "8m0.000000001s");
  EXPECT_EQ(GoDuration(INT64_MAX), "2562047h47m16.854775807s");
  EXPECT_EQ(GoDuration(INT64_MIN), "-2562047h47m16.854775808s");
  EXPECT_EQ(GoDuration(1497), "1.497µs");
  EXPECT_EQ(GoDuration(2994308), "2.994308ms");
  EXPECT_EQ(GoDuration(1000017737), "1.000017737s");
}

TEST(GoDurationTest, Parse) {
  int64_t v = 0;
  EXPECT_TRUE(ParseGoDuration("1s", &v));
  EXPECT_EQ(v, 1000000000);
  EXPECT_TRUE(ParseGoDuration("1m30s", &v));
  EXPECT_EQ(v, 90000000000);
  EXPECT_TRUE(ParseGoDuration("500ms", &v));
  EXPECT_EQ(v, 500000000);
  EXPECT_TRUE(ParseGoDuration("2", &v));
  EXPECT_EQ(v, 2000000000);
  EXPECT_TRUE(ParseGoDuration("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_FALSE(ParseGoDuration("abc", &v));
  EXPECT_FALSE(ParseGoDuration("5x", &v));
}

TEST(GoQuoteTest, MatchesStrconvQuote) {
  EXPECT_EQ(GoQuote("abc"), "\"abc\"");
  EXPECT_EQ(GoQuote(std::string("\x00\x01", 2)), "\"\\x00\\x01\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote("\a\b\f\n\r\t\v"), "\"\\a\\b\\f\\n\\r\\t\\v\"");
  EXPECT_EQ(GoQuote("\x7f"), "\"\\x7f\"");
  EXPECT_EQ(GoQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");       // printable rune kept
  EXPECT_EQ(GoQuote("\xc2\xa0"), "\"\\u00a0\"");              // NBSP is not printable in Go
  EXPECT_EQ(GoQuote("\xff\xfe"), "\"\\xff\\xfe\"");           // invalid UTF-8
  EXPECT_EQ(GoQuote("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");  // surrogate: invalid
  EXPECT_EQ(GoQuote("\xe2\x80\xa8"), "\"\\u2028\"");
  EXPECT_EQ(GoQuote("\xee\x80\x80"), "\"\\ue000\"");  // private use
  EXPECT_EQ(GoQuote("\xf4\x8f\xbf\xbf"), "\"\\U0010ffff\"");
  EXPECT_EQ(GoQuote("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");  // emoji is printable
  EXPECT_EQ(GoQuote("\xef\xbf\xbd"), "\"\xef\xbf\xbd\"");          // a real U+FFFD
}

TEST(FormatTest, PrintableAndFormats) {
  EXPECT_TRUE(IsPrintable("hello world"));
  EXPECT_TRUE(IsPrintable(""));
  EXPECT_FALSE(IsPrintable("tab\t"));
  EXPECT_FALSE(IsPrintable("\xff"));
  EXPECT_EQ(BytesToAsciiOrHex(std::string("\x00\x01", 2)), "0001");
  EXPECT_EQ(FormatBytes("ab", "hex"), "6162");
  EXPECT_EQ(FormatBytes("ab", "ascii-encoded"), "\"ab\"");
  EXPECT_EQ(FormatBytes("ab", "bytes"), "ab");
  EXPECT_EQ(
      FormatBytes("abc", "redacted"),
      "<redacted len:3 sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad>");
  EXPECT_THROW(FormatBytes("ab", "nope"), CliError);
  EXPECT_EQ(Hex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256(std::string(1000, 'a'))),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST(FormatTest, ParseBytesHex) {
  EXPECT_EQ(ParseBytes("00ff", "hex"), std::string("\x00\xff", 2));
  EXPECT_EQ(ParseBytes("", "hex"), "");
  try {
    ParseBytes("0g", "hex");
    FAIL();
  } catch (const CliError& e) {
    EXPECT_STREQ(e.what(), "encoding/hex: invalid byte: U+0067 'g'");
  }
  try {
    ParseBytes("abc", "hex");
    FAIL();
  } catch (const CliError& e) {
    EXPECT_STREQ(e.what(), "encoding/hex: odd length hex string");
  }
  try {
    ParseBytes("a", "base64");
    FAIL();
  } catch (const CliError& e) {
    EXPECT_STREQ(e.what(), "parseBytes: unsupported format: base64");
  }
}

TEST(FormatTest, JsonAndBase64) {
  EXPECT_EQ(JsonBytes("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(JsonBytes(std::string("\x00", 1)), "\"\\u0000\"");
  EXPECT_EQ(JsonBytes("\xff"), "{\"base64\":\"/w==\"}");
  EXPECT_EQ(JsonString("<&>"), "\"\\u003c\\u0026\\u003e\"");  // Go's encoding/json escapes HTML
  for (std::string s : {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
                        std::string("\x00\xff\x10\x80", 4)}) {
    std::string back;
    ASSERT_TRUE(Base64Decode(Base64Encode(s), &back));
    EXPECT_EQ(back, s);
  }
  std::string out;
  EXPECT_FALSE(Base64Decode("abc", &out));
  EXPECT_FALSE(Base64Decode("a===", &out));
  EXPECT_FALSE(Base64Decode("/x==", &out));  // non-canonical
  EXPECT_TRUE(ValidUtf8("caf\xc3\xa9"));
  EXPECT_FALSE(ValidUtf8("\xc0\x80"));  // overlong
}

// The message FlagSet::Parse throws for args, or "" when they parse.
std::string ParseError(FlagSet& fs, const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  try {
    fs.Parse(args, &positional);
  } catch (const CliError& e) {
    return e.what();
  }
  return "";
}

TEST(FlagsTest, PflagRules) {
  FlagSet fs;
  fs.Add(StringFlag("format", "auto", "", 'f'));
  fs.Add(BoolFlag("all", ""));
  fs.Add(Uint64Flag("from-page", "", ""));
  fs.Add(StringSliceFlag("fields", ""));
  std::vector<std::string> pos;
  EXPECT_NO_THROW(fs.Parse({"a", "-f", "hex", "--all", "b", "--from-page=0x10", "--fields",
                            "x:1,y:2", "--fields=z:3", "--", "--all"},
                           &pos));
  EXPECT_EQ(pos, (std::vector<std::string>{"a", "b", "--all"}));
  EXPECT_EQ(fs.Str("format"), "hex");
  EXPECT_TRUE(fs.Bool("all"));
  EXPECT_EQ(fs.Uint("from-page"), 16u);
  EXPECT_EQ(fs.Slice("fields"), (std::vector<std::string>{"x:1", "y:2", "z:3"}));

  FlagSet f2;
  f2.Add(StringFlag("format", "auto", "", 'f'));
  f2.Add(Uint64Flag("from-page", "", ""));
  EXPECT_EQ(ParseError(f2, {"-fhex"}), "");
  EXPECT_EQ(f2.Str("format"), "hex");
  EXPECT_EQ(ParseError(f2, {"--nope"}), "unknown flag: --nope");
  EXPECT_EQ(ParseError(f2, {"-x"}), "unknown shorthand flag: 'x' in -x");
  EXPECT_EQ(ParseError(f2, {"-f"}), "flag needs an argument: 'f' in -f");
  EXPECT_EQ(ParseError(f2, {"--from-page"}), "flag needs an argument: --from-page");
  EXPECT_EQ(ParseError(f2, {"--from-page", "-1"}),
            "invalid argument \"-1\" for \"--from-page\" flag: strconv.ParseUint: parsing \"-1\": "
            "invalid syntax");
  EXPECT_EQ(ParseError(f2, {"--from-page", "99999999999999999999"}),
            "invalid argument \"99999999999999999999\" for \"--from-page\" flag: "
            "strconv.ParseUint: parsing "
            "\"99999999999999999999\": value out of range");
  EXPECT_EQ(ParseError(f2, {"---x"}), "bad flag syntax: ---x");
}

// The message of the CliError f throws, or "" when it throws none.
template <typename F>
std::string ThrownMessage(F&& f) {
  try {
    f();
  } catch (const CliError& e) {
    return e.what();
  }
  return "";
}

TEST(FlagsTest, GoStrconvValuesAndMessages) {
  EXPECT_EQ(GoParseUint("0", 0, 64), 0u);
  EXPECT_EQ(GoParseUint("0x1f", 0, 64), 31u);
  EXPECT_EQ(GoParseUint("0o17", 0, 64), 15u);
  EXPECT_EQ(GoParseUint("017", 0, 64), 15u);
  EXPECT_EQ(GoParseUint("0b101", 0, 64), 5u);
  EXPECT_EQ(GoParseUint("1_000", 0, 64), 1000u);
  EXPECT_EQ(GoParseUint("18446744073709551615", 10, 64), UINT64_MAX);
  EXPECT_EQ(ThrownMessage([] { GoParseUint("0x", 0, 64); }),
            "strconv.ParseUint: parsing \"0x\": invalid syntax");
  EXPECT_EQ(ThrownMessage([] { GoParseUint("1_0", 10, 64); }),
            "strconv.ParseUint: parsing \"1_0\": invalid syntax");
  EXPECT_EQ(ThrownMessage([] { GoParseUint("4294967296", 0, 32); }),
            "strconv.ParseUint: parsing \"4294967296\": value out of range");
  EXPECT_EQ(ThrownMessage([] { GoParseUint("", 10, 64); }),
            "strconv.ParseUint: parsing \"\": invalid syntax");

  EXPECT_EQ(GoParseInt("-9223372036854775808", 64), INT64_MIN);
  EXPECT_EQ(GoParseInt("+5", 64), 5);
  EXPECT_EQ(GoParseInt("-0x10", 64), -16);
  EXPECT_EQ(ThrownMessage([] { GoParseInt("9223372036854775808", 64); }),
            "strconv.ParseInt: parsing \"9223372036854775808\": value out of range");
  EXPECT_EQ(ThrownMessage([] { GoParseInt("-", 64); }),
            "strconv.ParseInt: parsing \"-\": invalid syntax");

  EXPECT_TRUE(GoParseBool("T"));
  EXPECT_FALSE(GoParseBool("0"));
  EXPECT_EQ(ThrownMessage([] { GoParseBool("yes"); }),
            "strconv.ParseBool: parsing \"yes\": invalid syntax");

  EXPECT_DOUBLE_EQ(GoParseFloat("0.5"), 0.5);
  EXPECT_EQ(ThrownMessage([] { GoParseFloat("x"); }),
            "strconv.ParseFloat: parsing \"x\": invalid syntax");
  EXPECT_EQ(ThrownMessage([] { GoParseFloat("1e400"); }),
            "strconv.ParseFloat: parsing \"1e400\": value out of range");
}

TEST(FlagsTest, RequiredFlagMessage) {
  FlagSet fs;
  fs.Add(Required(StringFlag("output", "", "")));
  fs.Add(Required(Uint64Flag("from-page", "", "")));
  EXPECT_EQ(ThrownMessage([&] { fs.CheckRequired(); }),
            "required flag(s) \"from-page\", \"output\" not set");
  std::vector<std::string> positional;
  fs.Parse({"--output=x", "--from-page", "3"}, &positional);
  EXPECT_EQ(ThrownMessage([&] { fs.CheckRequired(); }), "");
}

}  // namespace
}  // namespace boltpp::cli
