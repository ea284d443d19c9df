#include "flash/io/aligned_buffer.h"

#include <new>
#include <string>
#include <utility>

#include "util/error.h"

#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace sieve::flash {

AlignedBuffer::AlignedBuffer(size_t size, size_t alignment) : alignment_(alignment) {
  if (!is_power_of_two(alignment)) {
    throw Error("aligned buffer: alignment " + std::to_string(alignment) +
                " is not a power of two");
  }
  const size_t rounded = static_cast<size_t>(align_up(size == 0 ? 1 : size, alignment));
  // 2^47 bytes is the user address space of today's 64-bit systems: refuse
  // larger sizes here rather than rely on the allocator failing cleanly
  // (sanitizer allocators abort on them).
  constexpr size_t kMaxBytes = size_t{1} << 47;
  if (rounded < size || rounded > kMaxBytes) {
    throw Error("aligned buffer: size " + std::to_string(size) + " is too large");
  }
  // operator new with an alignment works on every platform we target,
  // including MinGW, unlike aligned_alloc or posix_memalign.
  void* p = ::operator new(rounded, std::align_val_t(alignment), std::nothrow);
  if (p == nullptr) {
    throw Error("aligned buffer: could not allocate " + std::to_string(rounded) + " bytes");
  }
  data_ = static_cast<std::byte*>(p);
  size_ = rounded;
}

AlignedBuffer::~AlignedBuffer() { release(); }

AlignedBuffer::AlignedBuffer(AlignedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      alignment_(other.alignment_) {}

AlignedBuffer& AlignedBuffer::operator=(AlignedBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    alignment_ = other.alignment_;
  }
  return *this;
}

void AlignedBuffer::reserve_discard(size_t size) {
  if (size <= size_) return;
  *this = AlignedBuffer(size, alignment_);
}

void AlignedBuffer::prefer_huge_pages() {
#ifdef __linux__
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = align_up(reinterpret_cast<uintptr_t>(data_), page);
  const uintptr_t end = reinterpret_cast<uintptr_t>(data_) + size_;
  if (data_ == nullptr || end <= begin) return;
  // Advice only: a kernel without transparent huge pages says EINVAL, and
  // the buffer works as it is.
  (void)madvise(reinterpret_cast<void*>(begin), static_cast<size_t>(end - begin), MADV_HUGEPAGE);
#endif
}

void AlignedBuffer::release() {
  if (data_ != nullptr) ::operator delete(data_, std::align_val_t(alignment_));
  data_ = nullptr;
  size_ = 0;
}

}  // namespace sieve::flash
