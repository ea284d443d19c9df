#include "server/generation_queue.h"

namespace sieve::server {

std::optional<GenerationQueue::Ticket> GenerationQueue::take() {
  std::lock_guard lock(mutex_);
  // Every ticket held now is ahead of the new one, which waits behind them all
  // (or takes the turn at once when there are none).
  const size_t ahead = (next_ - serving_) - left_early_.size();
  if (ahead > max_waiting_) return std::nullopt;
  return Ticket(this, next_++);
}

size_t GenerationQueue::waiting() const {
  std::lock_guard lock(mutex_);
  return (next_ - serving_) - left_early_.size() - (started_ ? 1 : 0);
}

bool GenerationQueue::running() const {
  std::lock_guard lock(mutex_);
  return started_;
}

void GenerationQueue::leave(uint64_t number) {
  {
    std::lock_guard lock(mutex_);
    if (number != serving_) {
      left_early_.insert(number);
      return;
    }
    started_ = false;
    ++serving_;
    // Skip the places given up further down the queue.
    while (!left_early_.empty() && *left_early_.begin() == serving_) {
      left_early_.erase(left_early_.begin());
      ++serving_;
    }
  }
  turn_changed_.notify_all();
}

bool GenerationQueue::Ticket::wait_turn(const std::function<bool()>& still_wanted, std::chrono::milliseconds poll) {
  GenerationQueue& q = *queue_;
  for (;;) {
    {
      std::unique_lock lock(q.mutex_);
      if (q.turn_changed_.wait_for(lock, poll, [&] { return q.is_turn_locked(number_); })) {
        q.started_ = true;
        return true;
      }
    }
    if (still_wanted && !still_wanted()) return false;  // the destructor gives the place up
  }
}

GenerationQueue::Ticket::~Ticket() {
  if (queue_ != nullptr) queue_->leave(number_);
}

}  // namespace sieve::server
