// matvec, and matmat below the GEMM threshold, must give exactly the floats a
// plain loop over the type's vec_dot gives (same kernel, same converted
// activations), for every thread count, row count and row stride; batch
// matmat must match a double-precision reference of dequantized weights times
// float activations; and both refuse what they cannot compute.

#include "tensor/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tensor/fp16.h"
#include "util/error.h"

namespace sieve::tensor {
namespace {

// Types that appear as weights; each must have a dot kernel in every table.
constexpr TensorType kWeightTypes[] = {
    TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0, TensorType::Q4_1,
    TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0, TensorType::Q2_K, TensorType::Q3_K,
    TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K, TensorType::IQ4_NL, TensorType::IQ4_XS,
    TensorType::MXFP4, TensorType::IQ2_XXS, TensorType::IQ2_XS, TensorType::IQ2_S, TensorType::TQ1_0,
    TensorType::TQ2_0,
};

// Long enough rows that 1001 of them split into several chunks per thread.
constexpr int64_t kRowElems = 2048;

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& f : v) f = dist(gen);
  return v;
}

// Blocks of a type Sieve reads but does not write (no quantizer): random
// bytes, with each block's leading fp16 factor set to a small finite value.
void random_blocks(std::byte* dst, size_t bytes, TensorType type, uint32_t seed) {
  std::mt19937 gen(seed);
  for (size_t i = 0; i < bytes; ++i) dst[i] = static_cast<std::byte>(gen());
  std::uniform_real_distribution<float> factor(-0.05f, 0.05f);
  for (size_t off = 0; off < bytes; off += type_info(type).block_bytes) {
    const uint16_t d = fp32_to_fp16(factor(gen));
    std::memcpy(dst + off, &d, sizeof(d));
  }
}

// A quantized matrix whose rows sit `row_stride` bytes apart; the gap bytes
// are filled with garbage so reading past a row would change the result.
struct TestMatrix {
  std::vector<std::byte> bytes;
  MatrixView view;
};

TestMatrix make_matrix(TensorType type, const KernelTable& k, int64_t n_rows, size_t padding, uint32_t seed,
                       int64_t row_elems = kRowElems) {
  const size_t row_bytes = bytes_for(type, static_cast<uint64_t>(row_elems));
  TestMatrix m;
  m.view = {nullptr, type, n_rows, row_elems, row_bytes + padding};
  m.bytes.assign(m.view.row_stride * static_cast<size_t>(n_rows), std::byte{0xA5});
  const std::vector<float> values = random_floats(static_cast<size_t>(n_rows * row_elems), seed);
  for (int64_t r = 0; r < n_rows; ++r) {
    std::byte* dst = m.bytes.data() + static_cast<size_t>(r) * m.view.row_stride;
    const float* src = values.data() + r * row_elems;
    if (k[type].quantize != nullptr) k[type].quantize(src, dst, row_elems);
    else if (type_info(type).block_elems == 1) std::memcpy(dst, src, row_bytes);
    else random_blocks(dst, row_bytes, type, seed + static_cast<uint32_t>(r));
  }
  m.view.data = m.bytes.data();
  return m;
}

// The reference: convert x the way the kernel table says, then one vec_dot per row.
std::vector<float> direct_matvec(const MatrixView& w, const float* x, const KernelTable& k) {
  const TypeKernels& wk = k[w.type];
  std::vector<std::byte> converted(bytes_for(wk.dot_type, static_cast<uint64_t>(w.row_elems)));
  const void* xd = x;
  if (wk.dot_type != TensorType::F32) {
    k[wk.dot_type].quantize(x, converted.data(), w.row_elems);
    xd = converted.data();
  }
  std::vector<float> y(static_cast<size_t>(w.n_rows));
  for (int64_t r = 0; r < w.n_rows; ++r) {
    y[static_cast<size_t>(r)] =
        wk.vec_dot(w.row_elems, static_cast<const std::byte*>(w.data) + static_cast<size_t>(r) * w.row_stride, xd);
  }
  return y;
}

