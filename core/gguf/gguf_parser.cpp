#include "gguf/gguf_parser.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include "gguf/gguf_format.h"
#include "util/error.h"

namespace sieve::gguf {
namespace {

using format::printable;

uint32_t byte_swapped(uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
}

// What is being read, so a failure can say where it happened.
enum class Part { kHeader, kKey, kValue, kTensorInfo, kLayout };

class Parser {
 public:
  Parser(std::span<const std::byte> bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  ParsedGguf run() {
    read_header();
    const uint64_t tensor_count = u64();
    const uint64_t kv_count = u64();
    check_count(kv_count, format::kMinKeyValueBytes, format::kMaxKeyValues, "metadata entries");
    read_metadata(kv_count);
    result_.alignment = read_alignment();
    part_ = Part::kHeader;
    check_count(tensor_count, format::kMinTensorInfoBytes, format::kMaxTensors, "tensors");
    read_tensor_infos(tensor_count);
    part_ = Part::kLayout;
    result_.data_offset = format::align_up(pos_, result_.alignment);
    check_tensor_layout();
    return std::move(result_);
  }

 private:
  // ---- errors ------------------------------------------------------------

  std::string where() const {
    switch (part_) {
      case Part::kHeader:
        return "the header";
      case Part::kKey:
        return "metadata key " + std::to_string(item_);
      case Part::kValue:
        return "metadata key " + std::to_string(item_) + " ('" + printable(item_name_) + "') value";
      case Part::kTensorInfo:
        return "tensor info " + std::to_string(item_) +
               (item_name_.empty() ? "" : " ('" + printable(item_name_) + "')");
      case Part::kLayout:
        return "the tensor data";
    }
    return "the file";
  }

  [[noreturn]] void fail(const std::string& problem) const { throw Error(name_ + ": " + problem); }

  uint64_t remaining() const { return bytes_.size() - pos_; }

  void need(uint64_t n) const {
    if (n <= remaining()) return;
    fail("truncated while reading " + where() + " (needed " + std::to_string(n) + " bytes at offset " +
         std::to_string(pos_) + ", file size " + std::to_string(bytes_.size()) + ")");
  }

  // A declared count whose smallest encoding would not fit is rejected before
  // anything is reserved for it.
  void check_count(uint64_t count, uint64_t min_bytes_each, uint64_t limit, const char* what) const {
    if (count > remaining() / min_bytes_each) {
      fail("header declares " + std::to_string(count) + " " + what + ", but the " +
           std::to_string(remaining()) + " bytes left in the file can hold at most " +
           std::to_string(remaining() / min_bytes_each));
    }
    if (count > limit) {
      fail("header declares " + std::to_string(count) + " " + what + ", more than Sieve's limit of " +
           std::to_string(limit));
    }
  }

  // ---- primitive reads (little-endian, bounds-checked) --------------------

  template <typename T>
  T read_le() {
    need(sizeof(T));
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      v |= static_cast<T>(static_cast<T>(std::to_integer<uint8_t>(bytes_[pos_ + i])) << (8 * i));
    }
    pos_ += sizeof(T);
    return v;
  }
  uint8_t u8() { return read_le<uint8_t>(); }
  uint16_t u16() { return read_le<uint16_t>(); }
  uint32_t u32() { return read_le<uint32_t>(); }
  uint64_t u64() { return read_le<uint64_t>(); }

  std::string_view string_view_of(uint64_t length) {
    if (length > format::kMaxStringBytes && length <= remaining()) {
      fail(where() + " is a string of " + std::to_string(length) + " bytes, more than Sieve's limit of " +
           std::to_string(format::kMaxStringBytes));
    }
    if (length > remaining()) {
      fail("truncated while reading " + where() + ": a string of " + std::to_string(length) +
           " bytes runs past the end of the file (" + std::to_string(remaining()) + " bytes left at offset " +
           std::to_string(pos_) + ")");
    }
    const auto* start = reinterpret_cast<const char*>(bytes_.data() + pos_);
    pos_ += length;
    return std::string_view(start, static_cast<size_t>(length));
  }
  std::string_view read_string_view() { return string_view_of(u64()); }

