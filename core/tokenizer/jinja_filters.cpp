// Builtin filters and tests.

#include <algorithm>
#include <charconv>
#include <cmath>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_text.h"

namespace sieve::tokenizer::jinja {
namespace {

using FilterFn = Value (*)(const Value& input, const CallArgs& args, const RenderLimits& limits);

const std::string& require_string(const Value& v, const char* filter) {
  if (!v.is_string()) runtime_error(std::string("the ") + filter + " filter needs a string, got a " + v.type_name());
  return v.as_string();
}

bool flag(const CallArgs& args, size_t index, std::string_view name, bool fallback) {
  const Value& v = args.get(index, name);
  return v.is_undefined() ? fallback : v.truthy();
}

bool parse_index(const std::string& text, size_t& index) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

// value.attr or value["attr"]; dotted paths walk into nested maps, numbers index lists.
Value attribute_of(const Value& value, const std::string& path) {
  Value current = value;
  size_t from = 0;
  while (true) {
    const size_t dot = path.find('.', from);
    const std::string part = path.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
    if (current.is_map()) {
      const Value* found = current.as_map().find(part);
      current = found ? *found : Value();
    } else if (size_t index = 0; current.is_list() && parse_index(part, index)) {
      current = index < current.as_list().size() ? current.as_list()[index] : Value();
    } else {
      current = Value();
    }
    if (dot == std::string::npos) return current;
    from = dot + 1;
  }
}

const std::string& attribute_arg(const CallArgs& args, size_t index, const char* filter) {
  const Value& v = args.get(index, "attribute");
  if (!v.is_string()) runtime_error(std::string("the ") + filter + " filter needs an attribute name");
  return v.as_string();
}

// Arguments after the first `skip` positional ones, for a nested test or filter.
CallArgs rest_of(const CallArgs& args, size_t skip) {
  CallArgs rest;
  for (size_t i = skip; i < args.positional.size(); ++i) rest.positional.push_back(args.positional[i]);
  return rest;
}

// Sorting key: strings compare case-insensitively unless asked otherwise.
Value sort_key(const Value& v, bool case_sensitive) {
  if (v.is_string() && !case_sensitive) return Value(ascii_lower(v.as_string()));
  return v;
}

Value f_abs(const Value& in, const CallArgs&, const RenderLimits&) {
  if (in.is_float()) return Value(std::fabs(in.as_float()));
  if (in.is_int() || in.is_bool()) {
    if (in.as_int() == INT64_MIN) runtime_error("abs() overflows");
    return Value(in.as_int() < 0 ? -in.as_int() : in.as_int());
  }
  runtime_error(std::string("abs needs a number, got a ") + in.type_name());
}

Value f_attr(const Value& in, const CallArgs& args, const RenderLimits&) {
  const Value& name = args.get(0, "name");
  return name.is_string() ? attribute_of(in, name.as_string()) : Value();
}

Value f_capitalize(const Value& in, const CallArgs&, const RenderLimits&) {
  return Value(capitalize(require_string(in, "capitalize")));
}

Value f_default(const Value& in, const CallArgs& args, const RenderLimits&) {
  const bool use_for_falsy = flag(args, 1, "boolean", false);
  if (in.is_undefined() || (use_for_falsy && !in.truthy())) {
    const Value& fallback = args.get(0, "default_value");
    return fallback.is_undefined() ? Value(std::string()) : fallback;
  }
  return in;
}

Value f_dictsort(const Value& in, const CallArgs& args, const RenderLimits&) {
  if (!in.is_map()) runtime_error("dictsort needs a mapping");
  const bool case_sensitive = flag(args, 0, "case_sensitive", false);
  const Value& by = args.get(1, "by");
  const bool by_value = by.is_string() && by.as_string() == "value";
  const bool reverse = flag(args, 2, "reverse", false);
  auto items = in.as_map().items;
  std::stable_sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
    const Value ka = sort_key(by_value ? a.second : Value(a.first), case_sensitive);
    const Value kb = sort_key(by_value ? b.second : Value(b.first), case_sensitive);
    return reverse ? compare_values(kb, ka) < 0 : compare_values(ka, kb) < 0;
  });
  ValueList out;
  for (auto& [key, value] : items) out.emplace_back(ValueList{Value(key), value});
  return Value(std::move(out));
}

