#pragma once
// The FeedForward of `--mode sparse` (docs/sparsity.md): for each decoded
// token and layer, only the neurons a predictor selects are computed, and
// only those not already in DRAM are read.
//
//   decode, per layer, the neurons taken in ranges of rows (predict_chunks):
//     predict the range(x) -> active neurons -> units (neurons, or clusters of B)
//     units in the layer's NeuronStore: hits; the others: missing
//     free slots, then the slots of the least used units of late
//        (neuron_store.h; units of ranges already predicted first: the token
//        does not want them)
//     submit reads of the missing units into their slots   (direct I/O,
//        neighbours merged across gaps up to merge_gap, up to eight rounds of
//        reads in flight) — while the next range is predicted
//     compute the hits                                      (overlapped)
//     compute each round of loaded units as it arrives
//     units that fit nowhere (the token wants more than the store holds)
//        are read through a small spill buffer and not kept
//   With a predictor that cannot split its work (predictor.h) the whole
//   layer is predicted first and the ranges only pace the reads.
//   prefill (a batch of several tokens): ChunkedPrefill, dense and exact; the
//     prompt's neurons count as used, and the most used go into the stores:
//     copied as they stream by when decode reads the bundles themselves,
//     read after the batch (during the next layer's attention) for
//     per-neuron units
//
// Units are the pack's bundles (neurons for float types, clusters of B for
// quantized ones), or, when the pack has them and the options allow, its
// per-neuron units (flash/neuron_units.h: one neuron, one contiguous read,
// the down column requantized). With the exact gate from the predictor (gate
// kind, exact copy) a unit is its up rows and down column(s) only; otherwise
// it carries its gate rows. Prefill always streams the exact bundles.
//
// Hot units — calibrated activation frequency >= 0.4 (sieve.pred.hot), or,
// without calibration, active in >= 40% of the first 16 decoded tokens — are
// pinned in the store's prefix as they arrive, up to the layer's hot capacity.
//
// A failed read raises sieve::Error after every read in flight has finished;
// units whose reads did not complete are dropped from the store, so the next
// call (the engine retries the same token, or goes on) is correct.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flash/bundle_layout.h"
#include "flash/io/io_engine.h"
#include "flash/io/read_planner.h"
#include "model/feed_forward.h"
#include "sparse/chunked_prefill.h"
#include "sparse/neuron_store.h"
#include "sparse/predictor.h"
#include "sparse/read_rounds.h"
#include "sparse/unit_kernel.h"

namespace sieve::sparse {

struct SparseLayer {
  flash::BundleLayout layout;
  uint64_t file_offset = 0;  // of the layer's first bundle
  int64_t capacity = 1;      // store slots, in units
  int64_t hot_capacity = 0;  // at most this many of them pinned
  // Calibrated activation frequency per neuron (n_ff values); empty: learn
  // the hot units from the first decoded tokens.
  std::vector<float> frequency;
  // The layer's per-neuron units, read in decode instead of the bundles when set.
  std::optional<flash::NeuronUnitLayout> neuron_units;
  uint64_t units_file_offset = 0;  // of the first unit
  // Per-neuron units: 0 reads each unit whole (its page padding included); the
  // file's direct-I/O alignment (a power of two, e.g. 512) reads only the
  // unit's used bytes rounded up to it, into store slots of that size
  // (unit_geometry). Decode's reads are then aligned to it, not to pages.
  uint32_t unit_read_alignment = 0;
};

struct SparseFfnOptions {
  bool pin_hot = true;
  bool gate_rows = true;          // units carry their gate rows (no exact gate from the predictor)
  uint32_t merge_gap = 0;  // read through holes up to this size
  uint32_t max_read = 1 << 20;
  int max_batch = 64;
  // A layer's prediction is cut into this many ranges of rows, and the reads
  // of each range's missing units start before the next range is predicted.
  int predict_chunks = 4;
};

struct SparseStats {
  int64_t tokens = 0;              // decode steps computed sparsely
  uint64_t neurons_predicted = 0;  // summed over layers and tokens
  uint64_t neurons_loaded = 0;     // read from the SSD (spilled ones included)
  uint64_t neuron_hits = 0;        // found in DRAM
  uint64_t neurons_spilled = 0;    // read but not kept: the store was full of this token's units
  uint64_t bytes_read = 0;         // decode reads: alignment and merged holes included
  uint64_t bytes_wanted = 0;       // the loaded units' own bytes
  uint64_t reads = 0;              // read requests issued (after merging and splitting)
  double wait_seconds = 0;         // decode blocked on reads
  uint64_t prefill_bytes_read = 0;
  double prefill_wait_seconds = 0;
  uint64_t ffn_bytes_per_token = 0;  // every layer's bundles: what streaming a whole token reads
  bool per_neuron_units = false;     // decode read the pack's per-neuron units
  uint64_t peak_round_staging = 0;   // the most staging one round of reads took (prompt warming too)
  uint64_t round_staging = 0;        // what a round may take (RoundBound), as planned
};

class SparseFeedForward final : public model::FeedForward, private PrefillListener {
 public:
  // hp, pool, io and predictor must outlive this. Allocates every store.
  SparseFeedForward(const model::HyperParams& hp, ThreadPool& pool, flash::IoEngine& io, Predictor& predictor,
                    std::vector<SparseLayer> layers, const SparseFfnOptions& options);
  ~SparseFeedForward() override;

