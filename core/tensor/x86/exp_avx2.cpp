// exp over float rows with AVX2 + FMA: the softmax's exponentials (ops.cpp),
// eight at a time. The scalar std::exp was ~10% of a 1024-token prefill
// (attention's softmax rows); the reference computes them in SIMD too.
//
// exp(x) = 2^k * e^r with k = round(x / ln 2) and r = x - k ln 2 (ln 2 in two
// parts, so r keeps its low bits), e^r by the minimax polynomial of Cephes'
// expf (|r| <= ln 2 / 2; within 2 ulp of the true value, tested against
// std::exp in tests/core/tensor/ops_test.cpp), 2^k built in the exponent
// field. Inputs are clamped to [-87.3, 88.7]: below, the result is the
// smallest normal's order (softmax weights of ~1e-38 count as nothing), above,
// it would overflow to infinity anyway.

#if !defined(__AVX2__) || !defined(__FMA__)
#error "exp_avx2.cpp must be compiled with AVX2 and FMA enabled (see core/tensor/CMakeLists.txt)"
#endif

#include <immintrin.h>

#include <cmath>

#include "tensor/kernels.h"

namespace sieve::tensor::detail {
namespace {

__m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.7f));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(scale));
}

// The sum is kept in doubles, as the scalar softmax keeps it: over a
// vocabulary of 32000 a float sum drifted by ~1e-6.
float exp_shifted(float* x, int64_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256d sum_lo = _mm256_setzero_pd(), sum_hi = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(x + i, e);
    sum_lo = _mm256_add_pd(sum_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    sum_hi = _mm256_add_pd(sum_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(sum_lo, sum_hi));
  double total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < n; ++i) total += (x[i] = std::exp(x[i] - shift));
  return static_cast<float>(total);
}

}  // namespace

void register_exp_avx2(KernelTable& table) { table.exp_shifted = exp_shifted; }

}  // namespace sieve::tensor::detail
