#pragma once
// Values of the Jinja-subset template language: what variables, expressions
// and filters produce. Python-like: None, bools, 64-bit ints, floats,
// strings, lists, ordered dicts (maps) and callables (builtins, macros).
//
// Lists and maps are shared, immutable after construction - except
// namespace() objects, which `{% set ns.x = ... %}` updates in place, as in
// Jinja.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "util/error.h"

namespace sieve::tokenizer::jinja {

class TemplateError : public Error {
 public:
  enum class Kind {
    Syntax,   // the template does not parse
    Runtime,  // an operation failed while rendering (wrong types, unknown method...)
    Raised,   // the template called raise_exception(message)
    Limit,    // output size, step count or nesting depth exceeded
  };
  TemplateError(Kind kind, const std::string& message) : Error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// Bounds that keep a hostile template from running forever or exhausting memory.
struct RenderLimits {
  size_t max_output_bytes = 16u << 20;  // rendered text
  size_t max_value_bytes = 16u << 20;   // any one string built while rendering
  size_t max_list_items = 1u << 20;     // any one list (range(), repetition, concatenation)
  uint64_t max_steps = 2'000'000;       // statements, loop iterations and calls executed
  int max_call_depth = 64;              // macro calls inside macro calls
};

inline constexpr int kMaxValueDepth = 64;  // lists and maps inside lists and maps

class Value;
struct CallArgs;
using ValueList = std::vector<Value>;

struct ValueMap {
  std::vector<std::pair<std::string, Value>> items;  // insertion order
  bool is_namespace = false;                          // namespace(): assignable attributes

  const Value* find(std::string_view key) const;
  // Adds or replaces; for a namespace, refuses namespaces and too-deep values.
  void set(std::string key, Value value);
};

// A builtin function or a macro; receives evaluated arguments.
using Function = std::function<Value(CallArgs&)>;

class Value {
 public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Map, Function };

  Value() = default;  // Undefined
  static Value none();
  Value(bool b) : data_(b) {}
  Value(int v) : data_(static_cast<int64_t>(v)) {}
  Value(int64_t v) : data_(v) {}
  Value(double v) : data_(v) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  // Containers know how deeply they nest (bounded by kMaxValueDepth, so
  // printing, comparing and freeing them cannot overflow the stack) and may
  // not hold namespace() objects (so no cycle can form). TemplateError (Limit
  // or Runtime) otherwise.
  Value(ValueList list);
  Value(ValueMap map);
  static Value function(Function fn);

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_undefined() const { return kind() == Kind::Undefined; }
  bool is_none() const { return kind() == Kind::None; }
  bool is_bool() const { return kind() == Kind::Bool; }
  bool is_int() const { return kind() == Kind::Int; }
  bool is_float() const { return kind() == Kind::Float; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind() == Kind::String; }
  bool is_list() const { return kind() == Kind::List; }
  bool is_map() const { return kind() == Kind::Map; }
  bool is_function() const { return kind() == Kind::Function; }
  bool is_namespace() const { return is_map() && as_map().is_namespace; }
  int depth() const { return depth_; }  // 0 for scalars, 1 + the deepest item for containers

  // Unchecked accessors: call only after the matching is_*().
  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return is_bool() ? (as_bool() ? 1 : 0) : std::get<int64_t>(data_); }
  double as_float() const;  // any number
  const std::string& as_string() const { return std::get<std::string>(data_); }
  const ValueList& as_list() const { return *std::get<std::shared_ptr<ValueList>>(data_); }
  const ValueMap& as_map() const { return *std::get<std::shared_ptr<ValueMap>>(data_); }
  ValueMap& mutable_map() const { return *std::get<std::shared_ptr<ValueMap>>(data_); }
  const Function& as_function() const { return *std::get<std::shared_ptr<Function>>(data_); }

  bool truthy() const;
  // Python's str(): what {{ value }} prints.
  std::string to_string() const;
  // Python's repr(): strings quoted (used inside printed lists and maps).
  std::string repr() const;
  // JSON text as Python's json.dumps with the default separators ", " and ": ".
  std::string to_json(int indent = -1) const;
  const char* type_name() const;

 private:
  struct NoneTag {};
  explicit Value(NoneTag tag) : data_(tag) {}
  int depth_ = 0;
  std::variant<std::monostate, NoneTag, bool, int64_t, double, std::string, std::shared_ptr<ValueList>,
               std::shared_ptr<ValueMap>, std::shared_ptr<Function>>
      data_;
};

// Arguments of a call: positional, then keyword.
struct CallArgs {
  ValueList positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // Positional `index`, else keyword `name`, else Undefined.
  const Value& get(size_t index, std::string_view name) const;
  size_t count() const { return positional.size() + keyword.size(); }
};

bool values_equal(const Value& a, const Value& b);
// -1, 0, 1; TemplateError for values Python cannot order (e.g. a string and a number).
int compare_values(const Value& a, const Value& b);

}  // namespace sieve::tokenizer::jinja
