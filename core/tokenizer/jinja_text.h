#pragma once
// String operations of the chat-template language, with Python's semantics
// where templates can observe them. Case mapping covers ASCII only.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/jinja_value.h"

namespace sieve::tokenizer::jinja {

// str.strip(chars): without chars, Python's whitespace (Unicode White_Space
// and U+001C..U+001F); with chars, any of their code points.
std::string strip(const std::string& s, const std::optional<std::string>& chars, bool left, bool right);
std::string ascii_upper(std::string s);
std::string ascii_lower(std::string s);
// str.title(): a letter after a non-letter is upper case, other letters lower.
std::string python_title(const std::string& s);
// The title filter: each word after -, whitespace, (, {, [ or < capitalized.
std::string jinja_title(const std::string& s);
std::string capitalize(const std::string& s);
// str.split() without a separator: runs of whitespace separate, ends trimmed.
std::vector<std::string> split_whitespace(const std::string& s, int64_t max_split);
std::vector<std::string> split_lines(const std::string& s);
// str.replace(old, new, count); count < 0 replaces all.
std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count,
                        const RenderLimits& limits);
std::string html_escape(const std::string& s);

}  // namespace sieve::tokenizer::jinja
