#include "chat/reply_channels.h"

#include <array>

#include "sampling/stop_strings.h"

namespace sieve::chat {
namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kMessage = "<|message|>";
constexpr std::string_view kChannel = "<|channel|>";
constexpr std::string_view kFinalChannel = "final";
// Inside a harmony message: what ends it, in the order they are looked for.
constexpr std::array<std::string_view, 5> kMessageEnds = {"<|end|>", "<|return|>", "<|call|>", "<|start|>",
                                                         "<|channel|>"};
// A header that never reaches "<|message|>" is not harmony after all.
constexpr size_t kLongestHeader = 256;

// The channel a harmony header names ("assistant<|channel|>final" -> "final").
std::string_view channel_of(std::string_view header) {
  const size_t at = header.find(kChannel);
  if (at == std::string_view::npos) return {};
  std::string_view name = header.substr(at + kChannel.size());
  const size_t end = name.find_first_of(" <");
  return name.substr(0, end);
}

}  // namespace

ReplyFormat reply_format_of(const std::optional<std::string>& chat_template) {
  if (!chat_template) return ReplyFormat::plain;
  const std::string& t = *chat_template;
  if (t.find(kChannel) != std::string::npos && t.find(kMessage) != std::string::npos) return ReplyFormat::harmony;
  if (t.find(kThinkOpen) != std::string::npos || t.find(kThinkClose) != std::string::npos) {
    return ReplyFormat::think_tags;
  }
  return ReplyFormat::plain;
}

std::string ReplyChannels::answer_opening(ReplyFormat format) {
  return format == ReplyFormat::harmony ? std::string(kChannel) + std::string(kFinalChannel) + std::string(kMessage)
                                        : std::string();
}

ReplyChannels::ReplyChannels(ReplyFormat format, Start start) : format_(format) {
  if (start == Start::answer) {
    state_ = State::answer;
    at_reply_start_ = false;
  } else if (format == ReplyFormat::harmony) {
    state_ = State::header;  // the generation prompt ends with "<|start|>assistant"
  } else if (format == ReplyFormat::think_tags && start == Start::reasoning) {
    state_ = State::reasoning;
    at_reply_start_ = false;
  }
}

ReplyPieces ReplyChannels::push(std::string_view piece) {
  ReplyPieces out;
  if (ended_) return out;
  std::string text = std::move(held_);
  held_.clear();
  text.append(piece);
  switch (format_) {
    case ReplyFormat::plain: deliver(text, out); break;
    case ReplyFormat::think_tags: push_think_tags(text, out); break;
    case ReplyFormat::harmony: push_harmony(text, out); break;
  }
  return out;
}

ReplyPieces ReplyChannels::finish() {
  ReplyPieces out;
  if (ended_) return out;
  if (state_ == State::header) {
    // A reply that never opened a message: show what it wrote.
    state_ = State::answer;
    deliver(header_, out);
    header_.clear();
  }
  deliver(held_, out);
  held_.clear();
  return out;
}

void ReplyChannels::deliver(std::string_view text, ReplyPieces& out) const {
  if (text.empty()) return;
  (state_ == State::reasoning ? out.reasoning : out.answer).append(text);
}

void ReplyChannels::deliver_holding_back(std::string_view text, size_t held, ReplyPieces& out) {
  deliver(text.substr(0, text.size() - held), out);
  held_.assign(text.substr(text.size() - held));
}

void ReplyChannels::begin_harmony_message() {
  state_ = State::header;
  header_.clear();
}

void ReplyChannels::push_harmony(std::string_view text, ReplyPieces& out) {
  while (!text.empty() && !ended_) {
    if (state_ == State::header) {
      const size_t at = text.find(kMessage);
      if (at == std::string_view::npos) {
        const size_t partial = sampling::partial_match_length(text, std::array{kMessage});
        header_.append(text.substr(0, text.size() - partial));
        held_.assign(text.substr(text.size() - partial));
        if (header_.size() > kLongestHeader) {  // not harmony: the text is the answer
          state_ = State::answer;
          deliver(header_, out);
          header_.clear();
        }
        return;
      }
      header_.append(text.substr(0, at));
      state_ = channel_of(header_) == kFinalChannel ? State::answer : State::reasoning;
      header_.clear();
      text.remove_prefix(at + kMessage.size());
      continue;
    }
    size_t first = std::string_view::npos;
    std::string_view marker;
    for (std::string_view m : kMessageEnds) {
      const size_t at = text.find(m);
      if (at < first) {
        first = at;
        marker = m;
      }
    }
    if (first == std::string_view::npos) {
      deliver_holding_back(text, sampling::partial_match_length(text, kMessageEnds), out);
      return;
    }
    deliver(text.substr(0, first), out);
    text.remove_prefix(first + marker.size());
    if (marker == "<|return|>" || marker == "<|call|>") {
      ended_ = true;
    } else {
      begin_harmony_message();
      // A message opened without "<|end|>" first: its header starts here.
      if (marker == kChannel) header_.assign(kChannel);
    }
  }
}

void ReplyChannels::push_think_tags(std::string_view text, ReplyPieces& out) {
  if (at_reply_start_) {
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {  // only white space so far
      held_.assign(text);
      return;
    }
    const std::string_view rest = text.substr(first);
    if (rest.size() < kThinkOpen.size() && kThinkOpen.substr(0, rest.size()) == rest) {
      held_.assign(text);  // may still become "<think>"
      return;
    }
    at_reply_start_ = false;
    if (rest.substr(0, kThinkOpen.size()) == kThinkOpen) {
      state_ = State::reasoning;
      text = rest.substr(kThinkOpen.size());
    } else {
      state_ = State::answer;
    }
  }
  if (state_ == State::reasoning) {
    const size_t at = text.find(kThinkClose);
    if (at == std::string_view::npos) {
      deliver_holding_back(text, sampling::partial_match_length(text, std::array{kThinkClose}), out);
      return;
    }
    deliver(text.substr(0, at), out);
    text.remove_prefix(at + kThinkClose.size());
    state_ = State::answer;
    trim_answer_start_ = true;
  }
  if (trim_answer_start_) {
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return;  // the white space between reasoning and answer
    text.remove_prefix(first);
    trim_answer_start_ = false;
  }
  deliver(text, out);
}

}  // namespace sieve::chat
