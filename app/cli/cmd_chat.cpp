// `sieve chat -m MODEL [--system TEXT]`: an interactive chat in the terminal.
//
// A thin front end over chat::ChatSession (core/chat/chat_session.h), which
// formats the conversation, reuses the KV cache across turns, streams the
// reply and forgets the oldest exchanges when the context is full. Here:
// one message per input line, replies on stdout, notes on stderr. A line
// starting with "/" is a command for the chat itself (/help, /reset, /exit,
// /quit), never sent to the model; "//" sends a message starting with "/".
// End of input (Ctrl-D) leaves.

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#ifdef _WIN32
#include <io.h>
#define isatty _isatty
#define fileno _fileno
#else
#include <unistd.h>
#endif

#include "chat/chat_session.h"
#include "cli/args.h"
#include "cli/sampling_args.h"
#include "cli/commands.h"
#include "cli/mode_args.h"
#include "cli/suggest.h"
#include "engine.h"
#include "gguf/gguf_file.h"
#include "sampling/sampler.h"
#include "tokenizer/vocab_gguf.h"

namespace sieve::cli {
namespace {

const std::vector<OptionSpec>& chat_options() {
  static const std::vector<OptionSpec> specs = with_mode_options(with_sampling_options({
      {"model", 'm', true, "the GGUF model", "MODEL"},
      {"system", 0, true, "a system prompt that starts the conversation", "TEXT"},
      {"n-predict", 'n', true, "most tokens per reply (default 512)", "N"},
      {"threads", 't', true, "threads including the main one (default: all cores)", "N"},
      {"ctx", 'c', true, "context size in tokens (default: min(model's, 4096))", "N"},
      {"help", 'h', false, "show this help", ""},
  }, 3));
  return specs;
}

void write_out(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void note(const std::string& text) { std::fprintf(stderr, "[%s]\n", text.c_str()); }

// The model's reasoning before its answer (chat/reply_channels.h) goes to
// stderr, dimmed on a terminal, so stdout holds the answer alone.
void write_reasoning(std::string_view text) {
  const bool terminal = isatty(fileno(stderr)) != 0;
  std::fprintf(stderr, terminal ? "\033[2m%.*s\033[0m" : "%.*s", static_cast<int>(text.size()), text.data());
  std::fflush(stderr);
}

std::string trimmed(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// Sends one message and streams the reply to stdout; problems become notes.
void respond(chat::ChatSession& session, const std::string& text) {
  size_t dropped = 0;
  try {
    dropped = session.add_user_message(text);
  } catch (const tokenizer::TemplateError& e) {
    note(std::string("the chat template rejected the conversation: ") + e.what());
    return;
  } catch (const chat::MessageTooLongError& e) {
    note(std::string(e.what()) + "; it was not sent (see --ctx)");
    return;
  }
  if (dropped > 0) note("context full: forgot the " + std::to_string(dropped) + " oldest message(s)");
  bool reasoning_open = false;  // reasoning was written and the answer has not begun
  const chat::ChatReply reply = session.generate_reply(
      [&](std::string_view piece) {
        if (std::exchange(reasoning_open, false)) std::fputc('\n', stderr);
        write_out(piece);
      },
      nullptr,
      [&](std::string_view piece) {
        reasoning_open = true;
        write_reasoning(piece);
      });
  if (reasoning_open) std::fputc('\n', stderr);
  write_out("\n");
  if (reply.stop == chat::StopReason::context_full) {
    note("context full: the reply was cut; the oldest messages will be forgotten next turn, or /reset");
    write_out("\n");
  }
}

bool interactive() { return isatty(fileno(stdin)) != 0; }

struct ChatCommand {
  const char* name;
  const char* help;
};

constexpr ChatCommand kChatCommands[] = {
    {"/help", "list these commands"},
    {"/reset", "forget the conversation and start a new one (the system prompt stays)"},
    {"/exit", "leave (so do /quit and end of input, Ctrl-D)"},
    {"/quit", "leave"},
};

// On stderr with the other notes: stdout carries only the replies.
void print_chat_help() {
  std::fprintf(stderr, "commands:\n");
  for (const ChatCommand& c : kChatCommands) std::fprintf(stderr, "  %-8s %s\n", c.name, c.help);
  std::fprintf(stderr, "a line starting with // is sent as a message starting with /\n");
}

// "/rest" -> "unknown command /rest; did you mean /reset? /help lists them".
void unknown_chat_command(const std::string& word) {
  std::vector<std::string> names;
  for (const ChatCommand& c : kChatCommands) names.emplace_back(c.name);
  const std::optional<std::string> near = nearest_name(word, names);
  note("unknown command " + word + (near ? "; did you mean " + *near + "?" : ",") + " /help lists them");
}

enum class LineAction { send, handled, leave };

// What one input line asks for: a chat command is handled here; any other
// line (with a leading "//" made "/") is a message to send.
LineAction handle_line(chat::ChatSession& session, std::string& text) {
  if (text.rfind("//", 0) == 0) {
    text.erase(0, 1);
    return LineAction::send;
  }
  if (text[0] != '/') return LineAction::send;
  const std::string word = text.substr(0, text.find_first_of(" \t"));
  if (word == "/quit" || word == "/exit") return LineAction::leave;
  if (word == "/reset") {
    session.reset();
    note("conversation reset");
  } else if (word == "/help") {
    print_chat_help();
  } else {
    unknown_chat_command(word);
  }
  return LineAction::handled;
}

}  // namespace

int cmd_chat(CommandArgs argv) {
  const Args args = Args::parse(argv, chat_options());
  const std::string synopsis =
      "sieve chat -m MODEL [--system TEXT] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--seed S]\n"
      "           [-t THREADS] [--ctx N]\n\n"
      "Reads your messages from standard input, one per line, and streams the replies.\n"
      "Lines starting with / are commands, not messages: /help lists them, /reset starts a new\n"
      "conversation, /exit or /quit (or end of input, Ctrl-D) leaves; // sends a message starting\n"
      "with /. When the context is full, the oldest messages after the system prompt are forgotten\n"
      "and a note says so.";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, chat_options()).c_str());
    return 0;
  }
  reject_positional_arguments(args);
  if (!args.has("model")) throw UsageError("-m MODEL is required (see --help)");
  const int64_t max_reply = args.get_int("n-predict", 512, 1, INT32_MAX);
  const sampling::SamplerOptions sampling = sampler_options(args);

