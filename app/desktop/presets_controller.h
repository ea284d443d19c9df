#pragma once
// What QML sees as `App.presets` (app_objects.h): the presets (preset.h) for
// the settings page's editor and the chat header's picker.
//
// The editor works on one selected preset (the Default at first): its fields
// are properties written straight to the history (PresetStore), each write
// checked; a refused one leaves the stored value, says why in `error` and
// notifies, so the control shows the stored value again. New, Duplicate,
// Rename, the scope and Delete are invokables returning whether they worked.
// The picker's list is `offered`: the presets for every model and the loaded
// model's (the model is pushed in with setLoadedModel, app_window.cpp).
//
// After every change presetsEdited() fires; the chat looks its current
// preset up again (ChatController::presetsEdited), so a deleted preset's
// conversation shows the Default at once.

#include <QObject>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>
#include <functional>

#include "desktop/preset.h"
#include "desktop/preset_store.h"

namespace sieve::app {

class PresetsController : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  // [{id, name, label, builtIn, forAllModels, modelName, scope, summary}]: every preset (the editor's list) ...
  Q_PROPERTY(QVariantList presets READ presets NOTIFY listChanged)
  // ... and those the chat offers with the loaded model (the picker), in the same order.
  Q_PROPERTY(QVariantList offered READ offered NOTIFY listChanged)
  // What "this model" is: the loaded model's path and name (empty: none).
  Q_PROPERTY(QString loadedModel READ loadedModel NOTIFY loadedModelChanged)
  Q_PROPERTY(QString loadedModelName READ loadedModelName NOTIFY loadedModelChanged)

  // The preset the editor shows (an id: double, as qmllint 6.4 knows no qint64).
  Q_PROPERTY(double selectedId READ selectedId WRITE select NOTIFY selectedChanged)
  Q_PROPERTY(QString name READ name NOTIFY selectedChanged)
  Q_PROPERTY(bool builtIn READ builtIn NOTIFY selectedChanged)
  Q_PROPERTY(bool forAllModels READ forAllModels NOTIFY selectedChanged)
  Q_PROPERTY(QString scopeModelName READ scopeModelName NOTIFY selectedChanged)
  Q_PROPERTY(QString systemPrompt READ systemPrompt WRITE setSystemPrompt NOTIFY selectedChanged)
  Q_PROPERTY(double temperature READ temperature WRITE setTemperature NOTIFY selectedChanged)
  Q_PROPERTY(double topP READ topP WRITE setTopP NOTIFY selectedChanged)
  Q_PROPERTY(int topK READ topK WRITE setTopK NOTIFY selectedChanged)
  Q_PROPERTY(double minP READ minP WRITE setMinP NOTIFY selectedChanged)
  Q_PROPERTY(double repeatPenalty READ repeatPenalty WRITE setRepeatPenalty NOTIFY selectedChanged)
  Q_PROPERTY(int maxTokens READ maxTokens WRITE setMaxTokens NOTIFY selectedChanged)
  // The last change refused, in one sentence ('' once one works).
  Q_PROPERTY(QString error READ error NOTIFY errorChanged)

  // The accepted ranges (preset.h), for the editor's controls.
  Q_PROPERTY(double maxTemperature READ maxTemperature CONSTANT)
  Q_PROPERTY(int maxTopK READ maxTopK CONSTANT)
  Q_PROPERTY(double minRepeatPenalty READ minRepeatPenalty CONSTANT)
  Q_PROPERTY(double maxRepeatPenalty READ maxRepeatPenalty CONSTANT)
  Q_PROPERTY(int maxReplyTokens READ maxReplyTokens CONSTANT)

 public:
  // `history` must outlive the controller.
  explicit PresetsController(HistoryStore& history, QObject* parent = nullptr);

  QVariantList presets() const { return presets_; }
  QVariantList offered() const { return offered_; }
  QString loadedModel() const { return loadedModel_; }
  QString loadedModelName() const { return loadedModelName_; }
  qint64 selectedId() const { return selected_.id; }
  const Preset& selected() const { return selected_; }
  QString name() const { return selected_.name; }
  bool builtIn() const { return selected_.builtIn; }
  bool forAllModels() const { return selected_.forAllModels(); }
  QString scopeModelName() const { return selected_.modelName; }
  QString systemPrompt() const { return selected_.systemPrompt; }
  double temperature() const { return selected_.temperature; }
  double topP() const { return selected_.topP; }
  int topK() const { return selected_.topK; }
  double minP() const { return selected_.minP; }
  double repeatPenalty() const { return selected_.repeatPenalty; }
  int maxTokens() const { return selected_.maxTokens; }
  QString error() const { return error_; }
  static double maxTemperature() { return PresetLimits::kMaxTemperature; }
  static int maxTopK() { return PresetLimits::kMaxTopK; }
  static double minRepeatPenalty() { return PresetLimits::kMinRepeatPenalty; }
  static double maxRepeatPenalty() { return PresetLimits::kMaxRepeatPenalty; }
  static int maxReplyTokens() { return PresetLimits::kMaxReplyTokens; }

  void setSystemPrompt(const QString& text);
  void setTemperature(double value);
  void setTopP(double value);
  void setTopK(int value);
  void setMinP(double value);
  void setRepeatPenalty(double value);
  void setMaxTokens(int value);

  // Shows preset `id` in the editor (an unknown id: the Default).
  void select(double id);
  // The model now loaded (path; empty: none) and its display name.
  void setLoadedModel(const QString& path, const QString& name);

  // A new preset for every model with the built-in values, named "New preset" (or "New preset 2", ...); selected.
  Q_INVOKABLE bool newPreset();
  // A copy of the selected preset, "<name> copy", in the same scope (the Default's copy: for every model); selected.
  Q_INVOKABLE bool duplicatePreset();
  Q_INVOKABLE bool renamePreset(const QString& name);
  // For the loaded model only (true) or every model (false). The Default is for every model.
  Q_INVOKABLE bool setForLoadedModel(bool only);
  // The selected preset's sampling and reply length back to the built-in
  // values (its name, scope and system prompt stay).
  Q_INVOKABLE bool resetValues();
  // How many conversations use the selected preset (what deleting it changes).
  Q_INVOKABLE int conversationsUsingSelected();
  // Deletes the selected preset (never the Default): its conversations use
  // the Default from then on, and the Default is selected.
  Q_INVOKABLE bool deletePreset();
  // Reads the presets again (the list and the selected one).
  Q_INVOKABLE void reload();

 signals:
  void listChanged();
  void loadedModelChanged();
  void selectedChanged();
  void errorChanged();
  // Any preset was added, changed or deleted.
  void presetsEdited();

 private:
  bool edit(const std::function<void(Preset&)>& change);
  bool fail(const QString& why);
  void succeed();
  QVariantMap describe(const Preset& preset) const;

  PresetStore store_;
  QVariantList presets_;
  QVariantList offered_;
  QString loadedModel_;
  QString loadedModelName_;
  Preset selected_;
  QString error_;
};

}  // namespace sieve::app
