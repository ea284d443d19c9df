#include "chat/text_continuation.h"

#include <span>
#include <vector>

#include "tokenizer/detokenizer.h"

namespace sieve::chat {

ChatReply continue_text(Engine& engine, const std::string& prompt, const sampling::SamplerOptions& sampling,
                        int64_t max_tokens, const ChatSession::PieceCallback& on_piece,
                        const std::atomic<bool>* cancel) {
  if (max_tokens < 1) throw Error("a continuation needs room for at least one token");
  const std::vector<int32_t> tokens = engine.tokenize(prompt, engine.model().add_bos);
  const int64_t context = engine.model().context;
  if (static_cast<int64_t>(tokens.size()) >= context) {
    throw MessageTooLongError("the prompt has " + std::to_string(tokens.size()) +
                                  " tokens, which leaves no room in the model's context of " + std::to_string(context),
                              static_cast<int64_t>(tokens.size()) + 1, context);
  }
  sampling::Sampler sampler(sampling, engine.model().n_vocab);
  for (int32_t id : tokens) sampler.accept(id);  // the penalties see the prompt too
  tokenizer::DetokenizeOptions continuation;
  continuation.at_text_start = false;  // the prompt came first: keep the continuation's leading space
  tokenizer::StreamingDetokenizer detokenizer(engine.tokenizer(), continuation);

  ChatReply reply;
  reply.prefilled_tokens = static_cast<int64_t>(tokens.size());
  const auto emit = [&](const std::string& piece) {
    if (piece.empty()) return;
    reply.text += piece;
    if (on_piece) on_piece(piece);
  };
  const auto cancelled = [cancel] { return cancel != nullptr && cancel->load(); };
  engine.reset();
  std::span<const float> logits = engine.prefill(tokens);
  for (;;) {
    const int32_t token = sampler.sample(logits);
    sampler.accept(token);
    ++reply.generated_tokens;
    if (engine.is_end_of_generation(token)) {
      reply.stop = StopReason::end_of_generation;
      break;
    }
    emit(detokenizer.push(token));
    if (cancelled()) {
      reply.stop = StopReason::cancelled;
      return reply;  // what the detokenizer still holds was not asked for
    }
    if (reply.generated_tokens == max_tokens) {
      reply.stop = StopReason::max_tokens;
      break;
    }
    if (engine.remaining_context() == 0) {
      reply.stop = StopReason::context_full;
      break;
    }
    logits = engine.decode(token);
  }
  emit(detokenizer.finish());
  return reply;
}

}  // namespace sieve::chat
