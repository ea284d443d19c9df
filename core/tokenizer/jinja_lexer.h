#pragma once
// Lexer of the Jinja-subset chat-template language.
//
// Splits the source into text and tags ({{ expr }}, {% statement %},
// {# comment #}) and the insides of tags into tokens. Whitespace control is
// applied here, with the settings Hugging Face renders chat templates with:
// trim_blocks (the newline after a block tag is dropped), lstrip_blocks
// (spaces and tabs before a block tag at the start of a line are dropped),
// "-" on a delimiter strips all whitespace on that side, "+" disables the
// block rules; "\r\n" becomes "\n" and one final newline is dropped.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sieve::tokenizer::jinja {

enum class TokenKind {
  Text,        // template text between tags
  ExprBegin,   // {{
  ExprEnd,     // }}
  StmtBegin,   // {%
  StmtEnd,     // %}
  Name,        // identifiers and keywords
  String,      // a string literal, unescaped
  Int,
  Float,
  Operator,    // + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } , . : |
  EndOfInput,
};

struct Token {
  TokenKind kind = TokenKind::EndOfInput;
  std::string text;  // text, name, unescaped string or operator
  int64_t int_value = 0;
  double float_value = 0.0;
  int line = 1;
};

// Throws TemplateError (Syntax) with the line of the problem.
std::vector<Token> lex_template(std::string_view source);

}  // namespace sieve::tokenizer::jinja
