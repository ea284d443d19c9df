#include "flash/expert_cache.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "tensor/tensor_type.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

using Clock = std::chrono::steady_clock;

const gguf::TensorInfo& stacked(const gguf::GgufFile& file, int64_t layer, const char* name) {
  const std::string full = "blk." + std::to_string(layer) + "." + name;
  const gguf::TensorInfo* t = file.find_tensor(full);
  if (t == nullptr) throw Error(file.path().filename().string() + ": tensor '" + full + "' is missing.");
  return *t;
}

// A slice's room in a slot: its bytes plus one alignment block, so that it can
// start at the same offset within a block as in the file and be read
// straight into place (flash/io/read_planner.h: zero-copy).
uint64_t room(uint64_t bytes) { return align_up(bytes + kDefaultIoAlignment, kDefaultIoAlignment); }

uint64_t expert_bytes(const gguf::TensorInfo& t, int64_t n_experts) {
  return t.size_bytes / static_cast<uint64_t>(n_experts);
}

}  // namespace

uint64_t ExpertCache::slot_bytes(const gguf::GgufFile& file, const model::HyperParams& hp) {
  uint64_t largest = 0;
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    uint64_t bytes = 0;
    for (const char* name : {"ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight"}) {
      bytes += room(expert_bytes(stacked(file, l, name), hp.n_experts));
    }
    largest = std::max(largest, bytes);
  }
  return largest;
}

int64_t ExpertCache::request_limit(const model::HyperParams& hp, int64_t slots) {
  return std::min(slots, 8 * hp.n_experts_used);  // a prompt's union: fewer round trips
}

ExpertCache::ExpertCache(const gguf::GgufFile& file, const model::HyperParams& hp, IoEngine& io, int64_t slots,
                         double read_ahead_precision)
    : file_(file),
      hp_(hp),
      slot_bytes_(slot_bytes(file, hp)),
      slot_of_(static_cast<size_t>(hp.n_layers * hp.n_experts), -1),
      read_ahead_precision_(read_ahead_precision),
      reader_(io, PlanOptions{.merge = false}) {
  if (slots < hp.n_experts_used || slots > hp.n_layers * hp.n_experts) {
    throw Error("expert cache: " + std::to_string(slots) + " slots, expected " + std::to_string(hp.n_experts_used) +
                " to " + std::to_string(hp.n_layers * hp.n_experts) + ".");
  }
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    layers_.push_back({&stacked(file, l, "ffn_gate_exps.weight"), &stacked(file, l, "ffn_up_exps.weight"),
                       &stacked(file, l, "ffn_down_exps.weight")});
  }
  const uint64_t storage_bytes = slot_bytes_ * static_cast<uint64_t>(slots);
  storage_ = AlignedBuffer(static_cast<size_t>(storage_bytes), huge_page_alignment_for(storage_bytes));
  storage_.prefer_huge_pages();  // gigabytes first filled by direct reads: fewer page faults
  const auto n = static_cast<size_t>(slots);
  owner_.assign(n, -1);
  last_used_.assign(n, 0);
  protected_.assign(n, 0);
  ahead_.assign(n, 0);
  placed_.assign(n, {});
  const auto k = static_cast<size_t>(hp.n_experts_used);
  rank_precision_.assign(k, {});
  rank_trusted_.assign(k, 1);
  rank_order_.resize(k);
  for (size_t rank = 0; rank < k; ++rank) rank_order_[rank] = rank;
  hint_.reserve(static_cast<size_t>(hp.n_experts_used));
  protected_limit_ = slots * 4 / 5;
  stats_.layer_hits.assign(static_cast<size_t>(hp.n_layers), 0);
  stats_.layer_misses.assign(static_cast<size_t>(hp.n_layers), 0);
  const auto most = static_cast<size_t>(request_limit(hp, slots));
  filling_.reserve(most);
  wanted_.reserve(3 * most);
  uint64_t layer_span = 0;
  for (const LayerTensors& t : layers_) {
    layer_span = std::max(layer_span, t.gate->size_bytes + t.up->size_bytes + t.down->size_bytes);
  }
  reader_.reserve(3 * most, layer_span, 6 * most * kDefaultIoAlignment);
}

// The least recently used slot on probation that this request does not use
// (free slots were last used at tick 0); failing that, the least recently
// used protected one.
int32_t ExpertCache::take_slot() {
  int32_t victim = -1;
  bool victim_protected = true;
  for (size_t s = 0; s < last_used_.size(); ++s) {
    if (last_used_[s] == tick_) continue;
    const bool is_protected = protected_[s] != 0;
    const bool better = victim < 0 || (victim_protected && !is_protected) ||
                        (victim_protected == is_protected && last_used_[s] < last_used_[static_cast<size_t>(victim)]);
    if (better) {
      victim = static_cast<int32_t>(s);
      victim_protected = is_protected;
    }
  }
  // Callers never name more experts at once than there are slots.
  if (victim < 0) throw Error("expert cache: every slot holds an expert this request needs.");
  return victim;
}

