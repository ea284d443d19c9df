#pragma once
// The options every model-running command shares for choosing how weights
// are reached: --mode dense|mmap|flash and --dram-budget SIZE.

#include <string>
#include <vector>

#include "cli/args.h"
#include "engine.h"

namespace sieve::cli {

inline std::vector<OptionSpec> mode_option_specs() {
  return {
      {"mode", 0, true, "dense (weights read into RAM, default), mmap (the OS pages the file) or flash (a pack)",
       "MODE"},
      {"dram-budget", 0, true, "flash mode: DRAM for the whole engine, e.g. 2G, 1536M or 50% (of the model file)",
       "SIZE"},
  };
}

// `specs` with the mode options inserted before the last one (--help).
inline std::vector<OptionSpec> with_mode_options(std::vector<OptionSpec> specs) {
  const std::vector<OptionSpec> mode = mode_option_specs();
  specs.insert(specs.empty() ? specs.end() : specs.end() - 1, mode.begin(), mode.end());
  return specs;
}

// Fills options.mode and options.dram_budget; throws UsageError.
inline void apply_mode_options(const Args& args, EngineOptions& options) {
  if (auto mode = args.get("mode")) {
    const auto parsed = parse_engine_mode(*mode);
    if (!parsed) throw UsageError("--mode: expected dense, mmap or flash, got '" + *mode + "'");
    options.mode = *parsed;
  }
  if (auto budget = args.get("dram-budget")) {
    const auto parsed = parse_dram_budget(*budget);
    if (!parsed) throw UsageError("--dram-budget: expected a size such as 2G, 1536M or 50%, got '" + *budget + "'");
    if (options.mode != EngineMode::flash) throw UsageError("--dram-budget applies to --mode flash only");
    options.dram_budget = *parsed;
  }
}

}  // namespace sieve::cli