  // ---- header ------------------------------------------------------------

  void read_header() {
    if (bytes_.empty()) fail("the file is empty (0 bytes), not a GGUF model");
    need(4);
    const auto* magic = reinterpret_cast<const char*>(bytes_.data());
    if (std::memcmp(magic, "FUGG", 4) == 0) fail("the file is big-endian GGUF; Sieve reads little-endian GGUF only");
    if (std::memcmp(magic, format::kMagic, 4) != 0) {
      fail("not a GGUF file (bad magic: expected 'GGUF', found " + describe_magic(magic) + ")");
    }
    pos_ = 4;
    const uint32_t version = u32();
    const uint32_t swapped = byte_swapped(version);
    if ((version & 0xFFFF) == 0 && swapped >= 1 && swapped <= format::kMaxReadVersion) {
      fail("the file is big-endian GGUF (version " + std::to_string(swapped) +
           "); Sieve reads little-endian GGUF only");
    }
    if (version == 1) {
      fail("GGUF version 1 is not supported (it uses 32-bit counts); re-convert the model with a current "
           "llama.cpp to get version 3");
    }
    if (version < format::kMinReadVersion || version > format::kMaxReadVersion) {
      fail("unsupported GGUF version " + std::to_string(version) + " (Sieve reads versions 2 and 3)");
    }
    result_.version = version;
  }

  static std::string describe_magic(const char* magic) {
    std::string out;
    for (int i = 0; i < 4; ++i) {
      const auto c = static_cast<unsigned char>(magic[i]);
      char hex[8];
      std::snprintf(hex, sizeof hex, "%s0x%02X", i > 0 ? " " : "", c);
      out += hex;
    }
    return out;
  }

  // ---- metadata ----------------------------------------------------------

  void read_metadata(uint64_t count) {
    result_.metadata.reserve(std::min(count, format::kMaxReserve));
    std::unordered_map<std::string_view, uint64_t> seen;
    seen.reserve(std::min(count, format::kMaxReserve));
    for (uint64_t i = 0; i < count; ++i) {
      item_ = i;
      item_name_ = {};
      part_ = Part::kKey;
      const std::string_view key = read_key();
      if (auto [it, inserted] = seen.emplace(key, i); !inserted) {
        fail("metadata key '" + printable(key) + "' appears twice (entries " + std::to_string(it->second) +
             " and " + std::to_string(i) + ")");
      }
      item_name_ = key;
      part_ = Part::kValue;
      const ValueType type = read_value_type();
      const uint64_t value_offset = pos_;
      result_.metadata.push_back(KeyValue{std::string(key), read_value(type), value_offset});
    }
  }

  std::string_view read_key() {
    const uint64_t length = u64();
    if (length == 0) fail(where() + " has an empty name");
    if (length > format::kMaxKeyBytes) {
      fail(where() + " name is " + std::to_string(length) + " bytes long, more than the GGUF limit of " +
           std::to_string(format::kMaxKeyBytes));
    }
    return string_view_of(length);
  }

  ValueType read_value_type() {
    const uint32_t id = u32();
    if (id > format::kLastValueTypeId) fail(where() + " has unknown value type " + std::to_string(id));
    return static_cast<ValueType>(id);
  }

  Value read_value(ValueType type) {
    switch (type) {
      case ValueType::UINT8: return Value::u8(u8());
      case ValueType::INT8: return Value::i8(static_cast<int8_t>(u8()));
      case ValueType::UINT16: return Value::u16(u16());
      case ValueType::INT16: return Value::i16(static_cast<int16_t>(u16()));
      case ValueType::UINT32: return Value::u32(u32());
      case ValueType::INT32: return Value::i32(static_cast<int32_t>(u32()));
      case ValueType::UINT64: return Value::u64(u64());
      case ValueType::INT64: return Value::i64(static_cast<int64_t>(u64()));
      case ValueType::FLOAT32: return Value::f32(std::bit_cast<float>(u32()));
      case ValueType::FLOAT64: return Value::f64(std::bit_cast<double>(u64()));
      case ValueType::BOOL: return Value::boolean(read_bool());
      case ValueType::STRING: return Value::string(std::string(read_string_view()));
      case ValueType::ARRAY: return Value::array(read_array());
    }
    fail(where() + " has unknown value type " + std::to_string(static_cast<uint32_t>(type)));
  }

