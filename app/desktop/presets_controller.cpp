#include "desktop/presets_controller.h"

namespace sieve::app {
namespace {

// One line for the chat's header: the system prompt's start and the main values.
QString summaryOf(const Preset& p) {
  const QString prompt = p.systemPrompt.simplified();
  QStringList parts;
  parts << (prompt.isEmpty() ? PresetsController::tr("no system prompt")
                             : PresetsController::tr("\u201c%1\u201d").arg(prompt.size() > 48 ? prompt.left(47) + QChar(0x2026)
                                                                                             : prompt));
  parts << PresetsController::tr("temperature %1").arg(p.temperature) << PresetsController::tr("top-p %1").arg(p.topP)
        << PresetsController::tr("replies up to %1 tokens").arg(p.maxTokens);
  return parts.join(QStringLiteral(" \u00b7 "));
}

}  // namespace

PresetsController::PresetsController(HistoryStore& history, QObject* parent) : QObject(parent), store_(history) {
  reload();
}

QVariantMap PresetsController::describe(const Preset& p) const {
  return {
      {"id", double(p.id)},
      {"name", p.name},
      // The picker: a model's own preset says whose it is (the same name may be taken for all models).
      {"label", p.forAllModels() ? p.name : tr("%1 (%2)").arg(p.name, p.modelName)},
      {"builtIn", p.builtIn},
      {"forAllModels", p.forAllModels()},
      {"modelName", p.modelName},
      {"scope", p.forAllModels() ? tr("All models") : tr("%1 only").arg(p.modelName)},
      {"summary", summaryOf(p)},
  };
}

void PresetsController::reload() {
  auto all = store_.list();
  auto offered = store_.offeredWith(loadedModel_);
  if (!all || !offered) {
    fail(all ? offered.error() : all.error());
    return;
  }
  presets_.clear();
  offered_.clear();
  bool selectedThere = false;
  for (const Preset& p : all.value()) {
    presets_.append(describe(p));
    if (p.id == selected_.id) {
      selected_ = p;
      selectedThere = true;
    }
  }
  for (const Preset& p : offered.value()) offered_.append(describe(p));
  if (!selectedThere && !all.value().isEmpty()) selected_ = all.value().first();  // the Default
  emit listChanged();
  emit selectedChanged();
}

void PresetsController::select(double id) {
  if (qint64(id) == selected_.id) return;
  auto chosen = store_.preset(qint64(id));
  if (!chosen) chosen = store_.defaultPreset();
  if (!chosen) {
    fail(chosen.error());
    return;
  }
  selected_ = chosen.value();
  if (!error_.isEmpty()) {
    error_.clear();
    emit errorChanged();
  }
  emit selectedChanged();
}

void PresetsController::setLoadedModel(const QString& path, const QString& name) {
  if (path == loadedModel_ && name == loadedModelName_) return;
  loadedModel_ = path;
  loadedModelName_ = name;
  emit loadedModelChanged();
  reload();
}

bool PresetsController::fail(const QString& why) {
  error_ = why;
  emit errorChanged();
  emit selectedChanged();  // the controls show the stored values again
  return false;
}

void PresetsController::succeed() {
  if (!error_.isEmpty()) {
    error_.clear();
    emit errorChanged();
  }
  reload();
  emit presetsEdited();
}

bool PresetsController::edit(const std::function<void(Preset&)>& change) {
  Preset edited = selected_;
  change(edited);
  if (edited == selected_) return true;
  const auto saved = store_.update(edited);
  if (!saved) return fail(saved.error());
  selected_ = edited;
  succeed();
  return true;
}

void PresetsController::setSystemPrompt(const QString& text) { edit([&](Preset& p) { p.systemPrompt = text; }); }
void PresetsController::setTemperature(double value) { edit([&](Preset& p) { p.temperature = value; }); }
void PresetsController::setTopP(double value) { edit([&](Preset& p) { p.topP = value; }); }
void PresetsController::setTopK(int value) { edit([&](Preset& p) { p.topK = value; }); }
void PresetsController::setMinP(double value) { edit([&](Preset& p) { p.minP = value; }); }
void PresetsController::setRepeatPenalty(double value) { edit([&](Preset& p) { p.repeatPenalty = value; }); }
void PresetsController::setMaxTokens(int value) { edit([&](Preset& p) { p.maxTokens = value; }); }

bool PresetsController::renamePreset(const QString& name) { return edit([&](Preset& p) { p.name = name.trimmed(); }); }

bool PresetsController::setForLoadedModel(bool only) {
  if (only && selected_.builtIn) return fail(tr("The Default preset is for every model."));
  if (only && loadedModel_.isEmpty()) return fail(tr("Load a model first to keep a preset for it."));
  return edit([&](Preset& p) {
    p.model = only ? loadedModel_ : QString();
    p.modelName = only ? loadedModelName_ : QString();
  });
}

bool PresetsController::resetValues() {
  const Preset defaults = Preset::builtInDefaults();
  return edit([&](Preset& p) {
    p.temperature = defaults.temperature;
    p.topP = defaults.topP;
    p.topK = defaults.topK;
    p.minP = defaults.minP;
    p.repeatPenalty = defaults.repeatPenalty;
    p.maxTokens = defaults.maxTokens;
  });
}

bool PresetsController::newPreset() {
  Preset fresh = Preset::builtInDefaults();
  fresh.builtIn = false;
  const auto name = store_.freeName(tr("New preset"), {});
  if (!name) return fail(name.error());
  fresh.name = name.value();
  const auto id = store_.create(fresh);
  if (!id) return fail(id.error());
  selected_.id = id.value();  // reload() reads it back and keeps it selected
  succeed();
  return true;
}

bool PresetsController::duplicatePreset() {
  Preset copy = selected_;
  copy.builtIn = false;
  const auto name = store_.freeName(tr("%1 copy").arg(selected_.name), copy.model);
  if (!name) return fail(name.error());
  copy.name = name.value();
  const auto id = store_.create(copy);
  if (!id) return fail(id.error());
  selected_.id = id.value();
  succeed();
  return true;
}

int PresetsController::conversationsUsingSelected() {
  const auto count = store_.conversationsUsing(selected_.id);
  return count ? count.value() : 0;
}

bool PresetsController::deletePreset() {
  const auto removed = store_.remove(selected_.id);
  if (!removed) return fail(removed.error());
  selected_ = {};  // reload() selects the Default
  succeed();
  return true;
}

}  // namespace sieve::app
