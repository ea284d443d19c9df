// `sieve template -m MODEL -f MESSAGES.json`: the prompt a model's chat
// template makes of a conversation, exactly as it would be tokenized.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/input_file.h"
#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/vocab_gguf.h"
#include "util/error.h"

namespace sieve::cli {
namespace {

const std::vector<OptionSpec>& template_options() {
  static const std::vector<OptionSpec> specs = {
      {"model", 'm', true, "the GGUF file whose chat template and BOS/EOS tokens to use", "MODEL.gguf"},
      {"file", 'f', true, "the messages: [{\"role\": ..., \"content\": ...}, ...] (\"-\" for standard input)",
       "MESSAGES.json"},
      {"no-generation-prompt", 0, false, "do not end with the start of an assistant turn", ""},
      {"template", 't', true, "use the Jinja chat template in FILE instead of the model's", "FILE"},
      {"help", 'h', false, "show this help", ""},
  };
  return specs;
}

std::string token_text(const tokenizer::Vocab& vocab, tokenizer::TokenId id) {
  return vocab.contains(id) ? vocab.text(id) : std::string();
}

}  // namespace

int cmd_template(CommandArgs argv) {
  const Args args = Args::parse(argv, template_options());
  const std::string synopsis =
      "sieve template -m MODEL.gguf -f MESSAGES.json [--no-generation-prompt] [--template FILE]\n\n"
      "Prints the formatted prompt, byte for byte (no newline is added). Without a usable\n"
      "chat template in the model, ChatML is used and a warning says why.";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, template_options()).c_str());
    return 0;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional()[0] + "' (see --help)");
  const auto model = args.get("model");
  const auto messages_path = args.get("file");
  if (!model) throw UsageError("--model is required (see --help)");
  if (!messages_path) throw UsageError("--file MESSAGES.json is required (see --help)");

  const std::vector<tokenizer::ChatMessage> messages =
      tokenizer::parse_chat_messages_json(read_input_file(*messages_path), *messages_path);
  const gguf::GgufFile file = gguf::GgufFile::open(*model);
  const tokenizer::Vocab vocab = tokenizer::load_vocab(file);
  const std::optional<std::string> source =
      args.has("template") ? std::optional(read_input_file(*args.get("template"))) : tokenizer::read_chat_template(file);
  const tokenizer::ChatTemplateInputs inputs{!args.has("no-generation-prompt"), token_text(vocab, vocab.bos()),
                                             token_text(vocab, vocab.eos())};
  tokenizer::FormattedChat chat;
  try {
    chat = tokenizer::format_chat(source, messages, inputs);
  } catch (const tokenizer::TemplateError& e) {
    throw Error(std::string("the chat template rejected the messages: ") + e.what());
  }
  if (chat.used_fallback) std::fprintf(stderr, "sieve template: warning: %s; used ChatML\n", chat.fallback_reason.c_str());
  std::fwrite(chat.prompt.data(), 1, chat.prompt.size(), stdout);
  return 0;
}

}  // namespace sieve::cli
