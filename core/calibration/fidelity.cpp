#include "calibration/fidelity.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

void require_same_size(std::span<const float> a, std::span<const float> b, const char* what) {
  if (a.size() != b.size()) {
    throw Error(std::string(what) + ": the logits have different sizes (" + std::to_string(a.size()) + " and " +
                std::to_string(b.size()) + ")");
  }
}

// sum_i exp(p_i) (p_i - q_i) over log-probabilities, clamped at 0: for equal
// inputs every term is exactly 0, otherwise rounding may leave -1e-17.
double kl_from_log_probabilities(std::span<const double> log_p, std::span<const double> log_q) {
  double kl = 0;
  for (size_t i = 0; i < log_p.size(); ++i) kl += std::exp(log_p[i]) * (log_p[i] - log_q[i]);
  return std::max(kl, 0.0);
}

double log_sum_exp(std::span<const float> logits) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - max);
  return max + std::log(sum);
}

}  // namespace

int32_t argmax(std::span<const float> logits) {
  if (logits.empty()) throw Error("argmax: no logits");
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = i;
  return static_cast<int32_t>(best);
}

void log_softmax(std::span<const float> logits, std::span<double> out) {
  if (logits.empty()) throw Error("log_softmax: no logits");
  if (out.size() != logits.size()) throw Error("log_softmax: the output size differs from the logits'");
  const double lse = log_sum_exp(logits);
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - lse;
}

double kl_divergence(std::span<const float> reference, std::span<const float> candidate) {
  require_same_size(reference, candidate, "kl_divergence");
  std::vector<double> log_p(reference.size()), log_q(candidate.size());
  log_softmax(reference, log_p);
  log_softmax(candidate, log_q);
  return kl_from_log_probabilities(log_p, log_q);
}

double negative_log_likelihood(std::span<const float> logits, int32_t token) {
  if (token < 0 || static_cast<size_t>(token) >= logits.size()) {
    throw Error("negative_log_likelihood: token " + std::to_string(token) + " is outside the vocabulary of " +
                std::to_string(logits.size()));
  }
  return log_sum_exp(logits) - logits[static_cast<size_t>(token)];
}

double max_abs_difference(std::span<const float> a, std::span<const float> b) {
  require_same_size(a, b, "max_abs_difference");
  double max = 0;
  for (size_t i = 0; i < a.size(); ++i) max = std::max(max, std::fabs(static_cast<double>(a[i]) - b[i]));
  return max;
}

// ---- FidelityAccumulator ----------------------------------------------------

FidelityAccumulator::FidelityAccumulator(int64_t n_vocab) : n_vocab_(n_vocab) {
  if (n_vocab <= 0) throw Error("FidelityAccumulator: the vocabulary size must be positive");
  reference_log_p_.resize(static_cast<size_t>(n_vocab));
  candidate_log_p_.resize(static_cast<size_t>(n_vocab));
}

void FidelityAccumulator::add(std::span<const float> reference, std::span<const float> candidate,
                              int32_t next_token) {
  const auto n = static_cast<size_t>(n_vocab_);
  if (reference.size() != n || candidate.size() != n) {
    throw Error("fidelity: expected " + std::to_string(n) + " logits per position, got " +
                std::to_string(reference.size()) + " and " + std::to_string(candidate.size()));
  }
  if (next_token < -1 || next_token >= n_vocab_) {
    throw Error("fidelity: next token " + std::to_string(next_token) + " is outside the vocabulary of " +
                std::to_string(n));
  }
  log_softmax(reference, reference_log_p_);
  log_softmax(candidate, candidate_log_p_);
  const double kl = kl_from_log_probabilities(reference_log_p_, candidate_log_p_);

  if (argmax(reference) == argmax(candidate)) {
    ++totals_.top1_matches;
  } else if (totals_.first_disagreement < 0) {
    totals_.first_disagreement = totals_.positions;
  }
  ++totals_.positions;
  kl_sum_ += kl;
  totals_.max_kl = std::max(totals_.max_kl, kl);
  totals_.max_abs_logit_diff = std::max(totals_.max_abs_logit_diff, max_abs_difference(reference, candidate));
  if (next_token >= 0) {
    ++totals_.scored;
    reference_nll_sum_ -= reference_log_p_[static_cast<size_t>(next_token)];
    candidate_nll_sum_ -= candidate_log_p_[static_cast<size_t>(next_token)];
  }
}

FidelitySummary FidelityAccumulator::summary() const {
  FidelitySummary s = totals_;
  if (s.positions > 0) s.mean_kl = kl_sum_ / static_cast<double>(s.positions);
  if (s.scored > 0) {
    s.reference_perplexity = std::exp(reference_nll_sum_ / static_cast<double>(s.scored));
    s.candidate_perplexity = std::exp(candidate_nll_sum_ / static_cast<double>(s.scored));
  }
  return s;
}

// ---- DecodeCost ----------------------------------------------------------------

DecodeCost& DecodeCost::operator+=(const DecodeCost& other) {
  tokens += other.tokens;
  seconds += other.seconds;
  bytes_read += other.bytes_read;
  read_requests += other.read_requests;
  io_wait_seconds += other.io_wait_seconds;
  sparse_tokens += other.sparse_tokens;
  neurons_predicted += other.neurons_predicted;
  neurons_loaded += other.neurons_loaded;
  neuron_hits += other.neuron_hits;
  sparse_bytes_read += other.sparse_bytes_read;
  ffn_bytes_per_token = std::max(ffn_bytes_per_token, other.ffn_bytes_per_token);
  return *this;
}

