#include "flash/io/queued_engine.h"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <utility>

#include "flash/io/aligned_buffer.h"
#include "util/error.h"

namespace sieve::flash::detail {
namespace {

// EINTR/EAGAIN are repeated this many times per read before giving up.
constexpr uint32_t kMaxTransientRetries = 16;

bool is_transient(int os_error) {
#ifdef _WIN32
  (void)os_error;
  return false;
#else
  return os_error == EINTR || os_error == EAGAIN;
#endif
}

}  // namespace

void OpQueue::reserve(size_t n) {
  if (n <= ring_.size()) return;
  std::vector<Op> grown(n);
  for (size_t i = 0; i < count_; ++i) grown[i] = ring_[(head_ + i) % ring_.size()];
  ring_ = std::move(grown);
  head_ = 0;
}

void OpQueue::push(const Op& op) {
  if (count_ == ring_.size()) reserve(std::max<size_t>(16, ring_.size() * 2));
  ring_[(head_ + count_) % ring_.size()] = op;
  ++count_;
}

Op OpQueue::pop() {
  Op op = ring_[head_];
  head_ = (head_ + 1) % ring_.size();
  --count_;
  return op;
}

QueuedEngine::QueuedEngine(const DirectFile& file, const IoOptions& options, IoBackend backend,
                           std::string note)
    : file_(file),
      depth_(options.queue_depth),
      backend_(backend),
      note_(std::move(note)),
      faults_(options.faults) {}

// The error text is built only for a bad request: every token's reads pass
// here, and they allocate nothing (docs/architecture.md).
void QueuedEngine::validate(const ReadRequest& r) const {
  if (r.length == 0) return;
  const auto what = [&] {
    return file_.path() + ": read of " + std::to_string(r.length) + " bytes at offset " + std::to_string(r.offset);
  };
  if (r.dest == nullptr) throw Error(what() + " has no destination buffer");
  const uint64_t a = file_.required_alignment();
  if (r.offset % a != 0 || r.length % a != 0 || !is_aligned(r.dest, a)) {
    throw Error(what() + " is not aligned to " + std::to_string(a) +
                " bytes (direct reads need aligned offset, length and buffer; plan them with "
                "ReadPlanner)");
  }
  // Aligned reads may pad the last partial block of the file, nothing more.
  const uint64_t limit = file_.padded_size();
  if (r.offset >= file_.size() || r.length > limit - r.offset) {
    throw Error(what() + " runs past the end of the file (" + std::to_string(file_.size()) +
                " bytes)");
  }
}

IoBatch QueuedEngine::submit(std::span<const ReadRequest> requests) {
  for (const ReadRequest& r : requests) validate(r);
  std::lock_guard lock(mutex_);
  const uint32_t slot = acquire_slot_locked();
  BatchState& batch = batches_[slot];
  batch.id = next_batch_id_++;
  batch.remaining = 0;
  batch.error.clear();
  for (const ReadRequest& r : requests) {
    if (r.length == 0) continue;
    Op op;
    op.request = r;
    op.expected = static_cast<uint32_t>(std::min<uint64_t>(r.length, file_.size() - r.offset));
    op.batch_slot = slot;
    pending_.push(op);
    ++batch.remaining;
    ++unfinished_ops_;
  }
  const IoBatch ticket{batch.id, slot};
  if (batch.remaining > 0) {
    on_new_work_locked();
  } else {
    finished_cv_.notify_all();  // an empty batch is finished: wake wait_any()
  }
  return ticket;
}

void QueuedEngine::reserve(size_t reads, size_t batches) {
  std::lock_guard lock(mutex_);
  reserved_reads_ += reads;
  reserved_batches_ += batches;
  pending_.reserve(reserved_reads_);
  batches_.reserve(reserved_batches_);
  free_slots_.reserve(reserved_batches_);
}

uint32_t QueuedEngine::acquire_slot_locked() {
  if (free_slots_.empty()) {
    batches_.emplace_back();
    return static_cast<uint32_t>(batches_.size() - 1);
  }
  const uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

QueuedEngine::BatchState* QueuedEngine::find_locked(IoBatch batch) {
  if (!batch.valid() || batch.slot >= batches_.size()) return nullptr;
  BatchState& state = batches_[batch.slot];
  return state.id == batch.id ? &state : nullptr;
}

std::string QueuedEngine::take_and_release_locked(BatchState& state) {
  std::string error = std::move(state.error);
  state.error.clear();
  state.id = 0;
  free_slots_.push_back(static_cast<uint32_t>(&state - batches_.data()));
  return error;
}

bool QueuedEngine::poll(IoBatch batch) {
  std::lock_guard lock(mutex_);
  const BatchState* state = find_locked(batch);
  return state == nullptr || state->remaining == 0;
}

void QueuedEngine::wait(IoBatch batch) {
  std::unique_lock lock(mutex_);
  if (find_locked(batch) == nullptr) {
    throw Error(file_.path() +
                ": waited for a read batch that is not outstanding (already collected or never "
                "submitted)");
  }
  // batches_ may grow (and move) while we sleep: look the slot up by index.
  finished_cv_.wait(lock, [&] { return batches_[batch.slot].remaining == 0; });
  std::string error = take_and_release_locked(batches_[batch.slot]);
  lock.unlock();
  if (!error.empty()) throw Error(error);
}

IoBatch QueuedEngine::wait_any() {
  std::unique_lock lock(mutex_);
  for (;;) {
    bool any_outstanding = false;
    IoBatch oldest_finished;
    for (size_t i = 0; i < batches_.size(); ++i) {
      const BatchState& state = batches_[i];
      if (state.id == 0) continue;
      any_outstanding = true;
      if (state.remaining == 0 && (!oldest_finished.valid() || state.id < oldest_finished.id)) {
        oldest_finished = IoBatch{state.id, static_cast<uint32_t>(i)};
      }
    }
    if (oldest_finished.valid() || !any_outstanding) return oldest_finished;
    finished_cv_.wait(lock);
  }
}

void QueuedEngine::wait_all() {
  std::unique_lock lock(mutex_);
  finished_cv_.wait(lock, [&] { return unfinished_ops_ == 0; });
  std::string first_error;
  uint64_t first_error_id = std::numeric_limits<uint64_t>::max();
  for (BatchState& state : batches_) {
    if (state.id == 0) continue;
    const uint64_t id = state.id;
    std::string error = take_and_release_locked(state);
    if (!error.empty() && id < first_error_id) {
      first_error = std::move(error);
      first_error_id = id;
    }
  }
  lock.unlock();
  if (!first_error.empty()) throw Error(first_error);
}

void QueuedEngine::drain() {
  std::unique_lock lock(mutex_);
  finished_cv_.wait(lock, [&] { return unfinished_ops_ == 0; });
}

IoStats QueuedEngine::stats() const {
  IoStats s;
  s.reads_issued = reads_issued_.load(std::memory_order_relaxed);
  s.bytes_read = bytes_read_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  s.failed_requests = failed_requests_.load(std::memory_order_relaxed);
  return s;
}

void QueuedEngine::begin_read(Op& op) {
  const uint64_t n = reads_issued_.fetch_add(1, std::memory_order_relaxed);
  op.fault = -1;
  for (size_t i = 0; i < faults_.faults.size(); ++i) {
    if (faults_.faults[i].nth_read == n) {
      op.fault = static_cast<int>(i);
      break;
    }
  }
}

ReadResult QueuedEngine::apply_fault(const Op& op, ReadResult result) const {
  if (op.fault < 0) return result;
  const IoFault& fault = faults_.faults[static_cast<size_t>(op.fault)];
  switch (fault.kind) {
    case IoFaultKind::short_read:
      if (result.os_error == 0) result.bytes = std::min(result.bytes, fault.short_bytes);
      return result;
    case IoFaultKind::io_error: return ReadResult{0, os_io_error_code()};
    case IoFaultKind::end_of_file: return ReadResult{0, 0};
  }
  return result;
}

std::string QueuedEngine::failure_text(const Op& op, const std::string& what) const {
  return file_.path() + ": read of " + std::to_string(op.request.length) + " bytes at offset " +
         std::to_string(op.request.offset) + " failed: " + what +
         (op.fault >= 0 ? " (injected fault)" : "");
}

Step QueuedEngine::advance(Op& op, ReadResult result, std::string& error) {
  result = apply_fault(op, result);
  if (result.os_error != 0) {
    if (is_transient(result.os_error) && op.retries < kMaxTransientRetries) {
      ++op.retries;
      retries_.fetch_add(1, std::memory_order_relaxed);
      return Step::again;
    }
    error = failure_text(op, os_error_text(result.os_error));
    return Step::failed;
  }
  if (result.bytes == 0) {
    error = failure_text(op, "the file ended after " + std::to_string(op.done) + " of them");
    return Step::failed;
  }
  const uint32_t got = std::min(result.bytes, op.next_length());
  op.done += got;
  bytes_read_.fetch_add(got, std::memory_order_relaxed);
  if (op.done >= op.expected) return Step::done;
  retries_.fetch_add(1, std::memory_order_relaxed);  // a short read: continue where it stopped
  return Step::again;
}

void QueuedEngine::finish_locked(const Op& op, std::string error) {
  BatchState& batch = batches_[op.batch_slot];
  if (!error.empty()) {
    failed_requests_.fetch_add(1, std::memory_order_relaxed);
    if (batch.error.empty()) batch.error = std::move(error);
  }
  --batch.remaining;
  --unfinished_ops_;
  if (batch.remaining == 0 || unfinished_ops_ == 0) finished_cv_.notify_all();
}

}  // namespace sieve::flash::detail
