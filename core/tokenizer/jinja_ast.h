#pragma once
// The syntax tree of a parsed chat template.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja_value.h"

namespace sieve::tokenizer::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;
using KeywordArgs = std::vector<std::pair<std::string, ExprPtr>>;

enum class ExprKind {
  Literal,      // literal
  Name,         // name
  List,         // [items...] (tuples too)
  Map,          // {items[0]: items[1], ...}: keys and values alternate
  GetAttr,      // a.name
  GetItem,      // a[b]
  Slice,        // a[items[0]:items[1]:items[2]], absent parts null
  Call,         // a(items..., kwargs...)
  Filter,       // a | name(items..., kwargs...)
  Test,         // a is [not] name(items...)
  Unary,        // name a   (name: "not", "-", "+")
  Binary,       // a name b (name: "or", "and", "==", "in", "not in", "+", "~", ...)
  Conditional,  // b if a else c  (c may be null)
};

struct Expr {
  ExprKind kind;
  int line = 0;
  std::string name;
  Value literal;
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;
  KeywordArgs kwargs;
  bool negated = false;  // Test: "is not"
};

struct Stmt;
using StmtList = std::vector<std::unique_ptr<Stmt>>;

enum class StmtKind {
  Text,      // text
  Output,    // {{ expr }}
  If,        // branches (condition, body), else_body
  For,       // for targets in expr [if filter]: body, else_body
  Set,       // set targets = expr, or set targets[0].attribute = expr
  SetBlock,  // set targets[0] %}body{% endset
  Macro,     // macro targets[0](params): body
  Break,
  Continue,
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;
  std::vector<std::pair<ExprPtr, StmtList>> branches;
  StmtList body;
  StmtList else_body;
  std::vector<std::string> targets;
  std::string attribute;
  KeywordArgs params;  // macro parameters with their defaults (null: none)
};

}  // namespace sieve::tokenizer::jinja
