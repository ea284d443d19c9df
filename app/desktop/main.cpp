// sieve-desktop [MODEL.gguf]: the Sieve chat app. Everything but start-up is
// in the sieve_app library (app/desktop) and the QML module (ui/).
//
// SIEVE_STARTUP_REPORT=1 (the startup benchmark, tests/app/desktop/startup_bench.cpp):
// when the window's first frame is shown, print how long start-up took and
// how many conversations the sidebar lists, then quit.
// SIEVE_AUTOMATION=1 (the kill loop, tests/crash/kill-loop.sh): commands on
// standard input drive the app (desktop/automation.h).
//
// Every Qt message goes to <AppDataLocation>/logs/sieve.log (rotated at 1 MiB,
// 3 files; desktop/file_log.h) and to stderr. The user interface is translated
// from :/i18n/sieve_<language>.qm when one matches the locale (translations/).
#include <QElapsedTimer>
#include <QGuiApplication>
#include <QLocale>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QTimer>
#include <QTranslator>
#include <cstdio>

#include "desktop/app_objects.h"
#include "desktop/app_settings.h"
#include "desktop/app_window.h"
#include "desktop/automation.h"
#include "desktop/chat_controller.h"
#include "desktop/file_log.h"
#include "desktop/history_store.h"
#include "desktop/log_categories.h"

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
  // Declared first, so the log outlives everything that might write to it (the worker thread included).
  sieve::app::RotatingLogFile log(sieve::app::defaultLogPath());
  QString logError;
  const bool logging = log.open(&logError);
  const sieve::app::MessageLogInstallation logInstallation(log);  // without the file, messages still reach stderr
  if (!logging) qCWarning(sieve::app::lcApp).noquote() << logError;
  qCInfo(sieve::app::lcApp, "Sieve %s starting on Qt %s", qPrintable(QCoreApplication::applicationVersion()), qVersion());

  QTranslator translator;
  if (translator.load(QLocale(), "sieve", "_", ":/i18n")) QCoreApplication::installTranslator(&translator);

  sieve::app::HistoryStore store;
  // Presets start from the system prompt and sampling the settings held before them (a history older than presets).
  store.setPresetSeed(sieve::app::AppSettings().presetSeed());
  const auto opened = store.open();
  if (!opened) qCCritical(sieve::app::lcHistory).noquote() << opened.error();
  sieve::app::ChatController chat(store);
  if (!opened) emit chat.errorOccurred(opened.error());

  QQmlApplicationEngine engine;
  QString error;
  QQuickWindow* window = sieve::app::loadMainWindow(engine, chat, &error, logging ? log.path() : QString());
  if (!window) {
    qCCritical(sieve::app::lcApp).noquote() << error;
    return 1;
  }
  if (qEnvironmentVariableIntValue("SIEVE_STARTUP_REPORT") == 1) reportStartupAtFirstFrame(window, sinceStart, chat);
  sieve::app::Automation automation(sieve::app::AppObjects::of(engine)->byName());
  automation.setWindow(window);
  if (qEnvironmentVariableIntValue("SIEVE_AUTOMATION") == 1) automation.start();
  const QStringList args = app.arguments();
  if (args.size() > 1) chat.loadModel(args.at(1));  // a model named on the command line wins
  return app.exec();
}
