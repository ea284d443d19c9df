#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "util/error.h"

namespace sieve::sampling {
namespace {

void check_options(const SamplerOptions& o) {
  const auto bad = [](const std::string& what) { throw Error("sampler: " + what + "."); };
  if (!std::isfinite(o.temperature)) bad("the temperature must be a finite number");
  if (!(o.top_p > 0.0f)) bad("top-p must be above 0");
  if (std::isnan(o.min_p) || o.min_p > 1.0f) bad("min-p must be at most 1");
  if (!(o.repeat_penalty > 0.0f) || !std::isfinite(o.repeat_penalty)) bad("the repeat penalty must be above 0");
  if (!(o.frequency_penalty >= 0.0f) || !std::isfinite(o.frequency_penalty)) {
    bad("the frequency penalty must be 0 or more");
  }
  if (!(o.presence_penalty >= 0.0f) || !std::isfinite(o.presence_penalty)) {
    bad("the presence penalty must be 0 or more");
  }
  if (o.penalty_last_n < 0 || o.penalty_last_n > (1 << 20)) bad("the penalty window must be 0 to 1048576 tokens");
}

}  // namespace

Sampler::Sampler(const SamplerOptions& options, int64_t n_vocab)
    : options_(options),
      n_vocab_(n_vocab),
      rng_(options.seed),
      candidates_(static_cast<size_t>(n_vocab)),
      recent_(static_cast<size_t>(std::max(options.penalty_last_n, 0))),
      counts_(static_cast<size_t>(n_vocab), 0) {
  if (n_vocab < 1) throw Error("sampler: the vocabulary is empty.");
  check_options(options);
}

void Sampler::reset() {
  rng_.reseed(options_.seed);
  std::fill(counts_.begin(), counts_.end(), 0);
  recent_next_ = 0;
  recent_count_ = 0;
}

void Sampler::accept(int32_t token) {
  if (recent_.empty() || token < 0 || token >= n_vocab_) return;
  if (recent_count_ == recent_.size()) {
    --counts_[static_cast<size_t>(recent_[recent_next_])];  // the oldest leaves the window
  } else {
    ++recent_count_;
  }
  recent_[recent_next_] = token;
  ++counts_[static_cast<size_t>(token)];
  recent_next_ = (recent_next_ + 1) % recent_.size();
}

int32_t Sampler::sample(std::span<const float> logits) {
  if (static_cast<int64_t>(logits.size()) != n_vocab_) {
    throw Error("sampler: got " + std::to_string(logits.size()) + " logits for a vocabulary of " +
                std::to_string(n_vocab_) + ".");
  }
  load_candidates(logits);
  apply_penalties();
  if (options_.temperature <= 0.0f) return argmax();
  softmax_with_temperature();
  keep_top_k();
  keep_top_p();
  keep_min_p();
  return draw();
}

void Sampler::load_candidates(std::span<const float> logits) {
  for (size_t i = 0; i < logits.size(); ++i) candidates_[i] = {static_cast<int32_t>(i), logits[i], 0.0f};
  n_candidates_ = logits.size();
  sorted_ = false;
}

void Sampler::apply_penalties() {
  const SamplerOptions& o = options_;
  if (o.repeat_penalty == 1.0f && o.frequency_penalty == 0.0f && o.presence_penalty == 0.0f) return;
  // Each distinct recent token is penalised once: its count is negated to
  // mark it done and restored afterwards (candidates are still indexed by id).
  for (size_t i = 0; i < recent_count_; ++i) {
    const auto id = static_cast<size_t>(recent_[i]);
    const int32_t count = counts_[id];
    if (count <= 0) continue;
    float& logit = candidates_[id].logit;
    logit = logit > 0.0f ? logit / o.repeat_penalty : logit * o.repeat_penalty;
    logit -= static_cast<float>(count) * o.frequency_penalty + o.presence_penalty;
    counts_[id] = -count;
  }
  for (size_t i = 0; i < recent_count_; ++i) {
    int32_t& count = counts_[static_cast<size_t>(recent_[i])];
    count = std::abs(count);
  }
}

int32_t Sampler::argmax() const {
  size_t best = 0;
  for (size_t i = 1; i < n_candidates_; ++i) {
    if (candidates_[i].logit > candidates_[best].logit) best = i;
  }
  return candidates_[best].id;
}

void Sampler::softmax_with_temperature() {
  const float inv_t = 1.0f / options_.temperature;
  float max_logit = candidates_[0].logit;
  for (size_t i = 1; i < n_candidates_; ++i) max_logit = std::max(max_logit, candidates_[i].logit);
  double sum = 0.0;
  for (size_t i = 0; i < n_candidates_; ++i) {
    Candidate& c = candidates_[i];
    c.p = std::exp((c.logit - max_logit) * inv_t);
    sum += c.p;
  }
  const auto inv_sum = static_cast<float>(1.0 / sum);
  for (size_t i = 0; i < n_candidates_; ++i) candidates_[i].p *= inv_sum;
}

// Most likely first; ties by id, so the order never depends on the sort.
bool Sampler::more_likely(const Candidate& a, const Candidate& b) { return a.p != b.p ? a.p > b.p : a.id < b.id; }

void Sampler::keep_top_k() {
  const auto k = static_cast<size_t>(std::max(options_.top_k, 0));
  if (k == 0 || k >= n_candidates_) return;
  std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<ptrdiff_t>(k),
                    candidates_.begin() + static_cast<ptrdiff_t>(n_candidates_), more_likely);
  n_candidates_ = k;
  sorted_ = true;
}

void Sampler::keep_top_p() {
  if (options_.top_p >= 1.0f) return;
  if (!sorted_) {
    std::sort(candidates_.begin(), candidates_.begin() + static_cast<ptrdiff_t>(n_candidates_),
              more_likely);
    sorted_ = true;
  }
  double total = 0.0;
  for (size_t i = 0; i < n_candidates_; ++i) total += candidates_[i].p;
  // After top-k the kept mass is below 1: top-p applies to the renormalised set.
  const double target = options_.top_p * total;
  double cumulative = 0.0;
  for (size_t i = 0; i < n_candidates_; ++i) {
    cumulative += candidates_[i].p;
    if (cumulative >= target) {
      n_candidates_ = i + 1;
      return;
    }
  }
}

void Sampler::keep_min_p() {
  if (options_.min_p <= 0.0f) return;
  float max_p = 0.0f;
  for (size_t i = 0; i < n_candidates_; ++i) max_p = std::max(max_p, candidates_[i].p);
  const float threshold = options_.min_p * max_p;
  // Compact in place, keeping the order (sorted stays sorted).
  size_t kept = 0;
  for (size_t i = 0; i < n_candidates_; ++i) {
    if (candidates_[i].p >= threshold) candidates_[kept++] = candidates_[i];
  }
  n_candidates_ = kept;
}

int32_t Sampler::draw() {
  double total = 0.0;
  for (size_t i = 0; i < n_candidates_; ++i) total += candidates_[i].p;
  const double r = rng_.uniform() * total;
  double cumulative = 0.0;
  for (size_t i = 0; i < n_candidates_; ++i) {
    cumulative += candidates_[i].p;
    if (r < cumulative) return candidates_[i].id;
  }
  return candidates_[n_candidates_ - 1].id;  // rounding left r at the very top
}

}  // namespace sieve::sampling
