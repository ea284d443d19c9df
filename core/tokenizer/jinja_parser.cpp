#include "tokenizer/jinja_parser.h"

#include <initializer_list>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_lexer.h"

namespace sieve::tokenizer::jinja {
namespace {

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  StmtList parse_all() {
    std::string ended_by;
    StmtList program = parse_block({}, ended_by);
    return program;
  }

 private:
  // ---- token helpers ----
  const Token& peek(size_t ahead = 0) const {
    const size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  const Token& next() {
    const Token& t = peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return t;
  }
  bool at_op(std::string_view op, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Operator && peek(ahead).text == op;
  }
  bool at_name(std::string_view name, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Name && peek(ahead).text == name;
  }
  bool accept_op(std::string_view op) {
    if (!at_op(op)) return false;
    next();
    return true;
  }
  bool accept_name(std::string_view name) {
    if (!at_name(name)) return false;
    next();
    return true;
  }
  [[noreturn]] void fail(const std::string& message) const {
    throw TemplateError(TemplateError::Kind::Syntax,
                        "chat template line " + std::to_string(peek().line) + ": " + message);
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::Text: return "text";
      case TokenKind::ExprBegin: return "'{{'";
      case TokenKind::ExprEnd: return "'}}'";
      case TokenKind::StmtBegin: return "'{%'";
      case TokenKind::StmtEnd: return "'%}'";
      case TokenKind::EndOfInput: return "the end of the template";
      case TokenKind::String: return "a string";
      default: return "'" + t.text + "'";
    }
  }
  void expect_op(std::string_view op) {
    if (!accept_op(op)) fail("expected '" + std::string(op) + "', found " + describe(peek()));
  }
  void expect(TokenKind kind, const char* what) {
    if (peek().kind != kind) fail(std::string("expected ") + what + ", found " + describe(peek()));
    next();
  }
  std::string expect_name(const char* what) {
    if (peek().kind != TokenKind::Name) fail(std::string("expected ") + what + ", found " + describe(peek()));
    return next().text;
  }

  class DepthGuard {
   public:
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNestingDepth) {
        throw TemplateError(TemplateError::Kind::Limit, "chat template line " + std::to_string(p_.peek().line) +
                                                            ": nested more than " +
                                                            std::to_string(kMaxNestingDepth) + " levels deep");
      }
    }
    ~DepthGuard() { --p_.depth_; }

