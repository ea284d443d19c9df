#include "sparse/predictor.h"

#include <string>

#include "util/error.h"

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

void Predictor::predict_rows(int, const float*, int64_t, int64_t, std::vector<int32_t>&) {
  throw Error(std::string("the ") + to_string(kind()) + " predictor cannot predict in row ranges");
}

std::optional<PredictorKind> parse_predictor_kind(std::string_view text) {
  for (auto kind : {PredictorKind::none, PredictorKind::gate, PredictorKind::lowrank, PredictorKind::powerinfer})
    if (text == to_string(kind)) return kind;
  return std::nullopt;
}

}  // namespace sieve::sparse
