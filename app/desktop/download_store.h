#pragma once
// The downloads that are not finished yet, remembered across runs in the app's
// SQLite file (by default the history database, <AppDataLocation>/history.sqlite,
// in a table of its own, `downloads`, that the history's schema versions never
// touch): the URL, the file it becomes, the size and SHA-256 it must have when
// they are known, and how many bytes were written to its ".part" file. A
// download that restarts after the app closed reads its record here and asks
// the server for the rest (HTTP Range), after re-hashing the part on disk —
// the part's own size is the truth; bytes_done is the last one recorded.
//
// Used on one thread (the UI's): one QSqlDatabase connection per store,
// named after it. Failures come back as Result errors with one sentence.

#include <QDateTime>
#include <QList>
#include <QString>

#include "desktop/result.h"

namespace sieve::app {

struct DownloadRecord {
  qint64 id = 0;
  QString url;
  QString name;            // what the list shows: the file's name, or the catalogue's name
  QString targetPath;      // the finished file in the models folder; the part is targetPath + ".part"
  qint64 expectedBytes = 0;  // 0: not known before the server says
  QString sha256;          // lower-case hex; empty: only the size is checked
  qint64 bytesDone = 0;
  QDateTime added;

  QString partPath() const { return targetPath + QStringLiteral(".part"); }
};

class DownloadStore {
 public:
  // `path` empty: the history database's default path (HistoryStore::defaultPath()).
  explicit DownloadStore(QString path = {});
  ~DownloadStore();
  DownloadStore(const DownloadStore&) = delete;
  DownloadStore& operator=(const DownloadStore&) = delete;

  const QString& path() const { return path_; }

  Result<QList<DownloadRecord>> list();  // oldest first
  Result<qint64> add(const DownloadRecord& record);  // returns the new id
  Result<Done> setProgress(qint64 id, qint64 bytesDone, qint64 expectedBytes);
  Result<Done> remove(qint64 id);

 private:
  Result<Done> open();

  QString path_;
  QString connection_;
  bool opened_ = false;
};

}  // namespace sieve::app
