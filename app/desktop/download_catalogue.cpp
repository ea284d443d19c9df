#include "desktop/download_catalogue.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUrl>

namespace sieve::app {

QString userCataloguePath() {
  return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation) + QStringLiteral("/catalogue.json");
}

Catalogue readCatalogueFile(const QString& path) {
  Catalogue catalogue;
  catalogue.source = path;
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    catalogue.error = QStringLiteral("%1: cannot read the model catalogue: %2.").arg(path, file.errorString());
    return catalogue;
  }
  QJsonParseError parseError;
  const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
  if (doc.isNull() || !doc.object().value("models").isArray()) {
    catalogue.error = QStringLiteral("%1: not a model catalogue (%2).")
                          .arg(path, doc.isNull() ? parseError.errorString() : QStringLiteral("no \"models\" list"));
    return catalogue;
  }
  static const QRegularExpression hexSha256(QStringLiteral("^[0-9a-f]{64}$"));
  int position = 0;
  for (const QJsonValue& value : doc.object().value("models").toArray()) {
    ++position;
    const QJsonObject o = value.toObject();
    CatalogueEntry e;
    e.name = o.value("name").toString().trimmed();
    e.url = o.value("url").toString().trimmed();
    e.description = o.value("description").toString();
    e.approximateBytes = qint64(o.value("approximateBytes").toDouble());
    e.bytes = qint64(o.value("bytes").toDouble());
    e.sha256 = o.value("sha256").toString().trimmed().toLower();
    const QUrl url(e.url);
    if (e.name.isEmpty() || !url.isValid() || (url.scheme() != "https" && url.scheme() != "http")) {
      catalogue.error = QStringLiteral("%1: model %2 needs a name and an http(s) url.").arg(path).arg(position);
      catalogue.entries.clear();
      return catalogue;
    }
    if (!e.sha256.isEmpty() && !hexSha256.match(e.sha256).hasMatch()) {
      catalogue.error = QStringLiteral("%1: the sha256 of %2 is not 64 hexadecimal digits.").arg(path, e.name);
      catalogue.entries.clear();
      return catalogue;
    }
    catalogue.entries.append(e);
  }
  return catalogue;
}

Catalogue loadCatalogue(const QString& userPath) {
  if (!userPath.isEmpty() && QFile::exists(userPath)) {
    Catalogue user = readCatalogueFile(userPath);
    if (user.error.isEmpty()) return user;
    Catalogue builtIn = readCatalogueFile(QString::fromLatin1(kBuiltInCatalogue));
    builtIn.error = user.error + QStringLiteral(" The built-in list is shown.");
    return builtIn;
  }
  return readCatalogueFile(QString::fromLatin1(kBuiltInCatalogue));
}

}  // namespace sieve::app
