// The platform-independent part of DirectFile; the OS calls live in
// direct_file_posix.cpp and direct_file_win32.cpp.
#include "flash/io/direct_file.h"

#include <algorithm>
#include <utility>

#include "flash/io/aligned_buffer.h"

namespace sieve::flash {

const char* to_string(CacheBypass mode) {
  switch (mode) {
    case CacheBypass::direct: return "direct";
    case CacheBypass::nocache: return "nocache";
    case CacheBypass::dropped_after_read: return "buffered+drop";
    case CacheBypass::none: return "buffered";
  }
  return "?";
}

DirectFile::DirectFile(DirectFile&& other) noexcept { *this = std::move(other); }

DirectFile& DirectFile::operator=(DirectFile&& other) noexcept {
  if (this == &other) return *this;
  close();
  path_ = std::move(other.path_);
  handle_ = other.handle_;
  open_ = std::exchange(other.open_, false);
  size_ = other.size_;
  bypass_ = other.bypass_;
  fallback_reason_ = std::move(other.fallback_reason_);
  logical_block_ = other.logical_block_;
  required_alignment_ = other.required_alignment_;
  return *this;
}

DirectFile::~DirectFile() { close(); }

uint64_t DirectFile::padded_size() const {
  return align_up(size_, std::max<uint64_t>(required_alignment_, kDefaultIoAlignment));
}

std::string DirectFile::describe_cache_mode() const {
#if defined(_WIN32)
  const char* direct_name = "FILE_FLAG_NO_BUFFERING";
#else
  const char* direct_name = "O_DIRECT";
#endif
  std::string text;
  switch (bypass_) {
    case CacheBypass::direct: text = direct_name; break;
    case CacheBypass::nocache: text = "F_NOCACHE"; break;
    case CacheBypass::dropped_after_read: text = "buffered, pages dropped after each read"; break;
    case CacheBypass::none: text = "buffered"; break;
  }
  if (!fallback_reason_.empty()) text += " (" + fallback_reason_ + ")";
  return text;
}

}  // namespace sieve::flash