void ExpertCache::forget(int32_t slot) {
  const auto s = static_cast<size_t>(slot);
  if (owner_[s] >= 0) slot_of_[static_cast<size_t>(owner_[s])] = -1;
  if (protected_[s] != 0) --protected_count_;
  owner_[s] = -1;
  protected_[s] = 0;
  ahead_[s] = 0;
  last_used_[s] = 0;
}

void ExpertCache::assign(int32_t slot, size_t key) {
  forget(slot);
  const auto s = static_cast<size_t>(slot);
  owner_[s] = static_cast<int64_t>(key);
  slot_of_[key] = slot;
  last_used_[s] = tick_;
}

// Chosen again while cached: into the protected segment, whose least recently
// used member goes back on probation when the segment is full.
void ExpertCache::promote(int32_t slot) {
  const auto s = static_cast<size_t>(slot);
  if (protected_[s] != 0) return;
  protected_[s] = 1;
  if (++protected_count_ <= protected_limit_) return;
  int32_t oldest = -1;
  for (size_t p = 0; p < protected_.size(); ++p) {
    if (protected_[p] == 0 || p == s) continue;
    if (oldest < 0 || last_used_[p] < last_used_[static_cast<size_t>(oldest)]) oldest = static_cast<int32_t>(p);
  }
  if (oldest < 0) oldest = slot;
  protected_[static_cast<size_t>(oldest)] = 0;
  --protected_count_;
}

void ExpertCache::read_into(int32_t slot, int layer, int32_t expert) {
  const LayerTensors& t = layers_[static_cast<size_t>(layer)];
  std::byte* base = storage_.data() + static_cast<size_t>(slot) * slot_bytes_;
  uint64_t cursor = 0;
  Placement& placed = placed_[static_cast<size_t>(slot)];
  const gguf::TensorInfo* pieces[3] = {t.gate, t.up, t.down};
  for (int p = 0; p < 3; ++p) {
    const uint64_t bytes = expert_bytes(*pieces[p], hp_.n_experts);
    const uint64_t offset = file_.tensor_file_offset(*pieces[p]) + static_cast<uint64_t>(expert) * bytes;
    placed.offset[p] = cursor + offset % kDefaultIoAlignment;
    wanted_.push_back({offset, static_cast<uint32_t>(bytes), base + placed.offset[p], 0});
    stats_.wanted_bytes += bytes;
    cursor += room(bytes);
  }
  filling_.push_back(slot);
}

model::ExpertMatrices ExpertCache::matrices(int32_t slot, int layer) const {
  const LayerTensors& t = layers_[static_cast<size_t>(layer)];
  const std::byte* base = storage_.data() + static_cast<size_t>(slot) * slot_bytes_;
  const Placement& placed = placed_[static_cast<size_t>(slot)];
  const auto view = [&](const gguf::TensorInfo& info, uint64_t offset, int64_t rows) {
    tensor::MatrixView v;
    v.data = base + offset;
    v.type = info.type;
    v.row_elems = static_cast<int64_t>(info.row_elements());
    v.n_rows = rows;
    v.row_stride = tensor::bytes_for(info.type, info.row_elements());
    return v;
  };
  return {view(*t.gate, placed.offset[0], hp_.n_ff_expert), view(*t.up, placed.offset[1], hp_.n_ff_expert),
          view(*t.down, placed.offset[2], hp_.dim)};
}

void ExpertCache::submit_reads(Reading kind) {
  try {
    reader_.submit(wanted_);
  } catch (...) {
    for (int32_t slot : filling_) forget(slot);
    filling_.clear();
    throw;
  }
  reading_ = kind;
}

// Waits for the reads in flight. Slots whose reads failed hold nothing
// usable and are forgotten; a failed read ahead is not an error (the expert
// is read again when chosen), a failed demand read is.
void ExpertCache::finish_reads() {
  const Reading kind = reading_;
  reading_ = Reading::none;
  const Clock::time_point start = Clock::now();
  try {
    reader_.wait();
  } catch (...) {
    for (int32_t slot : filling_) forget(slot);
    filling_.clear();
    stats_.io_wait_seconds += std::chrono::duration<double>(Clock::now() - start).count();
    if (kind == Reading::demand) throw;
    return;
  }
  stats_.io_wait_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  stats_.bytes_read += reader_.plan().read_bytes;
  filling_.clear();
}

