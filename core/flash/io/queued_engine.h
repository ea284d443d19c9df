#pragma once
// Internal: the bookkeeping both backends share. Batches and the queue of
// reads not yet started live here, under one mutex; a backend only decides
// how a read is issued and reaped, reporting each outcome through advance()
// and finish_locked().

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "flash/io/io_engine.h"

namespace sieve::flash::detail {

// One request on its way: how far it got and which batch it belongs to.
struct Op {
  ReadRequest request;
  uint32_t expected = 0;  // bytes that must arrive: less than length only for padding past EOF
  uint32_t done = 0;
  uint32_t batch_slot = 0;
  uint32_t retries = 0;
  int fault = -1;  // index into the fault list for the read in progress, -1 for none

  uint64_t next_offset() const { return request.offset + done; }
  uint32_t next_length() const { return request.length - done; }
  void* next_dest() const { return static_cast<std::byte*>(request.dest) + done; }
};

// A FIFO of ops that grows by doubling and never shrinks, so that steady
// operation allocates nothing.
class OpQueue {
 public:
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  void push(const Op& op);
  Op pop();
  // Room for `n` ops without growing.
  void reserve(size_t n);

 private:
  std::vector<Op> ring_;
  size_t head_ = 0;
  size_t count_ = 0;
};

enum class Step { again, done, failed };

class QueuedEngine : public IoEngine {
 public:
  QueuedEngine(const DirectFile& file, const IoOptions& options, IoBackend backend, std::string note);

  IoBatch submit(std::span<const ReadRequest> requests) final;
  bool poll(IoBatch batch) final;
  void wait(IoBatch batch) final;
  IoBatch wait_any() final;
  void wait_all() final;
  void reserve(size_t reads, size_t batches) final;
  IoBackend backend() const final { return backend_; }
  const std::string& backend_note() const final { return note_; }
  uint32_t queue_depth() const final { return depth_; }
  IoStats stats() const final;
  const DirectFile& file() const final { return file_; }

 protected:
  // Called with mutex_ held after new ops were queued in pending_.
  virtual void on_new_work_locked() = 0;

  // Counts the read about to be issued and picks its injected fault, if any.
  void begin_read(Op& op);
  // Folds one read's outcome into op; `error` gets the message on failure.
  Step advance(Op& op, ReadResult result, std::string& error);
  // Marks op finished (error empty on success) and wakes waiters.
  void finish_locked(const Op& op, std::string error);
  // Blocks until every queued and in-flight op has finished (destructors).
  void drain();

  const DirectFile& file_;
  const uint32_t depth_;
  std::mutex mutex_;
  OpQueue pending_;  // accepted, not yet issued

 private:
  struct BatchState {
    uint64_t id = 0;  // 0 when the slot is free
    uint32_t remaining = 0;
    std::string error;  // first failure
  };

  void validate(const ReadRequest& request) const;
  uint32_t acquire_slot_locked();
  BatchState* find_locked(IoBatch batch);
  std::string take_and_release_locked(BatchState& state);
  ReadResult apply_fault(const Op& op, ReadResult result) const;
  std::string failure_text(const Op& op, const std::string& what) const;

  const IoBackend backend_;
  const std::string note_;
  const IoFaults faults_;
  std::condition_variable finished_cv_;
  std::vector<BatchState> batches_;
  std::vector<uint32_t> free_slots_;
  uint64_t next_batch_id_ = 1;
  uint64_t unfinished_ops_ = 0;
  size_t reserved_reads_ = 0, reserved_batches_ = 0;  // reserve()'s sums
  std::atomic<uint64_t> reads_issued_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> failed_requests_{0};
};

std::unique_ptr<IoEngine> make_threaded_engine(const DirectFile& file, const IoOptions& options,
                                               std::string note);
// nullptr (with the reason in why_not) when io_uring cannot be used here.
std::unique_ptr<IoEngine> make_uring_engine(const DirectFile& file, const IoOptions& options,
                                            std::string* why_not);

}  // namespace sieve::flash::detail
