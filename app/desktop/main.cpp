// sieve-desktop [MODEL.gguf]: the Sieve chat app. Everything but start-up is
// in the sieve_app library (app/desktop) and the QML module (ui/).
//
// SIEVE_STARTUP_REPORT=1 (the startup benchmark, tests/app/desktop/startup_bench.cpp):
// when the window's first frame is shown, print how long start-up took and
// how many conversations the sidebar lists, then quit.
// SIEVE_AUTOMATION=1 (the kill loop, tests/crash/kill-loop.sh): commands on
// standard input drive the app (desktop/automation.h).
#include <QElapsedTimer>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQuickItem>
#include <QQuickWindow>
#include <QTimer>
#include <cstdio>

#include "desktop/app_window.h"
#include "desktop/automation.h"
#include "desktop/chat_controller.h"
#include "desktop/history_store.h"

namespace {

void reportStartupAtFirstFrame(QQuickWindow* window, const QElapsedTimer& sinceStart,
                               sieve::app::ChatController& chat) {
  QObject::connect(
      window, &QQuickWindow::frameSwapped, window,
      [window, &sinceStart, &chat] {
        const qint64 ms = sinceStart.elapsed();
        const QQuickItem* list = window->findChild<QQuickItem*>("conversationList");
        std::printf("startup: first frame after %lld ms; %d conversations stored, %d listed in the sidebar\n",
                    static_cast<long long>(ms), chat.conversations()->rowCount(),
                    list ? list->property("count").toInt() : -1);
        std::fflush(stdout);
        QTimer::singleShot(0, qApp, &QCoreApplication::quit);
      },
      Qt::SingleShotConnection);
}

}  // namespace

int main(int argc, char** argv) {
  QElapsedTimer sinceStart;
  sinceStart.start();
  sieve::app::configureApplication();
  QGuiApplication app(argc, argv);
  sieve::app::HistoryStore store;
  const auto opened = store.open();
  if (!opened) std::fprintf(stderr, "sieve-desktop: %s\n", qPrintable(opened.error()));
  sieve::app::ChatController chat(store);
  if (!opened) emit chat.errorOccurred(opened.error());

  QQmlApplicationEngine engine;
  QString error;
  QQuickWindow* window = sieve::app::loadMainWindow(engine, chat, &error);
  if (!window) {
    std::fprintf(stderr, "sieve-desktop: %s\n", qPrintable(error));
    return 1;
  }
  if (qEnvironmentVariableIntValue("SIEVE_STARTUP_REPORT") == 1) reportStartupAtFirstFrame(window, sinceStart, chat);
  sieve::app::Automation automation(*engine.rootContext());
  automation.setWindow(window);
  if (qEnvironmentVariableIntValue("SIEVE_AUTOMATION") == 1) automation.start();
  const QStringList args = app.arguments();
  if (args.size() > 1) chat.loadModel(args.at(1));  // a model named on the command line wins
  return app.exec();
}
