#include "engine/engine_mode.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace sieve {

const char* to_string(EngineMode mode) {
  switch (mode) {
    case EngineMode::dense: return "dense";
    case EngineMode::mmap: return "mmap";
    case EngineMode::flash: return "flash";
    case EngineMode::sparse: return "sparse";
    case EngineMode::automatic: return "auto";
  }
  return "?";
}

std::optional<EngineMode> parse_engine_mode(std::string_view text) {
  for (EngineMode m : {EngineMode::dense, EngineMode::mmap, EngineMode::flash, EngineMode::sparse, EngineMode::automatic}) {
    if (text == to_string(m)) return m;
  }
  return std::nullopt;
}

uint64_t DramBudget::resolve(uint64_t model_file_bytes) const {
  if (bytes > 0) return bytes;
  return static_cast<uint64_t>(std::llround(fraction_of_model * static_cast<double>(model_file_bytes)));
}

std::optional<DramBudget> parse_dram_budget(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double number = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, number);
  if (ec != std::errc() || !std::isfinite(number) || number <= 0) return std::nullopt;
  std::string suffix(ptr, end);
  for (char& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  DramBudget budget;
  if (suffix == "%") {
    if (number > 1000) return std::nullopt;
    budget.fraction_of_model = number / 100.0;
    return budget;
  }
  if (suffix.size() == 3 && suffix.substr(1) == "IB") suffix.resize(1);
  if (suffix.size() == 2 && suffix[1] == 'B') suffix.resize(1);
  double scale = 0;
  if (suffix.empty() || suffix == "B") scale = 1;
  else if (suffix == "K") scale = 1024.0;
  else if (suffix == "M") scale = 1024.0 * 1024;
  else if (suffix == "G") scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T") scale = 1024.0 * 1024 * 1024 * 1024;
  else return std::nullopt;
  const double bytes = number * scale;
  if (bytes < 1 || bytes > 1.8e19) return std::nullopt;
  budget.bytes = static_cast<uint64_t>(bytes);
  return budget;
}

std::string to_string(const DramBudget& budget) {
  char text[48];
  if (budget.bytes > 0) {
    std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(budget.bytes) / (1u << 30));
  } else {
    std::snprintf(text, sizeof text, "%g%% of the model", budget.fraction_of_model * 100.0);
  }
  return text;
}

}  // namespace sieve
