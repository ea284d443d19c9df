#pragma once
// A preset: a named system prompt and sampling settings, for every model or
// for one (issue 19). Each conversation runs with one (conversations.preset_id,
// preset_store.h); the built-in "Default" is what a conversation without one
// uses, and it cannot be deleted.
//
//   Preset p = Preset::builtInDefaults();
//   p.name = "Terse";
//   p.systemPrompt = "Answer in one sentence.";
//   p.temperature = 0.2;
//   if (const QString why = validatePreset(p); !why.isEmpty()) ...  // one sentence
//
// Plain data: storing is PresetStore's, editing PresetsController's.

#include <QString>

#include "desktop/inference_types.h"

namespace sieve::app {

struct Preset {
  qint64 id = 0;           // 0: not stored yet
  QString name;
  // The scope: empty for every model, else the model's path as the chat loads
  // it (ChatController::modelPath(), the key per-model settings use too).
  QString model;
  QString modelName;       // that model's display name when the preset was scoped to it, for lists
  bool builtIn = false;    // the Default: renamed and edited, never deleted
  QString systemPrompt;    // empty: no system message
  double temperature = 0.8;
  double topP = 0.95;
  int topK = 40;
  double minP = 0.05;
  double repeatPenalty = 1.0;
  int maxTokens = 512;     // the reply length limit, in tokens

  bool forAllModels() const { return model.isEmpty(); }
  // Whether the chat offers it while `loadedModel` (a path; empty: none) is loaded.
  bool offeredWith(const QString& loadedModel) const { return forAllModels() || model == loadedModel; }

  // The values a new install's Default starts from (the app's sampling
  // defaults before presets existed).
  static Preset builtInDefaults();

  bool operator==(const Preset&) const = default;
};

// The accepted ranges, shared by validation and the editor's controls.
struct PresetLimits {
  static constexpr double kMaxTemperature = 2.0;
  static constexpr int kMaxTopK = 1000;
  static constexpr double kMinRepeatPenalty = 1.0;
  static constexpr double kMaxRepeatPenalty = 2.0;
  static constexpr int kMaxReplyTokens = 32768;
  static constexpr int kMaxNameLength = 60;
};

// '' when `preset` can be stored; otherwise one sentence saying what is wrong
// ("Temperature must be between 0 and 2; 3.5 is not."). Names are checked for
// being there and their length; uniqueness needs the store (PresetStore).
QString validatePreset(const Preset& preset);

// `preset` with every value brought into its range and a name if it had none:
// what an older version's settings become, so a value it allowed and this
// one refuses never stops the history from opening.
Preset withinLimits(Preset preset);

// The sampling part of a request: the preset's values, with `seed`.
sampling::SamplerOptions samplerOptionsOf(const Preset& preset, quint64 seed);

}  // namespace sieve::app
