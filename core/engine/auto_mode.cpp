#include "engine/auto_mode.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "engine.h"
#include "engine/expert_backend.h"
#include "engine/model_backend.h"
#include "engine/pack_backend.h"
#include "engine/resolved_options.h"
#include "flash/pack_file.h"
#include "flash/pack_format.h"
#include "flash/planner.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "util/byte_size.h"
#include "util/error.h"
#include "util/system_memory.h"


namespace sieve::flash {
namespace {

std::string percent(double share) {
  char text[16];
  std::snprintf(text, sizeof text, "%.0f%%", 100.0 * share);
  return text;
}

std::string pack_name_for(const std::string& model_name) {
  const size_t dot = model_name.rfind('.');
  return (dot == std::string::npos ? model_name : model_name.substr(0, dot)) + ".sieve";
}

std::string agreement(uint32_t positions, double top1, double kl) {
  char figure[200];
  std::snprintf(figure, sizeof figure, "on %u held-out tokens it chose dense mode's next token %.1f%% of the time "
                "(mean KL %.3g nats)", positions, 100.0 * top1, kl);
  return figure;
}

// SwiGLU/GeGLU: the gate predictor skips the sparsity calibration chose for a
// fidelity target; offered only when it skips something.
std::string gate_offer(const ModeFacts& f) {
  if (f.gate_fidelity_positions == 0 || f.gate_sparsity <= 0) return {};
  return "sparse (predictor \"gate\") would skip " + percent(f.gate_sparsity) +
         " of the neurons, the most `sieve calibrate --fidelity` found to keep its target; " +
         agreement(f.gate_fidelity_positions, f.gate_fidelity_top1, f.gate_fidelity_kl) +
         ", so it is close to dense but not exact";
}

// Sparse mode is offered only where calibration trained predictors for it,
// or chose a gate sparsity, with the fidelity calibration measured: the user
// trades exactness for reads.
std::string sparse_offer(const ModeFacts& f) {
  if (f.calibration_tokens == 0) return {};
  if (!f.lowrank_predictors) return gate_offer(f);
  const std::string what = "sparse (predictor \"lowrank\") would read only the neurons a predictor calibrated on " +
                           std::to_string(f.calibration_tokens) + " tokens selects";
  if (f.fidelity_positions == 0) {
    return what + ", but it is not exact and its fidelity is not measured yet (`sieve fidelity -m " + f.model_name +
           " --mode sparse --predictor lowrank --text FILE` measures it, or calibrate again)";
  }
  return what + "; " + agreement(f.fidelity_positions, f.fidelity_top1, f.fidelity_kl) +
         ", so it is close to dense but not exact";
}


// Flash mode's options at `budget` (0: none), to plan a pack by.
BackendOptions flash_options(const EngineOptions& options, const model::HyperParams& hp, uint64_t budget,
                             const std::string& where) {
  BackendOptions b = backend_options(options, hp, where);
  b.mode = EngineMode::flash;
  b.budget = DramBudget{};
  b.budget.bytes = budget;
  return b;
}

uint64_t item_bytes(const MemoryPlan& plan, std::string_view what) {
  for (const MemoryItem& item : plan.fixed) {
    if (item.what == what) return item.bytes;
  }
  return 0;
}

// Flash mode's expert cache at the budget (engine/expert_backend.h).
void gather_expert_facts(const gguf::GgufFile& file, const model::HyperParams& hp, const EngineOptions& options,
                         ModeFacts& f) {
  BackendOptions b = backend_options(options, hp, f.model_name);
  b.mode = EngineMode::flash;
  b.budget = DramBudget{};
  const ExpertPlan all = plan_expert_memory(file, hp, b);
  f.flash_minimum = all.minimum;
  f.all_experts = all.all_experts;
  if (f.budget < f.flash_minimum) return;
  b.budget.bytes = f.budget;
  f.cached_experts = plan_expert_memory(file, hp, b).slots;
}

}  // namespace

ModeChoice choose_engine_mode(const ModeFacts& f) {
  ModeChoice c;
  c.offer = f.is_pack ? sparse_offer(f) : std::string();
  const std::string budget = format_size(f.budget);
  if (f.everything_bytes <= f.budget) {
    c.mode = EngineMode::dense;
    c.line = "dense: the whole model (" + format_size(f.everything_bytes) + " with its KV cache) fits in the " +
             budget + " budget";
    return c;
  }
  if (f.is_moe && f.flash_minimum <= f.budget) {
    c.mode = EngineMode::flash;
    c.budget = f.budget;
    const double share = f.all_experts > 0 ? double(f.cached_experts) / double(f.all_experts) : 0;
    c.line = "flash: " + std::to_string(f.cached_experts) + " of " + std::to_string(f.all_experts) + " experts (" +
             percent(share) + ") stay in memory; the others stream from the SSD when a token's router picks them "
             "(the whole model needs " + format_size(f.everything_bytes) + ", the budget is " + budget + ")";
    return c;
  }
  if (f.is_pack && f.flash_minimum <= f.budget) {
    c.mode = EngineMode::flash;
    c.budget = f.budget;
    const double share = f.weight_bytes > 0 ? double(f.flash_resident_weight_bytes) / double(f.weight_bytes) : 0;
    c.line = "flash: " + percent(share) + " of the weights stay in memory, " + format_size(f.flash_read_per_token) +
             " read per token (the whole model needs " + format_size(f.everything_bytes) + ", the budget is " +
             budget + ")";
    return c;
  }
  c.mode = EngineMode::mmap;
  if (f.is_pack) {
    c.line = "mmap: the " + budget + " budget is below flash mode's minimum of " + format_size(f.flash_minimum) +
             " for this model, so the OS pages the weights in and out (slow); give it a budget of at least " +
             format_size(f.flash_minimum) + " for flash mode";
  } else if (f.is_moe) {
    c.line = "mmap: the " + budget + " budget is below flash mode's minimum of " + format_size(f.flash_minimum) +
             " for this model (one layer's choice of experts), so the OS pages the weights in and out (slow); give "
             "it a budget of at least " + format_size(f.flash_minimum) + " for flash mode";
  } else {
    c.line = "mmap: the model needs " + format_size(f.everything_bytes) + ", more than the " + budget +
             " budget, and is not packed, so the OS pages the weights in and out (slow); pack it for flash mode "
             "(`sieve pack " + f.model_name + " -o " + pack_name_for(f.model_name) +
             "`, or add it in the app's Models page) and run the pack";
  }
  return c;
}

ModeFacts gather_mode_facts(const EngineOptions& options, uint64_t budget) {
  const gguf::GgufFile file = gguf::GgufFile::open(options.model_path);
  ModeFacts f;
  f.model_name = options.model_path.filename().string();
  f.budget = budget;
  f.is_pack = PackFile::is_pack(file);
  const int threads = resolved_threads(options.threads);
  if (!f.is_pack) {
    const model::HyperParams hp = model::read_hyper_params(file);
    f.is_moe = hp.is_moe();
    for (const gguf::TensorInfo& t : file.tensors()) f.weight_bytes += t.size_bytes;
    const int64_t context = resolved_context(options, hp, f.model_name);
    const int64_t batch = resolved_batch(options);
    // Dense mode's FFN adds its gate and up buffers (floats, one row per batch token) to the run state.
    const uint64_t ffn_scratch = 2 * static_cast<uint64_t>(batch) * static_cast<uint64_t>(hp.n_ff) * sizeof(float);
    f.everything_bytes = f.weight_bytes + kv_cache_bytes(hp, context) + run_state_bytes(hp, context, batch) + ffn_scratch;
    if (f.is_moe) gather_expert_facts(file, hp, options, f);
    return f;
  }
  const PackFile pack = PackFile::over(file);
  const model::HyperParams& hp = pack.hparams();
  const MemoryPlan everything = plan_pack_memory(pack, flash_options(options, hp, 0, f.model_name), threads);
  f.everything_bytes = everything.total();
  f.flash_minimum = everything.minimum;
  f.weight_bytes = item_bytes(everything, "resident weights") + everything.pinned_bytes;
  if (budget >= f.flash_minimum) {
    const MemoryPlan plan = plan_pack_memory(pack, flash_options(options, hp, budget, f.model_name), threads);
    f.flash_resident_weight_bytes = item_bytes(plan, "resident weights") + plan.pinned_bytes;
    f.flash_read_per_token = plan.streamed_bytes_per_token;
  }
  f.calibration_tokens = static_cast<uint32_t>(std::max<int64_t>(0, file.get_int(pred_keys::kTokens).value_or(0)));
  f.lowrank_predictors = pack.has_lowrank_predictors();
  const int64_t positions = file.get_int(pred_keys::kFidelityTokens).value_or(0);
  if (positions > 0) {
    f.fidelity_positions = static_cast<uint32_t>(std::min<int64_t>(positions, UINT32_MAX));
    f.fidelity_top1 = std::clamp(file.get_float(pred_keys::kFidelityTop1).value_or(0), 0.0, 1.0);
    f.fidelity_kl = std::max(0.0, file.get_float(pred_keys::kFidelityKl).value_or(0));
  }
  const int64_t gate_positions = file.get_int(pred_keys::kGateFidelityTokens).value_or(0);
  if (gate_positions > 0) {  // PackFile validated the ranges
    f.gate_fidelity_positions = static_cast<uint32_t>(std::min<int64_t>(gate_positions, UINT32_MAX));
    f.gate_sparsity = pack.calibrated_gate_sparsity();
    f.gate_fidelity_top1 = file.get_float(pred_keys::kGateFidelityTop1).value_or(0);
    f.gate_fidelity_kl = file.get_float(pred_keys::kGateFidelityKl).value_or(0);
  }
  return f;
}

ModeChoice choose_engine_mode(const EngineOptions& options) {
  uint64_t budget = default_dram_budget();
  if (options.dram_budget.is_set()) {
    const uint64_t file_bytes = options.dram_budget.bytes > 0 ? 0 : gguf::GgufFile::open(options.model_path).file_size();
    budget = options.dram_budget.resolve(file_bytes);
  }
  return choose_engine_mode(gather_mode_facts(options, budget));
}


uint64_t default_dram_budget() {
  return static_cast<uint64_t>(kDefaultBudgetShare * static_cast<double>(available_memory_bytes()));
}

BudgetText parse_budget_text(std::string_view typed, uint64_t percent_of) {
  std::string text;  // without spaces: "1.5 GiB" as "1.5GiB" (what format_size writes reads back)
  for (char c : typed) {
    if (c != ' ' && c != '\t') text += c;
  }
  BudgetText out;
  if (text.empty()) {
    out.error = "Type a size such as 1.5G, 900M or 50%.";
    return out;
  }
  const std::optional<DramBudget> parsed = parse_dram_budget(text);
  if (!parsed) {
    // Appended, not "'" + ...: GCC 12 warns falsely (-Wrestrict) on that form.
    out.error = "'";
    out.error += typed;
    out.error += "' is not a size: type a number with G, M or %, e.g. 1.5G, 900M or 50%.";
    return out;
  }
  if (parsed->bytes > 0) {
    out.bytes = parsed->bytes;
    return out;
  }
  if (parsed->fraction_of_model > 1.0) {
    out.error = "At most 100%.";
    return out;
  }
  if (percent_of == 0) {
    out.error = "A percentage needs the available memory, which is unknown here; type a size such as 1.5G.";
    return out;
  }
  out.bytes = static_cast<uint64_t>(std::llround(parsed->fraction_of_model * static_cast<double>(percent_of)));
  if (out.bytes == 0) out.error = "That is 0 bytes.";
  return out;
}

}  // namespace sieve::flash
