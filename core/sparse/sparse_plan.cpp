#include "sparse/sparse_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "sparse/neuron_store.h"
#include "util/byte_size.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

// The largest chunk the merge gap's fit uses, and the largest gap: holes worth
// reading through are small, and large reads bring effects of their own (one
// VM's disk delivered 1 MiB reads slower than 256 KiB ones, which turned the
// fit's fixed cost negative — no gap — where 32 KiB holes decoded 1.5x faster).
constexpr uint32_t kMaxMergeGap = 256 << 10;
constexpr uint32_t kGapStep = 4096;

double unit_active_fraction(const SparseLayerNeeds& l) {
  const double a = std::clamp(l.active_fraction, 0.0, 1.0);
  return 1.0 - std::pow(1.0 - a, static_cast<double>(std::max<int64_t>(1, l.cluster)));
}

uint64_t store_bytes(const SparseLayerNeeds& l, int64_t capacity) {
  return NeuronStore::bytes_for(l.n_units, capacity, l.unit_bytes);
}

// Every layer's capacity at fraction f of the way from its minimum to what it wants.
uint64_t bytes_at(const std::vector<SparseLayerNeeds>& needs, std::vector<SparseLayerPlan>& layers, double f) {
  uint64_t total = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    SparseLayerPlan& p = layers[i];
    p.capacity = p.minimum + static_cast<int64_t>(std::floor(f * static_cast<double>(p.wanted - p.minimum)));
    p.bytes = store_bytes(needs[i], p.capacity);
    total += p.bytes;
  }
  return total;
}

std::string parts_text(const SparsePlan& plan, uint64_t minimum_stores) {
  std::string text;
  for (const flash::MemoryItem& item : plan.fixed) text += item.what + " " + format_size(item.bytes) + ", ";
  text += "predictor " + format_size(plan.predictor_bytes) + ", neuron stores for one token's neurons " +
          format_size(minimum_stores);
  return text;
}

// Unit sizes exactly when they are not whole KiB (sector-sized units: 3584 B).
std::string unit_size_text(uint64_t bytes) {
  return bytes % 1024 == 0 ? format_size(bytes) : std::to_string(bytes) + " B";
}

void add_line(std::string& out, const char* format, const std::string& a, const std::string& b) {
  char line[256];
  std::snprintf(line, sizeof line, format, a.c_str(), b.c_str());
  out += line;
}

}  // namespace

int64_t minimum_units(const SparseLayerNeeds& l) {
  const double expected = static_cast<double>(l.n_units) * unit_active_fraction(l);
  return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(expected)), 1, l.n_units);
}

int64_t window_units(const SparseLayerNeeds& l, int window) {
  const double a_u = unit_active_fraction(l);
  const double covered = 1.0 - std::pow(1.0 - a_u, static_cast<double>(std::max(window, 0) + 1));
  const double mean = static_cast<double>(l.n_units) * covered;
  const double headroom = 3.0 * std::sqrt(mean * (1.0 - covered));
  const int64_t hot = std::max<int64_t>(l.hot_units, 0);
  const auto wanted = static_cast<int64_t>(std::ceil(mean + headroom)) + hot;
  return std::clamp<int64_t>(wanted, minimum_units(l), l.n_units);
}

double expected_read_bytes_per_token(const SparsePlan& plan) {
  const std::string& source = plan.inputs.active_source;
  if (source.find("default") != std::string::npos || source.find("every neuron") != std::string::npos) return 0;
  double bytes = 0;
  for (size_t l = 0; l < plan.layers.size() && l < plan.inputs.layers.size(); ++l) {
    const SparseLayerNeeds& needs = plan.inputs.layers[l];
    const auto n = static_cast<double>(needs.n_units);
    const double a = 1.0 - std::pow(1.0 - std::clamp(needs.active_fraction, 0.0, 1.0), static_cast<double>(needs.cluster));
    if (n <= 0 || a <= 0) continue;
    double k = plan.inputs.window;
    const double held = std::min(1.0, static_cast<double>(plan.layers[l].capacity) / n);
    if (a < 1 && held < 1) k = std::min(k, std::max(0.0, std::log(1.0 - held) / std::log(1.0 - a) - 1.0));
    bytes += n * a * std::pow(1.0 - a, k) * static_cast<double>(needs.unit_bytes);
  }
  return bytes;
}