Value f_escape(const Value& in, const CallArgs&, const RenderLimits&) { return Value(html_escape(in.to_string())); }

Value f_first(const Value& in, const CallArgs&, const RenderLimits&) {
  const ValueList items = iterate(in);
  return items.empty() ? Value() : items.front();
}

Value f_last(const Value& in, const CallArgs&, const RenderLimits&) {
  const ValueList items = iterate(in);
  return items.empty() ? Value() : items.back();
}

Value f_float(const Value& in, const CallArgs& args, const RenderLimits&) {
  if (in.is_number()) return Value(in.as_float());
  if (in.is_string()) {
    const std::string text = strip(in.as_string(), std::nullopt, true, true);
    double d = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec == std::errc() && ptr == text.data() + text.size() && !text.empty()) return Value(d);
  }
  const Value& fallback = args.get(0, "default");
  return fallback.is_undefined() ? Value(0.0) : fallback;
}

Value f_int(const Value& in, const CallArgs& args, const RenderLimits&) {
  if (in.is_int() || in.is_bool()) return Value(in.as_int());
  if (in.is_float() && std::isfinite(in.as_float()) && std::fabs(in.as_float()) < 9.2e18) {
    return Value(static_cast<int64_t>(in.as_float()));
  }
  if (in.is_string()) {
    const std::string text = strip(in.as_string(), std::nullopt, true, true);
    int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && ptr == text.data() + text.size() && !text.empty()) return Value(v);
  }
  const Value& fallback = args.get(0, "default");
  return fallback.is_undefined() ? Value(0) : fallback;
}

Value f_indent(const Value& in, const CallArgs& args, const RenderLimits& limits) {
  const Value& width_value = args.get(0, "width");
  const std::string pad = width_value.is_string() ? width_value.as_string()
                          : width_value.is_int()  ? std::string(static_cast<size_t>(std::clamp<int64_t>(width_value.as_int(), 0, 1000)), ' ')
                                                  : std::string(4, ' ');
  const bool first = flag(args, 1, "first", false);
  const bool blank = flag(args, 2, "blank", false);
  const std::string& s = require_string(in, "indent");
  std::string out;
  size_t from = 0;
  bool first_line = true;
  while (from <= s.size()) {
    const size_t nl = s.find('\n', from);
    const std::string line = s.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
    if ((first_line ? first : true) && (blank || !line.empty())) out += pad;
    out += line;
    if (nl == std::string::npos) break;
    out += '\n';
    from = nl + 1;
    first_line = false;
    check_string_size(out.size(), limits);
  }
  return Value(std::move(out));
}

Value f_items(const Value& in, const CallArgs&, const RenderLimits& limits) {
  if (in.is_undefined()) return Value(ValueList{});
  if (!in.is_map()) runtime_error("items needs a mapping");
  return *call_method(in, "items", CallArgs{}, limits);
}

Value f_join(const Value& in, const CallArgs& args, const RenderLimits& limits) {
  const Value& separator = args.get(0, "d");
  const Value& attribute = args.get(1, "attribute");
  const std::string sep = separator.is_undefined() ? "" : separator.to_string();
  std::string out;
  bool first = true;
  for (const Value& item : iterate(in)) {
    if (!first) out += sep;
    first = false;
    out += (attribute.is_string() ? attribute_of(item, attribute.as_string()) : item).to_string();
    check_string_size(out.size(), limits);
  }
  return Value(std::move(out));
}

Value f_length(const Value& in, const CallArgs&, const RenderLimits&) {
  switch (in.kind()) {
    case Value::Kind::String: return Value(static_cast<int64_t>(codepoint_count(in.as_string())));
    case Value::Kind::List: return Value(static_cast<int64_t>(in.as_list().size()));
    case Value::Kind::Map: return Value(static_cast<int64_t>(in.as_map().items.size()));
    case Value::Kind::Undefined: return Value(0);
    default: runtime_error(std::string("a ") + in.type_name() + " has no length");
  }
}

