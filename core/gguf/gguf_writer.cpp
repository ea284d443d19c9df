#include "gguf/gguf_writer.h"

#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <system_error>
#include <unordered_set>

#include "gguf/gguf_format.h"
#include "util/error.h"

namespace sieve::gguf {
namespace {

// Asked of stdio for the data stream; glibc keeps its own block-sized buffer,
// but tensor data arrives in large chunks that bypass it anyway.
constexpr size_t kStreamBufferBytes = size_t{4} << 20;
constexpr std::array<char, 4096> kZeros{};

bool is_signed_type(ValueType t) {
  return t == ValueType::INT8 || t == ValueType::INT16 || t == ValueType::INT32 || t == ValueType::INT64;
}
bool is_unsigned_type(ValueType t) {
  return t == ValueType::UINT8 || t == ValueType::UINT16 || t == ValueType::UINT32 || t == ValueType::UINT64;
}
bool is_float_type(ValueType t) { return t == ValueType::FLOAT32 || t == ValueType::FLOAT64; }

int64_t signed_min(ValueType t) {
  const uint64_t bits = format::encoded_scalar_bytes(t) * 8;
  return bits == 64 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (bits - 1));
}
int64_t signed_max(ValueType t) {
  const uint64_t bits = format::encoded_scalar_bytes(t) * 8;
  return bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1;
}
uint64_t unsigned_max(ValueType t) {
  const uint64_t bits = format::encoded_scalar_bytes(t) * 8;
  return bits == 64 ? std::numeric_limits<uint64_t>::max() : (uint64_t{1} << bits) - 1;
}

bool fits(ValueType t, int64_t v) {
  if (is_signed_type(t)) return v >= signed_min(t) && v <= signed_max(t);
  return v >= 0 && static_cast<uint64_t>(v) <= unsigned_max(t);
}
bool fits(ValueType t, uint64_t v) {
  if (is_signed_type(t)) return v <= static_cast<uint64_t>(signed_max(t));
  return v <= unsigned_max(t);
}

// The problem with an array's contents, or "" when it can be written.
std::string array_problem(const Array& a) {
  const ValueType t = a.element_type;
  if (t == ValueType::ARRAY) return "is an array of arrays, which Sieve does not write";
  const std::string wanted = std::string(value_type_name(t));
  const auto out_of_range = [&](const auto& items) {
    for (const auto v : items) {
      if (!fits(t, v)) return "holds " + std::to_string(v) + ", outside the range of " + wanted;
    }
    return std::string();
  };
  if (const auto* s = std::get_if<std::vector<int64_t>>(&a.items)) {
    return is_signed_type(t) || is_unsigned_type(t) ? out_of_range(*s) : "holds integers but is typed " + wanted;
  }
  if (const auto* u = std::get_if<std::vector<uint64_t>>(&a.items)) {
    return is_signed_type(t) || is_unsigned_type(t) ? out_of_range(*u) : "holds integers but is typed " + wanted;
  }
  if (std::holds_alternative<std::vector<double>>(a.items)) {
    return is_float_type(t) ? "" : "holds floats but is typed " + wanted;
  }
  if (std::holds_alternative<std::vector<bool>>(a.items)) {
    return t == ValueType::BOOL ? "" : "holds bools but is typed " + wanted;
  }
  return t == ValueType::STRING ? "" : "holds strings but is typed " + wanted;
}

// The problem with a value, or "" when it can be written.
std::string value_problem(const Value& v) {
  const ValueType t = v.type();
  if (static_cast<uint32_t>(t) > format::kLastValueTypeId) return "has an unknown value type";
  if (t == ValueType::ARRAY) return v.as_array() ? array_problem(*v.as_array()) : "has no value";
  if (t == ValueType::STRING) return v.as_string() ? "" : "has no value";
  if (t == ValueType::BOOL) return v.as_bool() ? "" : "has no value";
  if (is_float_type(t)) return v.is_float() ? "" : "has no value";
  if (!v.is_integer()) return "has no value";
  const bool ok = is_signed_type(t) ? (v.as_int() && fits(t, *v.as_int())) : (v.as_uint() && fits(t, *v.as_uint()));
  return ok ? "" : "holds " + v.to_display_string() + ", outside the range of " + std::string(value_type_name(t));
}

// Builds the header in memory (it is small next to the tensor data) so it
// reaches the disk in one write.
class Encoder {
 public:
  std::string bytes;

