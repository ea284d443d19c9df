// The portable backend: queue_depth threads, each doing one blocking
// positional read at a time (pread, or ReadFile with an OVERLAPPED offset).
// Used where io_uring is missing or refused.
#include <thread>

#include "flash/io/queued_engine.h"

namespace sieve::flash::detail {
namespace {

class ThreadedEngine final : public QueuedEngine {
 public:
  ThreadedEngine(const DirectFile& file, const IoOptions& options, std::string note)
      : QueuedEngine(file, options, IoBackend::threads, std::move(note)) {
    workers_.reserve(depth_);
    for (uint32_t i = 0; i < depth_; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  ~ThreadedEngine() override {
    drain();  // callers' buffers must not be written after we are gone
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

 private:
  void on_new_work_locked() override {
    if (pending_.size() >= workers_.size()) {
      work_cv_.notify_all();
    } else {
      for (size_t i = 0; i < pending_.size(); ++i) work_cv_.notify_one();
    }
  }

  void worker_loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      work_cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and nothing left
      Op op = pending_.pop();
      lock.unlock();
      std::string error = run(op);
      lock.lock();
      finish_locked(op, std::move(error));
    }
  }

  // Reads op to the end (continuing short reads); returns the error, if any.
  std::string run(Op& op) {
    std::string error;
    Step step;
    do {
      begin_read(op);
      const ReadResult result = file_.read_some(op.next_offset(), op.next_length(), op.next_dest());
      step = advance(op, result, error);
    } while (step == Step::again);
    if (file_.is_buffered_fallback()) file_.drop_cached(op.request.offset, op.request.length);
    return error;
  }

  std::condition_variable work_cv_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
};

}  // namespace

std::unique_ptr<IoEngine> make_threaded_engine(const DirectFile& file, const IoOptions& options,
                                               std::string note) {
  return std::make_unique<ThreadedEngine>(file, options, std::move(note));
}

}  // namespace sieve::flash::detail
