#include "desktop/file_log.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QMutexLocker>
#include <QStandardPaths>
#include <atomic>
#include <cstdio>

namespace sieve::app {

namespace {

// The one global (see file_log.h): the installation the handler writes through.
std::atomic<MessageLogInstallation*> installed{nullptr};

QString rotatedPath(const QString& path, int index) { return path + "." + QString::number(index); }

const char* typeName(QtMsgType type) {
  switch (type) {
    case QtDebugMsg: return "debug";
    case QtInfoMsg: return "info";
    case QtWarningMsg: return "warning";
    case QtCriticalMsg: return "critical";
    case QtFatalMsg: return "fatal";
  }
  return "message";
}

}  // namespace

RotatingLogFile::RotatingLogFile(QString path, LogLimits limits) : path_(std::move(path)), limits_(limits) {
  file_.setFileName(path_);
}

bool RotatingLogFile::open(QString* error) {
  QMutexLocker lock(&mutex_);
  const QString folder = QFileInfo(path_).absolutePath();
  if (!QDir().mkpath(folder)) {
    if (error) *error = QString("Cannot create the log folder %1.").arg(folder);
    return false;
  }
  if (!file_.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Text)) {
    if (error) *error = QString("Cannot open the log file %1: %2.").arg(path_, file_.errorString());
    return false;
  }
  return true;
}

bool RotatingLogFile::isOpen() const {
  QMutexLocker lock(&mutex_);
  return file_.isOpen();
}

void RotatingLogFile::write(const QByteArray& line) {
  QMutexLocker lock(&mutex_);
  if (!file_.isOpen()) return;
  if (file_.size() > 0 && file_.size() + line.size() > limits_.maxBytes) rotate();
  if (!file_.isOpen()) return;
  file_.write(line);
  file_.flush();  // a crash keeps every line written before it
}

void RotatingLogFile::rotate() {
  file_.close();
  QFile::remove(rotatedPath(path_, limits_.files - 1));
  for (int i = limits_.files - 2; i >= 1; --i) QFile::rename(rotatedPath(path_, i), rotatedPath(path_, i + 1));
  if (limits_.files > 1) {
    QFile::rename(path_, rotatedPath(path_, 1));
  } else {
    QFile::remove(path_);
  }
  // If this fails (the disk went away), the log stops; the app goes on and stderr still gets every line.
  (void)file_.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Text);
}

QString defaultLogPath() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/logs/sieve.log";
}

QByteArray formatLogLine(QtMsgType type, const QMessageLogContext& context, const QString& message) {
  const QString time = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
  const char* category = context.category ? context.category : "default";
  QByteArray line = time.toUtf8() + ' ' + typeName(type) + ' ' + category + ": " + message.toUtf8();
  if (!line.endsWith('\n')) line += '\n';
  return line;
}

MessageLogInstallation::MessageLogInstallation(RotatingLogFile& log) : log_(log) {
  MessageLogInstallation* expected = nullptr;
  active_ = installed.compare_exchange_strong(expected, this);
  if (!active_) {
    qWarning("The log already goes to a file; %s is not used.", qPrintable(log.path()));
    return;
  }
  previous_ = qInstallMessageHandler(&MessageLogInstallation::handle);
}

MessageLogInstallation::~MessageLogInstallation() {
  if (!active_) return;
  qInstallMessageHandler(previous_);
  installed.store(nullptr);
}

void MessageLogInstallation::handle(QtMsgType type, const QMessageLogContext& context, const QString& message) {
  MessageLogInstallation* self = installed.load();
  if (!self) {  // only between the two steps of the destructor
    std::fprintf(stderr, "%s\n", qPrintable(message));
    return;
  }
  self->log_.write(formatLogLine(type, context, message));
  if (self->previous_) self->previous_(type, context, message);  // Qt's default: stderr
}

}  // namespace sieve::app