  void raw(uint64_t v, uint64_t n_bytes) {
    for (uint64_t i = 0; i < n_bytes; ++i) bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  void u32(uint32_t v) { raw(v, 4); }
  void u64(uint64_t v) { raw(v, 8); }
  void str(std::string_view s) {
    u64(s.size());
    bytes.append(s);
  }

  void scalar_int(ValueType t, uint64_t bits) { raw(bits, format::encoded_scalar_bytes(t)); }
  void scalar_float(ValueType t, double v) {
    if (t == ValueType::FLOAT32) {
      u32(std::bit_cast<uint32_t>(static_cast<float>(v)));
    } else {
      u64(std::bit_cast<uint64_t>(v));
    }
  }

  void value(const Value& v) {
    const ValueType t = v.type();
    if (t == ValueType::STRING) {
      str(*v.as_string());
    } else if (t == ValueType::BOOL) {
      raw(*v.as_bool() ? 1 : 0, 1);
    } else if (t == ValueType::ARRAY) {
      array(*v.as_array());
    } else if (is_float_type(t)) {
      scalar_float(t, *v.as_float());
    } else if (is_signed_type(t)) {
      scalar_int(t, static_cast<uint64_t>(*v.as_int()));
    } else {
      scalar_int(t, *v.as_uint());
    }
  }

  void array(const Array& a) {
    const ValueType t = a.element_type;
    u32(static_cast<uint32_t>(t));
    u64(a.size());
    std::visit(
        [&](const auto& items) {
          using Items = std::decay_t<decltype(items)>;
          for (const auto& item : items) {
            if constexpr (std::is_same_v<Items, std::vector<std::string>>) {
              str(item);
            } else if constexpr (std::is_same_v<Items, std::vector<bool>>) {
              raw(item ? 1 : 0, 1);
            } else if constexpr (std::is_same_v<Items, std::vector<double>>) {
              scalar_float(t, item);
            } else {
              scalar_int(t, static_cast<uint64_t>(item));
            }
          }
        },
        a.items);
  }

  void tensor_info(const TensorInfo& t) {
    str(t.name);
    u32(static_cast<uint32_t>(t.dims.size()));
    for (const uint64_t d : t.dims) u64(d);
    u32(static_cast<uint32_t>(t.type));
    u64(t.offset);
  }
};

// Streams bytes to the partial file, counting them; a short write names the
// file and the OS reason (disk full, ...).
struct Sink {
  std::FILE* file;
  uint64_t& position;
  const std::filesystem::path& path;
  const std::filesystem::path& partial_path;

  void write(const void* data, size_t n) {
    if (n == 0) return;
    if (std::fwrite(data, 1, n, file) != n) {
      throw Error(path.string() + ": writing '" + partial_path.string() + "' failed after " +
                  std::to_string(position) + " bytes: " + std::strerror(errno));
    }
    position += n;
  }
  void pad_to(uint64_t target) {
    while (position < target) {
      const uint64_t gap = target - position;
      write(kZeros.data(), gap < kZeros.size() ? static_cast<size_t>(gap) : kZeros.size());
    }
  }
};

std::FILE* open_for_writing(const std::filesystem::path& path) {
#ifdef _WIN32
  return _wfopen(path.c_str(), L"wb");
#else
  return std::fopen(path.c_str(), "wb");
#endif
}

}  // namespace

GgufWriter::GgufWriter(std::filesystem::path path) : path_(std::move(path)) {
  partial_path_ = path_;
  partial_path_ += ".partial";
  file_ = open_for_writing(partial_path_);
  if (file_ == nullptr) {
    throw Error(path_.string() + ": cannot create '" + partial_path_.string() + "': " + std::strerror(errno));
  }
  // Our own buffer: glibc ignores the size when it is asked to allocate one.
  stream_buffer_ = std::make_unique<char[]>(kStreamBufferBytes);
  std::setvbuf(file_, stream_buffer_.get(), _IOFBF, kStreamBufferBytes);
}

GgufWriter::~GgufWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!finished_) {
    std::error_code ignored;
    std::filesystem::remove(partial_path_, ignored);
  }
}

