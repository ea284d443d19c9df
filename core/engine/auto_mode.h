#pragma once
// `--mode auto` (the app's default): the engine picks how to reach the
// weights from the model and the DRAM budget, and says why in one line.
//
//   the whole model fits in the budget      -> dense
//   it does not, and it is a pack           -> flash (exact), as many FFN
//                                              layers in DRAM as the budget holds
//   a pack, but the budget is below flash   -> mmap, with the minimum named
//   mode's minimum
//   a plain GGUF that does not fit          -> mmap, with what to do: pack it
//   a pack with calibrated predictors, or   -> sparse is OFFERED (never chosen:
//   a gate sparsity chosen for a fidelity      it is not exact), with the fidelity
//   target (`sieve calibrate --fidelity`)      calibrate measured against dense
//
// The budget, when none is given, is 60% of the memory available now
// (default_dram_budget). Sizes are binary (GiB, MiB: format_size).

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/engine_mode.h"
#include "flash/flash_options.h"

namespace sieve {
struct EngineOptions;
}

namespace sieve::flash {

// What the decision looks at; gather_mode_facts() fills it from a model file.
struct ModeFacts {
  std::string model_name;            // the file name, for advice
  uint64_t budget = 0;               // the DRAM budget in bytes
  bool is_pack = false;
  bool is_moe = false;               // a Mixture-of-Experts GGUF: flash mode streams its experts
  // An MoE GGUF at `budget` (when >= flash_minimum): the experts its cache holds, of all.
  int64_t cached_experts = 0;
  int64_t all_experts = 0;
  uint64_t everything_bytes = 0;     // the whole model in memory: weights + KV cache + scratch
  uint64_t weight_bytes = 0;         // the model's tensor data
  // A pack only: flash mode's least budget, and at `budget` (when >= that
  // minimum) the weights kept in memory and the FFN bytes read per token.
  uint64_t flash_minimum = 0;
  uint64_t flash_resident_weight_bytes = 0;
  uint64_t flash_read_per_token = 0;
  // A pack calibrated with `sieve calibrate` (sieve.pred.tokens > 0), and
  // whether that trained low-rank predictors (ReLU-family models).
  uint32_t calibration_tokens = 0;
  bool lowrank_predictors = false;
  // Sparse mode with them against dense, as calibrate measured it
  // (sparse/calibrated_fidelity.h); 0 positions: not measured.
  uint32_t fidelity_positions = 0;
  double fidelity_top1 = 0;
  double fidelity_kl = 0;
  // SwiGLU/GeGLU: the gate predictor's sparsity `sieve calibrate --fidelity`
  // chose (sparse mode's default) and its figure; 0 positions: not chosen.
  double gate_sparsity = 0;
  uint32_t gate_fidelity_positions = 0;
  double gate_fidelity_top1 = 0;
  double gate_fidelity_kl = 0;
};

struct ModeChoice {
  EngineMode mode = EngineMode::dense;
  uint64_t budget = 0;   // the budget to run with (flash); 0 for dense and mmap
  std::string line;      // "flash: 41% of the weights stay in memory, 1.20 GiB read per token"
  std::string offer;     // sparse mode offered, and what it costs; empty when not
};

// The decision itself: pure, no I/O.
ModeChoice choose_engine_mode(const ModeFacts& facts);

// Reads the model's header (and plans a pack's memory) for `options`
// (context, threads, batch) under `budget`. Throws sieve::Error for a file
// that is not a model.
ModeFacts gather_mode_facts(const EngineOptions& options, uint64_t budget);

// choose_engine_mode(gather_mode_facts(...)) with the budget of `options`
// (a fraction resolves against the model file), or default_dram_budget().
ModeChoice choose_engine_mode(const EngineOptions& options);

// The DRAM budget when none is given: kDefaultBudgetShare of available_memory_bytes().
inline constexpr double kDefaultBudgetShare = 0.6;
uint64_t default_dram_budget();

// A budget typed by a person: "1.5G", "900M", "2GiB", "800000000" (bytes) or
// "50%" (of `percent_of`). Sizes are binary (G = 2^30). `error` is one
// sentence when the text is not a budget (bytes is then 0).
struct BudgetText {
  uint64_t bytes = 0;
  std::string error;
  bool ok() const { return error.empty(); }
};
BudgetText parse_budget_text(std::string_view text, uint64_t percent_of);

}  // namespace sieve::flash
