#include "desktop/preset.h"

#include <QCoreApplication>
#include <algorithm>
#include <cmath>

namespace sieve::app {
namespace {

QString tr(const char* text) { return QCoreApplication::translate("Preset", text); }

// '' when `value` is a number in [low, high]; else the sentence for `what`.
QString outOfRange(const QString& what, double value, double low, double high) {
  if (std::isfinite(value) && value >= low && value <= high) return {};
  return tr("%1 must be between %2 and %3; %4 is not.").arg(what).arg(low).arg(high).arg(value);
}

}  // namespace

Preset Preset::builtInDefaults() {
  Preset p;
  p.name = tr("Default");
  p.builtIn = true;
  return p;
}

QString validatePreset(const Preset& p) {
  const QString name = p.name.trimmed();
  if (name.isEmpty()) return tr("A preset needs a name.");
  if (name.size() > PresetLimits::kMaxNameLength) {
    return tr("A preset's name can be at most %1 characters long.").arg(PresetLimits::kMaxNameLength);
  }
  if (p.builtIn && !p.forAllModels()) return tr("The Default preset is for every model.");
  const QString checks[] = {
      outOfRange(tr("Temperature"), p.temperature, 0, PresetLimits::kMaxTemperature),
      outOfRange(tr("Top-p"), p.topP, 0, 1),
      outOfRange(tr("Top-k"), p.topK, 0, PresetLimits::kMaxTopK),
      outOfRange(tr("Min-p"), p.minP, 0, 1),
      outOfRange(tr("The repeat penalty"), p.repeatPenalty, PresetLimits::kMinRepeatPenalty,
                 PresetLimits::kMaxRepeatPenalty),
      outOfRange(tr("The reply length"), p.maxTokens, 1, PresetLimits::kMaxReplyTokens),
  };
  for (const QString& problem : checks) {
    if (!problem.isEmpty()) return problem;
  }
  return {};
}

Preset withinLimits(Preset p) {
  const auto clamp = [](double v, double low, double high, double fallback) {
    return std::isfinite(v) ? std::clamp(v, low, high) : fallback;
  };
  const Preset defaults = Preset::builtInDefaults();
  p.name = p.name.trimmed().left(PresetLimits::kMaxNameLength);
  if (p.name.isEmpty()) p.name = defaults.name;
  p.temperature = clamp(p.temperature, 0, PresetLimits::kMaxTemperature, defaults.temperature);
  p.topP = clamp(p.topP, 0, 1, defaults.topP);
  p.topK = std::clamp(p.topK, 0, PresetLimits::kMaxTopK);
  p.minP = clamp(p.minP, 0, 1, defaults.minP);
  p.repeatPenalty = clamp(p.repeatPenalty, PresetLimits::kMinRepeatPenalty, PresetLimits::kMaxRepeatPenalty,
                          defaults.repeatPenalty);
  p.maxTokens = std::clamp(p.maxTokens, 1, PresetLimits::kMaxReplyTokens);
  return p;
}

sampling::SamplerOptions samplerOptionsOf(const Preset& preset, quint64 seed) {
  sampling::SamplerOptions o;
  o.temperature = float(preset.temperature);
  o.top_p = float(preset.topP);
  o.top_k = preset.topK;
  o.min_p = float(preset.minP);
  o.repeat_penalty = float(preset.repeatPenalty);
  o.seed = seed;
  return o;
}

}  // namespace sieve::app
