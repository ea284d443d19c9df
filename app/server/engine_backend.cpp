#include "server/engine_backend.h"

#include <atomic>
#include <random>
#include <vector>

#include "sampling/sampler.h"
#include "sampling/stop_strings.h"
#include "tokenizer/detokenizer.h"

namespace sieve::server {
namespace {

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

// Passes pieces on until a stop string appears or the client goes; either
// raises the cancel flag the generation checks after every token.
class PieceFilter {
 public:
  PieceFilter(const std::vector<std::string>& stops, const CompletionBackend::PieceSink& sink,
              std::atomic<bool>& cancel)
      : stops_(stops), sink_(sink), cancel_(cancel) {}

  void push(std::string_view piece) { forward(stops_.push(piece)); }
  void finish() { forward(stops_.flush()); }

  bool stopped() const { return stops_.stopped(); }
  bool client_left() const { return client_left_; }
  const std::string& text() const { return text_; }

 private:
  void forward(const std::string& text) {
    if (stops_.stopped()) cancel_.store(true);
    if (text.empty() || client_left_) return;
    text_ += text;
    if (!sink_(text)) {
      client_left_ = true;
      cancel_.store(true);
    }
  }

  sampling::StopStringMatcher stops_;
  const CompletionBackend::PieceSink& sink_;
  std::atomic<bool>& cancel_;
  bool client_left_ = false;
  std::string text_;
};

}  // namespace

EngineBackend::EngineBackend(Engine& engine, std::optional<std::string> chat_template, std::string model_id)
    : engine_(engine), chat_template_(std::move(chat_template)), model_id_(std::move(model_id)) {}

chat::ChatSession& EngineBackend::session() {
  if (!session_) {
    chat::ChatOptions options;
    options.chat_template = chat_template_;
    session_.emplace(engine_, std::move(options));
  }
  return *session_;
}

std::optional<std::string> EngineBackend::template_fallback_reason() { return session().template_fallback_reason(); }

CompletionResult EngineBackend::complete(const CompletionRequest& request, const PieceSink& on_piece) {
  return request.kind == CompletionRequest::Kind::chat ? chat(request, on_piece) : text(request, on_piece);
}

CompletionResult EngineBackend::chat(const CompletionRequest& request, const PieceSink& on_piece) {
  if (request.messages.empty() || request.messages.back().role != "user") {
    throw RejectedRequest("messages: the last message must be the user's", "invalid_messages");
  }
  chat::ChatSession& s = session();
  std::vector<tokenizer::ChatMessage> history;
  for (size_t i = 0; i + 1 < request.messages.size(); ++i) {
    history.push_back({request.messages[i].role, request.messages[i].content});
  }
  try {
    s.set_messages(std::move(history));
  } catch (const Error& e) {
    throw RejectedRequest(std::string("messages: ") + e.what(), "invalid_messages");
  }
  s.set_sampling(sampler_options(request.sampling));
  s.set_max_reply_tokens(request.sampling.max_tokens.value_or(engine_.model().context));
  try {
    if (s.add_user_message(request.messages.back().content) > 0) {
      throw RejectedRequest("the conversation does not fit in the model's context of " +
                                std::to_string(engine_.model().context) + " tokens with room for a reply",
                            "context_length_exceeded");
    }
  } catch (const chat::MessageTooLongError& e) {
    throw RejectedRequest(std::string(e.what()) + " with room for a reply", "context_length_exceeded");
  } catch (const tokenizer::TemplateError& e) {
    throw RejectedRequest(std::string("the model's chat template rejected the conversation: ") + e.what(),
                          "invalid_messages");
  }
  std::atomic<bool> cancel{false};
  PieceFilter filter(request.sampling.stop, on_piece, cancel);
  const chat::ChatReply reply = s.generate_reply([&](std::string_view piece) { filter.push(piece); }, &cancel);
  filter.finish();
  CompletionResult result;
  result.text = filter.text();
  result.prompt_tokens = reply.reused_tokens + reply.prefilled_tokens;
  result.completion_tokens = reply.generated_tokens;
  result.cancelled = filter.client_left();
  const bool cut = reply.stop == chat::StopReason::max_tokens || reply.stop == chat::StopReason::context_full;
  result.finish = cut && !filter.stopped() ? FinishReason::length : FinishReason::stop;
  return result;
}

CompletionResult EngineBackend::text(const CompletionRequest& request, const PieceSink& on_piece) {
  session_.reset();  // this runs the engine directly: the session's idea of the cache would be stale
  const std::vector<int32_t> prompt = engine_.tokenize(request.prompt, engine_.model().add_bos);
  const int64_t context = engine_.model().context;
  if (static_cast<int64_t>(prompt.size()) >= context) {
    throw RejectedRequest("the prompt has " + std::to_string(prompt.size()) +
                              " tokens, which leaves no room in the model's context of " + std::to_string(context),
                          "context_length_exceeded");
  }
  sampling::Sampler sampler(sampler_options(request.sampling), engine_.model().n_vocab);
  for (int32_t id : prompt) sampler.accept(id);
  tokenizer::DetokenizeOptions continuation;
  continuation.at_text_start = false;  // the prompt came first: keep the continuation's leading space
  tokenizer::StreamingDetokenizer detokenizer(engine_.tokenizer(), continuation);
  std::atomic<bool> cancel{false};
  PieceFilter filter(request.sampling.stop, on_piece, cancel);

  CompletionResult result;
  result.prompt_tokens = static_cast<int64_t>(prompt.size());
  result.finish = FinishReason::length;
  const int64_t max_tokens = request.sampling.max_tokens.value_or(context);
  engine_.reset();
  std::span<const float> logits = engine_.prefill(prompt);
  while (result.completion_tokens < max_tokens) {
    const int32_t token = sampler.sample(logits);
    sampler.accept(token);
    ++result.completion_tokens;
    if (engine_.is_end_of_generation(token)) {
      result.finish = FinishReason::stop;
      break;
    }
    filter.push(detokenizer.push(token));
    if (cancel.load()) break;
    if (result.completion_tokens == max_tokens || engine_.remaining_context() == 0) break;
    logits = engine_.decode(token);
  }
  if (!cancel.load()) filter.push(detokenizer.finish());
  filter.finish();
  if (filter.stopped()) result.finish = FinishReason::stop;
  result.text = filter.text();
  result.cancelled = filter.client_left();
  return result;
}

}  // namespace sieve::server
