#include "flash/transpose.h"

#include <cstring>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define SIEVE_TRANSPOSE_SSE2 1
#endif

namespace sieve::flash::detail {
namespace {

template <class T>
void transpose_scalar(const std::byte* first, size_t src_stride, int64_t c_begin, int64_t c_end, int64_t k_begin,
                      int64_t k_end, std::byte* dst, size_t dst_stride) {
  for (int64_t c = c_begin; c < c_end; ++c) {
    const std::byte* col = first + static_cast<size_t>(c) * src_stride;
    for (int64_t k = k_begin; k < k_end; ++k) {
      std::memcpy(dst + static_cast<size_t>(k) * dst_stride + static_cast<size_t>(c) * sizeof(T),
                  col + static_cast<size_t>(k) * sizeof(T), sizeof(T));
    }
  }
}

#ifdef SIEVE_TRANSPOSE_SSE2
constexpr int64_t kPrefetchColumns = 64;

// 8 columns x 8 rows of 16-bit values.
inline void tile_u16(const std::byte* src, size_t src_stride, std::byte* dst, size_t dst_stride) {
  __m128i a[8];
  for (int i = 0; i < 8; ++i) a[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * src_stride));
  __m128i b[8], c[8];
  for (int i = 0; i < 4; ++i) {
    b[2 * i] = _mm_unpacklo_epi16(a[2 * i], a[2 * i + 1]);
    b[2 * i + 1] = _mm_unpackhi_epi16(a[2 * i], a[2 * i + 1]);
  }
  c[0] = _mm_unpacklo_epi32(b[0], b[2]);
  c[1] = _mm_unpackhi_epi32(b[0], b[2]);
  c[2] = _mm_unpacklo_epi32(b[1], b[3]);
  c[3] = _mm_unpackhi_epi32(b[1], b[3]);
  c[4] = _mm_unpacklo_epi32(b[4], b[6]);
  c[5] = _mm_unpackhi_epi32(b[4], b[6]);
  c[6] = _mm_unpacklo_epi32(b[5], b[7]);
  c[7] = _mm_unpackhi_epi32(b[5], b[7]);
  for (int i = 0; i < 4; ++i) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (2 * i) * dst_stride), _mm_unpacklo_epi64(c[i], c[i + 4]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (2 * i + 1) * dst_stride), _mm_unpackhi_epi64(c[i], c[i + 4]));
  }
}

// 4 columns x 4 rows of 32-bit values.
inline void tile_u32(const std::byte* src, size_t src_stride, std::byte* dst, size_t dst_stride) {
  __m128i a[4];
  for (int i = 0; i < 4; ++i) a[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * src_stride));
  const __m128i b0 = _mm_unpacklo_epi32(a[0], a[1]), b1 = _mm_unpackhi_epi32(a[0], a[1]);
  const __m128i b2 = _mm_unpacklo_epi32(a[2], a[3]), b3 = _mm_unpackhi_epi32(a[2], a[3]);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi64(b0, b2));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + dst_stride), _mm_unpackhi_epi64(b0, b2));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * dst_stride), _mm_unpacklo_epi64(b1, b3));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 3 * dst_stride), _mm_unpackhi_epi64(b1, b3));
}

// Tiles of T x T values, then the ragged right and bottom edges scalar.
template <class T, int Tile, void (*TileFn)(const std::byte*, size_t, std::byte*, size_t)>
void transpose_tiled(const std::byte* first, size_t src_stride, int64_t n_cols, int64_t n_rows, std::byte* dst,
                     size_t dst_stride) {
  const int64_t cols = n_cols / Tile * Tile, rows = n_rows / Tile * Tile;
  const size_t col_bytes = static_cast<size_t>(n_rows) * sizeof(T);
  for (int64_t c = 0; c < cols; c += Tile) {
    const std::byte* src = first + static_cast<size_t>(c) * src_stride;
    // Columns sit src_stride apart (a bundle each), too far for the hardware
    // prefetcher: ask for the columns a few tiles ahead.
    if (c + kPrefetchColumns + Tile <= n_cols) {
      for (int i = 0; i < Tile; ++i) {
        const std::byte* ahead = src + (kPrefetchColumns + i) * src_stride;
        for (size_t off = 0; off < col_bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + off), _MM_HINT_T0);
      }
    }
    std::byte* out = dst + static_cast<size_t>(c) * sizeof(T);
    for (int64_t k = 0; k < rows; k += Tile) {
      TileFn(src + static_cast<size_t>(k) * sizeof(T), src_stride, out + static_cast<size_t>(k) * dst_stride, dst_stride);
    }
  }
  transpose_scalar<T>(first, src_stride, 0, cols, rows, n_rows, dst, dst_stride);
  transpose_scalar<T>(first, src_stride, cols, n_cols, 0, n_rows, dst, dst_stride);
}
#endif

}  // namespace

void transpose_u16(const std::byte* first, size_t src_stride, int64_t n_cols, int64_t n_rows, std::byte* dst,
                   size_t dst_stride) {
#ifdef SIEVE_TRANSPOSE_SSE2
  transpose_tiled<uint16_t, 8, tile_u16>(first, src_stride, n_cols, n_rows, dst, dst_stride);
#else
  transpose_scalar<uint16_t>(first, src_stride, 0, n_cols, 0, n_rows, dst, dst_stride);
#endif
}

void transpose_u32(const std::byte* first, size_t src_stride, int64_t n_cols, int64_t n_rows, std::byte* dst,
                   size_t dst_stride) {
#ifdef SIEVE_TRANSPOSE_SSE2
  transpose_tiled<uint32_t, 4, tile_u32>(first, src_stride, n_cols, n_rows, dst, dst_stride);
#else
  transpose_scalar<uint32_t>(first, src_stride, 0, n_cols, 0, n_rows, dst, dst_stride);
#endif
}

}  // namespace sieve::flash::detail
