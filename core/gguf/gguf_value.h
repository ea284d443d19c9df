#pragma once
// Metadata values of a GGUF file: one scalar, string, or a homogeneous array.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sieve::gguf {

// Value type ids exactly as the GGUF specification numbers them.
enum class ValueType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};
std::string_view value_type_name(ValueType type);

// Arrays are stored by element type so a 150k-entry vocabulary costs one
// vector, not 150k variants. Integers of every width widen to int64/uint64,
// floats to double; `element_type` keeps the width for writing back.
struct Array {
  ValueType element_type = ValueType::UINT8;
  std::variant<std::vector<int64_t>, std::vector<uint64_t>, std::vector<double>,
               std::vector<bool>, std::vector<std::string>>
      items;
  size_t size() const;
};

class Value {
 public:
  Value() = default;
  static Value u8(uint8_t v) { return Value(ValueType::UINT8, uint64_t{v}); }
  static Value i8(int8_t v) { return Value(ValueType::INT8, int64_t{v}); }
  static Value u16(uint16_t v) { return Value(ValueType::UINT16, uint64_t{v}); }
  static Value i16(int16_t v) { return Value(ValueType::INT16, int64_t{v}); }
  static Value u32(uint32_t v) { return Value(ValueType::UINT32, uint64_t{v}); }
  static Value i32(int32_t v) { return Value(ValueType::INT32, int64_t{v}); }
  static Value u64(uint64_t v) { return Value(ValueType::UINT64, v); }
  static Value i64(int64_t v) { return Value(ValueType::INT64, v); }
  static Value f32(float v) { return Value(ValueType::FLOAT32, double{v}); }
  static Value f64(double v) { return Value(ValueType::FLOAT64, v); }
  static Value boolean(bool v) { return Value(ValueType::BOOL, v); }
  static Value string(std::string v) { return Value(ValueType::STRING, std::move(v)); }
  static Value array(Array v) { return Value(ValueType::ARRAY, std::move(v)); }
  static Value string_array(std::vector<std::string> v);
  static Value f32_array(std::vector<double> v);
  static Value i32_array(std::vector<int64_t> v);

  ValueType type() const { return type_; }
  bool is_integer() const;  // any integer width
  bool is_float() const;    // FLOAT32 or FLOAT64

  // Typed reads; nullopt when the value is of another kind. Integer reads
  // accept any integer width whose value fits; float reads accept integers too.
  std::optional<int64_t> as_int() const;
  std::optional<uint64_t> as_uint() const;
  std::optional<double> as_float() const;
  std::optional<bool> as_bool() const;
  const std::string* as_string() const;
  const Array* as_array() const;

  // Short human-readable rendering for `sieve info` (arrays abbreviated).
  std::string to_display_string(size_t max_items = 8) const;

 private:
  using Storage = std::variant<std::monostate, int64_t, uint64_t, double, bool, std::string, Array>;
  Value(ValueType type, Storage v) : type_(type), value_(std::move(v)) {}
  ValueType type_ = ValueType::UINT8;
  Storage value_;
};

struct KeyValue {
  std::string key;
  Value value;
  // Where the value's bytes start in the file it was read from (0 for values
  // built in memory): lets gguf_patch.h overwrite a fixed-width value in place.
  uint64_t value_offset = 0;
};

}  // namespace sieve::gguf
