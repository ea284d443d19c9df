#pragma once
// What one register block of the int8 prefill GEMM (gemm_q8.h) reads: G packed
// row groups and V prepared activation vectors of a Q8GemmTask. Shared by
// x86/gemm_q8_avx2.cpp and x86/gemm_q8_avx512.cpp; no intrinsics, and in an
// anonymous namespace like x86/q8_unpack.h, since the two files are compiled
// with different -m flags.

#include <cstddef>
#include <cstdint>

#include "tensor/gemm_q8.h"

namespace sieve::tensor {
namespace {

template <int G, int V>
struct BlockInputs {
  const uint8_t* w[G];    // group group0 + g's packed bytes
  const int8_t* x[V];     // vector v0 + v's int8 values
  const Q8Meta* meta[V];  // and its sub-blocks' scales and sums

  BlockInputs(const Q8GemmTask& t, int64_t group0, int64_t v0) {
    for (int g = 0; g < G; ++g) {
      w[g] = reinterpret_cast<const uint8_t*>(t.groups) + static_cast<size_t>(group0 + g) * t.group_bytes;
    }
    for (int v = 0; v < V; ++v) {
      x[v] = t.x + static_cast<size_t>(v0 + v) * t.x_stride;
      meta[v] = t.meta + static_cast<size_t>(v0 + v) * t.meta_stride;
    }
  }
};

}  // namespace
}  // namespace sieve::tensor
