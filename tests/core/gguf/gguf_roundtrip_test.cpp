// GgufWriter -> GgufFile round trips, the writer's exact bytes, and the
// writer's refusal of bad declarations and bad call orders.

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>

#include "core/gguf/gguf_test_util.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "util/error.h"

#ifndef _WIN32
#include <csignal>
#include <sys/resource.h>
#endif

namespace sieve::gguf {
namespace {

using testing::Bytes;
using testing::ScratchDir;
using tensor::TensorType;

std::span<const std::byte> as_bytes(const std::vector<uint8_t>& v) { return std::as_bytes(std::span(v)); }

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

#define EXPECT_ERROR_HAS(statement, text)                                    \
  do {                                                                       \
    const std::string message_ = error_of([&] { statement; });               \
    EXPECT_NE(message_.find(text), std::string::npos) << message_;           \
  } while (0)

Array make_array(ValueType t, decltype(Array::items) items) {
  Array a;
  a.element_type = t;
  a.items = std::move(items);
  return a;
}

const std::string kUnicode = "h\xC3\xA9llo \xC3\xBC \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\x89";

std::vector<KeyValue> every_value_type() {
  using I = std::vector<int64_t>;
  using U = std::vector<uint64_t>;
  using D = std::vector<double>;
  return {
      {"general.architecture", Value::string("llama")},
      {"t.u8", Value::u8(255)},
      {"t.i8", Value::i8(-128)},
      {"t.u16", Value::u16(65535)},
      {"t.i16", Value::i16(-32768)},
      {"t.u32", Value::u32(std::numeric_limits<uint32_t>::max())},
      {"t.i32", Value::i32(std::numeric_limits<int32_t>::min())},
      {"t.u64", Value::u64(std::numeric_limits<uint64_t>::max())},
      {"t.i64", Value::i64(std::numeric_limits<int64_t>::min())},
      {"t.f32", Value::f32(3.25f)},
      {"t.f64", Value::f64(-1e-300)},
      {"t.true", Value::boolean(true)},
      {"t.false", Value::boolean(false)},
      {"t.empty", Value::string("")},
      {"t.unicode", Value::string(kUnicode)},
      {"t.nul", Value::string(std::string("a\0b", 3))},
      {"t.a.u8", Value::array(make_array(ValueType::UINT8, U{0, 7, 255}))},
      {"t.a.i8", Value::array(make_array(ValueType::INT8, I{-128, 0, 127}))},
      {"t.a.u16", Value::array(make_array(ValueType::UINT16, U{65535, 1}))},
      {"t.a.i16", Value::array(make_array(ValueType::INT16, I{-32768, 32767}))},
      {"t.a.u32", Value::array(make_array(ValueType::UINT32, U{4294967295u}))},
      {"t.a.i32", Value::i32_array({-2147483648LL, 5})},
      {"t.a.u64", Value::array(make_array(ValueType::UINT64, U{std::numeric_limits<uint64_t>::max(), 0}))},
      {"t.a.i64", Value::array(make_array(ValueType::INT64, I{std::numeric_limits<int64_t>::min()}))},
      {"t.a.f32", Value::f32_array({0.5, -1.25, 1e-5})},
      {"t.a.f64", Value::array(make_array(ValueType::FLOAT64, D{3.141592653589793, -0.0}))},
      {"t.a.bool", Value::array(make_array(ValueType::BOOL, std::vector<bool>{true, false, true}))},
      {"t.a.str", Value::string_array({"<s>", "", kUnicode, std::string(1000, 'x')})},
      {"t.a.empty", Value::string_array({})},
      {"t.a.empty_i32", Value::i32_array({})},
  };
}

struct TensorCase {
  std::string name;
  TensorType type;
  std::vector<uint64_t> dims;
};

const std::vector<TensorCase> kTensorCases = {
    {"f32", TensorType::F32, {8, 3}},          {"f16", TensorType::F16, {16}},
    {"q4_0", TensorType::Q4_0, {64, 2}},       {"q8_0", TensorType::Q8_0, {32, 1, 3}},
    {"q4_k", TensorType::Q4_K, {256, 2}},      {"q6_k", TensorType::Q6_K, {256}},
    {"bf16", TensorType::BF16, {2, 2, 2, 2}},  {"iq2_xxs", TensorType::IQ2_XXS, {256}},
};

Bytes random_bytes(std::mt19937& rng, size_t n) {
  Bytes b(n);
  for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

void expect_same_value(const Value& got, const Value& want, const std::string& key) {
  SCOPED_TRACE(key);
  EXPECT_EQ(got.type(), want.type());
  EXPECT_EQ(got.as_int(), want.as_int());
  EXPECT_EQ(got.as_uint(), want.as_uint());
  EXPECT_EQ(got.as_bool(), want.as_bool());
  if (want.is_float()) {
    // FLOAT32 values are stored narrowed; compare at the stored width.
    const double w = want.type() == ValueType::FLOAT32 ? static_cast<float>(*want.as_float()) : *want.as_float();
    EXPECT_EQ(*got.as_float(), w);
  }
  ASSERT_EQ(got.as_string() != nullptr, want.as_string() != nullptr);
  if (want.as_string()) {
    EXPECT_EQ(*got.as_string(), *want.as_string());
  }
  ASSERT_EQ(got.as_array() != nullptr, want.as_array() != nullptr);
  if (const Array* w = want.as_array()) {
    const Array* g = got.as_array();
    EXPECT_EQ(g->element_type, w->element_type);
    if (w->element_type == ValueType::FLOAT32) {
      const auto& wd = std::get<std::vector<double>>(w->items);
      const auto& gd = std::get<std::vector<double>>(g->items);
      ASSERT_EQ(gd.size(), wd.size());
      for (size_t i = 0; i < wd.size(); ++i) EXPECT_EQ(gd[i], static_cast<float>(wd[i]));
    } else {
      EXPECT_TRUE(g->items == w->items);
    }
  }
}

TEST(GgufRoundTrip, EveryValueTypeAndTensorTypeSurvives) {
  ScratchDir dir;
  const auto path = dir.file("all.gguf");
  std::mt19937 rng(1234);
  std::vector<Bytes> data;
  {
    GgufWriter w(path);
    for (const KeyValue& kv : every_value_type()) w.set(kv.key, kv.value);
    for (const TensorCase& c : kTensorCases) w.add_tensor(c.name, c.type, c.dims);
    w.begin_data();
    for (size_t i = 0; i < kTensorCases.size(); ++i) {
      data.push_back(random_bytes(rng, w.tensors()[i].size_bytes));
      // Uneven chunks, as a streaming converter would hand them over.
      size_t done = 0;
      for (size_t chunk = 1; done < data[i].size(); chunk = chunk * 3 + 1) {
        const size_t n = std::min(chunk, data[i].size() - done);
        w.write_tensor_data(i, as_bytes(data[i]).subspan(done, n));
        done += n;
      }
    }
    w.finish();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("all.gguf.partial")));

  const GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), kDefaultAlignment);
  EXPECT_EQ(f.file_size(), std::filesystem::file_size(path));
  EXPECT_EQ(f.data_offset() % 32, 0u);
  EXPECT_EQ(f.architecture(), "llama");
  const auto want = every_value_type();
  ASSERT_EQ(f.metadata().size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(f.metadata()[i].key, want[i].key);
    expect_same_value(f.metadata()[i].value, want[i].value, want[i].key);
  }
  ASSERT_EQ(f.tensors().size(), kTensorCases.size());
  for (size_t i = 0; i < kTensorCases.size(); ++i) {
    const TensorInfo& t = f.tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.name, kTensorCases[i].name);
    EXPECT_EQ(t.type, kTensorCases[i].type);
    EXPECT_EQ(t.dims, kTensorCases[i].dims);
    EXPECT_EQ(t.offset % 32, 0u);
    EXPECT_EQ(f.tensor_file_offset(t) % 32, 0u);
    const auto bytes = f.tensor_data(t);
    ASSERT_EQ(bytes.size(), data[i].size());
    EXPECT_EQ(std::memcmp(bytes.data(), data[i].data(), bytes.size()), 0);
    EXPECT_EQ(f.find_tensor(t.name), &t);
  }
  EXPECT_EQ(f.find_tensor("missing"), nullptr);
}

