#include "flash/pack_format.h"

#include <charconv>
#include <utility>

namespace sieve::flash {

std::string bundle_tensor_name(int64_t layer) { return "blk." + std::to_string(layer) + ".ffn_bundles"; }

std::string neuron_units_tensor_name(int64_t layer) { return "blk." + std::to_string(layer) + ".ffn_units"; }

std::string ffn_tensor_name(int64_t layer, FfnRole role) {
  const char* suffix = role == FfnRole::gate ? "ffn_gate" : role == FfnRole::up ? "ffn_up" : "ffn_down";
  return "blk." + std::to_string(layer) + "." + suffix + ".weight";
}

namespace {

// "blk.7.rest" -> {7, ".rest"}; nullopt for other names.
std::optional<std::pair<int64_t, std::string_view>> split_block_name(std::string_view name) {
  constexpr std::string_view kPrefix = "blk.";
  if (!name.starts_with(kPrefix)) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  int64_t layer = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), layer);
  if (ec != std::errc() || end == name.data() || layer < 0) return std::nullopt;
  return std::pair{layer, std::string_view(end, static_cast<size_t>(name.data() + name.size() - end))};
}

constexpr std::string_view kPredictorSuffixes[] = {".ffn_pred_a", ".ffn_pred_b", ".fc1.weight", ".fc2.weight"};

}  // namespace

std::string predictor_tensor_name(int64_t layer, PredictorRole role) {
  return "blk." + std::to_string(layer) + std::string(kPredictorSuffixes[static_cast<int>(role)]);
}

std::optional<PredictorTensorName> parse_predictor_tensor_name(std::string_view name) {
  const auto split = split_block_name(name);
  if (!split) return std::nullopt;
  for (int role = 0; role < 4; ++role) {
    if (split->second == kPredictorSuffixes[role]) return PredictorTensorName{split->first, static_cast<PredictorRole>(role)};
  }
  return std::nullopt;
}

bool is_neuron_units_tensor_name(std::string_view name) {
  const auto split = split_block_name(name);
  return split && split->second == ".ffn_units";
}

std::optional<FfnTensorName> parse_ffn_tensor_name(std::string_view name) {
  const auto split = split_block_name(name);
  if (!split) return std::nullopt;
  const int64_t layer = split->first;
  const std::string_view rest = split->second;
  if (rest == ".ffn_gate.weight") return FfnTensorName{layer, FfnRole::gate};
  if (rest == ".ffn_up.weight") return FfnTensorName{layer, FfnRole::up};
  if (rest == ".ffn_down.weight") return FfnTensorName{layer, FfnRole::down};
  return std::nullopt;
}

}  // namespace sieve::flash
