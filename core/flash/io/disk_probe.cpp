#include "flash/io/disk_probe.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "flash/io/aligned_buffer.h"
#include "flash/io/direct_file.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kMinFileBytes = 1 << 20;
constexpr uint32_t kMaxChunk = 1u << 30;
constexpr uint32_t kMaxDepth = 1024;
// Reads land in buffers that are thrown away; above this much memory several
// reads share one (harmless: nobody looks at the bytes).
constexpr uint64_t kMaxBufferBytes = uint64_t{512} << 20;

void check_options(const ProbeOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.folder, ec)) throw Error(o.folder + ": is not a folder");
  if (o.file_bytes < kMinFileBytes) throw Error("probe-disk: the test file must be at least 1 MiB");
  if (o.chunk_sizes.empty() || o.queue_depths.empty()) {
    throw Error("probe-disk: give at least one chunk size and one queue depth");
  }
  for (uint32_t c : o.chunk_sizes) {
    if (c == 0 || c % kDefaultIoAlignment != 0 || c > kMaxChunk) {
      throw Error("probe-disk: chunk size " + std::to_string(c) +
                  " must be a multiple of 4096 bytes, at most 1 GiB");
    }
  }
  for (uint32_t d : o.queue_depths) {
    if (d == 0 || d > kMaxDepth) {
      throw Error("probe-disk: queue depth " + std::to_string(d) + " is out of range (1 to 1024)");
    }
  }
  if (!(o.seconds_per_point > 0) || o.seconds_per_point > 3600) {
    throw Error("probe-disk: seconds per point must be above 0 and at most 3600");
  }
}

// Removes the test file when the probe ends, however it ends.
class FileRemover {
 public:
  FileRemover(std::string path, bool active) : path_(std::move(path)), active_(active) {}
  ~FileRemover() {
    std::error_code ec;
    if (active_) fs::remove(path_, ec);
  }
  FileRemover(const FileRemover&) = delete;
  FileRemover& operator=(const FileRemover&) = delete;

 private:
  std::string path_;
  bool active_;
};

uint64_t next_random(uint64_t& state) {
  state ^= state << 13;  // xorshift64
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

// Keeps `depth` single-read batches in flight at random aligned offsets for
// `seconds`, then lets the last ones finish; the clock stops at the last.
DiskPoint measure_point(IoEngine& engine, uint32_t chunk, double seconds, uint64_t& rng) {
  const DirectFile& file = engine.file();
  const uint32_t depth = engine.queue_depth();
  const uint64_t step = std::max<uint64_t>(kDefaultIoAlignment, file.required_alignment());
  const uint64_t positions = (file.size() - chunk) / step + 1;
  const uint64_t buffers = std::clamp<uint64_t>(kMaxBufferBytes / chunk, 1, depth);
  AlignedBuffer memory(static_cast<size_t>(buffers * chunk), step);

  std::vector<IoBatch> in_flight(depth);
  auto issue = [&](uint32_t slot) {
    ReadRequest r;
    r.offset = (next_random(rng) % positions) * step;
    r.length = chunk;
    r.dest = memory.data() + (slot % buffers) * chunk;
    in_flight[slot] = engine.submit(std::span<const ReadRequest>(&r, 1));
  };

  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (uint32_t slot = 0; slot < depth; ++slot) issue(slot);
  uint64_t reads = 0;
  for (uint32_t outstanding = depth; outstanding > 0;) {
    const IoBatch done = engine.wait_any();
    engine.wait(done);  // throws if the read failed
    ++reads;
    const auto slot = static_cast<uint32_t>(
        std::find_if(in_flight.begin(), in_flight.end(), [&](const IoBatch& b) { return b.id == done.id; }) -
        in_flight.begin());
    if (Clock::now() < deadline) {
      issue(slot);
    } else {
      in_flight[slot] = IoBatch{};
      --outstanding;
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  DiskPoint point;
  point.chunk_bytes = chunk;
  point.queue_depth = depth;
  point.reads = reads;
  point.seconds = elapsed;
  point.iops = static_cast<double>(reads) / elapsed;
  point.mb_per_s = point.iops * chunk / 1e6;
  point.mean_latency_us = point.iops > 0 ? depth / point.iops * 1e6 : 0;
  return point;
}

void say(const ProbeEvents& events, const std::string& message) {
  if (events.on_message) events.on_message(message);
}

void stop_if_cancelled(const ProbeEvents& events) {
  if (events.cancelled && events.cancelled()) throw ProbeCancelled();
}

}  // namespace

std::string probe_file_path(const std::string& folder) {
  return (fs::path(folder) / "sieve-probe.tmp").string();
}

DiskProfile probe_disk(const ProbeOptions& options, const ProbeEvents& events) {
  check_options(options);
  const std::string path = probe_file_path(options.folder);
  const uint64_t want_bytes = align_up(options.file_bytes, kDefaultIoAlignment);
  std::error_code ec;
  const bool reuse = fs::is_regular_file(path, ec) && fs::file_size(path, ec) == want_bytes && !ec;
  // Set up before writing, so that a failed or interrupted write is removed too.
  FileRemover remover(path, !options.keep_file);
  stop_if_cancelled(events);
  if (reuse) {
    say(events, "reusing test file " + path);
  } else {
    say(events, "writing test file " + path + " (" + std::to_string(want_bytes >> 20) + " MiB)");
    write_probe_file(path, want_bytes, options.seed);
  }

  const DirectFile file = DirectFile::open(path);
  DiskProfile profile;
  profile.folder = options.folder;
  profile.cache_mode = file.describe_cache_mode();
  profile.file_bytes = file.size();
  uint64_t rng = options.seed | 1;
  for (uint32_t chunk : options.chunk_sizes) {
    if (chunk > file.size()) {
      say(events, "skipping chunk " + std::to_string(chunk) + ": larger than the test file");
      continue;
    }
    for (uint32_t depth : options.queue_depths) {
      stop_if_cancelled(events);
      IoOptions io;
      io.backend = options.backend;
      io.queue_depth = depth;
      auto engine = make_io_engine(file, io);
      if (profile.backend.empty()) {
        profile.backend = to_string(engine->backend());
        if (!engine->backend_note().empty()) say(events, engine->backend_note());
      }
      profile.points.push_back(measure_point(*engine, chunk, options.seconds_per_point, rng));
      if (events.on_point) events.on_point(profile.points.back());
    }
  }
  return profile;
}

}  // namespace sieve::flash
