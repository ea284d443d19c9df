#include "desktop/download.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QStorageInfo>
#include <QtConcurrent/QtConcurrentRun>

#include "desktop/log_categories.h"
#include "desktop/model_library.h"

namespace sieve::app {
namespace {

constexpr qint64 kRehashChunk = 4 << 20;
constexpr int kSampleMs = 500;   // a speed sample per half second
constexpr double kSmoothing = 0.3;  // weight of the newest sample: about 2 s of memory
constexpr int kNotifyMs = 100;   // progress reaches the view at most 10 times a second
constexpr int kSaveMs = 1000;    // the record's bytes_done, once a second

QString folderOf(const QString& path) { return QFileInfo(path).absolutePath(); }

// How much space `path`'s folder has free, or -1 when it cannot be told.
qint64 freeBytes(const QString& path) {
  QStorageInfo storage(folderOf(path));
  storage.refresh();
  return storage.isValid() ? storage.bytesAvailable() : -1;
}

QString spaceMessage(const QString& name, qint64 needed, qint64 free, const QString& folder) {
  return QCoreApplication::translate("Download", "Not enough disk space for %1: it needs %2 more, %3 is free in %4.")
      .arg(name, formatBytes(needed), formatBytes(free), folder);
}

// A name in `dir` like `path`'s that is not taken: "x.gguf", else "x-2.gguf", ...
QString freeName(const QString& path) {
  const QFileInfo info(path);
  QString candidate = path;
  for (int n = 2; QFileInfo::exists(candidate); ++n) {
    candidate = info.absolutePath() + QLatin1Char('/') + info.completeBaseName() + QStringLiteral("-%1.").arg(n) +
                info.suffix();
  }
  return candidate;
}

}  // namespace

QString formatDuration(double seconds) {
  const qint64 s = qMax<qint64>(0, qRound64(seconds));
  if (s >= 3600) return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
  if (s >= 60) return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QStringLiteral("%1 s").arg(s);
}

Download::Download(DownloadRecord record, DownloadStore& store, QNetworkAccessManager& network, QObject* parent)
    : QObject(parent), record_(std::move(record)), store_(store), network_(network) {
  bytesDone_ = partSize();
  connect(&rehash_, &QFutureWatcher<bool>::finished, this, [this, watcher = &rehash_] {
    if (state_ != State::Checking || watcher->property("generation").toInt() != generation_) return;
    if (!rehash_.result()) {
      fail(tr("Cannot read %1 to check what was downloaded.").arg(record_.partPath()), true);
      return;
    }
    // All there already (the app closed between the last byte and the rename): only the checks are left.
    if (record_.expectedBytes > 0 && bytesDone_ == record_.expectedBytes) {
      finishFile();
      return;
    }
    startRequest();
  });
}

Download::~Download() {
  stopReply();
  rehash_.waitForFinished();  // the worker holds only its own hash and path, but finishes before we go
}

QString Download::stateName() const {
  switch (state_) {
    case State::Paused: return QStringLiteral("paused");
    case State::Checking: return QStringLiteral("checking");
    case State::Running: return QStringLiteral("running");
    case State::Importing: return QStringLiteral("importing");
    case State::Done: return QStringLiteral("done");
    case State::Failed: return QStringLiteral("failed");
  }
  return {};
}

double Download::progress() const {
  return record_.expectedBytes > 0 ? qBound(0.0, double(bytesDone_) / double(record_.expectedBytes), 1.0) : 0.0;
}

double Download::secondsLeft() const {
  if (state_ != State::Running || speedMBps_ <= 0 || record_.expectedBytes <= 0) return -1;
  return double(record_.expectedBytes - bytesDone_) / (speedMBps_ * 1e6);
}

QString Download::detail() const {
  const QString amount = record_.expectedBytes > 0
                             ? tr("%1 %  ·  %2 of %3")
                                   .arg(int(progress() * 100))
                                   .arg(formatBytes(bytesDone_), formatBytes(record_.expectedBytes))
                             : formatBytes(bytesDone_);
  switch (state_) {
    case State::Checking:
      return bytesDone_ > 0 ? tr("Checking the %1 already downloaded…").arg(formatBytes(bytesDone_)) : tr("Starting…");
    case State::Running: {
      if (!headersChecked_) return tr("Connecting…");
      QString text = amount;
      if (speedMBps_ > 0) text += tr("  ·  %1 MB/s").arg(speedMBps_, 0, 'f', speedMBps_ < 10 ? 1 : 0);
      if (const double left = secondsLeft(); left >= 0) text += tr("  ·  %1 left").arg(formatDuration(left));
      return text;
    }
    case State::Paused:
      if (!error_.isEmpty()) return error_;
      return bytesDone_ > 0 ? tr("Paused at %1").arg(amount) : tr("Not started");
    case State::Importing: return tr("Downloaded; adding it to your models…");
    case State::Done:
    case State::Failed: return error_;
  }
  return {};
}

qint64 Download::partSize() const {
  const QFileInfo info(record_.partPath());
  return info.exists() ? info.size() : 0;
}

void Download::setState(State state, const QString& error) {
  state_ = state;
  error_ = error;
  emit stateChanged();
  emit progressChanged();
}

void Download::resume() {
  if (state_ != State::Paused) return;
  ++generation_;
  retriedWhole_ = false;
  setState(State::Checking);
  checkSpaceAndRehash();
}

void Download::pause() {
  if (!canPause()) return;
  ++generation_;
  stopReply();
  part_.close();
  bytesDone_ = partSize();
  saveProgress(true);
  setState(State::Paused);
}

void Download::cancel() {
  if (state_ == State::Importing) return;  // the import has its own Cancel
  ++generation_;
  stopReply();
  part_.close();
  if (state_ != State::Done) QFile::remove(record_.partPath());
  if (const Result<Done> removed = store_.remove(record_.id); !removed) qCWarning(lcApp).noquote() << removed.error();
  emit removeRequested();
}

void Download::dismiss() {
  if (isFinished()) emit removeRequested();
}

void Download::markImporting() { setState(State::Importing); }

void Download::markImported(bool added, const QString& message) { setState(added ? State::Done : State::Failed, message); }

void Download::fail(const QString& error, bool resumable) {
  ++generation_;
  stopReply();
  part_.close();
  qCWarning(lcApp).noquote() << "download" << record_.url << ":" << error;
  if (resumable) {
    bytesDone_ = partSize();
    saveProgress(true);
    setState(State::Paused, error);
    return;
  }
  QFile::remove(record_.partPath());
  bytesDone_ = 0;
  if (const Result<Done> removed = store_.remove(record_.id); !removed) qCWarning(lcApp).noquote() << removed.error();
  setState(State::Failed, error);
}

void Download::checkSpaceAndRehash() {
  qint64 onDisk = partSize();
  if (record_.expectedBytes > 0 && onDisk > record_.expectedBytes) {
    QFile::resize(record_.partPath(), 0);  // longer than the file can be: not this file, start again
    onDisk = 0;
  }
  if (record_.expectedBytes > 0) {
    const qint64 needed = record_.expectedBytes - onDisk;
    const qint64 free = freeBytes(record_.targetPath);
    if (free >= 0 && free < needed) {
      fail(spaceMessage(record_.name, needed, free, folderOf(record_.targetPath)), true);
      return;
    }
  }
  hash_ = std::make_shared<QCryptographicHash>(QCryptographicHash::Sha256);
  bytesDone_ = onDisk;
  emit progressChanged();
  if (onDisk == 0) {
    startRequest();
    return;
  }
  // What is on disk goes into the hash first, off the UI thread (a part may be many GB).
  rehash_.setProperty("generation", generation_);
  rehash_.setFuture(QtConcurrent::run([hash = hash_, path = record_.partPath(), onDisk] {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return false;
    for (qint64 left = onDisk; left > 0;) {
      const QByteArray chunk = file.read(qMin(left, kRehashChunk));
      if (chunk.isEmpty()) return false;
      hash->addData(chunk);
      left -= chunk.size();
    }
    return true;
  }));
}

void Download::startRequest() {
  requestOffset_ = bytesDone_;
  headersChecked_ = false;
  QNetworkRequest request{QUrl(record_.url)};
  request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
  request.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("Sieve/%1").arg(QCoreApplication::applicationVersion()));
  request.setRawHeader("Accept-Encoding", "identity");  // the bytes of the file, as its Content-Length says
  if (requestOffset_ > 0) request.setRawHeader("Range", QByteArray("bytes=") + QByteArray::number(requestOffset_) + '-');
  reply_ = network_.get(request);
  connect(reply_, &QNetworkReply::readyRead, this, &Download::onReadyRead);
  connect(reply_, &QNetworkReply::finished, this, &Download::onFinished);
  speedMBps_ = 0;
  sampleBytes_ = bytesDone_;
  sampleClock_.start();
  saveClock_.start();
  notifyClock_.start();
  setState(State::Running);
}

