#include "gguf/gguf_file.h"

#include <limits>

#include "gguf/gguf_format.h"
#include "gguf/gguf_parser.h"
#include "gguf/mapped_file.h"
#include "util/error.h"

namespace sieve::gguf {
namespace {

std::string type_label(const Value& v) {
  if (const Array* a = v.as_array()) return "an ARRAY of " + std::string(value_type_name(a->element_type));
  return "a " + std::string(value_type_name(v.type()));
}

[[noreturn]] void wrong_type(const std::filesystem::path& path, std::string_view key, const Value& v,
                             const char* expected) {
  throw Error(path.string() + ": metadata key '" + format::printable(key) + "' is " + type_label(v) +
              ", expected " + expected);
}

bool is_integer_type(ValueType t) {
  return t == ValueType::UINT8 || t == ValueType::INT8 || t == ValueType::UINT16 || t == ValueType::INT16 ||
         t == ValueType::UINT32 || t == ValueType::INT32 || t == ValueType::UINT64 || t == ValueType::INT64;
}

}  // namespace

GgufFile GgufFile::open(const std::filesystem::path& path) {
  GgufFile file;
  file.path_ = path;
  file.mapping_ = std::make_unique<MappedFile>(path);
  ParsedGguf parsed = parse_gguf(file.mapping_->bytes(), path.string());
  file.version_ = parsed.version;
  file.alignment_ = parsed.alignment;
  file.file_size_ = file.mapping_->size();
  file.data_offset_ = parsed.data_offset;
  file.metadata_ = std::move(parsed.metadata);
  file.tensors_ = std::move(parsed.tensors);
  return file;
}

GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

const Value* GgufFile::find(std::string_view key) const {
  for (const KeyValue& kv : metadata_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (const std::string* s = v->as_string()) return *s;
  wrong_type(path_, key, *v, "a STRING");
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_integer()) wrong_type(path_, key, *v, "an integer");
  if (const auto i = v->as_int()) return *i;
  throw Error(path_.string() + ": metadata key '" + format::printable(key) + "' holds " +
              v->to_display_string() + ", too large for a signed 64-bit integer");
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_float() && !v->is_integer()) wrong_type(path_, key, *v, "a number");
  return v->as_float();
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (const auto b = v->as_bool()) return *b;
  wrong_type(path_, key, *v, "a BOOL");
}

std::optional<std::vector<std::string>> GgufFile::get_string_array(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  const Array* a = v->as_array();
  if (a == nullptr || a->element_type != ValueType::STRING) wrong_type(path_, key, *v, "an ARRAY of STRING");
  return std::get<std::vector<std::string>>(a->items);
}

std::optional<std::vector<double>> GgufFile::get_float_array(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  const Array* a = v->as_array();
  if (a == nullptr) wrong_type(path_, key, *v, "an ARRAY of numbers");
  if (const auto* d = std::get_if<std::vector<double>>(&a->items)) return *d;
  if (const auto* s = std::get_if<std::vector<int64_t>>(&a->items)) {
    return std::vector<double>(s->begin(), s->end());
  }
  if (const auto* u = std::get_if<std::vector<uint64_t>>(&a->items)) {
    return std::vector<double>(u->begin(), u->end());
  }
  wrong_type(path_, key, *v, "an ARRAY of numbers");
}

std::optional<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  const Array* a = v->as_array();
  if (a == nullptr || !is_integer_type(a->element_type)) wrong_type(path_, key, *v, "an ARRAY of integers");
  if (const auto* s = std::get_if<std::vector<int64_t>>(&a->items)) return *s;
  const auto& u = std::get<std::vector<uint64_t>>(a->items);
  std::vector<int64_t> out;
  out.reserve(u.size());
  for (const uint64_t x : u) {
    if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw Error(path_.string() + ": metadata key '" + format::printable(key) + "' holds " + std::to_string(x) +
                  ", too large for a signed 64-bit integer");
    }
    out.push_back(static_cast<int64_t>(x));
  }
  return out;
}

std::string GgufFile::architecture() const {
  const Value* v = find("general.architecture");
  if (v == nullptr) return "";
  if (const std::string* s = v->as_string()) return *s;
  wrong_type(path_, "general.architecture", *v, "a STRING");
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  for (const TensorInfo& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::span<const std::byte> GgufFile::tensor_data(const TensorInfo& tensor) const {
  const std::span<const std::byte> bytes = mapping_->bytes();
  const uint64_t available = data_offset_ <= bytes.size() ? bytes.size() - data_offset_ : 0;
  // A TensorInfo from another file (or edited by the caller) must not read outside the mapping.
  if (tensor.offset > available || tensor.size_bytes > available - tensor.offset) {
    throw Error(path_.string() + ": tensor '" + format::printable(tensor.name) +
                "' data lies outside the file (offset " + std::to_string(tensor.offset) + ", " +
                std::to_string(tensor.size_bytes) + " bytes)");
  }
  return bytes.subspan(static_cast<size_t>(data_offset_ + tensor.offset), static_cast<size_t>(tensor.size_bytes));
}

}  // namespace sieve::gguf
