#pragma once
// Tests: the Default preset's values, what every conversation without a
// preset of its own replies with (preset_store.h). Replies read them at each
// turn, so a change applies to the next reply, as a change in the editor does.

#include <QtGlobal>
#include <functional>

#include "desktop/preset_store.h"

inline void changeDefaultPreset(sieve::app::HistoryStore& store, const std::function<void(sieve::app::Preset&)>& change) {
  sieve::app::PresetStore presets(store);
  auto preset = presets.defaultPreset();
  if (!preset) qFatal("no Default preset: %s", qPrintable(preset.error()));
  change(preset.value());
  const auto saved = presets.update(preset.value());
  if (!saved) qFatal("the Default preset was refused: %s", qPrintable(saved.error()));
}

inline void setTemperature(sieve::app::HistoryStore& store, double temperature) {
  changeDefaultPreset(store, [&](sieve::app::Preset& p) { p.temperature = temperature; });
}

inline void setMaxTokens(sieve::app::HistoryStore& store, int tokens) {
  changeDefaultPreset(store, [&](sieve::app::Preset& p) { p.maxTokens = tokens; });
}
