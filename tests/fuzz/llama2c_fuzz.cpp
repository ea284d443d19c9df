// Fuzz target: a llama2.c checkpoint and its tokenizer.bin, as `sieve
// import-llama2c` reads them. Input: a little-endian u32 giving the
// checkpoint's length (taken modulo what is there), the checkpoint bytes,
// then the tokenizer bytes. An accepted pair is imported and the GGUF written
// must open.
#include <cstring>

#include "fuzz/fuzz_targets.h"
#include "fuzz/scratch_file.h"
#include "gguf/gguf_file.h"
#include "import/llama2c.h"
#include "util/error.h"

namespace sieve::fuzz {

void llama2c_body(std::span<const uint8_t> input) {
  if (input.size() < 4) return;
  uint32_t split = 0;
  std::memcpy(&split, input.data(), 4);
  const auto rest = input.subspan(4);
  const size_t model_bytes = split % (rest.size() + 1);
  const auto model = write_scratch("model.bin", rest.first(model_bytes));
  const auto tokenizer = write_scratch("tokenizer.bin", rest.subspan(model_bytes));

  importer::Llama2cConfig config;
  try {
    config = importer::read_llama2c_config(model);
  } catch (const Error&) {
    return;
  }
  check(config.dim > 0 && config.n_layers > 0 && config.vocab_size > 0, "a validated config is positive");
  try {
    const auto vocab = importer::read_llama2c_vocab(tokenizer, config.vocab_size);
    check(static_cast<int64_t>(vocab.pieces.size()) == config.vocab_size, "one piece per token");
  } catch (const Error&) {
    return;
  }
  const auto output = scratch_path("imported.gguf");
  try {
    importer::import_llama2c({.model_path = model, .tokenizer_path = tokenizer, .output_path = output});
  } catch (const Error&) {
    return;
  }
  (void)gguf::GgufFile::open(output);  // must not throw: we wrote it
}

}  // namespace sieve::fuzz
