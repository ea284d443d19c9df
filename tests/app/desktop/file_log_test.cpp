// The rotating log (desktop/file_log.h) in a real temporary folder: rotation
// at the size limit keeping 3 files, whole lines from many threads, the
// message handler writing categories and passing messages on, a folder
// created on open, and a clear error where no file can be made.
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <memory>
#include <vector>

#include "desktop/file_log.h"
#include "desktop/log_categories.h"

using namespace sieve::app;

namespace {

QStringList linesOf(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) return {};
  QStringList lines = QString::fromUtf8(file.readAll()).split('\n');
  if (!lines.isEmpty() && lines.last().isEmpty()) lines.removeLast();
  return lines;
}

// The messages the handler passed on (the "previous" handler in these tests).
QStringList* forwarded = nullptr;
void recordForwarded(QtMsgType, const QMessageLogContext& context, const QString& message) {
  if (forwarded) forwarded->append(QString("%1: %2").arg(context.category, message));
}

}  // namespace

class FileLogTest : public QObject {
  Q_OBJECT

 private slots:
  void defaultsAreOneMibAndThreeFiles() {
    const LogLimits limits;
    QCOMPARE(limits.maxBytes, 1024 * 1024);
    QCOMPARE(limits.files, 3);
    QVERIFY(defaultLogPath().endsWith("/logs/sieve.log"));
  }

  void rotatesAtTheLimitKeepingThreeFiles() {
    QTemporaryDir dir;
    const QString path = dir.path() + "/logs/sieve.log";  // the folder does not exist yet
    RotatingLogFile log(path, {4096, 3});
    QString error;
    QVERIFY2(log.open(&error), qPrintable(error));
    for (int i = 0; i < 400; ++i) log.write(QString("line %1 %2\n").arg(i, 4, 10, QChar('0')).arg(QString(80, 'x')).toUtf8());

    QVERIFY(QFile::exists(path));
    QVERIFY(QFile::exists(path + ".1"));
    QVERIFY(QFile::exists(path + ".2"));
    QVERIFY(!QFile::exists(path + ".3"));
    QCOMPARE(QDir(dir.path() + "/logs").entryList(QDir::Files).size(), 3);
    QVERIFY(QFileInfo(path).size() <= 4096);
    for (const QString& file : {path + ".1", path + ".2"}) {  // each was nearly full when it rotated
      QVERIFY2(QFileInfo(file).size() <= 4096, qPrintable(file));
      QVERIFY2(QFileInfo(file).size() > 4096 - 100, qPrintable(file));
    }
    // Oldest to newest: .2, .1, sieve.log, one run of consecutive lines ending with the last.
    const QStringList kept = linesOf(path + ".2") + linesOf(path + ".1") + linesOf(path);
    QVERIFY(kept.size() > 100);
    QVERIFY(kept.last().startsWith("line 0399 "));
    const int first = kept.first().mid(5, 4).toInt();
    for (int i = 0; i < kept.size(); ++i) QCOMPARE(kept[i].mid(5, 4).toInt(), first + i);
  }

  // A log already past the limit (from an earlier run) rotates on its first write.
  void reopenedLogContinuesAndRotates() {
    QTemporaryDir dir;
    const QString path = dir.path() + "/sieve.log";
    {
      RotatingLogFile log(path, {100, 3});
      QVERIFY(log.open());
      log.write(QByteArray(119, 'a') + '\n');  // one line longer than the limit: written whole
    }
    RotatingLogFile log(path, {100, 3});
    QVERIFY(log.open());
    log.write("next\n");
    QCOMPARE(linesOf(path), QStringList{"next"});
    QCOMPARE(linesOf(path + ".1"), QStringList{QString(119, 'a')});
    // Under the limit, a new run appends to what the last one wrote.
    RotatingLogFile again(path, {100, 3});
    QVERIFY(again.open());
    again.write("after\n");
    QCOMPARE(linesOf(path), (QStringList{"next", "after"}));
  }

