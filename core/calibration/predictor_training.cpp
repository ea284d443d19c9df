#include "calibration/predictor_training.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "flash/bundle_layout.h"
#include "flash/pack_file.h"
#include "flash/pack_format.h"
#include "model/weights.h"
#include "sparse/svd.h"
#include "tensor/kernels.h"
#include "util/error.h"

namespace sieve::sparse {
namespace {

using Matrix = std::vector<float>;

Matrix transpose(const Matrix& m, int64_t rows, int64_t cols) {
  Matrix t(m.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) t[static_cast<size_t>(c * rows + r)] = m[static_cast<size_t>(r * cols + c)];
  }
  return t;
}

double rms(const Matrix& m) {
  double s = 0;
  for (float v : m) s += static_cast<double>(v) * v;
  return m.empty() ? 0.0 : std::sqrt(s / static_cast<double>(m.size()));
}

LowRankLayer to_layer(const LowRank& lr) {
  LowRankLayer l;
  l.rank = lr.rank;
  l.a = lr.a;
  l.b = lr.b;
  return l;
}

// The SVD predictor's margin per unit of |x|: kSvdMarginSigmas times the
// spread of the residual (G - B A) x for an x of random direction, i.e. the
// rows' RMS residual norm over sqrt(dim).
float svd_margin(const LowRank& lr, const std::vector<float>& g, const model::HyperParams& hp) {
  double residual = 0;  // mean over rows of |G_i|^2 - |B_i|^2 (A has orthonormal rows)
  for (int64_t i = 0; i < hp.n_ff; ++i) {
    double row = 0, kept = 0;
    for (int64_t j = 0; j < hp.dim; ++j) row += static_cast<double>(g[static_cast<size_t>(i * hp.dim + j)]) * g[static_cast<size_t>(i * hp.dim + j)];
    for (int64_t r = 0; r < lr.rank; ++r) kept += static_cast<double>(lr.b[static_cast<size_t>(i * lr.rank + r)]) * lr.b[static_cast<size_t>(i * lr.rank + r)];
    residual += std::max(0.0, row - kept);
  }
  const double sigma = std::sqrt(residual / static_cast<double>(hp.n_ff) / static_cast<double>(hp.dim));
  return static_cast<float>(kSvdMarginSigmas * sigma);
}

const float* inputs_of(const ActivationRecorder& rec, int64_t layer, int64_t t0) {
  return rec.layer(static_cast<int>(layer)).inputs.data() + static_cast<size_t>(t0 * rec.hparams().dim);
}
const uint8_t* fired_of(const ActivationRecorder& rec, int64_t layer, int64_t t0) {
  return rec.layer(static_cast<int>(layer)).fired.data() + static_cast<size_t>(t0 * rec.hparams().n_ff);
}

// Full-batch Adam on the weighted logistic loss; updates p.a and p.b in place.
class Trainer {
 public:
  Trainer(const ActivationRecorder& rec, int64_t layer, int64_t t1, ThreadPool& pool)
      : rec_(rec), layer_(layer), n_(t1), dim_(rec.hparams().dim), n_ff_(rec.hparams().n_ff), pool_(pool) {
    uint64_t fired = 0;
    const uint8_t* y = fired_of(rec_, layer_, 0);
    for (int64_t i = 0; i < n_ * n_ff_; ++i) fired += y[i];
    const double p = std::clamp(static_cast<double>(fired) / static_cast<double>(std::max<int64_t>(1, n_ * n_ff_)), 1e-4, 1 - 1e-4);
    w_pos_ = 0.5 / p;
    w_neg_ = 0.5 / (1 - p);
  }

  void run(LowRankLayer& p, const TrainingOptions& options) {
    const int64_t r = p.rank;
    const float t0 = activation_threshold(rec_.hparams());
    Matrix st = scores(p);
    tau_ = std::max(1e-6, rms_deviation(st));
    const double lr_a = options.learning_rate * std::max(rms(p.a), 1e-8);
    const double lr_b = options.learning_rate * std::max(rms(p.b), 1e-8);
    Matrix ma(p.a.size()), va(p.a.size()), mb(p.b.size()), vb(p.b.size());
    Matrix g(static_cast<size_t>(n_ff_ * n_)), da(p.a.size()), db(p.b.size()), dht(static_cast<size_t>(r * n_));
    for (int step = 1; step <= options.steps; ++step) {
      st = scores(p);
      loss_gradient(st, t0, g);
      combine_rows(h_.data(), n_, r, g.data(), n_ff_, db.data(), pool_);
      const Matrix bt = transpose(p.b, n_ff_, r);
      combine_rows(g.data(), n_ff_, n_, bt.data(), r, dht.data(), pool_);
      combine_rows(inputs_of(rec_, layer_, 0), n_, dim_, dht.data(), r, da.data(), pool_);
      adam(p.a, da, ma, va, lr_a, step);
      adam(p.b, db, mb, vb, lr_b, step);
    }
  }

