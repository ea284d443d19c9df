#pragma once
// Quantized rows drawn straight from the seeded counter: the codes and scales
// of each block come from mixed counter bits, shaped so the dequantized
// values have mean 0 and the requested standard deviation, with a bell-shaped
// spread of codes. No floats are generated and no quantizer runs, so a
// tensor is written at close to memory speed (the float-then-quantize path
// spends most of its time in the K-quant scale search). Same seed, same bytes,
// whatever the thread count. docs/synthetic-models.md describes each type.

#include <cstdint>

#include "synth/weight_gen.h"
#include "tensor/tensor_type.h"

namespace sieve::synth {

// Q4_K, Q6_K, Q5_0, Q8_0 and MXFP4: the types the expert tensors of the
// presets' mixes use.
bool can_generate_directly(tensor::TensorType type);

class DirectRowGenerator {
 public:
  // `type` must be one can_generate_directly accepts; the mean is taken to be 0.
  DirectRowGenerator(uint64_t seed, uint64_t tensor_index, WeightDistribution distribution, tensor::TensorType type);
  // Writes row `row` (`n` values, a whole number of blocks) to `dst`.
  void fill_row(uint64_t row, void* dst, int64_t n) const;

 private:
  uint64_t tensor_key_;
  tensor::TensorType type_;
  uint16_t d_ = 0;     // fp16 block or super-block factor
  uint16_t dmin_ = 0;  // Q4_K: the factor of the mins
  uint8_t exponent_ = 0;          // MXFP4: the lower of the two block exponents
  uint32_t upper_threshold_ = 0;  // MXFP4: a block takes exponent + 1 when 16 random bits fall below this
};

}  // namespace sieve::synth