  EngineOptions options;
  options.model_path = *args.get("model");
  options.threads = static_cast<int>(args.get_int("threads", 0, 0, 1024));
  options.context = args.get_int("ctx", 0, 1, int64_t{1} << 24);
  apply_mode_options(args, options);
  const std::unique_ptr<Engine> engine = Engine::load(options);
  chat::ChatOptions session_options;
  session_options.chat_template = tokenizer::read_chat_template(gguf::GgufFile::open(options.model_path));
  session_options.sampling = sampling;
  session_options.max_reply_tokens = max_reply;

  chat::ChatSession session(*engine, std::move(session_options));
  if (session.template_fallback_reason()) note(*session.template_fallback_reason() + "; using ChatML");
  if (const std::optional<std::string> system = args.get("system")) session.set_system_prompt(*system);
  const bool tty = interactive();
  if (tty) note(engine->model().name + ", context " + std::to_string(engine->model().context) +
                " tokens; /help lists the commands, /exit or Ctrl-D leaves");
  std::string line;
  for (;;) {
    if (tty) write_out("> ");
    if (!std::getline(std::cin, line)) break;
    std::string text = trimmed(line);
    if (text.empty()) continue;
    const LineAction action = handle_line(session, text);
    if (action == LineAction::leave) break;
    if (action == LineAction::send) respond(session, text);
  }
  if (tty) write_out("\n");
  const EngineStats stats = engine->stats();
  std::fprintf(stderr, "prompt: %lld tokens, %.1f tok/s | decode: %lld tokens, %.1f tok/s | peak RSS %s\n",
               static_cast<long long>(stats.prompt_tokens), stats.prompt_tokens_per_second(),
               static_cast<long long>(stats.decode_tokens), stats.decode_tokens_per_second(),
               format_bytes(stats.peak_rss_bytes).c_str());
  return 0;
}

}  // namespace sieve::cli
