#pragma once
// The options every model-running command shares for choosing how weights
// are reached: --mode dense|mmap|flash|sparse|auto, --dram-budget SIZE, and the
// knobs of sparse mode (--predictor, --gate-copy, --sparsity, --window,
// --no-pin-hot, --no-neuron-units, --disk-profile, --merge-gap).

#include <string>
#include <vector>

#include "cli/args.h"
#include "engine.h"

namespace sieve::cli {

inline std::vector<OptionSpec> mode_option_specs() {
  return {
      {"mode", 0, true,
       "dense (weights read into RAM, default), mmap (the OS pages the file), flash (a pack), sparse (a pack, "
       "loading only the neurons a predictor selects) or auto (dense when the model fits the budget, else flash "
       "for a pack, else mmap; the choice and why go to stderr)",
       "MODE"},
      {"dram-budget", 0, true, "flash, sparse and auto modes: DRAM for the whole engine, e.g. 2G, 1536M or 50% (of the "
       "model file); auto without it: 60% of the memory available now",
       "SIZE"},
      {"predictor", 0, true, "sparse: gate (default; the gate kept in DRAM), lowrank or powerinfer", "KIND"},
      {"gate-copy", 0, true, "sparse, gate predictor: the gate kept in DRAM: auto (default: exact, or a Q8_0 copy when that lets a tight budget's stores hold more), exact, q8_0, q4_0, ...",
       "TYPE"},
      {"sparsity", 0, true, "sparse, gate predictor: skip this fraction of neurons (calibrated; default: the fraction `sieve calibrate "
       "--fidelity` chose, else 0 = exact zeros)",
       "S"},
      {"window", 0, true, "sparse: size each layer's neuron store for the neurons of K + 1 tokens (default 4)", "K"},
      {"no-pin-hot", 0, false, "sparse: do not pin the most often active neurons", ""},
      {"no-neuron-units", 0, false, "sparse: read clusters of neurons even when the pack has per-neuron units", ""},
      {"whole-unit-reads", 0, false, "sparse: read per-neuron units whole, page padding included (default: their "
       "used bytes, to the disk's alignment)", ""},
      {"disk-profile", 0, true, "sparse: a `sieve probe-disk --json` profile to size merged reads by", "FILE"},
      {"merge-gap", 0, true, "sparse: read through holes up to this size between wanted neurons, e.g. 0 or 16K "
       "(default: chosen from --disk-profile, else 0)", "SIZE"},
  };
}

// `specs` with the mode options inserted before the last one (--help).
inline std::vector<OptionSpec> with_mode_options(std::vector<OptionSpec> specs) {
  const std::vector<OptionSpec> mode = mode_option_specs();
  specs.insert(specs.empty() ? specs.end() : specs.end() - 1, mode.begin(), mode.end());
  return specs;
}

// The sparse-mode options given on the command line (empty when none).
inline std::vector<std::string> given_sparse_options(const Args& args) {
  std::vector<std::string> given;
  for (const char* name : {"predictor", "gate-copy", "sparsity", "window", "no-pin-hot", "no-neuron-units", "whole-unit-reads", "disk-profile", "merge-gap"}) {
    if (args.has(name)) given.push_back(name);
  }
  return given;
}

// Parses a --window value: a whole number of tokens, 0 to 1024.
inline int parse_window(const std::string& text) {
  size_t used = 0;
  int value = -1;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < 0 || value > 1024) {
    throw UsageError("--window: expected a number of tokens from 0 to 1024, got '" + text + "'");
  }
  return value;
}

// `window_list`: --window holds a list (`sieve bench`), read by the caller.
inline void apply_sparse_options(const Args& args, EngineOptions& options, bool window_list = false) {
  sparse::SparseOptions& s = options.sparse;
  if (auto kind = args.get("predictor")) {
    const auto parsed = sparse::parse_predictor_kind(*kind);
    if (!parsed || *parsed == sparse::PredictorKind::none) {
      throw UsageError("--predictor: expected gate, lowrank or powerinfer, got '" + *kind + "'");
    }
    s.predictor = *parsed;
  }
  if (auto copy = args.get("gate-copy")) {
    if (*copy == "exact" || *copy == "none") {
      s.exact_gate = true;
    } else if (*copy != "auto") {
      const auto type = tensor::type_from_name(*copy);
      if (!type) throw UsageError("--gate-copy: expected auto, exact or a tensor type such as q8_0 or q4_0, got '" + *copy + "'");
      s.gate_copy = *type;
    }
  }
  if (args.has("sparsity")) {
    const double sparsity = args.get_double("sparsity", 0);
    if (!(sparsity >= 0 && sparsity < 1)) throw UsageError("--sparsity: expected a fraction in [0, 1)");
    s.target_sparsity = sparsity;
  }
  if (auto window = args.get("window"); window && !window_list) s.window = parse_window(*window);
  if (args.has("no-pin-hot")) s.pin_hot = false;
  if (args.has("no-neuron-units")) s.neuron_units = false;
  if (args.has("whole-unit-reads")) s.sector_unit_reads = false;
  if (auto profile = args.get("disk-profile")) options.flash.disk_profile = *profile;
  if (args.has("merge-gap")) {
    const uint64_t gap = args.get_size("merge-gap", 0);
    if (gap > (uint64_t{1} << 20)) throw UsageError("--merge-gap: at most 1M");
    s.merge_gap = static_cast<uint32_t>(gap);
  }
  if ((args.has("gate-copy") || args.has("sparsity")) && s.predictor != sparse::PredictorKind::gate) {
    throw UsageError("--gate-copy and --sparsity apply to --predictor gate only");
  }
}

// Fills options.mode, options.dram_budget and options.sparse; throws UsageError.
inline void apply_mode_options(const Args& args, EngineOptions& options) {
  if (auto mode = args.get("mode")) {
    const auto parsed = parse_engine_mode(*mode);
    if (!parsed) throw UsageError("--mode: expected dense, mmap, flash, sparse or auto, got '" + *mode + "'");
    options.mode = *parsed;
  }
  if (auto budget = args.get("dram-budget")) {
    const auto parsed = parse_dram_budget(*budget);
    if (!parsed) throw UsageError("--dram-budget: expected a size such as 2G, 1536M or 50%, got '" + *budget + "'");
    if (!uses_budget(options.mode) && options.mode != EngineMode::automatic) {
      throw UsageError("--dram-budget applies to --mode flash, sparse or auto only");
    }
    options.dram_budget = *parsed;
  }
  const std::vector<std::string> sparse_given = given_sparse_options(args);
  if (!sparse_given.empty() && options.mode != EngineMode::sparse) {
    throw UsageError("--" + sparse_given.front() + " applies to --mode sparse only");
  }
  apply_sparse_options(args, options);
}

}  // namespace sieve::cli
