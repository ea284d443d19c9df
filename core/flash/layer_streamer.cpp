#include "flash/layer_streamer.h"

#include <algorithm>

#include "flash/sequential_reader.h"
#include "util/error.h"

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace sieve::flash {
namespace {

using Clock = std::chrono::steady_clock;

// Streaming buffers are tens of MB read all over (a down column every
// bundle_bytes): in 2 MiB pages the TLB covers a whole layer.
constexpr size_t kHugePage = size_t{2} << 20;

size_t buffer_alignment(uint64_t bytes) { return bytes >= kHugePage ? kHugePage : kDefaultIoAlignment; }

AlignedBuffer make_stream_buffer(uint64_t bytes) {
  const size_t alignment = buffer_alignment(bytes);
  AlignedBuffer buffer(static_cast<size_t>(bytes), alignment);
#ifdef __linux__
  if (alignment == kHugePage) madvise(buffer.data(), buffer.size(), MADV_HUGEPAGE);  // a hint; failure is harmless
#endif
  return buffer;
}

uint64_t largest_layer(const PackFile& pack, const std::vector<int64_t>& layers) {
  uint64_t largest = 0;
  for (int64_t l : layers) largest = std::max(largest, pack.layout(l).layer_bytes());
  return largest;
}

}  // namespace

uint64_t LayerStreamer::slot_bytes(uint64_t layer_bytes) {
  return align_up(layer_bytes, buffer_alignment(layer_bytes));
}

uint64_t LayerStreamer::buffer_bytes(const PackFile& pack, const std::vector<int64_t>& layers) {
  return std::min<uint64_t>(2, layers.size()) * slot_bytes(largest_layer(pack, layers));
}

LayerStreamer::LayerStreamer(const PackFile& pack, IoEngine& io, std::vector<int64_t> layers, uint32_t max_read,
                             BundleVerify verify)
    : pack_(pack),
      io_(io),
      layers_(std::move(layers)),
      seq_by_layer_(static_cast<size_t>(pack.n_layers()), -1),
      max_read_(max_read),
      verify_(verify),
      slots_(std::min<size_t>(2, layers_.size())) {
  if (layers_.empty()) throw Error(pack.where() + ": no layer to stream.");
  for (size_t s = 0; s < layers_.size(); ++s) {
    const int64_t l = layers_[s];
    if (l < 0 || l >= pack.n_layers() || seq_by_layer_[static_cast<size_t>(l)] != -1) {
      throw Error(pack.where() + ": bad streamed layer list.");
    }
    seq_by_layer_[static_cast<size_t>(l)] = static_cast<int64_t>(s);
  }
  const uint64_t bytes = largest_layer(pack, layers_);
  for (Slot& slot : slots_) slot.buffer = make_stream_buffer(bytes);
  // Every token streams the layers again: their reads are sized now, so
  // decode allocates nothing (docs/architecture.md).
  const uint64_t step = std::max<uint64_t>(kDefaultIoAlignment, align_down(max_read_, kDefaultIoAlignment));
  const auto reads_per_layer = static_cast<size_t>((align_up(bytes, kDefaultIoAlignment) + step - 1) / step);
  requests_.reserve(reads_per_layer);
  io_.reserve(slots_.size() * reads_per_layer, slots_.size());
}

LayerStreamer::~LayerStreamer() { drain_quietly(); }

int64_t LayerStreamer::seq_of(int64_t layer) const {
  const int64_t seq = layer >= 0 && layer < static_cast<int64_t>(seq_by_layer_.size())
                          ? seq_by_layer_[static_cast<size_t>(layer)]
                          : -1;
  if (seq < 0) throw Error(pack_.where() + ": layer " + std::to_string(layer) + " is not streamed.");
  return seq;
}

void LayerStreamer::submit(Slot& slot, int64_t seq) {
  const int64_t layer = layers_[static_cast<size_t>(seq)];
  requests_.clear();
  append_range_reads(pack_.bundles_file_offset(layer), pack_.layout(layer).layer_bytes(), slot.buffer.data(), max_read_,
                     kDefaultIoAlignment, requests_);
  slot.batch = io_.submit(requests_);
  slot.seq = seq;
}

void LayerStreamer::start() {
  if (std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.seq < 0; })) restart_at(0);
}

void LayerStreamer::restart_at(int64_t seq) {
  drain_quietly();
  const auto m = static_cast<int64_t>(layers_.size());
  for (size_t i = 0; i < slots_.size(); ++i) submit(slots_[i], (seq + static_cast<int64_t>(i)) % m);
  next_seq_ = (seq + static_cast<int64_t>(slots_.size())) % m;
}

void LayerStreamer::drain_quietly() {
  for (Slot& slot : slots_) {
    if (slot.batch.valid()) {
      try {
        io_.wait(slot.batch);
      } catch (const Error&) {
      }
    }
    slot.batch = IoBatch{};
    slot.seq = -1;
  }
}

void LayerStreamer::collect(Slot& slot) {
  if (!slot.batch.valid()) return;
  const int64_t layer = layers_[static_cast<size_t>(slot.seq)];
  const Clock::time_point start = Clock::now();
  try {
    const IoBatch batch = slot.batch;
    slot.batch = IoBatch{};
    io_.wait(batch);
  } catch (const Error&) {
    stats_.wait_seconds += std::chrono::duration<double>(Clock::now() - start).count();
    drain_quietly();
    throw;
  }
  stats_.wait_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  stats_.bytes_read += pack_.layout(layer).layer_bytes();
  stats_.layers_read += 1;
  const auto m = static_cast<uint64_t>(layers_.size());
  const bool check = verify_ == BundleVerify::all || (verify_ == BundleVerify::spot && acquired_ % (m + 1) == 0);
  if (check) {
    try {
      pack_.check(pack_.bundles(layer), {slot.buffer.data(), static_cast<size_t>(pack_.layout(layer).layer_bytes())});
    } catch (const Error&) {
      drain_quietly();
      throw;
    }
    stats_.layers_verified += 1;
  }
}

const std::byte* LayerStreamer::acquire(int64_t layer) {
  const int64_t seq = seq_of(layer);
  auto holder = std::find_if(slots_.begin(), slots_.end(), [&](const Slot& s) { return s.seq == seq; });
  if (holder == slots_.end()) {
    // Out of the expected order (first use, or after an error): start over here.
    restart_at(seq);
    holder = slots_.begin();
  }
  collect(*holder);
  acquired_ += 1;
  return holder->buffer.data();
}

void LayerStreamer::release(int64_t layer) {
  const int64_t seq = seq_of(layer);
  const auto holder = std::find_if(slots_.begin(), slots_.end(), [&](const Slot& s) { return s.seq == seq; });
  if (holder == slots_.end() || holder->batch.valid()) return;  // not acquired: nothing to free
  submit(*holder, next_seq_);
  next_seq_ = (next_seq_ + 1) % static_cast<int64_t>(layers_.size());
}

}  // namespace sieve::flash
