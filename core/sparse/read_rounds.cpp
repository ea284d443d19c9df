#include "sparse/read_rounds.h"

#include <algorithm>

#include "util/error.h"

namespace sieve::sparse {

ReadRounds::ReadRounds(flash::IoEngine& io, const flash::PlanOptions& plan, int sides) {
  if (sides < 1) throw Error("read rounds: at least one side is needed");
  for (int i = 0; i < sides; ++i) readers_.push_back(std::make_unique<flash::ScatterReader>(io, plan));
  in_flight_.assign(static_cast<size_t>(sides), 0);
}

void ReadRounds::reserve(size_t ranges, uint64_t span_bytes, uint64_t staging_bytes) {
  for (auto& reader : readers_) reader->reserve(ranges, span_bytes, staging_bytes);
}

void ReadRounds::submit(int side, std::span<const flash::ReadRequest> wanted) {
  flash::ScatterReader& reader = *readers_.at(static_cast<size_t>(side));
  reader.submit(wanted);
  in_flight_[static_cast<size_t>(side)] = 1;
  bytes_read_ += reader.plan().read_bytes;
  bytes_wanted_ += reader.plan().requested_bytes;
  reads_ += reader.plan().reads.size();
  peak_staging_ = std::max(peak_staging_, reader.plan().staging_bytes);
}

bool ReadRounds::landed(int side) {
  return in_flight_.at(static_cast<size_t>(side)) == 0 || readers_[static_cast<size_t>(side)]->poll();
}

void ReadRounds::wait(int side) {
  const Clock::time_point start = Clock::now();
  in_flight_.at(static_cast<size_t>(side)) = 0;
  readers_[static_cast<size_t>(side)]->wait();
  wait_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
}

void ReadRounds::drain_quietly() {
  for (size_t side = 0; side < readers_.size(); ++side) {
    if (in_flight_[side] == 0) continue;
    in_flight_[side] = 0;
    try {
      readers_[side]->wait();
    } catch (const Error&) {
      // Only the first failure is reported; this round just had to finish.
    }
  }
}

void RoundBound::clear() {
  total_ = 0;
  for (Group& g : groups_) g = Group{};
}

uint64_t RoundBound::cost(int region, uint64_t offset, uint64_t length) const {
  const Group& g = groups_[region];
  const uint64_t begin = flash::align_down(offset, alignment_), end = flash::align_up(offset + length, alignment_);
  if (g.open && begin <= g.end + gap_) return end > g.end ? end - g.end : 0;
  return end - begin + (region == 1 && !g.open ? gap_ : 0);
}

void RoundBound::add(int region, uint64_t offset, uint64_t length) {
  total_ += cost(region, offset, length);
  Group& g = groups_[region];
  const uint64_t begin = flash::align_down(offset, alignment_), end = flash::align_up(offset + length, alignment_);
  if (g.open && begin <= g.end + gap_) {
    g.end = std::max(g.end, end);
  } else {
    g = {end, true};
  }
}

}  // namespace sieve::sparse
