#include "tensor/tensor_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace sieve::tensor {
namespace {

struct Entry {
  uint32_t id;
  TypeInfo info;
};

// Block geometry per the GGUF specification. Every type Sieve computes with is
// marked computable; the others are recognised so files holding them can be
// listed by `sieve info`, but are refused by the engine.
constexpr std::array kTypes = {
    Entry{0, {"F32", 1, 4, true}},        Entry{1, {"F16", 1, 2, true}},
    Entry{2, {"Q4_0", 32, 18, true}},     Entry{3, {"Q4_1", 32, 20, true}},
    Entry{6, {"Q5_0", 32, 22, true}},     Entry{7, {"Q5_1", 32, 24, true}},
    Entry{8, {"Q8_0", 32, 34, true}},     Entry{9, {"Q8_1", 32, 36, true}},
    Entry{10, {"Q2_K", 256, 84, true}},   Entry{11, {"Q3_K", 256, 110, true}},
    Entry{12, {"Q4_K", 256, 144, true}},  Entry{13, {"Q5_K", 256, 176, true}},
    Entry{14, {"Q6_K", 256, 210, true}},  Entry{15, {"Q8_K", 256, 292, true}},
    Entry{16, {"IQ2_XXS", 256, 66, true}}, Entry{17, {"IQ2_XS", 256, 74, true}},
    Entry{18, {"IQ3_XXS", 256, 98, true}}, Entry{19, {"IQ1_S", 256, 50, true}},
    Entry{20, {"IQ4_NL", 32, 18, true}}, Entry{21, {"IQ3_S", 256, 110, true}},
    Entry{22, {"IQ2_S", 256, 82, true}}, Entry{23, {"IQ4_XS", 256, 136, true}},
    Entry{24, {"I8", 1, 1, false}},       Entry{25, {"I16", 1, 2, false}},
    Entry{26, {"I32", 1, 4, false}},      Entry{27, {"I64", 1, 8, false}},
    Entry{28, {"F64", 1, 8, false}},      Entry{29, {"IQ1_M", 256, 56, true}},
    Entry{30, {"BF16", 1, 2, true}},      Entry{34, {"TQ1_0", 256, 54, true}},
    Entry{35, {"TQ2_0", 256, 66, true}}, Entry{39, {"MXFP4", 32, 17, true}},
};

}  // namespace

std::optional<TypeInfo> find_type_info(uint32_t type_id) {
  for (const Entry& e : kTypes) {
    if (e.id == type_id) return e.info;
  }
  return std::nullopt;
}

const TypeInfo& type_info(TensorType type) {
  for (const Entry& e : kTypes) {
    if (e.id == static_cast<uint32_t>(type)) return e.info;
  }
  // Unreachable for enumerators; a cast-in id is a programming error.
  static constexpr TypeInfo kUnknown{"unknown", 1, 0, false};
  return kUnknown;
}

std::string_view type_name(TensorType type) { return type_info(type).name; }

std::optional<TensorType> type_from_name(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const Entry& e : kTypes) {
    if (e.info.name == upper) return static_cast<TensorType>(e.id);
  }
  return std::nullopt;
}

bool is_whole_blocks(TensorType type, uint64_t n_elems) {
  return n_elems % type_info(type).block_elems == 0;
}

uint64_t bytes_for(TensorType type, uint64_t n_elems) {
  const TypeInfo& info = type_info(type);
  return n_elems / info.block_elems * info.block_bytes;
}

}  // namespace sieve::tensor
