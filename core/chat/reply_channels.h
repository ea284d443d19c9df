#pragma once
// How a model lays out its reply, and the streaming split of a reply into
// what the user reads (the answer) and the model's reasoning before it.
//
//   plain       the whole reply is the answer.
//   think_tags  reasoning in "<think>...</think>" before the answer (Qwen3,
//               DeepSeek-R1, QwQ); a template whose generation prompt opens
//               "<think>" has the reply start inside it.
//   harmony     OpenAI's channels (gpt-oss): messages of the form
//               "<|channel|>NAME<|message|>TEXT<|end|>", each after the first
//               opened by "<|start|>assistant"; "final" is the answer,
//               "analysis" and "commentary" are reasoning; "<|return|>" (or
//               "<|call|>", a tool call) ends the turn, while "<|end|>" only
//               ends one message of it.
//
// The format is read from the chat template (reply_format_of): a recipe of
// markers, not a code path per model. Markers split across pieces are held
// back until the next piece shows what they are, as the stop strings are.

#include <optional>
#include <string>
#include <string_view>

namespace sieve::chat {

enum class ReplyFormat { plain, think_tags, harmony };

// The format a chat template's replies take (plain without a template).
ReplyFormat reply_format_of(const std::optional<std::string>& chat_template);

// Text complete so far, by channel (markers removed).
struct ReplyPieces {
  std::string answer;
  std::string reasoning;
};

class ReplyChannels {
 public:
  enum class Start {
    reply,      // a new reply, as the template's generation prompt leaves it
    reasoning,  // think_tags: the generation prompt opened "<think>"
    answer,     // continuing an answer cut short: straight into the answer
  };
  explicit ReplyChannels(ReplyFormat format, Start start = Start::reply);

  // Adds a piece of detokenized text (control tokens rendered as text for
  // harmony); returns the text of each channel now complete.
  ReplyPieces push(std::string_view piece);
  // The generation ended: what is still held back.
  ReplyPieces finish();
  // harmony: "<|return|>" or "<|call|>" ended the turn; text after it is dropped.
  bool ended() const { return ended_; }

  // What an assistant turn's opening needs before an answer's text so the
  // model continues the answer (harmony: "<|channel|>final<|message|>").
  static std::string answer_opening(ReplyFormat format);

 private:
  enum class State { header, answer, reasoning };
  void push_harmony(std::string_view text, ReplyPieces& out);
  void push_think_tags(std::string_view text, ReplyPieces& out);
  // (Not "emit": Qt code includes this header, where emit is a macro.)
  void deliver(std::string_view text, ReplyPieces& out) const;
  // Delivers `text` but its last `held` bytes, which may start a marker.
  void deliver_holding_back(std::string_view text, size_t held, ReplyPieces& out);
  void begin_harmony_message();

  ReplyFormat format_;
  State state_ = State::answer;
  std::string held_;    // text that may be the start of a marker
  std::string header_;  // harmony: the current message's header ("assistant<|channel|>final")
  bool at_reply_start_ = true;  // think_tags: nothing but white space seen yet
  bool trim_answer_start_ = false;  // think_tags: white space after "</think>" is dropped
  bool ended_ = false;
};

}  // namespace sieve::chat
