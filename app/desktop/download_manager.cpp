#include "desktop/download_manager.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTimer>
#include <QUrl>

#include "desktop/log_categories.h"
#include "desktop/model_library.h"
#include "desktop/models_controller.h"

namespace sieve::app {
namespace {

constexpr int kTransferTimeoutMs = 30000;  // a server silent this long is given up on (Resume retries)

// What is verified after the download, for the catalogue's rows.
QString checksOf(const CatalogueEntry& e) {
  if (!e.sha256.isEmpty()) return QStringLiteral("SHA-256 and size checked");
  if (e.bytes > 0) return QStringLiteral("exact size checked");
  return QStringLiteral("no checksum known: size only");
}

}  // namespace

DownloadManager::DownloadManager(ModelsController* models, const QString& databasePath, const QString& modelsDir,
                                 const QString& userCatalogue, QObject* parent)
    : QObject(parent),
      models_(models),
      modelsDir_(modelsDir.isEmpty() ? ModelLibrary::defaultModelsDir() : modelsDir),
      store_(databasePath),
      catalogue_(loadCatalogue(userCatalogue)) {
  network_.setTransferTimeout(kTransferTimeoutMs);
  network_.setAutoDeleteReplies(false);  // each Download deletes its own
  if (!catalogue_.error.isEmpty()) setMessage(catalogue_.error, true);
  // The unfinished downloads of an earlier run, paused: nothing is fetched before the user says so.
  const Result<QList<DownloadRecord>> records = store_.list();
  if (!records) {
    setMessage(records.error(), true);
    return;
  }
  for (const DownloadRecord& record : records.value()) adopt(record);
}

DownloadManager::~DownloadManager() {
  // Each row saves where it stopped; the part stays for the next run.
  for (Download* d : std::as_const(downloads_)) d->pause();
  qDeleteAll(downloads_);  // before the network and the store they use
  downloads_.clear();
}

QVariantList DownloadManager::downloadObjects() const {
  QVariantList rows;
  for (Download* d : downloads_) rows.append(QVariant::fromValue(d));
  return rows;
}

int DownloadManager::runningCount() const {
  int running = 0;
  for (const Download* d : downloads_) running += d->canPause() ? 1 : 0;
  return running;
}

double DownloadManager::overallProgress() const {
  qint64 done = 0;
  qint64 total = 0;
  for (const Download* d : downloads_) {
    if (!d->canPause() || d->bytesTotal() <= 0) continue;
    done += d->bytesDone();
    total += d->bytesTotal();
  }
  return total > 0 ? double(done) / double(total) : 0.0;
}

QVariantList DownloadManager::catalogue() const {
  QVariantList rows;
  for (const CatalogueEntry& e : catalogue_.entries) {
    const qint64 size = e.bytes > 0 ? e.bytes : e.approximateBytes;
    rows.append(QVariantMap{
        {"name", e.name},
        {"url", e.url},
        {"description", e.description},
        {"sizeText", size <= 0 ? QString() : (e.bytes > 0 ? formatBytes(size) : QStringLiteral("about ") + formatBytes(size))},
        {"checks", checksOf(e)},
    });
  }
  return rows;
}

void DownloadManager::setMessage(const QString& text, bool isError) {
  message_ = text;
  messageIsError_ = isError;
  emit messageChanged();
}

// "<models folder>/<the URL's file name>", not taken by a file or another download.
QString DownloadManager::targetFor(const QUrl& url) const {
  QString base = QFileInfo(url.path()).fileName();
  base.replace(QRegularExpression(QStringLiteral(R"([\\/:*?"<>|\x00-\x1f])")), QStringLiteral("_"));
  if (base.isEmpty() || base.startsWith(QLatin1Char('.'))) base = QStringLiteral("model") + base;
  if (!base.endsWith(QStringLiteral(".gguf"), Qt::CaseInsensitive)) base += QStringLiteral(".gguf");
  const QFileInfo info(QDir(modelsDir_).filePath(base));
  const auto taken = [this](const QString& path) {
    if (QFileInfo::exists(path) || QFileInfo::exists(path + QStringLiteral(".part"))) return true;
    for (const Download* d : downloads_) {
      if (d->targetPath() == path) return true;
    }
    return false;
  };
  QString candidate = info.absoluteFilePath();
  for (int n = 2; taken(candidate); ++n) {
    candidate = info.absolutePath() + QLatin1Char('/') + info.completeBaseName() + QStringLiteral("-%1.gguf").arg(n);
  }
  return candidate;
}

Download* DownloadManager::download(const QString& urlText, qint64 expectedBytes, const QString& sha256,
                                    const QString& name) {
  // A bare "huggingface.co/…" means HTTPS (QUrl::fromUserInput would make it http://).
  const QString text = urlText.trimmed();
  const QUrl url = QUrl::fromUserInput(text.contains(QStringLiteral("://")) ? text : QStringLiteral("https://") + text);
  if (urlText.trimmed().isEmpty() || !url.isValid() || (url.scheme() != "http" && url.scheme() != "https") ||
      url.host().isEmpty()) {
    setMessage(tr("“%1” is not a web address; paste an http:// or https:// link to a .gguf file.").arg(urlText.trimmed()),
               true);
    return nullptr;
  }
  const QString hash = sha256.trimmed().toLower();
  static const QRegularExpression hexSha256(QStringLiteral("^[0-9a-f]{64}$"));
  if (!hash.isEmpty() && !hexSha256.match(hash).hasMatch()) {
    setMessage(tr("A SHA-256 is 64 hexadecimal digits; “%1” is not one.").arg(sha256.trimmed()), true);
    return nullptr;
  }
  for (const Download* d : std::as_const(downloads_)) {
    if (d->url() == url.toString() && !d->isFinished()) {
      setMessage(tr("%1 is already in the downloads.").arg(d->name()), true);
      return nullptr;
    }
  }
  if (!QDir().mkpath(modelsDir_)) {
    setMessage(tr("Cannot create the models folder %1.").arg(modelsDir_), true);
    return nullptr;
  }
  DownloadRecord record;
  record.url = url.toString();
  record.targetPath = targetFor(url);
  record.name = name.trimmed().isEmpty() ? QFileInfo(record.targetPath).fileName() : name.trimmed();
  record.expectedBytes = qMax<qint64>(0, expectedBytes);
  record.sha256 = hash;
  const Result<qint64> id = store_.add(record);
  if (!id) {
    setMessage(id.error(), true);
    return nullptr;
  }
  record.id = id.value();
  setMessage({}, false);
  Download* d = adopt(record);
  d->resume();
  return d;
}

Download* DownloadManager::downloadFromCatalogue(int index) {
  if (index < 0 || index >= catalogue_.entries.size()) return nullptr;
  const CatalogueEntry& e = catalogue_.entries[index];
  return download(e.url, e.bytes, e.sha256, e.name);
}

Download* DownloadManager::adopt(const DownloadRecord& record) {
  auto* d = new Download(record, store_, network_, this);
  connect(d, &Download::stateChanged, this, &DownloadManager::activityChanged);
  connect(d, &Download::progressChanged, this, &DownloadManager::activityChanged);
  connect(d, &Download::completed, this, [this, d] { queueImport(d); });
  // Queued: the row may be deleted, never from inside its own call.
  connect(d, &Download::removeRequested, this, [this, d] { remove(d); }, Qt::QueuedConnection);
  downloads_.append(d);
  emit downloadsChanged();
  emit activityChanged();
  return d;
}

void DownloadManager::remove(Download* download) {
  if (!downloads_.removeOne(download)) return;
  emit downloadsChanged();
  emit activityChanged();
  download->deleteLater();
}

void DownloadManager::queueImport(Download* download) {
  if (!models_) {
    download->markImported(true, tr("Downloaded to %1.").arg(download->targetPath()));
    emit imported(download, true, download->error());
    return;
  }
  importQueue_.append(download);
  importNext();
}

// One import at a time: the models page refuses a second while one runs (its own "Add model…" too).
void DownloadManager::importNext() {
  if (importing_ || !models_) return;
  while (!importQueue_.isEmpty() && !importQueue_.first()) importQueue_.removeFirst();
  if (importQueue_.isEmpty()) return;
  if (models_->importing()) {
    // Try again once that import has ended (queued: its flow is still finishing when it says so).
    connect(models_.data(), &ModelsController::importChanged, this,
            [this] { QTimer::singleShot(0, this, &DownloadManager::importNext); }, Qt::SingleShotConnection);
    return;
  }
  importOne(importQueue_.takeFirst());
}

QCoro::Task<> DownloadManager::importOne(QPointer<Download> download) {
  importing_ = true;
  QPointer<DownloadManager> self(this);
  const QString path = download->targetPath();
  QPointer<ModelsController> models = models_;
  const ImportResult result = co_await models->importAndAdd(path);
  if (!self) co_return;  // the app closed during the import
  importing_ = false;
  if (download) {
    const bool added = result.outcome == ImportResult::Outcome::Added;
    const QString message =
        added ? tr("Added to your models as %1.").arg(result.entry.name)
        : result.outcome == ImportResult::Outcome::Cancelled
            ? tr("Downloaded to %1; adding it was cancelled (Add model… adds it later).").arg(path)
            : tr("Downloaded to %1, but it could not be added: %2").arg(path, result.error);
    download->markImported(added, message);
    emit imported(download, added, message);
  }
  QTimer::singleShot(0, this, &DownloadManager::importNext);
}

}  // namespace sieve::app
