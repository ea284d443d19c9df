// fuzz_seed_maker OUT: writes the seeds make-corpus.sh cannot take from
// ../shared as they are: small llama2.c checkpoints of every version (in the
// llama2c target's input format), tiny llama and qwen2 GGUFs, and the chat
// templates and Jinja snippets of the tokenizer tests.
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/import/llama2c_writer.h"
#include "core/model/tiny_model.h"

namespace {

namespace fs = std::filesystem;
using namespace sieve::test;

struct FamilyFixture {
  const char* name;
  const char* source;
  const char* bos;
  const char* eos;
  bool with_system;
  bool add_generation_prompt;
  const char* expected;
};
const FamilyFixture kFamilies[] = {
#include "core/tokenizer/chat_template_fixtures.inc"
};

struct Snippet {
  const char* source;
  const char* expected;
};
const Snippet kSnippets[] = {
#include "core/tokenizer/jinja_snippets.inc"
};

// The llama2c target's input: u32 checkpoint length, checkpoint, tokenizer.
std::string llama2c_input(const std::string& checkpoint, const std::string& tokenizer) {
  std::string out;
  put_i32(out, static_cast<int32_t>(checkpoint.size()));
  return out + checkpoint + tokenizer;
}

void write_llama2c_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  TinySpec spec;
  spec.dim = 8;
  spec.n_layers = 1;
  spec.n_ff = 8;
  spec.n_heads = 2;
  spec.n_kv_heads = 1;
  spec.n_vocab = 40;
  spec.context = 16;
  for (const bool tied : {true, false}) {
    spec.tied_output = tied;
    for (const int version : {0, 1, 2}) {
      TinyWeights weights = make_tiny_weights(spec);
      const std::string name = "v" + std::to_string(version) + (tied ? "-tied" : "-untied");
      write_bytes(dir / name, llama2c_input(llama2c_checkpoint_bytes(spec, weights, version, 4),
                                            llama2c_tokenizer_bytes(tiny_vocab(spec.n_vocab))));
    }
  }
}

void write_gguf_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  for (const char* arch : {"llama", "qwen2"}) {
    TinySpec spec;
    spec.arch = arch;
    spec.dim = 8;
    spec.n_layers = 1;
    spec.n_ff = 8;
    spec.n_heads = 2;
    spec.n_kv_heads = 1;
    spec.n_vocab = 16;
    spec.context = 16;
    write_tiny_model(dir / (std::string("tiny-") + arch + ".gguf"), spec, make_tiny_weights(spec));
  }
}

void write_template_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  int n = 0;
  for (const auto& family : kFamilies) {
    write_bytes(dir / ("family-" + std::string(family.name)), std::string("\x02") + family.source);
  }
  for (const auto& snippet : kSnippets) {
    write_bytes(dir / ("snippet-" + std::to_string(n++)), std::string("\x02") + snippet.source);
  }
  write_bytes(dir / "messages-json",
              "\x01[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi \\u00e9\"}]");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_maker OUT_FOLDER\n");
    return 2;
  }
  const fs::path out = argv[1];
  write_llama2c_seeds(out / "llama2c");
  write_gguf_seeds(out / "gguf");
  write_template_seeds(out / "chat_template");
  return 0;
}
