#pragma once
// A small command-line parser for `sieve` subcommands.
//
// Each command declares the options it accepts; parse() rejects anything
// else, and the typed getters turn malformed values into a UsageError whose
// message is one line naming the option, e.g.
//   "--threads: expected a whole number, got 'four'".

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace sieve::cli {

class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

struct OptionSpec {
  std::string name;        // long name without dashes, e.g. "threads"
  char short_name = 0;     // e.g. 't', or 0
  bool takes_value = true; // false for flags such as --bos
  std::string help;        // one line for --help
  std::string value_name = "VALUE";
};

class Args {
 public:
  // Parses argv (without the program and command names). Throws UsageError.
  static Args parse(std::span<char* const> argv, const std::vector<OptionSpec>& specs);

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  // Whole numbers; throws UsageError when not a number or outside [lo, hi].
  int64_t get_int(const std::string& name, int64_t fallback, int64_t lo = INT64_MIN,
                  int64_t hi = INT64_MAX) const;
  double get_double(const std::string& name, double fallback) const;
  // Byte sizes: "4096", "512K", "2M", "1.5G" (powers of 1024).
  uint64_t get_size(const std::string& name, uint64_t fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// Formats bytes as "1.50 GiB", "312.0 MiB", ...
std::string format_bytes(uint64_t bytes);

// For commands whose model comes with -m: throws UsageError naming the first
// positional argument, with "-m FILE" suggested when it looks like a model file.
void reject_positional_arguments(const Args& args);
// Renders "usage: ... \n  options" for a command's --help.
std::string usage_text(const std::string& synopsis, const std::vector<OptionSpec>& specs);

}  // namespace sieve::cli
