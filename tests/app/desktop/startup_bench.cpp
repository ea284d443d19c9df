// Startup benchmark: a history of 1,000 conversations (4 messages each) in a
// fresh per-user data folder, then the real app (sieve-desktop, offscreen)
// is started on it and timed until its window's first frame, with the
// conversation list populated. Fails when the median run takes 2 s or more.
//
//   startup_bench [--conversations N] [--runs R]
//
// Prints the app's own time (main() to first frame) and the wall time the
// benchmark saw (process start to exit, so it includes exec and teardown).
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <algorithm>
#include <cstdio>
#include <vector>

#include "desktop/history_store.h"

using namespace sieve::app;

namespace {

constexpr double kLimitSeconds = 2.0;

bool fillHistory(HistoryStore& store, int conversations) {
  for (int c = 0; c < conversations; ++c) {
    auto id = store.createConversation(QStringLiteral("Conversation %1 about cats and boats").arg(c), "stories260K");
    if (!id) return std::fprintf(stderr, "%s\n", qPrintable(id.error())), false;
    for (int m = 0; m < 4; ++m) {
      const QString text = QStringLiteral("Message %1 of conversation %2: once upon a time there was a little "
                                          "cat who liked to sail a boat on the lake.").arg(m).arg(c);
      if (!store.appendMessage(id.value(), m % 2 ? "assistant" : "user", text)) return false;
    }
  }
  return true;
}

int argValue(const QStringList& args, const QString& name, int fallback) {
  const int at = int(args.indexOf(name));
  return at >= 0 && at + 1 < args.size() ? args.at(at + 1).toInt() : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  QTemporaryDir home;
  qputenv("XDG_DATA_HOME", home.path().toUtf8());
  qputenv("XDG_CONFIG_HOME", home.path().toUtf8());
  QCoreApplication::setOrganizationName("Sieve");
  QCoreApplication::setApplicationName("Sieve");
  QCoreApplication app(argc, argv);
  const int conversations = argValue(app.arguments(), "--conversations", 1000);
  const int runs = std::max(1, argValue(app.arguments(), "--runs", 3));

  {
    HistoryStore store;  // the app's default path under this home
    QElapsedTimer filling;
    filling.start();
    if (!store.open() || !fillHistory(store, conversations)) return 1;
    std::printf("history: %d conversations, %d messages in %s (written in %.1f s)\n", conversations,
                conversations * 4, qPrintable(store.path()), filling.elapsed() / 1000.0);
  }

  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("QT_QPA_PLATFORM", "offscreen");
  env.insert("QT_QUICK_BACKEND", "software");
  env.insert("SIEVE_STARTUP_REPORT", "1");
  const QRegularExpression report("first frame after (\\d+) ms; (\\d+) conversations stored, (-?\\d+) listed");
  std::vector<double> wall;
  std::vector<double> own;
  for (int run = 0; run < runs; ++run) {
    QProcess desktop;
    desktop.setProcessEnvironment(env);
    QElapsedTimer timer;
    timer.start();
    desktop.start(QStringLiteral(SIEVE_DESKTOP_PATH), {});
    if (!desktop.waitForFinished(30000)) {
      std::fprintf(stderr, "sieve-desktop did not show its window and quit within 30 s\n");
      return 1;
    }
    wall.push_back(timer.elapsed() / 1000.0);
    const QString out = QString::fromLocal8Bit(desktop.readAllStandardOutput());
    const auto match = report.match(out);
    if (!match.hasMatch() || match.captured(2).toInt() != conversations || match.captured(3).toInt() != conversations) {
      std::fprintf(stderr, "unexpected report from sieve-desktop:\n%s\n%s\n", qPrintable(out),
                   qPrintable(QString::fromLocal8Bit(desktop.readAllStandardError())));
      return 1;
    }
    own.push_back(match.captured(1).toDouble() / 1000.0);
    std::printf("run %d: first frame %.3f s after main(); process start to exit %.3f s; %s conversations listed "
                "(the sidebar's ListView count: %s)\n",
                run + 1, own.back(), wall.back(), qPrintable(match.captured(2)), qPrintable(match.captured(3)));
  }
  // The median run is held to the limit: one run slowed by another process
  // on a shared machine is not the app's startup, a slower app moves them all.
  std::vector<double> sorted = wall;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::printf("startup with %d conversations: best %.3f s, median %.3f s, worst %.3f s (process start to exit; "
              "limit %.1f s on the median)\n",
              conversations, sorted.front(), median, sorted.back(), kLimitSeconds);
  if (median >= kLimitSeconds) {
    std::fprintf(stderr, "FAIL: startup took %.3f s (median of %d runs), over the %.1f s limit\n", median, runs,
                 kLimitSeconds);
    return 1;
  }
  return 0;
}
