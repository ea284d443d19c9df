// `sieve chat -m MODEL [--system TEXT]`: an interactive chat in the terminal.
//
// A thin front end over chat::ChatSession (core/chat/chat_session.h), which
// formats the conversation, reuses the KV cache across turns, streams the
// reply and forgets the oldest exchanges when the context is full. Here:
// one message per input line, replies on stdout, notes on stderr. Lines
// "/reset" and "/quit" are commands; end of input (Ctrl-D) leaves.

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
  const chat::ChatReply reply = session.generate_reply(write_out);
  write_out("\n");
  if (reply.stop == chat::StopReason::context_full) {
    note("context full: the reply was cut; the oldest messages will be forgotten next turn, or /reset");
    write_out("\n");
  }
}

bool interactive() { return isatty(fileno(stdin)) != 0; }

}  // namespace

int cmd_chat(CommandArgs argv) {
  const Args args = Args::parse(argv, chat_options());
  const std::string synopsis =
      "sieve chat -m MODEL [--system TEXT] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--seed S]\n"
      "           [-t THREADS] [--ctx N]\n\n"
      "Reads your messages from standard input, one per line, and streams the replies.\n"
      "/reset starts a new conversation, /quit (or end of input, Ctrl-D) leaves. When the context\n"
      "is full, the oldest messages after the system prompt are forgotten and a note says so.";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, chat_options()).c_str());
    return 0;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional()[0] + "'");
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
                " tokens; /reset starts over, /quit or Ctrl-D leaves");
  std::string line;
  for (;;) {
    if (tty) write_out("> ");
    if (!std::getline(std::cin, line)) break;
    const std::string text = trimmed(line);
    if (text.empty()) continue;
    if (text == "/quit" || text == "/exit") break;
    if (text == "/reset") {
      session.reset();
      note("conversation reset");
      continue;
    }
    respond(session, text);
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
