#pragma once
// Tests of the history store: SQL on a plain connection of the test's own (not
// the store's), to build an old-version file or to look at what the store wrote.

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <QStringList>
#include <QVariant>

// Runs `statements` in turn on `path`; returns the first column of every row.
inline QStringList rawQuery(const QString& path, const QStringList& statements) {
  QStringList firstColumn;
  {
    QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "raw");
    db.setDatabaseName(path);
    if (!db.open()) return {"cannot open"};
    for (const QString& sql : statements) {
      QSqlQuery q(db);
      if (!q.exec(sql)) return {"failed: " + sql};
      while (q.next()) firstColumn << q.value(0).toString();
    }
    db.close();
  }
  QSqlDatabase::removeDatabase("raw");
  return firstColumn;
}

// The schema a history file had at version 2 (messages and their search
// index), as versions 1 and 2 of the app created it, ending at user_version 2.
inline QStringList version2Schema() {
  return {
      "CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL, created INTEGER NOT NULL,"
      " updated INTEGER NOT NULL, model TEXT NOT NULL DEFAULT '')",
      "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL REFERENCES conversations(id)"
      " ON DELETE CASCADE, role TEXT NOT NULL, content TEXT NOT NULL, created INTEGER NOT NULL,"
      " complete INTEGER NOT NULL DEFAULT 1)",
      "CREATE INDEX messages_by_conversation ON messages(conversation_id, id)",
      "CREATE INDEX conversations_by_update ON conversations(updated)",
      "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id')",
      "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
      " INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
      "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
      " INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); END",
      "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN"
      " INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);"
      " INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
      "PRAGMA user_version=2",
  };
}

// At version 4 (before presets): version 2's, then the steps of versions 3 and 4.
inline QStringList version4Schema() {
  QStringList statements = version2Schema();
  statements.removeLast();  // the user_version
  return statements + QStringList{
      "ALTER TABLE conversations ADD COLUMN mode TEXT NOT NULL DEFAULT ''",
      "CREATE TABLE app_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
      "ALTER TABLE messages ADD COLUMN stop_reason TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE messages ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
      "CREATE TABLE message_versions (message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
      " number INTEGER NOT NULL, content TEXT NOT NULL, stop_reason TEXT NOT NULL DEFAULT '',"
      " PRIMARY KEY (message_id, number))",
      "PRAGMA user_version=4",
  };
}
