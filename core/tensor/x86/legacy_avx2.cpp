// AVX2 + FMA + F16C kernels for the legacy types: dot products of every type
// and the Q8_0 / Q8_1 activation quantizers. Compiled with -mavx2 -mfma -mf16c;
// only called after kernels.cpp has checked the CPU.

#if !defined(__AVX2__) || (!defined(_MSC_VER) && (!defined(__FMA__) || !defined(__F16C__)))
#error "legacy_avx2.cpp must be compiled with AVX2, FMA and F16C enabled (see core/tensor/CMakeLists.txt)"
#endif

#include <immintrin.h>

#include <cstdint>

#include "tensor/blocks_legacy.h"
#include "tensor/fp16.h"
#include "tensor/kernels.h"
#include "tensor/x86/legacy_simd_common.h"

namespace sieve::tensor::detail {
namespace {

using namespace sieve::tensor::x86;

// ---- float weights (F32, F16, BF16) times a float activation ---------------

// How each float-like weight type loads eight values, and one for the tail.
struct F32Row {
  using Elem = float;
  static __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
  static float one(float v) { return v; }
};
struct F16Row {
  using Elem = uint16_t;
  static __m256 load8(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float one(uint16_t v) { return half_to_float(v); }
};
struct BF16Row {  // bf16 is the top half of an f32
  using Elem = uint16_t;
  static __m256 load8(const uint16_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float one(uint16_t v) {
    const int bits = static_cast<int>(static_cast<uint32_t>(v) << 16);
    return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(bits)));
  }
};

// Four independent accumulators hide the FMA latency; the scalar tail covers
// rows whose length is not a multiple of 32.
template <class Row>
float dot_float_row(int64_t n, const void* w, const void* x) {
  const auto* a = static_cast<const typename Row::Elem*>(w);
  const auto* b = static_cast<const float*>(x);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    prefetch_ahead<32 * sizeof(typename Row::Elem)>(a + i);
    for (int k = 0; k < 4; ++k) {
      acc[k] = _mm256_fmadd_ps(Row::load8(a + i + 8 * k), _mm256_loadu_ps(b + i + 8 * k), acc[k]);
    }
  }
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += Row::one(a[i]) * b[i];
  return sum;
}

// Floats to half precision, eight at a time: F16C rounds to nearest even like
// fp32_to_fp16 (fp16.h), overflow to infinity, subnormals kept; a NaN stays a
// NaN (its payload may differ from the scalar's, which keeps only the quiet bit).
void quantize_f16_row(const float* src, void* dst, int64_t n) {
  auto* out = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i half = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), half);
  }
  for (; i < n; ++i) out[i] = fp32_to_fp16(src[i]);
}

// ---- quantized weights: groups of 8 blocks ------------------------------------

// Per group: the 8 block scales (and Q4_1 / Q5_1 offsets) are converted
// together, then each block's integer sums are scaled into one of two
// accumulators (two hide the FMA latency).
template <class W, class X>
float dot_blocks(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const W*>(w);
  const auto* xb = static_cast<const X*>(x);
  const int64_t nb = n / kLegacyBlockElems;
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  __m256 offsets = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    prefetch_ahead<8 * sizeof(W)>(wb + i);
    const __m256 scales = _mm256_mul_ps(halves8<&W::d>(wb + i), halves8<&X::d>(xb + i));
    if constexpr (kHasMin<W>) {
      offsets = _mm256_fmadd_ps(halves8<&W::m>(wb + i), halves8<&X::s>(xb + i), offsets);
    }
    for (int k = 0; k < 8; ++k) {
      const __m256 sums = _mm256_cvtepi32_ps(block_sums(wb[i + k], xb[i + k]));
      const __m256 scale = _mm256_permutevar8x32_ps(scales, _mm256_set1_epi32(k));  // one shuffle
      acc[k % 2] = _mm256_fmadd_ps(sums, scale, acc[k % 2]);
    }
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), offsets)) +
         dot_single_blocks(wb + i, xb + i, nb - i);
}

// ---- Q8 activation quantizers (bit-identical to the scalar ones) --------------

