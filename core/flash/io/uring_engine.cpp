// The Linux backend: one io_uring with up to queue_depth reads in flight.
// Any thread may submit (under the engine mutex); one reaper thread waits for
// completions, continues short reads and refills the ring from the queue.
// The submission and completion sides of a ring are independent, so the
// reaper waits without holding the mutex.
#include "flash/io/queued_engine.h"

#ifdef SIEVE_HAVE_IO_URING

#include <liburing.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "flash/io/aligned_buffer.h"

namespace sieve::flash::detail {
namespace {

constexpr uint64_t kWakeTag = ~uint64_t{0};
constexpr unsigned kReapBatch = 64;
// Transient submission refusals (EAGAIN, EBUSY) are retried this often.
constexpr int kSubmitAttempts = 1000;

unsigned ring_entries_for(uint32_t depth) {
  unsigned entries = 8;
  while (entries < depth + 1) entries *= 2;  // +1: the wake-up NOP at shutdown
  return entries;
}

class UringEngine final : public QueuedEngine {
 public:
  UringEngine(const DirectFile& file, const IoOptions& options)
      : QueuedEngine(file, options, IoBackend::io_uring, "") {}

  ~UringEngine() override {
    if (reaper_.joinable()) {
      drain();
      {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        if (broken_.empty()) {
          if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) {
            io_uring_prep_nop(sqe);
            io_uring_sqe_set_data64(sqe, kWakeTag);
            io_uring_submit(&ring_);
          }
        }
      }
      reaper_.join();  // the NOP wakes it at once; otherwise its wait times out
    }
    if (ring_ready_) io_uring_queue_exit(&ring_);
  }

  // Sets up the ring and checks that it really reads this file (sandboxes may
  // allow io_uring_setup and refuse the rest); false with the reason if not.
  bool start(std::string* why_not) {
    io_uring_params params{};
    const int r = io_uring_queue_init_params(ring_entries_for(depth_), &ring_, &params);
    if (r < 0) return refuse(why_not, "io_uring_setup failed: " + os_error_text(-r));
    ring_ready_ = true;
    // Timed waits without a timeout entry keep the submission side ours alone.
    if (!(params.features & IORING_FEAT_EXT_ARG)) {
      return refuse(why_not, "io_uring lacks timed waits (needs Linux 5.11)");
    }
    if (io_uring_probe* probe = io_uring_get_probe_ring(&ring_)) {
      const bool has_read = io_uring_opcode_supported(probe, IORING_OP_READ);
      io_uring_free_probe(probe);
      if (!has_read) return refuse(why_not, "io_uring cannot read (needs Linux 5.6)");
    }
    if (std::string err = first_read_error(); !err.empty()) return refuse(why_not, err);
    slots_.resize(depth_);
    for (uint32_t i = depth_; i-- > 0;) free_slots_.push_back(i);
    unsubmitted_.reserve(depth_);  // at most every slot: reads are prepared without allocating
    reaper_ = std::thread([this] { reap_loop(); });
    return true;
  }

 private:
  static bool refuse(std::string* why_not, const std::string& reason) {
    if (why_not != nullptr) *why_not = reason;
    return false;
  }

  std::string first_read_error() {
    if (file_.size() == 0) return {};
    const uint32_t length = std::max<uint32_t>(file_.required_alignment(), kDefaultIoAlignment);
    // A member: should the wait fail, the read may still land after we return.
    probe_block_ = AlignedBuffer(length, length);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_read(sqe, file_.native_handle(), probe_block_.data(), length, 0);
    io_uring_sqe_set_data64(sqe, 0);
    int r = io_uring_submit(&ring_);
    if (r < 0) return "io_uring_enter failed: " + os_error_text(-r);
    io_uring_cqe* cqe = nullptr;
    do {
      r = io_uring_wait_cqe(&ring_, &cqe);
    } while (r == -EINTR);
    if (r < 0) return "io_uring wait failed: " + os_error_text(-r);
    const int res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    if (res < 0) return "io_uring read failed: " + os_error_text(-res);
    return {};
  }

  void on_new_work_locked() override { fill_ring_locked(); }

  // Moves queued ops into free slots and submits them.
  void fill_ring_locked() {
    if (!broken_.empty()) {
      while (!pending_.empty()) finish_locked(pending_.pop(), broken_);
      return;
    }
    bool any = false;
    while (!free_slots_.empty() && !pending_.empty()) {
      const uint32_t slot = free_slots_.back();
      free_slots_.pop_back();
      slots_[slot] = pending_.pop();
      prepare_locked(slot);
      any = true;
    }
    if (any) submit_locked();
  }

