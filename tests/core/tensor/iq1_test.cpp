// Kernels of the 1-bit codebook types IQ1_S and IQ1_M: block layouts pinned
// by hand-built blocks (values worked out from the layout and the grid),
// dot products against the dequantized dot, every SIMD table against the
// scalar one on random blocks, and the int8 prefill GEMM against vec_dot.
// Sieve reads these types but does not produce them (no quantizer), so every
// block here is built by hand or from random bytes.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/tensor/block_check_util.h"
#include "gguf/gguf_file.h"
#include "tensor/blocks_iq1.h"
#include "tensor/fp16.h"
#include "tensor/iq1_grid.h"
#include "tensor/kernels.h"
#include "tensor/tensor_type.h"
#include "util/json_text.h"

namespace sieve::tensor {
namespace {

using namespace sieve::tensor::testing;
using T = TensorType;

constexpr T kTypes[] = {T::IQ1_S, T::IQ1_M};
constexpr int64_t kLengths[] = {256, 512, 768, 4096, 11008 - 11008 % 256};

// IQ1_M keeps its fp16 scale in the top nibbles of its four scale words.
void set_iq1m_d(BlockIQ1M& b, uint16_t d) {
  for (int w = 0; w < 4; ++w) {
    uint16_t word;
    std::memcpy(&word, b.scales + 2 * w, 2);
    word = static_cast<uint16_t>((word & 0x0fff) | (((d >> (4 * w)) & 0xf) << 12));
    std::memcpy(b.scales + 2 * w, &word, 2);
  }
}

// Random bytes with a small sane scale (a random fp16 may be infinite).
Bytes random_blocks(T type, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(bytes_for(type, static_cast<uint64_t>(n)));
  for (uint8_t& b : out) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> factor(-0.05f, 0.05f);
  const size_t block_bytes = type_info(type).block_bytes;
  for (size_t off = 0; off < out.size(); off += block_bytes) {
    const uint16_t d = fp32_to_fp16(factor(rng));
    if (type == T::IQ1_S) {
      std::memcpy(out.data() + off, &d, 2);
    } else {
      set_iq1m_d(*reinterpret_cast<BlockIQ1M*>(out.data() + off), d);
    }
  }
  return out;
}

int8_t grid_value(int index, int j) {
  int8_t g[8];
  std::memcpy(g, &kIq1sGrid[index], 8);
  return g[j];
}

// ---- layouts ---------------------------------------------------------------------

TEST(Iq1Layout, BlockSizesAndKernels) {
  EXPECT_EQ(sizeof(BlockIQ1S), type_info(T::IQ1_S).block_bytes);
  EXPECT_EQ(sizeof(BlockIQ1M), type_info(T::IQ1_M).block_bytes);
  for (T type : kTypes) {
    EXPECT_TRUE(type_info(type).computable) << type_name(type);
    const TypeKernels& k = scalar()[type];
    EXPECT_TRUE(k.dequantize && k.vec_dot) << type_name(type);
    EXPECT_EQ(k.quantize, nullptr) << type_name(type) << ": read-only type";
    EXPECT_EQ(k.dot_type, T::Q8_K);
  }
}

// The grid's first entries as the format defines them: index 0 is eight -1,
// index 1 has +1 first, index 2 zeros in values 0 and 1; every entry is ternary.
TEST(Iq1Layout, GridEntriesAreTernaryBytesInValueOrder) {
  for (int j = 0; j < 8; ++j) EXPECT_EQ(grid_value(0, j), -1);
  EXPECT_EQ(grid_value(1, 0), 1);
  EXPECT_EQ(grid_value(1, 1), -1);
  EXPECT_EQ(grid_value(2, 0), 0);
  EXPECT_EQ(grid_value(2, 1), 0);
  EXPECT_EQ(grid_value(2, 2), -1);
  for (int i = 0; i < kIq1sGridSize; ++i) {
    for (int j = 0; j < 8; ++j) ASSERT_LE(std::abs(grid_value(i, j)), 1) << i;
  }
}

// qh[s]: bits 3l..3l+2 the index's top bits of group l, 12..14 the scale s
// (factor 2s + 1), bit 15 the delta sign; x = d (2s + 1)(grid + delta / 8).
TEST(Iq1Layout, Iq1sDecodesIndexScaleAndDelta) {
  BlockIQ1S b{};
  b.d = fp32_to_fp16(0.5f);
  b.qs[0] = 1;     // sub-block 0 group 0: index 1
  b.qs[1] = 0xff;  // group 1: index 0x7ff with top bits 7
  b.qh[0] = static_cast<uint16_t>((7 << 3) | (3 << 12));         // scale 7, delta +1/8
  b.qh[1] = static_cast<uint16_t>((5 << 12) | 0x8000);           // sub-block 1: scale 11, delta -1/8
  float out[256];
  scalar()[T::IQ1_S].dequantize(&b, out, 256);
  for (int j = 0; j < 8; ++j) {
    EXPECT_EQ(out[j], 0.5f * 7 * (grid_value(1, j) + 0.125f)) << j;
    EXPECT_EQ(out[8 + j], 0.5f * 7 * (grid_value(0x7ff, j) + 0.125f)) << j;
    EXPECT_EQ(out[32 + j], 0.5f * 11 * (grid_value(0, j) - 0.125f)) << j;  // qs 0, index 0
  }
  EXPECT_EQ(out[0], 0.5f * 7 * 1.125f);  // grid 1 starts with +1
  EXPECT_EQ(out[32], 0.5f * 11 * -1.125f);
}

// IQ1_M: fp16 d from the top nibbles of the four scale words (word w gives
// bits 4w..4w+3); group g's index top bits and delta sign in nibble g % 2 of
// qh[g / 2]; 16-value half h's scale in bits 3(h % 4) of word h / 4.
TEST(Iq1Layout, Iq1mDecodesSpreadScaleNibblesAndDeltas) {
  BlockIQ1M b{};
  const uint16_t d = fp32_to_fp16(0.25f);  // 0x3400
  set_iq1m_d(b, d);
  uint16_t w0;
  std::memcpy(&w0, b.scales, 2);
  w0 = static_cast<uint16_t>(w0 | 2 | (5 << 3) | (1 << 6));  // halves 0, 1, 2: scales 2, 5, 1
  std::memcpy(b.scales, &w0, 2);
  EXPECT_EQ(iq1m_d_bits(b), d);
  b.qs[0] = 1;                                       // group 0: index 1, delta +
  b.qs[1] = 0xff;                                    // group 1: index 0x7ff, delta -
  b.qh[0] = static_cast<uint16_t>((0xf << 4) | 0);  // group 1 nibble: top bits 7, sign bit set
  b.qh[2] = 0x08;                                    // group 4 (half 2): delta -
  float out[256];
  scalar()[T::IQ1_M].dequantize(&b, out, 256);
  for (int j = 0; j < 8; ++j) {
    EXPECT_EQ(out[j], 0.25f * 5 * (grid_value(1, j) + 0.125f)) << j;          // half 0: scale 2*2+1
    EXPECT_EQ(out[8 + j], 0.25f * 5 * (grid_value(0x7ff, j) - 0.125f)) << j;  // half 0, delta -
    EXPECT_EQ(out[16 + j], 0.25f * 11 * (grid_value(0, j) + 0.125f)) << j;    // half 1: scale 2*5+1
    EXPECT_EQ(out[32 + j], 0.25f * 3 * (grid_value(0, j) - 0.125f)) << j;     // half 2: scale 3, delta -
    EXPECT_EQ(out[48 + j], 0.25f * 1 * (grid_value(0, j) + 0.125f)) << j;     // half 3: scale 1
  }
}

// ---- dot products ----------------------------------------------------------------

TEST(Iq1, VecDotMatchesDequantizedDot) {
  for (T type : kTypes) {
    for (int64_t n : kLengths) {
      const Bytes wq = random_blocks(type, n, 100 + static_cast<uint32_t>(n));
      const Bytes xq = quantize(scalar(), T::Q8_K, gaussian(n, 200 + static_cast<uint32_t>(n)));
      const auto wd = dequantize(scalar(), type, wq, n);
      const auto xd = dequantize(scalar(), T::Q8_K, xq, n);
      const double got = scalar()[type].vec_dot(n, wq.data(), xq.data());
      EXPECT_NEAR(got, float_dot(wd, xd), 1e-5 * abs_dot(wd, xd)) << type_name(type) << " n=" << n;
    }
  }
}

// Each block's integer sum is exact in both; they differ only in the float
// accumulation of per-block results, hence the 1e-5 relative bound.
TEST(Iq1Simd, VecDotMatchesScalar) {
  for (const Variant& v : simd_variants()) {
    for (T type : kTypes) {
      EXPECT_NE((*v.table)[type].vec_dot, scalar()[type].vec_dot) << v.name << " overrides " << type_name(type);
      for (int64_t n : kLengths) {
        for (uint32_t seed = 0; seed < 3; ++seed) {
          const Bytes wq = random_blocks(type, n, seed * 1000 + static_cast<uint32_t>(n));
          const Bytes xq = quantize(scalar(), T::Q8_K, gaussian(n, seed + 17, 3.f));
          const double want = scalar()[type].vec_dot(n, wq.data(), xq.data());
          const double got = (*v.table)[type].vec_dot(n, wq.data(), xq.data());
          const double scale = abs_dot(dequantize(scalar(), type, wq, n), dequantize(scalar(), T::Q8_K, xq, n));
          EXPECT_NEAR(got, want, 1e-5 * scale + 1e-30) << v.name << " " << type_name(type) << " n=" << n;
        }
      }
    }
  }
}

// A single block of one group against a hand-computed sum: delta and scale
// enter as the reference's d * dx * (ls * grid.x + ls * delta / 8 * sum x).
TEST(Iq1, DotOfOneGroupByHand) {
  BlockIQ1S b{};
  b.d = fp32_to_fp16(1.0f);
  b.qh[0] = static_cast<uint16_t>(1 << 12);  // scale 3, delta +1/8, every index 0 (all -1)
  std::vector<float> x(256, 0.0f);
  for (int j = 0; j < 8; ++j) x[j] = static_cast<float>(j + 1);  // 1..8
  const Bytes xq = quantize(scalar(), T::Q8_K, x);
  const auto xd = dequantize(scalar(), T::Q8_K, xq, 256);
  double sum_x = 0, sum_all = 0;
  for (int j = 0; j < 8; ++j) sum_x += xd[j];
  for (int j = 0; j < 32; ++j) sum_all += xd[j];
  const double want = 3 * (-sum_x) + 3 * 0.125 * sum_all;  // only values 0..7 are nonzero
  for (const KernelTable* k : {&scalar(), &kernels()}) {
    EXPECT_NEAR((*k)[T::IQ1_S].vec_dot(256, &b, xq.data()), want, 1e-5 * std::fabs(want));
  }
}

// ---- edge cases and prefill ----------------------------------------------------------

TEST(Iq1Edge, AnyBytesDecodeToFiniteValues) {
  for (T type : kTypes) {
    for (uint32_t seed = 0; seed < 20; ++seed) {
      const Bytes q = random_blocks(type, 512, seed);
      for (float v : dequantize(scalar(), type, q, 512)) ASSERT_TRUE(std::isfinite(v)) << type_name(type);
      const Bytes xq = quantize(scalar(), T::Q8_K, gaussian(512, seed));
      for (const Variant& v : simd_variants()) {
        EXPECT_TRUE(std::isfinite((*v.table)[type].vec_dot(512, q.data(), xq.data()))) << v.name;
      }
    }
  }
}

TEST(Iq1Gemm, Int8GemmMatchesVecDot) {
  if (gemm_q8_variants().empty()) GTEST_SKIP() << "no int8 GEMM on this CPU";
  for (T type : kTypes) {
    const int64_t n_rows = 37, row_elems = 1024;  // full row groups and a partial one
    const Bytes rows = random_blocks(type, n_rows * row_elems, 5);
    for (const Variant& v : gemm_q8_variants()) {
      SCOPED_TRACE(v.name);
      expect_gemm_matches_vec_dot(*v.table, type, rows, n_rows, row_elems);
    }
    expect_gemm_tables_agree(type, rows, n_rows, row_elems);
  }
}

// ---- against the reference's own dequantization ------------------------------------

uint64_t fnv1a64(const std::vector<float>& values) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* bytes = reinterpret_cast<const uint8_t*>(values.data());
  for (size_t i = 0; i < values.size() * sizeof(float); ++i) {
    h ^= bytes[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

// Every IQ1_S / IQ1_M tensor of the shared synthI-iq1_* files, dequantized by
// Sieve, is bit for bit what the reference's dequantize_row_iq1_s / _m gives
// (FNV-1a of the float bytes and the first values, recorded in
// tests/data/reference/synthI-iq1.dequant.json by refdequant.py there).
// Both compute an exact product d * ls * (8 grid +- 1) / 8, so bits agree.
TEST(Iq1Reference, DequantizeMatchesTheReferenceBitForBit) {
  std::ifstream in(std::filesystem::path(SIEVE_TEST_DATA_DIR) / "reference" / "synthI-iq1.dequant.json");
  std::stringstream text;
  text << in.rdbuf();
  const Json doc = Json::parse(text.str());
  size_t checked = 0;
  for (const Json& entry : doc.at("tensors")) {
    const std::filesystem::path model =
        std::filesystem::path(SIEVE_SHARED_DIR) / "models" / entry.at("model").get<std::string>();
    if (!std::filesystem::exists(model)) GTEST_SKIP() << "missing " << model;
    const gguf::GgufFile file = gguf::GgufFile::open(model);
    const gguf::TensorInfo* t = file.find_tensor(entry.at("tensor").get<std::string>());
    ASSERT_NE(t, nullptr) << entry.at("tensor").get<std::string>();
    ASSERT_EQ(type_name(t->type), entry.at("type").get<std::string>());
    const auto n = static_cast<int64_t>(t->n_elements);
    ASSERT_EQ(n, entry.at("n").get<int64_t>());
    std::vector<float> values(static_cast<size_t>(n));
    scalar()[t->type].dequantize(file.tensor_data(*t).data(), values.data(), n);
    const auto& first = entry.at("first");
    for (size_t i = 0; i < first.size(); ++i) {
      EXPECT_EQ(values[i], static_cast<float>(first[i].get<double>())) << t->name;
    }
    char hash[17];
    std::snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(fnv1a64(values)));
    EXPECT_EQ(hash, entry.at("fnv1a64").get<std::string>()) << t->name;
    ++checked;
  }
  EXPECT_EQ(checked, 40u);
}

}  // namespace
}  // namespace sieve::tensor
