#pragma once
// One model download: HTTP(S) into "<target>.part" in the models folder,
// resumable. Its record (download_store.h) outlives the app, so a paused or
// interrupted download continues after a restart: the part on disk is
// re-hashed (SHA-256, on the thread pool) and the server is asked for the rest
// with `Range: bytes=N-`. A server that answers 200 instead of 206 ignored the
// range: the part is emptied and the file comes again from its start.
//
// Before any byte is written the free space of the models folder is checked
// against what is still to come (QStorageInfo); a disk that fills anyway
// stops the download with the size needed, keeping what was written. At the
// end the size and, when known, the SHA-256 are checked: a mismatch deletes
// the part and says so. A finished file is renamed from .part to its name and
// `completed` hands it on (DownloadManager imports it).
//
// Lives on the UI thread; the network never blocks it (QNetworkAccessManager
// is asynchronous) and hashing a resumed part runs on the thread pool.

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QFutureWatcher>
#include <QObject>
#include <QPointer>
#include <QtQml/qqmlregistration.h>
#include <memory>

#include "desktop/download_store.h"

class QNetworkAccessManager;
class QNetworkReply;

namespace sieve::app {

class Download : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("made by DownloadManager; QML reaches them through App.downloads.downloads")
  Q_PROPERTY(QString name READ name CONSTANT)
  Q_PROPERTY(QString url READ url CONSTANT)
  Q_PROPERTY(QString targetPath READ targetPath NOTIFY stateChanged)  // may gain "-2" when renamed at the end
  Q_PROPERTY(QString state READ stateName NOTIFY stateChanged)  // see stateName()
  Q_PROPERTY(bool canPause READ canPause NOTIFY stateChanged)
  Q_PROPERTY(bool canResume READ canResume NOTIFY stateChanged)
  Q_PROPERTY(bool finished READ isFinished NOTIFY stateChanged)  // done or failed for good: only Dismiss is left
  Q_PROPERTY(QString error READ error NOTIFY stateChanged)
  Q_PROPERTY(qint64 bytesDone READ bytesDone NOTIFY progressChanged)
  Q_PROPERTY(qint64 bytesTotal READ bytesTotal NOTIFY progressChanged)  // 0: not known yet
  Q_PROPERTY(double progress READ progress NOTIFY progressChanged)      // 0..1; 0 when the size is unknown
  Q_PROPERTY(double speed READ speed NOTIFY progressChanged)            // MB/s, smoothed; 0 when not running
  Q_PROPERTY(double secondsLeft READ secondsLeft NOTIFY progressChanged)  // -1: unknown
  Q_PROPERTY(QString detail READ detail NOTIFY progressChanged)         // one line for the view

 public:
  enum class State {
    Paused,     // waiting for Resume (also after a restart, and after an error the user can retry)
    Checking,   // free space, re-hashing the part
    Running,
    Importing,  // downloaded and verified: the models page is adding it
    Done,
    Failed,     // for good (checksum mismatch, import failed): the part is gone
  };
  Q_ENUM(State)

  // `store` must outlive this object; `network` too.
  Download(DownloadRecord record, DownloadStore& store, QNetworkAccessManager& network, QObject* parent = nullptr);
  ~Download() override;

  const QString& name() const { return record_.name; }
  const QString& url() const { return record_.url; }
  const QString& targetPath() const { return record_.targetPath; }
  const DownloadRecord& record() const { return record_; }
  State state() const { return state_; }
  QString stateName() const;  // "paused", "checking", "running", "importing", "done", "failed"
  bool canPause() const { return state_ == State::Checking || state_ == State::Running; }
  bool canResume() const { return state_ == State::Paused; }
  bool isFinished() const { return state_ == State::Done || state_ == State::Failed; }
  const QString& error() const { return error_; }
  qint64 bytesDone() const { return bytesDone_; }
  qint64 bytesTotal() const { return record_.expectedBytes; }
  double progress() const;
  double speed() const { return state_ == State::Running ? speedMBps_ : 0.0; }
  double secondsLeft() const;
  QString detail() const;
  // Whether the server answered a resumed request with the whole file (200): the part was started again.
  bool restartedFromZero() const { return restartedFromZero_; }

  Q_INVOKABLE void resume();  // also the first start
  Q_INVOKABLE void pause();
  // Stops, deletes the part and the record; then asks to be removed from the list.
  Q_INVOKABLE void cancel();
  // Removes a finished row from the list (the file, if any, stays).
  Q_INVOKABLE void dismiss();

  // DownloadManager: the import of the finished file began / ended.
  void markImporting();
  void markImported(bool added, const QString& message);

 signals:
  void stateChanged();
  void progressChanged();
  void completed(const QString& path);  // verified and renamed: ready to import
  void removeRequested();

 private:
  void setState(State state, const QString& error = {});
  void fail(const QString& error, bool resumable);
  void checkSpaceAndRehash();
  void startRequest();
  bool acceptHeaders();
  void onReadyRead();
  void onFinished();
  void finishFile();
  void stopReply();
  void sample(bool force);
  void saveProgress(bool force);
  qint64 partSize() const;

  DownloadRecord record_;
  DownloadStore& store_;
  QNetworkAccessManager& network_;
  State state_ = State::Paused;
  QString error_;
  QPointer<QNetworkReply> reply_;
  QFile part_;
  std::shared_ptr<QCryptographicHash> hash_;
  QFutureWatcher<bool> rehash_;
  int generation_ = 0;  // a rehash or reply of an earlier run is ignored
  qint64 bytesDone_ = 0;
  qint64 requestOffset_ = 0;
  bool headersChecked_ = false;
  bool restartedFromZero_ = false;
  bool retriedWhole_ = false;  // after a 416: asked once again for the whole file
  // Speed: bytes over the last sample window, smoothed.
  QElapsedTimer sampleClock_;
  qint64 sampleBytes_ = 0;
  double speedMBps_ = 0;
  QElapsedTimer saveClock_;
  QElapsedTimer notifyClock_;
};

// "1 h 5 min", "3 min 20 s", "12 s".
QString formatDuration(double seconds);

}  // namespace sieve::app
