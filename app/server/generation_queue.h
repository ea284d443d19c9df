#pragma once
// One generation at a time, first come first served. A request takes a
// ticket, waits for its turn (checking every `poll` whether its client is
// still there, so one that left gives up its place), runs, and leaves; the
// next ticket in order goes next. More than `max_waiting` tickets waiting:
// take() refuses (the server answers 503) rather than letting a queue grow
// without bound. Thread-safe; the counts are for a "requests in flight"
// display.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

namespace sieve::server {

class GenerationQueue {
 public:
  explicit GenerationQueue(size_t max_waiting) : max_waiting_(max_waiting) {}

  // A place in the queue; leaving it (destruction) hands the turn on.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : queue_(std::exchange(other.queue_, nullptr)), number_(other.number_) {}
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket();

    // Blocks until it is this ticket's turn (true), or until `still_wanted`,
    // called every `poll` while waiting, returns false (false; the place is
    // given up).
    bool wait_turn(const std::function<bool()>& still_wanted, std::chrono::milliseconds poll);

   private:
    friend class GenerationQueue;
    Ticket(GenerationQueue* queue, uint64_t number) : queue_(queue), number_(number) {}
    GenerationQueue* queue_;
    uint64_t number_;
  };

  // A ticket at the end of the queue, or none when it would make more than
  // max_waiting tickets wait (0: refused whenever one runs).
  std::optional<Ticket> take();

  size_t waiting() const;   // tickets not yet served
  bool running() const;     // a ticket holds the turn

 private:
  void leave(uint64_t number);
  bool is_turn_locked(uint64_t number) const { return number == serving_; }

  const size_t max_waiting_;
  mutable std::mutex mutex_;
  std::condition_variable turn_changed_;
  uint64_t next_ = 0;     // the number the next ticket gets
  uint64_t serving_ = 0;  // the ticket whose turn it is
  bool started_ = false;  // the ticket `serving_` passed wait_turn()
  std::set<uint64_t> left_early_;  // tickets after serving_ that gave up their place
};

}  // namespace sieve::server
