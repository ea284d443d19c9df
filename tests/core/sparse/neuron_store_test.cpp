// The neuron store against a plain model of the set it should hold: random
// appends, replacements, removals, pins and victim choices keep the indexes
// and every slot's bytes right, nothing is allocated after construction, and
// victims are the least used of late, then the least recently used.
//
// This executable counts every operator new (alloc_counter.h).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "core/alloc_counter.h"
#include "sparse/neuron_store.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

constexpr int64_t kUnits = 300;
constexpr int64_t kCapacity = 60;
constexpr size_t kUnitBytes = 100;

void fill(NeuronStore& store, int32_t slot, int32_t unit) {
  std::memset(store.slot_data(slot), static_cast<int>(unit * 7 + 1) & 0xff, kUnitBytes);
}

bool holds_bytes_of(const NeuronStore& store, int32_t slot, int32_t unit) {
  const auto* p = reinterpret_cast<const unsigned char*>(store.slot_data(slot));
  const auto expected = static_cast<unsigned char>((unit * 7 + 1) & 0xff);
  return std::all_of(p, p + kUnitBytes, [&](unsigned char b) { return b == expected; });
}

// The store's contents, as the model says they must be.
struct Model {
  std::map<int32_t, int64_t> held;  // unit -> last used
  std::set<int32_t> pinned;
  std::map<int32_t, uint32_t> uses;  // every unit ever used: tokens that used it, halved every 32 tokens
  std::map<int32_t, int64_t> last;   // every unit ever used: the last token
  int64_t next_age = NeuronStore::kAgeTokens;

  void use(int32_t unit, int64_t token) {
    held[unit] = token;
    if (last.count(unit) && last[unit] == token) return;
    last[unit] = token;
    ++uses[unit];
  }
  void age(int64_t token) {
    if (token < next_age) return;
    for (auto& [unit, n] : uses) n /= 2;
    next_age = (token / NeuronStore::kAgeTokens + 1) * NeuronStore::kAgeTokens;
  }
};

void expect_matches(const NeuronStore& store, const Model& model) {
  ASSERT_NO_THROW(store.check_invariants());
  ASSERT_EQ(store.size(), static_cast<int64_t>(model.held.size()));
  ASSERT_EQ(store.pinned(), static_cast<int64_t>(model.pinned.size()));
  for (int32_t u = 0; u < kUnits; ++u) {
    const auto it = model.held.find(u);
    ASSERT_EQ(store.contains(u), it != model.held.end()) << "unit " << u;
    if (it == model.held.end()) continue;
    const int32_t slot = store.slot_of(u);
    EXPECT_TRUE(holds_bytes_of(store, slot, u)) << "unit " << u << " in slot " << slot;
    EXPECT_EQ(store.last_used(u), it->second);
    EXPECT_EQ(store.is_pinned_slot(slot), model.pinned.count(u) == 1) << "unit " << u;
  }
  for (int32_t u = 0; u < kUnits; ++u) {
    const auto it = model.uses.find(u);
    EXPECT_EQ(store.uses(u), it == model.uses.end() ? 0u : it->second) << "unit " << u;
  }
}

