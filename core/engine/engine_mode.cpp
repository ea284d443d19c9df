#include "engine/engine_mode.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "util/byte_size.h"

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
  DramBudget budget;
  if (text.ends_with('%')) {
    text.remove_suffix(1);
    double percent = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, percent);
    if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(percent) || percent <= 0 || percent > 1000) {
      return std::nullopt;
    }
    budget.fraction_of_model = percent / 100.0;
    return budget;
  }
  const std::optional<uint64_t> bytes = parse_byte_size(text);
  if (!bytes || *bytes < 1) return std::nullopt;
  budget.bytes = *bytes;
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
