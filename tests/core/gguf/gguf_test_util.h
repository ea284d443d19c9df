#pragma once
// Helpers for the GGUF tests: a scratch folder, whole-file I/O, and a GGUF
// byte builder that is independent of GgufWriter, so tests can both check
// the writer's bytes and hand-craft malformed files field by field.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sieve::gguf::testing {

using Bytes = std::vector<uint8_t>;

// A fresh folder (in /dev/shm when present, else the temp folder), removed
// with its contents.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path file(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const Bytes& bytes);
Bytes read_file(const std::filesystem::path& path);

// Little-endian field writer that remembers named offsets ("marks") so tests
// can patch one field of an otherwise valid file.
class ByteBuilder {
 public:
  Bytes bytes;
  std::map<std::string, size_t> marks;

  void mark(const std::string& name) { marks[name] = bytes.size(); }
  void u8(uint8_t v) { bytes.push_back(v); }
  void le(uint64_t v, int n_bytes);
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void str(const std::string& s);
  void pad_to(size_t alignment);
};

void patch_le(Bytes& bytes, size_t offset, uint64_t value, int n_bytes);

struct RawTensor {
  std::string name;
  std::vector<uint64_t> dims;
  uint32_t type;
  uint64_t offset;
  uint64_t size_bytes;  // bytes of data the builder fills with a pattern
};

struct RawSpec {
  uint32_t version = 3;
  uint32_t alignment = 32;      // general.alignment written, and used for padding
  std::string flag_key = "general.flag";  // key of the BOOL entry (kv4)
  std::vector<RawTensor> tensors;
};

// The default small file: 7 metadata keys of assorted types (marked), three
// tensors (F32 8x2, Q8_0 32x2, F16 4) at offsets 0, 64 and 160.
RawSpec small_spec();

// Builds the file. Marks: "tensor_count", "kv_count", "kv<i>.key", "kv<i>.type",
// "kv<i>.value" (array: its element type; "kv<i>.length" its length),
// "tensor<i>.name", "tensor<i>.n_dims", "tensor<i>.dim0", "tensor<i>.type",
// "tensor<i>.offset", "data". The data of tensor i is byte (i*37 + j*13) % 251.
ByteBuilder build_raw(const RawSpec& spec);

uint8_t pattern_byte(size_t tensor_index, size_t j);

}  // namespace sieve::gguf::testing