 private:
  // n_ff x n scores; keeps H (n x rank) for the gradient.
  Matrix scores(const LowRankLayer& p) {
    Matrix ht(static_cast<size_t>(p.rank * n_));
    project_rows(inputs_of(rec_, layer_, 0), n_, dim_, p.a.data(), p.rank, ht.data(), pool_);
    h_ = transpose(ht, p.rank, n_);
    Matrix st(static_cast<size_t>(n_ff_ * n_));
    project_rows(h_.data(), n_, p.rank, p.b.data(), n_ff_, st.data(), pool_);
    return st;
  }

  static double rms_deviation(const Matrix& m) {
    double mean = 0;
    for (float v : m) mean += v;
    mean /= static_cast<double>(std::max<size_t>(1, m.size()));
    double s = 0;
    for (float v : m) s += (v - mean) * (v - mean);
    return std::sqrt(s / static_cast<double>(std::max<size_t>(1, m.size())));
  }

  void loss_gradient(const Matrix& st, float t0, Matrix& g) const {
    const uint8_t* y = fired_of(rec_, layer_, 0);
    const double scale = 1.0 / (tau_ * static_cast<double>(n_ * n_ff_));
    for (int64_t j = 0; j < n_ff_; ++j) {
      for (int64_t t = 0; t < n_; ++t) {
        const size_t at = static_cast<size_t>(j * n_ + t);
        const double z = (st[at] - t0) / tau_;
        const double sig = 1.0 / (1.0 + std::exp(-z));
        const bool fired = y[static_cast<size_t>(t * n_ff_ + j)] != 0;
        g[at] = static_cast<float>((fired ? w_pos_ * (sig - 1.0) : w_neg_ * sig) * scale);
      }
    }
  }

  static void adam(Matrix& w, const Matrix& grad, Matrix& m, Matrix& v, double lr, int step) {
    constexpr double b1 = 0.9, b2 = 0.999, eps = 1e-12;
    const double c1 = 1 - std::pow(b1, step), c2 = 1 - std::pow(b2, step);
    for (size_t i = 0; i < w.size(); ++i) {
      m[i] = static_cast<float>(b1 * m[i] + (1 - b1) * grad[i]);
      v[i] = static_cast<float>(b2 * v[i] + (1 - b2) * static_cast<double>(grad[i]) * grad[i]);
      w[i] -= static_cast<float>(lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps));
    }
  }

  const ActivationRecorder& rec_;
  int64_t layer_, n_, dim_, n_ff_;
  ThreadPool& pool_;
  double w_pos_ = 1, w_neg_ = 1, tau_ = 1;
  Matrix h_;
};

LowRankLayer truncated(const LowRank& svd, int64_t r) {
  LowRank copy = svd;
  truncate(copy, r);
  return to_layer(copy);
}

}  // namespace

bool is_relu_family(const model::HyperParams& hp) { return model::exact_zeros(hp.ffn_activation); }

float activation_threshold(const model::HyperParams& hp) {
  switch (hp.ffn_activation) {
    case model::FfnActivation::FatRelu: return hp.ffn_relu_threshold;
    case model::FfnActivation::ShiftedRelu: return hp.ffn_relu_shift;
    default: return 0.0f;
  }
}

int64_t max_rank(const model::HyperParams& hp, uint64_t layer_ffn_bytes, const RankChoice& choice) {
  const int64_t width = std::min(hp.dim, hp.n_ff);
  uint64_t cap = choice.max_layer_bytes;
  if (cap == 0) {
    if (hp.dim < 256) return std::max<int64_t>(1, width / 2);
    cap = layer_ffn_bytes / 10;
  }
  return std::clamp<int64_t>(static_cast<int64_t>(cap / std::max<uint64_t>(1, lowrank_layer_bytes(hp, 1))), 1, width);
}

