#include "gguf/gguf_patch.h"

#include <bit>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

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

// Where `key`'s value starts in the file; throws when the key is absent.
const KeyValue& find_key(const GgufFile& file, std::string_view key, const std::string& where) {
  const KeyValue* found = nullptr;
  for (const KeyValue& kv : file.metadata()) {
    if (kv.key == key) found = &kv;
  }
  if (found == nullptr) throw Error(where + " is not in the file");
  return *found;
}

void write_at(const std::filesystem::path& path, uint64_t offset, const unsigned char* bytes, size_t n,
              const std::string& where) {
  std::fstream out(path, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(static_cast<std::streamoff>(offset));
  out.write(reinterpret_cast<const char*>(bytes), static_cast<std::streamsize>(n));
  out.flush();
  if (!out) throw Error(where + ": could not write the new value (" + std::string(std::strerror(errno)) + ")");
}

}  // namespace

void overwrite_scalar(const std::filesystem::path& path, std::string_view key, const Value& value) {
  const std::string where = path.string() + ": metadata key '" + std::string(key) + "'";
  const size_t width = scalar_width(value.type());
  if (width == 0) throw Error(where + ": only fixed-width scalars can be overwritten in place");
  uint64_t offset = 0;
  {
    const GgufFile file = GgufFile::open(path);  // closed before writing (Windows keeps mapped files locked)
    const KeyValue& found = find_key(file, key, where);
    if (found.value.type() != value.type()) {
      throw Error(where + " holds a " + std::string(value_type_name(found.value.type())) + ", not a " +
                  std::string(value_type_name(value.type())));
    }
    offset = found.value_offset;
  }
  unsigned char bytes[8];
  const uint64_t bits = file_bits(value);
  for (size_t i = 0; i < width; ++i) bytes[i] = static_cast<unsigned char>(bits >> (8 * i));
  write_at(path, offset, bytes, width, where);
}

void overwrite_f32_array(const std::filesystem::path& path, std::string_view key, std::span<const float> values) {
  const std::string where = path.string() + ": metadata key '" + std::string(key) + "'";
  uint64_t offset = 0;
  {
    const GgufFile file = GgufFile::open(path);  // closed before writing
    const KeyValue& found = find_key(file, key, where);
    const Array* array = found.value.as_array();
    if (array == nullptr || array->element_type != ValueType::FLOAT32) throw Error(where + " is not an f32 array");
    const size_t count = array->size();
    if (count != values.size()) {
      throw Error(where + " holds " + std::to_string(count) + " values, not " + std::to_string(values.size()));
    }
    offset = found.value_offset + 4 + 8;  // past the element type (u32) and the count (u64)
  }
  std::vector<unsigned char> bytes(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(values[i]);
    for (size_t b = 0; b < 4; ++b) bytes[4 * i + b] = static_cast<unsigned char>(bits >> (8 * b));
  }
  write_at(path, offset, bytes.data(), bytes.size(), where);
}

}  // namespace sieve::gguf
