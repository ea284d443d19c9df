#include "cli/sampling_args.h"

#include <algorithm>
#include <cstdint>
#include <random>

namespace sieve::cli {

std::vector<OptionSpec> sampling_option_specs() {
  return {
      {"temp", 0, true, "sampling temperature; 0 = greedy (default 0.8)", "T"},
      {"top-k", 0, true, "keep the K most likely tokens; 0 = off (default 40)", "K"},
      {"top-p", 0, true, "keep the most likely tokens up to probability P; 1 = off (default 0.95)", "P"},
      {"min-p", 0, true, "drop tokens below P x the best one's probability; 0 = off (default 0.05)", "P"},
      {"repeat-penalty", 0, true, "divide recent tokens' logits by this; 1 = off (default 1)", "X"},
      {"frequency-penalty", 0, true, "lower recent tokens' logits by X per occurrence (default 0)", "X"},
      {"presence-penalty", 0, true, "lower recent tokens' logits by X once (default 0)", "X"},
      {"repeat-last-n", 0, true, "how many recent tokens the penalties see (default 64)", "N"},
      {"seed", 's', true, "random seed (default: a random one)", "S"},
  };
}

std::vector<OptionSpec> with_sampling_options(std::vector<OptionSpec> specs, size_t after) {
  const std::vector<OptionSpec> sampling = sampling_option_specs();
  specs.insert(specs.begin() + static_cast<std::ptrdiff_t>(std::min(after, specs.size())), sampling.begin(),
               sampling.end());
  return specs;
}

sampling::SamplerOptions sampler_options(const Args& args) {
  sampling::SamplerOptions o;
  o.temperature = static_cast<float>(args.get_double("temp", 0.8));
  o.top_k = static_cast<int32_t>(args.get_int("top-k", 40, 0, INT32_MAX));
  o.top_p = static_cast<float>(args.get_double("top-p", 0.95));
  o.min_p = static_cast<float>(args.get_double("min-p", 0.05));
  o.repeat_penalty = static_cast<float>(args.get_double("repeat-penalty", 1.0));
  o.frequency_penalty = static_cast<float>(args.get_double("frequency-penalty", 0.0));
  o.presence_penalty = static_cast<float>(args.get_double("presence-penalty", 0.0));
  o.penalty_last_n = static_cast<int32_t>(args.get_int("repeat-last-n", 64, 0, 1 << 20));
  o.seed = args.has("seed") ? static_cast<uint64_t>(args.get_int("seed", 0, 0, INT64_MAX))
                            : (static_cast<uint64_t>(std::random_device{}()) << 32) | std::random_device{}();
  return o;
}

}  // namespace sieve::cli
