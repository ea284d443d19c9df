#pragma once
// Starting the UI, shared by sieve-desktop and the screenshot test: the QML
// engine gets the controller as the context property `chat` and loads
// qrc:/Sieve/Ui/Main.qml (the Sieve.Ui module from ui/, linked as sieve_ui).

#include <QString>

class QCoreApplication;
class QQmlApplicationEngine;
class QQuickWindow;

namespace sieve::app {

class ChatController;

// Organization / application names (QSettings, the history folder) and the
// Qt Quick Controls style. Call before creating the application object's windows.
void configureApplication();

// The main window, or nullptr with `error` set when the QML failed to load.
QQuickWindow* loadMainWindow(QQmlApplicationEngine& engine, ChatController& chat, QString* error);

}  // namespace sieve::app
