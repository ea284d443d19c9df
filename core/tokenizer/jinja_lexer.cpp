#include "tokenizer/jinja_lexer.h"

#include <cerrno>
#include <cstdlib>

#include "tokenizer/jinja_value.h"
#include "tokenizer/unicode.h"

namespace sieve::tokenizer::jinja {
namespace {

[[noreturn]] void fail(int line, const std::string& message) {
  throw TemplateError(TemplateError::Kind::Syntax, "chat template line " + std::to_string(line) + ": " + message);
}

std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();  // Jinja's keep_trailing_newline=False
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(normalize_newlines(source)) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      const size_t tag = find_tag_start(pos_);
      lex_text_before(tag);
      if (tag == std::string::npos) break;
      lex_tag(tag);
    }
    push({TokenKind::EndOfInput, "", 0, 0.0, line_});
    return std::move(tokens_);
  }

 private:
  enum class TagType { Expr, Stmt, Comment };

  size_t find_tag_start(size_t from) const {
    for (size_t at = src_.find('{', from); at != std::string::npos; at = src_.find('{', at + 1)) {
      if (at + 1 < src_.size() && (src_[at + 1] == '{' || src_[at + 1] == '%' || src_[at + 1] == '#')) return at;
    }
    return std::string::npos;
  }

  static TagType tag_type(char second) {
    return second == '{' ? TagType::Expr : second == '%' ? TagType::Stmt : TagType::Comment;
  }

  // Emits the text from pos_ up to `tag`, trimmed as the tag's modifiers ask.
  void lex_text_before(size_t tag) {
    const size_t end = tag == std::string::npos ? src_.size() : tag;
    std::string text = src_.substr(pos_, end - pos_);
    if (tag != std::string::npos) {
      const char modifier = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      const bool block = tag_type(src_[tag + 1]) != TagType::Expr;
      if (modifier == '-') {
        while (!text.empty() && is_space(text.back())) text.pop_back();
      } else if (block && modifier != '+') {
        strip_indent_before_block(text);
      }
    }
    const int start_line = line_;
    count_lines(pos_, end);
    if (!text.empty()) push({TokenKind::Text, std::move(text), 0, 0.0, start_line});
    pos_ = end;
  }

  // lstrip_blocks: spaces and tabs between the start of a line and a block tag go.
  void strip_indent_before_block(std::string& text) const {
    const size_t newline = text.rfind('\n');
    const size_t tail = newline == std::string::npos ? 0 : newline + 1;
    const bool at_line_start = newline != std::string::npos || pos_ == 0 || src_[pos_ - 1] == '\n';
    if (!at_line_start) return;
    for (size_t i = tail; i < text.size(); ++i) {
      if (text[i] != ' ' && text[i] != '\t') return;
    }
    text.resize(tail);
  }

  void lex_tag(size_t tag) {
    const TagType type = tag_type(src_[tag + 1]);
    pos_ = tag + 2;
    if (pos_ < src_.size() && (src_[pos_] == '-' || src_[pos_] == '+')) ++pos_;
    if (type == TagType::Comment) {
      const size_t close = src_.find("#}", pos_);
      if (close == std::string::npos) fail(line_, "a comment {# is never closed with #}");
      const bool strip_after = close > pos_ && src_[close - 1] == '-';
      const bool keep_newline = close > pos_ && src_[close - 1] == '+';
      count_lines(pos_, close);
      pos_ = close + 2;
      trim_after_tag(strip_after, /*block=*/!keep_newline);
      return;
    }
    const size_t first_token = tokens_.size();
    push({type == TagType::Expr ? TokenKind::ExprBegin : TokenKind::StmtBegin, "", 0, 0.0, line_});
    const char modifier = lex_tag_body(type);
    trim_after_tag(modifier == '-', type == TagType::Stmt && modifier != '+');
    if (type == TagType::Stmt && tokens_.size() == first_token + 3 && tokens_[first_token + 1].text == "raw" &&
        tokens_[first_token + 1].kind == TokenKind::Name) {
      lex_raw_block(first_token);
    }
  }

  // After a tag: "-" strips all following whitespace; trim_blocks drops one newline.
  void trim_after_tag(bool strip_all, bool block) {
    if (strip_all) {
      while (pos_ < src_.size() && is_space(src_[pos_])) {
        if (src_[pos_] == '\n') ++line_;
        ++pos_;
      }
    } else if (block && pos_ < src_.size() && src_[pos_] == '\n') {
      ++line_;
      ++pos_;
    }
  }

  // {% raw %}...{% endraw %}: the tokens of the raw tag are replaced by the text.
  void lex_raw_block(size_t first_token) {
    tokens_.resize(first_token);
    for (size_t at = find_tag_start(pos_); at != std::string::npos; at = find_tag_start(at + 1)) {
      if (src_[at + 1] != '%') continue;
      size_t p = at + 2;
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (src_.compare(p, 6, "endraw") != 0) continue;
      lex_text_before(at);
      pos_ = at + 2;
      if (src_[pos_] == '-' || src_[pos_] == '+') ++pos_;
      const size_t before = tokens_.size();
      push({TokenKind::StmtBegin, "", 0, 0.0, line_});
      const char modifier = lex_tag_body(TagType::Stmt);
      tokens_.resize(before);
      trim_after_tag(modifier == '-', modifier != '+');
      return;
    }
    fail(line_, "{% raw %} is never closed with {% endraw %}");
  }

  // Tokens up to the closing delimiter; returns its modifier: '-', '+' or 0.
  char lex_tag_body(TagType type) {
    const char closer = type == TagType::Expr ? '}' : '%';
    const int open_line = line_;
    size_t open_brackets = 0;  // as in Jinja, "}}" inside an open ( [ { is not the tag's end
    while (true) {
      while (pos_ < src_.size() && is_space(src_[pos_])) {
        if (src_[pos_] == '\n') ++line_;
        ++pos_;
      }
      if (pos_ >= src_.size()) {
        fail(open_line, type == TagType::Expr ? "a {{ is never closed with }}" : "a {% is never closed with %}");
      }
      for (const char modifier : {'-', '+', '\0'}) {
        if (open_brackets > 0) break;
        const size_t at = pos_ + (modifier ? 1 : 0);
        if (modifier && src_[pos_] != modifier) continue;
        if (at + 1 < src_.size() && src_[at] == closer && src_[at + 1] == '}') {
          push({type == TagType::Expr ? TokenKind::ExprEnd : TokenKind::StmtEnd, "", 0, 0.0, line_});
          pos_ = at + 2;
          return modifier;
        }
      }
      lex_token();
      const Token& last = tokens_.back();
      if (last.kind == TokenKind::Operator && last.text.size() == 1) {
        const char c = last.text[0];
        if (c == '(' || c == '[' || c == '{') ++open_brackets;
        if ((c == ')' || c == ']' || c == '}') && open_brackets > 0) --open_brackets;
      }
    }
  }

  void lex_token() {
    const char c = src_[pos_];
    if (c == '\'' || c == '"') return lex_string(c);
    if (is_digit(c)) return lex_number();
    if (is_name_start(c)) {
      const size_t start = pos_;
      while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
      return push({TokenKind::Name, src_.substr(start, pos_ - start), 0, 0.0, line_});
    }
    static constexpr std::string_view kTwoChar[] = {"**", "//", "==", "!=", "<=", ">="};
    for (const std::string_view op : kTwoChar) {
      if (src_.compare(pos_, 2, op) == 0) {
        pos_ += 2;
        return push({TokenKind::Operator, std::string(op), 0, 0.0, line_});
      }
    }
    if (std::string_view("+-*/%~<>=()[]{},.:|").find(c) != std::string_view::npos) {
      ++pos_;
      return push({TokenKind::Operator, std::string(1, c), 0, 0.0, line_});
    }
    fail(line_, std::string("unexpected character '") + c + "' inside a tag");
  }

  void lex_string(char quote) {
    const int start_line = line_;
    std::string value;
    ++pos_;
    while (true) {
      if (pos_ >= src_.size()) fail(start_line, "a string literal is never closed");
      const char c = src_[pos_++];
      if (c == quote) break;
      if (c == '\n') ++line_;
      if (c != '\\' || pos_ >= src_.size()) {
        value += c;
        continue;
      }
      append_escape(value);
    }
    push({TokenKind::String, std::move(value), 0, 0.0, start_line});
  }

  // Python string escapes; an unknown escape keeps its backslash, as Python does.
  void append_escape(std::string& value) {
    const char e = src_[pos_++];
    switch (e) {
      case 'n': value += '\n'; return;
      case 't': value += '\t'; return;
      case 'r': value += '\r'; return;
      case 'b': value += '\b'; return;
      case 'f': value += '\f'; return;
      case 'v': value += '\v'; return;
      case '0': value += '\0'; return;
      case '\\': value += '\\'; return;
      case '\'': value += '\''; return;
      case '"': value += '"'; return;
      case '\n': ++line_; return;  // line continuation
      case 'x': return append_hex_escape(value, 2, e);
      case 'u': return append_hex_escape(value, 4, e);
      case 'U': return append_hex_escape(value, 8, e);
      default:
        value += '\\';
        value += e;
    }
  }

  void append_hex_escape(std::string& value, int digits, char letter) {
    uint32_t cp = 0;
    for (int i = 0; i < digits; ++i) {
      const int h = pos_ < src_.size() ? hex_value(src_[pos_]) : -1;
      if (h < 0) fail(line_, std::string("bad \\") + letter + " escape in a string literal");
      cp = cp * 16 + static_cast<uint32_t>(h);
      ++pos_;
    }
    if (cp > kMaxCodepoint || (cp >= 0xD800 && cp <= 0xDFFF)) fail(line_, "an escape names an invalid code point");
    append_utf8(value, cp);
  }

  void lex_number() {
    const size_t start = pos_;
    while (pos_ < src_.size() && (is_digit(src_[pos_]) || src_[pos_] == '_')) ++pos_;
    bool is_float = false;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && is_digit(src_[pos_ + 1])) {
      is_float = true;
      ++pos_;
      while (pos_ < src_.size() && (is_digit(src_[pos_]) || src_[pos_] == '_')) ++pos_;
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
      if (p < src_.size() && is_digit(src_[p])) {
        is_float = true;
        pos_ = p;
        while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
      }
    }
    std::string digits;
    for (size_t i = start; i < pos_; ++i) {
      if (src_[i] != '_') digits += src_[i];
    }
    Token token{is_float ? TokenKind::Float : TokenKind::Int, digits, 0, 0.0, line_};
    errno = 0;
    if (is_float) {
      token.float_value = std::strtod(digits.c_str(), nullptr);
    } else {
      token.int_value = std::strtoll(digits.c_str(), nullptr, 10);
    }
    if (errno == ERANGE) fail(line_, "the number " + digits + " is out of range");
    push(std::move(token));
  }

  void count_lines(size_t from, size_t to) {
    for (size_t i = from; i < to && i < src_.size(); ++i) {
      if (src_[i] == '\n') ++line_;
    }
  }

  void push(Token token) { tokens_.push_back(std::move(token)); }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> lex_template(std::string_view source) { return Lexer(source).run(); }

}  // namespace sieve::tokenizer::jinja
