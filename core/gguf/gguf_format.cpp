#include "gguf/gguf_format.h"

#include <limits>

namespace sieve::gguf::format {
namespace {

constexpr size_t kMaxPrintableName = 96;
// ggml counts elements in int64_t.
constexpr uint64_t kMaxElements = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

std::string check_name(const TensorInfo& tensor) {
  if (tensor.name.empty()) return "a tensor has an empty name";
  if (tensor.name.size() > kMaxTensorNameBytes) {
    return "tensor name '" + printable(tensor.name) + "' is " + std::to_string(tensor.name.size()) +
           " bytes long, more than the GGUF limit of " + std::to_string(kMaxTensorNameBytes);
  }
  return "";
}

std::string dims_text(const TensorInfo& tensor) {
  std::string text;
  for (size_t i = 0; i < tensor.dims.size(); ++i) {
    if (i > 0) text += " x ";
    text += std::to_string(tensor.dims[i]);
  }
  return text.empty() ? "a scalar" : text;
}

}  // namespace

uint64_t encoded_scalar_bytes(ValueType type) {
  switch (type) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL:
      return 1;
    case ValueType::UINT16:
    case ValueType::INT16:
      return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32:
      return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64:
    case ValueType::STRING:
      return 8;
    case ValueType::ARRAY:
      return 0;
  }
  return 0;
}

std::string printable(std::string_view name) {
  std::string out;
  const size_t n = name.size() < kMaxPrintableName ? name.size() : kMaxPrintableName;
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    out += (c < 0x20 || c == 0x7F) ? '?' : static_cast<char>(c);
  }
  if (n < name.size()) out += "...";
  return out;
}

std::string complete_tensor_geometry(TensorInfo& tensor) {
  if (std::string problem = check_name(tensor); !problem.empty()) return problem;
  const std::string label = "tensor '" + printable(tensor.name) + "'";
  if (tensor.dims.size() > kMaxDims) {
    return label + " has " + std::to_string(tensor.dims.size()) + " dimensions, more than the maximum of " +
           std::to_string(kMaxDims);
  }
  uint64_t n_elements = 1;
  for (size_t i = 0; i < tensor.dims.size(); ++i) {
    const uint64_t d = tensor.dims[i];
    if (d == 0) return label + " has dimension " + std::to_string(i) + " of size 0";
    if (n_elements > kMaxElements / d) {
      return label + " dimensions " + dims_text(tensor) + " overflow a 64-bit element count";
    }
    n_elements *= d;
  }
  const auto info = tensor::find_type_info(static_cast<uint32_t>(tensor.type));
  if (!info) {
    return label + " has unknown type id " + std::to_string(static_cast<uint32_t>(tensor.type));
  }
  if (tensor.row_elements() % info->block_elems != 0) {
    return label + " (" + std::string(info->name) + ") has rows of " + std::to_string(tensor.row_elements()) +
           " elements, not a whole number of " + std::to_string(info->block_elems) + "-element blocks";
  }
  const uint64_t n_blocks = n_elements / info->block_elems;
  if (n_blocks > std::numeric_limits<uint64_t>::max() / info->block_bytes) {
    return label + " dimensions " + dims_text(tensor) + " overflow a 64-bit byte count";
  }
  tensor.n_elements = n_elements;
  tensor.size_bytes = n_blocks * info->block_bytes;
  return "";
}

}  // namespace sieve::gguf::format