SparsePlan plan_sparse_memory(const SparsePlanInputs& in, const std::string& where) {
  SparsePlan plan;
  plan.budget = in.budget;
  plan.fixed = in.fixed;
  plan.inputs = in;
  for (const flash::MemoryItem& item : in.fixed) plan.fixed_bytes += item.bytes;
  plan.predictor_bytes = in.predictor_bytes;
  plan.layers.resize(in.layers.size());
  uint64_t minimum_stores = 0, wanted_stores = 0;
  for (size_t i = 0; i < in.layers.size(); ++i) {
    SparseLayerPlan& p = plan.layers[i];
    p.minimum = minimum_units(in.layers[i]);
    p.wanted = window_units(in.layers[i], in.window);
    minimum_stores += store_bytes(in.layers[i], p.minimum);
    wanted_stores += store_bytes(in.layers[i], p.wanted);
  }
  plan.minimum = plan.fixed_bytes + plan.predictor_bytes + minimum_stores;
  if (in.budget < plan.minimum) {
    throw Error(where + ": the DRAM budget " + format_size(in.budget) + " is below sparse mode's minimum of " +
                format_size(plan.minimum) + " (" + parts_text(plan, minimum_stores) + ").");
  }
  const uint64_t room = in.budget == UINT64_MAX ? UINT64_MAX : in.budget - plan.fixed_bytes - plan.predictor_bytes;
  if (wanted_stores <= room) {
    plan.store_bytes = bytes_at(in.layers, plan.layers, 1.0);
  } else {
    plan.shrunk = true;
    double lo = 0, hi = 1;  // bytes_at(lo) fits, bytes_at(hi) does not
    for (int i = 0; i < 40; ++i) {
      const double mid = (lo + hi) / 2;
      (bytes_at(in.layers, plan.layers, mid) <= room ? lo : hi) = mid;
    }
    plan.store_bytes = bytes_at(in.layers, plan.layers, lo);
  }
  for (size_t i = 0; i < in.layers.size(); ++i) {
    SparseLayerPlan& p = plan.layers[i];
    if (!in.pin_hot) p.hot_capacity = 0;
    else if (in.layers[i].hot_units >= 0) p.hot_capacity = std::min(p.capacity, in.layers[i].hot_units);
    else p.hot_capacity = p.capacity / 4;  // learned from the first tokens
  }
  return plan;
}

