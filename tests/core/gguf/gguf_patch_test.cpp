// gguf::overwrite_scalar: a fixed-width value replaced in place, every other
// byte of the file unchanged, and clear refusals for what cannot be done in
// place (absent key, another type, strings).

#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "core/gguf/gguf_test_util.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_patch.h"
#include "gguf/gguf_writer.h"
#include "util/error.h"

namespace sieve::gguf {
namespace {

using testing::Bytes;
using testing::ScratchDir;

std::filesystem::path write_sample(const ScratchDir& dir) {
  const auto path = dir.file("patch.gguf");
  GgufWriter w(path);
  w.set("general.architecture", Value::string("llama"));
  w.set("t.count", Value::u32(0));
  w.set("t.share", Value::f32(0));
  w.set("t.signed", Value::i64(-1));
  w.set("t.name", Value::string("placeholder"));
  w.set("t.thresholds", Value::f32_array({0.5, 0.25, -1}));
  const size_t t = w.add_tensor("w", tensor::TensorType::F32, {4});
  w.begin_data();
  const float values[4] = {1, 2, 3, 4};
  w.write_tensor_data(t, std::as_bytes(std::span(values)));
  w.finish();
  return path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(GgufPatch, OverwritesScalarsInPlaceAndNothingElse) {
  ScratchDir dir;
  const auto path = write_sample(dir);
  const Bytes before = testing::read_file(path);
  overwrite_scalar(path, "t.count", Value::u32(224));
  overwrite_scalar(path, "t.share", Value::f32(0.955f));
  overwrite_scalar(path, "t.signed", Value::i64(-123456789012));
  const Bytes after = testing::read_file(path);
  ASSERT_EQ(after.size(), before.size());

  const GgufFile file = GgufFile::open(path);
  EXPECT_EQ(file.get_int("t.count"), 224);
  EXPECT_FLOAT_EQ(static_cast<float>(*file.get_float("t.share")), 0.955f);
  EXPECT_EQ(file.get_int("t.signed"), -123456789012);
  EXPECT_EQ(file.get_string("t.name"), "placeholder");
  const auto data = file.tensor_data(*file.find_tensor("w"));
  float values[4];
  std::memcpy(values, data.data(), sizeof values);
  EXPECT_EQ(values[3], 4.0f);

  // Only the 4 + 4 + 8 value bytes differ.
  size_t changed = 0;
  for (size_t i = 0; i < after.size(); ++i) changed += before[i] != after[i] ? 1 : 0;
  EXPECT_LE(changed, 16u);
  EXPECT_GE(changed, 3u);
}

TEST(GgufPatch, RefusesWhatCannotBeDoneInPlace) {
  ScratchDir dir;
  const auto path = write_sample(dir);
  const Bytes before = testing::read_file(path);
  EXPECT_NE(error_of([&] { overwrite_scalar(path, "t.absent", Value::u32(1)); }).find("'t.absent' is not in the file"),
            std::string::npos);
  EXPECT_NE(error_of([&] { overwrite_scalar(path, "t.count", Value::f32(1)); }).find("holds a UINT32, not a FLOAT32"),
            std::string::npos)
      << error_of([&] { overwrite_scalar(path, "t.count", Value::f32(1)); });
  EXPECT_NE(error_of([&] { overwrite_scalar(path, "t.name", Value::string("longer name")); })
                .find("only fixed-width scalars"),
            std::string::npos);
  EXPECT_NE(error_of([&] { overwrite_scalar(dir.file("missing.gguf"), "t.count", Value::u32(1)); }), "(no error)");
  EXPECT_EQ(testing::read_file(path), before);
}

// `sieve calibrate --fidelity` writes each set of thresholds it tries.
TEST(GgufPatch, OverwritesAnF32ArrayOfTheSameLength) {
  ScratchDir dir;
  const auto path = write_sample(dir);
  const Bytes before = testing::read_file(path);
  const float thresholds[3] = {0.125f, -2.5f, 7.0f};
  overwrite_f32_array(path, "t.thresholds", thresholds);
  ASSERT_EQ(testing::read_file(path).size(), before.size());
  const GgufFile file = GgufFile::open(path);
  EXPECT_EQ(file.get_float_array("t.thresholds"), (std::vector<double>{0.125, -2.5, 7.0}));
  EXPECT_EQ(file.get_string("t.name"), "placeholder");
  EXPECT_EQ(file.get_int("t.count"), 0);

  const Bytes patched = testing::read_file(path);
  const float two[2] = {1, 2};
  EXPECT_NE(error_of([&] { overwrite_f32_array(path, "t.thresholds", two); }).find("holds 3 values, not 2"),
            std::string::npos);
  EXPECT_NE(error_of([&] { overwrite_f32_array(path, "t.share", thresholds); }).find("is not an f32 array"),
            std::string::npos);
  EXPECT_NE(error_of([&] { overwrite_f32_array(path, "t.absent", thresholds); }).find("is not in the file"),
            std::string::npos);
  EXPECT_EQ(testing::read_file(path), patched);
}

}  // namespace
}  // namespace sieve::gguf
