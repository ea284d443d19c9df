#include "desktop/preset_store.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include "desktop/history_sql.h"
#include "desktop/history_store.h"

namespace sieve::app {
namespace {

using history_sql::describe;
using history_sql::notNull;
using history_sql::run;

QString tr(const char* text) { return QCoreApplication::translate("Preset", text); }

// Schema version 5's tables (preset_store.h).
const QStringList& presetSchema() {
  static const QStringList statements = {
      "CREATE TABLE presets ("
      " id INTEGER PRIMARY KEY, name TEXT NOT NULL, model TEXT NOT NULL DEFAULT '',"
      " model_name TEXT NOT NULL DEFAULT '', built_in INTEGER NOT NULL DEFAULT 0,"
      " system_prompt TEXT NOT NULL DEFAULT '', temperature REAL NOT NULL, top_p REAL NOT NULL,"
      " top_k INTEGER NOT NULL, min_p REAL NOT NULL, repeat_penalty REAL NOT NULL,"
      " max_tokens INTEGER NOT NULL, created INTEGER NOT NULL)",
      // NOCASE folds ASCII only; checkNameIsFree() compares the way the user reads.
      "CREATE UNIQUE INDEX presets_by_scope_and_name ON presets(model, name COLLATE NOCASE)",
      "CREATE UNIQUE INDEX presets_one_built_in ON presets(built_in) WHERE built_in = 1",
      "ALTER TABLE conversations ADD COLUMN preset_id INTEGER REFERENCES presets(id) ON DELETE SET NULL",
      "CREATE INDEX conversations_by_preset ON conversations(preset_id)",
      "CREATE TABLE model_presets ("
      " model TEXT PRIMARY KEY, preset_id INTEGER NOT NULL REFERENCES presets(id) ON DELETE CASCADE)",
  };
  return statements;
}

// The columns readPreset() expects, in order.
const char* const kColumns =
    "id, name, model, model_name, built_in, system_prompt, temperature, top_p, top_k, min_p, repeat_penalty,"
    " max_tokens";
// list()'s order: the Default, then every model's by name, then one model's by model and name.
const char* const kOrder = " ORDER BY built_in DESC, model <> '', model_name, name COLLATE NOCASE, id";

template <typename T>
Result<T> failWith(const QString& error) {
  return Result<T>::failure(error);
}

Preset readPreset(const QSqlQuery& q) {
  Preset p;
  p.id = q.value(0).toLongLong();
  p.name = q.value(1).toString();
  p.model = q.value(2).toString();
  p.modelName = q.value(3).toString();
  p.builtIn = q.value(4).toBool();
  p.systemPrompt = q.value(5).toString();
  p.temperature = q.value(6).toDouble();
  p.topP = q.value(7).toDouble();
  p.topK = q.value(8).toInt();
  p.minP = q.value(9).toDouble();
  p.repeatPenalty = q.value(10).toDouble();
  p.maxTokens = q.value(11).toInt();
  return p;
}

// The values of every column but id and created, in kColumns' order.
QVariantList valuesOf(const Preset& p) {
  return {p.name.trimmed(), notNull(p.model), notNull(p.modelName), p.builtIn ? 1 : 0, notNull(p.systemPrompt),
          p.temperature, p.topP, p.topK, p.minP, p.repeatPenalty, p.maxTokens};
}

Result<qint64> insert(QSqlDatabase& db, const Preset& p) {
  QVariantList values = valuesOf(p);
  values << QDateTime::currentMSecsSinceEpoch();
  auto q = run(db, "saving a preset",
               "INSERT INTO presets(name, model, model_name, built_in, system_prompt, temperature, top_p, top_k,"
               " min_p, repeat_penalty, max_tokens, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               values);
  if (!q) return failWith<qint64>(q.error());
  return q.value().lastInsertId().toLongLong();
}

Result<QList<Preset>> readAll(Result<QSqlQuery> q) {
  if (!q) return failWith<QList<Preset>>(q.error());
  QList<Preset> list;
  while (q.value().next()) list.append(readPreset(q.value()));
  return list;
}

// Runs `body` in one transaction of `db`: committed when it succeeds, rolled back otherwise.
template <typename T, typename Body>
Result<T> inTransaction(QSqlDatabase& db, const QString& what, Body body) {
  if (!db.transaction()) return failWith<T>(describe(what, db.lastError()));
  Result<T> result = body();
  if (!result || !db.commit()) {
    const QString error = result ? describe(what, db.lastError()) : result.error();
    db.rollback();
    return failWith<T>(error);
  }
  return result;
}

}  // namespace

Result<Done> PresetStore::createTables(QSqlDatabase& db, const QList<Preset>& seed) {
  if (auto created = history_sql::runAll(db, "creating the presets", presetSchema()); !created) return created;
  Preset builtIn = Preset::builtInDefaults();
  for (const Preset& p : seed) {
    if (p.builtIn) builtIn = p;
  }
  builtIn.model.clear();
  builtIn.modelName.clear();
  if (auto stored = insert(db, withinLimits(builtIn)); !stored) return Result<Done>::failure(stored.error());
  for (Preset p : seed) {
    if (p.builtIn || p.forAllModels()) continue;  // only a model's own settings are carried over beside the Default
    p = withinLimits(p);
    const auto id = insert(db, p);
    if (!id) return Result<Done>::failure(id.error());
    auto last = run(db, "saving a preset", "INSERT OR REPLACE INTO model_presets(model, preset_id) VALUES (?, ?)",
                    {p.model, id.value()});
    if (!last) return Result<Done>::failure(last.error());
  }
  return Done{};
}

Result<QList<Preset>> PresetStore::list() {
  auto db = history_.database();
  if (!db) return failWith<QList<Preset>>(db.error());
  return readAll(run(db.value(), "listing presets", QStringLiteral("SELECT %1 FROM presets%2").arg(kColumns, kOrder)));
}

Result<QList<Preset>> PresetStore::offeredWith(const QString& model) {
  auto db = history_.database();
  if (!db) return failWith<QList<Preset>>(db.error());
  return readAll(run(db.value(), "listing presets",
                     QStringLiteral("SELECT %1 FROM presets WHERE model = '' OR model = ?%2").arg(kColumns, kOrder),
                     {notNull(model)}));
}

Result<Preset> PresetStore::preset(qint64 id) {
  auto db = history_.database();
  if (!db) return failWith<Preset>(db.error());
  auto q = run(db.value(), "reading a preset", QStringLiteral("SELECT %1 FROM presets WHERE id = ?").arg(kColumns), {id});
  if (!q) return failWith<Preset>(q.error());
  if (!q.value().next()) return failWith<Preset>(tr("No preset %1.").arg(id));
  return readPreset(q.value());
}

Result<Preset> PresetStore::defaultPreset() {
  auto db = history_.database();
  if (!db) return failWith<Preset>(db.error());
  auto q = run(db.value(), "reading the Default preset",
               QStringLiteral("SELECT %1 FROM presets WHERE built_in = 1").arg(kColumns));
  if (!q) return failWith<Preset>(q.error());
  if (!q.value().next()) return failWith<Preset>(tr("The history database has no Default preset."));
  return readPreset(q.value());
}

Result<Done> PresetStore::checkNameIsFree(QSqlDatabase& db, const Preset& preset) {
  auto q = run(db, "checking a preset's name", "SELECT id, name FROM presets WHERE model = ? AND id <> ?",
               {notNull(preset.model), preset.id});
  if (!q) return failWith<Done>(q.error());
  const QString name = preset.name.trimmed();
  while (q.value().next()) {
    if (q.value().value(1).toString().compare(name, Qt::CaseInsensitive) != 0) continue;
    return failWith<Done>(preset.forAllModels()
                              ? tr("There is already a preset named \u201c%1\u201d for all models.").arg(name)
                              : tr("There is already a preset named \u201c%1\u201d for %2.")
                                    .arg(name, preset.modelName.isEmpty() ? preset.model : preset.modelName));
  }
  return Done{};
}

Result<qint64> PresetStore::create(const Preset& preset) {
  if (const QString why = validatePreset(preset); !why.isEmpty()) return failWith<qint64>(why);
  if (preset.builtIn) return failWith<qint64>(tr("There is only one Default preset."));
  auto db = history_.database();
  if (!db) return failWith<qint64>(db.error());
  return inTransaction<qint64>(db.value(), "saving a preset", [&]() -> Result<qint64> {
    if (auto free = checkNameIsFree(db.value(), preset); !free) return failWith<qint64>(free.error());
    return insert(db.value(), preset);
  });
}

Result<Done> PresetStore::update(const Preset& preset) {
  if (const QString why = validatePreset(preset); !why.isEmpty()) return failWith<Done>(why);
  auto db = history_.database();
  if (!db) return failWith<Done>(db.error());
  return inTransaction<Done>(db.value(), "saving a preset", [&]() -> Result<Done> {
    auto stored = run(db.value(), "saving a preset", "SELECT built_in FROM presets WHERE id = ?", {preset.id});
    if (!stored) return failWith<Done>(stored.error());
    if (!stored.value().next()) return failWith<Done>(tr("No preset %1.").arg(preset.id));
    if (stored.value().value(0).toBool() && !preset.forAllModels()) {
      return failWith<Done>(tr("The Default preset is for every model."));
    }
    if (auto free = checkNameIsFree(db.value(), preset); !free) return free;
    QVariantList values = valuesOf(preset);
    values.removeAt(3);  // built_in: the Default stays the Default, the others stay deletable
    values << preset.id;
    auto q = run(db.value(), "saving a preset",
                 "UPDATE presets SET name = ?, model = ?, model_name = ?, system_prompt = ?, temperature = ?,"
                 " top_p = ?, top_k = ?, min_p = ?, repeat_penalty = ?, max_tokens = ? WHERE id = ?",
                 values);
    if (!q) return failWith<Done>(q.error());
    // A preset now for one model only is no longer another model's last used.
    auto last = run(db.value(), "saving a preset",
                    "DELETE FROM model_presets WHERE preset_id = ? AND ? <> '' AND model <> ?",
                    {preset.id, notNull(preset.model), notNull(preset.model)});
    if (!last) return failWith<Done>(last.error());
    return Done{};
  });
}

Result<int> PresetStore::remove(qint64 id) {
  auto db = history_.database();
  if (!db) return failWith<int>(db.error());
  return inTransaction<int>(db.value(), "deleting a preset", [&]() -> Result<int> {
    auto which = run(db.value(), "deleting a preset", "SELECT built_in FROM presets WHERE id = ?", {id});
    if (!which) return failWith<int>(which.error());
    if (!which.value().next()) return failWith<int>(tr("No preset %1.").arg(id));
    if (which.value().value(0).toBool()) return failWith<int>(tr("The Default preset cannot be deleted."));
    // The foreign keys would do both; said here too, so no connection setting can leave a dangling id.
    auto fellBack = run(db.value(), "deleting a preset", "UPDATE conversations SET preset_id = NULL WHERE preset_id = ?",
                        {id});
    if (!fellBack) return failWith<int>(fellBack.error());
    const int conversations = fellBack.value().numRowsAffected();
    auto gone = run(db.value(), "deleting a preset", "DELETE FROM model_presets WHERE preset_id = ?", {id});
    if (gone) gone = run(db.value(), "deleting a preset", "DELETE FROM presets WHERE id = ? AND built_in = 0", {id});
    if (!gone) return failWith<int>(gone.error());
    return conversations;
  });
}

Result<int> PresetStore::conversationsUsing(qint64 id) {
  auto db = history_.database();
  if (!db) return failWith<int>(db.error());
  auto q = run(db.value(), "counting a preset's conversations", "SELECT COUNT(*) FROM conversations WHERE preset_id = ?",
               {id});
  if (!q) return failWith<int>(q.error());
  return q.value().next() ? q.value().value(0).toInt() : 0;
}

Result<QString> PresetStore::freeName(const QString& base, const QString& model) {
  auto db = history_.database();
  if (!db) return failWith<QString>(db.error());
  Preset probe;
  probe.model = model;
  const QString stem = base.trimmed().left(PresetLimits::kMaxNameLength - 6);  // room for " 9999"
  for (int n = 1; n < 10000; ++n) {
    probe.name = n == 1 ? stem : QStringLiteral("%1 %2").arg(stem).arg(n);
    if (checkNameIsFree(db.value(), probe)) return probe.name;
  }
  return failWith<QString>(tr("No free name for a preset like \u201c%1\u201d.").arg(base));
}

Result<qint64> PresetStore::conversationPreset(qint64 conversation) {
  auto db = history_.database();
  if (!db) return failWith<qint64>(db.error());
  auto q = run(db.value(), "reading a conversation's preset",
               "SELECT COALESCE(c.preset_id, (SELECT id FROM presets WHERE built_in = 1)) FROM conversations c"
               " WHERE c.id = ?",
               {conversation});
  if (!q) return failWith<qint64>(q.error());
  if (!q.value().next()) return failWith<qint64>(tr("No conversation %1.").arg(conversation));
  return q.value().value(0).toLongLong();
}

Result<Done> PresetStore::setConversationPreset(qint64 conversation, qint64 presetId) {
  const auto chosen = preset(presetId);
  if (!chosen) return failWith<Done>(chosen.error());
  auto db = history_.database();
  if (!db) return failWith<Done>(db.error());
  const QVariant stored = chosen.value().builtIn ? QVariant(QMetaType::fromType<qint64>()) : QVariant(presetId);
  auto q = run(db.value(), "choosing a conversation's preset", "UPDATE conversations SET preset_id = ? WHERE id = ?",
               {stored, conversation});
  if (!q) return failWith<Done>(q.error());
  if (q.value().numRowsAffected() != 1) return failWith<Done>(tr("No conversation %1.").arg(conversation));
  return Done{};
}

Result<Preset> PresetStore::effective(qint64 conversation, const QString& model) {
  const auto id = conversationPreset(conversation);
  if (!id) return failWith<Preset>(id.error());
  auto chosen = preset(id.value());
  if (chosen && chosen.value().offeredWith(model)) return chosen;
  return defaultPreset();
}

Result<Preset> PresetStore::forNewConversation(const QString& model) {
  auto db = history_.database();
  if (!db) return failWith<Preset>(db.error());
  auto q = run(db.value(), "reading a model's last preset",
               QStringLiteral("SELECT %1 FROM presets WHERE id = (SELECT preset_id FROM model_presets WHERE model = ?)")
                   .arg(kColumns),
               {notNull(model)});
  if (!q) return failWith<Preset>(q.error());
  if (q.value().next()) {
    Preset last = readPreset(q.value());
    if (last.offeredWith(model)) return last;
  }
  return defaultPreset();
}

Result<Done> PresetStore::setLastUsedWith(const QString& model, qint64 presetId) {
  auto db = history_.database();
  if (!db) return failWith<Done>(db.error());
  auto q = run(db.value(), "remembering a model's preset",
               "INSERT OR REPLACE INTO model_presets(model, preset_id) VALUES (?, ?)", {notNull(model), presetId});
  if (!q) return failWith<Done>(q.error());
  return Done{};
}

}  // namespace sieve::app
