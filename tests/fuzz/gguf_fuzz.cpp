// Fuzz target: a GGUF file from the internet. Parses it, reads every value
// and tensor, then does what `sieve run` does with a model: hyper-parameters,
// vocabulary, chat template, an engine in mmap mode and one prompt step.
#include <algorithm>
#include <vector>

#include "engine.h"
#include "fuzz/fuzz_targets.h"
#include "fuzz/scratch_file.h"
#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"
#include "util/error.h"

namespace sieve::fuzz {
namespace {

void read_everything(const gguf::GgufFile& file) {
  for (const auto& kv : file.metadata()) (void)kv.value.to_display_string();
  uint64_t sum = 0;
  for (const auto& tensor : file.tensors()) {
    const auto data = file.tensor_data(tensor);
    check(data.size() == tensor.size_bytes, "tensor_data size == size_bytes");
    check(file.tensor_file_offset(tensor) + tensor.size_bytes <= file.file_size(), "tensor inside the file");
    // Touch the first and last byte: both must be inside the mapping.
    if (!data.empty()) sum += static_cast<uint64_t>(data.front()) + static_cast<uint64_t>(data.back());
  }
  (void)sum;
}

void use_as_model(const std::filesystem::path& path, const gguf::GgufFile& file) {
  try {
    (void)model::read_hyper_params(file);
  } catch (const Error&) {
  }
  try {
    const tokenizer::Tokenizer tok(tokenizer::load_vocab(file));
    (void)tok.detokenize(tok.tokenize("Hello, world! \xE2\x96\x81 <s>"));
  } catch (const Error&) {
  }
  try {
    (void)tokenizer::read_chat_template(file);
  } catch (const Error&) {
  }
  try {
    auto engine = Engine::load({.model_path = path, .threads = 1, .context = 8, .mode = EngineMode::mmap});
    const int32_t last = static_cast<int32_t>(std::max<int64_t>(engine->model().n_vocab - 1, 0));
    const std::vector<int32_t> prompt = {0, std::min<int32_t>(1, last)};
    const auto logits = engine->prefill(prompt);
    check(static_cast<int64_t>(logits.size()) == engine->model().n_vocab, "logits size == n_vocab");
  } catch (const Error&) {
  }
}

}  // namespace

void gguf_body(std::span<const uint8_t> input) {
  const auto path = write_scratch("input.gguf", input);
  std::unique_ptr<gguf::GgufFile> file;
  try {
    file = std::make_unique<gguf::GgufFile>(gguf::GgufFile::open(path));
  } catch (const Error&) {
    return;
  }
  read_everything(*file);
  use_as_model(path, *file);
}

}  // namespace sieve::fuzz
