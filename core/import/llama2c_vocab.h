#pragma once
// A llama2.c vocabulary as GGUF tokenizer metadata. Internal to core/import.

#include <vector>

#include "gguf/gguf_value.h"
#include "import/llama2c.h"

namespace sieve::importer {

// tokenizer.ggml.* keys for a SentencePiece vocabulary: " " in pieces becomes
// "▁", "\n<s>\n" and "\n</s>\n" become the control tokens <s> (BOS, id 1) and
// </s> (EOS, id 2), id 0 is the unknown token, and <0xNN> pieces are byte
// tokens. BOS is added to prompts, with SentencePiece's leading space.
std::vector<gguf::KeyValue> vocab_metadata(const Llama2cVocab& vocab);

}  // namespace sieve::importer
