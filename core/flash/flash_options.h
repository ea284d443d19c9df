#pragma once
// The knobs of flash mode's streaming: read sizes, queue depth, the I/O
// backend, checksum verification, injected faults (tests).

#include <cstdint>
#include <string>

#include "flash/io/io_engine.h"

namespace sieve {
namespace flash {

enum class BundleVerify {
  none,  // trust the disk
  spot,  // check one streamed layer's checksum per pass over the layers, in rotation
  all,   // check every streamed layer as it arrives
};

// Reads in flight when FlashTuning::queue_depth is 0, by what is read: flash
// streams 1 MiB reads, which reach a disk's bandwidth at modest depths; sparse
// mode issues thousands of reads of a few KiB per token, which need more in
// flight to reach a disk's IOPS (a VM disk here: 4-8 KiB reads 20-30% faster
// at 64 than at 32, sparse Q4_K_M decode 15-20% faster; docs/sparsity.md).
inline constexpr uint32_t kFlashQueueDepth = 32;
inline constexpr uint32_t kSparseQueueDepth = 64;

// The depth a run uses: the one given, else the default for its reads.
inline uint32_t resolved_queue_depth(uint32_t given, bool sparse_reads) {
  return given != 0 ? given : sparse_reads ? kSparseQueueDepth : kFlashQueueDepth;
}

struct FlashTuning {
  uint32_t read_bytes = 1u << 20;  // bytes per read request
  uint32_t queue_depth = 0;        // reads in flight; 0: by mode (above)
  IoBackend backend = IoBackend::automatic;
  BundleVerify verify = BundleVerify::spot;
  IoFaults faults;  // tests: injected read failures
  // Sparse mode: a `sieve probe-disk --json` profile; the holes worth reading
  // through between wanted neurons are chosen by its curve (empty: a default).
  std::string disk_profile;
  // Mixture-of-Experts: the next layer's experts are read ahead from a hint
  // (its router on this layer's input) for the ranks of the hint that were,
  // together, right at least this often lately about uncached experts; each
  // wrong read ahead costs a read nobody needed. 0.92 keeps those under a
  // tenth of the needed reads; 0 follows every hint at once (tests).
  double expert_read_ahead_precision = 0.92;
};

}  // namespace flash
}  // namespace sieve
