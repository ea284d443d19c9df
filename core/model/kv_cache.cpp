#include "model/kv_cache.h"

#include "tensor/fp16.h"

namespace sieve::model {

KvCache::KvCache(int64_t n_layers, int64_t context, int64_t kv_dim)
    : n_layers_(n_layers),
      context_(context),
      kv_dim_(kv_dim),
      // Default-initialised (new T[n], no braces): pages stay untouched until written.
      keys_(new uint16_t[static_cast<size_t>(n_layers * context * kv_dim)]),
      values_(new uint16_t[static_cast<size_t>(n_layers * context * kv_dim)]) {}

void KvCache::store_keys(int64_t layer, int64_t pos, int64_t n, const float* keys) {
  uint16_t* out = keys_.get() + (layer * context_ + pos) * kv_dim_;
  for (int64_t i = 0; i < n * kv_dim_; ++i) out[i] = tensor::fp32_to_fp16(keys[i]);
}

void KvCache::store_values(int64_t layer, int64_t pos, int64_t n, const float* values) {
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t i = 0; i < kv_dim_; ++i) {
      values_[static_cast<size_t>((layer * kv_dim_ + i) * context_ + pos + t)] =
          tensor::fp32_to_fp16(values[t * kv_dim_ + i]);
    }
  }
}

}  // namespace sieve::model
