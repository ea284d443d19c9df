#include "tokenizer/jinja_eval.h"

#include <cmath>

#include "tokenizer/jinja_builtins.h"

namespace sieve::tokenizer::jinja {
namespace {

using Frame = std::vector<std::pair<std::string, Value>>;

enum class Flow { Normal, Break, Continue };

bool both_ints(const Value& a, const Value& b) { return (a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool()); }

[[noreturn]] void type_error(const char* op, const Value& a, const Value& b) {
  runtime_error(std::string("cannot apply '") + op + "' to a " + a.type_name() + " and a " + b.type_name());
}

class Renderer {
 public:
  Renderer(const RenderLimits& limits, std::string& out) : limits_(limits), out_(&out) {}

  void run(const StmtList& program, const ValueMap& variables) {
    scopes_.emplace_back();
    for (auto& [name, fn] : global_functions(limits_)) scopes_.back().emplace_back(name, std::move(fn));
    scopes_.emplace_back(variables.items);
    scopes_.emplace_back();  // the template's own top-level variables
    exec_list(program);
  }

 private:
  // ---- bookkeeping ----
  void tick() {
    if (++steps_ > limits_.max_steps) {
      throw TemplateError(TemplateError::Kind::Limit, "chat template ran more than " +
                                                          std::to_string(limits_.max_steps) + " steps");
    }
  }

  void emit(std::string_view text) {
    out_->append(text);
    const size_t limit = capturing_ > 0 ? limits_.max_value_bytes : limits_.max_output_bytes;
    if (out_->size() > limit) {
      throw TemplateError(TemplateError::Kind::Limit,
                          "chat template output exceeds " + std::to_string(limit) + " bytes");
    }
  }

  Value lookup(const std::string& name) const {
    for (auto frame = scopes_.rbegin(); frame != scopes_.rend(); ++frame) {
      for (const auto& [key, value] : *frame) {
        if (key == name) return value;
      }
    }
    return Value();
  }

  void assign(const std::string& name, Value value) {
    Frame& frame = scopes_.back();
    for (auto& [key, existing] : frame) {
      if (key == name) {
        existing = std::move(value);
        return;
      }
    }
    frame.emplace_back(name, std::move(value));
  }

  // Runs `body` with output captured into a string (macros, set blocks).
  template <typename Body>
  std::string capture(Body body) {
    std::string captured;
    std::string* saved = out_;
    out_ = &captured;
    ++capturing_;
    try {
      body();
    } catch (...) {
      out_ = saved;
      --capturing_;
      throw;
    }
    out_ = saved;
    --capturing_;
    return captured;
  }

  // ---- statements ----
  Flow exec_list(const StmtList& list) {
    for (const auto& stmt : list) {
      const Flow flow = exec_with_line(*stmt);
      if (flow != Flow::Normal) return flow;
    }
    return Flow::Normal;
  }

  // Runtime errors get the line of the statement that raised them.
  Flow exec_with_line(const Stmt& stmt) {
    try {
      return exec(stmt);
    } catch (const TemplateError& e) {
      const std::string message = e.what();
      if (e.kind() != TemplateError::Kind::Runtime || message.rfind("chat template", 0) == 0) throw;
      throw TemplateError(e.kind(), "chat template line " + std::to_string(stmt.line) + ": " + message);
    }
  }

  Flow exec(const Stmt& stmt) {
    tick();
    switch (stmt.kind) {
      case StmtKind::Text: emit(stmt.text); return Flow::Normal;
      case StmtKind::Output: emit(eval(*stmt.expr).to_string()); return Flow::Normal;
      case StmtKind::If:
        for (const auto& [condition, body] : stmt.branches) {
          if (eval(*condition).truthy()) return exec_list(body);
        }
        return exec_list(stmt.else_body);
      case StmtKind::For: return exec_for(stmt);
      case StmtKind::Set: exec_set(stmt); return Flow::Normal;
      case StmtKind::SetBlock: {
        std::string text = capture([&] { exec_list(stmt.body); });
        assign(stmt.targets[0], Value(std::move(text)));
        return Flow::Normal;
      }
      case StmtKind::Macro: define_macro(stmt); return Flow::Normal;
      case StmtKind::Break: return Flow::Break;
      case StmtKind::Continue: return Flow::Continue;
    }
    return Flow::Normal;
  }

