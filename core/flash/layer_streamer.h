#pragma once
// Streams the FFN bundles of the layers that are not pinned in DRAM, in the
// order the forward pass needs them, through two buffers: while layer L is
// computed from one, the next streamed layer is read into the other. The
// sequence wraps around (after the last streamed layer comes the first one of
// the next token), so the reads for the next token start while the current
// one finishes, and the disk never waits for the pinned layers' compute.
//
//   const std::byte* bundles = streamer.acquire(layer);  // waits for its reads
//   compute(bundles);
//   streamer.release(layer);  // its buffer now receives the next layer
//
// A failed read (or a checksum mismatch) raises sieve::Error from acquire()
// after every read in flight has finished; the streamer then starts over
// at the next layer asked for, so the engine stays usable.

#include <chrono>
#include <cstdint>
#include <vector>

#include "flash/flash_options.h"
#include "flash/io/aligned_buffer.h"
#include "flash/io/io_engine.h"
#include "flash/pack_file.h"

namespace sieve::flash {

struct StreamStats {
  uint64_t bytes_read = 0;     // bundle bytes read from the disk
  uint64_t layers_read = 0;
  uint64_t layers_verified = 0;
  double wait_seconds = 0;     // compute blocked on reads that were not done yet
};

class LayerStreamer {
 public:
  // `layers`: the streamed layers in forward order (at least one). Reads are
  // at most `max_read` bytes each. The pack and io must outlive this.
  LayerStreamer(const PackFile& pack, IoEngine& io, std::vector<int64_t> layers, uint32_t max_read,
                BundleVerify verify);
  ~LayerStreamer();  // waits for reads in flight (they target our buffers)
  LayerStreamer(const LayerStreamer&) = delete;
  LayerStreamer& operator=(const LayerStreamer&) = delete;

  // Bytes of one buffer for a layer of `layer_bytes` (alignment included).
  static uint64_t slot_bytes(uint64_t layer_bytes);
  // Bytes of the two (or, with one streamed layer, one) buffers.
  static uint64_t buffer_bytes(const PackFile& pack, const std::vector<int64_t>& layers);

  // Submits the first reads (done lazily by acquire() otherwise).
  void start();
  const std::byte* acquire(int64_t layer);
  void release(int64_t layer);

  const StreamStats& stats() const { return stats_; }
  const std::vector<int64_t>& layers() const { return layers_; }

 private:
  struct Slot {
    AlignedBuffer buffer;
    int64_t seq = -1;  // index into layers_ of the layer it holds or receives; -1 when free
    IoBatch batch;     // valid while its reads are in flight or not yet collected
  };

  int64_t seq_of(int64_t layer) const;
  void submit(Slot& slot, int64_t seq);
  void restart_at(int64_t seq);
  void drain_quietly();
  void collect(Slot& slot);

  const PackFile& pack_;
  IoEngine& io_;
  std::vector<int64_t> layers_;
  std::vector<int64_t> seq_by_layer_;  // -1 for pinned layers
  uint32_t max_read_;
  BundleVerify verify_;
  std::vector<Slot> slots_;
  int64_t next_seq_ = 0;     // the next sequence position to read into a freed buffer
  uint64_t acquired_ = 0;    // for spot checks
  std::vector<ReadRequest> requests_;
  StreamStats stats_;
};

}  // namespace sieve::flash