// Bitwise equality: the same kernel on the same bytes must give the same float.
void expect_same_floats(const std::vector<float>& want, const float* got, const std::string& what) {
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&want[i], &got[i], sizeof(float)) != 0) {
      ADD_FAILURE() << what << ": element " << i << " is " << got[i] << ", direct vec_dot gives " << want[i];
      return;
    }
  }
}

struct Case {
  TensorType type;
  Isa isa;
};

std::string case_name(const testing::TestParamInfo<Case>& info) {
  return std::string(type_name(info.param.type)) + "_" + std::string(isa_name(info.param.isa));
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  std::vector<Isa> isas{Isa::Scalar};
  if (best_isa() != Isa::Scalar) isas.push_back(best_isa());
  for (Isa isa : isas) {
    for (TensorType t : kWeightTypes) cases.push_back({t, isa});
  }
  return cases;
}

class MatmulPerType : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const TypeKernels& wk = table()[type()];
    if (wk.vec_dot == nullptr) {
      GTEST_SKIP() << "no vec_dot kernel for " << type_name(type()) << " in the " << isa_name(GetParam().isa)
                   << " table yet";
    }
    if (wk.dot_type != TensorType::F32 && table()[wk.dot_type].quantize == nullptr) {
      GTEST_SKIP() << "no quantizer for " << type_name(wk.dot_type) << " (activations of "
                   << type_name(type()) << ") yet";
    }
  }
  TensorType type() const { return GetParam().type; }
  const KernelTable& table() const { return kernels_for(GetParam().isa); }
};

TEST_P(MatmulPerType, MatvecEqualsDirectVecDotForEveryThreadCountAndShape) {
  const std::vector<float> x = random_floats(kRowElems, 7);
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  for (int64_t rows : {1, 7, 1001}) {
    for (size_t padding : {size_t{0}, size_t{40}}) {
      const TestMatrix m = make_matrix(type(), table(), rows, padding, static_cast<uint32_t>(rows));
      const std::vector<float> want = direct_matvec(m.view, x.data(), table());
      for (ThreadPool& pool : pools) {
        std::vector<float> y(static_cast<size_t>(rows), -1.0f);
        MatmulScratch scratch;
        matvec(m.view, x.data(), y.data(), pool, scratch, table());
        expect_same_floats(want, y.data(),
                           "threads " + std::to_string(pool.size()) + ", rows " + std::to_string(rows) +
                               ", padding " + std::to_string(padding));
      }
    }
  }
}

// Batches below matmul.cpp's GEMM thresholds (kGemmMinVectors = 8 for F32
// rows used in place, kGemmMinVectorsDequantized = 8 for rows dequantized
// first) run the vec_dot loop: bit-identical to matvec per vector.
int64_t gemm_threshold(TensorType) { return 8; }

bool takes_gemm_path(TensorType type, const KernelTable& k) { return k[type].dequantize != nullptr; }

TEST_P(MatmulPerType, VecDotPathMatmatEqualsMatvecPerVector) {
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  constexpr int64_t kMaxVectors = 40;
  const std::vector<float> x = random_floats(static_cast<size_t>(kMaxVectors * kRowElems), 11);
  std::vector<int64_t> batches{1, 3, gemm_threshold(type()) - 1};
  if (!takes_gemm_path(type(), table())) batches.insert(batches.end(), {int64_t{8}, int64_t{32}, kMaxVectors});
  for (int64_t rows : {1, 7, 1001}) {
    const TestMatrix m = make_matrix(type(), table(), rows, 24, 100 + static_cast<uint32_t>(rows));
    // Per-vector matvec results (already checked against vec_dot above).
    std::vector<float> want(static_cast<size_t>(kMaxVectors * rows));
    MatmulScratch scratch;
    for (int64_t j = 0; j < kMaxVectors; ++j) {
      matvec(m.view, x.data() + j * kRowElems, want.data() + j * rows, pools[0], scratch, table());
    }
    for (ThreadPool& pool : pools) {
      for (int64_t n_vectors : batches) {
        std::vector<float> y(static_cast<size_t>(n_vectors * rows), -1.0f);
        matmat(m.view, x.data(), n_vectors, y.data(), pool, scratch, table());
        expect_same_floats(std::vector<float>(want.begin(), want.begin() + n_vectors * rows), y.data(),
                           "threads " + std::to_string(pool.size()) + ", rows " + std::to_string(rows) + ", " +
                               std::to_string(n_vectors) + " vectors");
      }
    }
  }
}

