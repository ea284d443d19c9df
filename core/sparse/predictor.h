#pragma once
// Which feed-forward neurons a token will need, guessed from the layer's
// input before any FFN weight is read (docs/sparsity.md).
//
//   std::vector<int32_t> active;
//   predictor.predict(layer, x, active);   // ascending neuron ids
//   predictor.predict_rows(layer, x, 0, 1024, active);   // or in row ranges (splits_rows())
//
// Kinds (PredictorKind):
//   gate       the gate matrix kept in DRAM (in its own type: exact; or a
//              smaller copy, e.g. Q8_0/Q4_0, with a safety margin): the gate
//              is computed and neurons whose |act(gate)| passes the layer's
//              threshold are active. With the exact gate and threshold 0 on a
//              ReLU-family model this is the oracle: exactly the non-zero
//              neurons. Also reports the gate values it computed, so the FFN
//              need not read the gate rows again (exact copy only).
//   lowrank    score = B (A x) with A [rank x dim], B [n_ff x rank] stored in
//              the pack; active when score > the layer's threshold. Made by
//              SVD of the gate/up rows (training-free, `sieve pack`) or
//              trained on recorded activations (`sieve calibrate`).
//   powerinfer the same two-matrix form read from a GGUF that carries
//              PowerInfer-style predictor tensors (names in docs/sparsity.md).
//
// A predictor is used from the thread running the forward pass; predict()
// may use the thread pool it was built with. No allocation per call.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sieve::sparse {

enum class PredictorKind { none, gate, lowrank, powerinfer };
const char* to_string(PredictorKind kind);
// "none", "gate", "lowrank", "powerinfer"; nullopt otherwise.
std::optional<PredictorKind> parse_predictor_kind(std::string_view text);

class Predictor {
 public:
  virtual ~Predictor() = default;

  // Appends to `active` (cleared first) the ids of the neurons of `layer`
  // predicted to be needed for the token whose normalised FFN input is x
  // (dim floats), ascending.
  virtual void predict(int layer, const float* x, std::vector<int32_t>& active) = 0;

  // The same work in row ranges, so that a layer's reads can start before
  // its whole prediction is done (SparseFeedForward): appends to `active`
  // (not cleared) the predicted neurons among rows [begin, end), ascending.
  // One layer's calls for a token cover the rows in order, from 0 to n_ff;
  // exact_gate() then holds the values of the rows done so far. Only for
  // predictors whose splits_rows() is true (the default refuses).
  virtual bool splits_rows() const { return false; }
  virtual void predict_rows(int layer, const float* x, int64_t begin, int64_t end, std::vector<int32_t>& active);

  // When the predictor computed the exact pre-activation gate values of the
  // last predict() call for `layer` (gate kind with the exact copy): n_ff
  // floats, valid until the next predict(). Empty otherwise.
  virtual std::span<const float> exact_gate(int layer) const { (void)layer; return {}; }

  // Bytes the predictor keeps in DRAM (for the budget).
  virtual uint64_t resident_bytes() const = 0;
  virtual PredictorKind kind() const = 0;
  // One line for people: "lowrank (trained), rank 32-96, 4.1 MiB".
  virtual std::string describe() const = 0;
};

}  // namespace sieve::sparse
