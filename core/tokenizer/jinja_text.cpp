#include "tokenizer/jinja_text.h"

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/unicode.h"

namespace sieve::tokenizer::jinja {
namespace {

bool is_python_space(uint32_t cp) { return is_whitespace(cp) || (cp >= 0x1C && cp <= 0x1F); }

struct CodepointAt {
  uint32_t cp;
  size_t begin;
  size_t end;
};

std::vector<CodepointAt> codepoints(const std::string& s) {
  std::vector<CodepointAt> out;
  for (size_t pos = 0; pos < s.size();) {
    const DecodedCodepoint d = decode_utf8(s, pos);
    out.push_back({d.valid ? d.codepoint : 0xFFFFFFFFu, pos, pos + d.length});
    pos += d.length;
  }
  return out;
}

bool is_ascii_letter(uint32_t cp) { return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'); }
char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace

std::string strip(const std::string& s, const std::optional<std::string>& chars, bool left, bool right) {
  const std::vector<CodepointAt> cps = codepoints(s);
  std::vector<uint32_t> set;
  if (chars) {
    for (const CodepointAt& c : codepoints(*chars)) set.push_back(c.cp);
  }
  const auto strippable = [&](uint32_t cp) {
    if (!chars) return is_python_space(cp);
    for (const uint32_t c : set) {
      if (c == cp) return true;
    }
    return false;
  };
  size_t first = 0, last = cps.size();
  if (left) {
    while (first < last && strippable(cps[first].cp)) ++first;
  }
  if (right) {
    while (last > first && strippable(cps[last - 1].cp)) --last;
  }
  if (first == last) return "";
  return s.substr(cps[first].begin, cps[last - 1].end - cps[first].begin);
}

std::string ascii_upper(std::string s) {
  for (char& c : s) c = upper(c);
  return s;
}

std::string ascii_lower(std::string s) {
  for (char& c : s) c = lower(c);
  return s;
}

std::string python_title(const std::string& s) {
  std::string out;
  bool previous_cased = false;
  for (const CodepointAt& c : codepoints(s)) {
    std::string piece = s.substr(c.begin, c.end - c.begin);
    const bool letter = c.cp != 0xFFFFFFFFu && category_of(c.cp) == Category::Letter;
    if (is_ascii_letter(c.cp)) piece[0] = previous_cased ? lower(piece[0]) : upper(piece[0]);
    previous_cased = letter;
    out += piece;
  }
  return out;
}

std::string jinja_title(const std::string& s) {
  std::string out;
  bool word_start = true;
  for (const char c : s) {
    const bool separator = c == '-' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
                           c == '\v' || c == '(' || c == '{' || c == '[' || c == '<';
    if (separator) {
      out += c;
      word_start = true;
    } else {
      out += word_start ? upper(c) : lower(c);
      word_start = false;
    }
  }
  return out;
}

std::string capitalize(const std::string& s) {
  std::string out = ascii_lower(s);
  if (!out.empty()) out[0] = upper(out[0]);
  return out;
}

std::vector<std::string> split_whitespace(const std::string& s, int64_t max_split) {
  std::vector<std::string> words;
  const std::vector<CodepointAt> cps = codepoints(s);
  size_t i = 0;
  while (i < cps.size()) {
    while (i < cps.size() && is_python_space(cps[i].cp)) ++i;
    if (i == cps.size()) break;
    if (max_split >= 0 && static_cast<int64_t>(words.size()) >= max_split) {
      size_t last = cps.size();
      while (last > i && is_python_space(cps[last - 1].cp)) --last;
      words.push_back(s.substr(cps[i].begin, cps[last - 1].end - cps[i].begin));
      break;
    }
    const size_t start = i;
    while (i < cps.size() && !is_python_space(cps[i].cp)) ++i;
    words.push_back(s.substr(cps[start].begin, cps[i - 1].end - cps[start].begin));
  }
  return words;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  size_t from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\n' && s[i] != '\r') continue;
    lines.push_back(s.substr(from, i - from));
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
    from = i + 1;
  }
  if (from < s.size()) lines.push_back(s.substr(from));
  return lines;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count,
                        const RenderLimits& limits) {
  if (from.empty()) {
    // Python inserts `to` between code points (and at both ends).
    std::string out;
    int64_t done = 0;
    for (const CodepointAt& c : codepoints(s)) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      out.append(s, c.begin, c.end - c.begin);
      check_string_size(out.size(), limits);
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  std::string out;
  size_t pos = 0;
  int64_t done = 0;
  for (size_t at = s.find(from); at != std::string::npos && (count < 0 || done < count);
       at = s.find(from, pos)) {
    out.append(s, pos, at - pos);
    out += to;
    pos = at + from.size();
    ++done;
    check_string_size(out.size(), limits);
  }
  out.append(s, pos, std::string::npos);
  check_string_size(out.size(), limits);
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace sieve::tokenizer::jinja
