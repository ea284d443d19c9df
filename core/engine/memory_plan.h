#pragma once
// What an engine would hold in DRAM, planned without loading it
// (Engine::plan in engine.h): the app's budget slider and Models page, its
// status bar's hit rate and `sieve bench` all read this one plan, so what
// they show is what Engine::load allocates.
//
// A pack (`sieve pack`) is planned, and a Mixture-of-Experts GGUF in flash
// mode (its experts streamed into an expert cache); any other plain GGUF is
// read whole (dense) or paged by the OS (mmap) and has no budget to split.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine_mode.h"

namespace sieve {

struct MemoryPlanItem {
  std::string what;  // "resident weights", "KV cache", "activations and scratch", "I/O staging"
  uint64_t bytes = 0;
};

struct MemoryPlan {
  EngineMode mode = EngineMode::flash;  // what was planned: sparse, or flash for every other mode
  int threads = 0;                      // resolved (EngineOptions::threads 0: every core)
  int64_t context = 0;                  // resolved (0: min(training context, 4096))
  uint64_t budget = 0;                  // resolved; 0: none (everything the mode can hold resident)
  uint64_t minimum = 0;                 // the least budget the engine loads with
  uint64_t total = 0;                   // what it allocates under `budget`
  std::vector<MemoryPlanItem> fixed;    // allocated whatever the budget
  int64_t layers = 0;

  // Flash mode: FFN layers held whole or streamed through two buffers, and
  // the FFN bytes a token runs through (pinned + streamed) and reads.
  int64_t pinned_layers = 0;
  int64_t streamed_layers = 0;
  uint64_t pinned_bytes = 0;
  uint64_t stream_buffer_bytes = 0;
  uint64_t ffn_bytes_per_token = 0;
  uint64_t streamed_bytes_per_token = 0;

  // Flash mode on a Mixture-of-Experts GGUF (no FFN layers pinned or
  // streamed): the expert cache's slots, of every expert of every layer.
  int64_t expert_slots = 0;
  int64_t experts = 0;
  uint64_t expert_slot_bytes = 0;

  // Sparse mode: the predictor, the neuron stores the window fills, and the
  // FFN bytes a token is expected to read (0: nothing to estimate from; the
  // pack is not calibrated), with where the estimate comes from. Flash mode
  // on a Mixture-of-Experts GGUF sets the last two too: what a token reads
  // when tokens spread evenly over the experts (the cache's worst case).
  uint64_t predictor_bytes = 0;
  std::string predictor_text;  // "gate, exact F16 copy"
  uint64_t store_bytes = 0;
  int window = 0;
  bool shrunk = false;  // the budget holds less than the window wants
  double expected_read_bytes_per_token = 0;
  std::string estimate_source;

  // The split, one item per line (`sieve run -v`, `sieve bench`).
  std::string text;
};

}  // namespace sieve