   private:
    Parser& p_;
  };

  std::unique_ptr<Stmt> make_stmt(StmtKind kind) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = peek().line;
    return s;
  }
  ExprPtr make_expr(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // ---- statements ----

  // Statements until a {% tag %} whose keyword is in `terminators` (consumed
  // up to and including the keyword) or the end of input.
  StmtList parse_block(std::initializer_list<std::string_view> terminators, std::string& ended_by) {
    DepthGuard guard(*this);
    StmtList list;
    while (true) {
      const Token& t = peek();
      if (t.kind == TokenKind::EndOfInput) {
        // The last terminator is the block's end keyword ("endif", "endfor", ...).
        if (terminators.size() != 0) fail("expected {% " + std::string(*(terminators.end() - 1)) + " %} before the end");
        return list;
      }
      if (t.kind == TokenKind::Text) {
        auto s = make_stmt(StmtKind::Text);
        s->text = next().text;
        list.push_back(std::move(s));
      } else if (t.kind == TokenKind::ExprBegin) {
        next();
        auto s = make_stmt(StmtKind::Output);
        s->expr = parse_expression();
        expect(TokenKind::ExprEnd, "'}}'");
        list.push_back(std::move(s));
      } else if (t.kind == TokenKind::StmtBegin) {
        next();
        const std::string keyword = expect_name("a statement keyword");
        for (const std::string_view term : terminators) {
          if (keyword == term) {
            ended_by = keyword;
            return list;
          }
        }
        if (auto s = parse_statement(keyword)) list.push_back(std::move(s));
      } else {
        fail("unexpected " + describe(t));
      }
    }
  }

  std::unique_ptr<Stmt> parse_statement(const std::string& keyword) {
    if (keyword == "if") return parse_if();
    if (keyword == "for") return parse_for();
    if (keyword == "set") return parse_set();
    if (keyword == "macro") return parse_macro();
    if (keyword == "break" || keyword == "continue") {
      auto s = make_stmt(keyword == "break" ? StmtKind::Break : StmtKind::Continue);
      expect(TokenKind::StmtEnd, "'%}'");
      return s;
    }
    if (keyword == "generation") {  // Hugging Face's marker for assistant text: renders its body
      expect(TokenKind::StmtEnd, "'%}'");
      auto s = make_stmt(StmtKind::If);
      std::string ended_by;
      s->branches.emplace_back(literal(Value(true)), parse_block({"endgeneration"}, ended_by));
      expect(TokenKind::StmtEnd, "'%}'");
      return s;
    }
    fail("unsupported statement '" + keyword + "'");
  }

  ExprPtr literal(Value v) {
    auto e = make_expr(ExprKind::Literal, peek().line);
    e->literal = std::move(v);
    return e;
  }

  std::unique_ptr<Stmt> parse_if() {
    auto s = make_stmt(StmtKind::If);
    ExprPtr condition = parse_expression();
    while (true) {
      expect(TokenKind::StmtEnd, "'%}'");
      std::string ended_by;
      StmtList body = parse_block({"elif", "else", "endif"}, ended_by);
      s->branches.emplace_back(std::move(condition), std::move(body));
      if (ended_by == "elif") {
        condition = parse_expression();
        continue;
      }
      if (ended_by == "else") {
        expect(TokenKind::StmtEnd, "'%}'");
        s->else_body = parse_block({"endif"}, ended_by);
      }
      expect(TokenKind::StmtEnd, "'%}'");
      return s;
    }
  }

  std::vector<std::string> parse_targets() {
    std::vector<std::string> targets;
    const bool parenthesized = accept_op("(");
    do {
      targets.push_back(expect_name("a variable name"));
    } while (accept_op(","));
    if (parenthesized) expect_op(")");
    return targets;
  }

  std::unique_ptr<Stmt> parse_for() {
    auto s = make_stmt(StmtKind::For);
    s->targets = parse_targets();
    if (!accept_name("in")) fail("expected 'in' in the for loop, found " + describe(peek()));
    s->expr = parse_tuple(/*allow_conditional=*/false);
    if (accept_name("if")) s->filter = parse_expression();
    accept_name("recursive");
    expect(TokenKind::StmtEnd, "'%}'");
    std::string ended_by;
    s->body = parse_block({"else", "endfor"}, ended_by);
    if (ended_by == "else") {
      expect(TokenKind::StmtEnd, "'%}'");
      s->else_body = parse_block({"endfor"}, ended_by);
    }
    expect(TokenKind::StmtEnd, "'%}'");
    return s;
  }

  std::unique_ptr<Stmt> parse_set() {
    auto s = make_stmt(StmtKind::Set);
    s->targets.push_back(expect_name("a variable name"));
    if (accept_op(".")) {
      s->attribute = expect_name("an attribute name");
    } else {
      while (accept_op(",")) s->targets.push_back(expect_name("a variable name"));
    }
    if (peek().kind == TokenKind::StmtEnd && s->attribute.empty() && s->targets.size() == 1) {
      next();
      s->kind = StmtKind::SetBlock;
      std::string ended_by;
      s->body = parse_block({"endset"}, ended_by);
      expect(TokenKind::StmtEnd, "'%}'");
      return s;
    }
    expect_op("=");
    s->expr = parse_tuple(/*allow_conditional=*/true);
    expect(TokenKind::StmtEnd, "'%}'");
    return s;
  }

  std::unique_ptr<Stmt> parse_macro() {
    auto s = make_stmt(StmtKind::Macro);
    s->targets.push_back(expect_name("a macro name"));
    expect_op("(");
    while (!accept_op(")")) {
      std::string param = expect_name("a parameter name");
      ExprPtr default_value = accept_op("=") ? parse_expression() : nullptr;
      s->params.emplace_back(std::move(param), std::move(default_value));
      if (!at_op(")")) expect_op(",");
    }
    expect(TokenKind::StmtEnd, "'%}'");
    std::string ended_by;
    s->body = parse_block({"endmacro"}, ended_by);
    if (peek().kind == TokenKind::Name) next();  // {% endmacro name %}
    expect(TokenKind::StmtEnd, "'%}'");
    return s;
  }

  // ---- expressions ----

  // expr or expr, expr, ... (a tuple, as a list)
  ExprPtr parse_tuple(bool allow_conditional) {
    const int line = peek().line;
    ExprPtr first = parse_expression(allow_conditional);
    if (!at_op(",")) return first;
    auto list = make_expr(ExprKind::List, line);
    list->items.push_back(std::move(first));
    while (accept_op(",")) {
      if (peek().kind == TokenKind::StmtEnd || at_op(")")) break;
      list->items.push_back(parse_expression(allow_conditional));
    }
    return list;
  }

  ExprPtr parse_expression(bool allow_conditional = true) {
    DepthGuard guard(*this);
    const int line = peek().line;
    ExprPtr value = parse_or();
    if (!allow_conditional) return value;
    while (accept_name("if")) {
      auto e = make_expr(ExprKind::Conditional, line);
      e->a = parse_or();
      e->b = std::move(value);
      if (accept_name("else")) e->c = parse_expression();
      value = std::move(e);
    }
    return value;
  }

  ExprPtr binary(std::string op, ExprPtr left, ExprPtr right, int line) {
    auto e = make_expr(ExprKind::Binary, line);
    e->name = std::move(op);
    e->a = std::move(left);
    e->b = std::move(right);
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (at_name("or")) {
      const int line = next().line;
      left = binary("or", std::move(left), parse_and(), line);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (at_name("and")) {
      const int line = next().line;
      left = binary("and", std::move(left), parse_not(), line);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (at_name("not")) {
      DepthGuard guard(*this);
      auto e = make_expr(ExprKind::Unary, next().line);
      e->name = "not";
      e->a = parse_not();
      return e;
    }
    return parse_compare();
  }

  // Comparison operator at the cursor (consumed), or "".
  std::string accept_comparison() {
    for (const char* op : {"==", "!=", "<", "<=", ">", ">="}) {
      if (accept_op(op)) return op;
    }
    if (accept_name("in")) return "in";
    if (at_name("not") && at_name("in", 1)) {
      next();
      next();
      return "not in";
    }
    return "";
  }

  // a < b < c means (a < b) and (b < c), as in Python.
  ExprPtr parse_compare() {
    const int line = peek().line;
    ExprPtr left = parse_math1();
    ExprPtr result;
    for (std::string op = accept_comparison(); !op.empty();) {
      ExprPtr right = parse_math1();
      std::string next_op = accept_comparison();
      ExprPtr carried = next_op.empty() ? nullptr : clone(*right);
      ExprPtr comparison = binary(op, std::move(left), std::move(right), line);
      result = result ? binary("and", std::move(result), std::move(comparison), line) : std::move(comparison);
      left = std::move(carried);
      op = std::move(next_op);
    }
    return result ? std::move(result) : std::move(left);
  }

  static ExprPtr clone(const Expr& e) {
    auto c = std::make_unique<Expr>();
    c->kind = e.kind;
    c->line = e.line;
    c->name = e.name;
    c->literal = e.literal;
    c->negated = e.negated;
    if (e.a) c->a = clone(*e.a);
    if (e.b) c->b = clone(*e.b);
    if (e.c) c->c = clone(*e.c);
    for (const ExprPtr& item : e.items) c->items.push_back(item ? clone(*item) : nullptr);
    for (const auto& [name, value] : e.kwargs) c->kwargs.emplace_back(name, value ? clone(*value) : nullptr);
    return c;
  }

  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (at_op("+") || at_op("-")) {
      const Token& op = next();
      left = binary(op.text, std::move(left), parse_concat(), op.line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_math2();
    while (at_op("~")) {
      const int line = next().line;
      left = binary("~", std::move(left), parse_math2(), line);
    }
    return left;
  }

  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (at_op("*") || at_op("/") || at_op("//") || at_op("%")) {
      const Token& op = next();
      left = binary(op.text, std::move(left), parse_pow(), op.line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (at_op("**")) {
      const int line = next().line;
      left = binary("**", std::move(left), parse_unary(true), line);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filters) {
    DepthGuard guard(*this);
    ExprPtr node;
    if (at_op("-") || at_op("+")) {
      const Token& op = next();
      node = make_expr(ExprKind::Unary, op.line);
      node->name = op.text;
      node->a = parse_unary(false);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filters) node = parse_filters_and_tests(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case TokenKind::Name: {
        next();
        if (t.text == "true" || t.text == "True") return literal(Value(true));
        if (t.text == "false" || t.text == "False") return literal(Value(false));
        if (t.text == "none" || t.text == "None") return literal(Value::none());
        auto e = make_expr(ExprKind::Name, t.line);
        e->name = t.text;
        return e;
      }
      case TokenKind::String: {
        std::string s = next().text;
        while (peek().kind == TokenKind::String) s += next().text;  // "a" "b" joins, as in Python
        return literal(Value(std::move(s)));
      }
      case TokenKind::Int: return literal(Value(next().int_value));
      case TokenKind::Float: return literal(Value(next().float_value));
      case TokenKind::Operator:
        if (t.text == "(") {
          next();
          if (accept_op(")")) return make_expr(ExprKind::List, t.line);  // ()
          ExprPtr inner = parse_tuple(true);
          expect_op(")");
          return inner;
        }
        if (t.text == "[") return parse_list_literal();
        if (t.text == "{") return parse_dict_literal();
        break;
      default: break;
    }
    fail("expected a value, found " + describe(t));
  }

  ExprPtr parse_list_literal() {
    auto e = make_expr(ExprKind::List, next().line);
    while (!accept_op("]")) {
      e->items.push_back(parse_expression());
      if (!at_op("]")) expect_op(",");
    }
    return e;
  }

  ExprPtr parse_dict_literal() {
    auto e = make_expr(ExprKind::Map, next().line);
    while (!accept_op("}")) {
      e->items.push_back(parse_expression());
      expect_op(":");
      e->items.push_back(parse_expression());
      if (!at_op("}")) expect_op(",");
    }
    return e;
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (at_op(".")) {
        const int line = next().line;
        if (peek().kind == TokenKind::Int) {  // a.0 is a[0]
          auto e = make_expr(ExprKind::GetItem, line);
          e->a = std::move(node);
          e->b = literal(Value(next().int_value));
          node = std::move(e);
          continue;
        }
        auto e = make_expr(ExprKind::GetAttr, line);
        e->a = std::move(node);
        e->name = expect_name("an attribute name");
        node = std::move(e);
      } else if (at_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (at_op("(")) {
        auto e = make_expr(ExprKind::Call, peek().line);
        e->a = std::move(node);
        parse_call_args(*e);
        node = std::move(e);
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object) {
    const int line = next().line;  // [
    ExprPtr start = at_op(":") ? nullptr : parse_expression();
    if (accept_op("]")) {
      auto e = make_expr(ExprKind::GetItem, line);
      e->a = std::move(object);
      e->b = std::move(start);
      return e;
    }
    expect_op(":");
    auto e = make_expr(ExprKind::Slice, line);
    e->a = std::move(object);
    e->items.push_back(std::move(start));
    e->items.push_back(at_op(":") || at_op("]") ? nullptr : parse_expression());
    ExprPtr step;
    if (accept_op(":") && !at_op("]")) step = parse_expression();
    e->items.push_back(std::move(step));
    expect_op("]");
    return e;
  }

  // ( positional..., name=value... )
  void parse_call_args(Expr& call) {
    expect_op("(");
    while (!accept_op(")")) {
      if (peek().kind == TokenKind::Name && at_op("=", 1)) {
        std::string name = next().text;
        next();
        call.kwargs.emplace_back(std::move(name), parse_expression());
      } else {
        if (!call.kwargs.empty()) fail("a positional argument follows a keyword argument");
        call.items.push_back(parse_expression());
      }
      if (!at_op(")")) expect_op(",");
    }
  }

  ExprPtr parse_filters_and_tests(ExprPtr node) {
    while (true) {
      if (at_op("|")) {
        auto e = make_expr(ExprKind::Filter, next().line);
        e->name = expect_name("a filter name");
        if (!is_known_filter(e->name)) fail("unknown filter '" + e->name + "'");
        e->a = std::move(node);
        if (at_op("(")) parse_call_args(*e);
        node = std::move(e);
      } else if (at_name("is")) {
        auto e = make_expr(ExprKind::Test, next().line);
        e->negated = accept_name("not");
        e->name = expect_name("a test name");
        if (!is_known_test(e->name)) fail("unknown test '" + e->name + "'");
        e->a = std::move(node);
        if (at_op("(")) {
          parse_call_args(*e);
        } else if (starts_test_argument()) {
          e->items.push_back(parse_postfix(parse_primary()));
        }
        node = std::move(e);
      } else {
        return node;
      }
    }
  }

  // "x is divisibleby 3", "x is sameas none": a test may take one bare argument.
  bool starts_test_argument() const {
    const Token& t = peek();
    if (t.kind == TokenKind::String || t.kind == TokenKind::Int || t.kind == TokenKind::Float) return true;
    if (t.kind != TokenKind::Name) return false;
    for (const char* keyword : {"and", "or", "else", "if", "not", "in", "is"}) {
      if (t.text == keyword) return false;
    }
    return true;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

StmtList parse_template(std::string_view source) { return Parser(lex_template(source)).parse_all(); }

}  // namespace sieve::tokenizer::jinja