// Types the table multiplies with the int8 GEMM (quantized rows times 8-bit
// activations) instead of the float GEMM.
bool takes_int8_path(TensorType type, const KernelTable& k) {
  return k.gemm_q8 != nullptr && k[type].pack_q8 != nullptr;
}

// Types the table multiplies with the BF16 GEMM (BF16 rows times activations
// rounded to BF16) instead of the float GEMM.
bool takes_bf16_path(TensorType type, const KernelTable& k) {
  return k.gemm_bf16 != nullptr && k[type].pack_bf16 != nullptr;
}

// The activations as the int8 path sees them: converted to the weight type's
// dot type exactly as matvec converts them, and back to floats. The BF16 path
// rounds them to BF16 (nearest even) instead.
std::vector<float> round_trip_activations(TensorType type, const float* x, int64_t n_vectors, const KernelTable& k) {
  const TensorType dot = takes_bf16_path(type, k) ? TensorType::BF16 : k[type].dot_type;
  std::vector<float> out(static_cast<size_t>(n_vectors * kRowElems));
  std::vector<std::byte> converted(bytes_for(dot, kRowElems));
  for (int64_t j = 0; j < n_vectors; ++j) {
    k[dot].quantize(x + j * kRowElems, converted.data(), kRowElems);
    k[dot].dequantize(converted.data(), out.data() + j * kRowElems, kRowElems);
  }
  return out;
}

// What the GEMM path computes: the weights dequantized to floats times the
// float activations (the float GEMM), the 8-bit converted ones (the int8
// GEMM) or the BF16-rounded ones (the BF16 GEMM), summed in double. Also
// returns sum |w * x| per output, the scale of float rounding.
struct Reference {
  std::vector<double> y, magnitude;
};

Reference float_reference(const MatrixView& w, const float* x_in, int64_t n_vectors, const KernelTable& k) {
  std::vector<float> rounded;
  const float* x = x_in;
  if (takes_int8_path(w.type, k) || takes_bf16_path(w.type, k)) {
    rounded = round_trip_activations(w.type, x_in, n_vectors, k);
    x = rounded.data();
  }
  Reference ref;
  ref.y.assign(static_cast<size_t>(n_vectors * w.n_rows), 0.0);
  ref.magnitude = ref.y;
  std::vector<float> row(static_cast<size_t>(w.row_elems));
  for (int64_t r = 0; r < w.n_rows; ++r) {
    k[w.type].dequantize(static_cast<const std::byte*>(w.data) + static_cast<size_t>(r) * w.row_stride, row.data(),
                         w.row_elems);
    for (int64_t j = 0; j < n_vectors; ++j) {
      double sum = 0, magnitude = 0;
      for (int64_t i = 0; i < w.row_elems; ++i) {
        const double p = static_cast<double>(row[static_cast<size_t>(i)]) * x[j * w.row_elems + i];
        sum += p;
        magnitude += std::fabs(p);
      }
      ref.y[static_cast<size_t>(j * w.n_rows + r)] = sum;
      ref.magnitude[static_cast<size_t>(j * w.n_rows + r)] = magnitude;
    }
  }
  return ref;
}

void expect_close_to_reference(const Reference& ref, const float* got, const std::string& what) {
  for (size_t i = 0; i < ref.y.size(); ++i) {
    if (std::fabs(got[i] - ref.y[i]) > 1e-5 * ref.magnitude[i] + 1e-30) {
      ADD_FAILURE() << what << ": element " << i << " is " << got[i] << ", the double reference gives " << ref.y[i];
      return;
    }
  }
}

// Every weight type with a dequantize kernel takes the GEMM path for batches
// of at least eight vectors (smaller ones are covered by the tests above).
class MatmulFloatBatch : public MatmulPerType {};