  void prepare_locked(uint32_t slot) {
    Op& op = slots_[slot];
    begin_read(op);
    // Never null: the ring has more entries than slots and is flushed by
    // every submit_locked().
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_read(sqe, file_.native_handle(), op.next_dest(), op.next_length(), op.next_offset());
    io_uring_sqe_set_data64(sqe, slot);
    unsubmitted_.push_back(slot);
  }

  void submit_locked() {
    size_t consumed = 0;
    int attempts = 0;
    while (consumed < unsubmitted_.size()) {
      const int r = io_uring_submit(&ring_);
      if (r > 0) {
        consumed += static_cast<size_t>(r);
        continue;
      }
      const bool transient = r == 0 || r == -EINTR || r == -EAGAIN || r == -EBUSY;
      if (transient && ++attempts < kSubmitAttempts) {
        std::this_thread::yield();  // the reaper drains completions without the mutex
        continue;
      }
      break_ring_locked(r < 0 ? os_error_text(-r) : "no progress", consumed);
      return;
    }
    unsubmitted_.clear();
  }

  // The kernel refuses submissions: fail what it did not take (it never
  // will: we stop submitting) and everything queued, now and later.
  void break_ring_locked(const std::string& why, size_t consumed) {
    broken_ = file_.path() + ": io_uring submission failed: " + why;
    for (size_t i = consumed; i < unsubmitted_.size(); ++i) {
      finish_locked(slots_[unsubmitted_[i]], broken_);
      free_slots_.push_back(unsubmitted_[i]);
    }
    unsubmitted_.clear();
    while (!pending_.empty()) finish_locked(pending_.pop(), broken_);
  }

  struct Completion {
    uint64_t tag;
    int result;
  };

  void reap_loop() {
    io_uring_cqe* cqes[kReapBatch];
    Completion completions[kReapBatch];
    for (;;) {
      io_uring_cqe* first = nullptr;
      __kernel_timespec timeout{1, 0};
      const int r = io_uring_wait_cqe_timeout(&ring_, &first, &timeout);
      if (r < 0) {
        if (r != -ETIME && r != -EINTR) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (should_exit()) return;
        continue;
      }
      const unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, kReapBatch);
      for (unsigned i = 0; i < n; ++i) completions[i] = {cqes[i]->user_data, cqes[i]->res};
      io_uring_cq_advance(&ring_, n);
      handle(completions, n);
      if (should_exit()) return;
    }
  }

  bool should_exit() {
    std::lock_guard lock(mutex_);
    return stopping_ && free_slots_.size() == depth_;
  }

  void handle(const Completion* completions, unsigned n) {
    std::lock_guard lock(mutex_);
    bool resubmit = false;
    for (unsigned i = 0; i < n; ++i) {
      if (completions[i].tag == kWakeTag) continue;
      const auto slot = static_cast<uint32_t>(completions[i].tag);
      Op& op = slots_[slot];
      const int res = completions[i].result;
      const ReadResult result = res < 0 ? ReadResult{0, -res} : ReadResult{static_cast<uint32_t>(res), 0};
      std::string error;
      if (advance(op, result, error) == Step::again && broken_.empty()) {
        prepare_locked(slot);
        resubmit = true;
        continue;
      }
      if (error.empty() && !broken_.empty()) error = broken_;
      if (file_.is_buffered_fallback()) file_.drop_cached(op.request.offset, op.request.length);
      finish_locked(op, std::move(error));
      free_slots_.push_back(slot);
    }
    if (resubmit) submit_locked();
    fill_ring_locked();
  }

  io_uring ring_{};
  bool ring_ready_ = false;
  AlignedBuffer probe_block_;
  std::vector<Op> slots_;              // reads in flight, indexed by their ring tag
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> unsubmitted_;  // slots prepared since the last submit, in order
  std::string broken_;                 // set once submissions fail for good
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace

std::unique_ptr<IoEngine> make_uring_engine(const DirectFile& file, const IoOptions& options,
                                            std::string* why_not) {
  auto engine = std::make_unique<UringEngine>(file, options);
  if (!engine->start(why_not)) return nullptr;
  return engine;
}

}  // namespace sieve::flash::detail

#else  // no liburing in this build

namespace sieve::flash::detail {

std::unique_ptr<IoEngine> make_uring_engine(const DirectFile&, const IoOptions&, std::string* why_not) {
  if (why_not != nullptr) *why_not = "this build has no io_uring support";
  return nullptr;
}

}  // namespace sieve::flash::detail

#endif
