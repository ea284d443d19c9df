// A corpus of malformed files derived from one small valid file: each must be
// refused with a sieve::Error naming the file and, for most, the problem.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "core/gguf/gguf_test_util.h"
#include "gguf/gguf_file.h"
#include "util/error.h"

namespace sieve::gguf {
namespace {

using testing::Bytes;

constexpr uint64_t kHuge60 = uint64_t{1} << 60;
constexpr uint64_t kHuge40 = uint64_t{1} << 40;

class GgufMalformed : public ::testing::Test {
 protected:
  testing::ScratchDir dir_;
  testing::ByteBuilder base_ = testing::build_raw(testing::small_spec());

  size_t mark(const std::string& name) const { return base_.marks.at(name); }

  Bytes patched(const std::string& mark_name, uint64_t value, int n_bytes) const {
    Bytes b = base_.bytes;
    testing::patch_le(b, mark(mark_name), value, n_bytes);
    return b;
  }

  // Opens `bytes` saved as "<name>.gguf"; returns the error message, or ""
  // when the file parsed.
  std::string open_error(const std::string& name, const Bytes& bytes) const {
    const auto path = dir_.file(name + ".gguf");
    testing::write_file(path, bytes);
    try {
      GgufFile::open(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  void expect_refused(const std::string& name, const Bytes& bytes, const std::string& keyword) const {
    SCOPED_TRACE(name);
    const std::string message = open_error(name, bytes);
    ASSERT_FALSE(message.empty()) << "parsed without error";
    EXPECT_NE(message.find(name + ".gguf: "), std::string::npos) << message;
    EXPECT_NE(message.find(keyword), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }

  void expect_refused_spec(const std::string& name, const testing::RawSpec& spec, const std::string& keyword) const {
    expect_refused(name, testing::build_raw(spec).bytes, keyword);
  }
};

TEST_F(GgufMalformed, TheBaseFileIsValid) {
  EXPECT_EQ(open_error("base", base_.bytes), "");
  const GgufFile f = GgufFile::open(dir_.file("base.gguf"));
  EXPECT_EQ(f.data_offset(), mark("data"));
  EXPECT_EQ(f.tensors().size(), 3u);
}

TEST_F(GgufMalformed, TruncationAtEveryHeaderByte) {
  const size_t data_start = mark("data");
  for (size_t n = 0; n < data_start; ++n) {
    const Bytes cut(base_.bytes.begin(), base_.bytes.begin() + static_cast<std::ptrdiff_t>(n));
    const std::string message = open_error("cut", cut);
    ASSERT_FALSE(message.empty()) << "truncated at " << n << " parsed";
    EXPECT_NE(message.find("cut.gguf: "), std::string::npos) << message;
    const bool explains = message.find("truncated") != std::string::npos ||
                          message.find("past the end") != std::string::npos ||
                          message.find("empty") != std::string::npos ||
                          message.find("can hold at most") != std::string::npos;
    EXPECT_TRUE(explains) << "at " << n << ": " << message;
  }
}

TEST_F(GgufMalformed, TruncationInsideTensorData) {
  const size_t data_start = mark("data");
  const size_t data_end = data_start + 160 + 8;  // end of the last tensor's bytes
  for (size_t n = data_start; n < data_end; n += 3) {
    const Bytes cut(base_.bytes.begin(), base_.bytes.begin() + static_cast<std::ptrdiff_t>(n));
    SCOPED_TRACE(n);
    expect_refused("data_cut", cut, "past the end of the file");
  }
  // Only padding is missing after the last tensor: still a usable file.
  for (size_t n = data_end; n <= base_.bytes.size(); ++n) {
    const Bytes cut(base_.bytes.begin(), base_.bytes.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(open_error("pad_cut", cut), "") << n;
  }
}

TEST_F(GgufMalformed, TinyFiles) {
  expect_refused("empty", {}, "empty");
  expect_refused("three", {'G', 'G', 'U'}, "truncated while reading the header");
  expect_refused("magic_only", {'G', 'G', 'U', 'F'}, "truncated while reading the header");
}

TEST_F(GgufMalformed, BadMagicAndVersions) {
  Bytes b = base_.bytes;
  b[0] = 'X';
  expect_refused("bad_magic", b, "bad magic");
  b = base_.bytes;
  b[0] = 'F', b[1] = 'U', b[2] = 'G', b[3] = 'G';
  expect_refused("reversed_magic", b, "big-endian");
  b = base_.bytes;
  b[4] = 0, b[7] = 3;  // version 3 written big-endian
  expect_refused("big_endian", b, "big-endian");
  expect_refused("version0", patched("version", 0, 4), "unsupported GGUF version 0");
  expect_refused("version1", patched("version", 1, 4), "version 1 is not supported");
  expect_refused("version99", patched("version", 99, 4), "unsupported GGUF version 99");
}

TEST_F(GgufMalformed, AbsurdCountsAndLengthsAreRefusedBeforeAllocating) {
  expect_refused("kv_count", patched("kv_count", kHuge40, 8), "1099511627776 metadata entries");
  expect_refused("kv_count_max", patched("kv_count", UINT64_MAX, 8), "metadata entries");
  expect_refused("tensor_count", patched("tensor_count", kHuge40, 8), "1099511627776 tensors");
  expect_refused("tensor_count4", patched("tensor_count", 4, 8), "tensor info 3");
  expect_refused("string_len", patched("kv0.value", kHuge60, 8), "string of 1152921504606846976 bytes");
  expect_refused("string_len_max", patched("kv0.value", UINT64_MAX, 8), "runs past the end");
  expect_refused("key_len", patched("kv0.key", kHuge60, 8), "more than the GGUF limit of 65535");
  expect_refused("key_empty", patched("kv3.key", 0, 8), "metadata key 3 has an empty name");
  expect_refused("array_len", patched("kv2.length", kHuge60, 8), "array of 1152921504606846976 STRING");
  expect_refused("array_len_f32", patched("kv6.length", UINT64_MAX / 2, 8), "array of");
  expect_refused("n_dims5", patched("tensor0.n_dims", 5, 4), "n_dims 5");
  expect_refused("n_dims_max", patched("tensor0.n_dims", UINT32_MAX, 4), "n_dims 4294967295");
  expect_refused("tensor_name_len", patched("tensor1.name", kHuge60, 8), "tensor info 1 name is");
}

// Counts the file could hold but no real model needs are refused too, so a
// hostile file cannot make the reader allocate many times its own size.
TEST_F(GgufMalformed, SieveLimitsOnHugeButPresentMetadata) {
  testing::ByteBuilder b;
  b.bytes = {'G', 'G', 'U', 'F'};
  b.u32(3);
  b.u64(0);  // tensors
  b.u64(1);  // metadata entries
  b.str("huge.array");
  b.u32(9);  // ARRAY
  b.u32(0);  // of UINT8
  const uint64_t n = (uint64_t{1} << 26) + 1;
  b.u64(n);
  b.bytes.resize(b.bytes.size() + n, 0);
  expect_refused("huge_array", b.bytes, "array of 67108865 elements, more than Sieve's limit");

  testing::ByteBuilder c;
  c.bytes = {'G', 'G', 'U', 'F'};
  c.u32(3);
  c.u64(0);
  c.u64((uint64_t{1} << 20) + 1);
  c.bytes.resize(c.bytes.size() + 14 * ((size_t{1} << 20) + 1), 0);
  expect_refused("many_keys", c.bytes, "1048577 metadata entries, more than Sieve's limit");
}

TEST_F(GgufMalformed, TruncationMessageNamesTheKey) {
  // Cut inside the third token string of 'tokenizer.ggml.tokens'.
  const size_t at = mark("kv3.key") - 4;
  const Bytes cut(base_.bytes.begin(), base_.bytes.begin() + static_cast<std::ptrdiff_t>(at));
  expect_refused("key_cut", cut, "truncated while reading metadata key 2 ('tokenizer.ggml.tokens') value");
}

TEST_F(GgufMalformed, BadValueTypes) {
  expect_refused("value_type", patched("kv3.type", 13, 4), "metadata key 3 ('llama.rope.freq_base') value has unknown value type 13");
  expect_refused("element_type", patched("kv2.value", 99, 4), "unknown value type 99");
  expect_refused("nested", patched("kv2.value", 9, 4), "array of arrays");
  expect_refused("bool", patched("kv4.value", 2, 1), "bool stored as 2");
  expect_refused("alignment_type", patched("kv1.type", 6, 4), "general.alignment must be a positive integer");
  expect_refused("alignment48", patched("kv1.value", 48, 4), "general.alignment is 48, which is not a power of two");
  expect_refused("alignment0", patched("kv1.value", 0, 4), "not a power of two");
}

TEST_F(GgufMalformed, DuplicateNames) {
  testing::RawSpec spec = testing::small_spec();
  spec.flag_key = "general.architecture";
  expect_refused_spec("dup_key", spec, "metadata key 'general.architecture' appears twice");
  spec = testing::small_spec();
  spec.tensors[1].name = "a.weight";
  expect_refused_spec("dup_tensor", spec, "tensor name 'a.weight' appears twice");
}

TEST_F(GgufMalformed, BadTensorNames) {
  testing::RawSpec spec = testing::small_spec();
  spec.tensors[0].name = std::string(65, 'x');
  expect_refused_spec("long_name", spec, "more than the GGUF limit of 64");
  spec = testing::small_spec();
  spec.tensors[2].name = "";
  expect_refused_spec("empty_name", spec, "tensor info 2 has an empty name");
}

TEST_F(GgufMalformed, BadTensorTypesAndDims) {
  expect_refused("type4", patched("tensor1.type", 4, 4), "tensor 'b.weight' has unknown type id 4");
  expect_refused("type1000", patched("tensor1.type", 1000, 4), "unknown type id 1000");
  expect_refused("dim_zero", patched("tensor0.dim0", 0, 8), "'a.weight' has dimension 0 of size 0");
  Bytes b = patched("tensor0.dim0", kHuge40, 8);
  testing::patch_le(b, mark("tensor0.dim0") + 8, kHuge40, 8);
  expect_refused("dims_overflow", b, "overflow");
  expect_refused("partial_block", patched("tensor1.dim0", 16, 8), "not a whole number of 32-element blocks");
}

TEST_F(GgufMalformed, BadTensorPlacement) {
  expect_refused("past_end", patched("tensor2.offset", 1 << 20, 8), "'c.weight' data (offset 1048576, 8 bytes) ends past the end");
  expect_refused("offset_wrap", patched("tensor2.offset", UINT64_MAX - 31, 8), "past the end");
  expect_refused("overlap", patched("tensor1.offset", 32, 8), "overlap");
  expect_refused("misaligned", patched("tensor2.offset", 161, 8), "offset 161 is not a multiple of the alignment 32");
  // A larger declared alignment moves the data section past the end of the file.
  expect_refused("alignment_moved", patched("kv1.value", 4096, 4), "data section starts at 4096");
}

}  // namespace
}  // namespace sieve::gguf