  void bind_targets(const std::vector<std::string>& targets, const Value& value) {
    if (targets.size() == 1) {
      assign(targets[0], value);
      return;
    }
    const ValueList items = iterate(value);
    if (items.size() != targets.size()) {
      runtime_error("cannot unpack " + std::to_string(items.size()) + " values into " +
                    std::to_string(targets.size()) + " names");
    }
    for (size_t i = 0; i < targets.size(); ++i) assign(targets[i], items[i]);
  }

  ValueList loop_items(const Stmt& stmt) {
    ValueList all = iterate(eval(*stmt.expr));
    if (!stmt.filter) return all;
    ValueList kept;
    for (Value& item : all) {
      tick();
      scopes_.emplace_back();
      bind_targets(stmt.targets, item);
      const bool keep = eval(*stmt.filter).truthy();
      scopes_.pop_back();
      if (keep) kept.push_back(std::move(item));
    }
    return kept;
  }

  static Value loop_object(const ValueList& items, size_t i) {
    const auto n = static_cast<int64_t>(items.size());
    const auto index = static_cast<int64_t>(i);
    ValueMap loop;
    loop.items = {
        {"index0", Value(index)},
        {"index", Value(index + 1)},
        {"revindex0", Value(n - index - 1)},
        {"revindex", Value(n - index)},
        {"first", Value(i == 0)},
        {"last", Value(index == n - 1)},
        {"length", Value(n)},
        {"depth", Value(1)},
        {"depth0", Value(0)},
        {"previtem", i > 0 ? items[i - 1] : Value()},
        {"nextitem", index + 1 < n ? items[i + 1] : Value()},
        {"cycle", Value::function([index](CallArgs& args) {
           return args.positional.empty() ? Value()
                                          : args.positional[static_cast<size_t>(index) % args.positional.size()];
         })},
    };
    return Value(std::move(loop));
  }

  Flow exec_for(const Stmt& stmt) {
    const ValueList items = loop_items(stmt);
    for (size_t i = 0; i < items.size(); ++i) {
      tick();
      scopes_.emplace_back();
      bind_targets(stmt.targets, items[i]);
      assign("loop", loop_object(items, i));
      Flow flow = Flow::Normal;
      try {
        flow = exec_list(stmt.body);
      } catch (...) {
        scopes_.pop_back();
        throw;
      }
      scopes_.pop_back();
      if (flow == Flow::Break) break;
    }
    if (items.empty()) return exec_list(stmt.else_body);
    return Flow::Normal;
  }

  void exec_set(const Stmt& stmt) {
    Value value = eval(*stmt.expr);
    if (stmt.attribute.empty()) {
      bind_targets(stmt.targets, value);
      return;
    }
    const Value target = lookup(stmt.targets[0]);
    if (!target.is_map() || !target.as_map().is_namespace) {
      runtime_error("only namespace() objects take attribute assignment ('" + stmt.targets[0] + "' is a " +
                    target.type_name() + ")");
    }
    target.mutable_map().set(stmt.attribute, std::move(value));
  }

  void define_macro(const Stmt& stmt) {
    const Stmt* macro = &stmt;
    assign(stmt.targets[0], Value::function([this, macro](CallArgs& args) { return call_macro(*macro, args); }));
  }

