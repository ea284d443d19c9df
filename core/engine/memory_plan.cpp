// Engine::plan (engine.h): the pack backend's planners, under the options
// the engine would load with (engine/resolved_options.h).

#include "engine/memory_plan.h"

#include "engine.h"
#include "engine/expert_backend.h"
#include "engine/pack_backend.h"
#include "engine/resolved_options.h"
#include "flash/pack_file.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "util/error.h"

namespace sieve {
namespace {

std::vector<MemoryPlanItem> items_of(const std::vector<flash::MemoryItem>& fixed) {
  std::vector<MemoryPlanItem> items;
  for (const flash::MemoryItem& item : fixed) items.push_back({item.what, item.bytes});
  return items;
}

void fill_flash(const flash::MemoryPlan& p, MemoryPlan& plan) {
  plan.minimum = p.minimum;
  plan.total = p.total();
  plan.fixed = items_of(p.fixed);
  plan.layers = static_cast<int64_t>(p.pinned.size() + p.streamed.size());
  plan.pinned_layers = static_cast<int64_t>(p.pinned.size());
  plan.streamed_layers = static_cast<int64_t>(p.streamed.size());
  plan.pinned_bytes = p.pinned_bytes;
  plan.stream_buffer_bytes = p.stream_buffer_bytes;
  plan.ffn_bytes_per_token = p.pinned_bytes + p.streamed_bytes_per_token;
  plan.streamed_bytes_per_token = p.streamed_bytes_per_token;
  plan.text = p.describe();
}

void fill_sparse(const sparse::SparsePlan& p, MemoryPlan& plan) {
  plan.minimum = p.minimum;
  plan.total = p.total();
  plan.fixed = items_of(p.fixed);
  plan.layers = static_cast<int64_t>(p.layers.size());
  plan.predictor_bytes = p.predictor_bytes;
  plan.predictor_text = p.inputs.predictor_text;
  plan.store_bytes = p.store_bytes;
  plan.window = p.inputs.window;
  plan.shrunk = p.shrunk;
  plan.expected_read_bytes_per_token = sparse::expected_read_bytes_per_token(p);
  plan.estimate_source = p.inputs.active_source;
  plan.text = p.describe();
}

void fill_experts(const flash::ExpertPlan& p, MemoryPlan& plan) {
  plan.minimum = p.minimum;
  plan.total = p.total();
  plan.fixed = items_of(p.fixed);
  plan.expert_slots = p.slots;
  plan.experts = p.all_experts;
  plan.expert_slot_bytes = p.slot_bytes;
  plan.expected_read_bytes_per_token = static_cast<double>(p.even_read_bytes_per_token());
  plan.estimate_source = "tokens spread evenly over the experts";
  plan.text = p.describe();
}

// What every plan states: the mode planned and the options resolved as the
// engine resolves them. `b` becomes the backend options to plan with.
MemoryPlan frame(const EngineOptions& options, const model::HyperParams& hp, const gguf::GgufFile& file,
                 EngineMode mode, flash::BackendOptions& b) {
  b = backend_options(options, hp, file.path().filename().string());
  b.mode = mode;
  MemoryPlan plan;
  plan.mode = mode;
  plan.threads = resolved_threads(options.threads);
  plan.context = b.context;
  plan.layers = hp.n_layers;
  plan.budget = b.budget.is_set() ? b.budget.resolve(file.file_size()) : 0;
  return plan;
}

}  // namespace

MemoryPlan Engine::plan(const EngineOptions& options) {
  const gguf::GgufFile file = gguf::GgufFile::open(options.model_path);
  const std::string where = options.model_path.filename().string();
  flash::BackendOptions b;
  if (!flash::PackFile::is_pack(file)) {
    const model::HyperParams hp = model::read_hyper_params(file);
    if (!hp.is_moe()) {
      throw Error(where + " is not packed for flash mode; the DRAM budget applies to packed models (`sieve pack`).");
    }
    if (options.mode == EngineMode::sparse) {
      throw Error(where + ": sparse mode predicts the neurons of dense feed-forward layers; a Mixture-of-Experts "
                  "model streams its experts in flash mode.");
    }
    MemoryPlan plan = frame(options, hp, file, EngineMode::flash, b);
    fill_experts(flash::plan_expert_memory(file, hp, b), plan);
    return plan;
  }
  const flash::PackFile pack = flash::PackFile::over(file);
  const EngineMode mode = options.mode == EngineMode::sparse ? EngineMode::sparse : EngineMode::flash;
  MemoryPlan plan = frame(options, pack.hparams(), file, mode, b);
  if (mode == EngineMode::sparse) {
    fill_sparse(flash::plan_sparse_pack_memory(pack, b, plan.threads), plan);
  } else {
    fill_flash(flash::plan_pack_memory(pack, b, plan.threads), plan);
  }
  return plan;
}

}  // namespace sieve
