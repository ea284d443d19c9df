#include "sparse/neuron_store.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include "util/error.h"

namespace sieve::sparse {
namespace {

constexpr size_t kPage = 4096;

}  // namespace

size_t NeuronStore::slot_stride(size_t unit_bytes) {
  if (unit_bytes % kPage == 0) return unit_bytes;
  return flash::align_up(unit_bytes, 64);
}

uint64_t NeuronStore::bytes_for(int64_t n_units, int64_t capacity, size_t unit_bytes) {
  const auto units = static_cast<uint64_t>(n_units), slots = static_cast<uint64_t>(capacity);
  return (slots + 1) * slot_stride(unit_bytes) + units * (sizeof(int32_t) + sizeof(int64_t) + sizeof(uint16_t)) +
         slots * (sizeof(int32_t) + sizeof(std::pair<uint64_t, int32_t>));
}

NeuronStore::NeuronStore(int64_t n_units, int64_t capacity, size_t unit_bytes)
    : n_units_(n_units), capacity_(capacity), unit_bytes_(unit_bytes), stride_(slot_stride(unit_bytes)) {
  if (n_units <= 0 || n_units > INT32_MAX || capacity <= 0 || capacity > n_units || unit_bytes == 0) {
    throw Error("neuron store: bad sizes (" + std::to_string(n_units) + " units, capacity " + std::to_string(capacity) +
                ", " + std::to_string(unit_bytes) + " bytes per unit).");
  }
  memory_ = flash::AlignedBuffer(static_cast<size_t>(capacity + 1) * stride_, kPage);
  slot_of_.assign(static_cast<size_t>(n_units), -1);
  unit_at_.assign(static_cast<size_t>(capacity), -1);
  last_used_.assign(static_cast<size_t>(n_units), INT64_MIN);
  uses_.assign(static_cast<size_t>(n_units), 0);
  lru_.reserve(static_cast<size_t>(capacity));
}

int32_t NeuronStore::append(int32_t unit, int64_t token) {
  if (size_ >= capacity_ || contains(unit)) throw Error("neuron store: append to a full store or of a held unit.");
  const auto slot = static_cast<int32_t>(size_++);
  unit_at_[static_cast<size_t>(slot)] = unit;
  slot_of_[static_cast<size_t>(unit)] = slot;
  touch(unit, token);
  return slot;
}

void NeuronStore::replace(int32_t slot, int32_t unit, int64_t token) {
  if (slot < pinned_ || slot >= size_ || contains(unit)) throw Error("neuron store: bad replace.");
  if (const int32_t old = unit_at(slot); old >= 0) slot_of_[static_cast<size_t>(old)] = -1;
  unit_at_[static_cast<size_t>(slot)] = unit;
  slot_of_[static_cast<size_t>(unit)] = slot;
  touch(unit, token);
}

void NeuronStore::move_slot(int32_t from, int32_t to) {
  std::memcpy(slot_data(to), slot_data(from), unit_bytes_);
  const int32_t unit = unit_at(from);
  unit_at_[static_cast<size_t>(to)] = unit;
  slot_of_[static_cast<size_t>(unit)] = to;
}

void NeuronStore::remove(int32_t slot) {
  if (slot < pinned_ || slot >= size_) throw Error("neuron store: bad remove.");
  if (const int32_t old = unit_at(slot); old >= 0) slot_of_[static_cast<size_t>(old)] = -1;
  const auto last = static_cast<int32_t>(size_ - 1);
  if (slot != last) {
    if (unit_at(last) < 0) throw Error("neuron store: a hole left behind the one removed.");
    move_slot(last, slot);
  }
  unit_at_[static_cast<size_t>(last)] = -1;
  --size_;
}

void NeuronStore::remove_all(std::vector<int32_t>& slots) {
  // Highest first: the last slot is then never one still to be removed.
  std::sort(slots.begin(), slots.end(), std::greater<>());
  for (int32_t slot : slots) remove(slot);
}

void NeuronStore::swap_slots(int32_t a, int32_t b) {
  if (a == b) return;
  const auto spare = static_cast<int32_t>(capacity_);
  std::byte* tmp = slot_data(spare);
  std::memcpy(tmp, slot_data(a), unit_bytes_);
  std::memcpy(slot_data(a), slot_data(b), unit_bytes_);
  std::memcpy(slot_data(b), tmp, unit_bytes_);
  const int32_t ua = unit_at(a), ub = unit_at(b);
  unit_at_[static_cast<size_t>(a)] = ub;
  unit_at_[static_cast<size_t>(b)] = ua;
  slot_of_[static_cast<size_t>(ub)] = a;
  slot_of_[static_cast<size_t>(ua)] = b;
}

bool NeuronStore::pin(int32_t unit) {
  const int32_t slot = slot_of(unit);
  if (slot < 0) return false;
  if (slot < pinned_) return true;
  swap_slots(slot, static_cast<int32_t>(pinned_));
  ++pinned_;
  return true;
}

void NeuronStore::clear() {
  for (int64_t s = 0; s < size_; ++s) {
    const int32_t unit = unit_at_[static_cast<size_t>(s)];
    if (unit >= 0) slot_of_[static_cast<size_t>(unit)] = -1;
  }
  std::fill(unit_at_.begin(), unit_at_.end(), -1);
  size_ = 0;
  pinned_ = 0;
}

void NeuronStore::touch(int32_t unit, int64_t token) {
  int64_t& last = last_used_[static_cast<size_t>(unit)];
  if (last == token) return;
  last = token;
  uint16_t& uses = uses_[static_cast<size_t>(unit)];
  if (uses < UINT16_MAX) ++uses;
}

void NeuronStore::seed(int32_t unit, uint32_t tokens, int64_t token) {
  uint16_t& uses = uses_[static_cast<size_t>(unit)];
  uses = static_cast<uint16_t>(std::min<uint32_t>(UINT16_MAX, uses + tokens));
  last_used_[static_cast<size_t>(unit)] = token;
}

void NeuronStore::age(int64_t token) {
  if (token < next_age_) return;
  for (uint16_t& uses : uses_) uses = static_cast<uint16_t>(uses / 2);
  next_age_ = (token / kAgeTokens + 1) * kAgeTokens;
}

void NeuronStore::least_used(int64_t token, int64_t count, std::vector<int32_t>& victims, int32_t prefer_below) {
  if (count <= 0) return;
  // Two passes: the units below prefer_below first, then, if they are too
  // few, the others. Key: uses, then last use (every held unit was used, at
  // a token >= 0).
  for (const bool preferred : {true, false}) {
    lru_.clear();
    for (int64_t s = pinned_; s < size_; ++s) {
      const auto slot = static_cast<int32_t>(s);
      const int32_t unit = unit_at(slot);
      if (unit < 0 || last_used(unit) >= token || (unit < prefer_below) != preferred) continue;
      const uint64_t key = (uint64_t{uses(unit)} << 48) | (static_cast<uint64_t>(last_used(unit)) & ((uint64_t{1} << 48) - 1));
      lru_.emplace_back(key, slot);
    }
    const auto take = static_cast<size_t>(std::min<int64_t>(count, static_cast<int64_t>(lru_.size())));
    if (take > 0) {
      std::nth_element(lru_.begin(), lru_.begin() + static_cast<ptrdiff_t>(take - 1), lru_.end());
      std::sort(lru_.begin(), lru_.begin() + static_cast<ptrdiff_t>(take));
      for (size_t i = 0; i < take; ++i) victims.push_back(lru_[i].second);
    }
    count -= static_cast<int64_t>(take);
    if (count <= 0 || prefer_below >= n_units_) return;
  }
}

void NeuronStore::check_invariants() const {
  auto fail = [](const std::string& what) { throw Error("neuron store invariant broken: " + what); };
  if (pinned_ > size_ || size_ > capacity_) fail("counts");
  int64_t held = 0;
  for (int64_t u = 0; u < n_units_; ++u) {
    const int32_t s = slot_of_[static_cast<size_t>(u)];
    if (s < 0) continue;
    ++held;
    if (s >= size_ || unit_at_[static_cast<size_t>(s)] != u) fail("unit " + std::to_string(u));
  }
  if (held != size_) fail("size");
  for (int64_t s = size_; s < capacity_; ++s) {
    if (unit_at_[static_cast<size_t>(s)] != -1) fail("free slot " + std::to_string(s));
  }
}

}  // namespace sieve::sparse