Value f_list(const Value& in, const CallArgs&, const RenderLimits&) { return Value(iterate(in)); }

Value f_lower(const Value& in, const CallArgs&, const RenderLimits&) { return Value(ascii_lower(in.to_string())); }
Value f_upper(const Value& in, const CallArgs&, const RenderLimits&) { return Value(ascii_upper(in.to_string())); }
Value f_title(const Value& in, const CallArgs&, const RenderLimits&) { return Value(jinja_title(in.to_string())); }
Value f_string(const Value& in, const CallArgs&, const RenderLimits&) { return Value(in.to_string()); }
Value f_safe(const Value& in, const CallArgs&, const RenderLimits&) { return in; }

Value f_map(const Value& in, const CallArgs& args, const RenderLimits& limits) {
  ValueList out;
  const Value& attribute = args.get(99, "attribute");
  if (attribute.is_string()) {
    const Value& fallback = args.get(99, "default");
    for (const Value& item : iterate(in)) {
      Value v = attribute_of(item, attribute.as_string());
      out.push_back(v.is_undefined() && !fallback.is_undefined() ? fallback : v);
    }
    return Value(std::move(out));
  }
  const Value& filter = args.get(0, "");
  if (!filter.is_string() || !is_known_filter(filter.as_string())) runtime_error("map needs a filter name or attribute=");
  const CallArgs rest = rest_of(args, 1);
  for (const Value& item : iterate(in)) out.push_back(apply_filter(filter.as_string(), item, rest, limits));
  return Value(std::move(out));
}

Value min_or_max(const Value& in, const CallArgs& args, bool want_max) {
  const bool case_sensitive = flag(args, 0, "case_sensitive", false);
  const Value& attribute = args.get(1, "attribute");
  Value best;
  Value best_key;
  for (const Value& item : iterate(in)) {
    Value key = sort_key(attribute.is_string() ? attribute_of(item, attribute.as_string()) : item, case_sensitive);
    if (best.is_undefined() || (want_max ? compare_values(key, best_key) > 0 : compare_values(key, best_key) < 0)) {
      best = item;
      best_key = std::move(key);
    }
  }
  return best;
}

Value f_max(const Value& in, const CallArgs& args, const RenderLimits&) { return min_or_max(in, args, true); }
Value f_min(const Value& in, const CallArgs& args, const RenderLimits&) { return min_or_max(in, args, false); }

// select / reject: items passing (or failing) a test; without a test, truthiness.
Value select_items(const Value& in, const CallArgs& args, bool keep_passing, bool by_attribute) {
  ValueList out;
  const size_t test_index = by_attribute ? 1 : 0;
  const Value& test = args.get(test_index, "");
  const CallArgs rest = rest_of(args, test_index + 1);
  const std::string attribute = by_attribute ? attribute_arg(args, 0, "selectattr") : "";
  if (test.is_string() && !is_known_test(test.as_string())) runtime_error("unknown test '" + test.as_string() + "'");
  for (const Value& item : iterate(in)) {
    const Value subject = by_attribute ? attribute_of(item, attribute) : item;
    const bool passes = test.is_string() ? apply_test(test.as_string(), subject, rest) : subject.truthy();
    if (passes == keep_passing) out.push_back(item);
  }
  return Value(std::move(out));
}

Value f_select(const Value& in, const CallArgs& a, const RenderLimits&) { return select_items(in, a, true, false); }
Value f_reject(const Value& in, const CallArgs& a, const RenderLimits&) { return select_items(in, a, false, false); }
Value f_selectattr(const Value& in, const CallArgs& a, const RenderLimits&) { return select_items(in, a, true, true); }
Value f_rejectattr(const Value& in, const CallArgs& a, const RenderLimits&) { return select_items(in, a, false, true); }

Value f_replace(const Value& in, const CallArgs& args, const RenderLimits& limits) {
  const Value& count = args.get(2, "count");
  return Value(replace_all(require_string(in, "replace"), args.get(0, "old").to_string(),
                           args.get(1, "new").to_string(), count.is_int() ? count.as_int() : -1, limits));
}

