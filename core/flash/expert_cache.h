#pragma once
// Flash mode for a Mixture-of-Experts model, straight from its GGUF (no pack):
// the router names the experts a token runs, exactly, and this cache holds
// the ones most worth keeping in preallocated slots, reading a missing
// expert's three slices (gate, up, down: each contiguous in its stacked
// `*_exps` tensor) with direct, aligned, parallel reads (flash/io). What the
// cache holds never changes a result: a hit and a miss give the same bytes.
//
// Eviction is a segmented LRU: an expert enters on probation; chosen again
// while cached, it is promoted to the protected segment (at most 80% of the
// slots; its least recent member is demoted back when it overflows). Victims
// are the least recently used on probation, so experts used again and again
// (frequent ones) survive a burst of experts used once. Never evicted: an
// expert of the request being served, or one read ahead for the next layer
// and not yet used or replaced by a newer hint.
//
// Overlap: request() starts the reads of the missing experts and returns;
// the caller computes the cached ones, then wait(). prefetch() reads the
// experts a hint names into free-or-victim slots without waiting; the next
// request finishes those reads first. The slots are all allocated at
// construction; serving a token allocates nothing.

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
  uint64_t hits = 0;            // chosen experts found in a slot (read ahead ones included)
  uint64_t misses = 0;          // chosen experts read on demand
  uint64_t bytes_read = 0;      // alignment and merged holes included; read ahead included
  uint64_t wanted_bytes = 0;    // the missed and the read ahead experts' own bytes
  uint64_t prefetched = 0;      // experts read ahead on a hint
  uint64_t prefetch_used = 0;   // of those, chosen while still cached
  double io_wait_seconds = 0;   // blocked in request/wait on reads
  std::vector<uint64_t> layer_hits, layer_misses;  // per layer
};

class ExpertCache final : public model::ExpertSource {
 public:
  // Bytes of one slot: the largest expert of any layer (gate, up and down).
  static uint64_t slot_bytes(const gguf::GgufFile& file, const model::HyperParams& hp);

  // `slots` experts fit, at least hp.n_experts_used (a layer's choice) and at
  // most every expert of every layer. `file` and `io` must outlive the cache.
  // `read_ahead_precision`: FlashTuning::expert_read_ahead_precision.
  ExpertCache(const gguf::GgufFile& file, const model::HyperParams& hp, IoEngine& io, int64_t slots,
              double read_ahead_precision = 0.92);

  // One request names at most two layers' choices of experts (bounding the
  // reads in flight and their staging), and no more than the slots.
  static int64_t request_limit(const model::HyperParams& hp, int64_t slots);
  int64_t capacity() const override { return request_limit(hp_, slots()); }
  void request(int layer, std::span<const int32_t> experts, std::span<model::ExpertMatrices> out,
               std::span<uint8_t> ready) override;
  void wait(int layer, std::span<const int32_t> experts, std::span<model::ExpertMatrices> out) override;
  // Reads ahead the uncached experts of the hint's trusted ranks (of its
  // first k): the ranks most often right that were, together, right at least
  // `read_ahead_precision` of the time lately about uncached experts (a rank
  // is judged at the hinted layer's next request, read or not), and only when
  // the cache has room for two layers' choices (with fewer slots a hint would
  // evict what is needed now).
  void prefetch(int layer, std::span<const int32_t> experts) override;
  bool takes_hints() const override { return slots() >= 2 * hp_.n_experts_used; }

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

  enum class Reading { none, demand, ahead };

  size_t key(int layer, int32_t expert) const {
    return static_cast<size_t>(static_cast<int64_t>(layer) * hp_.n_experts + expert);
  }
  int32_t take_slot();
  void assign(int32_t slot, size_t key);
  void forget(int32_t slot);
  void promote(int32_t slot);
  void read_into(int32_t slot, int layer, int32_t expert);
  void submit_reads(Reading kind);
  void finish_reads();
  model::ExpertMatrices matrices(int32_t slot, int layer) const;

  const gguf::GgufFile& file_;
  const model::HyperParams& hp_;
  std::vector<LayerTensors> layers_;
  uint64_t slot_bytes_ = 0;
  AlignedBuffer storage_;            // slots * slot_bytes_
  std::vector<int32_t> slot_of_;     // layer * n_experts + expert -> slot, or -1
  std::vector<int64_t> owner_;       // slot -> layer * n_experts + expert, or -1
  std::vector<uint64_t> last_used_;  // slot -> the tick of its last use
  std::vector<uint8_t> protected_;   // slot -> in the protected segment
  std::vector<uint8_t> ahead_;       // slot -> read ahead, not chosen yet
  std::vector<Placement> placed_;    // slot -> its expert's slices
  int64_t protected_count_ = 0;
  int64_t protected_limit_ = 0;
  // One per request; a slot used at tick_ is not evicted. Free slots carry
  // tick 0, which tick_ never is (a hint before any request may take them).
  uint64_t tick_ = 1;
  std::vector<int32_t> filling_;     // slots whose reads are in flight
  std::vector<ReadRequest> wanted_;  // those reads (3 per expert)
  Reading reading_ = Reading::none;
  // How often each rank of a hint named an uncached expert that its layer
  // then chose, lately (judged at the hinted layer's next request, whether it
  // was read ahead or not, so a rank left unread keeps being judged).
  struct RankPrecision {
    double guessed = 0, chosen = 0;
  };
  double read_ahead_precision_;
  std::vector<RankPrecision> rank_precision_;  // one per rank, k
  std::vector<uint8_t> rank_trusted_;          // rank -> read ahead
  std::vector<size_t> rank_order_;             // the ranks, most often right first
  std::vector<int32_t> hint_;                  // the last hint (-1: was cached), judged at its layer's request
  int hint_layer_ = -1;
  void judge_hint(int layer, std::span<const int32_t> experts);
  void trust_ranks();
  ScatterReader reader_;
  ExpertCacheStats stats_;
};

}  // namespace sieve::flash