std::string SparsePlan::describe() const {
  std::string out;
  char line[320];
  if (budget == UINT64_MAX) {
    std::snprintf(line, sizeof line, "no DRAM budget: sparse mode plans %s (a budget needs at least %s):\n",
                  format_size(total()).c_str(), format_size(minimum).c_str());
  } else {
    std::snprintf(line, sizeof line, "DRAM budget %s (minimum %s), planned %s, sparse mode:\n", format_size(budget).c_str(),
                  format_size(minimum).c_str(), format_size(total()).c_str());
  }
  out += line;
  for (const flash::MemoryItem& item : fixed) add_line(out, "  %-28s %12s\n", item.what, format_size(item.bytes));
  add_line(out, "  %-28s %12s", "predictor", format_size(predictor_bytes));
  out += "  (" + inputs.predictor_text + ")\n";
  if (layers.empty()) return out;
  int64_t cap_lo = INT64_MAX, cap_hi = 0, want = 0, units = 0, hot = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    cap_lo = std::min(cap_lo, layers[i].capacity);
    cap_hi = std::max(cap_hi, layers[i].capacity);
    want = std::max(want, layers[i].wanted);
    units = std::max(units, inputs.layers[i].n_units);
    hot = std::max(hot, layers[i].hot_capacity);
  }
  const SparseLayerNeeds& first = inputs.layers.front();
  const std::string caps = cap_lo == cap_hi ? std::to_string(cap_lo) : std::to_string(cap_lo) + "-" + std::to_string(cap_hi);
  std::snprintf(line, sizeof line, "  %-28s %12s  (%zu layers x %s of %lld units of %s, %.1f%%; up to %lld pinned hot)\n",
                "neuron stores", format_size(store_bytes).c_str(), layers.size(), caps.c_str(),
                static_cast<long long>(units), unit_size_text(first.unit_bytes).c_str(),
                100.0 * static_cast<double>(cap_hi) / static_cast<double>(std::max<int64_t>(1, units)),
                static_cast<long long>(hot));
  out += line;
  std::snprintf(line, sizeof line,
                "  window %d tokens: %lld units per layer wanted (%.1f%% of neurons active per token, %s)%s\n",
                inputs.window, static_cast<long long>(want), 100.0 * first.active_fraction, inputs.active_source.c_str(),
                shrunk ? "; the budget holds fewer, the least recently used go first" : "");
  out += line;
  const std::string unit_kind = first.per_neuron_units ? "neuron (a per-neuron unit, its down column requantized)"
                                : first.cluster > 1   ? "cluster of " + std::to_string(first.cluster) + " neurons"
                                                      : "unit";
  std::snprintf(line, sizeof line, "  reads: %s per %s%s; holes up to %s read through (%s)\n",
                unit_size_text(first.unit_bytes).c_str(), unit_kind.c_str(),
                inputs.gate_rows ? " (gate, up and down)" : " (up and down; the gate comes from the predictor)",
                format_size(inputs.merge_gap).c_str(), inputs.merge_source.c_str());
  out += line;
  return out;
}

uint32_t choose_merge_gap(const flash::DiskProfile* profile, uint32_t queue_depth) {
  if (profile == nullptr || profile->points.empty() || queue_depth == 0) return 0;
  const auto log_distance = [&](uint32_t depth) { return std::abs(std::log2(static_cast<double>(depth) / queue_depth)); };
  uint32_t depth = profile->points.front().queue_depth;
  for (const flash::DiskPoint& p : profile->points) {
    if (log_distance(p.queue_depth) < log_distance(depth)) depth = p.queue_depth;
  }
  // The points at that depth up to kMaxMergeGap — or the two smallest, for a
  // profile measured with large reads only (the app's first measurements).
  std::vector<const flash::DiskPoint*> curve;
  for (const flash::DiskPoint& p : profile->points) {
    if (p.queue_depth == depth && p.mb_per_s > 0) curve.push_back(&p);
  }
  std::sort(curve.begin(), curve.end(), [](const auto* a, const auto* b) { return a->chunk_bytes < b->chunk_bytes; });
  size_t used = 0;
  while (used < curve.size() && curve[used]->chunk_bytes <= kMaxMergeGap) ++used;
  curve.resize(std::max(used, std::min<size_t>(2, curve.size())));
  // Seconds per read against bytes per read.
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const flash::DiskPoint* p : curve) {
    const double x = p->chunk_bytes, y = x / (p->mb_per_s * 1e6);
    n += 1;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double spread = n * sxx - sx * sx;
  if (n < 2 || !(spread > 0)) return 0;
  const double per_byte = (n * sxy - sx * sy) / spread, fixed = (sy - per_byte * sx) / n;
  if (!(per_byte > 0) || !(fixed > 0)) return 0;
  const double gap = std::min(fixed / per_byte, static_cast<double>(kMaxMergeGap));
  return static_cast<uint32_t>(gap) / kGapStep * kGapStep;
}

}  // namespace sieve::sparse
