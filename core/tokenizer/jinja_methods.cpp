// Methods of strings and maps, global functions, and the Python-style helpers
// the filters and the evaluator share.

#include <algorithm>
#include <cmath>
#include <ctime>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_text.h"
#include "tokenizer/unicode.h"

namespace sieve::tokenizer::jinja {

void runtime_error(const std::string& message) {
  throw TemplateError(TemplateError::Kind::Runtime, message);
}

void check_string_size(size_t bytes, const RenderLimits& limits) {
  if (bytes > limits.max_value_bytes) {
    throw TemplateError(TemplateError::Kind::Limit, "chat template built a string of more than " +
                                                        std::to_string(limits.max_value_bytes) + " bytes");
  }
}

void check_list_size(size_t items, const RenderLimits& limits) {
  if (items > limits.max_list_items) {
    throw TemplateError(TemplateError::Kind::Limit, "chat template built a list of more than " +
                                                        std::to_string(limits.max_list_items) + " items");
  }
}

int64_t checked_add(int64_t a, int64_t b) {
  if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) runtime_error("integer overflow");
  return a + b;
}

int64_t checked_multiply(int64_t a, int64_t b) {
  // Products below 9.2e18 in magnitude fit in int64 (max about 9.223e18).
  if (std::fabs(static_cast<double>(a) * static_cast<double>(b)) > 9.2e18) runtime_error("integer overflow");
  return a * b;
}

std::vector<std::string> split_codepoints(const std::string& s) {
  std::vector<std::string> out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    const size_t length = decode_utf8(s, pos).length;
    out.push_back(s.substr(pos, length));
    pos += length;
  }
  return out;
}

size_t codepoint_count(const std::string& s) {
  size_t count = 0;
  for (size_t pos = 0; pos < s.size(); pos += decode_utf8(s, pos).length) ++count;
  return count;
}

std::vector<size_t> slice_indexes(size_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                  std::optional<int64_t> step) {
  const int64_t n = static_cast<int64_t>(length);
  const int64_t s = step.value_or(1);
  if (s == 0) runtime_error("slice step cannot be zero");
  const int64_t lower = s > 0 ? 0 : -1;
  const int64_t upper = s > 0 ? n : n - 1;
  const auto resolve = [&](std::optional<int64_t> bound, int64_t fallback) {
    if (!bound) return fallback;
    int64_t i = *bound < 0 ? *bound + n : *bound;
    return std::clamp(i, lower, upper);
  };
  const int64_t first = resolve(start, s > 0 ? lower : upper);
  const int64_t last = resolve(stop, s > 0 ? upper : lower);
  std::vector<size_t> indexes;
  for (int64_t i = first; s > 0 ? i < last : i > last; i += s) indexes.push_back(static_cast<size_t>(i));
  return indexes;
}

ValueList iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List: return v.as_list();
    case Value::Kind::Map: {
      ValueList keys;
      for (const auto& item : v.as_map().items) keys.emplace_back(item.first);
      return keys;
    }
    case Value::Kind::String: {
      ValueList chars;
      for (std::string& c : split_codepoints(v.as_string())) chars.emplace_back(std::move(c));
      return chars;
    }
    default: runtime_error(std::string("cannot iterate over a ") + v.type_name());
  }
}

