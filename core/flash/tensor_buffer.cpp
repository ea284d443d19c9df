#include "flash/tensor_buffer.h"

#include <algorithm>
#include <cstdio>

#include "flash/checksum.h"
#include "flash/sequential_reader.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

// Reading through a hole this small costs less than another request.
constexpr uint64_t kMergeGap = 64 * 1024;

std::string hex(uint64_t v) {
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

// Direct I/O fills the buffer without the CPU reading it, and the first CPU
// access to each page can be slow afterwards: on this project's virtual
// machines the first token after loading a 620 MB model took 0.6 s instead of
// 37 ms, and one read per 4 KiB page before it removes the difference (a
// page-level cost of the first touch). Paying it here puts it into loading,
// where the user expects to wait; where there is no such cost it takes
// milliseconds.
void touch_pages(const std::byte* data, size_t size) {
  constexpr size_t kPage = 4096;
  unsigned sum = 0;
  for (size_t i = 0; i < size; i += kPage) sum += std::to_integer<unsigned>(data[i]);
  volatile unsigned sink = sum;  // keeps the reads
  (void)sink;
}

}  // namespace

std::vector<TensorBuffer::Run> TensorBuffer::plan_runs(const gguf::GgufFile& file,
                                                       std::span<const gguf::TensorInfo* const> tensors) {
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // aligned [begin, end) in the file
  for (const gguf::TensorInfo* t : tensors) {
    if (t->size_bytes == 0) continue;
    const uint64_t begin = file.tensor_file_offset(*t);
    ranges.emplace_back(align_down(begin, kDefaultIoAlignment), align_up(begin + t->size_bytes, kDefaultIoAlignment));
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<Run> runs;
  for (const auto& [begin, end] : ranges) {
    if (!runs.empty() && begin <= runs.back().file_end + kMergeGap) {
      runs.back().file_end = std::max(runs.back().file_end, end);
    } else {
      runs.push_back(Run{begin, end, 0});
    }
  }
  uint64_t offset = 0;
  for (Run& r : runs) {
    r.buffer_offset = offset;
    offset += r.file_end - r.file_begin;
  }
  return runs;
}

uint64_t TensorBuffer::bytes_needed(const gguf::GgufFile& file, std::span<const gguf::TensorInfo* const> tensors) {
  uint64_t total = 0;
  for (const Run& r : plan_runs(file, tensors)) total += r.file_end - r.file_begin;
  return total;
}

TensorBuffer TensorBuffer::read(const gguf::GgufFile& file, IoEngine& io,
                                std::span<const gguf::TensorInfo* const> tensors, uint32_t max_read,
                                const ExpectedChecksum& expected) {
  const std::vector<Run> runs = plan_runs(file, tensors);
  uint64_t total = 0;
  for (const Run& r : runs) total += r.file_end - r.file_begin;
  TensorBuffer out;
  out.buffer_ = AlignedBuffer(static_cast<size_t>(total), huge_page_alignment_for(total));
  out.buffer_.prefer_huge_pages();  // filled once by direct reads: fewer page faults
  std::vector<ReadRequest> requests;
  for (const Run& r : runs) {
    append_range_reads(r.file_begin, r.file_end - r.file_begin, out.buffer_.data() + r.buffer_offset, max_read,
                       kDefaultIoAlignment, requests);
  }
  io.wait(io.submit(requests));
  if (!expected) touch_pages(out.buffer_.data(), out.buffer_.size());  // the checksums below touch every byte

  const std::string where = file.path().filename().string();
  for (const gguf::TensorInfo* t : tensors) {
    const uint64_t begin = file.tensor_file_offset(*t);
    const auto run = std::find_if(runs.begin(), runs.end(), [&](const Run& r) {
      return begin >= r.file_begin && begin + t->size_bytes <= r.file_end;
    });
    const std::byte* data = run == runs.end() ? out.buffer_.data() : out.buffer_.data() + run->buffer_offset + (begin - run->file_begin);
    const std::span<const std::byte> bytes(data, static_cast<size_t>(t->size_bytes));
    if (expected) {
      if (const std::optional<uint64_t> want = expected(*t)) {
        const uint64_t got = hash64(bytes);
        if (got != *want) {
          throw Error(where + ": tensor '" + t->name + "' is corrupted (checksum " + hex(got) + ", expected " +
                      hex(*want) + "); re-create the pack with `sieve pack`.");
        }
      }
    }
    out.by_name_[t->name] = bytes;
  }
  return out;
}

std::span<const std::byte> TensorBuffer::bytes(const gguf::TensorInfo& tensor) const {
  const auto it = by_name_.find(tensor.name);
  return it == by_name_.end() ? std::span<const std::byte>() : it->second;
}

}  // namespace sieve::flash
