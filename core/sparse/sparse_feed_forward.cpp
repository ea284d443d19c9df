#include "sparse/sparse_feed_forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "util/error.h"

namespace sieve::sparse {
namespace {

// Decode reads are aligned to the layers' unit read alignment when they set
// one (sectors, not pages), else to pages.
uint32_t read_alignment(const std::vector<SparseLayer>& layers) {
  uint32_t alignment = flash::kDefaultIoAlignment;
  for (const SparseLayer& l : layers) {
    if (l.neuron_units && l.unit_read_alignment > 0) alignment = std::min(alignment, l.unit_read_alignment);
  }
  return alignment;
}

flash::PlanOptions round_plan(const SparseFfnOptions& options, const std::vector<SparseLayer>& layers) {
  flash::PlanOptions plan;
  plan.alignment = read_alignment(layers);
  plan.merge_gap = options.merge_gap;
  plan.max_read = options.max_read;
  return plan;
}

// Rounds of decode reads in flight at once (one per predicted range of rows,
// typically), and the staging each may use. A round takes loaded units while
// the staging their reads could need stays within it (RoundBound).
constexpr int kRoundSides = 8;
constexpr uint64_t kRoundStaging = uint64_t{512} << 10;
constexpr size_t kMaxRoundUnits = 512;
// Hot units: active at least this often (calibrated, or over the first
// kLearnTokens decoded tokens).
constexpr double kHotFrequency = 0.4;
constexpr int64_t kLearnTokens = 16;

std::vector<UnitGeometry> geometries_of(const std::vector<SparseLayer>& layers, bool gate_rows) {
  std::vector<UnitGeometry> out;
  for (const SparseLayer& l : layers) out.push_back(SparseFeedForward::decode_units(l, gate_rows));
  return out;
}

uint64_t largest_layer_bytes(const std::vector<UnitGeometry>& units) {
  uint64_t largest = 0;
  for (const UnitGeometry& u : units) largest = std::max(largest, u.layer_bytes());
  return largest;
}

// What one side's staging may reach: kRoundStaging, or the whole layer when smaller.
uint64_t round_staging(const std::vector<UnitGeometry>& units) {
  return std::min(kRoundStaging, largest_layer_bytes(units) + 4 * flash::kDefaultIoAlignment);
}

// Units the spill buffer holds: as many as a round of the worst case (every
// unit followed by a whole merge gap) keeps within one side's staging.
size_t spill_units(const std::vector<UnitGeometry>& units, uint32_t merge_gap) {
  uint64_t most_units = 1;
  size_t largest_unit = 1;
  for (const UnitGeometry& u : units) {
    most_units = std::max(most_units, static_cast<uint64_t>(u.n_units));
    largest_unit = std::max(largest_unit, u.stride);
  }
  const uint64_t staging = round_staging(units), edges = 2 * flash::kDefaultIoAlignment;
  if (largest_layer_bytes(units) + edges <= staging) return static_cast<size_t>(std::min<uint64_t>(most_units, kMaxRoundUnits));
  const uint64_t per_unit = largest_unit + merge_gap;
  return static_cast<size_t>(std::clamp<uint64_t>((staging - edges) / per_unit, 1, kMaxRoundUnits));
}

size_t largest_stride(const std::vector<UnitGeometry>& units) {
  size_t largest = 1;
  for (const UnitGeometry& u : units) largest = std::max(largest, NeuronStore::slot_stride(u.bytes));
  return largest;
}

std::vector<flash::BundleLayout> layouts_of(const std::vector<SparseLayer>& layers) {
  std::vector<flash::BundleLayout> out;
  for (const SparseLayer& l : layers) out.push_back(l.layout);
  return out;
}

std::vector<PrefillLayer> prefill_layers(const std::vector<SparseLayer>& layers) {
  std::vector<PrefillLayer> out;
  for (const SparseLayer& l : layers) out.push_back({l.layout, l.file_offset});
  return out;
}

}  // namespace

UnitGeometry SparseFeedForward::decode_units(const SparseLayer& layer, bool gate_rows) {
  return layer.neuron_units ? unit_geometry(*layer.neuron_units, layer.layout, gate_rows, layer.unit_read_alignment)
                            : unit_geometry(layer.layout, gate_rows);
}

uint64_t SparseFeedForward::staging_bytes(const std::vector<SparseLayer>& layers, bool gate_rows, uint32_t merge_gap) {
  const std::vector<UnitGeometry> units = geometries_of(layers, gate_rows);
  const uint64_t spill = spill_units(units, merge_gap) * largest_stride(units);
  return ChunkedPrefill::staging_bytes(layouts_of(layers)) + kRoundSides * round_staging(units) + spill;
}

uint64_t SparseFeedForward::scratch_bytes(const model::HyperParams& hp, int threads, int max_batch,
                                          const std::vector<flash::BundleLayout>& layouts) {
  // Units: at most one per neuron (per-neuron units), fewer for clusters.
  const auto n_units = static_cast<uint64_t>(hp.n_ff);
  // Per-call index vectors (active neurons, units, refs, reads) for the largest layer.
  const uint64_t indexes = static_cast<uint64_t>(hp.n_ff) * sizeof(int32_t) + n_units * (4 * sizeof(int32_t) + 3 * sizeof(UnitRef) + 2 * sizeof(flash::ReadRequest) + 8);
  return UnitKernel::scratch_bytes(hp, threads, layouts) + ChunkedPrefill::scratch_bytes(hp, max_batch, threads, layouts) +
         indexes;
}

SparseFeedForward::LayerState::LayerState(const SparseLayer& c, bool gate_rows)
    : config(c),
      geometry(decode_units(c, gate_rows)),
      units_offset(c.neuron_units ? c.units_file_offset : c.file_offset),
      store(geometry.n_units, c.capacity, geometry.bytes),
      hot(static_cast<size_t>(geometry.n_units), 0),
      seen(static_cast<size_t>(geometry.n_units), 0) {}

SparseFeedForward::SparseFeedForward(const model::HyperParams& hp, ThreadPool& pool, flash::IoEngine& io,
                                     Predictor& predictor, std::vector<SparseLayer> layers,
                                     const SparseFfnOptions& options)
    : hp_(hp),
      pool_(pool),
      io_(io),
      predictor_(predictor),
      options_(options),
      kernel_(hp, pool, layouts_of(layers)),
      prefill_(hp, pool, io, prefill_layers(layers), options.max_batch, options.max_read),
      rounds_(io, round_plan(options, layers), kRoundSides),
      round_of_(static_cast<size_t>(kRoundSides)),
      bound_(std::max<uint64_t>(read_alignment(layers), io.file().required_alignment()), options.merge_gap) {
  if (options.predict_chunks < 1) throw Error("sparse FFN: predict_chunks must be at least 1.");
  if (static_cast<int64_t>(layers.size()) != hp.n_layers) throw Error("sparse FFN: one layer description per layer is needed.");
  const std::vector<UnitGeometry> units = geometries_of(layers, options.gate_rows);
  layers_.reserve(layers.size());
  int64_t max_units = 1;
  for (const SparseLayer& l : layers) {
    layers_.emplace_back(l, options.gate_rows);
    max_units = std::max(max_units, layers_.back().geometry.n_units);
    stats_.ffn_bytes_per_token += l.layout.layer_bytes();
    stats_.per_neuron_units = stats_.per_neuron_units || l.neuron_units.has_value();
  }
  spill_units_ = spill_units(units, options.merge_gap);
  spill_ = flash::AlignedBuffer(spill_units_ * largest_stride(units));
  // A round's ranges lie within one layer's units and bundles: its reads are
  // planned without allocating.
  uint64_t span = 0;
  for (const SparseLayer& l : layers) span = std::max(span, l.layout.layer_bytes() + (l.neuron_units ? l.neuron_units->layer_bytes() : 0));
  rounds_.reserve(2 * kMaxRoundUnits, span + 4 * flash::kDefaultIoAlignment, round_staging(units));
  round_staging_ = round_staging(units);
  const auto n = static_cast<size_t>(max_units);
  active_.reserve(static_cast<size_t>(hp.n_ff));
  for (auto* v : {&units_, &missing_, &victims_, &spilled_}) v->reserve(n);
  for (auto* v : {&hits_, &loaded_, &spill_refs_}) v->reserve(n);
  wanted_.reserve(2 * n);
  ranked_.reserve(n);
  prefill_.set_listener(this);
  for (LayerState& s : layers_) {
    if (options.pin_hot && !s.config.frequency.empty()) {
      // Calibrated: a cluster is as hot as its most active neuron.
      ranked_.clear();
      const int64_t b = s.geometry.cluster;
      for (int64_t u = 0; u < s.geometry.n_units; ++u) {
        float f = 0;
        for (int64_t j = 0; j < b; ++j) f = std::max(f, s.config.frequency[static_cast<size_t>(u * b + j)]);
        if (f >= kHotFrequency) ranked_.emplace_back(static_cast<uint32_t>(std::lround(f * 1e6)), static_cast<int32_t>(u));
      }
      const size_t take = std::min<size_t>(ranked_.size(), static_cast<size_t>(s.config.hot_capacity));
      std::partial_sort(ranked_.begin(), ranked_.begin() + static_cast<ptrdiff_t>(take), ranked_.end(), std::greater<>());
      for (size_t i = 0; i < take; ++i) s.hot[static_cast<size_t>(ranked_[i].second)] = 1;
    }
  }
}

SparseFeedForward::~SparseFeedForward() { rounds_.drain_quietly(); }

// A prompt batch fills the stores: each unit's count of the batch's tokens it
// was active in is added to its uses, and when decode reads the bundles
// themselves, the chunk's most used units are copied into the store while
// their bytes are at hand — into free slots, else over units used less (a
// later chunk of the batch may displace an earlier one's). The first decoded
// token then finds the prompt's frequent neurons in DRAM.
void SparseFeedForward::on_chunk(int layer, int64_t c0, int64_t c1, const std::byte* bundles, const float* h,
                                 int n_tokens) {
  LayerState& s = layers_.at(static_cast<size_t>(layer));
  const int64_t bundle_neurons = s.config.layout.cluster, neurons = (c1 - c0) * bundle_neurons;
  const int64_t per_unit = s.geometry.cluster;  // neurons per decode unit
  const int64_t first_unit = c0 * bundle_neurons / per_unit, end_unit = (c1 * bundle_neurons + per_unit - 1) / per_unit;
  const bool copy = !s.config.neuron_units.has_value();  // decode units are these bundles
  ranked_.clear();
  for (int64_t u = first_unit; u < end_unit; ++u) {
    uint32_t tokens = 0;
    for (int t = 0; t < n_tokens; ++t) {
      const float* row = h + static_cast<size_t>(t) * static_cast<size_t>(neurons);
      for (int64_t i = u * per_unit - c0 * bundle_neurons; i < std::min(neurons, (u + 1) * per_unit - c0 * bundle_neurons); ++i) {
        if (row[i] != 0.0f) {
          ++tokens;
          break;
        }
      }
    }
    if (tokens == 0) continue;
    const auto unit = static_cast<int32_t>(u);
    s.store.seed(unit, tokens, token_);
    if (copy && !s.store.contains(unit)) ranked_.emplace_back(s.store.uses(unit), unit);
  }
  if (ranked_.empty()) return;
  std::sort(ranked_.begin(), ranked_.end(), std::greater<>());
  auto place = [&](int32_t unit, int32_t slot) {
    std::memcpy(s.store.slot_data(slot), bundles + static_cast<size_t>(unit - c0) * s.geometry.stride + s.geometry.offset,
                s.geometry.bytes);
  };
  size_t next = 0;
  for (; next < ranked_.size() && s.store.free_slots() > 0; ++next) place(ranked_[next].second, s.store.append(ranked_[next].second, token_));
  victims_.clear();
  s.store.least_used(token_ + 1, static_cast<int64_t>(ranked_.size() - next), victims_);  // prompt units too
  for (size_t i = 0; i < victims_.size() && next < ranked_.size(); ++i, ++next) {
    const int32_t slot = victims_[i];
    if (s.store.uses(s.store.unit_at(slot)) >= ranked_[next].first) break;
    s.store.replace(slot, ranked_[next].second, token_);
    place(ranked_[next].second, slot);
  }
  victims_.clear();
}

bool SparseFeedForward::next_token(int64_t pos) {
  const bool fresh = pos != last_pos_;
  if (fresh) ++token_;
  last_pos_ = pos;
  return fresh;
}

void SparseFeedForward::forward_batch(int layer, int64_t pos, const float* x, int n_tokens, float* y) {
  if (n_tokens == 1) return forward(layer, pos, x, y);
  finish_warming();
  next_token(pos);  // a prompt batch is a token for the stores' counts too
  prefill_.forward(layer, x, n_tokens, y);
  LayerState& s = layers_.at(static_cast<size_t>(layer));
  if (s.config.neuron_units) start_warming(s);
}

// Per-neuron units do not stream by with the prompt's bundles: after the
// batch, the units it used most that the store lacks are read into free
// slots or over units used less, while the next layer's attention computes.
// The reads are finished (and counted as the prompt's) by the next call.
void SparseFeedForward::start_warming(LayerState& s) {
  ranked_.clear();
  for (int32_t u = 0; u < s.geometry.n_units; ++u) {
    if (s.store.last_used(u) == token_ && !s.store.contains(u)) ranked_.emplace_back(s.store.uses(u), u);
  }
  if (ranked_.empty()) return;
  std::sort(ranked_.begin(), ranked_.end(), std::greater<>());
  loaded_.clear();
  victims_.clear();
  const auto wanted = static_cast<int64_t>(ranked_.size());
  s.store.least_used(token_ + 1, wanted - s.store.free_slots(), victims_);  // the prompt's units too
  size_t next = 0;
  for (; next < ranked_.size() && s.store.free_slots() > 0; ++next) {
    const int32_t unit = ranked_[next].second;
    loaded_.push_back({unit, s.store.slot_data(s.store.append(unit, token_))});
  }
  for (size_t i = 0; i < victims_.size() && next < ranked_.size(); ++i, ++next) {
    const int32_t slot = victims_[i], unit = ranked_[next].second;
    if (s.store.uses(s.store.unit_at(slot)) >= ranked_[next].first) break;
    s.store.replace(slot, unit, token_);
    loaded_.push_back({unit, s.store.slot_data(slot)});
  }
  victims_.clear();
  if (loaded_.empty()) return;
  // Chosen by use, read in file order: RoundBound bounds a round's staging
  // for ranges in ascending order only (out of order, a round of units spread
  // over the layer merged into groups far above its staging).
  std::sort(loaded_.begin(), loaded_.end(), [](const UnitRef& a, const UnitRef& b) { return a.unit < b.unit; });
  warm_counts_before_ = {rounds_.bytes_read(), rounds_.bytes_wanted(), rounds_.reads()};
  warm_wait_before_ = rounds_.wait_seconds();
  submitted_ = rounds_begun_ = rounds_done_ = 0;
  warming_ = &s;
  submit_ready(s);
}

// Waits for the warming reads (every round, more submitted as sides free
// up). A failed read only drops the units that were being read: a token that
// needs them reads them again, and reports the error if it persists.
void SparseFeedForward::finish_warming() {
  if (warming_ == nullptr) return;
  LayerState& s = *warming_;
  warming_ = nullptr;
  try {
    const auto sides = static_cast<size_t>(rounds_.sides());
    while (rounds_done_ < rounds_begun_) {
      wait_round(static_cast<int>(rounds_done_ % sides));
      ++rounds_done_;
      submit_ready(s);
    }
  } catch (const Error&) {
    rounds_.drain_quietly();
    forget_failed_loads(s);
  }
  loaded_.clear();
  warm_bytes_read_ += rounds_.bytes_read() - warm_counts_before_[0];
  warm_bytes_wanted_ += rounds_.bytes_wanted() - warm_counts_before_[1];
  warm_reads_ += rounds_.reads() - warm_counts_before_[2];
  warm_wait_seconds_ += rounds_.wait_seconds() - warm_wait_before_;
}

// Clears what one call collects.
void SparseFeedForward::begin_layer(LayerState& s) {
  active_.clear();
  units_.clear();
  hits_.clear();
  loaded_.clear();
  spilled_.clear();
  victims_.clear();
  active_taken_ = submitted_ = rounds_begun_ = rounds_done_ = 0;
  s.store.age(token_);
}

// Appends the active neurons of rows [begin, end) to active_. A predictor
// that cannot split its work predicts the whole layer with the first range.
void SparseFeedForward::predict_rows(int layer, const float* x, int64_t begin, int64_t end) {
  if (predictor_.splits_rows()) {
    predictor_.predict_rows(layer, x, begin, end, active_);
  } else if (begin == 0) {
    predictor_.predict(layer, x, active_);
  }
}

// The units of the active neurons below `end` not taken yet: hits are
// touched and listed, the others listed in missing_.
void SparseFeedForward::take_units(LayerState& s, int64_t end) {
  missing_.clear();
  const int64_t b = s.geometry.cluster;
  for (; active_taken_ < active_.size() && active_[active_taken_] < end; ++active_taken_) {
    const auto unit = static_cast<int32_t>(active_[active_taken_] / b);
    if (!units_.empty() && units_.back() == unit) continue;
    units_.push_back(unit);
    const int32_t slot = s.store.slot_of(unit);
    if (slot >= 0) {
      s.store.touch(unit, token_);
      hits_.push_back({unit, s.store.slot_data(slot)});
    } else {
      missing_.push_back(unit);
    }
  }
}

// Missing units go into free slots, then into the slots of the least used
// units (neuron_store.h; units below `known_below` first: this token does
// not want them); the rest spill.
void SparseFeedForward::assign_slots(LayerState& s, int32_t known_below) {
  const int64_t short_by = static_cast<int64_t>(missing_.size()) - s.store.free_slots() - static_cast<int64_t>(victims_.size());
  s.store.least_used(token_, short_by, victims_, known_below);
  size_t reused = 0;
  for (int32_t unit : missing_) {
    int32_t slot = -1;
    if (reused < victims_.size()) {
      slot = victims_[reused++];
      s.store.replace(slot, unit, token_);
    } else if (s.store.free_slots() > 0) {
      slot = s.store.append(unit, token_);
    } else {
      spilled_.push_back(unit);
      continue;
    }
    loaded_.push_back({unit, s.store.slot_data(slot)});
  }
  victims_.erase(victims_.begin(), victims_.begin() + static_cast<ptrdiff_t>(reused));
}

std::span<const UnitRef> SparseFeedForward::refs(size_t first, size_t count) const {
  return std::span<const UnitRef>(loaded_).subspan(first, count);
}

// The reads of one unit into `dest`: the unit's bytes, and for per-neuron
// units that carry the gate, its gate row out of its bundle.
void SparseFeedForward::want_unit(const LayerState& s, int32_t unit, std::byte* dest) {
  const UnitGeometry& g = s.geometry;
  wanted_.push_back({s.units_offset + static_cast<uint64_t>(unit) * g.stride + g.offset, static_cast<uint32_t>(g.read_bytes),
                     dest, 0});
  if (g.gate_from_bundles) {
    wanted_.push_back({s.config.file_offset + g.gate_row_offset(unit), static_cast<uint32_t>(g.gate_row_bytes),
                       dest + g.gate_at, 0});
  }
}

// Submits the loaded units not yet asked for, in rounds that keep within one
// side's staging, while a side is free.
void SparseFeedForward::submit_ready(LayerState& s) {
  const auto sides = static_cast<size_t>(rounds_.sides());
  const UnitGeometry& g = s.geometry;
  while (submitted_ < loaded_.size() && rounds_begun_ - rounds_done_ < sides) {
    Round round{submitted_, 0};
    wanted_.clear();
    bound_.clear();
    while (submitted_ < loaded_.size() && round.count < kMaxRoundUnits) {
      const UnitRef& ref = loaded_[submitted_];
      const uint64_t at = s.units_offset + static_cast<uint64_t>(ref.unit) * g.stride + g.offset;
      const uint64_t gate_at = s.config.file_offset + g.gate_row_offset(ref.unit);
      const uint64_t need = bound_.total() + bound_.cost(0, at, g.read_bytes) +
                            (g.gate_from_bundles ? bound_.cost(1, gate_at, g.gate_row_bytes) : 0);
      if (round.count > 0 && need > round_staging_) break;
      bound_.add(0, at, g.read_bytes);
      if (g.gate_from_bundles) bound_.add(1, gate_at, g.gate_row_bytes);
      want_unit(s, ref.unit, const_cast<std::byte*>(ref.data));
      ++round.count;
      ++submitted_;
    }
    const size_t side = rounds_begun_ % sides;
    round_of_[side] = round;
    rounds_.submit(static_cast<int>(side), wanted_);
    ++rounds_begun_;
  }
}

void SparseFeedForward::wait_round(int side) {
  if (!rounds_.landed(side)) pool_.rest();  // the reaper and the kernel's completions need the cores more
  rounds_.wait(side);
}

// Computes the rounds in the order they were submitted, submitting more as
// sides free up. The order of the kernel's additions never depends on when
// reads land, so the output does not either.
void SparseFeedForward::compute_rounds(LayerState& s) {
  const auto sides = static_cast<size_t>(rounds_.sides());
  while (rounds_done_ < rounds_begun_) {
    const auto side = static_cast<int>(rounds_done_ % sides);
    wait_round(side);
    ++rounds_done_;
    const Round round = round_of_[static_cast<size_t>(side)];
    submit_ready(s);  // the freed side takes the next round before this one is computed
    kernel_.add(refs(round.first, round.count));
  }
}

// Units the store had no room for: read through the spill buffer, computed, dropped.
void SparseFeedForward::run_spill(LayerState& s) {
  const size_t stride = NeuronStore::slot_stride(s.geometry.bytes);
  for (size_t first = 0; first < spilled_.size(); first += spill_units_) {
    const size_t count = std::min(spill_units_, spilled_.size() - first);
    wanted_.clear();
    spill_refs_.clear();
    for (size_t i = 0; i < count; ++i) {
      const int32_t unit = spilled_[first + i];
      std::byte* dest = spill_.data() + i * stride;
      want_unit(s, unit, dest);
      spill_refs_.push_back({unit, dest});
    }
    rounds_.submit(0, wanted_);
    wait_round(0);
    kernel_.add_now(spill_refs_);  // the spill buffer is reused by the next round
  }
}

// After a failed read: the units read this call may hold partial bytes.
void SparseFeedForward::forget_failed_loads(LayerState& s) {
  for (const UnitRef& ref : loaded_) {
    const int32_t slot = s.store.slot_of(ref.unit);
    if (slot >= 0 && !s.store.is_pinned_slot(slot)) victims_.push_back(slot);
  }
  s.store.remove_all(victims_);
  victims_.clear();
  loaded_.clear();
}

void SparseFeedForward::learn_hot(LayerState& s) {
  if (!options_.pin_hot || !s.config.frequency.empty() || s.config.hot_capacity == 0 || stats_.tokens > kLearnTokens) {
    return;
  }
  for (int32_t unit : units_) ++s.seen[static_cast<size_t>(unit)];
  if (stats_.tokens != kLearnTokens) return;
  ranked_.clear();
  const auto at_least = static_cast<uint32_t>(std::ceil(kHotFrequency * kLearnTokens));
  for (size_t u = 0; u < s.seen.size(); ++u) {
    if (s.seen[u] >= at_least) ranked_.emplace_back(s.seen[u], static_cast<int32_t>(u));
  }
  const size_t take = std::min<size_t>(ranked_.size(), static_cast<size_t>(s.config.hot_capacity));
  std::partial_sort(ranked_.begin(), ranked_.begin() + static_cast<ptrdiff_t>(take), ranked_.end(), std::greater<>());
  for (size_t i = 0; i < take; ++i) s.hot[static_cast<size_t>(ranked_[i].second)] = 1;
}

void SparseFeedForward::pin_hot(LayerState& s) {
  if (!options_.pin_hot) return;
  for (int32_t unit : units_) {
    if (s.store.pinned() >= s.config.hot_capacity) return;
    if (s.hot[static_cast<size_t>(unit)] != 0) s.store.pin(unit);
  }
}

void SparseFeedForward::forward(int layer, int64_t pos, const float* x, float* y) {
  finish_warming();
  if (next_token(pos)) ++stats_.tokens;
  LayerState& s = layers_.at(static_cast<size_t>(layer));
  begin_layer(s);
  // Ranges of whole units, so that no unit straddles two of them.
  const int64_t n_ff = hp_.n_ff, b = s.geometry.cluster;
  const int64_t step = std::max<int64_t>(b, (n_ff + b * options_.predict_chunks - 1) / (b * options_.predict_chunks) * b);
  try {
    for (int64_t begin = 0; begin < n_ff; begin += step) {
      const int64_t end = std::min(n_ff, begin + step);
      predict_rows(layer, x, begin, end);
      if (begin == 0) kernel_.begin(s.geometry, x, predictor_.exact_gate(layer));
      take_units(s, end);
      assign_slots(s, static_cast<int32_t>((end + b - 1) / b));
      submit_ready(s);
    }
    kernel_.add(hits_);  // while the rounds land
    compute_rounds(s);
    run_spill(s);
  } catch (...) {
    rounds_.drain_quietly();
    forget_failed_loads(s);
    throw;
  }
  kernel_.finish(y);
  s.store.remove_all(victims_);
  stats_.neurons_predicted += active_.size();
  stats_.neuron_hits += hits_.size() * static_cast<uint64_t>(b);
  stats_.neurons_loaded += (loaded_.size() + spilled_.size()) * static_cast<uint64_t>(b);
  stats_.neurons_spilled += spilled_.size() * static_cast<uint64_t>(b);
  learn_hot(s);
  pin_hot(s);
}

SparseStats SparseFeedForward::stats() const {
  SparseStats s = stats_;
  // The prompt's warming reads (start_warming) are the prompt's, those in flight too.
  uint64_t warm_read = warm_bytes_read_, warm_wanted = warm_bytes_wanted_, warm_reads = warm_reads_;
  double warm_wait = warm_wait_seconds_;
  if (warming_ != nullptr) {
    warm_read += rounds_.bytes_read() - warm_counts_before_[0];
    warm_wanted += rounds_.bytes_wanted() - warm_counts_before_[1];
    warm_reads += rounds_.reads() - warm_counts_before_[2];
    warm_wait += rounds_.wait_seconds() - warm_wait_before_;
  }
  s.bytes_read = rounds_.bytes_read() - warm_read;
  s.bytes_wanted = rounds_.bytes_wanted() - warm_wanted;
  s.wait_seconds = rounds_.wait_seconds() - warm_wait;
  s.reads = rounds_.reads() - warm_reads;
  s.prefill_bytes_read = prefill_.bytes_read() + warm_read;
  s.prefill_wait_seconds = prefill_.wait_seconds() + warm_wait;
  s.peak_round_staging = rounds_.peak_staging();
  s.round_staging = round_staging_;
  return s;
}

}  // namespace sieve::sparse
