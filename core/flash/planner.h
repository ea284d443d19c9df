#pragma once
// Splits a DRAM budget between what flash mode must hold and the FFN layers
// it may keep resident ("pinned").
//
// Everything the engine allocates for the model counts: the resident weights
// (read into our own buffers), the KV cache, scratch activations, I/O
// staging, and the FFN layers — pinned ones in full, streamed ones through
// two buffers of the largest streamed layer (one is computed while the next
// is read). The minimum is the fixed part plus those two buffers (or every
// FFN layer pinned, when that is less); below it loading stops with an error
// that states the minimum and its parts. Whatever remains pins whole layers,
// first come first (in exact mode every layer is read once per token, so
// which ones does not matter).

#include <cstdint>
#include <string>
#include <vector>

namespace sieve::flash {

struct MemoryItem {
  std::string what;  // "resident weights", "KV cache", ...
  uint64_t bytes = 0;
};

struct PlanInputs {
  uint64_t budget = 0;
  std::vector<MemoryItem> fixed;          // allocated whatever the split
  std::vector<uint64_t> pinned_bytes;     // per layer: its FFN held resident
  std::vector<uint64_t> streamed_bytes;   // per layer: its FFN as one streaming buffer
};

struct MemoryPlan {
  uint64_t budget = 0;
  std::vector<MemoryItem> fixed;
  uint64_t fixed_bytes = 0;
  std::vector<int64_t> pinned;    // layer ids, ascending
  std::vector<int64_t> streamed;  // layer ids, ascending
  uint64_t pinned_bytes = 0;
  uint64_t stream_buffer_bytes = 0;  // the streaming buffers (0 when nothing streams)
  uint64_t streamed_bytes_per_token = 0;
  uint64_t minimum = 0;

  uint64_t total() const { return fixed_bytes + pinned_bytes + stream_buffer_bytes; }
  bool is_pinned(int64_t layer) const;
  // The split, one item per line, for `sieve run -v` and `sieve bench`.
  std::string describe() const;
};

// Throws sieve::Error (prefixed with `where`) when the budget is below the
// minimum, naming the minimum and its parts.
MemoryPlan plan_memory(const PlanInputs& inputs, const std::string& where);


}  // namespace sieve::flash