std::vector<float> gate_rows(const gguf::GgufFile& file, const model::HyperParams& hp, int64_t layer) {
  std::vector<float> out(static_cast<size_t>(hp.n_ff * hp.dim));
  const auto dequantize = [&](tensor::TensorType type, const std::byte* rows, size_t row_bytes) {
    const tensor::TypeKernels& k = tensor::kernels()[type];
    if (k.dequantize == nullptr) throw Error(file.path().filename().string() + ": cannot read gate rows of this type.");
    for (int64_t i = 0; i < hp.n_ff; ++i) {
      k.dequantize(rows + static_cast<size_t>(i) * row_bytes, out.data() + i * hp.dim, hp.dim);
    }
  };
  if (!flash::PackFile::is_pack(file)) {
    const gguf::TensorInfo* t = model::find_ffn_tensors(file, hp, layer).gate;
    dequantize(t->type, file.tensor_data(*t).data(), static_cast<size_t>(tensor::bytes_for(t->type, static_cast<uint64_t>(hp.dim))));
    return out;
  }
  const flash::PackFile pack = flash::PackFile::over(file);
  const flash::BundleLayout& layout = pack.layout(layer);
  const std::byte* bundles = file.tensor_data(pack.bundles(layer)).data();
  std::vector<std::byte> rows(static_cast<size_t>(layout.gate_bytes()));
  const size_t cluster_bytes = static_cast<size_t>(layout.cluster) * layout.gate_row_bytes;
  for (int64_t c = 0; c < layout.n_clusters; ++c) {
    std::memcpy(rows.data() + static_cast<size_t>(c) * cluster_bytes, bundles + static_cast<size_t>(c) * layout.bundle_bytes,
                cluster_bytes);
  }
  dequantize(layout.gate_type, rows.data(), layout.gate_row_bytes);
  return out;
}

PredictorSet build_svd_predictors(const gguf::GgufFile& file, const model::HyperParams& hp, const RankChoice& choice,
                                  ThreadPool& pool, SvdReport& report, const std::function<void(int64_t)>& progress) {
  PredictorSet set;
  set.kind = "svd";
  const tensor::TensorType storage = predictor_storage_type(hp);
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    const std::vector<float> g = gate_rows(file, hp, l);
    const uint64_t layer_bytes = static_cast<uint64_t>(hp.n_ff * hp.dim) * 2 * 3;  // F16-equivalent FFN bytes
    const int64_t cap = max_rank(hp, layer_bytes, choice);
    const int64_t rank = choice.fixed > 0 ? std::min(choice.fixed, std::min(hp.dim, hp.n_ff)) : cap;
    if (choice.fixed == 0 && cap > 2 * kSvdProbeRank) {
      // Singular values are sorted, so rank `cap` captures at most cap / probe
      // times what the first kSvdProbeRank do: a cheap early exit for flat spectra.
      const LowRank probe = low_rank_approximation(g.data(), hp.n_ff, hp.dim, kSvdProbeRank, pool, {.power_iterations = 1});
      const double bound = probe.captured(kSvdProbeRank) * static_cast<double>(cap) / kSvdProbeRank;
      if (bound < kSvdMinEnergy) {
        report.skipped = true;
        report.note = "layer " + std::to_string(l) + ": rank " + std::to_string(kSvdProbeRank) + " captures only " +
                      std::to_string(static_cast<int>(100 * probe.captured(kSvdProbeRank))) +
                      "% of the gate's energy, so the cap of rank " + std::to_string(cap) + " would capture at most " +
                      std::to_string(static_cast<int>(100 * bound)) + "% (a flat spectrum); no SVD predictors added";
        set.layers.clear();
        return set;
      }
    }
    LowRank lr = low_rank_approximation(g.data(), hp.n_ff, hp.dim, rank, pool);
    if (choice.fixed == 0) {
      if (lr.captured(lr.rank) < kSvdMinEnergy) {
        report.skipped = true;
        report.note = "layer " + std::to_string(l) + ": rank " + std::to_string(lr.rank) + " captures only " +
                      std::to_string(static_cast<int>(100 * lr.captured(lr.rank))) +
                      "% of the gate's energy (a flat spectrum); no SVD predictors added";
        set.layers.clear();
        return set;
      }
      int64_t r = 1;
      while (r < lr.rank && lr.captured(r) < kSvdAutoEnergy) ++r;
      truncate(lr, r);
    }
    LowRankLayer layer = to_layer(lr);
    round_to_storage(layer, storage);
    layer.threshold = activation_threshold(hp);
    layer.margin = svd_margin(lr, g, hp);
    report.ranks.push_back(lr.rank);
    report.captured.push_back(lr.captured(lr.rank));
    set.layers.push_back(std::move(layer));
    if (progress) progress(l);
  }
  return set;
}

