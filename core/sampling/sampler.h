#pragma once
// Picks the next token from a row of logits.
//
// The steps, in order (each one off at its neutral value):
//   1. penalties over the last `penalty_last_n` accepted tokens: a token seen
//      there has its logit divided by `repeat_penalty` (multiplied when
//      negative), then lowered by frequency_penalty x count + presence_penalty;
//   2. temperature <= 0: greedy — the highest logit wins (lowest id on ties),
//      and nothing below applies;
//   3. logits divided by the temperature, then softmax;
//   4. top-k: keep the k most likely;
//   5. top-p: keep the smallest set of most likely tokens whose probability
//      reaches p;
//   6. min-p: drop tokens less likely than min_p x the most likely one;
//   7. draw from what is left, renormalised, with the seeded generator.
// Buffers are sized once for the vocabulary; sample() allocates nothing.

#include <cstdint>
#include <span>
#include <vector>

#include "sampling/rng.h"

namespace sieve::sampling {

struct SamplerOptions {
  float temperature = 0.8f;       // <= 0: greedy
  int32_t top_k = 40;             // <= 0: off
  float top_p = 0.95f;            // >= 1: off
  float min_p = 0.05f;            // <= 0: off
  float repeat_penalty = 1.0f;    // 1: off
  float frequency_penalty = 0.0f;  // 0: off
  float presence_penalty = 0.0f;   // 0: off
  int32_t penalty_last_n = 64;    // how many recent tokens the penalties look at
  uint64_t seed = 0;

  // Greedy decoding: the reference outputs of the tests.
  static SamplerOptions greedy() {
    SamplerOptions o;
    o.temperature = 0.0f;
    return o;
  }
};

class Sampler {
 public:
  // Throws sieve::Error for options out of range (negative temperature is
  // fine: greedy; negative penalties or a repeat penalty <= 0 are not).
  Sampler(const SamplerOptions& options, int64_t n_vocab);

  // The next token for `logits` (n_vocab values). Does not record it: call
  // accept() with the token actually used (prompt tokens too, if the
  // penalties should see them).
  int32_t sample(std::span<const float> logits);
  void accept(int32_t token);
  // Forgets the accepted tokens and restarts the generator from the seed.
  void reset();

  const SamplerOptions& options() const { return options_; }

 private:
  struct Candidate {
    int32_t id;
    float logit;
    float p;
  };

  static bool more_likely(const Candidate& a, const Candidate& b);
  void load_candidates(std::span<const float> logits);
  void apply_penalties();
  int32_t argmax() const;
  void softmax_with_temperature();
  void keep_top_k();
  void keep_top_p();
  void keep_min_p();
  int32_t draw();

  SamplerOptions options_;
  int64_t n_vocab_;
  Rng rng_;
  std::vector<Candidate> candidates_;  // n_vocab, the first n_candidates_ live
  size_t n_candidates_ = 0;
  bool sorted_ = false;                // candidates_ in descending probability
  std::vector<int32_t> recent_;        // ring buffer of accepted tokens
  size_t recent_next_ = 0;
  size_t recent_count_ = 0;
  std::vector<int32_t> counts_;        // occurrences of each id in recent_
};

}  // namespace sieve::sampling
