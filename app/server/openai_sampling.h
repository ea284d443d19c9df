#pragma once
// How OpenAI's sampling parameters apply to Sieve's generation, shared by
// every CompletionBackend (the CLI's engine_backend, the desktop app's worker
// backend): the sampler's options (temperature and top_p only, no top-k or
// min-p, a fresh random seed unless one is given), and the stop strings,
// which cut the text streamed to the client and end the generation.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sampling/sampler.h"
#include "sampling/stop_strings.h"
#include "server/completion_backend.h"

namespace sieve::server {

sampling::SamplerOptions sampler_options(const SamplingParams& params);

// Passes pieces on to the client until a stop string appears or the client
// goes; either calls `cancel`, which must end the generation before its next
// token. Not thread-safe: one generation's pieces, in order.
class PieceFilter {
 public:
  PieceFilter(const std::vector<std::string>& stops, const CompletionBackend::PieceSink& sink,
              std::function<void()> cancel);

  void push(std::string_view piece) { forward(stops_.push(piece)); }
  // The text held back while it could have started a stop string.
  void finish() { forward(stops_.flush()); }

  bool stopped() const { return stops_.stopped(); }
  bool client_left() const { return client_left_; }
  const std::string& text() const { return text_; }

 private:
  void forward(const std::string& text);

  sampling::StopStringMatcher stops_;
  const CompletionBackend::PieceSink& sink_;
  std::function<void()> cancel_;
  bool client_left_ = false;
  bool cancelled_ = false;
  std::string text_;
};

}  // namespace sieve::server
