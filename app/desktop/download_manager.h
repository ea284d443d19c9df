#pragma once
// What the QML sees as `App.downloads`: the model downloads (Download, one
// object per row, paused, running or finished) and the catalogue of
// well-known models (download_catalogue.h). Nothing is fetched unless the user
// asks: a download starts from download() / downloadFromCatalogue(), and the
// unfinished ones of an earlier run come back paused (their records are in the
// app's SQLite file, download_store.h) until the user resumes them.
//
// A finished, verified file goes through the models page's own import
// (ModelsController::importAndAdd: packed for flash mode, added to the list),
// one at a time: while an import runs the next one waits.

#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

#include <qcoro/qcorotask.h>

#include "desktop/download.h"
#include "desktop/download_catalogue.h"
#include "desktop/download_store.h"

namespace sieve::app {

class ModelsController;

class DownloadManager : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  // The rows: Download objects, in a QVariantList (a model QML 6.4 and its qmllint both take).
  Q_PROPERTY(QVariantList downloads READ downloadObjects NOTIFY downloadsChanged)
  Q_PROPERTY(int count READ count NOTIFY downloadsChanged)
  Q_PROPERTY(int runningCount READ runningCount NOTIFY activityChanged)
  Q_PROPERTY(double overallProgress READ overallProgress NOTIFY activityChanged)  // of the running ones, 0..1
  // The catalogue as maps: name, url, description, sizeText, checks ("SHA-256 and size", "size", ...).
  Q_PROPERTY(QVariantList catalogue READ catalogue CONSTANT)
  Q_PROPERTY(QString catalogueSource READ catalogueSource CONSTANT)
  Q_PROPERTY(QString modelsDir READ modelsDir CONSTANT)
  // The outcome of the last request ("… is already being downloaded", a bad URL, a catalogue error).
  Q_PROPERTY(QString message READ message NOTIFY messageChanged)
  Q_PROPERTY(bool messageIsError READ messageIsError NOTIFY messageChanged)

 public:
  // `models` may be null (then a finished file is only kept, not imported) and
  // must outlive this. Empty paths: the app's SQLite file (HistoryStore's
  // default), ModelLibrary::defaultModelsDir(), userCataloguePath().
  explicit DownloadManager(ModelsController* models, const QString& databasePath = {}, const QString& modelsDir = {},
                           const QString& userCatalogue = userCataloguePath(), QObject* parent = nullptr);
  ~DownloadManager() override;

  QList<Download*> downloads() const { return downloads_; }
  QVariantList downloadObjects() const;
  int count() const { return int(downloads_.size()); }
  int runningCount() const;
  double overallProgress() const;
  QVariantList catalogue() const;
  QString catalogueSource() const { return catalogue_.source; }
  const Catalogue& catalogueEntries() const { return catalogue_; }
  QString modelsDir() const { return modelsDir_; }
  QString message() const { return message_; }
  bool messageIsError() const { return messageIsError_; }
  // Tests: how a server that stalls is given up on (default 30 s).
  void setTransferTimeout(int milliseconds) { network_.setTransferTimeout(milliseconds); }

  // Starts downloading `url` (http or https) into the models folder. `expectedBytes`
  // 0: the server's size; `sha256` empty: not checked; `name` empty: the file's name.
  // Returns the new row, or null with `message` saying why not.
  Q_INVOKABLE sieve::app::Download* download(const QString& url, qint64 expectedBytes = 0, const QString& sha256 = {},
                                             const QString& name = {});
  Q_INVOKABLE sieve::app::Download* downloadFromCatalogue(int index);

 signals:
  void downloadsChanged();
  void activityChanged();
  void messageChanged();
  // A download's file went through the import: `added` or not (the reason in `message`).
  void imported(sieve::app::Download* download, bool added, const QString& message);

 private:
  Download* adopt(const DownloadRecord& record);
  void remove(Download* download);
  void setMessage(const QString& text, bool isError);
  QString targetFor(const QUrl& url) const;
  void queueImport(Download* download);
  void importNext();
  QCoro::Task<> importOne(QPointer<Download> download);

  QPointer<ModelsController> models_;
  QString modelsDir_;
  DownloadStore store_;
  QNetworkAccessManager network_;
  Catalogue catalogue_;
  QList<Download*> downloads_;  // children
  QList<QPointer<Download>> importQueue_;
  bool importing_ = false;
  QString message_;
  bool messageIsError_ = false;
};

}  // namespace sieve::app
