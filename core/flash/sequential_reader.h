#pragma once
// Reads one long aligned byte range of a file in chunks, two chunks in
// flight (the next is read while the current one is consumed), bypassing the
// page cache. Used to hash a whole pack (`sieve pack --verify`) and to load
// FFN layers that stay resident without holding a whole layer twice.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "flash/io/aligned_buffer.h"
#include "flash/io/io_engine.h"

namespace sieve::flash {

// Splits [offset, offset + length) into aligned reads of at most `max_read`
// bytes into `dest` (the length is rounded up to the alignment: the file's
// padding, or the start of what follows, is read too). offset and dest must
// be aligned to `alignment`.
void append_range_reads(uint64_t offset, uint64_t length, std::byte* dest, uint32_t max_read, uint32_t alignment,
                        std::vector<ReadRequest>& out);

class SequentialReader {
 public:
  // chunk_bytes is rounded up to the alignment; reads of at most max_read.
  SequentialReader(IoEngine& io, size_t chunk_bytes, uint32_t max_read = 1u << 20);

  size_t chunk_bytes() const { return chunk_bytes_; }
  // The staging memory this reader holds.
  uint64_t staging_bytes() const { return 2 * static_cast<uint64_t>(chunk_bytes_); }

  // Calls consume(bytes, position) for consecutive pieces of the range, in
  // order (position counts from `offset`; every piece but the last is
  // chunk_bytes long). `offset` must be aligned. Throws sieve::Error when a
  // read fails, after every read in flight has finished.
  using Consumer = std::function<void(std::span<const std::byte> bytes, uint64_t position)>;
  void read(uint64_t offset, uint64_t length, const Consumer& consume);

 private:
  IoBatch submit_chunk(uint64_t offset, uint64_t length, std::byte* dest);

  IoEngine& io_;
  size_t chunk_bytes_;
  uint32_t max_read_;
  AlignedBuffer buffers_[2];
  std::vector<ReadRequest> requests_;
};

}  // namespace sieve::flash
