#include "model/feed_forward.h"

#include "tensor/ops.h"

namespace sieve::model {

void apply_gated_activation(const HyperParams& hp, float* gate, const float* up, int64_t n) {
  switch (hp.ffn_activation) {
    case FfnActivation::Silu: tensor::silu_mul(gate, up, n); return;
    case FfnActivation::Gelu: tensor::gelu_mul(gate, up, n); return;
    case FfnActivation::Relu: tensor::relu_mul(gate, up, n); return;
    case FfnActivation::FatRelu: tensor::fatrelu_mul(gate, up, n, hp.ffn_relu_threshold); return;
    case FfnActivation::ShiftedRelu: tensor::shifted_relu_mul(gate, up, n, hp.ffn_relu_shift); return;
    case FfnActivation::SwigluOai: tensor::swiglu_oai_mul(gate, up, n); return;
  }
}

DenseFeedForward::DenseFeedForward(const HyperParams& hp, const ModelWeights& weights, ThreadPool& pool,
                                   int max_batch)
    : hp_(hp),
      weights_(weights),
      pool_(pool),
      max_batch_(max_batch),
      gate_(static_cast<size_t>(max_batch * hp.n_ff)),
      up_(static_cast<size_t>(max_batch * hp.n_ff)) {}

void DenseFeedForward::forward(int layer, int64_t, const float* x, float* y) {
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  tensor::matvec(w.ffn_gate, x, gate_.data(), pool_, scratch_);
  tensor::matvec(w.ffn_up, x, up_.data(), pool_, scratch_);
  if (observer_ != nullptr) observe_gate(layer, 1);
  apply_gated_activation(hp_, gate_.data(), up_.data(), hp_.n_ff);
  tensor::matvec(w.ffn_down, gate_.data(), y, pool_, scratch_);
}

void DenseFeedForward::forward_batch(int layer, int64_t pos, const float* x, int n_tokens, float* y) {
  if (n_tokens == 1) return forward(layer, pos, x, y);
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  tensor::matmat(w.ffn_gate, x, n_tokens, gate_.data(), pool_, scratch_);
  tensor::matmat(w.ffn_up, x, n_tokens, up_.data(), pool_, scratch_);
  if (observer_ != nullptr) observe_gate(layer, n_tokens);
  // Across the threads by token: on one thread this was ~2% of a prefill
  // that the other threads spent waiting.
  const int64_t n_ff = hp_.n_ff;
  pool_.parallel_for(n_tokens, [this, n_ff](int64_t begin, int64_t end) {
    apply_gated_activation(hp_, gate_.data() + begin * n_ff, up_.data() + begin * n_ff, (end - begin) * n_ff);
  });
  tensor::matmat(w.ffn_down, gate_.data(), n_tokens, y, pool_, scratch_);
}

void DenseFeedForward::set_observer(ActivationObserver* observer) {
  observer_ = observer;
  observed_gate_.resize(observer != nullptr ? gate_.size() : 0);
}

void DenseFeedForward::observe_gate(int layer, int n_tokens) {
  const int64_t n = n_tokens * hp_.n_ff;
  gate_activation(hp_, gate_.data(), observed_gate_.data(), n);
  observer_->observe(ActivationSite::FfnGate, layer, observed_gate_.data(), n_tokens, hp_.n_ff);
}

}  // namespace sieve::model
