#include "tokenizer/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace sieve::tokenizer::jinja {
namespace {

// Python's float repr: the shortest digits that read back, written in fixed
// notation for exponents -4..15 and scientific otherwise ("1e-05", "1e+16").
std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string sci(buf, result.ptr);  // "-1.2345e+03"
  const size_t e = sci.find('e');
  const bool negative = sci[0] == '-';
  std::string digits;
  for (size_t i = negative ? 1 : 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  const int exponent = std::stoi(sci.substr(e + 1));
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    const size_t integer_digits = static_cast<size_t>(exponent + 1);  // when exponent >= 0
    if (exponent < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exponent - 1), '0');
      out += digits;
    } else if (integer_digits >= digits.size()) {
      out += digits;
      out.append(integer_digits - digits.size(), '0');
      out += ".0";
    } else {
      out.append(digits, 0, integer_digits);
      out += '.';
      out.append(digits, integer_digits, std::string::npos);
    }
    return out;
  }
  out += digits[0];
  if (digits.size() > 1) {
    out += '.';
    out.append(digits, 1, std::string::npos);
  }
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp_buf;
}

std::string python_string_repr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", byte);
      out += buf;
    } else {
      out += c;
    }
  }
  out += quote;
  return out;
}

void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (byte < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", byte);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_json(std::string& out, const Value& v, int indent, int depth) {
  const auto newline = [&](int level) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(level), ' ');
  };
  const char* item_separator = indent < 0 ? ", " : ",";
  switch (v.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.as_int()); return;
    case Value::Kind::Float: {
      const double f = v.as_float();
      out += std::isnan(f) ? "NaN" : std::isinf(f) ? (f < 0 ? "-Infinity" : "Infinity") : python_float(f);
      return;
    }
    case Value::Kind::String: append_json_string(out, v.as_string()); return;
    case Value::Kind::List: {
      const ValueList& list = v.as_list();
      if (list.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out += item_separator;
        newline(depth + 1);
        append_json(out, list[i], indent, depth + 1);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::Map: {
      const ValueMap& map = v.as_map();
      if (map.items.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      for (size_t i = 0; i < map.items.size(); ++i) {
        if (i > 0) out += item_separator;
        newline(depth + 1);
        append_json_string(out, map.items[i].first);
        out += ": ";
        append_json(out, map.items[i].second, indent, depth + 1);
      }
      newline(depth);
      out += '}';
      return;
    }
    case Value::Kind::Function:
      throw TemplateError(TemplateError::Kind::Runtime, "a function cannot be written as JSON");
  }
}

int sign(double d) { return d < 0 ? -1 : d > 0 ? 1 : 0; }

}  // namespace

const Value* ValueMap::find(std::string_view key) const {
  for (const auto& item : items) {
    if (item.first == key) return &item.second;
  }
  return nullptr;
}

namespace {

// A container may hold `v` unless it is a namespace (no cycles can form) or
// nests too deep (printing, comparing and freeing recurse).
void check_item(const Value& v) {
  if (v.is_namespace()) {
    throw TemplateError(TemplateError::Kind::Runtime, "a namespace() object cannot be put inside a list or mapping");
  }
  if (v.depth() + 1 > kMaxValueDepth) {
    throw TemplateError(TemplateError::Kind::Limit, "chat template nested lists or mappings more than " +
                                                        std::to_string(kMaxValueDepth) + " levels deep");
  }
}

template <typename Items, typename Get>
int container_depth(const Items& items, Get value_of) {
  int deepest = 0;
  for (const auto& item : items) {
    const Value& v = value_of(item);
    check_item(v);
    deepest = std::max(deepest, v.depth());
  }
  return deepest + 1;
}

}  // namespace

Value::Value(ValueList list) : depth_(container_depth(list, [](const Value& v) -> const Value& { return v; })),
                               data_(std::make_shared<ValueList>(std::move(list))) {}