Value f_reverse(const Value& in, const CallArgs&, const RenderLimits&) {
  ValueList items = iterate(in);
  std::reverse(items.begin(), items.end());
  if (!in.is_string()) return Value(std::move(items));
  std::string out;
  for (const Value& c : items) out += c.as_string();
  return Value(std::move(out));
}

Value f_round(const Value& in, const CallArgs& args, const RenderLimits&) {
  if (!in.is_number()) runtime_error(std::string("round needs a number, got a ") + in.type_name());
  const Value& precision_value = args.get(0, "precision");
  const int64_t precision = precision_value.is_int() ? std::clamp<int64_t>(precision_value.as_int(), -15, 15) : 0;
  const Value& method = args.get(1, "method");
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = in.as_float() * scale;
  const std::string m = method.is_string() ? method.as_string() : "common";
  // "common" is Python's round(): halves go to the even neighbour (the default FP rounding mode).
  const double r = m == "ceil" ? std::ceil(x) : m == "floor" ? std::floor(x) : std::nearbyint(x);
  return Value(r / scale);
}

Value f_sort(const Value& in, const CallArgs& args, const RenderLimits&) {
  const bool reverse = flag(args, 0, "reverse", false);
  const bool case_sensitive = flag(args, 1, "case_sensitive", false);
  const Value& attribute = args.get(2, "attribute");
  ValueList items = iterate(in);
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    const Value ka = sort_key(attribute.is_string() ? attribute_of(a, attribute.as_string()) : a, case_sensitive);
    const Value kb = sort_key(attribute.is_string() ? attribute_of(b, attribute.as_string()) : b, case_sensitive);
    return reverse ? compare_values(kb, ka) < 0 : compare_values(ka, kb) < 0;
  });
  return Value(std::move(items));
}

Value f_sum(const Value& in, const CallArgs& args, const RenderLimits&) {
  const Value& attribute = args.get(0, "attribute");
  const Value& start = args.get(1, "start");
  bool is_float = start.is_float();
  double float_total = start.is_number() ? start.as_float() : 0.0;
  int64_t int_total = start.is_number() && !start.is_float() ? start.as_int() : 0;
  for (const Value& item : iterate(in)) {
    const Value v = attribute.is_string() ? attribute_of(item, attribute.as_string()) : item;
    if (!v.is_number()) runtime_error(std::string("sum needs numbers, got a ") + v.type_name());
    if (v.is_float()) is_float = true;
    float_total += v.as_float();
    if (!v.is_float()) int_total = checked_add(int_total, v.as_int());
  }
  return is_float ? Value(float_total) : Value(int_total);
}

Value f_tojson(const Value& in, const CallArgs& args, const RenderLimits& limits) {
  const Value& indent = args.get(0, "indent");
  std::string json = in.to_json(indent.is_int() ? static_cast<int>(std::clamp<int64_t>(indent.as_int(), 0, 64)) : -1);
  check_string_size(json.size(), limits);
  return Value(std::move(json));
}

Value f_trim(const Value& in, const CallArgs& args, const RenderLimits&) {
  const Value& chars = args.get(0, "chars");
  return Value(strip(in.to_string(), chars.is_string() ? std::optional(chars.as_string()) : std::nullopt, true, true));
}

Value f_unique(const Value& in, const CallArgs& args, const RenderLimits&) {
  const bool case_sensitive = flag(args, 0, "case_sensitive", false);
  ValueList out;
  ValueList keys;
  for (const Value& item : iterate(in)) {
    const Value key = sort_key(item, case_sensitive);
    if (std::none_of(keys.begin(), keys.end(), [&](const Value& k) { return values_equal(k, key); })) {
      keys.push_back(key);
      out.push_back(item);
    }
  }
  return Value(std::move(out));
}

Value f_wordcount(const Value& in, const CallArgs&, const RenderLimits&) {
  return Value(static_cast<int64_t>(split_whitespace(in.to_string(), -1).size()));
}

struct NamedFilter {
  std::string_view name;
  FilterFn fn;
};

