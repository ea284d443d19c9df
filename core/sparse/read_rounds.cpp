#include "sparse/read_rounds.h"

#include "util/error.h"

namespace sieve::sparse {

ReadRounds::ReadRounds(flash::IoEngine& io, const flash::PlanOptions& plan) {
  for (auto& reader : readers_) reader = std::make_unique<flash::ScatterReader>(io, plan);
}

void ReadRounds::reserve(size_t ranges, uint64_t span_bytes, uint64_t staging_bytes) {
  for (auto& reader : readers_) reader->reserve(ranges, span_bytes, staging_bytes);
}

void ReadRounds::submit(int side, std::span<const flash::ReadRequest> wanted) {
  flash::ScatterReader& reader = *readers_[side];
  reader.submit(wanted);
  in_flight_[side] = true;
  bytes_read_ += reader.plan().read_bytes;
  bytes_wanted_ += reader.plan().requested_bytes;
}

void ReadRounds::wait(int side) {
  const Clock::time_point start = Clock::now();
  in_flight_[side] = false;
  readers_[side]->wait();
  wait_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
}

void ReadRounds::drain_quietly() {
  for (int side = 0; side < 2; ++side) {
    if (!in_flight_[side]) continue;
    in_flight_[side] = false;
    try {
      readers_[side]->wait();
    } catch (const Error&) {
      // Only the first failure is reported; this round just had to finish.
    }
  }
}

}  // namespace sieve::sparse