TEST(GgufRoundTrip, WriterBytesMatchTheIndependentEncoding) {
  const testing::RawSpec spec = testing::small_spec();
  const Bytes expected = testing::build_raw(spec).bytes;
  ScratchDir dir;
  const auto path = dir.file("small.gguf");
  GgufWriter w(path);
  w.set("general.architecture", Value::string("llama"));
  w.set("general.alignment", Value::u32(32));
  w.set("tokenizer.ggml.tokens", Value::string_array({"<s>", "", "h\xC3\xA9llo \xC3\xBC \xE6\x97\xA5\xE6\x9C\xAC"}));
  w.set("llama.rope.freq_base", Value::f32(10000.0f));
  w.set("general.flag", Value::boolean(true));
  w.set("llama.block_count", Value::u32(2));
  w.set("test.scores", Value::f32_array({0.5, -1.25}));
  for (const auto& t : spec.tensors) w.add_tensor(t.name, static_cast<TensorType>(t.type), t.dims);
  w.begin_data();
  for (size_t i = 0; i < spec.tensors.size(); ++i) {
    Bytes d(spec.tensors[i].size_bytes);
    for (size_t j = 0; j < d.size(); ++j) d[j] = testing::pattern_byte(i, j);
    w.write_tensor_data(i, as_bytes(d));
  }
  w.finish();
  EXPECT_EQ(testing::read_file(path), expected);
}