// The status line and headers, at the first data (or the end): whether the
// range was honoured, how large the file is, whether it fits.
bool Download::acceptHeaders() {
  headersChecked_ = true;
  const int status = reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  const QString where = QUrl(record_.url).toDisplayString();
  if (status == 416 && requestOffset_ > 0 && !retriedWhole_) {
    // The part does not fit the server's file (it changed?): ask for all of it once.
    retriedWhole_ = true;
    stopReply();
    QFile::resize(record_.partPath(), 0);
    hash_ = std::make_shared<QCryptographicHash>(QCryptographicHash::Sha256);
    bytesDone_ = 0;
    startRequest();
    return false;
  }
  if (status != 200 && status != 206) {
    const QString reason = reply_->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString();
    if (status == 0) return true;  // not HTTP: the error comes with `finished`
    fail(tr("The server answered %1 %2 for %3.").arg(status).arg(reason, where), status >= 500 || status == 429);
    return false;
  }
  qint64 total = reply_->header(QNetworkRequest::ContentLengthHeader).toLongLong();
  if (status == 206) {
    static const QRegularExpression range(QStringLiteral(R"(bytes\s+(\d+)-(\d+)/(\d+|\*))"));
    const auto match = range.match(QString::fromLatin1(reply_->rawHeader("Content-Range")));
    if (!match.hasMatch() || match.captured(1).toLongLong() != requestOffset_) {
      fail(tr("The server sent another part of the file than asked for (%1); the download starts again when resumed.")
               .arg(QString::fromLatin1(reply_->rawHeader("Content-Range"))),
           false);
      return false;
    }
    total = match.captured(3) == QLatin1String("*") ? requestOffset_ + total : match.captured(3).toLongLong();
  } else if (requestOffset_ > 0) {
    // 200: the server ignored the range and sends the whole file. Start the part again.
    qCInfo(lcApp).noquote() << "download" << record_.url << ": the server ignored the range; starting again";
    restartedFromZero_ = true;
    QFile::resize(record_.partPath(), 0);
    hash_ = std::make_shared<QCryptographicHash>(QCryptographicHash::Sha256);
    bytesDone_ = 0;
    requestOffset_ = 0;
  }
  if (record_.expectedBytes > 0 && total > 0 && total != record_.expectedBytes) {
    fail(tr("%1 is %2 on the server, but %3 was expected; nothing was kept (the address may be out of date).")
             .arg(record_.name, formatBytes(total), formatBytes(record_.expectedBytes)),
         false);
    return false;
  }
  if (record_.expectedBytes <= 0 && total > 0) {
    record_.expectedBytes = total;
    const qint64 needed = total - bytesDone_;
    const qint64 free = freeBytes(record_.targetPath);
    if (free >= 0 && free < needed) {
      fail(spaceMessage(record_.name, needed, free, folderOf(record_.targetPath)), true);
      return false;
    }
    saveProgress(true);
  }
  part_.setFileName(record_.partPath());
  // Unbuffered: a full disk shows at the write that hit it, not at a later flush.
  if (!part_.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Unbuffered)) {
    fail(tr("Cannot write %1: %2.").arg(record_.partPath(), part_.errorString()), true);
    return false;
  }
  return true;
}

