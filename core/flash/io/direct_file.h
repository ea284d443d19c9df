#pragma once
// A file opened read-only so that reads bypass the OS page cache: streamed
// weights are read once per token and would only evict useful pages.
//
//   Linux    O_DIRECT. When the filesystem refuses it (EINVAL at open or on a
//            first test read, e.g. some FUSE or network filesystems, tmpfs
//            before Linux 6.6) the file is read buffered and every read is
//            followed by posix_fadvise(DONTNEED) to drop its pages.
//   macOS    fcntl(F_NOCACHE) (no alignment rules).
//   Windows  FILE_FLAG_NO_BUFFERING | FILE_FLAG_OVERLAPPED, positional reads
//            through an OVERLAPPED offset.
//
// Direct reads need offset, length and buffer address aligned to
// required_alignment(); see read_planner.h for turning arbitrary byte ranges
// into such reads. A DirectFile is safe to read from several threads at once.

#include <cstdint>
#include <string>

namespace sieve::flash {

#ifdef _WIN32
using NativeFileHandle = void*;  // HANDLE
#else
using NativeFileHandle = int;
#endif

enum class CacheBypass {
  direct,              // O_DIRECT / FILE_FLAG_NO_BUFFERING: no page cache at all
  nocache,             // macOS F_NOCACHE: the cache is not filled
  dropped_after_read,  // direct I/O refused: buffered reads, pages dropped afterwards
  none,                // plain buffered reads (bypass not requested)
};
const char* to_string(CacheBypass mode);

struct OpenOptions {
  bool bypass_cache = true;
  // For tests: behave as if the filesystem refused direct I/O, to exercise
  // the fallback on machines where every filesystem accepts it.
  bool simulate_direct_refused = false;
};

// The outcome of one positional read: bytes transferred (0 at end of file)
// or an OS error code (errno, or GetLastError() on Windows).
struct ReadResult {
  uint32_t bytes = 0;
  int os_error = 0;
};

// The OS's text for an error code from ReadResult or errno/GetLastError().
std::string os_error_text(int os_error);
// The error code meaning "input/output error" on this platform (EIO, or
// ERROR_READ_FAULT on Windows), used by fault injection.
int os_io_error_code();

class DirectFile {
 public:
  // Throws sieve::Error naming the path and the OS error when the file cannot
  // be opened or is not a regular file.
  static DirectFile open(const std::string& path, const OpenOptions& options = {});

  DirectFile(DirectFile&& other) noexcept;
  DirectFile& operator=(DirectFile&& other) noexcept;
  DirectFile(const DirectFile&) = delete;
  DirectFile& operator=(const DirectFile&) = delete;
  ~DirectFile();

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }  // at open time
  CacheBypass cache_bypass() const { return bypass_; }
  bool is_direct() const { return bypass_ == CacheBypass::direct; }
  bool is_buffered_fallback() const { return bypass_ == CacheBypass::dropped_after_read; }
  // Why direct I/O is not in use (empty when it is, or was not requested).
  const std::string& fallback_reason() const { return fallback_reason_; }
  // The device's logical block size, 0 when the OS does not say.
  uint32_t logical_block_size() const { return logical_block_; }
  // What every read must be aligned to (offset, length and buffer address):
  // the direct-I/O alignment when reads are direct, otherwise 1.
  uint32_t required_alignment() const { return required_alignment_; }
  // The size rounded up to max(required_alignment(), 4096): aligned reads may
  // run into this padding past the end; it receives no bytes.
  uint64_t padded_size() const;
  NativeFileHandle native_handle() const { return handle_; }

  // One positional read of up to `length` bytes (a single system call, no
  // retry). Thread-safe; never throws.
  ReadResult read_some(uint64_t offset, uint32_t length, void* dest) const noexcept;
  // After a buffered-fallback read: asks the OS to drop the range's pages.
  void drop_cached(uint64_t offset, uint64_t length) const noexcept;

  // "O_DIRECT", "buffered, pages dropped after reads (O_DIRECT refused: ...)", ...
  std::string describe_cache_mode() const;

 private:
  DirectFile() = default;
  void close() noexcept;

  std::string path_;
  NativeFileHandle handle_{};
  bool open_ = false;
  uint64_t size_ = 0;
  CacheBypass bypass_ = CacheBypass::none;
  std::string fallback_reason_;
  uint32_t logical_block_ = 0;
  uint32_t required_alignment_ = 1;
};

}  // namespace sieve::flash
