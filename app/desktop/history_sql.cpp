#include "desktop/history_sql.h"

namespace sieve::app::history_sql {

QString describe(const QString& what, const QSqlError& error) {
  return QStringLiteral("History database: %1 failed: %2").arg(what, error.text());
}

Result<QSqlQuery> run(QSqlDatabase& db, const QString& what, const QString& sql, const QVariantList& values) {
  QSqlQuery query(db);
  if (!query.prepare(sql)) return Result<QSqlQuery>::failure(describe(what, query.lastError()));
  for (const QVariant& v : values) query.addBindValue(v);
  if (!query.exec()) return Result<QSqlQuery>::failure(describe(what, query.lastError()));
  return query;
}

Result<Done> runAll(QSqlDatabase& db, const QString& what, const QStringList& statements) {
  for (const QString& sql : statements) {
    QSqlQuery query(db);
    if (!query.exec(sql)) return Result<Done>::failure(describe(what, query.lastError()));
  }
  return Done{};
}

}  // namespace sieve::app::history_sql
