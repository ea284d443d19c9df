#include "desktop/conversation_export.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>

namespace sieve::app {
namespace {

QString suffixFor(const QString& format) {
  return format == QLatin1String("json") ? QStringLiteral("json") : QStringLiteral("md");
}

}  // namespace

QUrl suggestedExportFile(const QString& title, const QString& format) {
  QString name = title;
  // Characters no file system takes (and the path separators) become spaces.
  static const QRegularExpression unsafe(QStringLiteral("[\\\\/:*?\"<>|\\x00-\\x1f]"));
  name = name.replace(unsafe, QStringLiteral(" ")).simplified();
  if (name.isEmpty() || name == QLatin1String(".") || name == QLatin1String("..")) name = QStringLiteral("Conversation");
  QString folder = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
  if (folder.isEmpty() || !QDir(folder).exists()) folder = QDir::homePath();  // no Documents folder: home
  return QUrl::fromLocalFile(QDir(folder).filePath(name + '.' + suffixFor(format)));
}

Result<QString> writeExport(const QString& text, const QString& format, const QUrl& file) {
  QString path = file.isLocalFile() ? file.toLocalFile() : file.toString();
  if (QFileInfo(path).suffix().isEmpty()) path += '.' + suffixFor(format);  // a name typed without its extension
  QFile out(path);
  if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) || out.write(text.toUtf8()) < 0) {
    return Result<QString>::failure(QStringLiteral("Could not write %1: %2").arg(path, out.errorString()));
  }
  return path;
}

}  // namespace sieve::app