  // What decode reads and computes per unit of a layer: its per-neuron units
  // when it has them, else its bundles.
  static UnitGeometry decode_units(const SparseLayer& layer, bool gate_rows);
  // Bytes per unit as stored, and everything besides the stores that this
  // class allocates: I/O staging (chunk buffers, planners, spill buffer) and
  // compute scratch.
  static size_t unit_bytes(const SparseLayer& layer, bool gate_rows) { return decode_units(layer, gate_rows).bytes; }
  static uint64_t staging_bytes(const std::vector<SparseLayer>& layers, bool gate_rows, uint32_t merge_gap);
  static uint64_t scratch_bytes(const model::HyperParams& hp, int threads, int max_batch,
                                const std::vector<flash::BundleLayout>& layouts);

  void forward(int layer, int64_t pos, const float* x, float* y) override;
  void forward_batch(int layer, int64_t pos, const float* x, int n_tokens, float* y) override;

  SparseStats stats() const;
  const NeuronStore& store(int layer) const { return layers_.at(static_cast<size_t>(layer)).store; }

 private:
  struct LayerState {
    LayerState(const SparseLayer& config, bool gate_rows);
    SparseLayer config;
    UnitGeometry geometry;
    uint64_t units_offset;  // in the file, of unit 0
    NeuronStore store;
    std::vector<uint8_t> hot;     // per unit: pin when it arrives
    std::vector<uint16_t> seen;   // per unit: tokens it was active in while learning
  };
  struct Round {
    size_t first = 0, count = 0;  // into loaded_
  };

  // Whether position `pos` starts a new token (what the stores count).
  bool next_token(int64_t pos);
  void begin_layer(LayerState& s);
  void predict_rows(int layer, const float* x, int64_t begin, int64_t end);
  void take_units(LayerState& s, int64_t end);
  void assign_slots(LayerState& s, int32_t known_below);
  void want_unit(const LayerState& s, int32_t unit, std::byte* dest);
  void submit_ready(LayerState& s);
  void compute_rounds(LayerState& s);
  // Waits for a round; idle pool workers sleep meanwhile if it has not landed.
  void wait_round(int side);
  void run_spill(LayerState& s);
  void forget_failed_loads(LayerState& s);
  void start_warming(LayerState& s);
  void finish_warming();
  void on_chunk(int layer, int64_t c0, int64_t c1, const std::byte* bundles, const float* h, int n_tokens) override;
  void learn_hot(LayerState& s);
  void pin_hot(LayerState& s);
  std::span<const UnitRef> refs(size_t first, size_t count) const;

  const model::HyperParams& hp_;
  ThreadPool& pool_;
  flash::IoEngine& io_;
  Predictor& predictor_;
  SparseFfnOptions options_;
  std::vector<LayerState> layers_;
  UnitKernel kernel_;
  ChunkedPrefill prefill_;
  ReadRounds rounds_;  // into store slots and spill_; drained by the destructor
  size_t spill_units_ = 1;      // units per spill round
  uint64_t round_staging_ = 0;  // per side
  // Rounds of this call: round k is on side k % sides, holding round_of_[side].
  std::vector<Round> round_of_;
  RoundBound bound_;
  size_t submitted_ = 0;  // loaded_ before this were submitted
  size_t rounds_begun_ = 0, rounds_done_ = 0;
  size_t active_taken_ = 0;  // active_ before this are in units_
  // Reads of a prompt's units into a layer's store, finished by the next call.
  LayerState* warming_ = nullptr;
  std::array<uint64_t, 3> warm_counts_before_{};  // bytes read, wanted, reads when they began
  double warm_wait_before_ = 0;
  uint64_t warm_bytes_read_ = 0, warm_bytes_wanted_ = 0, warm_reads_ = 0;
  double warm_wait_seconds_ = 0;
  flash::AlignedBuffer spill_;

  int64_t token_ = -1;
  int64_t last_pos_ = -1;
  // Per call, preallocated for the largest layer:
  std::vector<int32_t> active_;       // predicted neurons
  std::vector<int32_t> units_;        // their units, ascending
  std::vector<int32_t> missing_;      // units to read (of the current range)
  std::vector<int32_t> victims_;      // slots to give up
  std::vector<UnitRef> hits_, loaded_;
  std::vector<int32_t> spilled_;      // missing units with no slot
  std::vector<UnitRef> spill_refs_;   // one spill round's units in the spill buffer
  std::vector<flash::ReadRequest> wanted_;
  std::vector<std::pair<uint32_t, int32_t>> ranked_;  // hot selection: (count, unit)
  SparseStats stats_;
};

}  // namespace sieve::sparse
