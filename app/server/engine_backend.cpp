#include "server/engine_backend.h"

#include <atomic>
#include <vector>

#include "chat/text_continuation.h"
#include "server/openai_sampling.h"

namespace sieve::server {

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
  PieceFilter filter(request.sampling.stop, on_piece, [&cancel] { cancel.store(true); });
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
  std::atomic<bool> cancel{false};
  PieceFilter filter(request.sampling.stop, on_piece, [&cancel] { cancel.store(true); });
  chat::ChatReply reply;
  try {
    reply = chat::continue_text(engine_, request.prompt, sampler_options(request.sampling),
                                request.sampling.max_tokens.value_or(engine_.model().context),
                                [&filter](std::string_view piece) { filter.push(piece); }, &cancel);
  } catch (const chat::MessageTooLongError& e) {
    throw RejectedRequest(e.what(), "context_length_exceeded");
  }
  filter.finish();
  CompletionResult result;
  result.text = filter.text();
  result.prompt_tokens = reply.prefilled_tokens;
  result.completion_tokens = reply.generated_tokens;
  result.cancelled = filter.client_left();
  const bool cut = reply.stop == chat::StopReason::max_tokens || reply.stop == chat::StopReason::context_full;
  result.finish = cut && !filter.stopped() ? FinishReason::length : FinishReason::stop;
  return result;
}

}  // namespace sieve::server
