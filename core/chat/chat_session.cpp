#include "chat/chat_session.h"

#include <algorithm>
#include <utility>

#include "sampling/stop_strings.h"
#include "tokenizer/detokenizer.h"

namespace sieve::chat {
namespace {

// Prompt tokens per prefill call: a multiple of the engine's batch, and short
// enough that a cancel request during a long prompt is seen soon.
constexpr size_t kPrefillChunk = 256;

std::string token_text(const tokenizer::Vocab& vocab, tokenizer::TokenId id) {
  return vocab.contains(id) ? vocab.text(id) : std::string();
}

std::string trimmed(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

bool cancel_requested(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load(std::memory_order_relaxed);
}

// What a probe conversation shows about the template: the text it writes
// after an assistant message ("<|im_end|>", "</s>", "<|eot_id|>"; "" when
// nothing), and why ChatML replaces it, when it does.
struct TemplateTraits {
  std::string end_of_turn;
  std::optional<std::string> fallback_reason;
  bool opens_reasoning = false;  // the generation prompt ends with "<think>"
};

TemplateTraits probe_template(const std::optional<std::string>& source, tokenizer::ChatTemplateInputs inputs) {
  const std::string probe = "SIEVE-PROBE-REPLY";
  const std::vector<tokenizer::ChatMessage> messages = {{"user", "Hi"}, {"assistant", probe}};
  inputs.add_generation_prompt = false;
  TemplateTraits traits;
  try {
    const tokenizer::FormattedChat chat = tokenizer::format_chat(source, messages, inputs);
    const size_t at = chat.prompt.rfind(probe);
    if (at != std::string::npos) traits.end_of_turn = trimmed(chat.prompt.substr(at + probe.size()));
    if (chat.used_fallback) traits.fallback_reason = chat.fallback_reason;
    inputs.add_generation_prompt = true;
    const std::vector<tokenizer::ChatMessage> question = {{"user", "Hi"}};
    const std::string opening = trimmed(tokenizer::format_chat(source, question, inputs).prompt);
    traits.opens_reasoning = opening.ends_with("<think>");
  } catch (const tokenizer::TemplateError&) {
    // The template refused the probe (a system message required, say); real
    // conversations will tell. Generation then ends at EOS / EOT only.
  }
  return traits;
}

void check_reply_limit(int64_t max_reply_tokens) {
  if (max_reply_tokens < 1) {
    throw Error("chat: the reply limit must be at least 1 token, not " + std::to_string(max_reply_tokens));
  }
}

const sampling::SamplerOptions& checked(const ChatOptions& options) {
  check_reply_limit(options.max_reply_tokens);
  return options.sampling;
}

void check_roles(const std::vector<tokenizer::ChatMessage>& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role == "user" || role == "assistant" || (role == "system" && i == 0)) continue;
    throw Error("chat: message " + std::to_string(i + 1) + " has the role \"" + role +
                "\"; expected user or assistant, or system for the first message");
  }
}

}  // namespace

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::end_of_generation: return "end of generation";
    case StopReason::end_of_turn: return "end of turn";
    case StopReason::max_tokens: return "reply limit reached";
    case StopReason::context_full: return "context full";
    case StopReason::cancelled: return "cancelled";
  }
  return "unknown";
}

ChatSession::ChatSession(Engine& engine, ChatOptions options)
    : engine_(engine),
      options_(std::move(options)),
      sampler_(checked(options_), engine.model().n_vocab) {
  const tokenizer::Vocab& vocab = engine_.tokenizer().vocab();  // throws when the model has no tokenizer
  template_inputs_.bos_token = token_text(vocab, vocab.bos());
  template_inputs_.eos_token = token_text(vocab, vocab.eos());
  TemplateTraits traits = probe_template(options_.chat_template, template_inputs_);
  end_of_turn_ = std::move(traits.end_of_turn);
  fallback_reason_ = std::move(traits.fallback_reason);
  if (!fallback_reason_) reply_format_ = reply_format_of(options_.chat_template);
  reply_opens_reasoning_ = reply_format_ == ReplyFormat::think_tags && traits.opens_reasoning;
  // Harmony's "<|end|>" closes one message of a turn (the analysis before the
  // answer): the channels see where the turn ends.
  if (reply_format_ == ReplyFormat::harmony) end_of_turn_.clear();
}

void ChatSession::set_system_prompt(std::string text) {
  if (has_system_prompt()) {
    if (text.empty()) {
      messages_.erase(messages_.begin());
    } else {
      messages_.front().content = std::move(text);
    }
  } else if (!text.empty()) {
    messages_.insert(messages_.begin(), {"system", std::move(text)});
  }
  pending_prompt_.clear();
}

void ChatSession::reset() {
  messages_.resize(first_droppable());
  pending_prompt_.clear();
  pending_dropped_ = 0;
  // The KV cache is kept: the next prompt shares its start (BOS, system prompt).
}

void ChatSession::set_messages(std::vector<tokenizer::ChatMessage> messages) {
  check_roles(messages);
  messages_ = std::move(messages);
  pending_prompt_.clear();
  pending_dropped_ = 0;
}

