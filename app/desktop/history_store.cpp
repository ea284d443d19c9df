#include "desktop/history_store.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QThread>
#include <QVariant>
#include <functional>

#include "desktop/history_sql.h"
#include "desktop/preset_store.h"

namespace sieve::app {
namespace {

using history_sql::describe;
using history_sql::notNull;
using history_sql::run;
using history_sql::runAll;

// Each step brings the schema from version (index) to (index + 1).
const QStringList& migrationV1() {
  static const QStringList statements = {
      "CREATE TABLE conversations ("
      " id INTEGER PRIMARY KEY, title TEXT NOT NULL, created INTEGER NOT NULL,"
      " updated INTEGER NOT NULL, model TEXT NOT NULL DEFAULT '')",
      "CREATE TABLE messages ("
      " id INTEGER PRIMARY KEY,"
      " conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
      " role TEXT NOT NULL, content TEXT NOT NULL, created INTEGER NOT NULL,"
      " complete INTEGER NOT NULL DEFAULT 1)",
      "CREATE INDEX messages_by_conversation ON messages(conversation_id, id)",
      "CREATE INDEX conversations_by_update ON conversations(updated)",
  };
  return statements;
}

// v2: full-text search over message content, kept in step by triggers.
const QStringList& migrationV2() {
  static const QStringList statements = {
      "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id')",
      "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
      " INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
      "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
      " INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); END",
      "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN"
      " INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);"
      " INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
      "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
  };
  return statements;
}

// v3: the engine mode each conversation was held with (beside its model), and
// small remembered values (the last open conversation).
const QStringList& migrationV3() {
  static const QStringList statements = {
      "ALTER TABLE conversations ADD COLUMN mode TEXT NOT NULL DEFAULT ''",
      "CREATE TABLE app_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  };
  return statements;
}

// v4: why a reply stopped early, and the versions of regenerated replies.
// messages.content stays the version shown (what the next turn sends), so
// everything that reads messages works unchanged.
const QStringList& migrationV4() {
  static const QStringList statements = {
      "ALTER TABLE messages ADD COLUMN stop_reason TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE messages ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
      "CREATE TABLE message_versions ("
      " message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
      " number INTEGER NOT NULL, content TEXT NOT NULL, stop_reason TEXT NOT NULL DEFAULT '',"
      " PRIMARY KEY (message_id, number))",
  };
  return statements;
}

// v5: presets (preset_store.h): PresetStore::createTables, with the seed.

// The columns readMessage() expects, in order.
const char* const kMessageColumns =
    "id, conversation_id, role, content, created, complete, stop_reason, version,"
    " MAX(version, (SELECT COUNT(*) FROM message_versions v WHERE v.message_id = messages.id))";

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

Conversation readConversation(const QSqlQuery& q) {
  Conversation c;
  c.id = q.value(0).toLongLong();
  c.title = q.value(1).toString();
  c.created = QDateTime::fromMSecsSinceEpoch(q.value(2).toLongLong());
  c.updated = QDateTime::fromMSecsSinceEpoch(q.value(3).toLongLong());
  c.model = q.value(4).toString();
  c.mode = q.value(5).toString();
  return c;
}

Message readMessage(const QSqlQuery& q) {
  Message m;
  m.id = q.value(0).toLongLong();
  m.conversation_id = q.value(1).toLongLong();
  m.role = q.value(2).toString();
  m.content = q.value(3).toString();
  m.created = QDateTime::fromMSecsSinceEpoch(q.value(4).toLongLong());
  m.complete = q.value(5).toBool();
  m.stopReason = q.value(6).toString();
  m.version = q.value(7).toInt();
  m.versionCount = q.value(8).toInt();
  return m;
}

template <typename T>
Result<T> failWith(const Result<QSqlQuery>& r) {
  return Result<T>::failure(r.error());
}

}  // namespace

HistoryStore::HistoryStore(QString path) : path_(path.isEmpty() ? defaultPath() : std::move(path)) {}

HistoryStore::~HistoryStore() {
  // Only this thread's connection can be closed here; others close with their threads' stores.
  const QString name = connectionName();
  if (QSqlDatabase::contains(name)) {
    { QSqlDatabase::database(name, false).close(); }
    QSqlDatabase::removeDatabase(name);
  }
}

QString HistoryStore::defaultPath() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/history.sqlite";
}

QString HistoryStore::connectionName() const {
  return QStringLiteral("sieve-history-%1-%2")
      .arg(reinterpret_cast<quintptr>(this))
      .arg(reinterpret_cast<quintptr>(QThread::currentThread()));
}

Result<QSqlDatabase> HistoryStore::connection() {
  const QString name = connectionName();
  if (QSqlDatabase::contains(name)) return QSqlDatabase::database(name);
  if (!QSqlDatabase::isDriverAvailable("QSQLITE")) {
    return Result<QSqlDatabase>::failure("History database: Qt's SQLite driver (QSQLITE) is not installed.");
  }
  if (!QDir().mkpath(QFileInfo(path_).absolutePath())) {
    return Result<QSqlDatabase>::failure("History database: cannot create the folder of " + path_ + ".");
  }
  QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", name);
  db.setDatabaseName(path_);
  db.setConnectOptions("QSQLITE_BUSY_TIMEOUT=5000");
  if (!db.open()) {
    const QString message = describe("opening " + path_, db.lastError());
    db = QSqlDatabase();
    QSqlDatabase::removeDatabase(name);
    return Result<QSqlDatabase>::failure(message);
  }
  // WAL: readers never block the writer, and a killed process loses nothing committed.
  const auto pragmas = runAll(db, "setting up " + path_,
                              {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"});
  if (!pragmas) return Result<QSqlDatabase>::failure(pragmas.error());
  if (!migrated_) {
    const auto migrated = migrate(db);
    if (!migrated) return Result<QSqlDatabase>::failure(migrated.error());
    migrated_ = true;
  }
  return db;
}

Result<Done> HistoryStore::migrate(QSqlDatabase& db) {
  using Step = std::function<Result<Done>(QSqlDatabase&, const QString& what)>;
  const auto statements = [](const QStringList& list) -> Step {
    return [&list](QSqlDatabase& db, const QString& what) { return runAll(db, what, list); };
  };
  const std::vector<Step> steps = {
      statements(migrationV1()), statements(migrationV2()), statements(migrationV3()), statements(migrationV4()),
      [this](QSqlDatabase& db, const QString&) { return PresetStore::createTables(db, presetSeed_); },
  };
  for (;;) {
    auto version = run(db, "reading the schema version", "PRAGMA user_version");
    if (!version) return Result<Done>::failure(version.error());
    const int current = version.value().next() ? version.value().value(0).toInt() : 0;
    if (current > kSchemaVersion) {
      return Result<Done>::failure(QStringLiteral("History database %1 has schema version %2, newer than this "
                                                  "app's %3; update Sieve.")
                                       .arg(path_).arg(current).arg(kSchemaVersion));
    }
    if (current == kSchemaVersion) return Done{};
    // One transaction per step: a crash leaves the file at the previous version.
    if (!db.transaction()) return Result<Done>::failure(describe("starting a migration", db.lastError()));
    const QString what = QStringLiteral("migrating to schema version %1").arg(current + 1);
    auto done = steps[current](db, what);
    if (done) done = runAll(db, what, {QStringLiteral("PRAGMA user_version=%1").arg(current + 1)});
    if (!done || !db.commit()) {
      db.rollback();
      return Result<Done>::failure(done ? describe(what, db.lastError()) : done.error());
    }
  }
}

Result<QSqlDatabase> HistoryStore::database() { return connection(); }

Result<Done> HistoryStore::open() {
  auto db = connection();
  if (!db) return Result<Done>::failure(db.error());
  return Done{};
}

Result<int> HistoryStore::schemaVersion() {
  auto db = connection();
  if (!db) return Result<int>::failure(db.error());
  auto q = run(db.value(), "reading the schema version", "PRAGMA user_version");
  if (!q) return failWith<int>(q);
  return q.value().next() ? q.value().value(0).toInt() : 0;
}

Result<qint64> HistoryStore::createConversation(const QString& title, const QString& model) {
  auto db = connection();
  if (!db) return Result<qint64>::failure(db.error());
  const qint64 now = nowMs();
  auto q = run(db.value(), "creating a conversation",
               "INSERT INTO conversations(title, created, updated, model) VALUES (?, ?, ?, ?)",
               {notNull(title), now, now, notNull(model)});
  if (!q) return failWith<qint64>(q);
  return q.value().lastInsertId().toLongLong();
}

Result<Done> HistoryStore::renameConversation(qint64 id, const QString& title) {
  auto db = connection();
  if (!db) return Result<Done>::failure(db.error());
  auto q = run(db.value(), "renaming a conversation", "UPDATE conversations SET title = ?, updated = ? WHERE id = ?",
               {notNull(title), nowMs(), id});
  if (!q) return failWith<Done>(q);
  if (q.value().numRowsAffected() != 1) return Result<Done>::failure(QStringLiteral("No conversation %1.").arg(id));
  return Done{};
}

Result<Done> HistoryStore::deleteConversation(qint64 id) {
  auto db = connection();
  if (!db) return Result<Done>::failure(db.error());
  auto q = run(db.value(), "deleting a conversation", "DELETE FROM conversations WHERE id = ?", {id});
  if (!q) return failWith<Done>(q);
  if (q.value().numRowsAffected() != 1) return Result<Done>::failure(QStringLiteral("No conversation %1.").arg(id));
  return Done{};
}

Result<QList<Conversation>> HistoryStore::listConversations() {
  auto db = connection();
  if (!db) return Result<QList<Conversation>>::failure(db.error());
  auto q = run(db.value(), "listing conversations",
               "SELECT id, title, created, updated, model, mode FROM conversations ORDER BY updated DESC, id DESC");
  if (!q) return failWith<QList<Conversation>>(q);
  QList<Conversation> list;
  while (q.value().next()) list.append(readConversation(q.value()));
  return list;
}

Result<Conversation> HistoryStore::conversation(qint64 id) {
  auto db = connection();
  if (!db) return Result<Conversation>::failure(db.error());
  auto q = run(db.value(), "reading a conversation",
               "SELECT id, title, created, updated, model, mode FROM conversations WHERE id = ?", {id});
  if (!q) return failWith<Conversation>(q);
  if (!q.value().next()) return Result<Conversation>::failure(QStringLiteral("No conversation %1.").arg(id));
  return readConversation(q.value());
}

Result<Done> HistoryStore::setConversationModel(qint64 id, const QString& model, const QString& mode) {
  auto db = connection();
  if (!db) return Result<Done>::failure(db.error());
  auto q = run(db.value(), "recording a conversation's model", "UPDATE conversations SET model = ?, mode = ? WHERE id = ?",
               {notNull(model), notNull(mode), id});
  if (!q) return failWith<Done>(q);
  if (q.value().numRowsAffected() != 1) return Result<Done>::failure(QStringLiteral("No conversation %1.").arg(id));
  return Done{};
}

Result<QString> HistoryStore::stateValue(const QString& key) {
  auto db = connection();
  if (!db) return Result<QString>::failure(db.error());
  auto q = run(db.value(), "reading a remembered value", "SELECT value FROM app_state WHERE key = ?", {key});
  if (!q) return failWith<QString>(q);
  return q.value().next() ? q.value().value(0).toString() : QString();
}

Result<Done> HistoryStore::setStateValue(const QString& key, const QString& value) {
  auto db = connection();
  if (!db) return Result<Done>::failure(db.error());
  auto q = run(db.value(), "remembering a value", "INSERT OR REPLACE INTO app_state(key, value) VALUES (?, ?)",
               {key, notNull(value)});
  if (!q) return failWith<Done>(q);
  return Done{};
}

Result<Done> HistoryStore::touchConversation(QSqlDatabase& db, qint64 id) {
  auto q = run(db, "updating a conversation", "UPDATE conversations SET updated = ? WHERE id = ?", {nowMs(), id});
  if (!q) return failWith<Done>(q);
  return Done{};
}

Result<qint64> HistoryStore::appendMessage(qint64 conversation_id, const QString& role, const QString& content,
                                           bool complete) {
  auto db = connection();
  if (!db) return Result<qint64>::failure(db.error());
  if (!db.value().transaction()) return Result<qint64>::failure(describe("adding a message", db.value().lastError()));
  auto q = run(db.value(), "adding a message",
               "INSERT INTO messages(conversation_id, role, content, created, complete) VALUES (?, ?, ?, ?, ?)",
               {conversation_id, notNull(role), notNull(content), nowMs(), complete ? 1 : 0});
  auto touched = q ? touchConversation(db.value(), conversation_id) : Result<Done>::failure(q.error());
  if (!touched || !db.value().commit()) {
    db.value().rollback();
    return Result<qint64>::failure(touched ? describe("adding a message", db.value().lastError()) : touched.error());
  }
  return q.value().lastInsertId().toLongLong();
}

Result<Done> HistoryStore::updateMessage(qint64 message_id, const QString& content) {
  auto db = connection();
  if (!db) return Result<Done>::failure(db.error());
  auto q = run(db.value(), "saving a streamed reply", "UPDATE messages SET content = ? WHERE id = ?",
               {notNull(content), message_id});
  if (!q) return failWith<Done>(q);
  if (q.value().numRowsAffected() != 1) return Result<Done>::failure(QStringLiteral("No message %1.").arg(message_id));
  return Done{};
}

Result<Done> HistoryStore::completeMessage(qint64 message_id, const QString& content, const QString& stop_reason) {
  auto db = connection();
  if (!db) return Result<Done>::failure(db.error());
  if (!db.value().transaction()) return Result<Done>::failure(describe("saving a finished reply", db.value().lastError()));
  auto q = run(db.value(), "saving a finished reply",
               "UPDATE messages SET content = ?, complete = 1, stop_reason = ? WHERE id = ?",
               {notNull(content), notNull(stop_reason), message_id});
  QString error = q ? QString() : q.error();
  if (error.isEmpty() && q.value().numRowsAffected() != 1) error = QStringLiteral("No message %1.").arg(message_id);
  if (error.isEmpty()) {
    // A reply with versions: this text is the version it streamed as.
    auto kept = run(db.value(), "saving a finished reply",
                    "INSERT OR REPLACE INTO message_versions(message_id, number, content, stop_reason)"
                    " SELECT id, version, content, stop_reason FROM messages WHERE id = ?"
                    " AND EXISTS (SELECT 1 FROM message_versions WHERE message_id = ?)",
                    {message_id, message_id});
    if (!kept) error = kept.error();
  }
  if (!error.isEmpty() || !db.value().commit()) {
    if (error.isEmpty()) error = describe("saving a finished reply", db.value().lastError());
    db.value().rollback();
    return Result<Done>::failure(error);
  }
  return Done{};
}

Result<Message> HistoryStore::message(qint64 message_id) {
  auto db = connection();
  if (!db) return Result<Message>::failure(db.error());
  auto q = run(db.value(), "reading a message",
               QStringLiteral("SELECT %1 FROM messages WHERE id = ?").arg(kMessageColumns), {message_id});
  if (!q) return failWith<Message>(q);
  if (!q.value().next()) return Result<Message>::failure(QStringLiteral("No message %1.").arg(message_id));
  return readMessage(q.value());
}

Result<int> HistoryStore::startNewVersion(qint64 message_id) {
  auto db = connection();
  if (!db) return Result<int>::failure(db.error());
  const QString what = QStringLiteral("keeping a reply's version");
  if (!db.value().transaction()) return Result<int>::failure(describe(what, db.value().lastError()));
  // The text shown is kept as its version; the new one comes after the last kept.
  auto kept = run(db.value(), what,
                  "INSERT OR REPLACE INTO message_versions(message_id, number, content, stop_reason)"
                  " SELECT id, version, content, stop_reason FROM messages WHERE id = ? AND role = 'assistant'",
                  {message_id});
  QString error = kept ? QString() : kept.error();
  if (error.isEmpty() && kept.value().numRowsAffected() != 1) {
    error = QStringLiteral("No reply %1 to write again.").arg(message_id);
  }
  int number = 0;
  if (error.isEmpty()) {
    auto next = run(db.value(), what, "SELECT MAX(number) + 1 FROM message_versions WHERE message_id = ?", {message_id});
    if (next && next.value().next()) number = next.value().value(0).toInt();
    auto emptied = next ? run(db.value(), what,
                              "UPDATE messages SET content = '', complete = 0, stop_reason = '', version = ? WHERE id = ?",
                              {number, message_id})
                        : next;
    if (!emptied) error = emptied.error();
    if (error.isEmpty()) {
      auto owner = run(db.value(), what, "SELECT conversation_id FROM messages WHERE id = ?", {message_id});
      if (owner && owner.value().next()) {
        auto touched = touchConversation(db.value(), owner.value().value(0).toLongLong());
        if (!touched) error = touched.error();
      }
    }
  }
  if (!error.isEmpty() || !db.value().commit()) {
    if (error.isEmpty()) error = describe(what, db.value().lastError());
    db.value().rollback();
    return Result<int>::failure(error);
  }
  return number;
}

Result<Message> HistoryStore::selectVersion(qint64 message_id, int number) {
  auto db = connection();
  if (!db) return Result<Message>::failure(db.error());
  const QString what = QStringLiteral("showing another version of a reply");
  if (!db.value().transaction()) return Result<Message>::failure(describe(what, db.value().lastError()));
  auto shown = run(db.value(), what,
                   "UPDATE messages SET content = v.content, stop_reason = v.stop_reason, version = v.number, complete = 1"
                   " FROM (SELECT number, content, stop_reason FROM message_versions WHERE message_id = ? AND number = ?) AS v"
                   " WHERE messages.id = ? AND messages.complete = 1",
                   {message_id, number, message_id});
  QString error = shown ? QString() : shown.error();
  if (error.isEmpty() && shown.value().numRowsAffected() != 1) {
    error = QStringLiteral("Reply %1 has no finished version %2.").arg(message_id).arg(number);
  }
  if (!error.isEmpty() || !db.value().commit()) {
    if (error.isEmpty()) error = describe(what, db.value().lastError());
    db.value().rollback();
    return Result<Message>::failure(error);
  }
  return message(message_id);
}

Result<QList<Message>> HistoryStore::messages(qint64 conversation_id) {
  auto db = connection();
  if (!db) return Result<QList<Message>>::failure(db.error());
  auto q = run(db.value(), "reading messages",
               QStringLiteral("SELECT %1 FROM messages WHERE conversation_id = ? ORDER BY id").arg(kMessageColumns),
               {conversation_id});
  if (!q) return failWith<QList<Message>>(q);
  QList<Message> list;
  while (q.value().next()) list.append(readMessage(q.value()));
  return list;
}

Result<int> HistoryStore::deleteMessagesFrom(qint64 conversation_id, qint64 first_message_id) {
  auto db = connection();
  if (!db) return Result<int>::failure(db.error());
  auto q = run(db.value(), "deleting messages", "DELETE FROM messages WHERE conversation_id = ? AND id >= ?",
               {conversation_id, first_message_id});
  if (!q) return failWith<int>(q);
  return q.value().numRowsAffected();
}

Result<int> HistoryStore::editMessage(qint64 conversation_id, qint64 message_id, const QString& content) {
  auto db = connection();
  if (!db) return Result<int>::failure(db.error());
  if (!db.value().transaction()) return Result<int>::failure(describe("editing a message", db.value().lastError()));
  auto edited = run(db.value(), "editing a message", "UPDATE messages SET content = ? WHERE id = ? AND conversation_id = ?",
                    {notNull(content), message_id, conversation_id});
  QString error = edited ? QString() : edited.error();
  if (error.isEmpty() && edited.value().numRowsAffected() != 1) {
    error = QStringLiteral("No message %1 in conversation %2.").arg(message_id).arg(conversation_id);
  }
  int deleted = 0;
  if (error.isEmpty()) {
    auto later = run(db.value(), "editing a message", "DELETE FROM messages WHERE conversation_id = ? AND id > ?",
                     {conversation_id, message_id});
    if (later) deleted = later.value().numRowsAffected();
    auto touched = later ? touchConversation(db.value(), conversation_id) : Result<Done>::failure(later.error());
    if (!touched) error = touched.error();
  }
  if (!error.isEmpty() || !db.value().commit()) {
    if (error.isEmpty()) error = describe("editing a message", db.value().lastError());
    db.value().rollback();
    return Result<int>::failure(error);
  }
  return deleted;
}

Result<QList<SearchHit>> HistoryStore::search(const QString& query, int limit) {
  auto db = connection();
  if (!db) return Result<QList<SearchHit>>::failure(db.error());
  auto q = run(db.value(), "searching messages",
               "SELECT m.id, m.conversation_id, c.title, snippet(messages_fts, 0, '[', ']', '…', 12)"
               " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
               " JOIN conversations c ON c.id = m.conversation_id"
               " WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?",
               {query, limit});
  if (!q) return failWith<QList<SearchHit>>(q);
  QList<SearchHit> hits;
  while (q.value().next()) {
    hits.append({q.value().value(0).toLongLong(), q.value().value(1).toLongLong(), q.value().value(2).toString(),
                 q.value().value(3).toString()});
  }
  return hits;
}

Result<QString> HistoryStore::exportMarkdown(qint64 conversation_id) {
  auto conv = conversation(conversation_id);
  if (!conv) return Result<QString>::failure(conv.error());
  auto list = messages(conversation_id);
  if (!list) return Result<QString>::failure(list.error());
  QString text = "# " + conv.value().title + "\n";
  for (const Message& m : list.value()) {
    QString role = m.role;
    if (!role.isEmpty()) role[0] = role[0].toUpper();
    text += "\n## " + role + (m.complete ? "" : " (unfinished)") + "\n\n" + m.content + "\n";
  }
  return text;
}

Result<QString> HistoryStore::exportJson(qint64 conversation_id) {
  auto conv = conversation(conversation_id);
  if (!conv) return Result<QString>::failure(conv.error());
  auto list = messages(conversation_id);
  if (!list) return Result<QString>::failure(list.error());
  QJsonArray messages;
  for (const Message& m : list.value()) {
    messages.append(QJsonObject{{"role", m.role},
                                {"content", m.content},
                                {"created", m.created.toUTC().toString(Qt::ISODateWithMs)},
                                {"complete", m.complete}});
  }
  const QJsonObject root{{"title", conv.value().title},
                         {"model", conv.value().model},
                         {"created", conv.value().created.toUTC().toString(Qt::ISODateWithMs)},
                         {"messages", messages}};
  return QString::fromUtf8(QJsonDocument(root).toJson(QJsonDocument::Indented));
}

}  // namespace sieve::app