TEST(GgufRoundTrip, VersionTwoFilesAreRead) {
  testing::RawSpec spec = testing::small_spec();
  spec.version = 2;
  ScratchDir dir;
  testing::write_file(dir.file("v2.gguf"), testing::build_raw(spec).bytes);
  const GgufFile f = GgufFile::open(dir.file("v2.gguf"));
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens")->at(1), "");
  EXPECT_EQ(f.tensor_data(f.tensors()[1])[5], std::byte{testing::pattern_byte(1, 5)});
}

TEST(GgufRoundTrip, AlignmentSetAfterTensorsMovesTheirOffsets) {
  ScratchDir dir;
  const auto path = dir.file("a64.gguf");
  GgufWriter w(path);
  w.add_tensor("x", TensorType::F32, {3});
  w.add_tensor("y", TensorType::F32, {5});
  w.set("general.alignment", Value::u64(64));  // any integer width; written as UINT32
  EXPECT_EQ(w.tensors()[1].offset, 64u);
  w.begin_data();
  const Bytes x(12, 1), y(20, 2);
  w.write_tensor_data(0, as_bytes(x));
  w.write_tensor_data(1, as_bytes(y));
  w.finish();
  const GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.find("general.alignment")->type(), ValueType::UINT32);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(f.tensors()[1].offset, 64u);
  EXPECT_EQ(f.file_size() % 64, 0u);
  EXPECT_EQ(f.tensor_data(f.tensors()[1])[19], std::byte{2});
}

TEST(GgufRoundTrip, MetadataOnlyFileAndReplacedKeys) {
  ScratchDir dir;
  const auto path = dir.file("meta.gguf");
  {
    GgufWriter w(path);
    w.set("a", Value::u32(1));
    w.set("b", Value::string("x"));
    w.set("a", Value::string("replaced"));  // keeps its first position
    w.finish();                             // begin_data() is implied
  }
  const GgufFile f = GgufFile::open(path);
  ASSERT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata()[0].key, "a");
  EXPECT_EQ(f.get_string("a"), "replaced");
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_EQ(f.architecture(), "");
}

TEST(GgufRoundTrip, FinishReplacesAnExistingFile) {
  ScratchDir dir;
  const auto path = dir.file("over.gguf");
  testing::write_file(path, Bytes(10, 0xAA));
  GgufWriter w(path);
  w.set("k", Value::u8(1));
  w.finish();
  EXPECT_EQ(GgufFile::open(path).find("k")->as_int(), 1);
}

