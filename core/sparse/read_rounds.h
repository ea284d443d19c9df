#pragma once
// Rounds of scattered reads in flight at once — the multiple buffering of
// the sparse FFN (neuron rounds, up to four in flight) and of sparse mode's
// prefill (chunks of bundles, two): while some rounds land, the data of
// another is computed.
//
// Each side is one flash::ScatterReader (merged, aligned, direct reads). A
// failed read is raised by wait(side); before that exception leaves its
// owner, drain_quietly() lets every read still in flight finish, so nothing
// writes into a buffer after it is reused or freed. Owners call
// drain_quietly() in their destructors too, before their buffers go.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "flash/io/read_planner.h"

namespace sieve::sparse {

class ReadRounds {
 public:
  ReadRounds(flash::IoEngine& io, const flash::PlanOptions& plan, int sides = 2);

  int sides() const { return static_cast<int>(readers_.size()); }
  // Sizes every side for rounds of up to `ranges` ranges within `span_bytes`
  // of the file and `staging_bytes` of staging: such rounds allocate nothing
  // (flash::ReadPlanner::reserve).
  void reserve(size_t ranges, uint64_t span_bytes, uint64_t staging_bytes);
  // Plans and submits a round on `side` (0 .. sides() - 1), which must be idle.
  void submit(int side, std::span<const flash::ReadRequest> wanted);
  // Whether the side's round has landed (wait() then returns at once).
  bool landed(int side);
  // Waits for the side's round; throws sieve::Error when a read failed.
  void wait(int side);
  // Waits for every round in flight, swallowing their errors (the first one
  // was already raised).
  void drain_quietly();

  uint64_t bytes_read() const { return bytes_read_; }      // with the holes merged into reads
  uint64_t bytes_wanted() const { return bytes_wanted_; }  // the requested ranges alone
  uint64_t reads() const { return reads_; }                // read requests issued (after merging and splitting)
  double wait_seconds() const { return wait_seconds_; }
  uint64_t peak_staging() const { return peak_staging_; }  // the most staging one round planned

 private:
  using Clock = std::chrono::steady_clock;
  std::vector<std::unique_ptr<flash::ScatterReader>> readers_;
  std::vector<uint8_t> in_flight_;
  uint64_t bytes_read_ = 0, bytes_wanted_ = 0, reads_ = 0;
  double wait_seconds_ = 0;
  uint64_t peak_staging_ = 0;
};

// The most staging a round's reads can take, as the read planner merges them
// (flash/io/read_planner.h), for cutting rounds to fit a side's staging:
// within each of two regions of the file (say, units and the rows kept apart
// from them) ranges are added in ascending order and join a group when they
// start within the merge gap of its end; every group may be staged whole.
// The first range of the second region costs one gap more, in case its group
// merges with one of the first.
class RoundBound {
 public:
  RoundBound(uint64_t alignment, uint64_t merge_gap) : alignment_(alignment), gap_(merge_gap) {}
  void clear();
  uint64_t total() const { return total_; }
  // What adding [offset, offset + length) to `region` (0 or 1) would add to total().
  uint64_t cost(int region, uint64_t offset, uint64_t length) const;
  void add(int region, uint64_t offset, uint64_t length);

 private:
  struct Group {
    uint64_t end = 0;
    bool open = false;
  };
  uint64_t alignment_, gap_;
  uint64_t total_ = 0;
  Group groups_[2];
};

}  // namespace sieve::sparse
