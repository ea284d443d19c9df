#include "flash/io/io_engine.h"

#include "flash/io/queued_engine.h"
#include "util/error.h"

#ifdef SIEVE_HAVE_IO_URING
#include <liburing.h>
#endif

namespace sieve::flash {
namespace {
constexpr uint32_t kMaxQueueDepth = 1024;
}

const char* to_string(IoBackend backend) {
  switch (backend) {
    case IoBackend::automatic: return "auto";
    case IoBackend::io_uring: return "io_uring";
    case IoBackend::threads: return "threads";
  }
  return "?";
}

IoBackend parse_io_backend(const std::string& name) {
  for (IoBackend b : {IoBackend::automatic, IoBackend::io_uring, IoBackend::threads}) {
    if (name == to_string(b)) return b;
  }
  throw Error("unknown I/O backend '" + name + "' (expected auto, io_uring or threads)");
}

bool io_uring_available(std::string* why_not) {
#ifdef SIEVE_HAVE_IO_URING
  io_uring ring{};
  const int r = io_uring_queue_init(8, &ring, 0);
  if (r < 0) {
    if (why_not != nullptr) *why_not = "io_uring_setup failed: " + os_error_text(-r);
    return false;
  }
  io_uring_queue_exit(&ring);
  return true;
#else
  if (why_not != nullptr) *why_not = "this build has no io_uring support";
  return false;
#endif
}

std::unique_ptr<IoEngine> make_io_engine(const DirectFile& file, const IoOptions& options) {
  if (options.queue_depth < 1 || options.queue_depth > kMaxQueueDepth) {
    throw Error("I/O queue depth " + std::to_string(options.queue_depth) +
                " is out of range (1 to " + std::to_string(kMaxQueueDepth) + ")");
  }
  if (options.backend == IoBackend::threads) return detail::make_threaded_engine(file, options, "");
  std::string why_not;
  if (auto engine = detail::make_uring_engine(file, options, &why_not)) return engine;
  if (options.backend == IoBackend::io_uring) {
    throw Error(file.path() + ": cannot use io_uring: " + why_not);
  }
  return detail::make_threaded_engine(file, options, "io_uring unavailable: " + why_not);
}

}  // namespace sieve::flash
