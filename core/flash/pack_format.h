#pragma once
// Names and constants of the Sieve pack format (`sieve pack`), shared by the
// writer and the reader. A pack is a GGUF v3 file, so the ordinary GGUF
// reader validates its structure:
//
//   metadata    every key of the source model (architecture, hyper-parameters,
//               tokenizer, chat template), general.alignment = 4096, and the
//               sieve.pack.* keys below
//   tensors     the resident section first: every tensor of the source except
//               the FFN projections, unchanged and under the same names; then
//               one `blk.L.ffn_bundles` tensor per layer (type I8, dims
//               [bundle_bytes, n_clusters], see bundle_layout.h); optionally
//               one `blk.L.ffn_units` tensor per layer (per-neuron units,
//               type I8, dims [unit_bytes, n_ff], see neuron_units.h) when
//               sieve.pack.neuron_units is set; optionally predictor tensors
//               (below), which are neither resident nor FFN
//
// Optional activation-sparsity predictors (docs/sparsity.md, `sieve pack`
// for SVD ones, `sieve calibrate` for trained ones and the calibration):
//   blk.L.ffn_pred_a   F16/F32 dims [dim, rank]: rank rows of dim values (A)
//   blk.L.ffn_pred_b   F16/F32 dims [rank, n_ff]: n_ff rows of rank values (B)
//                      neuron i of layer L is predicted active when
//                      (B (A x))_i > sieve.pred.thresholds[L]
//                      - sieve.pred.margins[L] * |x| (margins optional, 0)
//   blk.L.fc1.weight   PowerInfer's predictor MLP, [dim, hidden], any type
//   blk.L.fc2.weight   [hidden, n_ff]: active when (fc2 relu(fc1 x))_i >=
//                      powerinfer.sparse_threshold (0 when absent)
//
// Every tensor starts on a 4096-byte boundary, so each can be read with
// direct I/O straight into an aligned buffer.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sieve::flash {

inline constexpr uint32_t kPackVersion = 1;
inline constexpr uint32_t kPackAlignment = 4096;

namespace pack_keys {
inline constexpr const char* kVersion = "sieve.pack.version";          // u32, kPackVersion
inline constexpr const char* kSource = "sieve.pack.source";            // string: the source file's name
inline constexpr const char* kSourceSize = "sieve.pack.source_size";   // u64: its size in bytes
inline constexpr const char* kLayerTypes = "sieve.pack.layer_types";   // i32[3 * n_layers]: gate, up, down type ids
inline constexpr const char* kBundleAlignment = "sieve.pack.bundle_alignment";  // u32
inline constexpr const char* kChecksumAlgorithm = "sieve.pack.checksum";        // string, "xxh64"
inline constexpr const char* kChecksums = "sieve.pack.checksums";      // u64[n_tensors], in tensor-table order
// Optional u32: the type id of the down columns of the per-neuron units
// (neuron_units.h); present exactly when every layer has blk.L.ffn_units.
inline constexpr const char* kNeuronUnits = "sieve.pack.neuron_units";
// u32 beside it: the units' layout; 2 = up row and down column in whole
// pages (neuron_units.h). Units of the first layout (gate, up and down rows
// packed to 64 bytes) are refused: re-create the pack.
inline constexpr const char* kNeuronUnitLayout = "sieve.pack.neuron_unit_layout";
inline constexpr uint32_t kNeuronUnitLayoutUpDown = 2;
}  // namespace pack_keys