  bool read_bool() {
    const uint8_t b = u8();
    if (b > 1) fail(where() + " is a bool stored as " + std::to_string(b) + " (expected 0 or 1)");
    return b == 1;
  }

  Array read_array() {
    Array array;
    array.element_type = read_value_type();
    if (array.element_type == ValueType::ARRAY) {
      fail(where() + " is an array of arrays, which Sieve does not support");
    }
    const uint64_t length = u64();
    const uint64_t min_bytes = format::encoded_scalar_bytes(array.element_type);
    if (length > format::kMaxArrayElements && length <= remaining() / min_bytes) {
      fail(where() + " is an array of " + std::to_string(length) + " elements, more than Sieve's limit of " +
           std::to_string(format::kMaxArrayElements));
    }
    if (length > remaining() / min_bytes) {
      fail("truncated while reading " + where() + ": an array of " + std::to_string(length) + " " +
           std::string(value_type_name(array.element_type)) + " elements needs at least " +
           (length > UINT64_MAX / min_bytes ? std::string("2^64") : std::to_string(length * min_bytes)) +
           " bytes, but only " + std::to_string(remaining()) + " are left");
    }
    fill_array(array, static_cast<size_t>(length));
    return array;
  }

  template <typename T, typename Read>
  std::vector<T> read_items(size_t n, Read read) {
    std::vector<T> items;
    items.reserve(std::min<size_t>(n, format::kMaxReserve));
    for (size_t i = 0; i < n; ++i) items.push_back(read());
    return items;
  }

  void fill_array(Array& array, size_t n) {
    switch (array.element_type) {
      case ValueType::UINT8: array.items = read_items<uint64_t>(n, [&] { return u8(); }); return;
      case ValueType::UINT16: array.items = read_items<uint64_t>(n, [&] { return u16(); }); return;
      case ValueType::UINT32: array.items = read_items<uint64_t>(n, [&] { return u32(); }); return;
      case ValueType::UINT64: array.items = read_items<uint64_t>(n, [&] { return u64(); }); return;
      case ValueType::INT8:
        array.items = read_items<int64_t>(n, [&] { return static_cast<int8_t>(u8()); });
        return;
      case ValueType::INT16:
        array.items = read_items<int64_t>(n, [&] { return static_cast<int16_t>(u16()); });
        return;
      case ValueType::INT32:
        array.items = read_items<int64_t>(n, [&] { return static_cast<int32_t>(u32()); });
        return;
      case ValueType::INT64:
        array.items = read_items<int64_t>(n, [&] { return static_cast<int64_t>(u64()); });
        return;
      case ValueType::FLOAT32:
        array.items = read_items<double>(n, [&] { return std::bit_cast<float>(u32()); });
        return;
      case ValueType::FLOAT64:
        array.items = read_items<double>(n, [&] { return std::bit_cast<double>(u64()); });
        return;
      case ValueType::BOOL: array.items = read_items<bool>(n, [&] { return read_bool(); }); return;
      case ValueType::STRING:
        array.items = read_items<std::string>(n, [&] { return std::string(read_string_view()); });
        return;
      case ValueType::ARRAY: break;  // rejected by read_array
    }
  }

  uint32_t read_alignment() const {
    for (const KeyValue& kv : result_.metadata) {
      if (kv.key != format::kAlignmentKey) continue;
      const auto value = kv.value.as_uint();
      if (!kv.value.is_integer() || !value) {
        fail("general.alignment must be a positive integer, but it is " + kv.value.to_display_string() + " (" +
             std::string(value_type_name(kv.value.type())) + ")");
      }
      if (!format::is_power_of_two(*value) || *value > UINT32_MAX) {
        fail("general.alignment is " + std::to_string(*value) + ", which is not a power of two below 2^32");
      }
      return static_cast<uint32_t>(*value);
    }
    return kDefaultAlignment;
  }