Split split_tokens(int64_t n) { return {n * 70 / 100, n * 85 / 100, n}; }

std::vector<float> layer_scores(const LowRankLayer& p, const ActivationRecorder& rec, int64_t layer, int64_t t0,
                                int64_t t1, ThreadPool& pool) {
  const model::HyperParams& hp = rec.hparams();
  const int64_t n = t1 - t0;
  Matrix ht(static_cast<size_t>(p.rank * n));
  project_rows(inputs_of(rec, layer, t0), n, hp.dim, p.a.data(), p.rank, ht.data(), pool);
  const Matrix h = transpose(ht, p.rank, n);
  Matrix st(static_cast<size_t>(hp.n_ff * n));
  project_rows(h.data(), n, p.rank, p.b.data(), hp.n_ff, st.data(), pool);
  return st;
}

double recall_target_with_margin(double recall, size_t positives) {
  if (positives == 0 || recall >= 1.0) return std::min(recall, 1.0);
  const double standard_error = std::sqrt(recall * (1.0 - recall) / static_cast<double>(positives));
  return std::min(1.0, recall + kRecallMarginSigmas * standard_error);
}

float threshold_for_recall(const std::vector<float>& st, const ActivationRecorder& rec, int64_t layer, int64_t t0,
                           int64_t t1, double recall) {
  const int64_t n = t1 - t0, n_ff = rec.hparams().n_ff;
  const uint8_t* y = fired_of(rec, layer, t0);
  std::vector<float> positives;
  for (int64_t j = 0; j < n_ff; ++j) {
    for (int64_t t = 0; t < n; ++t) {
      if (y[t * n_ff + j]) positives.push_back(st[static_cast<size_t>(j * n + t)]);
    }
  }
  if (positives.empty()) return std::numeric_limits<float>::max() / 4;  // nothing fired: predict nothing
  const double target = recall_target_with_margin(recall, positives.size());
  const auto k = static_cast<size_t>(std::floor((1.0 - target) * static_cast<double>(positives.size())));
  std::nth_element(positives.begin(), positives.begin() + static_cast<std::ptrdiff_t>(k), positives.end());
  return std::nextafter(positives[k], -std::numeric_limits<float>::infinity());
}

std::vector<std::vector<float>> thresholds_for_recalls(const PredictorSet& set, const ActivationRecorder& rec,
                                                       std::span<const double> recalls, ThreadPool& pool) {
  const Split split = split_tokens(rec.recorded_tokens());
  std::vector<std::vector<float>> out(recalls.size());
  for (size_t l = 0; l < set.layers.size(); ++l) {
    const auto layer = static_cast<int64_t>(l);
    const std::vector<float> st = layer_scores(set.layers[l], rec, layer, split.train_end, split.threshold_end, pool);
    for (size_t i = 0; i < recalls.size(); ++i) {
      out[i].push_back(threshold_for_recall(st, rec, layer, split.train_end, split.threshold_end, recalls[i]));
    }
  }
  return out;
}

Metrics measure(const std::vector<float>& st, float threshold, const ActivationRecorder& rec, int64_t layer, int64_t t0,
                int64_t t1) {
  const int64_t n = t1 - t0, n_ff = rec.hparams().n_ff;
  const uint8_t* y = fired_of(rec, layer, t0);
  uint64_t tp = 0, fp = 0, fn = 0;
  for (int64_t j = 0; j < n_ff; ++j) {
    for (int64_t t = 0; t < n; ++t) {
      const bool predicted = st[static_cast<size_t>(j * n + t)] > threshold;
      const bool fired = y[t * n_ff + j] != 0;
      tp += predicted && fired;
      fp += predicted && !fired;
      fn += !predicted && fired;
    }
  }
  Metrics m;
  const double total = static_cast<double>(std::max<int64_t>(1, n * n_ff));
  m.recall = tp + fn > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 1.0;
  m.precision = tp + fp > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 1.0;
  m.predicted_fraction = static_cast<double>(tp + fp) / total;
  m.true_fraction = static_cast<double>(tp + fn) / total;
  m.tokens = static_cast<uint64_t>(n);
  return m;
}

