#pragma once
// Starting the UI, shared by sieve-desktop and the tests: makes the objects
// QML sees — the controller given, AppSettings (persisted, pushed into the
// controller), MemoryPlanner (the DRAM budget), DiskMeasure, ModelsController,
// PresetsController and what About shows —, installs them as the engine's `App` singleton
// (app_objects.h; AppObjects::of(engine) finds them again) and loads
// qrc:/Sieve/Ui/Main.qml (the Sieve.Ui module from ui/, linked as sieve_ui).

#include <QString>
#include <QVariantMap>

class QCoreApplication;
class QQmlApplicationEngine;
class QQuickWindow;

namespace sieve::app {

class AppSettings;
class ChatController;
class MemoryPlanner;
class PresetsController;

// Organization / application names (QSettings, the history folder), the
// version (CMake's project version) and the Qt Quick Controls style. Call
// before creating the application object.
void configureApplication();

// What the About dialog shows (`App.info`): version,
// qtVersion (the Qt it runs on), logFile (empty: no log file), logFolderUrl, license.
QVariantMap aboutInfo(const QString& logFile);

// Keeps the controller in step with the settings: every value now and on each
// change; the settings (and the planner) follow the model being loaded.
void bindSettings(AppSettings& settings, ChatController& chat, MemoryPlanner& planner);

// The presets' editor follows the loaded model ("this model", the offered
// list) and tells the controller when presets change.
void bindPresets(PresetsController& presets, ChatController& chat);

// The main window, or nullptr with `error` set when the QML failed to load.
// Also sets the application's window icon (from qrc:/icons). `logFile` is
// the log's path for About (main.cpp's; empty when not logging to a file).
QQuickWindow* loadMainWindow(QQmlApplicationEngine& engine, ChatController& chat, QString* error,
                             const QString& logFile = {});

}  // namespace sieve::app