  // ---- tensor table ------------------------------------------------------

  void read_tensor_infos(uint64_t count) {
    result_.tensors.reserve(std::min(count, format::kMaxReserve));
    std::unordered_map<std::string_view, uint64_t> seen;
    seen.reserve(std::min(count, format::kMaxReserve));
    part_ = Part::kTensorInfo;
    for (uint64_t i = 0; i < count; ++i) {
      item_ = i;
      item_name_ = {};
      result_.tensors.push_back(read_tensor_info());
      const std::string_view name = result_.tensors.back().name;
      if (auto [it, inserted] = seen.emplace(name, i); !inserted) {
        fail("tensor name '" + printable(name) + "' appears twice (tensors " + std::to_string(it->second) +
             " and " + std::to_string(i) + ")");
      }
    }
  }

  TensorInfo read_tensor_info() {
    TensorInfo t;
    const uint64_t name_length = u64();
    if (name_length > format::kMaxTensorNameBytes) {
      fail(where() + " name is " + std::to_string(name_length) + " bytes long, more than the GGUF limit of " +
           std::to_string(format::kMaxTensorNameBytes));
    }
    if (name_length == 0) fail(where() + " has an empty name");
    item_name_ = string_view_of(name_length);
    t.name = std::string(item_name_);
    const uint32_t n_dims = u32();
    if (n_dims > kMaxDims) {
      fail(where() + " has n_dims " + std::to_string(n_dims) + ", more than the maximum of " +
           std::to_string(kMaxDims));
    }
    t.dims.resize(n_dims);
    for (uint64_t& d : t.dims) d = u64();
    const uint32_t type_id = u32();
    if (!tensor::find_type_info(type_id)) {
      fail("tensor '" + printable(t.name) + "' has unknown type id " + std::to_string(type_id));
    }
    t.type = static_cast<tensor::TensorType>(type_id);
    t.offset = u64();
    if (std::string problem = format::complete_tensor_geometry(t); !problem.empty()) fail(problem);
    return t;
  }

  void check_tensor_layout() const {
    const uint64_t file_size = bytes_.size();
    const uint64_t data_offset = result_.data_offset;
    for (const TensorInfo& t : result_.tensors) {
      if (t.offset % result_.alignment != 0) {
        fail("tensor '" + printable(t.name) + "' offset " + std::to_string(t.offset) +
             " is not a multiple of the alignment " + std::to_string(result_.alignment));
      }
      const uint64_t available = data_offset <= file_size ? file_size - data_offset : 0;
      if (t.offset > available || t.size_bytes > available - t.offset) {
        fail("tensor '" + printable(t.name) + "' data (offset " + std::to_string(t.offset) + ", " +
             std::to_string(t.size_bytes) + " bytes) ends past the end of the file (data section starts at " +
             std::to_string(data_offset) + ", file size " + std::to_string(file_size) + ")");
      }
    }
    check_no_overlap();
  }

  void check_no_overlap() const {
    const auto& tensors = result_.tensors;
    std::vector<const TensorInfo*> by_offset;
    by_offset.reserve(tensors.size());
    for (const TensorInfo& t : tensors) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const TensorInfo& prev = *by_offset[i - 1];
      const TensorInfo& next = *by_offset[i];
      if (prev.offset + prev.size_bytes > next.offset) {
        fail("tensors '" + printable(prev.name) + "' (offset " + std::to_string(prev.offset) + ", " +
             std::to_string(prev.size_bytes) + " bytes) and '" + printable(next.name) + "' (offset " +
             std::to_string(next.offset) + ") overlap");
      }
    }
  }

  std::span<const std::byte> bytes_;
  const std::string& name_;
  size_t pos_ = 0;
  Part part_ = Part::kHeader;
  uint64_t item_ = 0;
  std::string_view item_name_;
  ParsedGguf result_;
};

}  // namespace

ParsedGguf parse_gguf(std::span<const std::byte> bytes, const std::string& name) {
  return Parser(bytes, name).run();
}

}  // namespace sieve::gguf
