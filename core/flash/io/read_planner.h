#pragma once
// Turns arbitrary byte ranges ("wanted" reads: any offset, length and
// destination, possibly overlapping) into the aligned reads direct I/O needs.
//
// Alignment choice: the IoEngine accepts only aligned reads and this planner
// makes them. A wanted range is widened to `alignment` boundaries and read
// into a staging buffer, from which its bytes are copied to the destination
// after the reads complete. Zero-copy: when a range stands alone and its
// destination has the same misalignment as its offset (dest % A == offset % A,
// e.g. both aligned), the aligned middle of the range is read straight into
// the destination and only its partial first and last blocks are staged.
//
// Coalescing: after widening, ranges are sorted and neighbours whose gap is at
// most merge_gap bytes are read as one (a few extra KiB cost less than another
// request); every read is then split into pieces of at most max_read bytes,
// so that one large range keeps several device queues busy.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "flash/io/aligned_buffer.h"
#include "flash/io/io_engine.h"

namespace sieve::flash {

struct PlanOptions {
  uint32_t alignment = kDefaultIoAlignment;  // power of two; raised to the file's requirement
  uint32_t merge_gap = 64 * 1024;            // bytes of aligned hole worth reading through
  uint32_t max_read = 1024 * 1024;           // rounded down to the alignment
  // false: every range is planned on its own (zero-copy where it can be),
  // even when neighbours touch or share a block, so staging stays two
  // blocks per range (the expert cache: each expert lands in its own slot,
  // and a merged group of neighbouring experts would be staged whole).
  bool merge = true;
};

// After the reads complete: copy `length` bytes at staging + staging_offset to dest.
struct ScatterCopy {
  uint64_t staging_offset = 0;
  void* dest = nullptr;
  uint32_t length = 0;
};

struct ReadPlan {
  // Aligned reads, into the staging buffer or straight into a destination;
  // each carries the tag of the first wanted range it serves.
  std::vector<ReadRequest> reads;
  std::vector<ScatterCopy> copies;
  uint64_t staging_bytes = 0;
  uint64_t requested_bytes = 0;  // sum of the wanted lengths
  uint64_t read_bytes = 0;       // sum of the reads' lengths (alignment and gaps included)
  uint64_t direct_bytes = 0;     // wanted bytes read straight into their destination
};

class ReadPlanner {
 public:
  // `file_size` bounds the wanted ranges; reads end at most at file_size
  // rounded up to `required_alignment` (the file's, see DirectFile).
  ReadPlanner(uint64_t file_size, uint32_t required_alignment, PlanOptions options = {});
  ReadPlanner(const DirectFile& file, PlanOptions options = {});

  // Plans the reads. Throws sieve::Error naming `file_name` when a range has
  // no destination or lies past the end of the file. The plan (and the
  // staging buffer its reads point into) stays valid until the next call.
  const ReadPlan& plan(std::span<const ReadRequest> wanted, const std::string& file_name = "file");
  // Sizes every buffer of the plans for up to `ranges` wanted ranges lying
  // within `span_bytes` of the file (first byte to last, holes included) and
  // `staging_bytes` of staging, so that planning them allocates nothing (the
  // decode loop's reads, docs/architecture.md). Larger plans still work: the
  // buffers grow.
  // Returns the most reads such a plan makes.
  size_t reserve(size_t ranges, uint64_t span_bytes, uint64_t staging_bytes);
  // Copies the staged bytes of the current plan to their destinations; call
  // once its reads have completed.
  void scatter() const;

  const ReadPlan& current() const { return plan_; }
  uint32_t alignment() const { return alignment_; }
  uint32_t merge_gap() const { return merge_gap_; }
  uint32_t max_read() const { return max_read_; }

 private:
  struct Group {
    uint64_t begin = 0, end = 0;  // aligned (end clamped to the file's padded end)
    size_t first = 0, count = 0;  // positions in order_
  };

  void validate(std::span<const ReadRequest> wanted, const std::string& file_name) const;
  void build_groups(std::span<const ReadRequest> wanted);
  bool plan_zero_copy(const ReadRequest& r);
  void plan_staged(std::span<const ReadRequest> wanted, const Group& group);
  void add_reads(uint64_t begin, uint64_t end, std::byte* dest, uint64_t staging_offset, uint64_t tag);
  uint64_t padded_end(uint64_t end) const;

  uint64_t file_size_;
  uint64_t file_limit_;  // file size rounded up to the file's required alignment
  uint32_t alignment_, merge_gap_, max_read_;
  bool merge_ = true;
  ReadPlan plan_;
  AlignedBuffer staging_;
  std::vector<uint32_t> order_;          // wanted indices sorted by offset
  std::vector<Group> groups_;
  std::vector<uint64_t> read_staging_;   // per read: staging offset, or kDirect
};

// One group of wanted ranges in flight through an IoEngine: plan, submit,
// and after wait() the bytes are in their destinations. Use two for double
// buffering (submit layer L+1 while layer L is used).
class ScatterReader {
 public:
  ScatterReader(IoEngine& engine, PlanOptions options = {});
  ~ScatterReader();  // waits for reads still in flight (they target our staging buffer)
  ScatterReader(const ScatterReader&) = delete;
  ScatterReader& operator=(const ScatterReader&) = delete;

  // Plans and submits; throws sieve::Error for bad ranges or when the
  // previous submission was not waited for.
  void submit(std::span<const ReadRequest> wanted);
  // ReadPlanner::reserve, and room in the engine for one such submission
  // (IoEngine::reserve). Once per reader: the engine's room adds up.
  void reserve(size_t ranges, uint64_t span_bytes, uint64_t staging_bytes) {
    engine_.reserve(planner_.reserve(ranges, span_bytes, staging_bytes), 1);
  }
  bool poll();
  // Waits for the reads, then copies staged bytes; throws sieve::Error when a
  // read failed (destinations are then incomplete).
  void wait();
  const ReadPlan& plan() const { return planner_.current(); }

 private:
  IoEngine& engine_;
  ReadPlanner planner_;
  IoBatch batch_;
};

}  // namespace sieve::flash
