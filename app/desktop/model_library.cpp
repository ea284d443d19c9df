#include "desktop/model_library.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>
#include <algorithm>

namespace sieve::app {
namespace {

QString canonical(const QString& path) {
  const QFileInfo info(path);
  const QString resolved = info.canonicalFilePath();  // empty when the file is gone
  return resolved.isEmpty() ? info.absoluteFilePath() : resolved;
}

QString fileName(const QString& path) { return QFileInfo(path).fileName(); }

}  // namespace

QString modelDisplayName(const QString& generalName, const QString& filePath, const QString& architecture) {
  static const QStringList placeholders = {"model", "llama", "gguf", "unknown", "untitled", "default",
                                           "none", "name", "test", "my model", "new model"};
  const QString name = generalName.simplified();
  const QFileInfo file(filePath);
  const bool meaningless = name.isEmpty() || placeholders.contains(name, Qt::CaseInsensitive) ||
                           (!architecture.isEmpty() && name.compare(architecture, Qt::CaseInsensitive) == 0) ||
                           name == file.fileName();  // an engine's fallback: the file's name with extension
  if (!meaningless) return name;
  const QString stem = file.completeBaseName();
  return stem.isEmpty() ? (name.isEmpty() ? QStringLiteral("Unnamed model") : name) : stem;
}

QString formatBytes(qint64 bytes) {
  const double b = double(std::max<qint64>(bytes, 0));
  if (b >= double(1LL << 30)) return QStringLiteral("%1 GiB").arg(b / double(1LL << 30), 0, 'f', 2);
  if (b >= double(1LL << 20)) return QStringLiteral("%1 MiB").arg(b / double(1LL << 20), 0, 'f', b >= 100.0 * (1 << 20) ? 0 : 1);
  if (b >= 1024) return QStringLiteral("%1 KiB").arg(b / 1024, 0, 'f', 0);
  return QStringLiteral("%1 B").arg(bytes);
}

QString formatParameters(qint64 count) {
  if (count <= 0) return {};
  const double c = double(count);
  if (c >= 1e9) return QStringLiteral("%1B parameters").arg(c / 1e9, 0, 'f', 1);
  if (c >= 1e6) return QStringLiteral("%1M parameters").arg(c / 1e6, 0, 'f', c >= 1e8 ? 0 : 1);
  if (c >= 1e3) return QStringLiteral("%1K parameters").arg(c / 1e3, 0, 'f', 0);
  return QStringLiteral("%1 parameters").arg(count);
}

ModelLibrary::ModelLibrary(QString path) : path_(path.isEmpty() ? defaultPath() : std::move(path)) {}

QString ModelLibrary::defaultPath() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/models.json");
}

QString ModelLibrary::defaultModelsDir() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/models");
}

Result<Done> ModelLibrary::load() {
  entries_.clear();
  QFile file(path_);
  if (!file.exists()) return Done{};
  if (!file.open(QIODevice::ReadOnly)) {
    return Result<Done>::failure(QStringLiteral("%1: cannot read the model list: %2.").arg(path_, file.errorString()));
  }
  QJsonParseError parseError;
  const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
  file.close();
  QString problem;
  if (doc.isNull()) problem = parseError.errorString();
  else if (!doc.isObject() || !doc.object().value("models").isArray()) problem = QStringLiteral("no \"models\" list");
  else if (doc.object().value("version").toInt() > kFormatVersion) problem = QStringLiteral("written by a newer Sieve");
  if (!problem.isEmpty()) {
    const QString aside = path_ + QStringLiteral(".damaged");
    QFile::remove(aside);
    QFile::rename(path_, aside);
    return Result<Done>::failure(
        QStringLiteral("%1: the model list could not be read (%2); it was moved to %3 and the list starts empty.")
            .arg(path_, problem, fileName(aside)));
  }
  for (const QJsonValue& value : doc.object().value("models").toArray()) {
    ModelEntry entry = fromJson(value.toObject());
    if (!entry.id.isEmpty() && !entry.packPath.isEmpty()) entries_.append(std::move(entry));
  }
  return Done{};
}

int ModelLibrary::indexOfId(const QString& id) const {
  for (int i = 0; i < entries_.size(); ++i) {
    if (entries_[i].id == id) return i;
  }
  return -1;
}

int ModelLibrary::indexOfPath(const QString& path) const {
  const QString wanted = canonical(path);
  for (int i = 0; i < entries_.size(); ++i) {
    if (canonical(entries_[i].packPath) == wanted || canonical(entries_[i].sourcePath) == wanted) return i;
  }
  return -1;
}

