#pragma once
// Flash mode for a Mixture-of-Experts GGUF, no pack needed: everything but
// the experts is read into RAM (embeddings, attention, norms, routers,
// biases) and the experts a token's router picks are streamed into an expert
// cache (flash/expert_cache.h) sized from the DRAM budget.
//
// The budget holds the resident weights, the KV cache, the activations, the
// I/O staging, and as many expert slots as fit beside them (every expert of
// every layer at most; no budget: that many). The minimum is one layer's
// choice of experts (expert_used_count slots); below it loading stops with
// an error naming the minimum and its parts.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/model_backend.h"
#include "flash/planner.h"

namespace sieve::flash {

struct ExpertPlan {
  std::vector<MemoryItem> fixed;  // resident weights, KV cache, activations and scratch, I/O staging
  uint64_t fixed_bytes = 0;
  uint64_t slot_bytes = 0;   // one expert's gate, up and down
  int64_t slots = 0;         // the cache's size in experts
  int64_t all_experts = 0;   // n_layers * n_experts
  uint64_t budget = 0;       // 0: none
  uint64_t minimum = 0;
  uint64_t expert_bytes = 0;       // one expert's own bytes (gate, up, down), on average
  int64_t chosen_per_token = 0;    // n_layers * expert_used_count
  // Bytes a decoded token reads when the routers spread tokens evenly over
  // the experts (the cache's worst case: a chosen expert is cached with
  // probability slots / all_experts). Real text reuses experts: usually less.
  uint64_t even_read_bytes_per_token() const;
  uint64_t total() const { return fixed_bytes + static_cast<uint64_t>(slots) * slot_bytes; }
  // The split, one item per line (`sieve run -v`).
  std::string describe() const;
};

// Throws sieve::Error (naming the file) below the minimum.
ExpertPlan plan_expert_memory(const gguf::GgufFile& file, const model::HyperParams& hp, const BackendOptions& options);

std::unique_ptr<ModelBackend> load_expert_backend(const gguf::GgufFile& file, const model::HyperParams& hp,
                                                  const BackendOptions& options, ThreadPool& pool);

}  // namespace sieve::flash
