// The int8 prefill GEMM (KernelTable::gemm_q8, gemm_q8.h) of every table that
// has one, called directly on rows its own pack_q8 packed: against the scalar
// vec_dot of each row with each activation (partial row groups, 1..13
// vectors, several blocks and sub-blocks per row, extreme bytes), and the
// AVX2 kernel against the AVX-512 VNNI one bit for bit. Both sum exact
// integer products per sub-block (per super-block, times integer scales, for
// IQ4_XS) and then do the same float operations per row, so any integer
// error (a saturated vpmaddubsw pair, a wrapped int16 chain, an int32 that
// overflows) shows as a difference, however small.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "block_check_util.h"
#include "tensor/blocks_iq.h"
#include "tensor/blocks_k.h"
#include "tensor/blocks_legacy.h"
#include "tensor/fp16.h"
#include "tensor/gemm_q8.h"
#include "tensor/iq2_grids.h"
#include "tensor/iq3_grids.h"
#include "tensor/kernels.h"

namespace sieve::tensor::testing {
namespace {

using T = TensorType;

// The types whose block scales this file knows how to set (the AVX2 table's set).
constexpr T kTypes[] = {T::Q4_0, T::Q8_0, T::Q4_K, T::Q6_K, T::IQ4_NL, T::IQ4_XS, T::MXFP4};

struct Table {
  std::string name;
  const KernelTable* k;
};

std::vector<Table> gemm_tables() {
  std::vector<Table> out;
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (isa_available(isa) && kernels_for(isa).gemm_q8 != nullptr) {
      out.push_back({std::string(isa_name(isa)), &kernels_for(isa)});
    }
  }
  return out;
}

// Sets every block's float scale fields to finite values drawn by `scale`
// (random quant bytes may hold NaN or infinite fp16 scales).
template <class F>
void set_scales(T type, Bytes& rows, F scale) {
  const size_t block = type_info(type).block_bytes;
  for (size_t off = 0; off + block <= rows.size(); off += block) {
    uint8_t* b = rows.data() + off;
    switch (type) {
      case T::Q4_0: reinterpret_cast<BlockQ4_0*>(b)->d = fp32_to_fp16(scale()); break;
      case T::Q8_0: reinterpret_cast<BlockQ8_0*>(b)->d = fp32_to_fp16(scale()); break;
      case T::Q4_K:
        reinterpret_cast<BlockQ4K*>(b)->d = fp32_to_fp16(scale());
        reinterpret_cast<BlockQ4K*>(b)->dmin = fp32_to_fp16(scale());
        break;
      case T::Q6_K: reinterpret_cast<BlockQ6K*>(b)->d = fp32_to_fp16(scale()); break;
      case T::IQ4_NL: reinterpret_cast<BlockIQ4NL*>(b)->d = fp32_to_fp16(scale()); break;
      case T::IQ4_XS: reinterpret_cast<BlockIQ4XS*>(b)->d = fp32_to_fp16(scale()); break;
      case T::MXFP4: reinterpret_cast<BlockMXFP4*>(b)->e = static_cast<uint8_t>(120 + static_cast<int>(scale() * 80)); break;
      default: FAIL() << "no scale fields known for " << type_name(type);
    }
  }
}

Bytes random_rows(T type, int64_t n_rows, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes rows(bytes_for(type, static_cast<uint64_t>(n_rows * k)));
  for (uint8_t& b : rows) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> d(0.001f, 0.1f);
  set_scales(type, rows, [&] { return d(rng); });
  return rows;
}

// Every byte `fill`, scales then set to a fixed power of two.
Bytes filled_rows(T type, int64_t n_rows, int64_t k, uint8_t fill) {
  Bytes rows(bytes_for(type, static_cast<uint64_t>(n_rows * k)), fill);
  set_scales(type, rows, [] { return 0.0625f; });
  return rows;
}

// y[v * ldy + r] from the table's packer and kernel; ldy leaves 3 padding
// cells per vector that must stay untouched.
std::vector<float> run_gemm_q8(const KernelTable& k, T type, const Bytes& rows, int64_t n_rows, int64_t row_elems,
                               const std::vector<float>& x, int64_t n_vectors, int64_t& ldy) {
  const Q8GemmLayout layout = q8_gemm_layout(type);
  const T dot = k[type].dot_type;
  const auto x_stride = static_cast<size_t>(row_elems), meta_stride = static_cast<size_t>(row_elems / layout.sub_block);
  std::vector<int8_t> xq(x_stride * static_cast<size_t>(n_vectors));
  std::vector<Q8Meta> meta(meta_stride * static_cast<size_t>(n_vectors));
  for (int64_t v = 0; v < n_vectors; ++v) {
    const Bytes converted =
        quantize(scalar(), dot, std::vector<float>(x.begin() + v * row_elems, x.begin() + (v + 1) * row_elems));
    prepare_q8_activation(dot, converted.data(), row_elems, layout, xq.data() + v * x_stride,
                          meta.data() + v * meta_stride);
  }
  const int64_t group_rows = k.q8_group_rows;
  const size_t group_bytes = k.q8_group_bytes(type, row_elems);
  const int64_t n_groups = (n_rows + group_rows - 1) / group_rows;
  struct alignas(64) Line {
    std::byte b[64];
  };
  std::vector<Line> packed((static_cast<size_t>(n_groups) * group_bytes + 63) / 64);
  auto* groups = reinterpret_cast<std::byte*>(packed.data());
  const size_t row_bytes = bytes_for(type, static_cast<uint64_t>(row_elems));
  for (int64_t g = 0; g < n_groups; ++g) {
    k[type].pack_q8(rows.data() + static_cast<size_t>(g * group_rows) * row_bytes, row_bytes,
                    std::min(group_rows, n_rows - g * group_rows), row_elems, groups + static_cast<size_t>(g) * group_bytes);
  }
  ldy = n_rows + 3;
  std::vector<float> y(static_cast<size_t>(n_vectors * ldy), -12345.0f);
  Q8GemmTask t;
  t.type = type;
  t.groups = groups;
  t.group_bytes = group_bytes;
  t.n_rows = n_rows;
  t.k = row_elems;
  t.layout = layout;
  t.x = xq.data();
  t.x_stride = x_stride;
  t.meta = meta.data();
  t.meta_stride = meta_stride;
  t.n_vectors = n_vectors;
  t.y = y.data();
  t.ldy = ldy;
  k.gemm_q8(t);
  return y;
}

// Scalar vec_dot of every row with every vector, and sum |w x| (float rounding's scale).
struct Expected {
  std::vector<double> y, magnitude;  // [v * n_rows + r]
};

Expected scalar_dots(T type, const Bytes& rows, int64_t n_rows, int64_t row_elems, const std::vector<float>& x,
                     int64_t n_vectors) {
  const T dot = scalar()[type].dot_type;
  const size_t row_bytes = bytes_for(type, static_cast<uint64_t>(row_elems));
  Expected e;
  for (int64_t v = 0; v < n_vectors; ++v) {
    const std::vector<float> xv(x.begin() + v * row_elems, x.begin() + (v + 1) * row_elems);
    const Bytes xq = quantize(scalar(), dot, xv);
    const std::vector<float> xd = dequantize(scalar(), dot, xq, row_elems);
    for (int64_t r = 0; r < n_rows; ++r) {
      const Bytes row(rows.begin() + static_cast<std::ptrdiff_t>(r * row_bytes),
                      rows.begin() + static_cast<std::ptrdiff_t>((r + 1) * row_bytes));
      e.y.push_back(scalar()[type].vec_dot(row_elems, row.data(), xq.data()));
      e.magnitude.push_back(abs_dot(dequantize(scalar(), type, row, row_elems), xd));
    }
  }
  return e;
}

void expect_matches(const Expected& e, int64_t all_rows, const std::vector<float>& y, int64_t n_rows, int64_t n_vectors,
                    int64_t ldy, const std::string& what) {
  for (int64_t v = 0; v < n_vectors; ++v) {
    for (int64_t r = 0; r < ldy; ++r) {
      const float got = y[static_cast<size_t>(v * ldy + r)];
      if (r >= n_rows) {
        ASSERT_EQ(got, -12345.0f) << what << ": wrote padding at vector " << v << " row " << r;
        continue;
      }
      const auto i = static_cast<size_t>(v * all_rows + r);
      ASSERT_NEAR(got, e.y[i], 1e-5 * e.magnitude[i] + 1e-30) << what << ": vector " << v << " row " << r;
    }
  }
}

std::string describe(const Table& t, T type, int64_t rows, int64_t vectors, int64_t k) {
  return t.name + " " + std::string(type_name(type)) + " rows " + std::to_string(rows) + " vectors " +
         std::to_string(vectors) + " k " + std::to_string(k);
}

TEST(GemmQ8, EachTableRegistersItsLayoutWithItsKernel) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (!isa_available(isa)) continue;
    const KernelTable& k = kernels_for(isa);
    for (uint32_t id = 0; id < kTypeIdLimit; ++id) {
      if (k.by_type[id].pack_q8 != nullptr) {
        EXPECT_NE(k.gemm_q8, nullptr) << isa_name(isa) << " packs type " << id << " without a kernel";
      }
    }
    if (k.gemm_q8 == nullptr) continue;
    EXPECT_GT(k.q8_group_rows, 0) << isa_name(isa);
    EXPECT_NE(k.q8_group_bytes, nullptr) << isa_name(isa);
  }
  if (!isa_available(Isa::Avx2)) GTEST_SKIP() << "no AVX2 on this CPU";
  const KernelTable& avx2 = kernels_for(Isa::Avx2);
  ASSERT_NE(avx2.gemm_q8, nullptr);
  EXPECT_EQ(avx2.q8_group_rows, kQ8GroupRowsAvx2);
  for (T type : kTypes) EXPECT_NE(avx2[type].pack_q8, nullptr) << type_name(type);
}

