#pragma once
// One layer's FFN neurons held in DRAM by `--mode sparse` (docs/sparsity.md).
//
// A *unit* is what is read and computed as a whole: one neuron's bundle for
// F16/BF16/F32 packs (gate row i, up row i, down column i), one cluster of
// B neurons for quantized packs (flash/bundle_layout.h). The store has a
// fixed number of slots, allocated once; each holds one unit's bytes.
//
//   slots  [0, pinned)        hot units, never evicted
//          [pinned, size)     the cached part
//          [size, capacity)   free
//
// Adding a unit appends it (or reuses a victim's slot); removing one moves
// the last slot into the hole, so [0, size) stays dense and nothing shifts.
// slot_of(unit) / unit_at(slot) map both ways. Each unit remembers the last
// token that used it and how many tokens used it of late (a count halved
// every kAgeTokens tokens, kept while the unit is out of the store too):
// least_used() names the units to give up when the store is full — the
// least often used of late, the least recently used first among equals.
// Activation frequencies are skewed (some neurons fire for most tokens, most
// for few), so this keeps far more of a token's neurons than recency alone.
// No operation allocates after construction.

#include <climits>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "flash/io/aligned_buffer.h"

namespace sieve::sparse {

class NeuronStore {
 public:
  // `n_units` units of `unit_bytes` each may be held, at most `capacity` at
  // once (0 < capacity <= n_units). Throws sieve::Error for bad sizes.
  NeuronStore(int64_t n_units, int64_t capacity, size_t unit_bytes);

  // Bytes between slots: unit_bytes rounded up to 4096 when it is a multiple
  // of 4096 already (direct reads land in place), else to 64.
  static size_t slot_stride(size_t unit_bytes);
  // Everything a store allocates: the slots, one spare slot (for swaps),
  // and its indexes.
  static uint64_t bytes_for(int64_t n_units, int64_t capacity, size_t unit_bytes);

  int64_t n_units() const { return n_units_; }
  int64_t capacity() const { return capacity_; }
  int64_t size() const { return size_; }
  int64_t pinned() const { return pinned_; }
  int64_t free_slots() const { return capacity_ - size_; }
  size_t unit_bytes() const { return unit_bytes_; }
  size_t stride() const { return stride_; }

  // -1 when the unit is not held.
  int32_t slot_of(int32_t unit) const { return slot_of_[static_cast<size_t>(unit)]; }
  bool contains(int32_t unit) const { return slot_of(unit) >= 0; }
  int32_t unit_at(int32_t slot) const { return unit_at_[static_cast<size_t>(slot)]; }
  bool is_pinned_slot(int32_t slot) const { return slot < pinned_; }
  std::byte* slot_data(int32_t slot) { return memory_.data() + static_cast<size_t>(slot) * stride_; }
  const std::byte* slot_data(int32_t slot) const { return memory_.data() + static_cast<size_t>(slot) * stride_; }

  // Counts of use are halved every this many tokens.
  static constexpr int64_t kAgeTokens = 32;

  // The last token that used the unit (INT64_MIN when never).
  int64_t last_used(int32_t unit) const { return last_used_[static_cast<size_t>(unit)]; }
  // Tokens that used it of late (halved every kAgeTokens tokens).
  uint32_t uses(int32_t unit) const { return uses_[static_cast<size_t>(unit)]; }
  // The unit is used by `token` (counted once per token).
  void touch(int32_t unit, int64_t token);
  // The unit was used by `tokens` tokens of a prompt batch, at `token`.
  void seed(int32_t unit, uint32_t tokens, int64_t token);
  // Halves every count when `token` starts a new period of kAgeTokens.
  void age(int64_t token);

  // Adds an absent unit in the first free slot and returns the slot; the
  // caller fills its bytes. Requires free_slots() > 0.
  int32_t append(int32_t unit, int64_t token);
  // Puts an absent unit in `slot` (not pinned; a hole, or a slot whose unit
  // is dropped).
  void replace(int32_t slot, int32_t unit, int64_t token);
  // Drops the unit in `slot` (not pinned; or closes a hole): the last slot
  // moves into its place.
  void remove(int32_t slot);
  // Drops the units in `slots` (none pinned, no repeats, every hole among
  // them). Reorders `slots`.
  void remove_all(std::vector<int32_t>& slots);
  // Moves a held unit into the pinned prefix, where it is never evicted.
  // Returns false when it is not held; true when pinned (or already was).
  bool pin(int32_t unit);
  // Drops every unit, pinned ones included.
  void clear();

  // Appends to `victims` up to `count` slots of unpinned units not used at
  // `token` itself, the least used of late first, then the least recently
  // used (for when the store is full). Units below `prefer_below` go first:
  // a caller that learns a token's units in ascending ranges knows those are
  // not wanted by the token, while a later range may still want one of the
  // others.
  void least_used(int64_t token, int64_t count, std::vector<int32_t>& victims, int32_t prefer_below = INT32_MAX);

  // Debug aid for tests: throws sieve::Error when the indexes disagree.
  void check_invariants() const;

 private:
  void move_slot(int32_t from, int32_t to);
  void swap_slots(int32_t a, int32_t b);

  int64_t n_units_, capacity_;
  size_t unit_bytes_, stride_;
  flash::AlignedBuffer memory_;  // capacity + 1 slots (the last one is the swap spare)
  std::vector<int32_t> slot_of_;   // per unit
  std::vector<int32_t> unit_at_;   // per slot
  std::vector<int64_t> last_used_; // per unit
  std::vector<uint16_t> uses_;     // per unit
  int64_t next_age_ = kAgeTokens;  // the token at which counts are next halved
  std::vector<std::pair<uint64_t, int32_t>> lru_;  // scratch: (uses, then last used; slot)
  int64_t size_ = 0;
  int64_t pinned_ = 0;
};

}  // namespace sieve::sparse