Value::Value(ValueMap map)
    : depth_(container_depth(map.items, [](const auto& item) -> const Value& { return item.second; })),
      data_(std::make_shared<ValueMap>(std::move(map))) {}

void ValueMap::set(std::string key, Value value) {
  if (is_namespace) check_item(value);
  for (auto& item : items) {
    if (item.first == key) {
      item.second = std::move(value);
      return;
    }
  }
  items.emplace_back(std::move(key), std::move(value));
}

Value Value::none() { return Value(NoneTag{}); }

Value Value::function(Function fn) {
  Value v;
  v.data_ = std::make_shared<Function>(std::move(fn));
  return v;
}

double Value::as_float() const {
  if (is_float()) return std::get<double>(data_);
  return static_cast<double>(as_int());
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool: return as_bool();
    case Kind::Int: return as_int() != 0;
    case Kind::Float: return as_float() != 0.0;
    case Kind::String: return !as_string().empty();
    case Kind::List: return !as_list().empty();
    case Kind::Map: return !as_map().items.empty();
    case Kind::Function: return true;
  }
  return false;
}

std::string Value::to_string() const {
  switch (kind()) {
    case Kind::Undefined: return "";
    case Kind::String: return as_string();
    default: return repr();
  }
}

std::string Value::repr() const {
  switch (kind()) {
    case Kind::Undefined: return "";
    case Kind::None: return "None";
    case Kind::Bool: return as_bool() ? "True" : "False";
    case Kind::Int: return std::to_string(as_int());
    case Kind::Float: return python_float(as_float());
    case Kind::String: return python_string_repr(as_string());
    case Kind::List: {
      std::string out = "[";
      for (const Value& item : as_list()) {
        if (out.size() > 1) out += ", ";
        out += item.repr();
      }
      return out + "]";
    }
    case Kind::Map: {
      std::string out = "{";
      for (const auto& [key, value] : as_map().items) {
        if (out.size() > 1) out += ", ";
        out += python_string_repr(key) + ": " + value.repr();
      }
      return out + "}";
    }
    case Kind::Function: return "<function>";
  }
  return "";
}

std::string Value::to_json(int indent) const {
  std::string out;
  append_json(out, *this, indent, 0);
  return out;
}

const char* Value::type_name() const {
  switch (kind()) {
    case Kind::Undefined: return "undefined";
    case Kind::None: return "none";
    case Kind::Bool: return "boolean";
    case Kind::Int: return "integer";
    case Kind::Float: return "float";
    case Kind::String: return "string";
    case Kind::List: return "list";
    case Kind::Map: return "mapping";
    case Kind::Function: return "function";
  }
  return "value";
}

const Value& CallArgs::get(size_t index, std::string_view name) const {
  static const Value kUndefined;
  if (index < positional.size()) return positional[index];
  for (const auto& [key, value] : keyword) {
    if (key == name) return value;
  }
  return kUndefined;
}

bool values_equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return true;
    case Value::Kind::String: return a.as_string() == b.as_string();
    case Value::Kind::List: {
      const ValueList& x = a.as_list();
      const ValueList& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!values_equal(x[i], y[i])) return false;
      }
      return true;
    }
    case Value::Kind::Map: {
      const ValueMap& x = a.as_map();
      const ValueMap& y = b.as_map();
      if (x.items.size() != y.items.size()) return false;
      for (const auto& [key, value] : x.items) {
        const Value* other = y.find(key);
        if (other == nullptr || !values_equal(value, *other)) return false;
      }
      return true;
    }
    case Value::Kind::Function: return &a.as_function() == &b.as_function();
    default: return false;
  }
}

int compare_values(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return sign(a.as_float() - b.as_float());
    return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_list() && b.is_list()) {
    const ValueList& x = a.as_list();
    const ValueList& y = b.as_list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (const int c = compare_values(x[i], y[i]); c != 0) return c;
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  throw TemplateError(TemplateError::Kind::Runtime, std::string("cannot order a ") + a.type_name() +
                                                        " and a " + b.type_name());
}

}  // namespace sieve::tokenizer::jinja