// One random operation on both; returns false when it did nothing.
void random_step(NeuronStore& store, Model& model, std::mt19937& rng, int64_t token, std::vector<int32_t>& victims) {
  auto pick_unit = [&] { return static_cast<int32_t>(rng() % kUnits); };
  auto pick_unpinned_slot = [&]() -> int32_t {
    if (store.size() == store.pinned()) return -1;
    return static_cast<int32_t>(store.pinned() + static_cast<int64_t>(rng() % static_cast<uint64_t>(store.size() - store.pinned())));
  };
  switch (rng() % 7) {
    case 0:
    case 1: {  // append
      const int32_t unit = pick_unit();
      if (store.contains(unit) || store.free_slots() == 0) return;
      fill(store, store.append(unit, token), unit);
      model.use(unit, token);
      return;
    }
    case 2: {  // replace
      const int32_t slot = pick_unpinned_slot(), unit = pick_unit();
      if (slot < 0 || store.contains(unit)) return;
      model.held.erase(store.unit_at(slot));
      store.replace(slot, unit, token);
      fill(store, slot, unit);
      model.use(unit, token);
      return;
    }
    case 3: {  // remove
      const int32_t slot = pick_unpinned_slot();
      if (slot < 0) return;
      model.held.erase(store.unit_at(slot));
      store.remove(slot);
      return;
    }
    case 4: {  // pin, up to a quarter of the store
      const int32_t unit = pick_unit();
      if (!store.contains(unit) || store.pinned() >= kCapacity / 4) return;
      EXPECT_TRUE(store.pin(unit));
      model.pinned.insert(unit);
      return;
    }
    case 5: {  // touch
      const int32_t unit = pick_unit();
      if (!store.contains(unit)) return;
      store.touch(unit, token);
      model.use(unit, token);
      return;
    }
    default: {  // victims, the least used first; some refilled, the rest removed
      store.age(token);
      model.age(token);
      victims.clear();
      store.least_used(token, static_cast<int64_t>(rng() % 8), victims);
      const auto key = [&](int32_t unit) { return std::pair{store.uses(unit), store.last_used(unit)}; };
      for (int32_t slot : victims) {
        const int32_t unit = store.unit_at(slot);
        EXPECT_FALSE(store.is_pinned_slot(slot));
        EXPECT_LT(store.last_used(unit), token) << "a unit of the current token was chosen";
        for (const auto& [other, used] : model.held) {  // nothing used less was passed over
          if (!model.pinned.count(other) && used < token &&
              std::find(victims.begin(), victims.end(), store.slot_of(other)) == victims.end()) {
            EXPECT_GE(key(other), key(unit)) << "unit " << other << " passed over for " << unit;
          }
        }
      }
      for (int32_t slot : victims) model.held.erase(store.unit_at(slot));
      // Refill some of them with new units, remove the others.
      size_t refilled = 0;
      while (refilled < victims.size() / 2) {
        const int32_t unit = pick_unit();
        if (store.contains(unit)) break;
        store.replace(victims[refilled], unit, token);
        fill(store, victims[refilled], unit);
        model.use(unit, token);
        ++refilled;
      }
      victims.erase(victims.begin(), victims.begin() + static_cast<ptrdiff_t>(refilled));
      store.remove_all(victims);
      return;
    }
  }
}

TEST(NeuronStore, RandomOperationsMatchASimpleModelOfTheSet) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    NeuronStore store(kUnits, kCapacity, kUnitBytes);
    Model model;
    std::mt19937 rng(seed);
    std::vector<int32_t> victims;
    victims.reserve(kCapacity);
    for (int64_t step = 0; step < 4000; ++step) {
      random_step(store, model, rng, step / 10, victims);
      if (step % 50 == 0) expect_matches(store, model);
      if (::testing::Test::HasFatalFailure()) return;
    }
    expect_matches(store, model);
    store.clear();
    EXPECT_EQ(store.size(), 0);
    EXPECT_FALSE(store.contains(0));
  }
}

TEST(NeuronStore, AllocatesNothingAfterConstruction) {
  const uint64_t probe = sieve::testing_util::allocations();
  ::operator delete(::operator new(64));  // a direct call, which the compiler may not elide
  ASSERT_GT(sieve::testing_util::allocations(), probe) << "the allocation counter does not count";
  NeuronStore store(kUnits, kCapacity, kUnitBytes);
  std::vector<int32_t> victims;
  victims.reserve(kCapacity);
  // Appends, touches, victims, removals (moves) and pins, token after token.
  const uint64_t start = sieve::testing_util::allocations();
  for (int64_t token = 10000; token < 12000; ++token) {
    victims.clear();
    store.age(token);
    store.least_used(token, 5, victims);
    store.remove_all(victims);
    for (int32_t u = static_cast<int32_t>(token % 97); u < kUnits && store.free_slots() > 0; u += 37) {
      if (!store.contains(u)) fill(store, store.append(u, token), u);
      else store.touch(u, token);
    }
    if (store.size() > store.pinned() && store.pinned() < 10) store.pin(store.unit_at(static_cast<int32_t>(store.size() - 1)));
  }
  EXPECT_EQ(sieve::testing_util::allocations(), start);
  EXPECT_NO_THROW(store.check_invariants());
}