DecodeCost decode_cost_between(const EngineStats& before, const EngineStats& after) {
  DecodeCost cost;
  cost.tokens = after.decode_tokens - before.decode_tokens;
  cost.seconds = after.decode_seconds - before.decode_seconds;
  cost.bytes_read = after.flash_bytes_read - before.flash_bytes_read;
  cost.read_requests = after.flash_read_requests - before.flash_read_requests;
  cost.io_wait_seconds = after.flash_io_wait_seconds - before.flash_io_wait_seconds;
  cost.sparse_tokens = after.sparse_tokens - before.sparse_tokens;
  cost.neurons_predicted = after.sparse_neurons_predicted - before.sparse_neurons_predicted;
  cost.neurons_loaded = after.sparse_neurons_loaded - before.sparse_neurons_loaded;
  cost.neuron_hits = after.sparse_neuron_hits - before.sparse_neuron_hits;
  cost.sparse_bytes_read = after.sparse_bytes_read - before.sparse_bytes_read;
  cost.ffn_bytes_per_token = after.sparse_ffn_bytes_per_token;  // a size, not a count
  return cost;
}

// ---- compare_engines -----------------------------------------------------------

namespace {

// One window of the text: inputs tokens[first, first + count), the first
// `prefill` of them (after the optional start token) through prefill.
struct Window {
  int64_t first = 0;
  int64_t count = 0;
  int64_t prefill = 0;
  bool lead = false;  // starts with FidelityRunOptions::window_start_token
};

void check_run(const Engine& reference, const Engine& candidate, std::span<const int32_t> tokens,
               const FidelityRunOptions& options, int64_t window) {
  if (tokens.size() < 2) {
    throw Error("fidelity: the text has " + std::to_string(tokens.size()) +
                " token(s); comparing needs at least 2 (an input and the token it predicts)");
  }
  if (reference.model().n_vocab != candidate.model().n_vocab) {
    throw Error("fidelity: the two models have different vocabularies (" +
                std::to_string(reference.model().n_vocab) + " and " + std::to_string(candidate.model().n_vocab) +
                " tokens)");
  }
  if (options.prefill_tokens < 1) throw Error("fidelity: at least 1 token of each window must be prefilled");
  const int64_t context = std::min(reference.model().context, candidate.model().context);
  if (window > context) {
    throw Error("fidelity: a window of " + std::to_string(window) + " tokens does not fit the context of " +
                std::to_string(context));
  }
  if (window < 1 + (options.window_start_token >= 0 ? 1 : 0)) {
    throw Error("fidelity: a window of " + std::to_string(window) + " tokens holds no token of the text");
  }
}

// Prefills the window's first tokens in both engines, compares, then decodes
// the rest one by one, comparing each step; the decode cost is added.
void run_window(Engine& reference, Engine& candidate, std::span<const int32_t> tokens, const Window& w,
                const FidelityRunOptions& options, std::vector<int32_t>& prefix, FidelityAccumulator& accumulator,
                FidelityReport& report) {
  reference.reset();
  candidate.reset();
  prefix.clear();
  if (w.lead) prefix.push_back(options.window_start_token);
  prefix.insert(prefix.end(), tokens.begin() + w.first, tokens.begin() + w.first + w.prefill);
  int64_t next = w.first + w.prefill;  // the token the current logits predict
  accumulator.add(reference.prefill(prefix), candidate.prefill(prefix), tokens[static_cast<size_t>(next)]);

  const EngineStats reference_before = reference.stats();
  const EngineStats candidate_before = candidate.stats();
  for (; next < w.first + w.count; ++next) {
    const int32_t input = tokens[static_cast<size_t>(next)];
    const std::span<const float> reference_logits = reference.decode(input);
    const std::span<const float> candidate_logits = candidate.decode(input);
    accumulator.add(reference_logits, candidate_logits, tokens[static_cast<size_t>(next + 1)]);
  }
  report.reference_cost += decode_cost_between(reference_before, reference.stats());
  report.candidate_cost += decode_cost_between(candidate_before, candidate.stats());
}

}  // namespace

FidelityReport compare_engines(Engine& reference, Engine& candidate, std::span<const int32_t> tokens,
                               const FidelityRunOptions& options) {
  const int64_t window =
      options.window > 0 ? options.window : std::min(reference.model().context, candidate.model().context);
  check_run(reference, candidate, tokens, options, window);

  const auto inputs = static_cast<int64_t>(tokens.size()) - 1;  // the last token is only a target
  FidelityAccumulator accumulator(reference.model().n_vocab);
  FidelityReport report;
  std::vector<int32_t> prefix;
  prefix.reserve(static_cast<size_t>(std::min(options.prefill_tokens, window)) + 1);
  for (int64_t first = 0; first < inputs;) {
    Window w;
    w.first = first;
    w.lead = first > 0 && options.window_start_token >= 0;
    w.count = std::min(window - (w.lead ? 1 : 0), inputs - first);
    w.prefill = std::min(options.prefill_tokens, w.count);
    run_window(reference, candidate, tokens, w, options, prefix, accumulator, report);
    ++report.windows;
    first += w.count;
    if (options.progress) options.progress(first, inputs);
  }
  report.fidelity = accumulator.summary();
  return report;
}

}  // namespace sieve::sparse