void ExpertCache::request(int layer, std::span<const int32_t> experts, std::span<model::ExpertMatrices> out,
                          std::span<uint8_t> ready) {
  if (reading_ == Reading::demand) throw Error("expert cache: a request before the last one was waited for.");
  if (reading_ == Reading::ahead) finish_reads();
  judge_hint(layer, experts);
  ++tick_;
  // Hits first, so that no expert this request names is evicted for a miss.
  for (size_t i = 0; i < experts.size(); ++i) {
    const int32_t slot = slot_of_[key(layer, experts[i])];
    ready[i] = slot >= 0 ? 1 : 0;
    if (slot < 0) continue;
    const auto s = static_cast<size_t>(slot);
    last_used_[s] = tick_;
    if (ahead_[s] != 0) {
      ahead_[s] = 0;  // its first use: it stays on probation
      ++stats_.prefetch_used;
    } else {
      promote(slot);
    }
    ++stats_.hits;
    ++stats_.layer_hits[static_cast<size_t>(layer)];
    out[i] = matrices(slot, layer);
  }
  wanted_.clear();
  filling_.clear();
  for (size_t i = 0; i < experts.size(); ++i) {
    if (ready[i] != 0) continue;
    const int32_t slot = take_slot();
    assign(slot, key(layer, experts[i]));
    read_into(slot, layer, experts[i]);
    ++stats_.misses;
    ++stats_.layer_misses[static_cast<size_t>(layer)];
  }
  if (!wanted_.empty()) submit_reads(Reading::demand);
}

void ExpertCache::wait(int layer, std::span<const int32_t> experts, std::span<model::ExpertMatrices> out) {
  if (reading_ == Reading::demand) finish_reads();
  for (size_t i = 0; i < experts.size(); ++i) out[i] = matrices(slot_of_[key(layer, experts[i])], layer);
}

void ExpertCache::judge_hint(int layer, std::span<const int32_t> experts) {
  if (hint_layer_ != layer) return;
  hint_layer_ = -1;
  for (size_t rank = 0; rank < hint_.size(); ++rank) {
    if (hint_[rank] < 0) continue;  // was cached: a read ahead would have cost nothing
    RankPrecision& p = rank_precision_[rank];
    p.guessed += 1;
    if (std::find(experts.begin(), experts.end(), hint_[rank]) != experts.end()) p.chosen += 1;
    if (p.guessed > 1024) {  // a window of about the last thousand guesses
      p.guessed /= 2;
      p.chosen /= 2;
    }
  }
}

void ExpertCache::trust_ranks() {
  // A rank is read ahead once its guesses proved right: the ranks most often
  // right are trusted while, together, their guesses of uncached experts
  // were chosen at least read_ahead_precision_ of the time lately (judged 16
  // times or more in all, 4 or more each). Judging needs no reads, so nothing
  // is wasted on a rank before it is known to be good.
  if (read_ahead_precision_ <= 0) return;  // every rank, at once
  const auto right = [](const RankPrecision& p) { return (p.chosen + 1) / (p.guessed + 2); };
  std::sort(rank_order_.begin(), rank_order_.end(), [&](size_t a, size_t b) {
    return right(rank_precision_[a]) > right(rank_precision_[b]);
  });
  std::fill(rank_trusted_.begin(), rank_trusted_.end(), 0);
  double guessed = 0, chosen = 0;
  for (size_t i = 0; i < rank_order_.size(); ++i) {
    const RankPrecision& p = rank_precision_[rank_order_[i]];
    guessed += p.guessed;
    chosen += p.chosen;
    if (p.guessed < 4 || chosen < read_ahead_precision_ * guessed) break;
    if (guessed < 16) continue;
    for (size_t j = 0; j <= i; ++j) rank_trusted_[rank_order_[j]] = 1;
  }
}

void ExpertCache::prefetch(int layer, std::span<const int32_t> experts) {
  if (!takes_hints() || reading_ != Reading::none) return;
  wanted_.clear();
  filling_.clear();
  const size_t take = std::min<size_t>(experts.size(), static_cast<size_t>(hp_.n_experts_used));
  trust_ranks();
  hint_.clear();
  hint_layer_ = layer;
  for (size_t rank = 0; rank < take; ++rank) {
    const int32_t expert = experts[rank];
    const bool cached = slot_of_[key(layer, expert)] >= 0;
    hint_.push_back(cached ? -1 : expert);
    if (cached || rank_trusted_[rank] == 0) continue;
    const int32_t slot = take_slot();
    assign(slot, key(layer, expert));
    ahead_[static_cast<size_t>(slot)] = 1;
    read_into(slot, layer, expert);
    ++stats_.prefetched;
  }
  if (wanted_.empty()) return;
  try {
    submit_reads(Reading::ahead);
  } catch (const Error&) {
    // A hint is only a hint: the experts are read when chosen.
  }
}

}  // namespace sieve::flash