constexpr NamedFilter kFilters[] = {
    {"abs", f_abs},         {"attr", f_attr},         {"capitalize", f_capitalize},
    {"count", f_length},    {"d", f_default},         {"default", f_default},
    {"dictsort", f_dictsort}, {"e", f_escape},        {"escape", f_escape},
    {"first", f_first},     {"float", f_float},       {"forceescape", f_escape},
    {"indent", f_indent},   {"int", f_int},           {"items", f_items},
    {"join", f_join},       {"last", f_last},         {"length", f_length},
    {"list", f_list},       {"lower", f_lower},       {"map", f_map},
    {"max", f_max},         {"min", f_min},           {"reject", f_reject},
    {"rejectattr", f_rejectattr}, {"replace", f_replace}, {"reverse", f_reverse},
    {"round", f_round},     {"safe", f_safe},         {"select", f_select},
    {"selectattr", f_selectattr}, {"sort", f_sort},   {"string", f_string},
    {"sum", f_sum},         {"title", f_title},       {"tojson", f_tojson},
    {"trim", f_trim},       {"unique", f_unique},     {"upper", f_upper},
    {"wordcount", f_wordcount},
};

const NamedFilter* find_filter(std::string_view name) {
  for (const NamedFilter& f : kFilters) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool is_integer_value(const Value& v) { return v.is_int(); }

constexpr std::string_view kTests[] = {
    "defined", "undefined", "none", "boolean", "true", "false", "integer", "float", "number", "string",
    "mapping", "iterable", "sequence", "callable", "even", "odd", "divisibleby", "eq", "equalto", "==",
    "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in",
    "lower", "upper", "sameas", "escaped",
};

}  // namespace

bool is_known_filter(std::string_view name) { return find_filter(name) != nullptr; }

bool is_known_test(std::string_view name) {
  return std::find(std::begin(kTests), std::end(kTests), name) != std::end(kTests);
}

Value apply_filter(std::string_view name, const Value& input, const CallArgs& args, const RenderLimits& limits) {
  const NamedFilter* filter = find_filter(name);
  if (filter == nullptr) runtime_error("unknown filter '" + std::string(name) + "'");
  return filter->fn(input, args, limits);
}

bool apply_test(std::string_view name, const Value& v, const CallArgs& args) {
  const Value& arg = args.get(0, "");
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return is_integer_value(v);
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_map();
  if (name == "iterable" || name == "sequence") return v.is_list() || v.is_map() || v.is_string();
  if (name == "callable") return v.is_function();
  if (name == "even" || name == "odd") {
    if (!v.is_int()) return false;
    return (v.as_int() % 2 == 0) == (name == "even");
  }
  if (name == "divisibleby") return v.is_int() && arg.is_int() && arg.as_int() != 0 && v.as_int() % arg.as_int() == 0;
  if (name == "eq" || name == "equalto" || name == "==") return values_equal(v, arg);
  if (name == "ne" || name == "!=") return !values_equal(v, arg);
  if (name == "lt" || name == "lessthan" || name == "<") return compare_values(v, arg) < 0;
  if (name == "le" || name == "<=") return compare_values(v, arg) <= 0;
  if (name == "gt" || name == "greaterthan" || name == ">") return compare_values(v, arg) > 0;
  if (name == "ge" || name == ">=") return compare_values(v, arg) >= 0;
  if (name == "in") {
    for (const Value& item : iterate(arg)) {
      if (values_equal(item, v)) return true;
    }
    return arg.is_string() && v.is_string() && arg.as_string().find(v.as_string()) != std::string::npos;
  }
  if (name == "lower") return v.is_string() && ascii_lower(v.as_string()) == v.as_string();
  if (name == "upper") return v.is_string() && ascii_upper(v.as_string()) == v.as_string();
  if (name == "sameas") {
    if (v.is_none() || v.is_bool() || v.is_undefined()) return v.kind() == arg.kind() && values_equal(v, arg);
    return false;
  }
  if (name == "escaped") return false;
  runtime_error("unknown test '" + std::string(name) + "'");
}

}  // namespace sieve::tokenizer::jinja
