#pragma once
// A chat conversation on top of an Engine, shared by `sieve chat` and the
// desktop app.
//
//   chat::ChatSession session(*engine, {.chat_template = tokenizer::read_chat_template(gguf)});
//   session.set_system_prompt("You are terse.");
//   session.add_user_message("Hello");                 // may forget old turns; may throw
//   chat::ChatReply reply = session.generate_reply([](std::string_view piece) { show(piece); });
//
// Every turn formats the whole conversation with the model's chat template
// (ChatML when it has none or it cannot be run here), tokenizes it, and runs
// only the tokens after the longest prefix already in the engine's KV cache,
// normally everything after the previous reply. The reply streams piece by
// piece until an end-of-generation token, the template's end-of-turn text
// ("<|im_end|>", "<|eot_id|>"), the reply limit, a full context or a cancel
// request. A model that reasons before it answers (Qwen3's "<think>", gpt-oss's
// harmony channels: chat/reply_channels.h, read from the template) streams
// only its answer; the reasoning comes back beside it. When the conversation no longer fits, the oldest exchanges are
// forgotten, never the system prompt or the new message.
//
// The session assumes it is the engine's only user: it remembers which tokens
// the KV cache holds. One thread at a time, except the cancel flag, which any
// thread may set. No I/O: notes for the user come back as values.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chat/reply_channels.h"
#include "engine.h"
#include "sampling/sampler.h"
#include "tokenizer/chat_template.h"
#include "util/error.h"

namespace sieve::chat {

struct ChatOptions {
  // The model's tokenizer.chat_template (tokenizer::read_chat_template), or
  // nothing for ChatML.
  std::optional<std::string> chat_template;
  sampling::SamplerOptions sampling;
  int64_t max_reply_tokens = 512;  // most tokens per reply, >= 1
};

// Why generate_reply() stopped.
enum class StopReason {
  end_of_generation,  // the model produced EOS / EOT
  end_of_turn,        // the template's end-of-turn text appeared (not shown)
  max_tokens,         // max_reply_tokens were generated
  context_full,       // no position left; the next turn forgets old exchanges
  cancelled,          // the cancel flag was set
};

// A short English phrase for `reason` ("end of generation", "cancelled").
const char* stop_reason_name(StopReason reason);

struct ChatReply {
  std::string text;   // the answer, as streamed (also the assistant message)
  // The model's reasoning before its answer ("<think>...</think>", harmony's
  // analysis channel; chat/reply_channels.h): not streamed as the answer and
  // not kept in the conversation (templates drop it from earlier turns).
  std::string reasoning;
  StopReason stop = StopReason::end_of_generation;
  int64_t generated_tokens = 0;  // tokens sampled for this reply
  int64_t reused_tokens = 0;     // prompt tokens found in the KV cache, not run again
  int64_t prefilled_tokens = 0;  // prompt tokens run through prefill for this turn
  size_t dropped_messages = 0;   // old messages forgotten to make room for this turn
};

// add_user_message(): the message, with the system prompt and a reply's room,
// does not fit in the context even after forgetting every older exchange. The
// conversation is unchanged.
class MessageTooLongError : public Error {
 public:
  MessageTooLongError(const std::string& message, int64_t needed_tokens, int64_t context_tokens)
      : Error(message), needed_tokens_(needed_tokens), context_tokens_(context_tokens) {}
  // The conversation's tokens (system prompt, message, template text) plus the
  // room kept for a reply: a quarter of the context, at most the reply limit.
  int64_t needed_tokens() const { return needed_tokens_; }
  int64_t context_tokens() const { return context_tokens_; }

 private:
  int64_t needed_tokens_;
  int64_t context_tokens_;
};

class ChatSession {
 public:
  // Receives each newly complete piece of the reply (valid UTF-8).
  using PieceCallback = std::function<void(std::string_view piece)>;

  // `engine` must outlive the session. Throws sieve::Error when the model has
  // no tokenizer or the options are out of range.
  ChatSession(Engine& engine, ChatOptions options);

  // Why the model's template is not used (e.g. "the model has no chat
  // template"), when ChatML replaces it; nothing when it is used.
  const std::optional<std::string>& template_fallback_reason() const { return fallback_reason_; }
  // The text the template writes after an assistant message; generation stops
  // there. Empty when none was found (then only EOS / EOT stop a reply) and
  // for harmony replies, whose channels say where the turn ends.
  const std::string& end_of_turn_text() const { return end_of_turn_; }
  // How the model's replies are laid out (answer only, or reasoning first).
  ReplyFormat reply_format() const { return reply_format_; }

