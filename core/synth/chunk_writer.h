#pragma once
// Streams tensor data to a GgufWriter from a dedicated thread while the
// caller fills the next chunk, so generation and disk writes overlap.
//
//   OrderedChunkWriter sink(writer, 3, 16 << 20);
//   ChunkBuffer& buf = sink.acquire();   // a free buffer (blocks while all are busy)
//   ... fill buf.bytes[0, n) ...
//   sink.submit(buf, tensor_index, n);   // written after every earlier chunk
//   sink.finish();                       // waits; rethrows a write error
//
// Memory stays at n_buffers * buffer_bytes whatever the model size.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "gguf/gguf_writer.h"

namespace sieve::synth {

struct ChunkBuffer {
  std::unique_ptr<std::byte[]> bytes;
  size_t capacity = 0;
  size_t tensor_index = 0;
  size_t size = 0;
};

class OrderedChunkWriter {
 public:
  OrderedChunkWriter(gguf::GgufWriter& writer, size_t n_buffers, size_t buffer_bytes);
  ~OrderedChunkWriter();  // stops the thread; pending chunks are dropped
  OrderedChunkWriter(const OrderedChunkWriter&) = delete;
  OrderedChunkWriter& operator=(const OrderedChunkWriter&) = delete;

  ChunkBuffer& acquire();
  void submit(ChunkBuffer& buffer, size_t tensor_index, size_t size);
  void finish();
  uint64_t bytes_written() const { return bytes_written_.load(std::memory_order_relaxed); }

 private:
  void write_loop();
  void rethrow_if_failed();  // caller holds mutex_

  gguf::GgufWriter& writer_;
  std::vector<ChunkBuffer> buffers_;
  std::deque<ChunkBuffer*> free_;
  std::deque<ChunkBuffer*> queued_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::exception_ptr error_;
  bool stopping_ = false;
  bool writing_ = false;  // the thread holds a chunk outside both queues
  std::atomic<uint64_t> bytes_written_{0};
  std::thread thread_;
};

}  // namespace sieve::synth