void ChatSession::set_sampling(const sampling::SamplerOptions& sampling) {
  sampling::Sampler sampler(sampling, engine_.model().n_vocab);  // throws before anything changes
  // The penalties look at the recent context; give them the tokens the cache holds.
  for (int32_t id : cached_) sampler.accept(id);
  sampler_ = std::move(sampler);
  options_.sampling = sampling;
}

void ChatSession::set_max_reply_tokens(int64_t max_reply_tokens) {
  check_reply_limit(max_reply_tokens);
  options_.max_reply_tokens = max_reply_tokens;
  pending_prompt_.clear();  // the room kept for the reply changed: fit again
}

size_t ChatSession::add_user_message(std::string text) {
  const std::vector<tokenizer::ChatMessage> before = messages_;
  messages_.push_back({"user", std::move(text)});
  try {
    size_t dropped = 0;
    pending_prompt_ = fit_conversation(dropped);
    pending_dropped_ = dropped;
    return dropped;
  } catch (...) {
    messages_ = before;
    pending_prompt_.clear();
    throw;
  }
}

ChatReply ChatSession::generate_reply(const PieceCallback& on_piece, const std::atomic<bool>* cancel,
                                     const PieceCallback& on_reasoning) {
  if (messages_.empty() || messages_.back().role != "user") {
    throw Error("chat: the conversation does not end with a user message to reply to");
  }
  std::vector<tokenizer::ChatMessage> before = messages_;
  before.pop_back();
  std::vector<int32_t> prompt = std::exchange(pending_prompt_, {});
  size_t dropped = std::exchange(pending_dropped_, 0);
  ChatReply reply;
  try {
    if (prompt.empty()) prompt = fit_conversation(dropped);  // the system prompt changed since add_user_message()
    reply = reply_after(prompt, {on_piece, on_reasoning}, cancel,
                        reply_opens_reasoning_ ? ReplyChannels::Start::reasoning : ReplyChannels::Start::reply);
  } catch (...) {
    messages_ = std::move(before);  // without the unanswered user message
    throw;
  }
  reply.dropped_messages = dropped;
  messages_.push_back({"assistant", reply.text});
  return reply;
}

ChatReply ChatSession::continue_reply(const PieceCallback& on_piece, const std::atomic<bool>* cancel,
                                     const PieceCallback& on_reasoning) {
  if (messages_.empty() || messages_.back().role != "assistant") {
    throw Error("chat: the conversation does not end with a reply to continue");
  }
  const std::vector<int32_t> prompt = tokenize_continuation();
  const int64_t context = engine_.model().context;
  if (static_cast<int64_t>(prompt.size()) >= context) {
    throw MessageTooLongError("the reply fills the context of " + std::to_string(context) +
                                  " tokens: there is no room to continue it",
                              static_cast<int64_t>(prompt.size()) + 1, context);
  }
  ChatReply reply = reply_after(prompt, {on_piece, on_reasoning}, cancel, ReplyChannels::Start::answer);
  messages_.back().content += reply.text;
  return reply;
}

ChatReply ChatSession::reply_after(const std::vector<int32_t>& prompt, Sinks sinks, const std::atomic<bool>* cancel,
                                   ReplyChannels::Start start) {
  ChatReply reply;
  try {
    std::span<const float> logits;
    if (run_prompt(prompt, cancel, reply, logits)) {
      stream_reply(logits, sinks, cancel, start, reply);
    } else {
      reply.stop = StopReason::cancelled;
    }
  } catch (...) {
    // The cache may hold part of a prompt or reply nobody will see: start clean.
    cached_.clear();
    engine_.reset();
    throw;
  }
  return reply;
}

// The conversation's tokens, after dropping the oldest messages (never the
// system prompt or the new message) until they leave room for a reply.
std::vector<int32_t> ChatSession::fit_conversation(size_t& dropped) {
  const int64_t context = engine_.model().context;
  const int64_t room = std::clamp<int64_t>(std::min(options_.max_reply_tokens, context / 4), 1, context);
  const size_t first = first_droppable();
  std::vector<int32_t> tokens = tokenize_conversation();
  while (static_cast<int64_t>(tokens.size()) + room > context && messages_.size() - first > 1) {
    // Whole exchanges go, so the history still starts with a user message.
    do {
      messages_.erase(messages_.begin() + static_cast<std::ptrdiff_t>(first));
      ++dropped;
    } while (messages_.size() - first > 1 && messages_[first].role != "user");
    tokens = tokenize_conversation();
  }
  if (static_cast<int64_t>(tokens.size()) + room > context) {
    throw MessageTooLongError("the message does not fit in the context of " + std::to_string(context) + " tokens",
                              static_cast<int64_t>(tokens.size()) + room, context);
  }
  return tokens;
}

std::vector<int32_t> ChatSession::tokenize_conversation() const {
  tokenizer::ChatTemplateInputs inputs = template_inputs_;
  inputs.add_generation_prompt = true;
  return tokenize_prompt_text(tokenizer::format_chat(options_.chat_template, messages_, inputs).prompt);
}

