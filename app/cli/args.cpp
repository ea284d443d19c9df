#include "cli/args.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "cli/suggest.h"
#include "util/byte_size.h"

namespace sieve::cli {
namespace {

const OptionSpec* find_spec(const std::vector<OptionSpec>& specs, const std::string& name) {
  for (const OptionSpec& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const OptionSpec* find_short(const std::vector<OptionSpec>& specs, char c) {
  for (const OptionSpec& s : specs) {
    if (s.short_name == c) return &s;
  }
  return nullptr;
}

// "unknown option --tmp; did you mean --temp?": the nearest of the command's
// long options to what was typed, with one or two dashes ("-temp" too).
UsageError unknown_option(const std::string& arg, const std::vector<OptionSpec>& specs) {
  const size_t first_letter = arg.find_first_not_of('-');
  std::string typed = first_letter == std::string::npos ? "" : arg.substr(first_letter);
  typed.resize(std::min(typed.size(), typed.find('=')));
  std::vector<std::string> names;
  for (const OptionSpec& s : specs) names.push_back(s.name);
  const bool single_letter = arg.size() == 2;
  if (const auto near = single_letter ? std::nullopt : nearest_name(typed, names)) {
    return UsageError("unknown option " + arg + "; did you mean --" + *near + "?");
  }
  return UsageError("unknown option " + arg + " (see --help)");
}

}  // namespace

Args Args::parse(std::span<char* const> argv, const std::vector<OptionSpec>& specs) {
  Args args;
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-' ||
        (arg.size() > 1 && (std::isdigit(static_cast<unsigned char>(arg[1])) || arg[1] == '.'))) {
      args.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    const OptionSpec* spec = nullptr;
    std::optional<std::string> inline_value;
    if (arg.rfind("--", 0) == 0) {
      std::string name = arg.substr(2);
      if (const size_t eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name.resize(eq);
      }
      spec = find_spec(specs, name);
    } else if (arg.size() == 2) {
      spec = find_short(specs, arg[1]);
    }
    if (spec == nullptr) throw unknown_option(arg, specs);
    if (!spec->takes_value) {
      if (inline_value) throw UsageError("--" + spec->name + " takes no value");
      args.values_[spec->name] = "";
      continue;
    }
    if (inline_value) {
      args.values_[spec->name] = *inline_value;
    } else if (i + 1 < argv.size()) {
      args.values_[spec->name] = argv[++i];
    } else {
      throw UsageError("--" + spec->name + " needs a value (" + spec->value_name + ")");
    }
  }
  return args;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

int64_t Args::get_int(const std::string& name, int64_t fallback, int64_t lo, int64_t hi) const {
  const auto text = get(name);
  if (!text) return fallback;
  int64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || text->empty()) {
    throw UsageError("--" + name + ": expected a whole number, got '" + *text + "'");
  }
  if (value < lo || value > hi) {
    throw UsageError("--" + name + ": " + *text + " is out of range [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  }
  return value;
}

double Args::get_double(const std::string& name, double fallback) const {
  const auto text = get(name);
  if (!text) return fallback;
  double value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || text->empty() || !std::isfinite(value)) {
    throw UsageError("--" + name + ": expected a number, got '" + *text + "'");
  }
  return value;
}

uint64_t Args::get_size(const std::string& name, uint64_t fallback) const {
  const auto text = get(name);
  if (!text) return fallback;
  const auto bytes = parse_byte_size(*text);
  if (!bytes) throw UsageError("--" + name + ": expected a size such as 512M or 2G, got '" + *text + "'");
  return *bytes;
}

std::string format_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  char buf[32];
  if (unit == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.2f %s", value, units[unit]);
  return buf;
}

std::string usage_text(const std::string& synopsis, const std::vector<OptionSpec>& specs) {
  std::string out = "usage: " + synopsis + "\n";
  if (!specs.empty()) out += "\noptions:\n";
  for (const OptionSpec& s : specs) {
    std::string left = "  ";
    left += s.short_name ? std::string("-") + s.short_name + ", " : "    ";
    left += "--" + s.name;
    if (s.takes_value) left += " " + s.value_name;
    if (left.size() < 30) left.resize(30, ' ');
    else left += "  ";
    out += left + s.help + "\n";
  }
  return out;
}

void reject_positional_arguments(const Args& args) {
  if (args.positional().empty()) return;
  const std::string& first = args.positional().front();
  const bool model_like = first.ends_with(".gguf") || first.ends_with(".sieve");
  throw UsageError("unexpected argument '" + first + "'" + (model_like ? " (the model is given with -m " + first + ")" : ""));
}

}  // namespace sieve::cli