  void unwritableFolderIsAClearError() {
    QTemporaryDir dir;
    QFile blocker(dir.path() + "/file");
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    RotatingLogFile log(dir.path() + "/file/logs/sieve.log");
    QString error;
    QVERIFY(!log.open(&error));
    QVERIFY2(error.contains("log folder"), qPrintable(error));
    log.write("ignored\n");  // no crash, nothing written
    QVERIFY(!log.isOpen());
  }

  void handlerWritesCategoriesAndPassesMessagesOn() {
    QTemporaryDir dir;
    RotatingLogFile log(dir.path() + "/sieve.log");
    QVERIFY(log.open());
    QStringList passedOn;
    forwarded = &passedOn;
    const QtMessageHandler before = qInstallMessageHandler(recordForwarded);
    {
      MessageLogInstallation installation(log);
      qCWarning(lcHistory) << "the history is read-only";
      qCInfo(lcEngine) << "loaded";
      qCDebug(lcApp) << "hidden";  // debug is off by default
      {
        MessageLogInstallation second(log);  // refused with a warning, changes nothing
      }
      qCInfo(lcApp) << "still logging";
    }
    qInfo("after");  // not in the file any more
    qInstallMessageHandler(before);
    forwarded = nullptr;

    const QStringList lines = linesOf(log.path());
    QCOMPARE(lines.size(), 4);
    const QRegularExpression shape(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warning) [a-z.]+: .+$)");
    for (const QString& line : lines) QVERIFY2(shape.match(line).hasMatch(), qPrintable(line));
    QVERIFY(lines[0].endsWith(" warning sieve.history: the history is read-only"));
    QVERIFY(lines[1].endsWith(" info sieve.engine: loaded"));
    QVERIFY(lines[2].contains(" warning default: The log already goes to a file"));
    QVERIFY(lines[3].endsWith(" info sieve.app: still logging"));
    // Every message also reached the handler installed before (Qt's default one prints to stderr).
    QCOMPARE(passedOn.size(), 5);
    QCOMPARE(passedOn[0], QString("sieve.history: the history is read-only"));
    QCOMPARE(passedOn[4], QString("default: after"));
  }

  // Four threads log at once through the handler, rotating as they go: every line stays whole.
  void threadsWriteWholeLines() {
    QTemporaryDir dir;
    RotatingLogFile log(dir.path() + "/sieve.log", {64 * 1024, 3});
    QVERIFY(log.open());
    forwarded = nullptr;  // passed on to a handler that keeps nothing (not to stderr, 6,000 lines)
    const QtMessageHandler before = qInstallMessageHandler(recordForwarded);
    {
      MessageLogInstallation installation(log);
      std::vector<std::unique_ptr<QThread>> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back(QThread::create([t] {
          for (int i = 0; i < 1500; ++i) qCInfo(lcEngine, "thread %d message %d %s", t, i, "yyyyyyyyyyyyyyyyyyyy");
        }));
        threads.back()->start();
      }
      for (auto& thread : threads) QVERIFY(thread->wait(60000));
    }
    qInstallMessageHandler(before);
    const QRegularExpression shape(R"(^\S+Z info sieve\.engine: thread [0-3] message \d+ y{20}$)");
    int lines = 0;
    for (const QString& file : {log.path() + ".2", log.path() + ".1", log.path()}) {
      QVERIFY2(QFileInfo(file).size() <= 64 * 1024, qPrintable(file));
      for (const QString& line : linesOf(file)) {
        QVERIFY2(shape.match(line).hasMatch(), qPrintable(line));
        ++lines;
      }
    }
    QVERIFY(lines > 1000);
    QVERIFY(!QFile::exists(log.path() + ".3"));
  }
};

QTEST_GUILESS_MAIN(FileLogTest)
#include "file_log_test.moc"
