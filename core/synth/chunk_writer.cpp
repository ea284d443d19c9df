#include "synth/chunk_writer.h"

#include <span>

namespace sieve::synth {

OrderedChunkWriter::OrderedChunkWriter(gguf::GgufWriter& writer, size_t n_buffers,
                                       size_t buffer_bytes)
    : writer_(writer), buffers_(n_buffers) {
  for (ChunkBuffer& b : buffers_) {
    b.bytes = std::make_unique_for_overwrite<std::byte[]>(buffer_bytes);  // no zeroing
    b.capacity = buffer_bytes;
    free_.push_back(&b);
  }
  thread_ = std::thread([this] { write_loop(); });
}

OrderedChunkWriter::~OrderedChunkWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queued_.clear();
  }
  changed_.notify_all();
  thread_.join();
}

void OrderedChunkWriter::rethrow_if_failed() {
  if (error_) std::rethrow_exception(error_);
}

ChunkBuffer& OrderedChunkWriter::acquire() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !free_.empty() || error_; });
  rethrow_if_failed();
  ChunkBuffer* buffer = free_.front();
  free_.pop_front();
  return *buffer;
}

void OrderedChunkWriter::submit(ChunkBuffer& buffer, size_t tensor_index, size_t size) {
  buffer.tensor_index = tensor_index;
  buffer.size = size;
  {
    std::lock_guard lock(mutex_);
    queued_.push_back(&buffer);
  }
  changed_.notify_all();
}

void OrderedChunkWriter::finish() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return (queued_.empty() && !writing_) || error_; });
  rethrow_if_failed();
}

void OrderedChunkWriter::write_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
    if (stopping_) return;
    ChunkBuffer* chunk = queued_.front();
    queued_.pop_front();
    writing_ = true;
    lock.unlock();
    try {
      writer_.write_tensor_data(chunk->tensor_index,
                                std::span<const std::byte>(chunk->bytes.get(), chunk->size));
      bytes_written_.fetch_add(chunk->size, std::memory_order_relaxed);
    } catch (...) {
      lock.lock();
      error_ = std::current_exception();
      writing_ = false;
      changed_.notify_all();
      return;
    }
    lock.lock();
    writing_ = false;
    free_.push_back(chunk);
    changed_.notify_all();
  }
}

}  // namespace sieve::synth
