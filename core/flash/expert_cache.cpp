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

ExpertCache::ExpertCache(const gguf::GgufFile& file, const model::HyperParams& hp, IoEngine& io, int64_t slots)
    : file_(file),
      hp_(hp),
      slot_bytes_(slot_bytes(file, hp)),
      slot_of_(static_cast<size_t>(hp.n_layers * hp.n_experts), -1),
      reader_(io) {
  if (slots < hp.n_experts_used || slots > hp.n_layers * hp.n_experts) {
    throw Error("expert cache: " + std::to_string(slots) + " slots, expected " + std::to_string(hp.n_experts_used) +
                " to " + std::to_string(hp.n_layers * hp.n_experts) + ".");
  }
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    layers_.push_back({&stacked(file, l, "ffn_gate_exps.weight"), &stacked(file, l, "ffn_up_exps.weight"),
                       &stacked(file, l, "ffn_down_exps.weight")});
  }
  storage_ = AlignedBuffer(static_cast<size_t>(slot_bytes_ * static_cast<uint64_t>(slots)));
  owner_.assign(static_cast<size_t>(slots), -1);
  last_used_.assign(static_cast<size_t>(slots), 0);
  placed_.assign(static_cast<size_t>(slots), {});
  const auto k = static_cast<size_t>(hp.n_experts_used);
  wanted_.reserve(3 * k);
  uint64_t layer_span = 0;
  for (const LayerTensors& t : layers_) {
    layer_span = std::max(layer_span, t.gate->size_bytes + t.up->size_bytes + t.down->size_bytes);
  }
  reader_.reserve(3 * k, layer_span, 6 * k * kDefaultIoAlignment);
}

int32_t ExpertCache::take_slot(uint64_t tick) {
  // The least recently used slot no expert of this fetch holds (free slots
  // were last used at tick 0).
  int32_t victim = -1;
  for (size_t s = 0; s < last_used_.size(); ++s) {
    if (last_used_[s] == tick) continue;
    if (victim < 0 || last_used_[s] < last_used_[static_cast<size_t>(victim)]) victim = static_cast<int32_t>(s);
  }
  const int64_t evicted = owner_[static_cast<size_t>(victim)];
  if (evicted >= 0) slot_of_[static_cast<size_t>(evicted)] = -1;
  return victim;
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

void ExpertCache::fetch(int layer, std::span<const model::ExpertChoice> choice,
                        std::span<model::ExpertMatrices> out) {
  const uint64_t tick = ++tick_;
  // Hits first, so that no expert this layer needs is evicted for a miss.
  for (const model::ExpertChoice& c : choice) {
    const int32_t slot = slot_of_[static_cast<size_t>(layer * hp_.n_experts + c.expert)];
    if (slot >= 0) last_used_[static_cast<size_t>(slot)] = tick;
  }
  wanted_.clear();
  for (const model::ExpertChoice& c : choice) {
    const auto key = static_cast<size_t>(layer * hp_.n_experts + c.expert);
    if (slot_of_[key] >= 0) {
      ++stats_.hits;
      continue;
    }
    ++stats_.misses;
    const int32_t slot = take_slot(tick);
    slot_of_[key] = slot;
    owner_[static_cast<size_t>(slot)] = static_cast<int64_t>(key);
    last_used_[static_cast<size_t>(slot)] = tick;
    read_into(slot, layer, c.expert);
  }
  if (!wanted_.empty()) {
    const Clock::time_point start = Clock::now();
    try {
      reader_.submit(wanted_);
      reader_.wait();
    } catch (...) {
      // The slots being filled hold nothing usable: forget them.
      for (const model::ExpertChoice& c : choice) {
        const auto key = static_cast<size_t>(layer * hp_.n_experts + c.expert);
        const int32_t slot = slot_of_[key];
        if (slot >= 0 && last_used_[static_cast<size_t>(slot)] == tick) {
          owner_[static_cast<size_t>(slot)] = -1;
          last_used_[static_cast<size_t>(slot)] = 0;
          slot_of_[key] = -1;
        }
      }
      throw;
    }
    stats_.bytes_read += reader_.plan().read_bytes;
    stats_.io_wait_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  }
  for (size_t i = 0; i < choice.size(); ++i) {
    out[i] = matrices(slot_of_[static_cast<size_t>(layer * hp_.n_experts + choice[i].expert)], layer);
  }
}

}  // namespace sieve::flash
