#pragma once
// A small strict JSON (RFC 8259) value tree, parser and writer, for the
// reference files of the tests and the CLI's machine-readable output.
//
// Strict means: one value per text, no comments, no trailing commas, no
// duplicate object keys, no leading zeros, control characters escaped,
// surrogate pairs matched. Objects keep their keys in insertion order.
// Numbers are doubles (integers up to 2^53 round-trip exactly).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sieve::json {

class Value {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<Value>;
  using Object = std::vector<std::pair<std::string, Value>>;

  Value() = default;  // null
  Value(bool b) : data_(b) {}
  Value(double d) : data_(d) {}
  Value(int v) : data_(static_cast<double>(v)) {}
  Value(int64_t v) : data_(static_cast<double>(v)) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(Array a) : data_(std::move(a)) {}
  Value(Object o) : data_(std::move(o)) {}
  static Value array() { return Value(Array{}); }
  static Value object() { return Value(Object{}); }

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_null() const { return kind() == Kind::Null; }
  bool is_number() const { return kind() == Kind::Number; }
  bool is_string() const { return kind() == Kind::String; }
  bool is_array() const { return kind() == Kind::Array; }
  bool is_object() const { return kind() == Kind::Object; }

  // Typed reads; sieve::Error ("JSON: expected a number, found a string")
  // when the value is of another kind.
  bool as_bool() const;
  double as_number() const;
  int64_t as_int() const;  // a number with no fractional part
  const std::string& as_string() const;
  const Array& as_array() const;
  const Object& as_object() const;

  // Array element / object member; sieve::Error when absent.
  const Value& operator[](size_t index) const;
  const Value& at(std::string_view key) const;
  // The member, or nullptr when absent (or when this is not an object).
  const Value* find(std::string_view key) const;
  size_t size() const;  // elements or members; 0 for scalars

  // Building: append to an array, set (add or replace) an object member.
  Value& push(Value v);
  Value& set(std::string key, Value v);

 private:
  std::variant<std::monostate, bool, double, std::string, Array, Object> data_;
};

// Parses exactly one JSON value (surrounding whitespace allowed). Throws
// sieve::Error "JSON: line 3, column 14: expected ':' after an object key".
Value parse(std::string_view text);

// Compact text (no spaces). Numbers use the shortest form that reads back to
// the same double; integers print without a fraction; NaN and infinity,
// which JSON cannot hold, print as null.
std::string write(const Value& value);
void write(const Value& value, std::string& out);
// Appends `s` as a quoted, escaped JSON string.
void write_string(std::string_view s, std::string& out);
// Appends a number as write() would.
void write_number(double d, std::string& out);

}  // namespace sieve::json
