#include "desktop/app_settings.h"

#include <QFileInfo>
#include <QGuiApplication>
#include <QHash>
#include <QPalette>
#include <QUrl>

namespace sieve::app {
namespace {

// Keys a model may override, with their defaults (the engine's and the
// sampler's). "auto": the engine picks dense, flash or mmap from the model and
// the budget; dramBudget 0: the default budget, 60% of the memory available
// when the engine loads (MemoryPlanner::defaultBudget).
const QHash<QString, QVariant>& perModelDefaults() {
  static const QHash<QString, QVariant> defaults = {
      {"mode", QStringLiteral("auto")},
      {"dramBudget", 0.0},
      {"sparseWindow", 4},
      {"sparsePredictor", QStringLiteral("gate")},
      {"threads", 0},
      {"contextLength", 0},
  };
  return defaults;
}

const QHash<QString, QVariant>& globalDefaults() {
  static const QHash<QString, QVariant> defaults = {
      {"theme", QStringLiteral("system")}, {"lastModel", QString()},
      {"serverEnabled", false},            {"serverPort", 8080},
      {"serverAllowRemote", false},        {"serverApiKey", QString()},
  };
  return defaults;
}

// The system prompt and sampling of `group` ("settings", or a model's) as
// versions before presets kept them; a key not there takes `fallback`'s value.
Preset samplingOf(const QSettings& store, const QString& group, const Preset& fallback) {
  const auto read = [&](const char* key, const QVariant& otherwise) {
    return store.value(group + "/" + QLatin1String(key), otherwise);
  };
  Preset p = fallback;
  p.systemPrompt = read("systemPrompt", fallback.systemPrompt).toString();
  p.temperature = read("temperature", fallback.temperature).toDouble();
  p.topP = read("topP", fallback.topP).toDouble();
  p.topK = read("topK", fallback.topK).toInt();
  p.minP = read("minP", fallback.minP).toDouble();
  p.repeatPenalty = read("repeatPenalty", fallback.repeatPenalty).toDouble();
  p.maxTokens = read("maxTokens", fallback.maxTokens).toInt();
  return p;
}

bool sameSampling(const Preset& a, const Preset& b) {
  return a.systemPrompt == b.systemPrompt && a.temperature == b.temperature && a.topP == b.topP && a.topK == b.topK &&
         a.minP == b.minP && a.repeatPenalty == b.repeatPenalty && a.maxTokens == b.maxTokens;
}

}  // namespace

AppSettings::AppSettings(const QString& file, QObject* parent)
    : QObject(parent),
      store_(file.isEmpty() ? std::make_unique<QSettings>() : std::make_unique<QSettings>(file, QSettings::IniFormat)) {}

AppSettings::~AppSettings() { store_->sync(); }

QString AppSettings::modelGroup() const {
  if (modelPath_.isEmpty()) return {};
  // Percent-encoded: a path's '/' would otherwise nest groups.
  return "models/" + QString::fromLatin1(QUrl::toPercentEncoding(modelPath_));
}

void AppSettings::setModelPath(const QString& path) {
  if (path == modelPath_) return;
  modelPath_ = path;
  emit modelPathChanged();
  emit changed();  // the overrides that apply may differ
}

bool AppSettings::perModel() const {
  const QString group = modelGroup();
  return !group.isEmpty() && store_->value(group + "/overrides", false).toBool();
}

void AppSettings::setPerModel(bool on) {
  const QString group = modelGroup();
  if (group.isEmpty() || on == perModel()) return;
  if (on) {
    // Start from what is in effect now, so turning it on changes nothing yet.
    for (auto it = perModelDefaults().begin(); it != perModelDefaults().end(); ++it) {
      store_->setValue(group + "/" + it.key(), value(it.key()));
    }
    store_->setValue(group + "/overrides", true);
  } else {
    store_->remove(group);
  }
  emit changed();
}

QVariant AppSettings::value(const QString& key) const {
  const QVariant fallback = store_->value("settings/" + key, perModelDefaults().value(key));
  if (!perModel()) return fallback;
  return store_->value(modelGroup() + "/" + key, fallback);
}

void AppSettings::setValue(const QString& key, const QVariant& v) {
  if (value(key) == v) return;
  store_->setValue((perModel() ? modelGroup() : QStringLiteral("settings")) + "/" + key, v);
  emit changed();
}

QVariant AppSettings::global(const QString& key) const {
  return store_->value("settings/" + key, globalDefaults().value(key));
}

void AppSettings::setGlobal(const QString& key, const QVariant& v) {
  if (global(key) == v) return;
  store_->setValue("settings/" + key, v);
  emit changed();
}

bool AppSettings::dark() const {
  const QString t = theme();
  if (t == QLatin1String("dark")) return true;
  if (t != QLatin1String("system") || !qobject_cast<QGuiApplication*>(QCoreApplication::instance())) return false;
  return QGuiApplication::palette().color(QPalette::Window).lightness() < 128;
}

void AppSettings::setServerPort(int port) {
  if (port >= 1 && port <= 65535) setGlobal("serverPort", port);
}

QList<Preset> AppSettings::presetSeed() const {
  const Preset global = samplingOf(*store_, QStringLiteral("settings"), Preset::builtInDefaults());
  QList<Preset> seed = {global};
  store_->beginGroup(QStringLiteral("models"));
  const QStringList models = store_->childGroups();
  store_->endGroup();
  for (const QString& encoded : models) {
    const QString group = "models/" + encoded;
    if (!store_->value(group + "/overrides", false).toBool()) continue;
    Preset own = samplingOf(*store_, group, global);
    if (sameSampling(own, global)) continue;
    own.builtIn = false;
    own.model = QUrl::fromPercentEncoding(encoded.toLatin1());
    own.modelName = QFileInfo(own.model).completeBaseName();
    own.name = own.modelName;
    seed.append(own);
  }
  return seed;
}

void AppSettings::resetToDefaults() {
  const QString prefix = perModel() ? modelGroup() : QStringLiteral("settings");
  for (auto it = perModelDefaults().begin(); it != perModelDefaults().end(); ++it) {
    store_->setValue(prefix + "/" + it.key(), it.value());
  }
  emit changed();
}

}  // namespace sieve::app