void GgufWriter::set(const std::string& key, Value value) {
  const auto fail = [&](const std::string& problem) {
    throw Error(path_.string() + ": metadata key '" + format::printable(key) + "' " + problem);
  };
  if (data_start_ != 0) fail("was set after begin_data(); set every key before writing data");
  if (key.empty()) throw Error(path_.string() + ": a metadata key is empty");
  if (key.size() > format::kMaxKeyBytes) fail("is longer than the GGUF limit of 65535 bytes");
  if (std::string problem = value_problem(value); !problem.empty()) fail(problem);
  if (key == format::kAlignmentKey) {
    const auto a = value.as_uint();
    if (!value.is_integer() || !a || !format::is_power_of_two(*a) || *a > (uint64_t{1} << 31)) {
      fail("must be a power of two no larger than 2^31, got " + value.to_display_string());
    }
    alignment_ = static_cast<uint32_t>(*a);
    value = Value::u32(alignment_);  // readers expect a UINT32
    for (size_t i = 0; i < tensors_.size(); ++i) {
      tensors_[i].offset = i == 0 ? 0 : format::align_up(tensors_[i - 1].offset + tensors_[i - 1].size_bytes, alignment_);
    }
  }
  for (KeyValue& kv : metadata_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  metadata_.push_back(KeyValue{key, std::move(value)});
}

size_t GgufWriter::add_tensor(const std::string& name, tensor::TensorType type, std::vector<uint64_t> dims) {
  if (data_start_ != 0) {
    throw Error(path_.string() + ": tensor '" + format::printable(name) + "' was added after begin_data()");
  }
  if (dims.empty()) throw Error(path_.string() + ": tensor '" + format::printable(name) + "' has no dimensions");
  TensorInfo t;
  t.name = name;
  t.dims = std::move(dims);
  t.type = type;
  if (std::string problem = format::complete_tensor_geometry(t); !problem.empty()) {
    throw Error(path_.string() + ": " + problem);
  }
  for (const TensorInfo& other : tensors_) {
    if (other.name == name) throw Error(path_.string() + ": tensor '" + format::printable(name) + "' was added twice");
  }
  if (!tensors_.empty()) {
    const TensorInfo& prev = tensors_.back();
    t.offset = format::align_up(prev.offset + prev.size_bytes, alignment_);
  }
  tensors_.push_back(std::move(t));
  written_.push_back(0);
  return tensors_.size() - 1;
}

void GgufWriter::begin_data() {
  if (data_start_ != 0) throw Error(path_.string() + ": begin_data() was called twice");
  Encoder header;
  header.bytes.append(format::kMagic, 4);
  header.u32(format::kWriteVersion);
  header.u64(tensors_.size());
  header.u64(metadata_.size());
  for (const KeyValue& kv : metadata_) {
    header.str(kv.key);
    header.u32(static_cast<uint32_t>(kv.value.type()));
    header.value(kv.value);
  }
  for (const TensorInfo& t : tensors_) header.tensor_info(t);
  Sink sink{file_, position_, path_, partial_path_};
  sink.write(header.bytes.data(), header.bytes.size());
  sink.pad_to(format::align_up(position_, alignment_));
  data_start_ = position_;
  current_tensor_ = 0;
}

void GgufWriter::write_tensor_data(size_t tensor_index, std::span<const std::byte> bytes) {
  if (data_start_ == 0 || finished_) {
    throw Error(path_.string() + ": tensor data written outside begin_data() ... finish()");
  }
  if (tensor_index >= tensors_.size()) {
    throw Error(path_.string() + ": tensor index " + std::to_string(tensor_index) + " is out of range (" +
                std::to_string(tensors_.size()) + " tensors)");
  }
  const TensorInfo& target = tensors_[tensor_index];
  if (tensor_index < current_tensor_) {
    throw Error(path_.string() + ": data for tensor '" + target.name +
                "' arrived after later tensors; write tensors in add_tensor order");
  }
  for (; current_tensor_ < tensor_index; ++current_tensor_) {
    const TensorInfo& done = tensors_[current_tensor_];
    if (written_[current_tensor_] != done.size_bytes) {
      throw Error(path_.string() + ": tensor '" + done.name + "' got " + std::to_string(written_[current_tensor_]) +
                  " of its " + std::to_string(done.size_bytes) + " bytes before data for '" + target.name +
                  "' began");
    }
  }
  if (bytes.size() > target.size_bytes - written_[tensor_index]) {
    throw Error(path_.string() + ": tensor '" + target.name + "' was given more than its " +
                std::to_string(target.size_bytes) + " bytes");
  }
  if (bytes.empty()) return;
  Sink sink{file_, position_, path_, partial_path_};
  if (written_[tensor_index] == 0) sink.pad_to(data_start_ + target.offset);
  sink.write(bytes.data(), bytes.size());
  written_[tensor_index] += bytes.size();
}

void GgufWriter::finish() {
  if (finished_) throw Error(path_.string() + ": finish() was called twice");
  if (data_start_ == 0) begin_data();
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (written_[i] != tensors_[i].size_bytes) {
      throw Error(path_.string() + ": tensor '" + tensors_[i].name + "' got " + std::to_string(written_[i]) +
                  " of its " + std::to_string(tensors_[i].size_bytes) + " bytes");
    }
  }
  Sink{file_, position_, path_, partial_path_}.pad_to(format::align_up(position_, alignment_));
  const bool flushed = std::fflush(file_) == 0;
  const int flush_errno = errno;
  const bool closed = std::fclose(file_) == 0;
  const int close_errno = errno;
  file_ = nullptr;
  if (!flushed || !closed) {
    throw Error(path_.string() + ": writing '" + partial_path_.string() +
                "' failed: " + std::strerror(flushed ? close_errno : flush_errno));
  }
  std::error_code ec;
  std::filesystem::rename(partial_path_, path_, ec);
  if (ec) throw Error(path_.string() + ": cannot rename '" + partial_path_.string() + "' into place: " + ec.message());
  finished_ = true;
}

}  // namespace sieve::gguf
