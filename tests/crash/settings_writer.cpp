// settings_writer FILE: changes the app's settings (AppSettings over an INI
// file, the code the settings page uses) as fast as it can, forever, so
// kill-loop.sh can kill -9 it in the middle of a write. Round n sets threads
// = n, context length = 2n, a DRAM budget of n MiB and an API key (a long
// text) naming n, then syncs and prints "S n". (The system prompt and sampling
// are presets in the history database now, covered by its own kill tests.)
//
// settings_writer --check FILE LAST: after a kill, the file must read without
// error, hold one round's values (not a mix), and that round must be at least
// LAST, the last one reported synced. Exit 0 when all holds, else 1 with why.
#include <QCoreApplication>
#include <QSettings>
#include <cstdio>
#include <cstring>

#include "desktop/app_settings.h"

namespace {

QString longText(int round) { return QStringLiteral("A key long enough to span blocks, round %1. ").arg(round).repeated(20); }
double budget(int round) { return round * 1048576.0; }

int write_forever(const QString& file) {
  sieve::app::AppSettings settings(file);
  for (int round = 1;; ++round) {
    settings.setThreads(round);
    settings.setContextLength(2 * round);
    settings.setDramBudget(budget(round));
    settings.setServerApiKey(longText(round));
    settings.sync();
    std::printf("S %d\n", round);
    std::fflush(stdout);
  }
}

int check(const QString& file, int last) {
  {
    QSettings raw(file, QSettings::IniFormat);
    if (raw.status() != QSettings::NoError) {
      std::printf("settings file %s: QSettings status %d\n", qPrintable(file), static_cast<int>(raw.status()));
      return 1;
    }
  }
  sieve::app::AppSettings settings(file);
  const int round = settings.threads();
  if (last == 0 && round == 0) return 0;  // killed before the first sync finished
  const bool consistent = settings.contextLength() == 2 * round && settings.serverApiKey() == longText(round) &&
                          settings.dramBudget() == budget(round);
  if (!consistent || round < last) {
    std::printf("settings file %s: round %d (last synced %d), context %d, key %s\n", qPrintable(file), round, last,
                settings.contextLength(), settings.serverApiKey() == longText(round) ? "matches" : "differs");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  if (argc == 2) return write_forever(QString::fromLocal8Bit(argv[1]));
  if (argc == 4 && std::strcmp(argv[1], "--check") == 0) return check(QString::fromLocal8Bit(argv[2]), std::atoi(argv[3]));
  std::fprintf(stderr, "usage: settings_writer FILE | settings_writer --check FILE LAST\n");
  return 2;
}