TEST(GgufFileLookups, TypedGettersNameTheKeyAndBothTypes) {
  ScratchDir dir;
  testing::write_file(dir.file("small.gguf"), testing::build_raw(testing::small_spec()).bytes);
  const GgufFile f = GgufFile::open(dir.file("small.gguf"));
  EXPECT_EQ(f.get_int("llama.block_count"), 2);
  EXPECT_EQ(f.get_float("llama.block_count"), 2.0);
  EXPECT_EQ(f.get_float("llama.rope.freq_base"), 10000.0);
  EXPECT_EQ(f.get_bool("general.flag"), true);
  EXPECT_EQ(f.get_float_array("test.scores"), (std::vector<double>{0.5, -1.25}));
  EXPECT_EQ(f.get_int("absent"), std::nullopt);
  EXPECT_EQ(f.get_string_array("absent"), std::nullopt);
  EXPECT_ERROR_HAS(f.get_int("general.architecture"), "'general.architecture' is a STRING, expected an integer");
  EXPECT_ERROR_HAS(f.get_string("llama.block_count"), "small.gguf: metadata key 'llama.block_count' is a UINT32");
  EXPECT_ERROR_HAS(f.get_bool("llama.rope.freq_base"), "FLOAT32, expected a BOOL");
  EXPECT_ERROR_HAS(f.get_string_array("test.scores"), "an ARRAY of FLOAT32, expected an ARRAY of STRING");
  EXPECT_ERROR_HAS(f.get_int_array("tokenizer.ggml.tokens"), "expected an ARRAY of integers");
  EXPECT_ERROR_HAS(f.get_float_array("general.flag"), "expected an ARRAY of numbers");
}

TEST(GgufFileLookups, TensorDataRefusesAForeignTensor) {
  ScratchDir dir;
  testing::write_file(dir.file("small.gguf"), testing::build_raw(testing::small_spec()).bytes);
  const GgufFile f = GgufFile::open(dir.file("small.gguf"));
  TensorInfo foreign = f.tensors()[0];
  foreign.offset = 1u << 30;
  EXPECT_ERROR_HAS(f.tensor_data(foreign), "outside the file");
  GgufFile moved = GgufFile::open(dir.file("small.gguf"));
  GgufFile target = std::move(moved);
  EXPECT_EQ(target.tensor_data(target.tensors()[2]).size(), 8u);
}

TEST(GgufWriterChecks, RejectsBadTensorDeclarations) {
  ScratchDir dir;
  GgufWriter w(dir.file("bad.gguf"));
  w.add_tensor("t", TensorType::F32, {4});
  EXPECT_ERROR_HAS(w.add_tensor("t", TensorType::F32, {4}), "added twice");
  EXPECT_ERROR_HAS(w.add_tensor("q", TensorType::Q4_K, {100, 2}), "not a whole number of 256-element blocks");
  EXPECT_ERROR_HAS(w.add_tensor("d", TensorType::F32, {1, 1, 1, 1, 1}), "5 dimensions");
  EXPECT_ERROR_HAS(w.add_tensor("e", TensorType::F32, {}), "no dimensions");
  EXPECT_ERROR_HAS(w.add_tensor("z", TensorType::F32, {4, 0}), "size 0");
  EXPECT_ERROR_HAS(w.add_tensor("o", TensorType::F32, {1ull << 32, 1ull << 32}), "overflow");
  EXPECT_ERROR_HAS(w.add_tensor("", TensorType::F32, {4}), "empty name");
  EXPECT_ERROR_HAS(w.add_tensor(std::string(65, 'n'), TensorType::F32, {4}), "limit of 64");
  EXPECT_ERROR_HAS(w.add_tensor("u", static_cast<TensorType>(4), {4}), "unknown type id 4");
  EXPECT_EQ(w.tensors().size(), 1u);
}

