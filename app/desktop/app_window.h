#pragma once
// Starting the UI, shared by sieve-desktop and the tests: the QML engine gets
// the context properties `chat` (the controller), `settings` (AppSettings,
// persisted, pushed into the controller), `planner` (MemoryPlanner, for the
// DRAM budget) and loads qrc:/Sieve/Ui/Main.qml (the Sieve.Ui module from
// ui/, linked as sieve_ui).

#include <QString>

class QCoreApplication;
class QQmlApplicationEngine;
class QQuickWindow;

namespace sieve::app {

class AppSettings;
class ChatController;
class MemoryPlanner;

// Organization / application names (QSettings, the history folder) and the
// Qt Quick Controls style. Call before creating the application object's windows.
void configureApplication();

// Keeps the controller in step with the settings: every value now and on each
// change; the settings (and the planner) follow the model being loaded.
void bindSettings(AppSettings& settings, ChatController& chat, MemoryPlanner& planner);

// The main window, or nullptr with `error` set when the QML failed to load.
QQuickWindow* loadMainWindow(QQmlApplicationEngine& engine, ChatController& chat, QString* error);

}  // namespace sieve::app