// Predictor metadata (all optional; validated by PackFile when present).
namespace pred_keys {
inline constexpr const char* kKind = "sieve.pred.kind";              // string: "svd" or "trained"
inline constexpr const char* kRanks = "sieve.pred.ranks";            // i32[n_layers]
inline constexpr const char* kThresholds = "sieve.pred.thresholds";  // f32[n_layers]
// Optional f32[n_layers] (SVD predictors): the threshold is lowered by
// margin * |x| for each token (a safety margin that scales with the input).
inline constexpr const char* kMargins = "sieve.pred.margins";
// f32[n_layers * 101]: percentile p (0..100) of |act(gate)| per layer over
// the calibration tokens.
inline constexpr const char* kGateQuantiles = "sieve.pred.gate_quantiles";
inline constexpr int kQuantileCount = 101;
// f32[n_layers * n_ff]: fraction of calibration tokens each neuron fired for.
inline constexpr const char* kHot = "sieve.pred.hot";
inline constexpr const char* kTokens = "sieve.pred.tokens";          // u32: calibration tokens used
// The figure auto mode quotes when it offers sparse mode
// (sparse/calibrated_fidelity.h): sparse mode with its default options
// against dense, teacher-forced on tokens the predictors were not trained on.
// Written with the predictors as placeholders (0 tokens: not measured), then
// overwritten in place once measured on the written pack.
inline constexpr const char* kFidelityTokens = "sieve.pred.fidelity_tokens";  // u32: positions compared
inline constexpr const char* kFidelityTop1 = "sieve.pred.fidelity_top1";      // f32: top-1 agreement, 0..1
inline constexpr const char* kFidelityKl = "sieve.pred.fidelity_kl";          // f32: mean KL(dense||sparse), nats
// `sieve calibrate --fidelity T` (calibration/fidelity_target.h): the target
// top-1 agreement the knob was searched for (0 = no target given) ...
inline constexpr const char* kFidelityTarget = "sieve.pred.fidelity_target";  // f32: 0 or (0, 1]
// ... for trained low-rank predictors, the recall target their thresholds
// were set for (the knob the search turned) ...
inline constexpr const char* kRecall = "sieve.pred.recall";  // f32: (0, 1]
// ... and for the gate predictor (SwiGLU/GeGLU: no exact zeros), the chosen
// fraction of neurons to skip, which sparse mode uses when no --sparsity is
// given, with sparse mode's figure at that sparsity, as for kFidelity* above.
inline constexpr const char* kGateSparsity = "sieve.pred.gate_sparsity";               // f32: [0, 1)
inline constexpr const char* kGateFidelityTokens = "sieve.pred.gate_fidelity_tokens";  // u32
inline constexpr const char* kGateFidelityTop1 = "sieve.pred.gate_fidelity_top1";      // f32: 0..1
inline constexpr const char* kGateFidelityKl = "sieve.pred.gate_fidelity_kl";          // f32: nats
inline constexpr const char* kPowerInferThreshold = "powerinfer.sparse_threshold";  // f32
}  // namespace pred_keys

inline constexpr const char* kChecksumAlgorithmName = "xxh64";

// "blk.7.ffn_bundles"
std::string bundle_tensor_name(int64_t layer);
// "blk.7.ffn_units": the layer's per-neuron units (optional).
std::string neuron_units_tensor_name(int64_t layer);
bool is_neuron_units_tensor_name(std::string_view name);

enum class FfnRole { gate, up, down };
// For "blk.L.ffn_gate.weight" and its up / down siblings: the layer and role.
struct FfnTensorName {
  int64_t layer = 0;
  FfnRole role = FfnRole::gate;
};
std::optional<FfnTensorName> parse_ffn_tensor_name(std::string_view name);
std::string ffn_tensor_name(int64_t layer, FfnRole role);

// Predictor tensors: "blk.L.ffn_pred_a" / "blk.L.ffn_pred_b", and PowerInfer's
// "blk.L.fc1.weight" / "blk.L.fc2.weight".
enum class PredictorRole { a, b, fc1, fc2 };
std::string predictor_tensor_name(int64_t layer, PredictorRole role);
struct PredictorTensorName {
  int64_t layer = 0;
  PredictorRole role = PredictorRole::a;
};
std::optional<PredictorTensorName> parse_predictor_tensor_name(std::string_view name);

}  // namespace sieve::flash
