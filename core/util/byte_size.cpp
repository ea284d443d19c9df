#include "util/byte_size.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

namespace sieve {

std::optional<uint64_t> parse_byte_size(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double number = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, number);
  if (ec != std::errc() || number < 0 || !std::isfinite(number)) return std::nullopt;
  std::string suffix(ptr, end);
  for (char& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (suffix.size() == 3 && suffix.substr(1) == "IB") suffix.resize(1);  // "GiB"
  if (suffix.size() == 2 && suffix[1] == 'B') suffix.resize(1);           // "GB"
  double scale = 0;
  if (suffix.empty() || suffix == "B") scale = 1;
  else if (suffix == "K") scale = 1024.0;
  else if (suffix == "M") scale = 1024.0 * 1024;
  else if (suffix == "G") scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  else return std::nullopt;
  const double bytes = number * scale;
  if (bytes > 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::string format_size(uint64_t bytes) {
  char text[32];
  const auto b = static_cast<double>(bytes);
  if (bytes >= (uint64_t{1} << 30)) std::snprintf(text, sizeof text, "%.2f GiB", b / (1u << 30));
  else if (bytes >= (uint64_t{1} << 20)) std::snprintf(text, sizeof text, "%.1f MiB", b / (1u << 20));
  else if (bytes >= 1024) std::snprintf(text, sizeof text, "%.0f KiB", b / 1024);
  else std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  return text;
}

}  // namespace sieve