// The conversation before the last (assistant) message, the opening of an
// assistant turn (and of its answer, for harmony), and that message's text:
// one string, tokenized at once, so the reply's text splits into tokens as it
// would have mid-reply.
std::vector<int32_t> ChatSession::tokenize_continuation() const {
  tokenizer::ChatTemplateInputs inputs = template_inputs_;
  inputs.add_generation_prompt = true;
  const std::vector<tokenizer::ChatMessage> before(messages_.begin(), messages_.end() - 1);
  return tokenize_prompt_text(tokenizer::format_chat(options_.chat_template, before, inputs).prompt +
                              ReplyChannels::answer_opening(reply_format_) + messages_.back().content);
}

std::vector<int32_t> ChatSession::tokenize_prompt_text(const std::string& text) const {
  tokenizer::TokenizeOptions tokenize;
  tokenize.parse_special = true;  // the template's <|im_start|>, <s>, ... are control tokens
  std::vector<int32_t> tokens = engine_.tokenizer().tokenize(text, tokenize);
  const int32_t bos = engine_.model().bos_id;
  // Templates often write the BOS text themselves.
  if (engine_.model().add_bos && bos >= 0 && (tokens.empty() || tokens.front() != bos)) {
    tokens.insert(tokens.begin(), bos);
  }
  return tokens;
}

// Keeps the longest prefix of `prompt` already in the KV cache (at least one
// token is always run, for its logits) and runs the rest in chunks, checking
// `cancel` between them. False when cancelled.
bool ChatSession::run_prompt(const std::vector<int32_t>& prompt, const std::atomic<bool>* cancel, ChatReply& reply,
                             std::span<const float>& logits) {
  if (engine_.position() != static_cast<int64_t>(cached_.size())) cached_.clear();  // someone else ran the engine
  size_t keep = 0;
  while (keep < cached_.size() && keep + 1 < prompt.size() && cached_[keep] == prompt[keep]) ++keep;
  engine_.rewind(static_cast<int64_t>(keep));
  cached_.resize(keep);
  reply.reused_tokens = static_cast<int64_t>(keep);
  for (size_t at = keep; at < prompt.size(); at += kPrefillChunk) {
    if (cancel_requested(cancel)) return false;
    const std::span<const int32_t> chunk(prompt.data() + at, std::min(kPrefillChunk, prompt.size() - at));
    for (int32_t id : chunk) sampler_.accept(id);
    logits = engine_.prefill(chunk);
    cached_.insert(cached_.end(), chunk.begin(), chunk.end());
    reply.prefilled_tokens += static_cast<int64_t>(chunk.size());
  }
  return true;
}

void ChatSession::stream_reply(std::span<const float> logits, Sinks sinks, const std::atomic<bool>* cancel,
                               ReplyChannels::Start start, ChatReply& reply) {
  // Harmony's channel markers are control tokens: its channels need their text.
  tokenizer::StreamingDetokenizer detokenizer(engine_.tokenizer(),
                                              {.render_special = reply_format_ == ReplyFormat::harmony});
  sampling::StopStringMatcher stops({end_of_turn_});
  ReplyChannels channels(reply_format_, start);
  const auto show = [&](const ReplyPieces& pieces) {
    if (!pieces.reasoning.empty()) {
      reply.reasoning += pieces.reasoning;
      if (sinks.reasoning) sinks.reasoning(pieces.reasoning);
    }
    if (!pieces.answer.empty()) {
      reply.text += pieces.answer;
      if (sinks.answer) sinks.answer(pieces.answer);
    }
  };
  const auto emit = [&](const std::string& text) {
    if (!text.empty()) show(channels.push(text));
  };
  for (;;) {
    if (cancel_requested(cancel)) {
      reply.stop = StopReason::cancelled;
      break;
    }
    const int32_t token = sampler_.sample(logits);
    sampler_.accept(token);
    ++reply.generated_tokens;
    if (engine_.is_end_of_generation(token)) {
      reply.stop = StopReason::end_of_generation;
      break;
    }
    emit(stops.push(detokenizer.push(token)));
    if (stops.stopped() || channels.ended()) {
      reply.stop = StopReason::end_of_turn;
      break;
    }
    // Checked again here, before the costly decode, so a flag set while the
    // piece was shown stops the reply without another token.
    if (cancel_requested(cancel)) {
      reply.stop = StopReason::cancelled;
      break;
    }
    if (reply.generated_tokens == options_.max_reply_tokens) {
      reply.stop = StopReason::max_tokens;
      break;
    }
    if (engine_.remaining_context() == 0) {
      reply.stop = StopReason::context_full;
      break;
    }
    logits = engine_.decode(token);
    cached_.push_back(token);
  }
  if (!stops.stopped()) emit(stops.push(detokenizer.finish()));
  emit(stops.flush());
  show(channels.finish());
  if (stops.stopped() || channels.ended()) reply.stop = StopReason::end_of_turn;
}

}  // namespace sieve::chat
