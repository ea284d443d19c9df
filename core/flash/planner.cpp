#include "flash/planner.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "util/byte_size.h"
#include "util/error.h"

namespace sieve::flash {
namespace {

uint64_t sum(const std::vector<uint64_t>& v, size_t begin, size_t end) {
  return std::accumulate(v.begin() + static_cast<ptrdiff_t>(begin), v.begin() + static_cast<ptrdiff_t>(end), uint64_t{0});
}

// The streaming buffers when layers [first, n) stream: two of the largest
// (one when a single layer streams).
uint64_t buffers_for(const std::vector<uint64_t>& streamed, size_t first) {
  if (first >= streamed.size()) return 0;
  const uint64_t largest = *std::max_element(streamed.begin() + static_cast<ptrdiff_t>(first), streamed.end());
  return std::min<uint64_t>(2, streamed.size() - first) * largest;
}

std::string parts_text(const MemoryPlan& plan, uint64_t buffers, size_t n_layers) {
  std::string text;
  for (const MemoryItem& item : plan.fixed) text += item.what + " " + format_size(item.bytes) + ", ";
  text += std::to_string(std::min<size_t>(2, n_layers)) + " FFN streaming buffers " + format_size(buffers);
  return text;
}

}  // namespace



bool MemoryPlan::is_pinned(int64_t layer) const {
  return std::binary_search(pinned.begin(), pinned.end(), layer);
}

MemoryPlan plan_memory(const PlanInputs& in, const std::string& where) {
  if (in.pinned_bytes.size() != in.streamed_bytes.size()) throw Error(where + ": inconsistent planner inputs.");
  const size_t n = in.pinned_bytes.size();
  MemoryPlan plan;
  plan.budget = in.budget;
  plan.fixed = in.fixed;
  for (const MemoryItem& item : in.fixed) plan.fixed_bytes += item.bytes;
  const uint64_t all_pinned = sum(in.pinned_bytes, 0, n);
  const uint64_t all_streamed = buffers_for(in.streamed_bytes, 0);
  plan.minimum = plan.fixed_bytes + std::min(all_pinned, all_streamed);
  if (in.budget < plan.minimum) {
    throw Error(where + ": the DRAM budget " + format_size(in.budget) + " is below this model's minimum of " +
                format_size(plan.minimum) + " (" + parts_text(plan, all_streamed, n) + ").");
  }
  // Pin as many leading layers as fit beside the buffers the rest need.
  size_t n_pinned = 0;
  if (plan.fixed_bytes + all_pinned <= in.budget) {
    n_pinned = n;
  } else {
    for (size_t k = n; k-- > 0;) {
      if (plan.fixed_bytes + sum(in.pinned_bytes, 0, k) + buffers_for(in.streamed_bytes, k) <= in.budget) {
        n_pinned = k;
        break;
      }
    }
  }
  for (size_t l = 0; l < n; ++l) {
    if (l < n_pinned) {
      plan.pinned.push_back(static_cast<int64_t>(l));
      plan.pinned_bytes += in.pinned_bytes[l];
    } else {
      plan.streamed.push_back(static_cast<int64_t>(l));
      plan.streamed_bytes_per_token += in.streamed_bytes[l];
    }
  }
  plan.stream_buffer_bytes = buffers_for(in.streamed_bytes, n_pinned);
  return plan;
}

std::string MemoryPlan::describe() const {
  std::string out;
  char line[160];
  if (budget == UINT64_MAX) {
    std::snprintf(line, sizeof line, "no DRAM budget: everything resident, %s (a budget needs at least %s):\n",
                  format_size(total()).c_str(), format_size(minimum).c_str());
  } else {
    std::snprintf(line, sizeof line, "DRAM budget %s (minimum %s), planned %s:\n", format_size(budget).c_str(),
                  format_size(minimum).c_str(), format_size(total()).c_str());
  }
  out += line;
  for (const MemoryItem& item : fixed) {
    std::snprintf(line, sizeof line, "  %-28s %12s\n", item.what.c_str(), format_size(item.bytes).c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "  %-28s %12s  (%zu of %zu layers)\n", "FFN pinned in DRAM",
                format_size(pinned_bytes).c_str(), pinned.size(), pinned.size() + streamed.size());
  out += line;
  std::snprintf(line, sizeof line, "  %-28s %12s  (%zu layers streamed, %s read per token)\n", "FFN streaming buffers",
                format_size(stream_buffer_bytes).c_str(), streamed.size(), format_size(streamed_bytes_per_token).c_str());
  out += line;
  return out;
}

}  // namespace sieve::flash
