#pragma once
// Text continued as it is, without a chat template: OpenAI's legacy
// completions (`POST /v1/completions`), which `sieve serve` and the desktop
// app's local server both answer with this. The prompt is tokenized (with the
// model's BOS when it adds one) and run from position 0, then tokens are
// sampled until the end of generation, `max_tokens`, a full context or a
// cancel.
//
//   std::atomic<bool> cancel{false};
//   chat::ChatReply r = chat::continue_text(engine, "Once upon a time", sampling::SamplerOptions::greedy(), 16,
//                                           [](std::string_view piece) { std::cout << piece; }, &cancel);
//
// `cancel` (may be null) is checked after every token, so a request from
// another thread — or `on_piece` itself, when the reader has gone — stops it
// before the next token is computed. The reply's `text` is what was streamed,
// `prefilled_tokens` the prompt's length (nothing is reused), `stop` one of
// end_of_generation, max_tokens, context_full or cancelled.
//
// It runs the engine from position 0: a ChatSession on the same engine no
// longer knows what the KV cache holds, so its owner makes a new one after.

#include <atomic>
#include <cstdint>
#include <string>

#include "chat/chat_session.h"
#include "engine.h"
#include "sampling/sampler.h"

namespace sieve::chat {

// Throws MessageTooLongError, before running anything, when the prompt leaves
// no room in the context for one token; sieve::Error for `max_tokens` < 1.
ChatReply continue_text(Engine& engine, const std::string& prompt, const sampling::SamplerOptions& sampling,
                        int64_t max_tokens, const ChatSession::PieceCallback& on_piece,
                        const std::atomic<bool>* cancel = nullptr);

}  // namespace sieve::chat
