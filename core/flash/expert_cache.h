#pragma once
// Flash mode for a Mixture-of-Experts model, straight from its GGUF (no pack):
// the router names the experts a token runs, exactly, and this cache holds
// the most recently used ones in preallocated slots, reading a missing
// expert's three slices (gate, up, down: each contiguous in its stacked
// `*_exps` tensor) with direct, aligned, parallel reads (flash/io). What the
// cache holds never changes a result: a hit and a miss give the same bytes.
//
// Eviction: least recently used, never an expert this token's layer chose.
// The slots are all allocated at construction; fetching allocates nothing.

#include <cstdint>
#include <span>
#include <vector>

#include "flash/io/aligned_buffer.h"
#include "flash/io/read_planner.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "model/moe_feed_forward.h"

namespace sieve::flash {

struct ExpertCacheStats {
  uint64_t hits = 0;        // chosen experts found in a slot
  uint64_t misses = 0;      // chosen experts read from the file
  uint64_t bytes_read = 0;  // alignment and merged holes included
  uint64_t wanted_bytes = 0;  // the missed experts' own bytes
  double io_wait_seconds = 0;
};

class ExpertCache final : public model::ExpertSource {
 public:
  // Bytes of one slot: the largest expert of any layer (gate, up and down).
  static uint64_t slot_bytes(const gguf::GgufFile& file, const model::HyperParams& hp);

  // `slots` experts fit, at least hp.n_experts_used (a layer's choice) and at
  // most every expert of every layer. `file` and `io` must outlive the cache.
  ExpertCache(const gguf::GgufFile& file, const model::HyperParams& hp, IoEngine& io, int64_t slots);

  void fetch(int layer, std::span<const model::ExpertChoice> choice, std::span<model::ExpertMatrices> out) override;

  int64_t slots() const { return static_cast<int64_t>(owner_.size()); }
  const ExpertCacheStats& stats() const { return stats_; }

 private:
  // Where one layer's stacked tensors are.
  struct LayerTensors {
    const gguf::TensorInfo* gate = nullptr;
    const gguf::TensorInfo* up = nullptr;
    const gguf::TensorInfo* down = nullptr;
  };

  // Where read_into put an expert's gate, up and down within its slot.
  struct Placement {
    uint64_t offset[3] = {0, 0, 0};
  };

  int32_t take_slot(uint64_t tick);
  void read_into(int32_t slot, int layer, int32_t expert);
  model::ExpertMatrices matrices(int32_t slot, int layer) const;

  const gguf::GgufFile& file_;
  const model::HyperParams& hp_;
  std::vector<LayerTensors> layers_;
  uint64_t slot_bytes_ = 0;
  AlignedBuffer storage_;            // slots * slot_bytes_
  std::vector<int32_t> slot_of_;     // layer * n_experts + expert -> slot, or -1
  std::vector<int64_t> owner_;       // slot -> layer * n_experts + expert, or -1
  std::vector<uint64_t> last_used_;  // slot -> the tick of its last use
  std::vector<Placement> placed_;    // slot -> its expert's slices
  uint64_t tick_ = 0;
  std::vector<ReadRequest> wanted_;  // this fetch's reads (3 per missing expert)
  ScatterReader reader_;
  ExpertCacheStats stats_;
};

}  // namespace sieve::flash
