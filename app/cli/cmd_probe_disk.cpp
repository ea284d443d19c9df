// `sieve probe-disk [FOLDER]`: random-read throughput of the disk holding
// FOLDER per read size and queue depth, bypassing the page cache. The result
// is the bandwidth curve the streaming planner uses (--json saves it).

#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/args.h"
#include "util/byte_size.h"
#include "cli/commands.h"
#include "flash/io/disk_probe.h"
#include "util/error.h"

namespace sieve::cli {
namespace {

const std::vector<OptionSpec>& probe_options() {
  static const std::vector<OptionSpec> specs = {
      {"size", 0, true, "test file size (default 1G)", "SIZE"},
      {"chunks", 0, true, "read sizes, comma-separated (default 4K,16K,64K,256K,1M,4M)", "LIST"},
      {"depths", 0, true, "queue depths, comma-separated (default 1,4,16,64)", "LIST"},
      {"seconds", 0, true, "seconds per chunk x depth point (default 1)", "S"},
      {"json", 0, true, "save the profile (points, best, backend) as JSON", "FILE"},
      {"backend", 0, true, "auto|io_uring|threads (default auto)", "NAME"},
      {"keep", 0, false, "keep the test file (a later run reuses it)", ""},
      {"help", 'h', false, "show this help", ""},
  };
  return specs;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    items.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

std::vector<uint32_t> parse_chunks(const std::string& text) {
  std::vector<uint32_t> chunks;
  for (const std::string& item : split_commas(text)) {
    const auto bytes = parse_byte_size(item);
    if (!bytes || *bytes == 0 || *bytes > (1u << 30)) {
      throw UsageError("--chunks: expected sizes such as 4K,1M (at most 1G), got '" + item + "'");
    }
    chunks.push_back(static_cast<uint32_t>(*bytes));
  }
  return chunks;
}

std::vector<uint32_t> parse_depths(const std::string& text) {
  std::vector<uint32_t> depths;
  for (const std::string& item : split_commas(text)) {
    uint32_t depth = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), depth);
    if (ec != std::errc() || ptr != item.data() + item.size() || depth == 0 || depth > 1024) {
      throw UsageError("--depths: expected whole numbers from 1 to 1024 such as 1,4,16, got '" + item + "'");
    }
    depths.push_back(depth);
  }
  return depths;
}

// "4K", "256K", "1M": chunk sizes in the table.
std::string short_size(uint32_t bytes) {
  if (bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes % 1024 == 0) return std::to_string(bytes >> 10) + "K";
  return std::to_string(bytes);
}

void print_point(const flash::DiskPoint& p) {
  std::printf("%7s %6u %10.1f %10.0f %10.0f\n", short_size(p.chunk_bytes).c_str(), p.queue_depth, p.mb_per_s,
              p.iops, p.mean_latency_us);
  std::fflush(stdout);
}

// MB/s with chunks down and depths across.
void print_matrix(const flash::DiskProfile& profile, const flash::ProbeOptions& options) {
  std::printf("\nMB/s by chunk (rows) and queue depth (columns):\n%7s", "chunk");
  for (uint32_t d : options.queue_depths) std::printf(" %9u", d);
  std::printf("\n");
  for (uint32_t c : options.chunk_sizes) {
    bool any = false;
    std::string row;
    char cell[32];
    for (uint32_t d : options.queue_depths) {
      const flash::DiskPoint* found = nullptr;
      for (const flash::DiskPoint& p : profile.points) {
        if (p.chunk_bytes == c && p.queue_depth == d) found = &p;
      }
      if (found != nullptr) any = true;
      std::snprintf(cell, sizeof cell, " %9.1f", found != nullptr ? found->mb_per_s : 0.0);
      row += found != nullptr ? cell : "         -";
    }
    if (any) std::printf("%7s%s\n", short_size(c).c_str(), row.c_str());
  }
}

void print_summary(const flash::DiskProfile& profile) {
  const flash::DiskPoint* best = profile.best();
  const flash::DiskPoint* knee = profile.knee(0.9);
  if (best == nullptr) return;
  std::printf("\nbest: %.1f MB/s (chunk %s, depth %u)\n", best->mb_per_s, short_size(best->chunk_bytes).c_str(),
              best->queue_depth);
  std::printf("90%% of best (%.1f MB/s) first reached at chunk %s, depth %u (%.1f MB/s)\n", 0.9 * best->mb_per_s,
              short_size(knee->chunk_bytes).c_str(), knee->queue_depth, knee->mb_per_s);
}

}  // namespace

int cmd_probe_disk(CommandArgs argv) {
  const std::string synopsis = "sieve probe-disk [FOLDER] [options]";
  const Args args = Args::parse(argv, probe_options());
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, probe_options()).c_str());
    std::printf(
        "\nWrites a test file in FOLDER (default: the current folder), reads random\n"
        "offsets from it for each chunk size x queue depth bypassing the page cache,\n"
        "and prints throughput (MB/s = 10^6 bytes/s), IOPS and mean latency.\n");
    return 0;
  }
  if (args.positional().size() > 1) {
    throw UsageError("unexpected argument '" + args.positional()[1] + "' (see --help)");
  }
  flash::ProbeOptions options;
  options.folder = args.positional().empty() ? "." : args.positional()[0];
  options.file_bytes = args.get_size("size", options.file_bytes);
  if (auto chunks = args.get("chunks")) options.chunk_sizes = parse_chunks(*chunks);
  if (auto depths = args.get("depths")) options.queue_depths = parse_depths(*depths);
  options.seconds_per_point = args.get_double("seconds", options.seconds_per_point);
  options.keep_file = args.has("keep");
  if (auto backend = args.get("backend")) {
    try {
      options.backend = flash::parse_io_backend(*backend);
    } catch (const Error& e) {
      throw UsageError(std::string("--backend: ") + e.what());
    }
  }

  flash::ProbeEvents events;
  bool header_printed = false;
  events.on_message = [](const std::string& m) { std::fprintf(stderr, "probe-disk: %s\n", m.c_str()); };
  events.on_point = [&](const flash::DiskPoint& p) {
    if (!header_printed) {
      std::printf("%7s %6s %10s %10s %10s\n", "chunk", "depth", "MB/s", "IOPS", "lat_us");
      header_printed = true;
    }
    print_point(p);
  };
  const flash::DiskProfile profile = flash::probe_disk(options, events);
  std::printf("\nfolder %s, test file %s, backend %s, %s\n", profile.folder.c_str(),
              format_bytes(profile.file_bytes).c_str(), profile.backend.c_str(), profile.cache_mode.c_str());
  print_matrix(profile, options);
  print_summary(profile);
  if (auto json = args.get("json")) {
    profile.save(*json);
    std::fprintf(stderr, "probe-disk: profile saved to %s\n", json->c_str());
  }
  return 0;
}

}  // namespace sieve::cli