std::vector<Case> float_cases() {
  std::vector<Case> cases;
  for (const Case& c : all_cases()) {
    if (takes_gemm_path(c.type, kernels_for(c.isa))) cases.push_back(c);
  }
  return cases;
}

TEST_P(MatmulFloatBatch, BatchMatmatMatchesFloatReference) {
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  constexpr int64_t kMaxVectors = 41;
  const std::vector<float> x = random_floats(static_cast<size_t>(kMaxVectors * kRowElems), 13);
  for (int64_t rows : {1, 7, 1001}) {
    const TestMatrix m = make_matrix(type(), table(), rows, 24, 200 + static_cast<uint32_t>(rows));
    const Reference full = float_reference(m.view, x.data(), kMaxVectors, table());
    MatmulScratch scratch;
    for (ThreadPool& pool : pools) {
      for (int64_t n_vectors : {gemm_threshold(type()), int64_t{37}, kMaxVectors}) {
        std::vector<float> y(static_cast<size_t>(n_vectors * rows), -1.0f);
        matmat(m.view, x.data(), n_vectors, y.data(), pool, scratch, table());
        Reference want;
        want.y.assign(full.y.begin(), full.y.begin() + n_vectors * rows);
        want.magnitude.assign(full.magnitude.begin(), full.magnitude.begin() + n_vectors * rows);
        expect_close_to_reference(want, y.data(),
                                  "threads " + std::to_string(pool.size()) + ", rows " + std::to_string(rows) +
                                      ", " + std::to_string(n_vectors) + " vectors");
      }
    }
  }
}

// Rows of TinyLlama's down projection (5632 values, 22 KiB as floats): the
// float GEMM's tile then holds 16 rows, past its usual byte budget. A row
// count that is no multiple of 16 leaves a partial tile and a ragged
// register block at the end of every thread's range.
class MatmulLongFloatRows : public MatmulPerType {};

std::vector<Case> float_weight_gemm_cases() {
  std::vector<Case> cases;
  for (const Case& c : float_cases()) {
    const KernelTable& k = kernels_for(c.isa);
    if (type_info(c.type).block_elems == 1 && !takes_int8_path(c.type, k) && !takes_bf16_path(c.type, k)) {
      cases.push_back(c);
    }
  }
  return cases;
}

TEST_P(MatmulLongFloatRows, MatchFloatReference) {
  constexpr int64_t kLongRow = 5632;
  constexpr int64_t kVectors = 13;
  const std::vector<float> x = random_floats(static_cast<size_t>(kVectors * kLongRow), 23);
  const TestMatrix m = make_matrix(type(), table(), 37, 8, 500, kLongRow);
  const Reference want = float_reference(m.view, x.data(), kVectors, table());
  MatmulScratch scratch;
  std::vector<float> first;
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    std::vector<float> y(static_cast<size_t>(kVectors * 37), -1.0f);
    matmat(m.view, x.data(), kVectors, y.data(), pool, scratch, table());
    expect_close_to_reference(want, y.data(), "threads " + std::to_string(threads));
    if (first.empty()) first = y;
    else expect_same_floats(first, y.data(), "1 vs 2 threads");
  }
}

TEST_P(MatmulPerType, BatchMatmatIsTheSameForEveryThreadCount) {
  ThreadPool one(1), three(3);
  const std::vector<float> x = random_floats(static_cast<size_t>(35 * kRowElems), 17);
  const TestMatrix m = make_matrix(type(), table(), 1001, 0, 300);
  std::vector<float> a(35 * 1001), b(35 * 1001);
  MatmulScratch scratch;
  matmat(m.view, x.data(), 35, a.data(), one, scratch, table());
  matmat(m.view, x.data(), 35, b.data(), three, scratch, table());
  expect_same_floats(a, b.data(), "1 vs 3 threads");
}

