#pragma once
// Parser of the Jinja-subset chat-template language: tokens -> syntax tree.
//
// Statements: if/elif/else, for (with else, an "if" filter, unpacking
// targets), set (names, namespace attributes, set blocks), macro, break,
// continue, raw, generation. Expressions: literals, lists, dicts, tuples,
// attribute and item access, slices, calls with keyword arguments, filters,
// tests, not/and/or, comparisons, in / not in, + - * / // % ** ~, unary -
// and inline if/else, with Jinja's operator precedence.

#include <string_view>

#include "tokenizer/jinja_ast.h"

namespace sieve::tokenizer::jinja {

inline constexpr int kMaxNestingDepth = 100;  // blocks inside blocks, parentheses in parentheses

// Throws TemplateError (Syntax) naming the line, for bad syntax, unknown
// statements, filters or tests, and nesting deeper than kMaxNestingDepth.
StmtList parse_template(std::string_view source);

}  // namespace sieve::tokenizer::jinja
