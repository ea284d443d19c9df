#pragma once
// Keys and values of every layer for positions [0, context), stored as
// IEEE half precision — half the memory of float, and the same rounding as
// the reference engine's default cache, so logits agree with it closely.
//
// Keys are position-major (one row of kv_dim per position), so a key row is
// one contiguous dot-product operand. Values are stored transposed (one row
// of `context` positions per value dimension), so each output value of
// attention is also one contiguous dot product over the positions. The
// memory is reserved once at construction and left untouched (so not
// resident) until positions are written.
//
// When all `context` positions are used the cache is full: the engine refuses
// further tokens ("context full") and the caller decides what to drop and
// re-run (see docs/inference.md).

#include <cstdint>
#include <memory>

namespace sieve::model {

class KvCache {
 public:
  KvCache(int64_t n_layers, int64_t context, int64_t kv_dim);

  int64_t context() const { return context_; }
  int64_t kv_dim() const { return kv_dim_; }
  uint64_t bytes() const { return static_cast<uint64_t>(2 * n_layers_ * context_ * kv_dim_) * sizeof(uint16_t); }

  // Rounds and stores n consecutive positions' keys / values, kv_dim floats
  // each, starting at position `pos`.
  void store_keys(int64_t layer, int64_t pos, int64_t n, const float* keys);
  void store_values(int64_t layer, int64_t pos, int64_t n, const float* values);

  // The key row of a position: kv_dim halves.
  const uint16_t* key(int64_t layer, int64_t pos) const { return keys_.get() + (layer * context_ + pos) * kv_dim_; }
  // The row of value dimension `i` over all positions: context halves.
  const uint16_t* value_row(int64_t layer, int64_t i) const {
    return values_.get() + (layer * kv_dim_ + i) * context_;
  }

 private:
  int64_t n_layers_;
  int64_t context_;
  int64_t kv_dim_;
  std::unique_ptr<uint16_t[]> keys_;    // [layer][pos][kv_dim]
  std::unique_ptr<uint16_t[]> values_;  // [layer][kv_dim][pos]
};

}  // namespace sieve::model