void Download::onReadyRead() {
  if (!reply_ || sender() != reply_) return;
  if (!headersChecked_) {
    // An error page's body is not the file: `finished` reports the status (aborting now would report it twice).
    if (reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() >= 400) return;
    if (!acceptHeaders()) return;
  }
  if (!part_.isOpen()) return;
  const QByteArray data = reply_->readAll();
  if (data.isEmpty()) return;
  if (part_.write(data) != data.size()) {
    // Most likely a full disk: drop the torn chunk, keep the rest for Resume.
    const QString reason = part_.errorString();
    part_.close();
    QFile::resize(record_.partPath(), bytesDone_);
    const qint64 needed = record_.expectedBytes > 0 ? record_.expectedBytes - bytesDone_ : data.size();
    const qint64 free = freeBytes(record_.targetPath);
    fail(free >= 0 && free < needed
             ? tr("The disk is full: %1 stopped at %2; it needs %3 more, %4 is free in %5. Free some space, then Resume.")
                   .arg(record_.name, formatBytes(bytesDone_), formatBytes(needed), formatBytes(free),
                        folderOf(record_.targetPath))
             : tr("Cannot write %1: %2.").arg(record_.partPath(), reason),
         true);
    return;
  }
  hash_->addData(data);
  bytesDone_ += data.size();
  sample(false);
  saveProgress(false);
}

