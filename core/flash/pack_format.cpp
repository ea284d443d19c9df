#include "flash/pack_format.h"

#include <charconv>

namespace sieve::flash {

std::string bundle_tensor_name(int64_t layer) { return "blk." + std::to_string(layer) + ".ffn_bundles"; }

std::string ffn_tensor_name(int64_t layer, FfnRole role) {
  const char* suffix = role == FfnRole::gate ? "ffn_gate" : role == FfnRole::up ? "ffn_up" : "ffn_down";
  return "blk." + std::to_string(layer) + "." + suffix + ".weight";
}

std::optional<FfnTensorName> parse_ffn_tensor_name(std::string_view name) {
  constexpr std::string_view kPrefix = "blk.";
  if (!name.starts_with(kPrefix)) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  int64_t layer = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), layer);
  if (ec != std::errc() || end == name.data() || layer < 0) return std::nullopt;
  const std::string_view rest(end, static_cast<size_t>(name.data() + name.size() - end));
  if (rest == ".ffn_gate.weight") return FfnTensorName{layer, FfnRole::gate};
  if (rest == ".ffn_up.weight") return FfnTensorName{layer, FfnRole::up};
  if (rest == ".ffn_down.weight") return FfnTensorName{layer, FfnRole::down};
  return std::nullopt;
}

}  // namespace sieve::flash
