#include "core/gguf/gguf_test_util.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>

namespace sieve::gguf::testing {

namespace {

// The corpus and fuzz tests write thousands of small files; a RAM-backed
// folder keeps them from waiting on a busy disk.
std::filesystem::path scratch_root() {
  std::error_code ec;
  const std::filesystem::path shm = "/dev/shm";
  if (std::filesystem::is_directory(shm, ec)) return shm;
  return std::filesystem::temp_directory_path();
}

}  // namespace

ScratchDir::ScratchDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = "sieve_gguf_";
  if (info != nullptr) name += std::string(info->test_suite_name()) + "_" + info->name() + "_";
  name += std::to_string(std::random_device{}());
  path_ = scratch_root() / name;
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_file(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write test file " + path.string());
}

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read test file " + path.string());
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void ByteBuilder::le(uint64_t v, int n_bytes) {
  for (int i = 0; i < n_bytes; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void ByteBuilder::str(const std::string& s) {
  u64(s.size());
  bytes.insert(bytes.end(), s.begin(), s.end());
}

void ByteBuilder::pad_to(size_t alignment) {
  while (bytes.size() % alignment != 0) bytes.push_back(0);
}

void patch_le(Bytes& bytes, size_t offset, uint64_t value, int n_bytes) {
  for (int i = 0; i < n_bytes; ++i) bytes.at(offset + i) = static_cast<uint8_t>(value >> (8 * i));
}

uint8_t pattern_byte(size_t tensor_index, size_t j) { return static_cast<uint8_t>((tensor_index * 37 + j * 13) % 251); }

RawSpec small_spec() {
  RawSpec spec;
  spec.tensors = {
      {"a.weight", {8, 2}, 0, 0, 64},     // F32
      {"b.weight", {32, 2}, 8, 64, 68},   // Q8_0: 2 blocks of 34 bytes
      {"c.weight", {4}, 1, 160, 8},       // F16
  };
  return spec;
}

namespace {

void kv_header(ByteBuilder& b, int i, const std::string& key, uint32_t type) {
  const std::string p = "kv" + std::to_string(i);
  b.mark(p + ".key");
  b.str(key);
  b.mark(p + ".type");
  b.u32(type);
  b.mark(p + ".value");
}

void write_metadata(ByteBuilder& b, const RawSpec& spec) {
  kv_header(b, 0, "general.architecture", 8);
  b.str("llama");
  kv_header(b, 1, "general.alignment", 4);
  b.u32(spec.alignment);
  kv_header(b, 2, "tokenizer.ggml.tokens", 9);
  b.u32(8);
  b.mark("kv2.length");
  b.u64(3);
  b.str("<s>");
  b.str("");
  b.str("h\xC3\xA9llo \xC3\xBC \xE6\x97\xA5\xE6\x9C\xAC");
  kv_header(b, 3, "llama.rope.freq_base", 6);
  b.u32(0x461C4000);  // 10000.0f
  kv_header(b, 4, spec.flag_key, 7);
  b.u8(1);
  kv_header(b, 5, "llama.block_count", 4);
  b.u32(2);
  kv_header(b, 6, "test.scores", 9);
  b.u32(6);
  b.mark("kv6.length");
  b.u64(2);
  b.u32(0x3F000000);  // 0.5f
  b.u32(0xBFA00000);  // -1.25f
}

void write_tensor_info(ByteBuilder& b, size_t i, const RawTensor& t) {
  const std::string p = "tensor" + std::to_string(i);
  b.mark(p + ".name");
  b.str(t.name);
  b.mark(p + ".n_dims");
  b.u32(static_cast<uint32_t>(t.dims.size()));
  b.mark(p + ".dim0");
  for (const uint64_t d : t.dims) b.u64(d);
  b.mark(p + ".type");
  b.u32(t.type);
  b.mark(p + ".offset");
  b.u64(t.offset);
}

}  // namespace

ByteBuilder build_raw(const RawSpec& spec) {
  ByteBuilder b;
  b.bytes = {'G', 'G', 'U', 'F'};
  b.mark("version");
  b.u32(spec.version);
  b.mark("tensor_count");
  b.u64(spec.tensors.size());
  b.mark("kv_count");
  b.u64(7);
  write_metadata(b, spec);
  for (size_t i = 0; i < spec.tensors.size(); ++i) write_tensor_info(b, i, spec.tensors[i]);
  b.pad_to(spec.alignment);
  b.mark("data");
  const size_t data_start = b.bytes.size();
  for (size_t i = 0; i < spec.tensors.size(); ++i) {
    const RawTensor& t = spec.tensors[i];
    const size_t end = data_start + t.offset + t.size_bytes;
    if (b.bytes.size() < end) b.bytes.resize(end, 0);
    for (size_t j = 0; j < t.size_bytes; ++j) b.bytes[data_start + t.offset + j] = pattern_byte(i, j);
  }
  b.pad_to(spec.alignment);
  return b;
}

}  // namespace sieve::gguf::testing
