#include "gguf/gguf_value.h"

#include <charconv>
#include <cstdio>
#include <limits>
#include <type_traits>

namespace sieve::gguf {
namespace {

// Strings longer than this are cut in displays (chat templates run to KBs).
constexpr size_t kMaxDisplayStringBytes = 160;
constexpr size_t kMaxDisplayItemBytes = 48;

std::string format_double(double v, ValueType width) {
  char buffer[64];
  // Shortest text that reads back to the stored width: 1e-05, not 9.99999974e-06.
  const auto result = width == ValueType::FLOAT32
                          ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<float>(v))
                          : std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, result.ptr);
}

// Length of a prefix of `text` no longer than `limit` that does not split a
// UTF-8 sequence.
size_t utf8_safe_prefix(std::string_view text, size_t limit) {
  if (text.size() <= limit) return text.size();
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return end;
}

void append_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
}

std::string quote(std::string_view text, size_t limit) {
  const size_t keep = utf8_safe_prefix(text, limit);
  std::string out = "\"";
  append_escaped(out, text.substr(0, keep));
  out += '"';
  if (keep < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

std::string display_item(const Array& array, size_t i) {
  return std::visit(
      [&](const auto& items) -> std::string {
        using Items = std::decay_t<decltype(items)>;
        if constexpr (std::is_same_v<Items, std::vector<std::string>>) {
          return quote(items[i], kMaxDisplayItemBytes);
        } else if constexpr (std::is_same_v<Items, std::vector<bool>>) {
          return items[i] ? "true" : "false";
        } else if constexpr (std::is_same_v<Items, std::vector<double>>) {
          return format_double(items[i], array.element_type);
        } else {
          return std::to_string(items[i]);
        }
      },
      array.items);
}

std::string display_array(const Array& array, size_t max_items) {
  const size_t n = array.size();
  std::string out = "[";
  const size_t shown = n < max_items ? n : max_items;
  for (size_t i = 0; i < shown; ++i) {
    if (i > 0) out += ", ";
    out += display_item(array, i);
  }
  if (shown < n) out += shown > 0 ? ", ..." : "...";
  out += "]";
  if (shown < n) {
    out += " (" + std::to_string(n) + " x " + std::string(value_type_name(array.element_type)) + ")";
  }
  return out;
}

bool is_integer_type(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::UINT16:
    case ValueType::INT16:
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::UINT64:
    case ValueType::INT64:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::UINT8: return "UINT8";
    case ValueType::INT8: return "INT8";
    case ValueType::UINT16: return "UINT16";
    case ValueType::INT16: return "INT16";
    case ValueType::UINT32: return "UINT32";
    case ValueType::INT32: return "INT32";
    case ValueType::FLOAT32: return "FLOAT32";
    case ValueType::BOOL: return "BOOL";
    case ValueType::STRING: return "STRING";
    case ValueType::ARRAY: return "ARRAY";
    case ValueType::UINT64: return "UINT64";
    case ValueType::INT64: return "INT64";
    case ValueType::FLOAT64: return "FLOAT64";
  }
  return "UNKNOWN";
}

size_t Array::size() const {
  return std::visit([](const auto& v) { return v.size(); }, items);
}

Value Value::string_array(std::vector<std::string> v) {
  Array a;
  a.element_type = ValueType::STRING;
  a.items = std::move(v);
  return array(std::move(a));
}

Value Value::f32_array(std::vector<double> v) {
  Array a;
  a.element_type = ValueType::FLOAT32;
  a.items = std::move(v);
  return array(std::move(a));
}

Value Value::i32_array(std::vector<int64_t> v) {
  Array a;
  a.element_type = ValueType::INT32;
  a.items = std::move(v);
  return array(std::move(a));
}

bool Value::is_integer() const {
  return is_integer_type(type_) &&
         (std::holds_alternative<int64_t>(value_) || std::holds_alternative<uint64_t>(value_));
}

bool Value::is_float() const {
  return (type_ == ValueType::FLOAT32 || type_ == ValueType::FLOAT64) &&
         std::holds_alternative<double>(value_);
}

std::optional<int64_t> Value::as_int() const {
  if (const auto* s = std::get_if<int64_t>(&value_)) return *s;
  if (const auto* u = std::get_if<uint64_t>(&value_)) {
    if (*u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return static_cast<int64_t>(*u);
  }
  return std::nullopt;
}

std::optional<uint64_t> Value::as_uint() const {
  if (const auto* u = std::get_if<uint64_t>(&value_)) return *u;
  if (const auto* s = std::get_if<int64_t>(&value_)) {
    if (*s >= 0) return static_cast<uint64_t>(*s);
  }
  return std::nullopt;
}

std::optional<double> Value::as_float() const {
  if (const auto* d = std::get_if<double>(&value_)) return *d;
  if (const auto* s = std::get_if<int64_t>(&value_)) return static_cast<double>(*s);
  if (const auto* u = std::get_if<uint64_t>(&value_)) return static_cast<double>(*u);
  return std::nullopt;
}

std::optional<bool> Value::as_bool() const {
  if (const auto* b = std::get_if<bool>(&value_)) return *b;
  return std::nullopt;
}

const std::string* Value::as_string() const { return std::get_if<std::string>(&value_); }

const Array* Value::as_array() const { return std::get_if<Array>(&value_); }

std::string Value::to_display_string(size_t max_items) const {
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "(empty)";
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          return format_double(v, type_);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return quote(v, kMaxDisplayStringBytes);
        } else if constexpr (std::is_same_v<T, Array>) {
          return display_array(v, max_items);
        } else {
          return std::to_string(v);
        }
      },
      value_);
}

}  // namespace sieve::gguf
