#pragma once
// How closely one engine's output follows another's (docs/sparsity.md): the
// reference is dense mode, the candidate any mode — flash (bit-identical, so
// a check of the tool itself) or sparse (approximate when its predictor
// misses neurons).
//
//   FidelityAccumulator acc(n_vocab);
//   acc.add(reference_logits, candidate_logits, next_token);   // per position
//   FidelitySummary s = acc.summary();   // top-1 agreement, KL, perplexities
//
//   FidelityReport r = compare_engines(*dense, *sparse, tokens, {});
//
// Everything is computed in double from float logits; log-softmax subtracts
// the maximum first, so large logits neither overflow nor lose the small
// probabilities KL depends on.

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace sieve {
class Engine;
struct EngineStats;
}  // namespace sieve

namespace sieve::sparse {

// ---- pure functions on one position's logits ------------------------------

// The index of the largest logit; the lowest index among equal ones.
// Throws sieve::Error for empty logits.
int32_t argmax(std::span<const float> logits);

// out[i] = log softmax(logits)[i]; out.size() must equal logits.size().
void log_softmax(std::span<const float> logits, std::span<double> out);

// KL(P || Q) in nats, P = softmax(reference), Q = softmax(candidate):
// sum_i P_i (log P_i - log Q_i), from the log-probabilities themselves, so a
// probability that underflows in Q still counts. Never negative (rounding
// noise is clamped); exactly 0 for identical logits.
double kl_divergence(std::span<const float> reference, std::span<const float> candidate);

// -log softmax(logits)[token], nats.
double negative_log_likelihood(std::span<const float> logits, int32_t token);

// max_i |a_i - b_i| (0 for empty spans).
double max_abs_difference(std::span<const float> a, std::span<const float> b);

// ---- accumulating over positions ------------------------------------------

struct FidelitySummary {
  int64_t positions = 0;           // logits pairs compared
  int64_t top1_matches = 0;        // positions whose argmax agrees
  int64_t first_disagreement = -1; // index (in add() order) of the first mismatch; -1 none
  double mean_kl = 0;              // KL(reference || candidate), nats, mean over positions
  double max_kl = 0;
  double max_abs_logit_diff = 0;
  int64_t scored = 0;              // positions with a known next token (perplexity)
  double reference_perplexity = 0; // exp(mean -log p(next token)); 0 when nothing scored
  double candidate_perplexity = 0;

  double top1_agreement() const { return positions > 0 ? static_cast<double>(top1_matches) / positions : 0; }
};

// Sums per-position comparisons; preallocates its scratch, so add() does not
// allocate.
class FidelityAccumulator {
 public:
  explicit FidelityAccumulator(int64_t n_vocab);

  // One position: the two engines' logits predicting the same next token
  // (`next_token`, or -1 when it is unknown: not scored for perplexity).
  // Throws sieve::Error when a span's size is not n_vocab or the token is out
  // of range.
  void add(std::span<const float> reference, std::span<const float> candidate, int32_t next_token);

  FidelitySummary summary() const;

 private:
  int64_t n_vocab_;
  std::vector<double> reference_log_p_;
  std::vector<double> candidate_log_p_;
  FidelitySummary totals_;  // sums where summary() reports means
  double kl_sum_ = 0;
  double reference_nll_sum_ = 0;
  double candidate_nll_sum_ = 0;
};

// ---- running two engines --------------------------------------------------

// What decode steps cost one engine: the difference of its EngineStats around
// them (prefill excluded: in sparse mode prefill may be dense).
struct DecodeCost {
  int64_t tokens = 0;
  double seconds = 0;
  uint64_t bytes_read = 0;     // flash/sparse: FFN bytes read from the SSD
  uint64_t read_requests = 0;
  double io_wait_seconds = 0;
  // Sparse mode (0 otherwise): tokens computed sparsely and, over them and
  // every layer, neurons selected, read from the SSD, found in DRAM; the
  // bytes those reads took; what one token's whole FFN weighs.
  int64_t sparse_tokens = 0;
  uint64_t neurons_predicted = 0;
  uint64_t neurons_loaded = 0;
  uint64_t neuron_hits = 0;
  uint64_t sparse_bytes_read = 0;
  uint64_t ffn_bytes_per_token = 0;

  DecodeCost& operator+=(const DecodeCost& other);
  double bytes_per_token() const { return tokens > 0 ? static_cast<double>(bytes_read) / tokens : 0; }
  double requests_per_token() const { return tokens > 0 ? static_cast<double>(read_requests) / tokens : 0; }
  double tokens_per_second() const { return seconds > 0 ? tokens / seconds : 0; }
  double per_sparse_token(uint64_t total) const {
    return sparse_tokens > 0 ? static_cast<double>(total) / static_cast<double>(sparse_tokens) : 0;
  }
  // Sparse bytes read per token as a fraction of the whole FFN's bytes.
  double ffn_fraction_read() const {
    return ffn_bytes_per_token > 0 ? per_sparse_token(sparse_bytes_read) / static_cast<double>(ffn_bytes_per_token)
                                   : 0;
  }
};
DecodeCost decode_cost_between(const EngineStats& before, const EngineStats& after);

struct FidelityRunOptions {
  // Tokens per window: the text is cut into windows that each start from an
  // empty context; 0 = the smaller of the two engines' contexts.
  int64_t window = 0;
  // Tokens at the start of each window run through prefill (compared once,
  // at the last of them); the rest are decoded one by one, every step
  // compared. At least 1.
  int64_t prefill_tokens = 1;
  // Windows after the first start with this token (the model's BOS) so each
  // begins as the text did; -1 = none.
  int32_t window_start_token = -1;
  // Called after every window: tokens of the text consumed so far, total.
  std::function<void(int64_t done, int64_t total)> progress;
};

struct FidelityReport {
  FidelitySummary fidelity;
  int64_t windows = 0;
  DecodeCost reference_cost;
  DecodeCost candidate_cost;
};

// Runs `tokens` teacher-forced through both engines and compares the logits
// after every step that predicts a token of the text (the last token is only
// a target). Both engines are reset first and left at the end of the last
// window. Throws sieve::Error for fewer than 2 tokens, engines with different
// vocabularies, or a window too small for the prefill tokens.
FidelityReport compare_engines(Engine& reference, Engine& candidate, std::span<const int32_t> tokens,
                               const FidelityRunOptions& options);

}  // namespace sieve::sparse