TEST(NeuronStore, VictimsAreTheLeastUsedOfLateThenTheLeastRecent) {
  std::vector<int32_t> victims;
  victims.reserve(8);
  // Units 0..5 used once, at tokens 0..5; unit 2 also at 6 and 7, unit 4 at 6;
  // unit 6 pinned (used at 0).
  NeuronStore store(100, 8, 64);
  for (int32_t u = 0; u < 6; ++u) store.append(u, u);
  store.append(6, 0);
  store.pin(6);
  for (int64_t t : {6, 7}) store.touch(2, t);
  store.touch(4, 6);
  store.touch(4, 6);  // once per token
  EXPECT_EQ(store.uses(2), 3u);
  EXPECT_EQ(store.uses(4), 2u);
  const auto units_of = [&](const std::vector<int32_t>& slots) {
    std::vector<int32_t> units;
    for (int32_t slot : slots) units.push_back(store.unit_at(slot));
    return units;
  };
  store.least_used(8, 5, victims);
  EXPECT_EQ(units_of(victims), (std::vector<int32_t>{0, 1, 3, 5, 4}));  // used once, oldest first; then 4 (twice)
  victims.clear();
  // Never the current token's or a pinned unit.
  store.touch(0, 8);
  store.least_used(8, 50, victims);
  EXPECT_EQ(units_of(victims), (std::vector<int32_t>{1, 3, 5, 4, 2}));
  victims.clear();
  // Units below 4 first (a caller knows the token does not want them), the others only when they are too few.
  store.least_used(8, 2, victims, 4);
  EXPECT_EQ(units_of(victims), (std::vector<int32_t>{1, 3}));
  victims.clear();
  store.least_used(8, 4, victims, 4);
  EXPECT_EQ(units_of(victims), (std::vector<int32_t>{1, 3, 2, 5}));
  victims.clear();
  // Counts are halved every kAgeTokens tokens, held or not: what was used long ago counts less.
  store.remove(store.slot_of(2));
  for (int64_t t = 8; t < 2 * NeuronStore::kAgeTokens; t += 4) store.touch(5, t);  // 14 more tokens
  store.age(NeuronStore::kAgeTokens);
  EXPECT_EQ(store.uses(2), 1u);  // 3 / 2, though not held
  EXPECT_EQ(store.uses(5), 15u / 2);
  store.age(NeuronStore::kAgeTokens + 5);  // same period: no change
  EXPECT_EQ(store.uses(5), 7u);
}

TEST(NeuronStore, RemovingMovesTheLastSlotIntoTheHole) {
  NeuronStore store(10, 4, 64);
  for (int32_t u = 0; u < 4; ++u) {
    const int32_t slot = store.append(u, 0);
    std::memset(store.slot_data(slot), u + 1, 64);
  }
  store.remove(1);
  EXPECT_EQ(store.size(), 3);
  EXPECT_EQ(store.unit_at(1), 3);
  EXPECT_EQ(store.slot_of(3), 1);
  EXPECT_EQ(static_cast<int>(store.slot_data(1)[0]), 4);
  EXPECT_FALSE(store.contains(1));
  EXPECT_THROW(store.append(0, 1), Error);  // already held
  EXPECT_THROW(NeuronStore(10, 11, 64), Error);
  EXPECT_THROW(NeuronStore(10, 0, 64), Error);
}

TEST(NeuronStore, SlotsOfWholePagesStayPageAligned) {
  EXPECT_EQ(NeuronStore::slot_stride(8192), 8192u);
  EXPECT_EQ(NeuronStore::slot_stride(100), 128u);
  NeuronStore store(10, 3, 8192);
  for (int32_t u = 0; u < 3; ++u) {
    const int32_t slot = store.append(u, 0);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(store.slot_data(slot)) % 4096, 0u);
  }
}

}  // namespace
}  // namespace sieve::sparse
