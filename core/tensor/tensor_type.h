#pragma once
// Tensor element types, numbered exactly as the GGUF format numbers them, and
// their block geometry. Quantized types store `block_elems` values in
// `block_bytes` bytes; plain types have a block of one element.

#include <cstdint>
#include <optional>
#include <string_view>

namespace sieve::tensor {

enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  // 36..38 were interleaved Q4_0 variants, since removed from the format.
  MXFP4 = 39,
};

// One past the largest id above; tables indexed by type id use this size.
inline constexpr uint32_t kTypeIdLimit = 40;

struct TypeInfo {
  std::string_view name;   // "Q4_K", as llama.cpp and Hugging Face name it
  uint32_t block_elems;    // values per block (1 for plain types)
  uint32_t block_bytes;    // bytes per block
  bool computable;         // Sieve has kernels for it (dequantize + dot)
};

// Geometry of a type id read from a file; nullopt for ids GGUF does not define.
std::optional<TypeInfo> find_type_info(uint32_t type_id);
// Geometry of a known type (every enumerator above is known).
const TypeInfo& type_info(TensorType type);
std::string_view type_name(TensorType type);
// Parses "q4_k", "Q4_K", "f16", ...; nullopt when unknown.
std::optional<TensorType> type_from_name(std::string_view name);

// Bytes taken by `n_elems` values of `type`; n_elems must be a multiple of the
// block size (callers validate first with is_whole_blocks).
uint64_t bytes_for(TensorType type, uint64_t n_elems);
bool is_whole_blocks(TensorType type, uint64_t n_elems);

}  // namespace sieve::tensor
