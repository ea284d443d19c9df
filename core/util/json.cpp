#include "util/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "util/error.h"

namespace sieve::json {
namespace {

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::Null: return "null";
    case Value::Kind::Bool: return "a boolean";
    case Value::Kind::Number: return "a number";
    case Value::Kind::String: return "a string";
    case Value::Kind::Array: return "an array";
    case Value::Kind::Object: return "an object";
  }
  return "?";
}

[[noreturn]] void wrong_kind(Value::Kind want, Value::Kind got) {
  throw Error(std::string("JSON: expected ") + kind_name(want) + ", found " + kind_name(got) + ".");
}

// Nesting deeper than this is refused rather than risking the stack.
constexpr int kMaxDepth = 256;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Value parse_document() {
    skip_space();
    Value v = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw Error("JSON: line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + what + ".");
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }

  void expect(char c, const char* what) {
    if (peek() != c) fail(std::string("expected ") + what);
    ++pos_;
  }

  void expect_word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("unexpected character");
    pos_ += word.size();
  }

  Value parse_value(int depth) {
    if (depth > kMaxDepth) fail("values are nested too deeply");
    switch (peek()) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return Value(parse_string());
      case 't': expect_word("true"); return Value(true);
      case 'f': expect_word("false"); return Value(false);
      case 'n': expect_word("null"); return Value();
      default: break;
    }
    if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return Value(parse_number());
    if (at_end()) fail("unexpected end of text");
    fail("unexpected character");
  }

  Value parse_object(int depth) {
    ++pos_;  // '{'
    Value obj = Value::object();
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return obj;
    }
    for (;;) {
      skip_space();
      if (peek() != '"') fail("expected a string key");
      std::string key = parse_string();
      if (obj.find(key) != nullptr) fail("duplicate key '" + key + "'");
      skip_space();
      expect(':', "':' after an object key");
      skip_space();
      obj.set(std::move(key), parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}', "',' or '}' in an object");
      return obj;
    }
  }

  Value parse_array(int depth) {
    ++pos_;  // '['
    Value arr = Value::array();
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return arr;
    }
    for (;;) {
      skip_space();
      arr.push(parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']', "',' or ']' in an array");
      return arr;
    }
  }

  bool digit() const { return peek() >= '0' && peek() <= '9'; }

  double parse_number() {
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
      if (digit()) fail("numbers may not have leading zeros");
    } else if (digit()) {
      while (digit()) ++pos_;
    } else {
      fail("expected a digit");
    }
    if (peek() == '.') {
      ++pos_;
      if (!digit()) fail("expected a digit after '.'");
      while (digit()) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!digit()) fail("expected a digit in the exponent");
      while (digit()) ++pos_;
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
    if (ec != std::errc() || end != text_.data() + pos_) {
      pos_ = start;
      fail("number out of range");
    }
    return value;
  }

  unsigned parse_hex4() {
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = peek();
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        fail("expected four hex digits after \\u");
      }
      ++pos_;
    }
    return v;
  }

  static void append_utf8(unsigned cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  unsigned parse_escaped_code_point() {
    const unsigned high = parse_hex4();
    if (high >= 0xDC00 && high <= 0xDFFF) fail("unpaired low surrogate");
    if (high < 0xD800 || high > 0xDBFF) return high;
    if (text_.substr(pos_, 2) != "\\u") fail("unpaired high surrogate");
    pos_ += 2;
    const unsigned low = parse_hex4();
    if (low < 0xDC00 || low > 0xDFFF) fail("unpaired high surrogate");
    return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (at_end()) fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        --pos_;
        fail("control character in a string");
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(parse_escaped_code_point(), out); break;
        default: --pos_; fail("invalid escape in a string");
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

bool Value::as_bool() const {
  if (kind() != Kind::Bool) wrong_kind(Kind::Bool, kind());
  return std::get<bool>(data_);
}

double Value::as_number() const {
  if (kind() != Kind::Number) wrong_kind(Kind::Number, kind());
  return std::get<double>(data_);
}

int64_t Value::as_int() const {
  const double d = as_number();
  if (d != std::floor(d) || std::fabs(d) > 9007199254740992.0) {
    throw Error("JSON: expected a whole number, found " + write(*this) + ".");
  }
  return static_cast<int64_t>(d);
}

const std::string& Value::as_string() const {
  if (kind() != Kind::String) wrong_kind(Kind::String, kind());
  return std::get<std::string>(data_);
}

const Value::Array& Value::as_array() const {
  if (kind() != Kind::Array) wrong_kind(Kind::Array, kind());
  return std::get<Array>(data_);
}

const Value::Object& Value::as_object() const {
  if (kind() != Kind::Object) wrong_kind(Kind::Object, kind());
  return std::get<Object>(data_);
}

const Value& Value::operator[](size_t index) const {
  const Array& a = as_array();
  if (index >= a.size()) {
    throw Error("JSON: index " + std::to_string(index) + " is past the end of an array of " +
                std::to_string(a.size()) + ".");
  }
  return a[index];
}

const Value* Value::find(std::string_view key) const {
  if (kind() != Kind::Object) return nullptr;
  for (const auto& [k, v] : std::get<Object>(data_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

const Value& Value::at(std::string_view key) const {
  as_object();  // throws for other kinds
  const Value* v = find(key);
  if (v == nullptr) throw Error("JSON: the object has no member '" + std::string(key) + "'.");
  return *v;
}

size_t Value::size() const {
  if (kind() == Kind::Array) return std::get<Array>(data_).size();
  if (kind() == Kind::Object) return std::get<Object>(data_).size();
  return 0;
}

Value& Value::push(Value v) {
  if (kind() != Kind::Array) wrong_kind(Kind::Array, kind());
  return std::get<Array>(data_).emplace_back(std::move(v));
}

Value& Value::set(std::string key, Value v) {
  if (kind() != Kind::Object) wrong_kind(Kind::Object, kind());
  Object& members = std::get<Object>(data_);
  for (auto& [k, existing] : members) {
    if (k == key) return existing = std::move(v);
  }
  return members.emplace_back(std::move(key), std::move(v)).second;
}

Value parse(std::string_view text) { return Parser(text).parse_document(); }

void write_string(std::string_view s, std::string& out) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void write_number(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, ec == std::errc() ? end : buf);
}

void write(const Value& value, std::string& out) {
  switch (value.kind()) {
    case Value::Kind::Null: out += "null"; return;
    case Value::Kind::Bool: out += value.as_bool() ? "true" : "false"; return;
    case Value::Kind::Number: write_number(value.as_number(), out); return;
    case Value::Kind::String: write_string(value.as_string(), out); return;
    case Value::Kind::Array: {
      out += '[';
      bool first = true;
      for (const Value& v : value.as_array()) {
        if (!first) out += ',';
        first = false;
        write(v, out);
      }
      out += ']';
      return;
    }
    case Value::Kind::Object: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : value.as_object()) {
        if (!first) out += ',';
        first = false;
        write_string(k, out);
        out += ':';
        write(v, out);
      }
      out += '}';
      return;
    }
  }
}

std::string write(const Value& value) {
  std::string out;
  write(value, out);
  return out;
}

}  // namespace sieve::json
