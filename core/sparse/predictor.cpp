#include "sparse/predictor.h"

namespace sieve::sparse {

const char* to_string(PredictorKind kind) {
  switch (kind) {
    case PredictorKind::none: return "none";
    case PredictorKind::gate: return "gate";
    case PredictorKind::lowrank: return "lowrank";
    case PredictorKind::powerinfer: return "powerinfer";
  }
  return "?";
}

std::optional<PredictorKind> parse_predictor_kind(std::string_view text) {
  for (auto kind : {PredictorKind::none, PredictorKind::gate, PredictorKind::lowrank, PredictorKind::powerinfer})
    if (text == to_string(kind)) return kind;
  return std::nullopt;
}

}  // namespace sieve::sparse