Metrics measure_predictor(Predictor& predictor, const ActivationRecorder& rec, int64_t layer, int64_t t0, int64_t t1) {
  const model::HyperParams& hp = rec.hparams();
  std::vector<int32_t> active;
  active.reserve(static_cast<size_t>(hp.n_ff));
  uint64_t tp = 0, predicted = 0, fired = 0;
  for (int64_t t = t0; t < t1; ++t) {
    predictor.predict(static_cast<int>(layer), inputs_of(rec, layer, t), active);
    const uint8_t* y = fired_of(rec, layer, t);
    for (int32_t i : active) tp += y[i];
    predicted += active.size();
    for (int64_t j = 0; j < hp.n_ff; ++j) fired += y[j];
  }
  Metrics m;
  const double total = static_cast<double>(std::max<int64_t>(1, (t1 - t0) * hp.n_ff));
  m.recall = fired > 0 ? static_cast<double>(tp) / static_cast<double>(fired) : 1.0;
  m.precision = predicted > 0 ? static_cast<double>(tp) / static_cast<double>(predicted) : 1.0;
  m.predicted_fraction = static_cast<double>(predicted) / total;
  m.true_fraction = static_cast<double>(fired) / total;
  m.tokens = static_cast<uint64_t>(t1 - t0);
  return m;
}

LayerResult train_layer(const ActivationRecorder& rec, const std::vector<float>& gate, int64_t layer,
                        const TrainingOptions& options, ThreadPool& pool) {
  const model::HyperParams& hp = rec.hparams();
  const Split split = split_tokens(rec.recorded_tokens());
  if (split.train_end < 8 || split.threshold_end - split.train_end < 2 || split.total - split.threshold_end < 2) {
    throw Error("calibration: only " + std::to_string(split.total) +
                " tokens were recorded; at least 64 are needed to train and check predictors.");
  }
  const uint64_t layer_bytes = static_cast<uint64_t>(hp.n_ff * hp.dim) * 2 * 3;
  const int64_t cap = max_rank(hp, layer_bytes, options.rank);
  std::vector<int64_t> candidates;
  if (options.rank.fixed > 0) {
    candidates.push_back(std::min(options.rank.fixed, std::min(hp.dim, hp.n_ff)));
  } else {
    for (int64_t r = 4; r < cap; r *= 2) candidates.push_back(r);
    candidates.push_back(cap);
  }
  const LowRank svd = low_rank_approximation(gate.data(), hp.n_ff, hp.dim, candidates.back(), pool);
  const tensor::TensorType storage = predictor_storage_type(hp);

  LayerResult best;
  double best_fraction = 2;
  int without_gain = 0;  // ranks in a row that did not cut the predicted fraction by 10%
  for (int64_t r : candidates) {
    LowRankLayer p = truncated(svd, r);
    Trainer(rec, layer, split.train_end, pool).run(p, options);
    round_to_storage(p, storage);
    const std::vector<float> st = layer_scores(p, rec, layer, split.train_end, split.threshold_end, pool);
    p.threshold = threshold_for_recall(st, rec, layer, split.train_end, split.threshold_end, options.recall);
    const double fraction = measure(st, p.threshold, rec, layer, split.train_end, split.threshold_end).predicted_fraction;
    if (fraction < best_fraction / 1.1 || best.predictor.rank == 0) {
      best.predictor = std::move(p);
      best_fraction = fraction;
      without_gain = 0;
    } else if (++without_gain == 2) {
      break;  // doubling the rank twice no longer pays
    }
  }
  const std::vector<float> st = layer_scores(best.predictor, rec, layer, split.threshold_end, split.total, pool);
  best.held_out = measure(st, best.predictor.threshold, rec, layer, split.threshold_end, split.total);
  LowRankLayer start = truncated(svd, best.predictor.rank);
  round_to_storage(start, storage);
  const std::vector<float> st0 = layer_scores(start, rec, layer, split.train_end, split.threshold_end, pool);
  start.threshold = threshold_for_recall(st0, rec, layer, split.train_end, split.threshold_end, options.recall);
  best.svd_held_out = measure(layer_scores(start, rec, layer, split.threshold_end, split.total, pool), start.threshold, rec,
                              layer, split.threshold_end, split.total);
  best.bytes = lowrank_layer_bytes(hp, best.predictor.rank);
  return best;
}

}  // namespace sieve::sparse