  // Sets, replaces or (with "") removes the system prompt that starts the
  // conversation; the rest of the history is kept.
  void set_system_prompt(std::string text);
  // Starts a new conversation, keeping the system prompt.
  void reset();
  // Replaces the conversation, e.g. with a stored one the user switched to:
  // an optional "system" message first, then "user" and "assistant" messages.
  // The KV cache is kept, so the next reply runs only the tokens after the
  // prefix it shares with the new conversation. Throws sieve::Error for
  // another role or a system message after the first; nothing then changes.
  void set_messages(std::vector<tokenizer::ChatMessage> messages);

  // From the next reply on: how tokens are chosen (the generator restarts
  // from the new seed; the repeat penalties still see the recent context),
  // and the reply limit (>= 1). Throw sieve::Error for values out of range,
  // leaving the options as they were.
  void set_sampling(const sampling::SamplerOptions& sampling);
  void set_max_reply_tokens(int64_t max_reply_tokens);
  // The conversation: the system prompt first (role "system") when there is
  // one, then user and assistant messages.
  std::span<const tokenizer::ChatMessage> messages() const { return messages_; }

  // Appends a user message, first forgetting the oldest exchanges if the
  // conversation would not leave room for a reply. Returns how many messages
  // were forgotten (0 normally). Throws MessageTooLongError, or
  // tokenizer::TemplateError when the template rejects the conversation; the
  // conversation is then unchanged.
  size_t add_user_message(std::string text);

  // Generates the assistant's reply to the last message, which must be a user
  // message (else sieve::Error). Calls `on_piece` as text completes, and
  // checks `cancel` (may be null) between prompt chunks and after every token,
  // so a request from another thread stops it within one token. The reply,
  // even cut short or empty, becomes the next assistant message. If the engine
  // throws, the unanswered user message is removed and the exception passes on.
  // `on_reasoning` receives the model's reasoning as it streams (see ChatReply).
  ChatReply generate_reply(const PieceCallback& on_piece = {}, const std::atomic<bool>* cancel = nullptr,
                           const PieceCallback& on_reasoning = {});

  // Continues the last message, an assistant reply cut short (at the reply
  // limit, a full context or a cancel): the prompt is the conversation before
  // it, the template's opening of an assistant turn and the reply's text so
  // far, so the model picks up where it stopped and the KV cache is reused up
  // to there. The new text is appended to that message and is what
  // ChatReply::text holds. Throws sieve::Error when the last message is not
  // an assistant's, MessageTooLongError when the context has no room left;
  // the conversation is then unchanged.
  ChatReply continue_reply(const PieceCallback& on_piece = {}, const std::atomic<bool>* cancel = nullptr,
                           const PieceCallback& on_reasoning = {});

 private:
  std::vector<int32_t> tokenize_conversation() const;
  std::vector<int32_t> tokenize_continuation() const;
  std::vector<int32_t> tokenize_prompt_text(const std::string& text) const;
  // Runs `prompt`, then streams a reply; on an engine error the cache starts clean.
  struct Sinks {
    const PieceCallback& answer;
    const PieceCallback& reasoning;
  };
  ChatReply reply_after(const std::vector<int32_t>& prompt, Sinks sinks, const std::atomic<bool>* cancel,
                        ReplyChannels::Start start);
  std::vector<int32_t> fit_conversation(size_t& dropped);
  size_t first_droppable() const { return has_system_prompt() ? 1 : 0; }
  bool has_system_prompt() const { return !messages_.empty() && messages_.front().role == "system"; }
  bool run_prompt(const std::vector<int32_t>& prompt, const std::atomic<bool>* cancel, ChatReply& reply,
                  std::span<const float>& logits);
  void stream_reply(std::span<const float> logits, Sinks sinks, const std::atomic<bool>* cancel,
                    ReplyChannels::Start start, ChatReply& reply);

  Engine& engine_;
  ChatOptions options_;
  tokenizer::ChatTemplateInputs template_inputs_;
  std::optional<std::string> fallback_reason_;
  std::string end_of_turn_;
  ReplyFormat reply_format_ = ReplyFormat::plain;
  bool reply_opens_reasoning_ = false;  // think_tags: the generation prompt ends with "<think>"
  sampling::Sampler sampler_;
  std::vector<tokenizer::ChatMessage> messages_;
  std::vector<int32_t> pending_prompt_;  // the fitted prompt for the unanswered user message; empty: recompute
  size_t pending_dropped_ = 0;           // what add_user_message() forgot, for the reply's report
  std::vector<int32_t> cached_;          // the tokens in the engine's KV cache, from position 0
};

}  // namespace sieve::chat
