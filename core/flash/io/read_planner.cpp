#include "flash/io/read_planner.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "util/error.h"

namespace sieve::flash {
namespace {
constexpr uint64_t kDirect = std::numeric_limits<uint64_t>::max();
}

ReadPlanner::ReadPlanner(uint64_t file_size, uint32_t required_alignment, PlanOptions options)
    : file_size_(file_size) {
  if (!is_power_of_two(options.alignment) || !is_power_of_two(required_alignment)) {
    throw Error("read planner: alignments must be powers of two (got " +
                std::to_string(options.alignment) + " and " + std::to_string(required_alignment) +
                ")");
  }
  alignment_ = std::max(options.alignment, required_alignment);
  file_limit_ = align_up(file_size, required_alignment);
  merge_gap_ = options.merge_gap;
  merge_ = options.merge;
  max_read_ = static_cast<uint32_t>(
      std::max<uint64_t>(alignment_, align_down(std::min<uint32_t>(options.max_read, 1u << 30), alignment_)));
  staging_ = AlignedBuffer(alignment_, alignment_);
}

ReadPlanner::ReadPlanner(const DirectFile& file, PlanOptions options)
    : ReadPlanner(file.size(), file.required_alignment(), options) {}

// The error text is built only for a bad request: plan() runs for every
// token's reads, which allocate nothing (docs/architecture.md).
void ReadPlanner::validate(std::span<const ReadRequest> wanted, const std::string& file_name) const {
  for (const ReadRequest& r : wanted) {
    if (r.length == 0) continue;
    const auto what = [&] {
      return file_name + ": read of " + std::to_string(r.length) + " bytes at offset " + std::to_string(r.offset);
    };
    if (r.dest == nullptr) throw Error(what() + " has no destination buffer");
    if (r.offset > file_size_ || r.length > file_size_ - r.offset) {
      throw Error(what() + " runs past the end of the file (" + std::to_string(file_size_) + " bytes)");
    }
  }
}

uint64_t ReadPlanner::padded_end(uint64_t end) const {
  return std::min(align_up(end, alignment_), file_limit_);
}

// Widens each range to aligned blocks, sorts, and merges neighbours whose
// gap is at most merge_gap.
void ReadPlanner::build_groups(std::span<const ReadRequest> wanted) {
  order_.clear();
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i].length != 0) order_.push_back(static_cast<uint32_t>(i));
  }
  std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
    return wanted[a].offset != wanted[b].offset ? wanted[a].offset < wanted[b].offset
                                                : wanted[a].length < wanted[b].length;
  });
  groups_.clear();
  for (size_t pos = 0; pos < order_.size(); ++pos) {
    const ReadRequest& r = wanted[order_[pos]];
    const uint64_t begin = align_down(r.offset, alignment_);
    const uint64_t end = padded_end(r.offset + r.length);
    if (merge_ && !groups_.empty() && begin <= groups_.back().end + merge_gap_) {
      Group& g = groups_.back();
      g.end = std::max(g.end, end);
      ++g.count;
    } else {
      groups_.push_back(Group{begin, end, pos, 1});
    }
  }
}

// Appends reads covering [begin, end) in pieces of at most max_read.
void ReadPlanner::add_reads(uint64_t begin, uint64_t end, std::byte* dest, uint64_t staging_offset,
                            uint64_t tag) {
  for (uint64_t at = begin; at < end;) {
    // Pieces end on max_read boundaries of the file so neighbouring reads line up.
    const uint64_t piece_end = std::min(end, align_down(at, max_read_) + max_read_);
    ReadRequest read;
    read.offset = at;
    read.length = static_cast<uint32_t>(piece_end - at);
    read.dest = dest == nullptr ? nullptr : dest + (at - begin);
    read.tag = tag;
    plan_.reads.push_back(read);
    read_staging_.push_back(dest == nullptr ? staging_offset + (at - begin) : kDirect);
    plan_.read_bytes += read.length;
    at = piece_end;
  }
}