  Value call_macro(const Stmt& macro, CallArgs& args) {
    if (call_depth_ >= limits_.max_call_depth) {
      throw TemplateError(TemplateError::Kind::Limit, "chat template macros nest more than " +
                                                          std::to_string(limits_.max_call_depth) + " calls deep");
    }
    Frame frame;
    for (size_t i = 0; i < macro.params.size(); ++i) {
      const auto& [name, default_value] = macro.params[i];
      Value v = args.get(i, name);
      if (v.is_undefined() && default_value) v = eval(*default_value);
      frame.emplace_back(name, std::move(v));
    }
    ++call_depth_;
    scopes_.push_back(std::move(frame));
    std::string text;
    try {
      text = capture([&] { exec_list(macro.body); });
    } catch (...) {
      scopes_.pop_back();
      --call_depth_;
      throw;
    }
    scopes_.pop_back();
    --call_depth_;
    return Value(std::move(text));
  }

  // ---- expressions ----
  CallArgs eval_args(const Expr& call) {
    CallArgs args;
    for (const ExprPtr& item : call.items) args.positional.push_back(eval(*item));
    for (const auto& [name, value] : call.kwargs) args.keyword.emplace_back(name, eval(*value));
    return args;
  }

  Value eval(const Expr& e) {
    switch (e.kind) {
      case ExprKind::Literal: return e.literal;
      case ExprKind::Name: return lookup(e.name);
      case ExprKind::List: {
        ValueList items;
        for (const ExprPtr& item : e.items) items.push_back(eval(*item));
        return Value(std::move(items));
      }
      case ExprKind::Map: {
        ValueMap map;
        for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
          map.set(eval(*e.items[i]).to_string(), eval(*e.items[i + 1]));
        }
        return Value(std::move(map));
      }
      case ExprKind::GetAttr: {
        const Value object = eval(*e.a);
        if (!object.is_map()) return Value();
        const Value* found = object.as_map().find(e.name);
        return found ? *found : Value();
      }
      case ExprKind::GetItem: return get_item(eval(*e.a), eval(*e.b));
      case ExprKind::Slice: return slice(e);
      case ExprKind::Call: return call(e);
      case ExprKind::Filter: return apply_filter(e.name, eval(*e.a), eval_args(e), limits_);
      case ExprKind::Test: return Value(apply_test(e.name, eval(*e.a), eval_args(e)) != e.negated);
      case ExprKind::Unary: return unary(e.name, eval(*e.a));
      case ExprKind::Binary: return binary(e);
      case ExprKind::Conditional:
        if (eval(*e.a).truthy()) return eval(*e.b);
        return e.c ? eval(*e.c) : Value();
    }
    return Value();
  }

  static Value get_item(const Value& object, const Value& key) {
    if (object.is_map()) {
      if (!key.is_string()) return Value();
      const Value* found = object.as_map().find(key.as_string());
      return found ? *found : Value();
    }
    if (!(key.is_int() || key.is_bool()) || !(object.is_list() || object.is_string())) return Value();
    if (object.is_list()) {
      const ValueList& list = object.as_list();
      const int64_t n = static_cast<int64_t>(list.size());
      const int64_t i = key.as_int() < 0 ? key.as_int() + n : key.as_int();
      return i >= 0 && i < n ? list[static_cast<size_t>(i)] : Value();
    }
    const std::vector<std::string> chars = split_codepoints(object.as_string());
    const int64_t n = static_cast<int64_t>(chars.size());
    const int64_t i = key.as_int() < 0 ? key.as_int() + n : key.as_int();
    return i >= 0 && i < n ? Value(chars[static_cast<size_t>(i)]) : Value();
  }

  std::optional<int64_t> slice_bound(const ExprPtr& bound) {
    if (!bound) return std::nullopt;
    const Value v = eval(*bound);
    if (v.is_none() || v.is_undefined()) return std::nullopt;
    if (!v.is_int() && !v.is_bool()) runtime_error(std::string("slice bounds must be integers, got a ") + v.type_name());
    return v.as_int();
  }