// The flash engine multiplies views of some rows of a matrix: each output row
// must depend only on its own bytes and the activations, never on which rows
// share the call (its register block, packed group or tile) or the threads.
TEST_P(MatmulPerType, BatchMatmatRowsDoNotDependOnTheRowsBesideThem) {
  ThreadPool one(1), two(2);
  constexpr int64_t kVectors = 19;
  const std::vector<float> x = random_floats(static_cast<size_t>(kVectors * kRowElems), 19);
  const TestMatrix m = make_matrix(type(), table(), 301, 8, 400);
  std::vector<float> full(static_cast<size_t>(kVectors * 301));
  MatmulScratch scratch;
  matmat(m.view, x.data(), kVectors, full.data(), one, scratch, table());
  for (int64_t first : {1, 5, 17, 290}) {
    for (int64_t count : {1, 3, 11}) {
      MatrixView part = m.view;
      part.data = m.bytes.data() + static_cast<size_t>(first) * m.view.row_stride;
      part.n_rows = count;
      std::vector<float> y(static_cast<size_t>(kVectors * count));
      matmat(part, x.data(), kVectors, y.data(), two, scratch, table());
      std::vector<float> want;
      for (int64_t j = 0; j < kVectors; ++j) {
        const auto row0 = full.begin() + j * 301 + first;
        want.insert(want.end(), row0, row0 + count);
      }
      expect_same_floats(want, y.data(), "rows " + std::to_string(first) + "+" + std::to_string(count));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllWeightTypes, MatmulPerType, testing::ValuesIn(all_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(FloatWeightTypes, MatmulFloatBatch, testing::ValuesIn(float_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(FloatWeights, MatmulLongFloatRows, testing::ValuesIn(float_weight_gemm_cases()), case_name);

// ---- checks that need no kernel ----

float fake_dot(int64_t n, const void* w, const void* x) {
  // Sums w[i] * x[i] over floats: enough to follow which rows and vectors were used.
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<const float*>(w)[i] * static_cast<const float*>(x)[i];
  return s;
}

KernelTable f32_only_table() {
  KernelTable t;
  t[TensorType::F32].vec_dot = fake_dot;
  t[TensorType::F32].dot_type = TensorType::F32;
  return t;
}

TEST(Matmul, ThrowsWhenTheTypeHasNoKernel) {
  const KernelTable empty;
  ThreadPool pool(1);
  MatmulScratch scratch;
  std::vector<std::byte> w(bytes_for(TensorType::Q4_K, 256) * 2);
  const MatrixView view{w.data(), TensorType::Q4_K, 2, 256, bytes_for(TensorType::Q4_K, 256)};
  std::vector<float> x(256 * 2), y(4);
  try {
    matvec(view, x.data(), y.data(), pool, scratch, empty);
    FAIL() << "matvec accepted a type with no kernel";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no kernel for type Q4_K"), std::string::npos) << e.what();
  }
  EXPECT_THROW(matmat(view, x.data(), 2, y.data(), pool, scratch, empty), Error);
}

TEST(Matmul, ThrowsWhenTheActivationConverterIsMissing) {
  KernelTable t;
  t[TensorType::Q8_0].vec_dot = fake_dot;
  t[TensorType::Q8_0].dot_type = TensorType::Q8_0;  // but no Q8_0 quantizer
  ThreadPool pool(1);
  MatmulScratch scratch;
  std::vector<std::byte> w(bytes_for(TensorType::Q8_0, 32));
  const MatrixView view{w.data(), TensorType::Q8_0, 1, 32, w.size()};
  std::vector<float> x(32), y(1);
  EXPECT_THROW(matvec(view, x.data(), y.data(), pool, scratch, t), Error);
}

TEST(Matmul, RejectsBadShapes) {
  const KernelTable t = f32_only_table();
  ThreadPool pool(1);
  MatmulScratch scratch;
  std::vector<float> w(64), x(64), y(64);
  const MatrixView narrow_stride{w.data(), TensorType::F32, 2, 16, 16 * sizeof(float) - 4};
  EXPECT_THROW(matvec(narrow_stride, x.data(), y.data(), pool, scratch, t), Error);
  const MatrixView no_data{nullptr, TensorType::F32, 2, 16, 16 * sizeof(float)};
  EXPECT_THROW(matvec(no_data, x.data(), y.data(), pool, scratch, t), Error);
  const MatrixView zero_len{w.data(), TensorType::F32, 2, 0, 0};
  EXPECT_THROW(matvec(zero_len, x.data(), y.data(), pool, scratch, t), Error);
  KernelTable q = t;
  q[TensorType::Q4_0].vec_dot = fake_dot;
  const MatrixView partial_block{w.data(), TensorType::Q4_0, 1, 20, 18};
  EXPECT_THROW(matvec(partial_block, x.data(), y.data(), pool, scratch, q), Error);
  const MatrixView ok{w.data(), TensorType::F32, 2, 16, 16 * sizeof(float)};
  EXPECT_THROW(matmat(ok, x.data(), -1, y.data(), pool, scratch, t), Error);
}

TEST(Matmul, EmptyMatrixOrBatchWritesNothing) {
  const KernelTable t = f32_only_table();
  ThreadPool pool(2);
  MatmulScratch scratch;
  std::vector<float> w(16), x(16), y(4, 42.0f);
  const MatrixView no_rows{w.data(), TensorType::F32, 0, 16, 64};
  matvec(no_rows, x.data(), y.data(), pool, scratch, t);
  const MatrixView one_row{w.data(), TensorType::F32, 1, 16, 64};
  matmat(one_row, x.data(), 0, y.data(), pool, scratch, t);
  EXPECT_EQ(y, std::vector<float>(4, 42.0f));
}

TEST(Matmul, RowStrideSkipsTheGapAndResultsLandPerVector) {
  // Row r holds (r + 1) in its first 4 values and garbage in an 8-float gap;
  // vector j is all (j + 1): y[j][r] = 4 * (r + 1) * (j + 1).
  const KernelTable t = f32_only_table();
  constexpr int64_t kRows = 5, kElems = 4, kStrideFloats = 12;
  std::vector<float> w(kRows * kStrideFloats, 1000.0f);
  for (int64_t r = 0; r < kRows; ++r) {
    for (int64_t i = 0; i < kElems; ++i) w[r * kStrideFloats + i] = static_cast<float>(r + 1);
  }
  const MatrixView view{w.data(), TensorType::F32, kRows, kElems, kStrideFloats * sizeof(float)};
  std::vector<float> x;
  for (int j = 0; j < 3; ++j) x.insert(x.end(), kElems, static_cast<float>(j + 1));
  std::vector<float> y(3 * kRows);
  ThreadPool pool(3);
  MatmulScratch scratch;
  matmat(view, x.data(), 3, y.data(), pool, scratch, t);
  for (int64_t j = 0; j < 3; ++j) {
    for (int64_t r = 0; r < kRows; ++r) EXPECT_EQ(y[j * kRows + r], 4.0f * (r + 1) * (j + 1)) << j << "," << r;
  }
}

TEST(Matmul, ScratchGrowsOnlyWhenTooSmall) {
  const KernelTable& k = kernels();
  const TypeKernels& q8 = k[TensorType::Q8_0];
  if (q8.vec_dot == nullptr || k[q8.dot_type].quantize == nullptr) GTEST_SKIP() << "no Q8_0 kernels yet";
  ThreadPool pool(2);
  MatmulScratch scratch;
  const TestMatrix m = make_matrix(TensorType::Q8_0, k, 7, 0, 5);
  const std::vector<float> x = random_floats(static_cast<size_t>(4 * kRowElems), 3);
  std::vector<float> y(4 * 7);
  matmat(m.view, x.data(), 4, y.data(), pool, scratch, k);
  const size_t grown = scratch.activations.size();
  const std::byte* buffer = scratch.activations.data();
  EXPECT_GE(grown, 4 * bytes_for(q8.dot_type, kRowElems));
  matvec(m.view, x.data(), y.data(), pool, scratch, k);
  matmat(m.view, x.data(), 2, y.data(), pool, scratch, k);
  EXPECT_EQ(scratch.activations.size(), grown);
  EXPECT_EQ(scratch.activations.data(), buffer);
}

}  // namespace
}  // namespace sieve::tensor
