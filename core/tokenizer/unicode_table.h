#pragma once
// The generated Unicode data behind unicode.h (see tools/gen_unicode_table.py).

#include <cstddef>
#include <cstdint>

#include "tokenizer/unicode.h"

namespace sieve::tokenizer::unicode_data {

struct CategoryRun {
  uint32_t first;
  Category category;
};

struct CodepointRange {
  uint32_t first;
  uint32_t last;  // inclusive
};

extern const CategoryRun kCategoryRuns[];
extern const size_t kCategoryRunCount;
extern const CodepointRange kWhitespaceRanges[];
extern const size_t kWhitespaceRangeCount;

}  // namespace sieve::tokenizer::unicode_data
