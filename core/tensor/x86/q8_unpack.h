#pragma once
// Widening of one block of one row to the unsigned bytes of the int8 prefill
// GEMM (gemm_q8.h), shared by x86/gemm_q8_avx512.cpp and x86/gemm_q8_avx2.cpp:
// Q4_0, Q8_0, Q4_K, Q6_K, IQ4_NL, IQ4_XS and MXFP4. Only AVX2/SSE
// instructions, so both files can use it.
//
// Everything is in an anonymous namespace on purpose: the two files are
// compiled with different -m flags, and inline functions with external
// linkage would be merged by the linker, so the AVX2 table could end up
// running the AVX-512 copy.
//
// Each unpack writes the block's values to u (value order) and its sub-block
// scales (and mins) to scale[j * stride] (min[j * stride]).

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "tensor/blocks_iq.h"
#include "tensor/blocks_k.h"
#include "tensor/blocks_legacy.h"
#include "tensor/x86/kquant_simd_common.h"

namespace sieve::tensor {
namespace {

using x86::half_to_float;

void store128(uint8_t* p, __m128i v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }
void store256(uint8_t* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
__m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
__m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

struct Q4_0Unpack {
  using Block = BlockQ4_0;
  static constexpr int kValues = kLegacyBlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t) {
    const __m128i q = load128(b.qs), low4 = _mm_set1_epi8(0x0f);
    store128(u, _mm_and_si128(q, low4));
    store128(u + 16, _mm_and_si128(_mm_srli_epi16(q, 4), low4));
    scale[0] = half_to_float(b.d);
  }
};

struct Q8_0Unpack {
  using Block = BlockQ8_0;
  static constexpr int kValues = kLegacyBlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t) {
    store256(u, _mm256_xor_si256(load256(b.qs), _mm256_set1_epi8(static_cast<char>(0x80))));
    scale[0] = half_to_float(b.d);
  }
};

struct Q4_KUnpack {
  using Block = BlockQ4K;
  static constexpr int kValues = kQK;
  static void unpack(const Block& b, uint8_t* u, float* scale, float* min, size_t stride) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int j = 0; j < 4; ++j) {  // values 64j..64j+31: low nibbles; 64j+32..: high nibbles
      const __m256i q = load256(b.qs + 32 * j);
      store256(u + 64 * j, _mm256_and_si256(q, low4));
      store256(u + 64 * j + 32, _mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
    }
    const K4Scales s = unpack_k4_scales(b.scales);
    const float d = half_to_float(b.d), dmin = half_to_float(b.dmin);
    for (int j = 0; j < 8; ++j) {
      scale[static_cast<size_t>(j) * stride] = d * static_cast<float>((s.scales >> (8 * j)) & 0xff);
      min[static_cast<size_t>(j) * stride] = -dmin * static_cast<float>((s.mins >> (8 * j)) & 0xff);
    }
  }
};

struct Q6_KUnpack {
  using Block = BlockQ6K;
  static constexpr int kValues = kQK;
  // Value 128h + 32k + l: low nibble k>>1 of ql[64h + 32(k&1) + l], high bits 2k of qh[32h + l].
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    const __m256i low4 = _mm256_set1_epi8(0x0f), two = _mm256_set1_epi8(0x30);
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load256(b.ql + 64 * h), ql1 = load256(b.ql + 64 * h + 32);
      const __m256i qh = load256(b.qh + 32 * h);
      uint8_t* out = u + 128 * h;
      store256(out, _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), two)));
      store256(out + 32, _mm256_or_si256(_mm256_and_si256(ql1, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), two)));
      store256(out + 64, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4), _mm256_and_si256(qh, two)));
      store256(out + 96,
               _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4), _mm256_and_si256(_mm256_srli_epi16(qh, 2), two)));
    }
    const float d = half_to_float(b.d);
    for (int j = 0; j < 16; ++j) scale[static_cast<size_t>(j) * stride] = d * static_cast<float>(b.scales[j]);
  }
};

// Codebook types (blocks_iq.h): levels as unsigned bytes u = level + 128,
// looked up in the table shifted by 128 (offset 128, as Q8_0).
__m128i shifted_table(const int8_t* table) {
  return _mm_xor_si128(load128(table), _mm_set1_epi8(static_cast<char>(0x80)));
}

void unpack_codebook32(const uint8_t* qs, __m128i table, uint8_t* u) {
  const __m128i q = load128(qs), low4 = _mm_set1_epi8(0x0f);
  store128(u, _mm_shuffle_epi8(table, _mm_and_si128(q, low4)));
  store128(u + 16, _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), low4)));
}

struct IQ4_NLUnpack {
  using Block = BlockIQ4NL;
  static constexpr int kValues = kIqBlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t) {
    unpack_codebook32(b.qs, shifted_table(kIq4nlValues), u);
    scale[0] = half_to_float(b.d);
  }
};

struct MXFP4Unpack {
  using Block = BlockMXFP4;
  static constexpr int kValues = kIqBlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t) {
    unpack_codebook32(b.qs, shifted_table(kMxfp4Values), u);
    scale[0] = e8m0_half_to_float(b.e);
  }
};

struct IQ4_XSUnpack {
  using Block = BlockIQ4XS;
  static constexpr int kValues = kIq4xsBlockElems;
  static void unpack(const Block& b, uint8_t* u, float* scale, float*, size_t stride) {
    const __m128i table = shifted_table(kIq4nlValues);
    const float d = half_to_float(b.d);
    for (int s = 0; s < kValues / kIqBlockElems; ++s) {
      unpack_codebook32(b.qs + 16 * s, table, u + kIqBlockElems * s);
      scale[static_cast<size_t>(s) * stride] = d * static_cast<float>(iq4xs_scale(b, s) - 32);
    }
  }
  // The integer-scale form (Q8GemmLayout::int_scale_block): the sub-block
  // scales as integers in [-32, 31] to iscale[s * stride], the block's float
  // scale returned.
  static float unpack_int(const Block& b, uint8_t* u, int32_t* iscale, size_t stride) {
    const __m128i table = shifted_table(kIq4nlValues);
    for (int s = 0; s < kValues / kIqBlockElems; ++s) {
      unpack_codebook32(b.qs + 16 * s, table, u + kIqBlockElems * s);
      iscale[static_cast<size_t>(s) * stride] = iq4xs_scale(b, s) - 32;
    }
    return half_to_float(b.d);
  }
};

}  // namespace
}  // namespace sieve::tensor