TEST(GemmQ8, KernelMatchesScalarVecDotOnEveryShape) {
  const std::vector<Table> tables = gemm_tables();
  if (tables.empty()) GTEST_SKIP() << "no int8 GEMM on this CPU";
  constexpr int64_t kMaxRows = 33, kMaxVectors = 13;
  for (T type : kTypes) {
    for (int64_t k : {int64_t{256}, int64_t{768}}) {
      const Bytes rows = random_rows(type, kMaxRows, k, 10 + static_cast<uint32_t>(k));
      const std::vector<float> x = gaussian(kMaxVectors * k, 20 + static_cast<uint32_t>(k), 2.0f);
      const Expected e = scalar_dots(type, rows, kMaxRows, k, x, kMaxVectors);
      for (const Table& t : tables) {
        if ((*t.k)[type].pack_q8 == nullptr) continue;
        for (int64_t n_rows : {1, 7, 8, 9, 16, 17, 33}) {
          for (int64_t n_vectors = 1; n_vectors <= kMaxVectors; ++n_vectors) {
            int64_t ldy = 0;
            const std::vector<float> y = run_gemm_q8(*t.k, type, rows, n_rows, k, x, n_vectors, ldy);
            // The first n_rows rows of e, laid out with kMaxRows per vector.
            expect_matches(e, kMaxRows, y, n_rows, n_vectors, ldy, describe(t, type, n_rows, n_vectors, k));
            if (::testing::Test::HasFatalFailure()) return;
          }
        }
      }
    }
  }
}

