#pragma once
// Batches of positional reads from one DirectFile, many in flight at once.
//
//   IoEngine& io = ...;
//   IoBatch next = io.submit(reads_for_layer_l_plus_1);  // returns at once
//   compute(layer_l);                                    // reads proceed meanwhile
//   io.wait(next);                                       // exactly those reads
//
// Backends: io_uring on Linux (one ring, up to queue_depth reads in flight,
// completions reaped by one background thread), and a portable pool of
// queue_depth threads doing pread / overlapped ReadFile. `automatic` picks
// io_uring and falls back to threads when the kernel or a sandbox refuses it;
// backend() and backend_note() say which is active and why.
//
// Requests must be aligned (offset, length and dest) to the file's
// required_alignment() and may run past the end of the file only into the
// padding of its last block (up to DirectFile::padded_size(); those bytes of
// the destination are left untouched); submit() checks this and throws. To read
// arbitrary byte ranges use ReadPlanner / ScatterReader (read_planner.h),
// which widen and merge them into aligned reads through a staging buffer.
//
// Every submitted read completes or fails; none is left hanging. Short reads
// are continued where they stopped; EINTR/EAGAIN are retried; end of file
// inside a read, EIO and the like fail the read's batch with a sieve::Error
// naming the file, offset and length, raised by wait().

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "flash/io/direct_file.h"

namespace sieve::flash {

struct ReadRequest {
  uint64_t offset = 0;
  uint32_t length = 0;
  void* dest = nullptr;
  uint64_t tag = 0;  // the caller's: carried through planning, never interpreted
};

enum class IoBackend { automatic, io_uring, threads };
const char* to_string(IoBackend backend);
// "auto", "io_uring" or "threads"; throws sieve::Error otherwise.
IoBackend parse_io_backend(const std::string& name);

// Fault injection for tests: reads are counted per engine in the order they
// are issued (0-based; a continued short read counts again), and the read
// with number `nth_read` gets the fault. The read really happens; only its
// outcome is changed.
enum class IoFaultKind {
  short_read,   // returns at most short_bytes (keep it a multiple of the alignment)
  io_error,     // fails with EIO (ERROR_READ_FAULT on Windows)
  end_of_file,  // returns 0 bytes, as if the file had shrunk
};
struct IoFault {
  uint64_t nth_read = 0;
  IoFaultKind kind = IoFaultKind::io_error;
  uint32_t short_bytes = 4096;
};
struct IoFaults {
  std::vector<IoFault> faults;
  bool empty() const { return faults.empty(); }
};

struct IoOptions {
  IoBackend backend = IoBackend::automatic;
  uint32_t queue_depth = 64;  // reads in flight at once: ring slots or threads (1..1024)
  IoFaults faults;
};

struct IoStats {
  uint64_t reads_issued = 0;  // system calls / ring entries, retries included
  uint64_t bytes_read = 0;
  uint64_t retries = 0;       // short reads continued, EINTR/EAGAIN repeated
  uint64_t failed_requests = 0;
};

// A ticket for one submit() call. id 0 means "no batch".
struct IoBatch {
  uint64_t id = 0;
  uint32_t slot = 0;
  bool valid() const { return id != 0; }
};

class IoEngine {
 public:
  virtual ~IoEngine() = default;

  // Validates every request (throwing sieve::Error, with nothing queued, when
  // one is misaligned, null or past the end of the file), queues them and
  // returns at once. Zero-length requests are accepted and do nothing.
  virtual IoBatch submit(std::span<const ReadRequest> requests) = 0;
  // True once every read of the batch has finished (or failed).
  virtual bool poll(IoBatch batch) = 0;
  // Blocks until the batch has finished and forgets it; throws sieve::Error
  // describing the first failed read, after all its reads are done (so its
  // buffers are no longer written to).
  virtual void wait(IoBatch batch) = 0;
  // Blocks until some outstanding batch has finished and returns it (still
  // outstanding: wait() collects it without blocking). Returns an invalid
  // batch when none is outstanding.
  virtual IoBatch wait_any() = 0;
  // Waits for and forgets every outstanding batch; throws the first error.
  virtual void wait_all() = 0;
  // Makes room for `reads` more requests and `batches` more batches in flight
  // at once, on top of earlier calls (each user of a shared engine reserves
  // its own), so that submitting within them allocates nothing — the decode
  // loop's reads (docs/architecture.md). More still works: the queues grow.
  virtual void reserve(size_t reads, size_t batches) = 0;

  virtual IoBackend backend() const = 0;
  // Why the active backend was chosen when it is not the one asked for.
  virtual const std::string& backend_note() const = 0;
  virtual uint32_t queue_depth() const = 0;
  virtual IoStats stats() const = 0;
  virtual const DirectFile& file() const = 0;
};

// `file` must outlive the engine. Throws sieve::Error for a bad queue depth,
// or when io_uring is asked for explicitly and cannot be used.
std::unique_ptr<IoEngine> make_io_engine(const DirectFile& file, const IoOptions& options = {});

// Whether this build and kernel can run the io_uring backend; `why_not`
// receives the reason when not.
bool io_uring_available(std::string* why_not = nullptr);

}  // namespace sieve::flash