// A lone range whose destination shares its offset's misalignment: its
// aligned middle goes straight to the destination, the partial ends are staged.
bool ReadPlanner::plan_zero_copy(const ReadRequest& r) {
  const uint64_t end = r.offset + r.length;
  const uint64_t middle_begin = align_up(r.offset, alignment_);
  const uint64_t middle_end = align_down(end, alignment_);
  const auto dest_address = reinterpret_cast<uintptr_t>(r.dest);
  if ((dest_address - r.offset) % alignment_ != 0 || middle_begin >= middle_end) return false;
  auto* dest = static_cast<std::byte*>(r.dest);
  add_reads(middle_begin, middle_end, dest + (middle_begin - r.offset), 0, r.tag);
  plan_.direct_bytes += middle_end - middle_begin;
  auto stage = [&](uint64_t block_begin, uint64_t block_end, uint64_t copy_begin, uint64_t copy_end) {
    add_reads(block_begin, block_end, nullptr, plan_.staging_bytes, r.tag);
    plan_.copies.push_back(ScatterCopy{plan_.staging_bytes + (copy_begin - block_begin),
                                       dest + (copy_begin - r.offset),
                                       static_cast<uint32_t>(copy_end - copy_begin)});
    plan_.staging_bytes += align_up(block_end - block_begin, alignment_);
  };
  if (r.offset < middle_begin) stage(align_down(r.offset, alignment_), middle_begin, r.offset, middle_begin);
  if (end > middle_end) stage(middle_end, padded_end(end), middle_end, end);
  return true;
}

void ReadPlanner::plan_staged(std::span<const ReadRequest> wanted, const Group& group) {
  const uint64_t staging_offset = plan_.staging_bytes;
  add_reads(group.begin, group.end, nullptr, staging_offset, wanted[order_[group.first]].tag);
  for (size_t pos = group.first; pos < group.first + group.count; ++pos) {
    const ReadRequest& r = wanted[order_[pos]];
    plan_.copies.push_back(ScatterCopy{staging_offset + (r.offset - group.begin), r.dest, r.length});
  }
  // Keep every staged region aligned in memory (a clamped end may not be).
  plan_.staging_bytes += align_up(group.end - group.begin, alignment_);
}

const ReadPlan& ReadPlanner::plan(std::span<const ReadRequest> wanted, const std::string& file_name) {
  validate(wanted, file_name);
  plan_.reads.clear();
  plan_.copies.clear();
  read_staging_.clear();
  plan_.staging_bytes = plan_.requested_bytes = plan_.read_bytes = plan_.direct_bytes = 0;
  for (const ReadRequest& r : wanted) plan_.requested_bytes += r.length;

  build_groups(wanted);
  for (const Group& group : groups_) {
    if (group.count == 1 && plan_zero_copy(wanted[order_[group.first]])) continue;
    plan_staged(wanted, group);
  }
  // Only now is the staging size known: point the staged reads into it.
  staging_.reserve_discard(static_cast<size_t>(plan_.staging_bytes));
  for (size_t i = 0; i < plan_.reads.size(); ++i) {
    if (read_staging_[i] != kDirect) plan_.reads[i].dest = staging_.data() + read_staging_[i];
  }
  return plan_;
}

size_t ReadPlanner::reserve(size_t ranges, uint64_t span_bytes, uint64_t staging_bytes) {
  // A range makes at most three runs of reads (zero-copy: the staged first
  // block, the direct middle, the staged last block), and a run of b bytes at
  // most b / max_read + 2 pieces (they end on max_read boundaries).
  const size_t reads = static_cast<size_t>(span_bytes / max_read_) + 6 * ranges;
  plan_.reads.reserve(reads);
  read_staging_.reserve(reads);
  plan_.copies.reserve(2 * ranges);
  order_.reserve(ranges);
  groups_.reserve(ranges);
  staging_.reserve_discard(static_cast<size_t>(staging_bytes));
  return reads;
}

void ReadPlanner::scatter() const {
  for (const ScatterCopy& c : plan_.copies) {
    std::memcpy(c.dest, staging_.data() + c.staging_offset, c.length);
  }
}

ScatterReader::ScatterReader(IoEngine& engine, PlanOptions options)
    : engine_(engine), planner_(engine.file(), options) {}

ScatterReader::~ScatterReader() {
  if (!batch_.valid()) return;
  try {
    engine_.wait(batch_);
  } catch (const Error&) {
    // Nobody is left to hear about it; what matters is that no read is in flight.
  }
}

void ScatterReader::submit(std::span<const ReadRequest> wanted) {
  if (batch_.valid()) {
    throw Error(engine_.file().path() +
                ": a ScatterReader holds one submission at a time; wait() for the previous one first");
  }
  const ReadPlan& plan = planner_.plan(wanted, engine_.file().path());
  batch_ = engine_.submit(plan.reads);
}

bool ScatterReader::poll() { return engine_.poll(batch_); }

void ScatterReader::wait() {
  if (!batch_.valid()) return;
  const IoBatch batch = batch_;
  batch_ = IoBatch{};
  engine_.wait(batch);
  planner_.scatter();
}

}  // namespace sieve::flash