void Download::onFinished() {
  if (!reply_ || sender() != reply_) return;
  if (!headersChecked_ && !acceptHeaders()) return;
  onReadyRead();  // whatever is still buffered
  if (!reply_) return;  // that failed
  QNetworkReply* reply = reply_;
  reply_ = nullptr;
  reply->deleteLater();
  if (reply->error() != QNetworkReply::NoError) {
    const QString at = record_.expectedBytes > 0 ? tr("%1 of %2").arg(formatBytes(bytesDone_), formatBytes(record_.expectedBytes))
                                                 : formatBytes(bytesDone_);
    fail(bytesDone_ > 0 ? tr("The download stopped at %1: %2. Resume continues from there.").arg(at, reply->errorString())
                        : tr("Could not download %1: %2.").arg(QUrl(record_.url).toDisplayString(), reply->errorString()),
         true);
    return;
  }
  if (record_.expectedBytes > 0 && bytesDone_ != record_.expectedBytes) {
    fail(tr("The connection ended at %1 of %2. Resume continues from there.")
             .arg(formatBytes(bytesDone_), formatBytes(record_.expectedBytes)),
         true);
    return;
  }
  finishFile();
}

void Download::finishFile() {
  part_.close();
  sample(true);
  if (!record_.sha256.isEmpty()) {
    const QString actual = QString::fromLatin1(hash_->result().toHex());
    if (actual != record_.sha256) {
      fail(tr("%1 is damaged: its SHA-256 is %2, not %3. The download was deleted; download it again.")
               .arg(record_.name, actual, record_.sha256),
           false);
      return;
    }
  }
  const QString target = freeName(record_.targetPath);
  if (!QFile::rename(record_.partPath(), target)) {
    fail(tr("Cannot rename %1 to %2.").arg(record_.partPath(), target), true);
    return;
  }
  record_.targetPath = target;
  if (const Result<Done> removed = store_.remove(record_.id); !removed) qCWarning(lcApp).noquote() << removed.error();
  qCInfo(lcApp).noquote() << "downloaded" << record_.url << "to" << target;
  setState(State::Importing);
  emit completed(target);
}

void Download::stopReply() {
  if (!reply_) return;
  QNetworkReply* reply = reply_;
  reply_ = nullptr;
  reply->disconnect(this);
  if (!reply->isFinished()) reply->abort();  // aborting a finished (or failed) reply reports its error twice
  reply->deleteLater();
}

void Download::sample(bool force) {
  const qint64 elapsed = sampleClock_.elapsed();
  if (elapsed >= kSampleMs) {
    const double current = double(bytesDone_ - sampleBytes_) / 1e6 / (double(elapsed) / 1000.0);
    speedMBps_ = speedMBps_ <= 0 ? current : (1 - kSmoothing) * speedMBps_ + kSmoothing * current;
    sampleBytes_ = bytesDone_;
    sampleClock_.restart();
  }
  if (force || notifyClock_.elapsed() >= kNotifyMs) {
    notifyClock_.restart();
    emit progressChanged();
  }
}

void Download::saveProgress(bool force) {
  if (!force && saveClock_.isValid() && saveClock_.elapsed() < kSaveMs) return;
  saveClock_.restart();
  if (const Result<Done> saved = store_.setProgress(record_.id, bytesDone_, record_.expectedBytes); !saved) {
    qCWarning(lcApp).noquote() << saved.error();
  }
}

}  // namespace sieve::app
