// `sieve tokenize -m MODEL (-p TEXT | -f FILE)`: the token ids a model's own
// tokenizer gives a text, or with --pieces each id with the text it stands for.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/input_file.h"
#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_gguf.h"
#include "util/error.h"

namespace sieve::cli {
namespace {

const std::vector<OptionSpec>& tokenize_options() {
  static const std::vector<OptionSpec> specs = {
      {"model", 'm', true, "the GGUF file whose tokenizer to use", "MODEL.gguf"},
      {"prompt", 'p', true, "the text to tokenize", "TEXT"},
      {"file", 'f', true, "read the text from FILE (\"-\" for standard input)", "FILE"},
      {"bos", 0, false, "start with the BOS token (when the model has one)", ""},
      {"parse-special", 0, false, "read special-token text such as <s> or <|im_start|> as those tokens", ""},
      {"pieces", 0, false, "print one \"ID<TAB>PIECE\" line per token instead of the ids on one line", ""},
      {"help", 'h', false, "show this help", ""},
  };
  return specs;
}

// A piece on one line: escapes for control characters, backslashes and bytes
// that are not complete UTF-8 (a byte token is often half a character).
std::string escaped_piece(const std::string& piece) {
  std::string out;
  for (size_t pos = 0; pos < piece.size();) {
    const tokenizer::DecodedCodepoint d = tokenizer::decode_utf8(piece, pos);
    const auto byte = static_cast<unsigned char>(piece[pos]);
    if (!d.valid || byte < 0x20 || byte == 0x7F || byte == '\\') {
      if (byte == '\n') {
        out += "\\n";
      } else if (byte == '\t') {
        out += "\\t";
      } else if (byte == '\\') {
        out += "\\\\";
      } else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02X", byte);
        out += buf;
      }
      pos += 1;
      continue;
    }
    out.append(piece, pos, d.length);
    pos += d.length;
  }
  return out;
}

}  // namespace

int cmd_tokenize(CommandArgs argv) {
  const Args args = Args::parse(argv, tokenize_options());
  const std::string synopsis =
      "sieve tokenize -m MODEL.gguf (-p TEXT | -f FILE) [--bos] [--parse-special] [--pieces]\n\n"
      "Prints the token ids on one line, separated by spaces (no BOS unless --bos).\n"
      "With --pieces, prints one line per token: the id, a tab, and the text the token\n"
      "stands for, with \\n, \\t, \\\\ and \\xNN escapes (control tokens as their text).";
  if (args.has("help")) {
    std::printf("%s", usage_text(synopsis, tokenize_options()).c_str());
    return 0;
  }
  if (!args.positional().empty()) throw UsageError("unexpected argument '" + args.positional()[0] + "' (see --help)");
  const auto model = args.get("model");
  if (!model) throw UsageError("--model is required (see --help)");
  if (args.has("prompt") == args.has("file")) throw UsageError("give the text with exactly one of -p TEXT or -f FILE");
  const std::string text = args.has("prompt") ? *args.get("prompt") : read_input_file(*args.get("file"));

  const tokenizer::Tokenizer tok(tokenizer::load_vocab(gguf::GgufFile::open(*model)));
  for (const std::string& warning : tok.vocab().warnings()) {
    std::fprintf(stderr, "sieve tokenize: warning: %s\n", warning.c_str());
  }
  const std::vector<tokenizer::TokenId> ids =
      tok.tokenize(text, {.add_bos = args.has("bos"), .add_eos = false, .parse_special = args.has("parse-special")});

  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (args.has("pieces")) {
      out += std::to_string(ids[i]) + "\t" + escaped_piece(tok.token_to_piece(ids[i], true)) + "\n";
    } else {
      if (i > 0) out += ' ';
      out += std::to_string(ids[i]);
    }
  }
  if (!args.has("pieces")) out += '\n';
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace sieve::cli
