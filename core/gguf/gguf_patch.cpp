#include "gguf/gguf_patch.h"

#include <bit>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "gguf/gguf_file.h"
#include "util/error.h"

namespace sieve::gguf {
namespace {

// Bytes a scalar of `type` takes in a file; 0 for strings and arrays.
size_t scalar_width(ValueType type) {
  switch (type) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL: return 1;
    case ValueType::UINT16:
    case ValueType::INT16: return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32: return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64: return 8;
    case ValueType::STRING:
    case ValueType::ARRAY: return 0;
  }
  return 0;
}

// The value's bits as the file stores them (little-endian), in the low bytes.
uint64_t file_bits(const Value& value) {
  switch (value.type()) {
    case ValueType::FLOAT32: return std::bit_cast<uint32_t>(static_cast<float>(*value.as_float()));
    case ValueType::FLOAT64: return std::bit_cast<uint64_t>(*value.as_float());
    case ValueType::BOOL: return *value.as_bool() ? 1 : 0;
    case ValueType::UINT8:
    case ValueType::UINT16:
    case ValueType::UINT32:
    case ValueType::UINT64: return *value.as_uint();
    default: return static_cast<uint64_t>(*value.as_int());  // two's complement, truncated to the width
  }
}

}  // namespace

void overwrite_scalar(const std::filesystem::path& path, std::string_view key, const Value& value) {
  const std::string where = path.string() + ": metadata key '" + std::string(key) + "'";
  const size_t width = scalar_width(value.type());
  if (width == 0) throw Error(where + ": only fixed-width scalars can be overwritten in place");
  uint64_t offset = 0;
  {
    const GgufFile file = GgufFile::open(path);  // closed before writing (Windows keeps mapped files locked)
    const KeyValue* found = nullptr;
    for (const KeyValue& kv : file.metadata()) {
      if (kv.key == key) found = &kv;
    }
    if (found == nullptr) throw Error(where + " is not in the file");
    if (found->value.type() != value.type()) {
      throw Error(where + " holds a " + std::string(value_type_name(found->value.type())) + ", not a " +
                  std::string(value_type_name(value.type())));
    }
    offset = found->value_offset;
  }
  unsigned char bytes[8];
  const uint64_t bits = file_bits(value);
  for (size_t i = 0; i < width; ++i) bytes[i] = static_cast<unsigned char>(bits >> (8 * i));
  std::fstream out(path, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(static_cast<std::streamoff>(offset));
  out.write(reinterpret_cast<const char*>(bytes), static_cast<std::streamsize>(width));
  out.flush();
  if (!out) throw Error(where + ": could not write the new value (" + std::string(std::strerror(errno)) + ")");
}

}  // namespace sieve::gguf