Result<Done> ModelLibrary::add(ModelEntry entry) {
  if (entry.id.isEmpty() || entry.packPath.isEmpty()) {
    return Result<Done>::failure(QStringLiteral("A model entry needs an id and a file."));
  }
  if (indexOfId(entry.id) >= 0 || indexOfPath(entry.packPath) >= 0) {
    return Result<Done>::failure(QStringLiteral("%1 is already in your models.").arg(fileName(entry.packPath)));
  }
  entries_.append(std::move(entry));
  Result<Done> saved = save();
  if (!saved) entries_.removeLast();
  return saved;
}

Result<Done> ModelLibrary::remove(const QString& id, bool deletePack) {
  const int index = indexOfId(id);
  if (index < 0) return Result<Done>::failure(QStringLiteral("That model is no longer in the list."));
  const ModelEntry removed = entries_.takeAt(index);
  Result<Done> saved = save();
  if (!saved) {
    entries_.insert(index, removed);
    return saved;
  }
  // Only after the list no longer names it, so a failed save never leaves an entry without its file.
  if (deletePack && removed.ownsPack && QFile::exists(removed.packPath) && !QFile::remove(removed.packPath)) {
    return Result<Done>::failure(
        QStringLiteral("%1 was removed from the list, but its pack could not be deleted.").arg(removed.packPath));
  }
  return Done{};
}

bool ModelLibrary::isAvailable(const ModelEntry& entry) { return QFileInfo(entry.packPath).isFile(); }

Result<Done> ModelLibrary::save() const {
  if (!QDir().mkpath(QFileInfo(path_).absolutePath())) {
    return Result<Done>::failure(QStringLiteral("%1: cannot create its folder.").arg(path_));
  }
  QJsonArray models;
  for (const ModelEntry& entry : entries_) models.append(toJson(entry));
  QJsonObject root;
  root.insert("version", kFormatVersion);
  root.insert("models", models);
  QSaveFile file(path_);
  if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(root).toJson()) < 0 || !file.commit()) {
    return Result<Done>::failure(QStringLiteral("%1: cannot save the model list: %2.").arg(path_, file.errorString()));
  }
  return Done{};
}

QJsonObject ModelLibrary::toJson(const ModelEntry& e) {
  QJsonObject o;
  o.insert("id", e.id);
  o.insert("name", e.name);
  o.insert("sourcePath", e.sourcePath);
  o.insert("packPath", e.packPath);
  o.insert("ownsPack", e.ownsPack);
  // Sizes as strings would survive past 2^53, but doubles hold every file size this app will see.
  o.insert("sourceBytes", double(e.sourceBytes));
  o.insert("packBytes", double(e.packBytes));
  o.insert("types", QJsonArray::fromStringList(e.types));
  o.insert("architecture", e.architecture);
  o.insert("parameters", double(e.parameters));
  o.insert("minimumDramBytes", double(e.minimumDramBytes));
  o.insert("fullDramBytes", double(e.fullDramBytes));
  o.insert("planContext", double(e.planContext));
  o.insert("added", e.added.toUTC().toString(Qt::ISODateWithMs));
  return o;
}

ModelEntry ModelLibrary::fromJson(const QJsonObject& o) {
  ModelEntry e;
  e.id = o.value("id").toString();
  e.name = o.value("name").toString();
  e.sourcePath = o.value("sourcePath").toString();
  e.packPath = o.value("packPath").toString();
  e.ownsPack = o.value("ownsPack").toBool();
  e.sourceBytes = qint64(o.value("sourceBytes").toDouble());
  e.packBytes = qint64(o.value("packBytes").toDouble());
  for (const QJsonValue& t : o.value("types").toArray()) e.types.append(t.toString());
  e.architecture = o.value("architecture").toString();
  e.parameters = qint64(o.value("parameters").toDouble());
  e.minimumDramBytes = qint64(o.value("minimumDramBytes").toDouble());
  e.fullDramBytes = qint64(o.value("fullDramBytes").toDouble());
  e.planContext = qint64(o.value("planContext").toDouble());
  e.added = QDateTime::fromString(o.value("added").toString(), Qt::ISODateWithMs);
  e.name = modelDisplayName(e.name, e.sourcePath.isEmpty() ? e.packPath : e.sourcePath, e.architecture);
  return e;
}

}  // namespace sieve::app
