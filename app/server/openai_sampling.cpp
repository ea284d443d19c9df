#include "server/openai_sampling.h"

#include <random>

namespace sieve::server {

sampling::SamplerOptions sampler_options(const SamplingParams& p) {
  sampling::SamplerOptions o;
  o.temperature = static_cast<float>(p.temperature);
  o.top_p = static_cast<float>(p.top_p);
  o.top_k = 0;    // OpenAI has no top-k ...
  o.min_p = 0.0f; // ... nor min-p
  o.frequency_penalty = static_cast<float>(p.frequency_penalty);
  o.presence_penalty = static_cast<float>(p.presence_penalty);
  o.seed = p.seed ? *p.seed : (uint64_t{std::random_device{}()} << 32 | std::random_device{}());
  return o;
}

PieceFilter::PieceFilter(const std::vector<std::string>& stops, const CompletionBackend::PieceSink& sink,
                         std::function<void()> cancel)
    : stops_(stops), sink_(sink), cancel_(std::move(cancel)) {}

void PieceFilter::forward(const std::string& text) {
  const auto cancel_once = [this] {
    if (!cancelled_) cancel_();
    cancelled_ = true;
  };
  if (stops_.stopped()) cancel_once();
  if (text.empty() || client_left_) return;
  text_ += text;
  if (!sink_(text)) {
    client_left_ = true;
    cancel_once();
  }
}

}  // namespace sieve::server
