#pragma once
// The CompletionBackend of `sieve serve`: Sieve's engine, run on the calling
// thread. Chat requests go through chat::ChatSession (the model's chat
// template, its end-of-turn text, the KV cache reused for the part of the
// conversation it already holds); text completions continue the prompt as is.
// OpenAI's sampling semantics: temperature and top_p only (top-k and min-p
// off), a random seed per request unless one is given.

#include <cstdint>
#include <optional>
#include <string>

#include "chat/chat_session.h"
#include "engine.h"
#include "server/completion_backend.h"

namespace sieve::server {

class EngineBackend : public CompletionBackend {
 public:
  // `engine` must outlive the backend; `chat_template` is the model's
  // tokenizer.chat_template (none: ChatML).
  EngineBackend(Engine& engine, std::optional<std::string> chat_template, std::string model_id);

  std::string model_id() const override { return model_id_; }
  int64_t context_tokens() const override { return engine_.model().context; }
  CompletionResult complete(const CompletionRequest& request, const PieceSink& on_piece) override;

  // Why the model's chat template is not used, when ChatML replaces it.
  std::optional<std::string> template_fallback_reason();

 private:
  CompletionResult chat(const CompletionRequest& request, const PieceSink& on_piece);
  CompletionResult text(const CompletionRequest& request, const PieceSink& on_piece);
  chat::ChatSession& session();

  Engine& engine_;
  std::optional<std::string> chat_template_;
  std::string model_id_;
  // Made on the first chat request, and again after a text completion ran the
  // engine behind its back.
  std::optional<chat::ChatSession> session_;
};

}  // namespace sieve::server
