#include <gtest/gtest.h>

#include <string>

#include "util/error.h"
#include "util/json.h"

namespace sieve::json {
namespace {

TEST(Json, ParsesEveryKind) {
  const Value v = parse(R"( {"a": [1, -2.5e3, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "o": {}} )");
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.at("a").size(), 5u);
  EXPECT_EQ(v.at("a")[0].as_int(), 1);
  EXPECT_DOUBLE_EQ(v.at("a")[1].as_number(), -2500.0);
  EXPECT_TRUE(v.at("a")[2].as_bool());
  EXPECT_FALSE(v.at("a")[3].as_bool());
  EXPECT_TRUE(v.at("a")[4].is_null());
  EXPECT_EQ(v.at("s").as_string(), "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(v.at("o").size(), 0u);
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(Json, RejectsWhatTheGrammarDoesNot) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul",
                          "\"abc", "\"\\x\"", "\"\t\"", "{\"a\" 1}", "{1:2}", "[1 2]", "1 2", "// c\n1",
                          "\"\\ud800\"", "\"\\udc00\"", "{\"a\":1,\"a\":2}", "NaN", "1e999"}) {
    EXPECT_THROW(parse(bad), Error) << bad;
  }
}

TEST(Json, ErrorNamesLineAndColumn) {
  try {
    parse("{\n  \"a\": 1,\n  \"b\" 2\n}");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3, column 7"), std::string::npos) << e.what();
  }
}

TEST(Json, DeepNestingIsRefusedNotACrash) {
  EXPECT_THROW(parse(std::string(100000, '[')), Error);
}

TEST(Json, TypeMismatchIsAnError) {
  const Value v = parse("{\"n\": 1.5, \"s\": \"x\"}");
  EXPECT_THROW(v.at("s").as_number(), Error);
  EXPECT_THROW(v.at("n").as_int(), Error);
  EXPECT_THROW(v.at("n").as_string(), Error);
  EXPECT_THROW(v.at("missing"), Error);
  EXPECT_THROW(v[0], Error);
}

TEST(Json, WritesCompactTextThatReadsBack) {
  Value v = Value::object();
  v.set("pos", Value(int64_t{3}));
  Value top = Value::array();
  Value pair = Value::array();
  pair.push(Value(432));
  pair.push(Value(17.798916));
  top.push(std::move(pair));
  v.set("top", std::move(top));
  v.set("text", Value("a\"b\n\x01"));
  v.set("inf", Value(1.0 / 0.0));
  const std::string text = write(v);
  EXPECT_EQ(text, R"({"pos":3,"top":[[432,17.798916]],"text":"a\"b\n\u0001","inf":null})");
  const Value back = parse(text);
  EXPECT_EQ(back.at("top")[0][1].as_number(), 17.798916);
  EXPECT_EQ(back.at("text").as_string(), "a\"b\n\x01");
}

TEST(Json, SetReplacesAnExistingMember) {
  Value v = Value::object();
  v.set("a", Value(1));
  v.set("a", Value(2));
  EXPECT_EQ(v.size(), 1u);
  EXPECT_EQ(v.at("a").as_int(), 2);
}

}  // namespace
}  // namespace sieve::json
