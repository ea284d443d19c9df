#pragma once
// Everything the settings page sets, persisted with QSettings, with
// per-model overrides (`App.settings` in QML, app_objects.h). The local
// server's settings are global; its API key is stored as typed, like the rest.
// The system prompt and sampling are presets in the history database
// (preset_store.h); presetSeed() reads what earlier versions kept here.
//
// Global values live under "settings/<key>". When "for this model only" is
// on for a model, its values live under "models/<model path,
// percent-encoded>/<key>" (with "overrides" = true there) and win over the
// global ones while that model is the current one. The theme and the last
// model are always global, as are the local server's.
//
// The app pushes these values into the ChatController (app_window.cpp), which
// restarts the engine when one that needs it (mode, budget, window, threads,
// context) changes.

#include <QObject>
#include <QSettings>
#include <QString>
#include <QVariant>
#include <QtQml/qqmlregistration.h>
#include <memory>

#include "desktop/preset.h"

namespace sieve::app {

class AppSettings : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  // The model whose overrides apply (the loaded one).
  Q_PROPERTY(QString modelPath READ modelPath WRITE setModelPath NOTIFY modelPathChanged)
  Q_PROPERTY(bool perModel READ perModel WRITE setPerModel NOTIFY changed)
  Q_PROPERTY(QString lastModel READ lastModel WRITE setLastModel NOTIFY changed)

  Q_PROPERTY(QString mode READ mode WRITE setMode NOTIFY changed)  // "auto" (default), "dense", "mmap", "flash", "sparse"
  // Bytes; 0 (default): 60% of the memory available when the engine loads.
  Q_PROPERTY(double dramBudget READ dramBudget WRITE setDramBudget NOTIFY changed)
  Q_PROPERTY(int sparseWindow READ sparseWindow WRITE setSparseWindow NOTIFY changed)
  Q_PROPERTY(QString sparsePredictor READ sparsePredictor WRITE setSparsePredictor NOTIFY changed)  // "gate", "lowrank"
  Q_PROPERTY(int threads READ threads WRITE setThreads NOTIFY changed)
  Q_PROPERTY(int contextLength READ contextLength WRITE setContextLength NOTIFY changed)
  Q_PROPERTY(QString theme READ theme WRITE setTheme NOTIFY changed)  // "light", "dark", "system"
  // The local server (local_server.h), always global: off by default; port 8080 as `sieve serve`;
  // loopback only unless other devices are allowed; an API key clients must send (empty: none).
  Q_PROPERTY(bool serverEnabled READ serverEnabled WRITE setServerEnabled NOTIFY changed)
  Q_PROPERTY(int serverPort READ serverPort WRITE setServerPort NOTIFY changed)
  Q_PROPERTY(bool serverAllowRemote READ serverAllowRemote WRITE setServerAllowRemote NOTIFY changed)
  Q_PROPERTY(QString serverApiKey READ serverApiKey WRITE setServerApiKey NOTIFY changed)
  // The theme resolved: "system" follows the platform palette (Qt 6.4 has no colour-scheme hint).
  Q_PROPERTY(bool dark READ dark NOTIFY changed)

 public:
  // `file` empty: the application's QSettings (organisation / application names).
  explicit AppSettings(const QString& file = {}, QObject* parent = nullptr);
  ~AppSettings() override;

  QString modelPath() const { return modelPath_; }
  void setModelPath(const QString& path);
  bool perModel() const;
  void setPerModel(bool on);
  QString lastModel() const { return global("lastModel").toString(); }
  void setLastModel(const QString& path) { setGlobal("lastModel", path); }

  QString mode() const { return value("mode").toString(); }
  void setMode(const QString& v) { setValue("mode", v); }
  double dramBudget() const { return value("dramBudget").toDouble(); }
  void setDramBudget(double v) { setValue("dramBudget", v); }
  int sparseWindow() const { return value("sparseWindow").toInt(); }
  void setSparseWindow(int v) { setValue("sparseWindow", v); }
  QString sparsePredictor() const { return value("sparsePredictor").toString(); }
  void setSparsePredictor(const QString& v) { setValue("sparsePredictor", v); }
  int threads() const { return value("threads").toInt(); }
  void setThreads(int v) { setValue("threads", v); }
  int contextLength() const { return value("contextLength").toInt(); }
  void setContextLength(int v) { setValue("contextLength", v); }
  QString theme() const { return global("theme").toString(); }
  void setTheme(const QString& v) { setGlobal("theme", v); }
  bool dark() const;
  bool serverEnabled() const { return global("serverEnabled").toBool(); }
  void setServerEnabled(bool on) { setGlobal("serverEnabled", on); }
  int serverPort() const { return global("serverPort").toInt(); }
  void setServerPort(int port);  // 1 to 65535; others are ignored
  bool serverAllowRemote() const { return global("serverAllowRemote").toBool(); }
  void setServerAllowRemote(bool on) { setGlobal("serverAllowRemote", on); }
  QString serverApiKey() const { return global("serverApiKey").toString(); }
  void setServerApiKey(const QString& key) { setGlobal("serverApiKey", key); }

  // The presets the history's migration to presets creates (HistoryStore::setPresetSeed):
  // the Default from the global system prompt and sampling values earlier
  // versions kept here, and, for each model whose own values differ from
  // them, a preset for that model named after its file. Keys never written
  // give the defaults those versions had (Preset::builtInDefaults()).
  QList<Preset> presetSeed() const;

  // Every per-model key back to its default (globally, or for the model when perModel).
  Q_INVOKABLE void resetToDefaults();
  void sync() { store_->sync(); }

 signals:
  void changed();
  void modelPathChanged();

 private:
  QVariant value(const QString& key) const;  // the model's override, else the global value, else the default
  void setValue(const QString& key, const QVariant& v);
  QVariant global(const QString& key) const;
  void setGlobal(const QString& key, const QVariant& v);
  QString modelGroup() const;  // "models/<encoded path>", empty without a model

  std::unique_ptr<QSettings> store_;
  QString modelPath_;
};

}  // namespace sieve::app
