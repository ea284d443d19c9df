#pragma once
// The app's log: every Qt message (qDebug/qInfo/qWarning..., with its
// logging category, desktop/log_categories.h) goes to a rotating file in the
// app's data folder, <AppDataLocation>/logs/sieve.log, and on to the message
// handler that was installed before (Qt's default writes to stderr).
//
// Rotation: before a line would take sieve.log past `maxBytes` (1 MiB),
// sieve.log becomes sieve.log.1, sieve.log.1 becomes sieve.log.2, and the
// oldest beyond `files` (3 files in all) is deleted.
//
// Global state: qInstallMessageHandler takes a plain function pointer with no
// user data, so the handler finds the log and the handler it replaced through
// one static (an atomic pointer to the installed MessageLogInstallation). That
// is the only global; everything else lives in the objects main() owns.

#include <QFile>
#include <QMutex>
#include <QString>
#include <QtGlobal>

namespace sieve::app {

struct LogLimits {
  qint64 maxBytes = 1024 * 1024;  // sieve.log rotates before it grows past this
  int files = 3;                  // sieve.log, sieve.log.1, sieve.log.2
};

// A log file that rotates by size. write() is thread-safe: each line is
// written whole, in one piece, under a mutex, and flushed.
class RotatingLogFile {
 public:
  explicit RotatingLogFile(QString path, LogLimits limits = {});

  // Creates the folder and opens the file to append. False (with `error`
  // set, one sentence) when it cannot; write() then does nothing.
  bool open(QString* error = nullptr);
  bool isOpen() const;
  void write(const QByteArray& line);

  const QString& path() const { return path_; }
  const LogLimits& limits() const { return limits_; }

 private:
  void rotate();  // with mutex_ held

  const QString path_;
  const LogLimits limits_;
  mutable QMutex mutex_;
  QFile file_;
};

// <AppDataLocation>/logs/sieve.log (on Linux ~/.local/share/Sieve/Sieve/logs/sieve.log).
QString defaultLogPath();

// One line of the log: "2026-12-06T21:13:25.123Z warning sieve.app: text\n" (UTC).
QByteArray formatLogLine(QtMsgType type, const QMessageLogContext& context, const QString& message);

// While it lives, Qt's messages go to `log` and to the handler installed
// before it. One at a time (a second one warns and does nothing); install it before starting threads that log and
// destroy it after they have stopped (main() owns it for the app's lifetime).
class MessageLogInstallation {
 public:
  explicit MessageLogInstallation(RotatingLogFile& log);
  ~MessageLogInstallation();
  MessageLogInstallation(const MessageLogInstallation&) = delete;
  MessageLogInstallation& operator=(const MessageLogInstallation&) = delete;

 private:
  static void handle(QtMsgType type, const QMessageLogContext& context, const QString& message);

  RotatingLogFile& log_;
  QtMessageHandler previous_ = nullptr;
  bool active_ = false;
};

}  // namespace sieve::app