  Value slice(const Expr& e) {
    const Value object = eval(*e.a);
    const auto start = slice_bound(e.items[0]);
    const auto stop = slice_bound(e.items[1]);
    const auto step = slice_bound(e.items[2]);
    if (object.is_list()) {
      const ValueList& list = object.as_list();
      ValueList out;
      for (const size_t i : slice_indexes(list.size(), start, stop, step)) out.push_back(list[i]);
      return Value(std::move(out));
    }
    if (object.is_string()) {
      const std::vector<std::string> chars = split_codepoints(object.as_string());
      std::string out;
      for (const size_t i : slice_indexes(chars.size(), start, stop, step)) out += chars[i];
      return Value(std::move(out));
    }
    if (object.is_undefined()) return Value();
    runtime_error(std::string("cannot slice a ") + object.type_name());
  }

  Value call(const Expr& e) {
    tick();
    if (e.a->kind == ExprKind::GetAttr) {
      const Value object = eval(*e.a->a);
      const Value* member = object.is_map() ? object.as_map().find(e.a->name) : nullptr;
      if (member == nullptr) {
        CallArgs args = eval_args(e);
        if (std::optional<Value> result = call_method(object, e.a->name, args, limits_)) return std::move(*result);
        runtime_error(std::string("a ") + object.type_name() + " has no method '" + e.a->name + "'");
      }
      return call_value(*member, e);
    }
    return call_value(eval(*e.a), e);
  }

  Value call_value(const Value& callee, const Expr& e) {
    if (!callee.is_function()) runtime_error(std::string("a ") + callee.type_name() + " cannot be called");
    CallArgs args = eval_args(e);
    return callee.as_function()(args);
  }

  static Value unary(const std::string& op, const Value& v) {
    if (op == "not") return Value(!v.truthy());
    if (!v.is_number()) runtime_error("unary '" + op + "' needs a number, got a " + v.type_name());
    if (op == "+") return v.is_float() ? v : Value(v.as_int());
    if (v.is_float()) return Value(-v.as_float());
    return Value(checked_multiply(v.as_int(), -1));
  }

  static bool contains(const Value& container, const Value& item) {
    switch (container.kind()) {
      case Value::Kind::String:
        if (!item.is_string()) runtime_error(std::string("'in <string>' needs a string, got a ") + item.type_name());
        return container.as_string().find(item.as_string()) != std::string::npos;
      case Value::Kind::List:
        for (const Value& v : container.as_list()) {
          if (values_equal(v, item)) return true;
        }
        return false;
      case Value::Kind::Map: return item.is_string() && container.as_map().find(item.as_string()) != nullptr;
      case Value::Kind::Undefined: return false;
      default: runtime_error(std::string("'in' needs a string, list or mapping, got a ") + container.type_name());
    }
  }

  Value binary(const Expr& e) {
    const std::string& op = e.name;
    if (op == "and") {
      Value left = eval(*e.a);
      return left.truthy() ? eval(*e.b) : left;
    }
    if (op == "or") {
      Value left = eval(*e.a);
      return left.truthy() ? left : eval(*e.b);
    }
    const Value a = eval(*e.a);
    const Value b = eval(*e.b);
    if (op == "==") return Value(values_equal(a, b));
    if (op == "!=") return Value(!values_equal(a, b));
    if (op == "<") return Value(compare_values(a, b) < 0);
    if (op == "<=") return Value(compare_values(a, b) <= 0);
    if (op == ">") return Value(compare_values(a, b) > 0);
    if (op == ">=") return Value(compare_values(a, b) >= 0);
    if (op == "in") return Value(contains(b, a));
    if (op == "not in") return Value(!contains(b, a));
    if (op == "~") {
      std::string s = a.to_string() + b.to_string();
      check_string_size(s.size(), limits_);
      return Value(std::move(s));
    }
    if (op == "+") return add(a, b);
    if (op == "*") return multiply(a, b);
    return arithmetic(op, a, b);
  }

