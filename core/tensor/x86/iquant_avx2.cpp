// AVX2 dot products for the codebook types IQ4_NL, IQ4_XS and MXFP4
// (blocks_iq.h). A block's 32 indices are unpacked to bytes in value order
// (q4_bytes) and looked up in the 16-entry table with one byte shuffle; the
// signed levels then multiply the int8 activation exactly (sign trick of
// dot_i8: |level| <= 127 and the Q8 quantizers never write -128).
// Compiled with -mavx2 -mfma -mf16c; only called after kernels.cpp has
// checked the CPU.

#if !defined(__AVX2__) || (!defined(_MSC_VER) && (!defined(__FMA__) || !defined(__F16C__)))
#error "iquant_avx2.cpp must be compiled with AVX2, FMA and F16C enabled (see core/tensor/CMakeLists.txt)"
#endif

#include <immintrin.h>

#include <cstdint>

#include "tensor/blocks_iq.h"
#include "tensor/blocks_k.h"
#include "tensor/blocks_legacy.h"
#include "tensor/kernels.h"
#include "tensor/x86/legacy_simd_common.h"

namespace sieve::tensor::detail {
namespace {

using namespace sieve::tensor::x86;

__m256i table256(const int8_t* table) {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table)));
}

// The 32 signed levels of one block of indices, in value order.
__m256i levels(const uint8_t* qs, __m256i table) { return _mm256_shuffle_epi8(table, q4_bytes(qs)); }

float iq4_nl_scale(const BlockIQ4NL& b) { return half_to_float(b.d); }
float mxfp4_scale(const BlockMXFP4& b) { return e8m0_half_to_float(b.e); }

// The scales of 8 consecutive blocks as floats, converted together.
__m256 scales8(const BlockIQ4NL* b) { return halves8<&BlockIQ4NL::d>(b); }

// 2^(e - 128) from the bits, as e8m0_half_to_float: (e - 1) << 23, or for
// e < 2 the subnormals 0x00200000 << e.
__m256 scales8(const BlockMXFP4* b) {
  alignas(8) uint8_t e[8];
  for (int k = 0; k < 8; ++k) e[k] = b[k].e;
  const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(e)));
  const __m256i normal = _mm256_slli_epi32(_mm256_sub_epi32(v, _mm256_set1_epi32(1)), 23);
  const __m256i subnormal = _mm256_sllv_epi32(_mm256_set1_epi32(0x00200000), v);
  const __m256i small = _mm256_cmpgt_epi32(_mm256_set1_epi32(2), v);
  return _mm256_castsi256_ps(_mm256_blendv_epi8(normal, subnormal, small));
}

// IQ4_NL and MXFP4 against Q8_0, in groups of 8 blocks: the 16 scales are
// converted together, then each block's eight int32 sums are scaled into one
// of two accumulators (as the legacy types, legacy_avx2.cpp).
template <class Block, const int8_t* kTable, float (*kScale)(const Block&)>
float dot_blocks(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const Block*>(w);
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  const int64_t nb = n / kIqBlockElems;
  const __m256i table = table256(kTable);
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    prefetch_ahead<8 * sizeof(Block)>(wb + i);
    const __m256 scales = _mm256_mul_ps(scales8(wb + i), halves8<&BlockQ8_0::d>(xb + i));
    for (int k = 0; k < 8; ++k) {
      const __m256i sums = dot_i8(levels(wb[i + k].qs, table), load256(xb[i + k].qs));
      const __m256 scale = _mm256_permutevar8x32_ps(scales, _mm256_set1_epi32(k));
      acc[k % 2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), scale, acc[k % 2]);
    }
  }
  for (; i < nb; ++i) {
    const __m256i sums = dot_i8(levels(wb[i].qs, table), load256(xb[i].qs));
    const __m256 scale = _mm256_set1_ps(kScale(wb[i]) * half_to_float(xb[i].d));
    acc[i % 2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), scale, acc[i % 2]);
  }
  return hsum(_mm256_add_ps(acc[0], acc[1]));
}

// IQ4_XS against Q8_K. The sub-block scale (ls - 32) multiplies the 16-bit
// pair sums in the madd that widens them (|pair| <= 2 * 127 * 127, times 32
// fits easily), so a super-block is eight shuffles-and-dots into one int32
// register, converted and scaled once.
float dot_iq4_xs(int64_t n, const void* w, const void* x) {
  const auto* wb = static_cast<const BlockIQ4XS*>(w);
  const auto* xb = static_cast<const BlockQ8K*>(x);
  const int64_t nb = n / kIq4xsBlockElems;
  const __m256i table = table256(kIq4nlValues);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_ahead<sizeof(BlockIQ4XS)>(wb + i);
    __m256i total = _mm256_setzero_si256();
    for (int s = 0; s < kIq4xsBlockElems / kIqBlockElems; ++s) {
      const __m256i q = levels(wb[i].qs + 16 * s, table);
      const __m256i xq = load256(xb[i].qs + kIqBlockElems * s);
      const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(xq, q));
      const __m256i scale = _mm256_set1_epi16(static_cast<int16_t>(iq4xs_scale(wb[i], s) - 32));
      total = _mm256_add_epi32(total, _mm256_madd_epi16(pairs, scale));
    }
    const __m256 d = _mm256_set1_ps(half_to_float(wb[i].d) * xb[i].d);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), d, acc);
  }
  return hsum(acc);
}

}  // namespace

void register_iquant_avx2(KernelTable& table) {
  using T = TensorType;
  table[T::IQ4_NL].vec_dot = dot_blocks<BlockIQ4NL, kIq4nlValues, iq4_nl_scale>;
  table[T::MXFP4].vec_dot = dot_blocks<BlockMXFP4, kMxfp4Values, mxfp4_scale>;
  table[T::IQ4_XS].vec_dot = dot_iq4_xs;
}

}  // namespace sieve::tensor::detail
