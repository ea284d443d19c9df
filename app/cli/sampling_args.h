#pragma once
// The sampling options shared by `sieve run` and `sieve chat`.

#include <vector>

#include "cli/args.h"
#include "sampling/sampler.h"

namespace sieve::cli {

// --temp, --top-k, --top-p, --min-p, the three penalties, --repeat-last-n, --seed.
std::vector<OptionSpec> sampling_option_specs();
// `specs` with the sampling options inserted after its first `after` entries.
std::vector<OptionSpec> with_sampling_options(std::vector<OptionSpec> specs, size_t after);
// The sampler settings those options ask for; without --seed a random seed.
// Throws UsageError for malformed values.
sampling::SamplerOptions sampler_options(const Args& args);

}  // namespace sieve::cli
