#pragma once
// The metadata keys of a synthetic model, named as llama.cpp's converter
// writes them for the model's architecture (llama, qwen3moe, gpt-oss).

#include <cstdint>
#include <optional>

#include "gguf/gguf_writer.h"
#include "synth/synth_model.h"
#include "synth/type_mix.h"

namespace sieve::synth {

struct MetadataExtras {
  std::optional<double> relu_threshold;   // written threshold or shift
  std::optional<double> target_sparsity;  // every ReLU variant
};

void set_model_metadata(gguf::GgufWriter& w, const SynthSpec& spec, const TypeMix& types,
                        const MetadataExtras& extras, uint64_t vocab_size);

}  // namespace sieve::synth
