#include "flash/sequential_reader.h"

#include <algorithm>
#include <utility>

#include "util/error.h"

namespace sieve::flash {

void append_range_reads(uint64_t offset, uint64_t length, std::byte* dest, uint32_t max_read, uint32_t alignment,
                        std::vector<ReadRequest>& out) {
  const uint64_t padded = align_up(length, alignment);
  const uint64_t step = std::max<uint64_t>(alignment, align_down(max_read, alignment));
  for (uint64_t done = 0; done < padded; done += step) {
    ReadRequest r;
    r.offset = offset + done;
    r.length = static_cast<uint32_t>(std::min(step, padded - done));
    r.dest = dest + done;
    out.push_back(r);
  }
}

SequentialReader::SequentialReader(IoEngine& io, size_t chunk_bytes, uint32_t max_read)
    : io_(io),
      chunk_bytes_(static_cast<size_t>(align_up(std::max<size_t>(chunk_bytes, 1), kDefaultIoAlignment))),
      max_read_(max_read) {
  buffers_[0] = AlignedBuffer(chunk_bytes_);
  buffers_[1] = AlignedBuffer(chunk_bytes_);
}

IoBatch SequentialReader::submit_chunk(uint64_t offset, uint64_t length, std::byte* dest) {
  requests_.clear();
  append_range_reads(offset, length, dest, max_read_, kDefaultIoAlignment, requests_);
  return io_.submit(requests_);
}

void SequentialReader::read(uint64_t offset, uint64_t length, const Consumer& consume) {
  if (length == 0) return;
  if (offset % kDefaultIoAlignment != 0) {
    throw Error(io_.file().path() + ": sequential read at offset " + std::to_string(offset) + " is not aligned.");
  }
  const auto chunk_at = [&](uint64_t pos) { return std::min<uint64_t>(chunk_bytes_, length - pos); };
  IoBatch batches[2];
  batches[0] = submit_chunk(offset, chunk_at(0), buffers_[0].data());
  try {
    int current = 0;
    for (uint64_t pos = 0; pos < length; pos += chunk_bytes_, current ^= 1) {
      const uint64_t next = pos + chunk_bytes_;
      if (next < length) batches[current ^ 1] = submit_chunk(offset + next, chunk_at(next), buffers_[current ^ 1].data());
      io_.wait(std::exchange(batches[current], IoBatch{}));
      consume({buffers_[current].data(), static_cast<size_t>(chunk_at(pos))}, pos);
    }
  } catch (...) {
    // Nothing may still write into our buffers once we leave.
    for (IoBatch& b : batches) {
      if (!b.valid()) continue;
      try {
        io_.wait(b);
      } catch (const Error&) {
      }
    }
    throw;
  }
}

}  // namespace sieve::flash