  Value add(const Value& a, const Value& b) const {
    if (both_ints(a, b)) return Value(checked_add(a.as_int(), b.as_int()));
    if (a.is_number() && b.is_number()) return Value(a.as_float() + b.as_float());
    if (a.is_string() && b.is_string()) {
      check_string_size(a.as_string().size() + b.as_string().size(), limits_);
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list()) {
      check_list_size(a.as_list().size() + b.as_list().size(), limits_);
      ValueList out = a.as_list();
      out.insert(out.end(), b.as_list().begin(), b.as_list().end());
      return Value(std::move(out));
    }
    type_error("+", a, b);
  }

  Value multiply(const Value& a, const Value& b) const {
    if (both_ints(a, b)) return Value(checked_multiply(a.as_int(), b.as_int()));
    if (a.is_number() && b.is_number()) return Value(a.as_float() * b.as_float());
    const Value& seq = (a.is_string() || a.is_list()) ? a : b;
    const Value& count = (a.is_string() || a.is_list()) ? b : a;
    if (!(seq.is_string() || seq.is_list()) || !(count.is_int() || count.is_bool())) type_error("*", a, b);
    const size_t n = count.as_int() > 0 ? static_cast<size_t>(count.as_int()) : 0;
    if (seq.is_string()) {
      const std::string& s = seq.as_string();
      if (!s.empty() && n > limits_.max_value_bytes / s.size()) check_string_size(limits_.max_value_bytes + 1, limits_);
      std::string out;
      for (size_t i = 0; i < n; ++i) out += s;
      return Value(std::move(out));
    }
    const ValueList& list = seq.as_list();
    if (!list.empty() && n > limits_.max_list_items / list.size()) check_list_size(limits_.max_list_items + 1, limits_);
    ValueList out;
    for (size_t i = 0; i < n; ++i) out.insert(out.end(), list.begin(), list.end());
    return Value(std::move(out));
  }

  static Value arithmetic(const std::string& op, const Value& a, const Value& b) {
    if (!a.is_number() || !b.is_number()) type_error(op.c_str(), a, b);
    if (op == "-") {
      if (both_ints(a, b)) {
        if (b.as_int() == INT64_MIN) runtime_error("integer overflow");
        return Value(checked_add(a.as_int(), -b.as_int()));
      }
      return Value(a.as_float() - b.as_float());
    }
    if (op == "**") return power(a, b);
    if (b.as_float() == 0.0) runtime_error("division by zero");
    if (op == "/") return Value(a.as_float() / b.as_float());
    if (both_ints(a, b)) {
      const int64_t x = a.as_int(), y = b.as_int();
      if (x == INT64_MIN && y == -1) runtime_error("integer overflow");
      const int64_t q = x / y, r = x % y;
      const bool adjust = r != 0 && ((r < 0) != (y < 0));  // Python rounds toward negative infinity
      if (op == "//") return Value(adjust ? q - 1 : q);
      return Value(adjust ? r + y : r);
    }
    const double x = a.as_float(), y = b.as_float();
    if (op == "//") return Value(std::floor(x / y));
    double r = std::fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return Value(r);
  }

  static Value power(const Value& a, const Value& b) {
    if (!both_ints(a, b) || b.as_int() < 0) return Value(std::pow(a.as_float(), b.as_float()));
    const int64_t base = a.as_int(), exponent = b.as_int();
    if (base == 0) return Value(exponent == 0 ? int64_t{1} : int64_t{0});
    if (base == 1) return Value(int64_t{1});
    if (base == -1) return Value(exponent % 2 == 0 ? int64_t{1} : int64_t{-1});
    if (exponent > 63) runtime_error("integer overflow");  // |base| >= 2
    int64_t result = 1;
    for (int64_t i = 0; i < exponent; ++i) result = checked_multiply(result, base);
    return Value(result);
  }

  const RenderLimits& limits_;
  std::string* out_;
  std::vector<Frame> scopes_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  int capturing_ = 0;
};

}  // namespace

std::string render_template(const StmtList& program, const ValueMap& variables, const RenderLimits& limits) {
  std::string out;
  Renderer(limits, out).run(program, variables);
  return out;
}

}  // namespace sieve::tokenizer::jinja
