#pragma once
// The builtin filters ({{ x | trim }}), tests ({% if x is defined %}),
// methods ("a".strip(), d.items()) and global functions (range, namespace,
// raise_exception, strftime_now) of the chat-template language. Strings are
// handled as Python does: lengths, indexes and slices count code points.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/jinja_value.h"

namespace sieve::tokenizer::jinja {

bool is_known_filter(std::string_view name);
bool is_known_test(std::string_view name);

// Throws TemplateError (Runtime) on bad arguments, (Limit) on oversized results.
Value apply_filter(std::string_view name, const Value& input, const CallArgs& args, const RenderLimits& limits);
bool apply_test(std::string_view name, const Value& input, const CallArgs& args);
// nullopt when `object` has no method `name`.
std::optional<Value> call_method(const Value& object, std::string_view name, const CallArgs& args,
                                 const RenderLimits& limits);
// range, namespace, dict, raise_exception, strftime_now.
std::vector<std::pair<std::string, Value>> global_functions(const RenderLimits& limits);

// Python-style helpers the evaluator shares.
std::vector<std::string> split_codepoints(const std::string& s);
size_t codepoint_count(const std::string& s);
// Python's sequence[start:stop:step] index arithmetic; absent bounds are nullopt.
std::vector<size_t> slice_indexes(size_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                  std::optional<int64_t> step);
// The items a for loop or a filter walks: list items, map keys, string code points.
ValueList iterate(const Value& v);
void check_string_size(size_t bytes, const RenderLimits& limits);
// Integer arithmetic that reports overflow instead of wrapping.
int64_t checked_add(int64_t a, int64_t b);
int64_t checked_multiply(int64_t a, int64_t b);
void check_list_size(size_t items, const RenderLimits& limits);
[[noreturn]] void runtime_error(const std::string& message);

}  // namespace sieve::tokenizer::jinja
