#pragma once
// How QML reaches the C++ objects of the app: the singleton `App` of the QML
// module Sieve.App (`import Sieve.App`, then `App.chat.send(text)`,
// `App.settings.dark`, `App.planner`, `App.models`, `App.diskMeasure`, `App.downloads`,
// `App.info.version`, `App.server`, `App.presets`). The classes behind them are registered in the same
// module (QML_ELEMENT + QML_UNCREATABLE: QML can name their types but not
// create them), so qmllint knows every property and method QML uses.
//
// Why this shape (Qt 6.4): the objects are made in C++ — ChatController needs
// the HistoryStore, the tests make them over temporary files, several engines
// live one after another in one test — so QML must not construct them, and a
// process-wide instance (qmlRegisterSingletonInstance, a static pointer) would
// be global state shared by every engine. Instead each engine owns one
// AppObjects (install() parents it to the engine), and QML_SINGLETON's static
// create() — which Qt 6.4 calls once per engine, on first use, on the engine's
// thread — returns the one installed on that engine. Nothing is global and
// nothing is read from another thread. (The headers are included, not
// declared: moc needs complete types for the pointer properties.)

#include <QHash>
#include <QObject>
#include <QString>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>

#include "desktop/app_settings.h"
#include "desktop/chat_controller.h"
#include "desktop/disk_measure.h"
#include "desktop/download_manager.h"
#include "desktop/local_server.h"
#include "desktop/memory_planner.h"
#include "desktop/models_controller.h"
#include "desktop/presets_controller.h"

class QJSEngine;
class QQmlEngine;

namespace sieve::app {

class AppObjects : public QObject {
  Q_OBJECT
  QML_NAMED_ELEMENT(App)
  QML_SINGLETON
  Q_PROPERTY(sieve::app::ChatController* chat READ chat CONSTANT)
  Q_PROPERTY(sieve::app::AppSettings* settings READ settings CONSTANT)
  Q_PROPERTY(sieve::app::MemoryPlanner* planner READ planner CONSTANT)
  Q_PROPERTY(sieve::app::ModelsController* models READ models CONSTANT)
  Q_PROPERTY(sieve::app::DiskMeasure* diskMeasure READ diskMeasure CONSTANT)
  Q_PROPERTY(sieve::app::LocalServer* server READ server CONSTANT)
  Q_PROPERTY(sieve::app::DownloadManager* downloads READ downloads CONSTANT)
  Q_PROPERTY(sieve::app::PresetsController* presets READ presets CONSTANT)
  // What About shows (aboutInfo(), app_window.h): version, qtVersion, logFile, logFolderUrl, license.
  Q_PROPERTY(QVariantMap info READ info CONSTANT)

 public:
  // The objects one engine's QML sees; any may be null (a test loading one view
  // gives only what that view uses). Not owned: they must outlive the engine.
  struct Objects {
    ChatController* chat = nullptr;
    AppSettings* settings = nullptr;
    MemoryPlanner* planner = nullptr;
    ModelsController* models = nullptr;
    DiskMeasure* diskMeasure = nullptr;
    QVariantMap info;
    LocalServer* server = nullptr;
    DownloadManager* downloads = nullptr;
    PresetsController* presets = nullptr;
  };

  // Makes `objects` the `App` singleton of `engine` (its child). Call once per
  // engine, before loading any QML on it; a second call changes nothing (QML
  // may already hold the first) and returns the first.
  static AppObjects* install(QQmlEngine& engine, const Objects& objects);
  // The objects installed on `engine`, or nullptr.
  static AppObjects* of(const QQmlEngine& engine);
  // QML_SINGLETON's factory: the objects installed on `engine` (an empty set,
  // with a warning, when none were).
  static AppObjects* create(QQmlEngine* engine, QJSEngine* scriptEngine);

  ChatController* chat() const { return objects_.chat; }
  AppSettings* settings() const { return objects_.settings; }
  MemoryPlanner* planner() const { return objects_.planner; }
  ModelsController* models() const { return objects_.models; }
  DiskMeasure* diskMeasure() const { return objects_.diskMeasure; }
  LocalServer* server() const { return objects_.server; }
  DownloadManager* downloads() const { return objects_.downloads; }
  PresetsController* presets() const { return objects_.presets; }
  QVariantMap info() const { return objects_.info; }

  // By the names QML uses after `App.` (chat, settings, planner, models,
  // diskMeasure, server, downloads, presets): what automation (automation.h) drives. Null ones are left out.
  QHash<QString, QObject*> byName() const;

 private:
  AppObjects(const Objects& objects, QObject* parent);

  Objects objects_;
};

}  // namespace sieve::app
