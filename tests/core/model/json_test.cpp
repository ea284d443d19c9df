// util/json_text.h: the engine's JSON (nlohmann-json's ordered_json) as the
// CLI's --json output, the disk profile and the reference files rely on it:
// compact text in insertion order, whole numbers without a fraction, no
// exception for bytes that are not UTF-8, strict parsing whose errors say
// where, and no crash on deep nesting.

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "core/model/reference_json.h"
#include "util/json_text.h"

namespace sieve {
namespace {

TEST(Json, WritesCompactTextInInsertionOrderThatReadsBack) {
  Json v = Json::object();
  v["pos"] = int64_t{3};
  v["top"] = Json::array({Json::array({432, 17.798916})});
  v["text"] = "a\"b\n\x01";
  v["inf"] = 1.0 / 0.0;
  v["bytes"] = uint64_t{1000000};
  v["half"] = 0.5;
  const std::string text = to_json_text(v);
  EXPECT_EQ(text, R"({"pos":3,"top":[[432,17.798916]],"text":"a\"b\n\u0001","inf":null,"bytes":1000000,"half":0.5})");
  const Json back = Json::parse(text);
  EXPECT_EQ(back.at("top")[0][1].get<double>(), 17.798916);
  EXPECT_EQ(back.at("text").get<std::string>(), "a\"b\n\x01");
  EXPECT_EQ(back.at("bytes").get<uint64_t>(), 1000000u);
}

TEST(Json, BytesThatAreNotUtf8AreReplacedNotThrown) {
  const Json v = {{"model", "/models/caf\xe9.gguf"}};
  EXPECT_EQ(to_json_text(v), "{\"model\":\"/models/caf\xef\xbf\xbd.gguf\"}");
}

TEST(Json, ParsesEveryKind) {
  const Json v =
      Json::parse(R"( {"a": [1, -2.5e3, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "o": {}} )");
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.at("a").size(), 5u);
  EXPECT_EQ(v.at("a")[0].get<int64_t>(), 1);
  EXPECT_DOUBLE_EQ(v.at("a")[1].get<double>(), -2500.0);
  EXPECT_TRUE(v.at("a")[2].get<bool>());
  EXPECT_FALSE(v.at("a")[3].get<bool>());
  EXPECT_TRUE(v.at("a")[4].is_null());
  EXPECT_EQ(v.at("s").get<std::string>(), "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v.at("o").size(), 0u);
  EXPECT_FALSE(v.contains("missing"));
}

TEST(Json, RejectsWhatTheGrammarDoesNot) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "\"abc",
                          "\"\\x\"", "\"\t\"", "{\"a\" 1}", "{1:2}", "[1 2]", "1 2", "// c\n1", "\"\\ud800\"",
                          "\"\\udc00\"", "NaN", "1e999", "\"\xff\""}) {
    EXPECT_THROW(std::ignore = Json::parse(bad), Json::exception) << bad;
  }
}

TEST(Json, ErrorTextNamesLineAndColumnWithoutNlohmannsTag) {
  try {
    std::ignore = Json::parse("{\n  \"a\": 1,\n  \"b\" 2\n}");
    FAIL();
  } catch (const Json::exception& e) {
    const std::string text = json_error_text(e);
    EXPECT_EQ(text.rfind("JSON: parse error at line 3, column ", 0), 0u) << text;
    EXPECT_EQ(text.find("[json.exception"), std::string::npos) << text;
  }
}

TEST(Json, TypeMismatchAndMissingMemberAreExceptionsNotCrashes) {
  const Json v = Json::parse("{\"n\": 1.5, \"s\": \"x\"}");
  EXPECT_THROW((void)v.at("s").get<double>(), Json::exception);
  EXPECT_THROW((void)v.at("n").get<std::string>(), Json::exception);
  EXPECT_THROW((void)v.at("missing"), Json::exception);
  EXPECT_THROW((void)v.at(0), Json::exception);
}

TEST(Json, DeepNestingIsNotACrash) {
  EXPECT_THROW(std::ignore = Json::parse(std::string(100000, '[')), Json::exception);
  // Parsing and destroying are iterative in nlohmann-json 3.10 and later.
  const Json deep = Json::parse(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_EQ(deep.size(), 1u);
}

// ../shared/reference files hold byte-level token pieces raw ("piece":"\xa4"),
// which nlohmann alone refuses.
TEST(ReferenceJson, RawBytesInStringsSurviveTheParse) {
  const std::string text = "{\"piece\":\"\xa4\",\"mixed\":[\"a\xe2\x82\",\"\xf0\x9f\x98\x80\xff\"],"
                           "\"private\":\"\xf4\x8f\xbd\x81\",\"n\":1}";
  EXPECT_THROW(std::ignore = Json::parse(text), Json::exception);
  const Json doc = test::parse_reference_json(text);
  EXPECT_EQ(doc.at("piece").get<std::string>(), "\xa4");
  EXPECT_EQ(doc.at("mixed")[0].get<std::string>(), "a\xe2\x82");  // a truncated sequence: its bytes
  EXPECT_EQ(doc.at("mixed")[1].get<std::string>(), "\xf0\x9f\x98\x80\xff");
  EXPECT_EQ(doc.at("private").get<std::string>(), "\xf4\x8f\xbd\x81");  // U+10FF41 is not a byte's stand-in
  EXPECT_EQ(doc.at("n").get<int64_t>(), 1);
  EXPECT_THROW(std::ignore = test::parse_reference_json("[1, \xa4]"), Json::exception);
}

}  // namespace
}  // namespace sieve
