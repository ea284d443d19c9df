// DirectFile on Linux, macOS and other POSIX systems.
#ifndef _WIN32

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "flash/io/aligned_buffer.h"
#include "flash/io/direct_file.h"
#include "util/error.h"

#ifdef __linux__
#include <sys/sysmacros.h>
#endif

namespace sieve::flash {

std::string os_error_text(int os_error) { return std::generic_category().message(os_error); }
int os_io_error_code() { return EIO; }

namespace {

int open_readonly(const std::string& path, int extra_flags) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | extra_flags);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

[[noreturn]] void throw_open_error(const std::string& path, int err) {
  throw Error(path + ": cannot open for reading: " + os_error_text(err));
}

// Fills size; throws unless fd is a regular file.
uint64_t regular_file_size(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(path + ": cannot read file status: " + os_error_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": is not a regular file");
  }
  return static_cast<uint64_t>(st.st_size);
}

#ifdef __linux__
uint32_t read_sysfs_number(const std::string& file) {
  std::ifstream in(file);
  uint64_t value = 0;
  if (!(in >> value) || value > (1u << 20)) return 0;
  return static_cast<uint32_t>(value);
}

// The logical block size of the device holding the file, from sysfs
// (a partition has no queue/ folder of its own: ask its parent disk).
uint32_t device_logical_block(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 0;
  const std::string base = "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" +
                           std::to_string(minor(st.st_dev));
  if (uint32_t v = read_sysfs_number(base + "/queue/logical_block_size")) return v;
  return read_sysfs_number(base + "/../queue/logical_block_size");
}

// The alignment the filesystem asks of direct reads (Linux 6.1+), 0 if unknown.
uint32_t statx_dio_alignment(int fd) {
#ifdef STATX_DIOALIGN
  struct statx stx {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 && (stx.stx_mask & STATX_DIOALIGN) &&
      stx.stx_dio_offset_align != 0) {
    return std::max(stx.stx_dio_offset_align, stx.stx_dio_mem_align);
  }
#endif
  return 0;
}

// Some filesystems accept O_DIRECT at open and refuse the reads; one aligned
// read of the first block tells. Returns 0 or the errno of the refusal.
int first_direct_read_error(int fd, uint32_t alignment, uint64_t size) {
  if (size == 0) return 0;
  AlignedBuffer block(alignment, alignment);
  ssize_t n;
  do {
    n = ::pread(fd, block.data(), alignment, 0);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? errno : 0;
}
#endif  // __linux__

}  // namespace

DirectFile DirectFile::open(const std::string& path, const OpenOptions& options) {
  DirectFile file;
  file.path_ = path;
#ifdef __linux__
  if (options.bypass_cache && options.simulate_direct_refused) {
    file.fallback_reason_ = "O_DIRECT refused (simulated for a test)";
  } else if (options.bypass_cache) {
    int fd = open_readonly(path, O_DIRECT);
    if (fd < 0 && errno != EINVAL) throw_open_error(path, errno);
    if (fd < 0) {
      file.fallback_reason_ = "O_DIRECT refused: " + os_error_text(EINVAL);
    } else {
      file.size_ = regular_file_size(fd, path);
      file.logical_block_ = device_logical_block(fd);
      const uint32_t dio = statx_dio_alignment(fd);
      // Without the filesystem's word, a page is safe on every device we know.
      const uint32_t alignment =
          dio != 0 ? dio : std::max<uint32_t>(file.logical_block_, kDefaultIoAlignment);
      if (file.logical_block_ == 0) file.logical_block_ = dio;
      const int err = first_direct_read_error(fd, alignment, file.size_);
      if (err == 0) {
        file.handle_ = fd;
        file.open_ = true;
        file.bypass_ = CacheBypass::direct;
        file.required_alignment_ = alignment;
        return file;
      }
      ::close(fd);
      if (err != EINVAL) throw Error(path + ": cannot read: " + os_error_text(err));
      file.fallback_reason_ = "O_DIRECT reads refused: " + os_error_text(err);
    }
  }
  const int fd = open_readonly(path, 0);
  if (fd < 0) throw_open_error(path, errno);
  file.size_ = regular_file_size(fd, path);
  if (file.logical_block_ == 0) file.logical_block_ = device_logical_block(fd);
  file.handle_ = fd;
  file.open_ = true;
  file.required_alignment_ = 1;
  if (options.bypass_cache) {
    file.bypass_ = CacheBypass::dropped_after_read;
    // Read-ahead would cache pages beyond each read that nobody drops.
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
  }
  return file;
#else   // macOS and other POSIX systems
  const int fd = open_readonly(path, 0);
  if (fd < 0) throw_open_error(path, errno);
  file.size_ = regular_file_size(fd, path);
  file.handle_ = fd;
  file.open_ = true;
  file.required_alignment_ = 1;
#if defined(__APPLE__)
  if (options.bypass_cache && !options.simulate_direct_refused) {
    if (::fcntl(fd, F_NOCACHE, 1) == 0) {
      file.bypass_ = CacheBypass::nocache;
      ::fcntl(fd, F_RDAHEAD, 0);
    } else {
      file.fallback_reason_ = std::string("F_NOCACHE refused: ") + os_error_text(errno);
    }
  }
#else
  if (options.bypass_cache) file.fallback_reason_ = "no cache bypass on this system";
#endif
  return file;
#endif
}

void DirectFile::close() noexcept {
  if (open_) ::close(handle_);
  open_ = false;
}

ReadResult DirectFile::read_some(uint64_t offset, uint32_t length, void* dest) const noexcept {
  ssize_t n;
  do {
    n = ::pread(handle_, dest, length, static_cast<off_t>(offset));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return {0, errno};
  return {static_cast<uint32_t>(n), 0};
}

void DirectFile::drop_cached(uint64_t offset, uint64_t length) const noexcept {
#if defined(POSIX_FADV_DONTNEED) && !defined(__APPLE__)
  if (bypass_ == CacheBypass::dropped_after_read) {
    ::posix_fadvise(handle_, static_cast<off_t>(offset), static_cast<off_t>(length),
                    POSIX_FADV_DONTNEED);
  }
#endif
}

}  // namespace sieve::flash

#endif  // !_WIN32
