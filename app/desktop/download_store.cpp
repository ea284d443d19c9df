#include "desktop/download_store.h"

#include <QDir>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include "desktop/history_store.h"

namespace sieve::app {
namespace {

QString describe(const QString& what, const QSqlError& error) {
  return QStringLiteral("Downloads database: %1 failed: %2").arg(what, error.text());
}

// CREATE ... IF NOT EXISTS: the history's migrations count its own tables
// (PRAGMA user_version) and never see this one.
const char* const kCreateTable =
    "CREATE TABLE IF NOT EXISTS downloads ("
    " id INTEGER PRIMARY KEY, url TEXT NOT NULL, name TEXT NOT NULL, target_path TEXT NOT NULL,"
    " expected_bytes INTEGER NOT NULL DEFAULT 0, sha256 TEXT NOT NULL DEFAULT '',"
    " bytes_done INTEGER NOT NULL DEFAULT 0, added INTEGER NOT NULL)";

}  // namespace

DownloadStore::DownloadStore(QString path)
    : path_(path.isEmpty() ? HistoryStore::defaultPath() : std::move(path)),
      connection_(QStringLiteral("sieve-downloads-%1").arg(quintptr(this), 0, 16)) {}

DownloadStore::~DownloadStore() {
  if (!QSqlDatabase::contains(connection_)) return;
  QSqlDatabase::database(connection_, false).close();
  QSqlDatabase::removeDatabase(connection_);
}

Result<Done> DownloadStore::open() {
  if (opened_) return Done{};
  if (!QSqlDatabase::isDriverAvailable("QSQLITE")) {
    return Result<Done>::failure("Downloads database: Qt's SQLite driver (QSQLITE) is not installed.");
  }
  if (!QDir().mkpath(QFileInfo(path_).absolutePath())) {
    return Result<Done>::failure(QStringLiteral("Downloads database: cannot create the folder of %1.").arg(path_));
  }
  QSqlDatabase db = QSqlDatabase::contains(connection_) ? QSqlDatabase::database(connection_, false)
                                                         : QSqlDatabase::addDatabase("QSQLITE", connection_);
  db.setDatabaseName(path_);
  db.setConnectOptions("QSQLITE_BUSY_TIMEOUT=5000");  // the history writes to the same file
  if (!db.open()) return Result<Done>::failure(describe(QStringLiteral("opening %1").arg(path_), db.lastError()));
  QSqlQuery query(db);
  if (!query.exec(QString::fromLatin1(kCreateTable))) {
    return Result<Done>::failure(describe(QStringLiteral("creating its table"), query.lastError()));
  }
  opened_ = true;
  return Done{};
}

Result<QList<DownloadRecord>> DownloadStore::list() {
  if (Result<Done> o = open(); !o) return Result<QList<DownloadRecord>>::failure(o.error());
  QSqlQuery q(QSqlDatabase::database(connection_, false));
  if (!q.exec("SELECT id, url, name, target_path, expected_bytes, sha256, bytes_done, added FROM downloads ORDER BY id")) {
    return Result<QList<DownloadRecord>>::failure(describe(QStringLiteral("reading the downloads"), q.lastError()));
  }
  QList<DownloadRecord> records;
  while (q.next()) {
    DownloadRecord r;
    r.id = q.value(0).toLongLong();
    r.url = q.value(1).toString();
    r.name = q.value(2).toString();
    r.targetPath = q.value(3).toString();
    r.expectedBytes = q.value(4).toLongLong();
    r.sha256 = q.value(5).toString();
    r.bytesDone = q.value(6).toLongLong();
    r.added = QDateTime::fromMSecsSinceEpoch(q.value(7).toLongLong());
    records.append(r);
  }
  return records;
}

Result<qint64> DownloadStore::add(const DownloadRecord& r) {
  if (Result<Done> o = open(); !o) return Result<qint64>::failure(o.error());
  QSqlQuery q(QSqlDatabase::database(connection_, false));
  q.prepare("INSERT INTO downloads (url, name, target_path, expected_bytes, sha256, bytes_done, added)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)");
  for (const QVariant& v : {QVariant(r.url), QVariant(r.name), QVariant(r.targetPath), QVariant(r.expectedBytes),
                            QVariant(r.sha256.isNull() ? QStringLiteral("") : r.sha256), QVariant(r.bytesDone),
                            QVariant(QDateTime::currentMSecsSinceEpoch())}) {
    q.addBindValue(v);
  }
  if (!q.exec()) return Result<qint64>::failure(describe(QStringLiteral("recording a download"), q.lastError()));
  return q.lastInsertId().toLongLong();
}

Result<Done> DownloadStore::setProgress(qint64 id, qint64 bytesDone, qint64 expectedBytes) {
  if (Result<Done> o = open(); !o) return o;
  QSqlQuery q(QSqlDatabase::database(connection_, false));
  q.prepare("UPDATE downloads SET bytes_done = ?, expected_bytes = ? WHERE id = ?");
  q.addBindValue(bytesDone);
  q.addBindValue(expectedBytes);
  q.addBindValue(id);
  if (!q.exec()) return Result<Done>::failure(describe(QStringLiteral("saving a download's progress"), q.lastError()));
  return Done{};
}

Result<Done> DownloadStore::remove(qint64 id) {
  if (Result<Done> o = open(); !o) return o;
  QSqlQuery q(QSqlDatabase::database(connection_, false));
  q.prepare("DELETE FROM downloads WHERE id = ?");
  q.addBindValue(id);
  if (!q.exec()) return Result<Done>::failure(describe(QStringLiteral("forgetting a download"), q.lastError()));
  return Done{};
}

}  // namespace sieve::app
