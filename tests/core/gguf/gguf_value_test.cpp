#include "gguf/gguf_value.h"

#include <gtest/gtest.h>

#include <limits>

namespace sieve::gguf {
namespace {

TEST(GgufValue, IntegerReadsAcceptEveryWidthThatFits) {
  EXPECT_EQ(Value::u8(200).as_int(), 200);
  EXPECT_EQ(Value::i8(-5).as_int(), -5);
  EXPECT_EQ(Value::i8(-5).as_uint(), std::nullopt);
  EXPECT_EQ(Value::u32(4000000000u).as_uint(), 4000000000u);
  EXPECT_EQ(Value::u64(std::numeric_limits<uint64_t>::max()).as_int(), std::nullopt);
  EXPECT_EQ(Value::i64(std::numeric_limits<int64_t>::min()).as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(Value::u16(1).is_integer());
  EXPECT_FALSE(Value::u16(1).is_float());
  EXPECT_EQ(Value::i16(-300).type(), ValueType::INT16);
}

TEST(GgufValue, FloatReadsAcceptIntegersButNotStrings) {
  EXPECT_EQ(Value::f32(0.5f).as_float(), 0.5);
  EXPECT_EQ(Value::i32(-7).as_float(), -7.0);
  EXPECT_EQ(Value::f64(1e300).as_float(), 1e300);
  EXPECT_TRUE(Value::f64(1).is_float());
  EXPECT_EQ(Value::f32(1).as_int(), std::nullopt);
  EXPECT_EQ(Value::string("1").as_float(), std::nullopt);
}

TEST(GgufValue, KindsDoNotCross) {
  EXPECT_EQ(Value::boolean(true).as_bool(), true);
  EXPECT_EQ(Value::boolean(true).as_int(), std::nullopt);
  EXPECT_EQ(Value::u8(1).as_bool(), std::nullopt);
  EXPECT_EQ(Value::u8(1).as_string(), nullptr);
  ASSERT_NE(Value::string("x").as_string(), nullptr);
  EXPECT_EQ(*Value::string("x").as_string(), "x");
  EXPECT_EQ(Value::string("x").as_array(), nullptr);
  EXPECT_FALSE(Value().is_integer());
  EXPECT_EQ(Value().as_int(), std::nullopt);
}

TEST(GgufValue, ArrayHelpers) {
  const Value s = Value::string_array({"a", "", "ü"});
  ASSERT_NE(s.as_array(), nullptr);
  EXPECT_EQ(s.type(), ValueType::ARRAY);
  EXPECT_EQ(s.as_array()->element_type, ValueType::STRING);
  EXPECT_EQ(s.as_array()->size(), 3u);
  const Value f = Value::f32_array({1.5, -2});
  EXPECT_EQ(f.as_array()->element_type, ValueType::FLOAT32);
  EXPECT_EQ(std::get<std::vector<double>>(f.as_array()->items)[1], -2.0);
  const Value i = Value::i32_array({1, -2, 3, 4});
  EXPECT_EQ(i.as_array()->element_type, ValueType::INT32);
  EXPECT_EQ(i.as_array()->size(), 4u);
  EXPECT_EQ(Array{}.size(), 0u);
}

TEST(GgufValue, TypeNames) {
  EXPECT_EQ(value_type_name(ValueType::UINT8), "UINT8");
  EXPECT_EQ(value_type_name(ValueType::FLOAT64), "FLOAT64");
  EXPECT_EQ(value_type_name(ValueType::ARRAY), "ARRAY");
  EXPECT_EQ(value_type_name(static_cast<ValueType>(99)), "UNKNOWN");
}

TEST(GgufValue, DisplayScalars) {
  EXPECT_EQ(Value::u32(4096).to_display_string(), "4096");
  EXPECT_EQ(Value::i8(-3).to_display_string(), "-3");
  EXPECT_EQ(Value::f32(1e-5f).to_display_string(), "1e-05");
  EXPECT_EQ(Value::f32(10000.0f).to_display_string(), "10000");
  EXPECT_EQ(Value::f64(0.1).to_display_string(), "0.1");
  EXPECT_EQ(Value::boolean(false).to_display_string(), "false");
  EXPECT_EQ(Value::string("llama").to_display_string(), "\"llama\"");
  EXPECT_EQ(Value::string("a\"b\\c\nd").to_display_string(), "\"a\\\"b\\\\c\\nd\"");
  EXPECT_EQ(Value::string(std::string("\x01", 1)).to_display_string(), "\"\\x01\"");
}

TEST(GgufValue, DisplayCutsLongStringsOnCharacterBoundaries) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "\xC3\xA9";  // é, 2 bytes each
  const std::string shown = Value::string(text).to_display_string();
  EXPECT_NE(shown.find("(400 bytes)"), std::string::npos) << shown;
  // Every é kept whole: the quoted part has an even number of bytes.
  const size_t close = shown.find('"', 1);
  ASSERT_NE(close, std::string::npos);
  EXPECT_EQ((close - 1) % 2, 0u);
  EXPECT_LT(shown.size(), 200u);
}

TEST(GgufValue, DisplayAbbreviatesArrays) {
  EXPECT_EQ(Value::i32_array({1, 2, 3}).to_display_string(), "[1, 2, 3]");
  EXPECT_EQ(Value::i32_array({1, 2, 3, 4, 5}).to_display_string(2), "[1, 2, ...] (5 x INT32)");
  EXPECT_EQ(Value::string_array({"a", ""}).to_display_string(), "[\"a\", \"\"]");
  EXPECT_EQ(Value::f32_array({0.5}).to_display_string(), "[0.5]");
  EXPECT_EQ(Value::string_array({}).to_display_string(), "[]");
  Array bools;
  bools.element_type = ValueType::BOOL;
  bools.items = std::vector<bool>{true, false};
  EXPECT_EQ(Value::array(bools).to_display_string(), "[true, false]");
  EXPECT_EQ(Value::i32_array({7, 8}).to_display_string(0), "[...] (2 x INT32)");
}

}  // namespace
}  // namespace sieve::gguf