// Activations at the ends of the int8 range: all -1 (every value -127), all
// +1, alternating signs, and a spread.
std::vector<std::vector<float>> extreme_activations(int64_t k, int64_t n_vectors) {
  std::vector<std::vector<float>> out;
  for (int pattern = 0; pattern < 4; ++pattern) {
    std::vector<float> x(static_cast<size_t>(k * n_vectors));
    const std::vector<float> g = gaussian(k * n_vectors, 5);
    for (size_t i = 0; i < x.size(); ++i) {
      switch (pattern) {
        case 0: x[i] = -1.0f; break;
        case 1: x[i] = 1.0f; break;
        case 2: x[i] = (i % 2 == 0) ? -1.0f : 1.0f; break;
        default: x[i] = g[i]; break;
      }
    }
    out.push_back(x);
  }
  return out;
}

TEST(GemmQ8, ExtremeBytesMatchScalarVecDot) {
  const std::vector<Table> tables = gemm_tables();
  if (tables.empty()) GTEST_SKIP() << "no int8 GEMM on this CPU";
  constexpr int64_t kRows = 19, kVectors = 7, kK = 512;
  for (T type : kTypes) {
    for (uint8_t fill : {uint8_t{0x00}, uint8_t{0x80}, uint8_t{0x7f}, uint8_t{0xff}}) {
      const Bytes rows = filled_rows(type, kRows, kK, fill);
      for (const std::vector<float>& x : extreme_activations(kK, kVectors)) {
        const Expected e = scalar_dots(type, rows, kRows, kK, x, kVectors);
        for (const Table& t : tables) {
          if ((*t.k)[type].pack_q8 == nullptr) continue;
          int64_t ldy = 0;
          const std::vector<float> y = run_gemm_q8(*t.k, type, rows, kRows, kK, x, kVectors, ldy);
          expect_matches(e, kRows, y, kRows, kVectors, ldy,
                         describe(t, type, kRows, kVectors, kK) + " bytes " + std::to_string(fill));
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

// The AVX2 kernel's "signed" route (the offset-128 types: Q8_0, IQ4_NL,
// IQ4_XS, MXFP4, IQ2_*, IQ3_*) puts each weight's sign on the activation with
// vpsignb, which cannot negate -128: it is exact only because no table's Q8_0
// or Q8_K quantizer writes -128, for any finite input. Blocks of every kind of extreme: all -1, one -1 among
// tiny values, magnitudes near the float limits, subnormals, and values just
// under a scale boundary.
TEST(GemmQ8, ActivationsNeverReachMinus128) {
  std::vector<std::vector<float>> inputs;
  const int64_t n = 512;  // two Q8_K blocks, sixteen Q8_0 blocks
  auto add = [&](auto value_at) {
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) x[static_cast<size_t>(i)] = value_at(i);
    inputs.push_back(x);
  };
  add([](int64_t) { return -1.0f; });
  add([](int64_t i) { return i % 32 == 5 ? -1.0f : 1e-6f; });
  add([](int64_t i) { return i % 2 == 0 ? -3.0e38f : 3.0e38f; });
  add([](int64_t i) { return i % 3 == 0 ? -1.0e-40f : 2.0e-41f; });
  add([](int64_t i) { return i % 4 == 0 ? -1.0e-39f : 0.0f; });  // Q8_0: 1 / d overflows to inf, 0 * inf
  add([](int64_t i) { return i % 5 == 0 ? -1.5e-30f : 1.0e-31f; });  // Q8_K just above its zero threshold
  add([](int64_t i) { return -1.0f + static_cast<float>(i % 7) * 1.0e-7f; });
  add([](int64_t i) { return std::nextafter(-static_cast<float>(i % 11 + 1), 0.0f); });
  add([](int64_t i) { return i % 9 == 4 ? std::nanf("") : -1.0f + static_cast<float>(i % 3); });  // garbage in
  const std::vector<float> g = gaussian(n, 31, 1000.0f);
  add([&](int64_t i) { return g[static_cast<size_t>(i)]; });
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    if (!isa_available(isa)) continue;
    const KernelTable& k = kernels_for(isa);
    for (T dot : {T::Q8_0, T::Q8_K}) {
      if (k[dot].quantize == nullptr) continue;
      for (size_t c = 0; c < inputs.size(); ++c) {
        const Bytes q = quantize(k, dot, inputs[c]);
        const size_t block = type_info(dot).block_bytes, values = static_cast<size_t>(type_info(dot).block_elems);
        const size_t qs_offset = dot == T::Q8_0 ? offsetof(BlockQ8_0, qs) : offsetof(BlockQ8K, qs);
        for (size_t off = 0; off + block <= q.size(); off += block) {
          for (size_t i = 0; i < values; ++i) {
            const auto v = static_cast<int8_t>(q[off + qs_offset + i]);
            ASSERT_GE(v, -127) << isa_name(isa) << " " << type_name(dot) << " input " << c << " block " << off / block;
          }
        }
      }
    }
  }
}

// The AVX2 kernel's signed route chains IQ2_* and IQ3_XXS pairs twice and
// IQ3_S pairs eight times in int16 (x86/gemm_q8_avx2.cpp, kMaxAbsIq2 = 43,
// kMaxAbsIq3xxs = 62, kMaxAbsIq3s = 15): the grids' largest magnitudes must be
// those bounds, or a chain could wrap.
template <class Word, size_t N>
int max_grid_byte(const Word (&grid)[N]) {
  int m = 0;
  for (Word g : grid) {
    for (size_t b = 0; b < sizeof(Word); ++b) m = std::max(m, static_cast<int>((g >> (8 * b)) & 0xff));
  }
  return m;
}

TEST(GemmQ8, GridMagnitudesAreTheAvx2SignedBounds) {
  EXPECT_EQ(max_grid_byte(kIq2xxsGrid), 43);
  EXPECT_EQ(max_grid_byte(kIq2xsGrid), 43);
  EXPECT_EQ(max_grid_byte(kIq2sGrid), 43);
  EXPECT_EQ(max_grid_byte(kIq3xxsGrid), 62);
  EXPECT_EQ(max_grid_byte(kIq3sGrid), 15);
}

// The VNNI kernel's integer sums are exact (vpdpbusd does not saturate), and
// both kernels scale them with the same float operations per row: equal bits.
TEST(GemmQ8, Avx2KernelIsBitIdenticalToAvx512Vnni) {
  if (!isa_available(Isa::Avx512) || kernels_for(Isa::Avx512).gemm_q8 == nullptr) {
    GTEST_SKIP() << "no AVX-512 VNNI int8 GEMM on this CPU to compare with";
  }
  const KernelTable& avx2 = kernels_for(Isa::Avx2);
  const KernelTable& vnni = kernels_for(Isa::Avx512);
  ASSERT_NE(avx2.gemm_q8, nullptr);
  constexpr int64_t kRows = 41, kVectors = 13, kK = 512;
  for (T type : kTypes) {
    std::vector<Bytes> weights{random_rows(type, kRows, kK, 99)};
    for (uint8_t fill : {uint8_t{0x00}, uint8_t{0x80}, uint8_t{0x7f}, uint8_t{0xff}}) {
      weights.push_back(filled_rows(type, kRows, kK, fill));
    }
    for (size_t wi = 0; wi < weights.size(); ++wi) {
      for (const std::vector<float>& x : extreme_activations(kK, kVectors)) {
        int64_t ldy_a = 0, ldy_b = 0;
        const std::vector<float> a = run_gemm_q8(avx2, type, weights[wi], kRows, kK, x, kVectors, ldy_a);
        const std::vector<float> b = run_gemm_q8(vnni, type, weights[wi], kRows, kK, x, kVectors, ldy_b);
        ASSERT_EQ(ldy_a, ldy_b);
        for (size_t i = 0; i < a.size(); ++i) {
          ASSERT_EQ(std::memcmp(&a[i], &b[i], sizeof(float)), 0)
              << type_name(type) << " weights " << wi << ": element " << i << " AVX2 " << a[i] << ", VNNI " << b[i];
        }
      }
    }
  }
}

}  // namespace
}  // namespace sieve::tensor::testing