// Quantizes 32 floats to `q` with the scale stored in `d`; returns sum(q).
int32_t quantize_q8_block(const float* x, uint16_t& d, int8_t* q) {
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(_mm256_andnot_ps(sign, v[k]), amax);  // a NaN input is ignored
  }
  const float scale = hmax(amax) / 127.0f;
  d = float_to_half_saturating(scale);
  const __m256 id = _mm256_set1_ps(inverse_or_zero(scale));  // unrounded, as the scalar path
  __m256i i32[4];
  for (int k = 0; k < 4; ++k) {
    __m256 scaled = _mm256_min_ps(_mm256_mul_ps(v[k], id), _mm256_set1_ps(127.0f));
    scaled = _mm256_max_ps(scaled, _mm256_set1_ps(-127.0f));
    i32[k] = _mm256_cvtps_epi32(scaled);  // rounds to nearest even, like nearbyint
  }
  // The packs work per 128-bit lane; the permute restores value order.
  const __m256i i16_01 = _mm256_packs_epi32(i32[0], i32[1]);
  const __m256i i16_23 = _mm256_packs_epi32(i32[2], i32[3]);
  const __m256i i8 = _mm256_packs_epi16(i16_01, i16_23);
  const __m256i ordered = _mm256_permutevar8x32_epi32(i8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), ordered);
  return hsum(_mm256_add_epi32(_mm256_add_epi32(i32[0], i32[1]), _mm256_add_epi32(i32[2], i32[3])));
}

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kLegacyBlockElems; ++i) {
    quantize_q8_block(src + i * kLegacyBlockElems, b[i].d, b[i].qs);
  }
}

void quantize_q8_1(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kLegacyBlockElems; ++i) {
    const int32_t sum = quantize_q8_block(src + i * kLegacyBlockElems, b[i].d, b[i].qs);
    b[i].s = float_to_half_saturating(half_to_float(b[i].d) * static_cast<float>(sum));
  }
}

// F16 / BF16 rows widened to floats, eight at a time. Prefill converts whole
// weight tiles before its float GEMM, so this runs once per weight per call;
// the conversions are exact, so the result equals the scalar path bit for bit.
template <typename Row>
void dequantize_float_row(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const typename Row::Elem*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, Row::load8(p + i));
  for (; i < n; ++i) dst[i] = Row::one(p[i]);
}

// y += a * row, eight values at a time: sparse mode's down columns.
template <typename Row>
void axpy_float_row(int64_t n, float a, const void* src, float* y) {
  const auto* p = static_cast<const typename Row::Elem*>(src);
  const __m256 scale = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(scale, Row::load8(p + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * Row::one(p[i]);
}

void axpy_q8_0(int64_t n, float a, const void* src, float* y) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kLegacyBlockElems; ++i, y += kLegacyBlockElems) {
    const __m256 scale = _mm256_set1_ps(a * half_to_float(b[i].d));
    for (int j = 0; j < kLegacyBlockElems; j += 8) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b[i].qs + j));
      const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
      _mm256_storeu_ps(y + j, _mm256_fmadd_ps(scale, v, _mm256_loadu_ps(y + j)));
    }
  }
}

}  // namespace

void register_legacy_avx2(KernelTable& table) {
  using T = TensorType;
  table[T::F32].vec_dot = dot_float_row<F32Row>;
  table[T::F16].vec_dot = dot_float_row<F16Row>;
  table[T::BF16].vec_dot = dot_float_row<BF16Row>;
  table[T::Q4_0].vec_dot = dot_blocks<BlockQ4_0, BlockQ8_0>;
  table[T::Q4_1].vec_dot = dot_blocks<BlockQ4_1, BlockQ8_1>;
  table[T::Q5_0].vec_dot = dot_blocks<BlockQ5_0, BlockQ8_0>;
  table[T::Q5_1].vec_dot = dot_blocks<BlockQ5_1, BlockQ8_1>;
  table[T::Q8_0].vec_dot = dot_blocks<BlockQ8_0, BlockQ8_0>;
  table[T::Q8_1].vec_dot = dot_blocks<BlockQ8_1, BlockQ8_1>;
  table[T::Q8_0].quantize = quantize_q8_0;
  table[T::Q8_1].quantize = quantize_q8_1;
  table[T::F16].dequantize = dequantize_float_row<F16Row>;
  table[T::BF16].dequantize = dequantize_float_row<BF16Row>;
  table[T::F16].quantize = quantize_f16_row;
  table[T::F32].axpy = axpy_float_row<F32Row>;
  table[T::F16].axpy = axpy_float_row<F16Row>;
  table[T::BF16].axpy = axpy_float_row<BF16Row>;
  table[T::Q8_0].axpy = axpy_q8_0;
}

}  // namespace sieve::tensor::detail
