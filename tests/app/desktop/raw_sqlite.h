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