TEST(GgufWriterChecks, RejectsBadMetadata) {
  ScratchDir dir;
  GgufWriter w(dir.file("bad.gguf"));
  EXPECT_ERROR_HAS(w.set("general.alignment", Value::u32(48)), "power of two");
  EXPECT_ERROR_HAS(w.set("general.alignment", Value::u32(0)), "power of two");
  EXPECT_ERROR_HAS(w.set("general.alignment", Value::string("32")), "power of two");
  EXPECT_ERROR_HAS(w.set("k", Value::array(make_array(ValueType::INT8, std::vector<int64_t>{300}))), "outside the range");
  EXPECT_ERROR_HAS(w.set("k", Value::array(make_array(ValueType::STRING, std::vector<int64_t>{1}))),
                   "holds integers but is typed STRING");
  EXPECT_ERROR_HAS(w.set("k", Value::array(make_array(ValueType::ARRAY, std::vector<int64_t>{}))), "array of arrays");
  EXPECT_ERROR_HAS(w.set("k", Value()), "has no value");
  EXPECT_ERROR_HAS(w.set("", Value::u8(1)), "empty");
}

TEST(GgufWriterChecks, EnforcesTheWritingOrder) {
  ScratchDir dir;
  const auto path = dir.file("order.gguf");
  {
    GgufWriter w(path);
    w.add_tensor("a", TensorType::F32, {2});
    w.add_tensor("b", TensorType::F32, {2});
    const Bytes four(4, 1), nine(9, 1);
    EXPECT_ERROR_HAS(w.write_tensor_data(0, as_bytes(four)), "outside begin_data");
    w.begin_data();
    EXPECT_ERROR_HAS(w.set("late", Value::u8(1)), "after begin_data");
    EXPECT_ERROR_HAS(w.add_tensor("late", TensorType::F32, {2}), "after begin_data");
    EXPECT_ERROR_HAS(w.write_tensor_data(0, as_bytes(nine)), "more than its 8 bytes");
    w.write_tensor_data(0, as_bytes(four));
    EXPECT_ERROR_HAS(w.write_tensor_data(1, as_bytes(four)), "'a' got 4 of its 8 bytes");
    EXPECT_ERROR_HAS(w.write_tensor_data(7, as_bytes(four)), "out of range");
    w.write_tensor_data(0, as_bytes(four));
    w.write_tensor_data(1, as_bytes(four));
    EXPECT_ERROR_HAS(w.write_tensor_data(0, as_bytes(four)), "add_tensor order");
    EXPECT_ERROR_HAS(w.finish(), "'b' got 4 of its 8 bytes");
    EXPECT_TRUE(std::filesystem::exists(dir.file("order.gguf.partial")));
  }
  // Abandoned without finish(): nothing is left behind.
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(dir.file("order.gguf.partial")));
}

TEST(GgufWriterChecks, UnwritableFolderNamesThePath) {
  ScratchDir dir;
  const auto path = dir.path() / "no_such_folder" / "model.gguf";
  EXPECT_ERROR_HAS(GgufWriter w(path), path.string() + ": cannot create");
}

#ifndef _WIN32
// A full disk, simulated with a file-size limit: every write past it fails
// with EFBIG instead of raising SIGXFSZ (ignored here).
TEST(GgufWriterChecks, FailedWritesNameThePathAndLeaveNoFile) {
  ScratchDir dir;
  const auto path = dir.file("full.gguf");
  rlimit old_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old_limit;
  small.rlim_cur = 1 << 20;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  {
    GgufWriter w(path);
    w.add_tensor("big", TensorType::F32, {1 << 20});  // 4 MiB > the 1 MiB limit
    const Bytes chunk(1 << 18, 7);
    message = error_of([&] {
      w.begin_data();
      for (int i = 0; i < 16; ++i) w.write_tensor_data(0, as_bytes(chunk));
      w.finish();
    });
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_NE(message.find(path.string() + ": writing"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(dir.file("full.gguf.partial")));
}
#endif

}  // namespace
}  // namespace sieve::gguf
