#pragma once
// The SQL helpers every table of the history database shares (history_store,
// preset_store): one error wording, one prepared-statement runner.

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QStringList>
#include <QVariantList>

#include "desktop/result.h"

namespace sieve::app::history_sql {

// "History database: <what> failed: <the driver's text>".
QString describe(const QString& what, const QSqlError& error);

// A null QString binds as SQL NULL; the schema wants '' for "no text".
inline QString notNull(const QString& s) { return s.isNull() ? QStringLiteral("") : s; }

// Prepares and runs `sql` with positional `values`; the error names `what`.
Result<QSqlQuery> run(QSqlDatabase& db, const QString& what, const QString& sql, const QVariantList& values = {});

// Runs each statement in turn; the first failure stops and names `what`.
Result<Done> runAll(QSqlDatabase& db, const QString& what, const QStringList& statements);

}  // namespace sieve::app::history_sql