namespace {

const std::string& string_arg(const CallArgs& args, size_t index, std::string_view name, const char* method) {
  const Value& v = args.get(index, name);
  if (!v.is_string()) runtime_error(std::string(method) + "() needs a string argument, got a " + v.type_name());
  return v.as_string();
}

std::optional<std::string> optional_string_arg(const CallArgs& args, size_t index, std::string_view name) {
  const Value& v = args.get(index, name);
  if (v.is_undefined() || v.is_none()) return std::nullopt;
  if (!v.is_string()) runtime_error(std::string("expected a string argument, got a ") + v.type_name());
  return v.as_string();
}

// startswith / endswith accept one string or a tuple of them.
bool affix_matches(const std::string& s, const Value& affixes, bool at_start) {
  const auto one = [&](const Value& v) {
    if (!v.is_string()) runtime_error("startswith()/endswith() need strings");
    const std::string& a = v.as_string();
    if (a.size() > s.size()) return false;
    return at_start ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (affixes.is_list()) {
    for (const Value& v : affixes.as_list()) {
      if (one(v)) return true;
    }
    return false;
  }
  return one(affixes);
}

Value split_method(const std::string& s, const CallArgs& args, const RenderLimits& limits) {
  const std::optional<std::string> separator = optional_string_arg(args, 0, "sep");
  const Value& max_split_value = args.get(1, "maxsplit");
  const int64_t max_split = max_split_value.is_int() ? max_split_value.as_int() : -1;
  ValueList parts;
  if (separator) {
    if (separator->empty()) runtime_error("split() separator cannot be empty");
    size_t from = 0;
    for (size_t at = s.find(*separator); at != std::string::npos; at = s.find(*separator, from)) {
      if (max_split >= 0 && static_cast<int64_t>(parts.size()) >= max_split) break;
      parts.emplace_back(s.substr(from, at - from));
      from = at + separator->size();
    }
    parts.emplace_back(s.substr(from));
  } else {
    for (std::string& word : split_whitespace(s, max_split)) parts.emplace_back(std::move(word));
  }
  check_list_size(parts.size(), limits);
  return Value(std::move(parts));
}

std::optional<Value> string_method(const std::string& s, std::string_view name, const CallArgs& args,
                                   const RenderLimits& limits) {
  if (name == "strip") return Value(strip(s, optional_string_arg(args, 0, "chars"), true, true));
  if (name == "lstrip") return Value(strip(s, optional_string_arg(args, 0, "chars"), true, false));
  if (name == "rstrip") return Value(strip(s, optional_string_arg(args, 0, "chars"), false, true));
  if (name == "upper") return Value(ascii_upper(s));
  if (name == "lower") return Value(ascii_lower(s));
  if (name == "title") return Value(python_title(s));
  if (name == "capitalize") return Value(capitalize(s));
  if (name == "startswith") return Value(affix_matches(s, args.get(0, "prefix"), true));
  if (name == "endswith") return Value(affix_matches(s, args.get(0, "suffix"), false));
  if (name == "split") return split_method(s, args, limits);
  if (name == "splitlines") {
    ValueList lines;
    for (std::string& line : split_lines(s)) lines.emplace_back(std::move(line));
    return Value(std::move(lines));
  }
  if (name == "replace") {
    const Value& count = args.get(2, "count");
    std::string out = replace_all(s, string_arg(args, 0, "old", "replace"), string_arg(args, 1, "new", "replace"),
                                  count.is_int() ? count.as_int() : -1, limits);
    return Value(std::move(out));
  }
  if (name == "find") {
    const size_t at = s.find(string_arg(args, 0, "sub", "find"));
    return at == std::string::npos ? Value(-1) : Value(static_cast<int64_t>(codepoint_count(s.substr(0, at))));
  }
  if (name == "count") {
    const std::string& sub = string_arg(args, 0, "sub", "count");
    if (sub.empty()) return Value(static_cast<int64_t>(codepoint_count(s) + 1));
    int64_t n = 0;
    for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
    return Value(n);
  }
  if (name == "join") {
    std::string out;
    bool first = true;
    for (const Value& item : iterate(args.get(0, "iterable"))) {
      if (!first) out += s;
      first = false;
      out += item.to_string();
      check_string_size(out.size(), limits);
    }
    return Value(std::move(out));
  }
  if (name == "isspace") return Value(!s.empty() && strip(s, std::nullopt, true, true).empty());
  if (name == "isdigit" || name == "isalpha" || name == "isalnum") {
    if (s.empty()) return Value(false);
    for (size_t pos = 0; pos < s.size();) {
      const DecodedCodepoint d = decode_utf8(s, pos);
      const Category c = category_of(d.codepoint);
      const bool ok = name == "isdigit"   ? c == Category::Number
                      : name == "isalpha" ? c == Category::Letter
                                          : (c == Category::Number || c == Category::Letter);
      if (!ok) return Value(false);
      pos += d.length;
    }
    return Value(true);
  }
  if (name == "islower") return Value(s != ascii_upper(s) && s == ascii_lower(s));
  if (name == "isupper") return Value(s != ascii_lower(s) && s == ascii_upper(s));
  return std::nullopt;
}

std::optional<Value> map_method(const ValueMap& map, std::string_view name, const CallArgs& args) {
  if (name == "items") {
    ValueList items;
    for (const auto& [key, value] : map.items) items.emplace_back(ValueList{Value(key), value});
    return Value(std::move(items));
  }
  if (name == "keys") {
    ValueList keys;
    for (const auto& item : map.items) keys.emplace_back(item.first);
    return Value(std::move(keys));
  }
  if (name == "values") {
    ValueList values;
    for (const auto& item : map.items) values.push_back(item.second);
    return Value(std::move(values));
  }
  if (name == "get") {
    const Value& key = args.get(0, "key");
    const Value* found = key.is_string() ? map.find(key.as_string()) : nullptr;
    if (found != nullptr) return *found;
    const Value& fallback = args.get(1, "default");
    return fallback.is_undefined() ? Value::none() : fallback;
  }
  return std::nullopt;
}

Value range_function(const CallArgs& args, const RenderLimits& limits) {
  int64_t start = 0, stop = 0, step = 1;
  const auto int_arg = [&](size_t i) {
    const Value& v = args.positional[i];
    if (!v.is_int() && !v.is_bool()) runtime_error(std::string("range() needs integers, got a ") + v.type_name());
    return v.as_int();
  };
  if (args.positional.size() == 1) {
    stop = int_arg(0);
  } else if (args.positional.size() == 2 || args.positional.size() == 3) {
    start = int_arg(0);
    stop = int_arg(1);
    if (args.positional.size() == 3) step = int_arg(2);
  } else {
    runtime_error("range() takes 1 to 3 arguments");
  }
  if (step == 0) runtime_error("range() step cannot be zero");
  const double count = std::max(0.0, std::ceil((static_cast<double>(stop) - static_cast<double>(start)) /
                                               static_cast<double>(step)));
  check_list_size(static_cast<size_t>(std::min(count, 1e18)), limits);
  ValueList items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) items.emplace_back(i);
  return Value(std::move(items));
}

Value keyword_map(const CallArgs& args, bool is_namespace) {
  ValueMap map;
  map.is_namespace = is_namespace;
  if (!args.positional.empty()) {
    const Value& initial = args.positional[0];
    if (!initial.is_map()) runtime_error("namespace() and dict() take keyword arguments or one mapping");
    map.items = initial.as_map().items;
  }
  for (const auto& [key, value] : args.keyword) map.set(key, value);
  return Value(std::move(map));
}

Value strftime_now(const CallArgs& args) {
  const Value& format = args.get(0, "format");
  if (!format.is_string()) runtime_error("strftime_now() needs a format string");
  const std::time_t now = std::time(nullptr);
  std::tm local{};
#if defined(_WIN32)
  localtime_s(&local, &now);
#else
  localtime_r(&now, &local);
#endif
  char buf[256];
  const size_t n = std::strftime(buf, sizeof buf, format.as_string().c_str(), &local);
  return Value(std::string(buf, n));
}

}  // namespace

std::optional<Value> call_method(const Value& object, std::string_view name, const CallArgs& args,
                                 const RenderLimits& limits) {
  if (object.is_string()) return string_method(object.as_string(), name, args, limits);
  if (object.is_map()) return map_method(object.as_map(), name, args);
  return std::nullopt;
}

std::vector<std::pair<std::string, Value>> global_functions(const RenderLimits& limits) {
  std::vector<std::pair<std::string, Value>> globals;
  globals.emplace_back("range", Value::function([limits](CallArgs& args) { return range_function(args, limits); }));
  globals.emplace_back("namespace", Value::function([](CallArgs& args) { return keyword_map(args, true); }));
  globals.emplace_back("dict", Value::function([](CallArgs& args) { return keyword_map(args, false); }));
  globals.emplace_back("raise_exception", Value::function([](CallArgs& args) -> Value {
                         throw TemplateError(TemplateError::Kind::Raised, args.get(0, "message").to_string());
                       }));
  globals.emplace_back("strftime_now", Value::function([](CallArgs& args) { return strftime_now(args); }));
  return globals;
}

}  // namespace sieve::tokenizer::jinja
