#pragma once
// Seeded, counter-based weight values: value j of row r of tensor t is a pure
// function of (seed, t, r, j), so any thread may produce any row in any order
// and the file comes out byte-identical whatever the thread count.

#include <cstdint>
#include <span>

#include "tensor/tensor_type.h"

namespace sieve::synth {

// splitmix64's output function: a strong 64-bit mixer of a counter.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Mean and standard deviation of a tensor's values.
struct WeightDistribution {
  float mean = 0.0f;
  float stddev = 1.0f;
};

// Produces the rows of one tensor. Values are bell-shaped with the requested
// mean and standard deviation: each is the sum of four 16-bit uniforms taken
// from one mixed 64-bit counter (Irwin-Hall, n = 4), which is far cheaper than
// Box-Muller and, summed over a dot product, just as Gaussian (the sparsity
// derivation only uses mean and variance; see docs/synthetic-models.md).
class RowGenerator {
 public:
  RowGenerator(uint64_t seed, uint64_t tensor_index, WeightDistribution distribution);
  void fill_row(uint64_t row, std::span<float> out) const;

 private:
  uint64_t tensor_key_;
  float mean_;
  float scale_;  // stddev / stddev of the raw integer sum
};

// Converts `n` floats (one row, a whole number of blocks) to `type`. F32, F16
// and BF16 are converted directly; quantized types use the kernel table's
// quantizer. Throws sieve::Error when this build has no quantizer for `type`.
void encode_row(tensor::TensorType type, const float* src, void* dst, int64_t n);
// Whether encode_row can produce `type` in this build.
bool can_encode(tensor::TensorType type);

}  // namespace sieve::synth
