// sieve-desktop [MODEL.gguf]: the Sieve chat app. Everything but start-up is
// in the sieve_app library (app/desktop) and the QML module (ui/).
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQuickWindow>
#include <cstdio>

#include "desktop/app_window.h"
#include "desktop/chat_controller.h"
#include "desktop/history_store.h"

int main(int argc, char** argv) {
  sieve::app::configureApplication();
  QGuiApplication app(argc, argv);
  sieve::app::HistoryStore store;
  const auto opened = store.open();
  if (!opened) std::fprintf(stderr, "sieve-desktop: %s\n", qPrintable(opened.error()));
  sieve::app::ChatController chat(store);
  if (!opened) emit chat.errorOccurred(opened.error());

  QQmlApplicationEngine engine;
  QString error;
  if (!sieve::app::loadMainWindow(engine, chat, &error)) {
    std::fprintf(stderr, "sieve-desktop: %s\n", qPrintable(error));
    return 1;
  }
  const QStringList args = app.arguments();
  if (args.size() > 1) chat.loadModel(args.at(1));  // a model named on the command line wins
  return app.exec();
}
