#pragma once
// Memory for direct I/O: the address and the size are multiples of an
// alignment (4096 unless told otherwise), as O_DIRECT and
// FILE_FLAG_NO_BUFFERING require of the buffers they DMA into.

#include <cstddef>
#include <cstdint>
#include <span>

namespace sieve::flash {

// Page size and the logical block size of nearly every SSD: aligning to it
// satisfies every device we expect, at the cost of at most one extra block.
constexpr size_t kDefaultIoAlignment = 4096;

constexpr bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
// `alignment` must be a power of two.
constexpr uint64_t align_down(uint64_t v, uint64_t alignment) { return v & ~(alignment - 1); }
constexpr uint64_t align_up(uint64_t v, uint64_t alignment) {
  return (v + alignment - 1) & ~(alignment - 1);
}
inline bool is_aligned(const void* p, uint64_t alignment) {
  return (reinterpret_cast<uintptr_t>(p) & (alignment - 1)) == 0;
}

inline constexpr size_t kHugePageAlignment = size_t{2} << 20;

// The alignment for a buffer of `size` bytes that prefers huge pages: whole
// huge pages from 64 MiB up; below, a page (rounding a small buffer up to
// 2 MiB would cost more memory than its page faults cost time).
inline constexpr size_t huge_page_alignment_for(uint64_t size) {
  return size >= (uint64_t{64} << 20) ? kHugePageAlignment : kDefaultIoAlignment;
}

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // Allocates max(size, 1) bytes rounded up to `alignment` (a power of two),
  // uninitialised. Throws sieve::Error when the alignment is not a power of
  // two or the memory is not available.
  explicit AlignedBuffer(size_t size, size_t alignment = kDefaultIoAlignment);
  ~AlignedBuffer();
  AlignedBuffer(AlignedBuffer&& other) noexcept;
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }  // the rounded size
  size_t alignment() const { return alignment_; }
  bool empty() const { return size_ == 0; }
  std::span<std::byte> bytes() { return {data_, size_}; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }

  // Grows (never shrinks) to at least `size` bytes; contents are not kept.
  void reserve_discard(size_t size);

  // Asks the OS to back the buffer with huge pages where it can (Linux:
  // madvise MADV_HUGEPAGE, for kernels whose transparent huge pages are in
  // "madvise" mode; elsewhere nothing). A large buffer first filled by
  // direct reads then takes one page fault per 2 MiB instead of per 4 KiB.
  // Allocate it with kHugePageAlignment (huge_page_alignment_for) for whole
  // huge pages.
  void prefer_huge_pages();

 private:
  void release();

  std::byte* data_ = nullptr;
  size_t size_ = 0;
  size_t alignment_ = kDefaultIoAlignment;
};

}  // namespace sieve::flash
