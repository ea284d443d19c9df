#include "desktop/models_controller.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QUrl>
#include <utility>


#include "desktop/chat_controller.h"

namespace sieve::app {
namespace {

QString localPath(const QString& pathOrUrl) {
  const QUrl url(pathOrUrl);
  return url.isLocalFile() ? url.toLocalFile() : pathOrUrl;
}

ImportResult refused(const QString& error) {
  ImportResult r;
  r.outcome = ImportResult::Outcome::Failed;
  r.error = error;
  return r;
}

}  // namespace

ModelsController::ModelsController(ChatController* chat, const QString& libraryPath, const QString& modelsDir,
                                   QObject* parent)
    : QObject(parent), chat_(chat), library_(libraryPath), list_(library_) {
  options_.modelsDir = modelsDir.isEmpty() ? ModelLibrary::defaultModelsDir() : modelsDir;
  removeAbandonedPartials(options_.modelsDir);  // an import cut short by a crash takes no disk space for ever
  connect(&list_, &ModelListModel::countChanged, this, &ModelsController::countChanged);
  const Result<Done> loaded = list_.reload();
  if (!loaded) setMessage(loaded.error(), true);  // nobody listens to errorOccurred yet
  if (chat_) {
    connect(chat_.data(), &ChatController::modelChanged, this, &ModelsController::updateActive);
    // The chat names a listed model as this page does (one name everywhere).
    chat_->setModelNameLookup([this](const QString& path) { return nameOfPath(path); });
  }
  updateActive();
}

ModelsController::~ModelsController() {
  if (chat_) chat_->setModelNameLookup({});  // the lookup reads this controller's list
  if (!import_) return;
  // Cancel and join the worker, then let the waiting flow end with what it made.
  closing_ = true;
  import_->cancel();
  ImportResult result = import_->waitForResult();
  delete import_;  // `finished` is not delivered any more
  import_ = nullptr;
  resumeImport(std::move(result));
}

void ModelsController::resumeImport(ImportResult result) {
  importResult_ = std::move(result);
  if (auto flow = std::exchange(awaitingImport_, {})) flow.resume();
}

void ModelsController::setImportOptions(const ImportOptions& options) {
  const QString dir = options_.modelsDir;
  options_ = options;
  if (options_.modelsDir.isEmpty()) options_.modelsDir = dir;
}

QString ModelsController::importDetail() const {
  if (!import_) return {};
  if (import_->cancelling()) return QStringLiteral("Cancelling…");
  if (progress_.phase.isEmpty()) return QStringLiteral("Starting…");
  if (progress_.bytesTotal <= 0) return progress_.phase + QStringLiteral("…");
  QString text = QStringLiteral("%1 — %2 %  ·  %3 of %4")
                     .arg(progress_.phase)
                     .arg(int(progress_.fraction() * 100))
                     .arg(formatBytes(progress_.bytesDone), formatBytes(progress_.bytesTotal));
  if (progress_.seconds > 0.2) text += QStringLiteral("  ·  %1 MB/s").arg(progress_.megabytesPerSecond(), 0, 'f', 0);
  return text;
}

qint64 ModelsController::activeMinimumDramBytes() const {
  const int row = list_.rowOfPath(activePath_);
  if (activePath_.isEmpty() || !list_.entryAt(row)) return 0;
  return list_.data(list_.index(row), ModelListModel::MinimumDramRole).toLongLong();  // as the list shows it
}

qint64 ModelsController::activeFullDramBytes() const {
  const ModelEntry* e = list_.entryAt(list_.rowOfPath(activePath_));
  return activePath_.isEmpty() || !e ? 0 : e->fullDramBytes;
}

void ModelsController::setMessage(const QString& text, bool isError) {
  message_ = text;
  messageIsError_ = isError;
  emit messageChanged();
}

bool ModelsController::report(const QString& error) {
  setMessage(error, true);
  emit errorOccurred(error);
  return false;
}

void ModelsController::updateActive() {
  const QString path = chat_ && chat_->modelLoaded() ? chat_->modelPath() : QString();
  list_.setActivePath(path);
  if (path == activePath_) return;
  activePath_ = path;
  emit activeChanged();
}

void ModelsController::addModel(const QString& pathOrUrl) { importAndAdd(localPath(pathOrUrl)); }

void ModelsController::cancelImport() {
  if (!import_ || import_->cancelling()) return;
  import_->cancel();
  emit importChanged();
  emit importProgressChanged();
}

bool ModelsController::useModel(int row) {
  list_.refresh();
  const ModelEntry* entry = list_.entryAt(row);
  if (!entry) return report(QStringLiteral("That model is no longer in the list."));
  if (!ModelLibrary::isAvailable(*entry)) {
    return report(QStringLiteral("%1 is missing (%2 was moved or deleted); remove it and add it again.")
                      .arg(entry->name, entry->packPath));
  }
  if (chat_) chat_->loadModel(entry->packPath);
  setMessage(QStringLiteral("Loading %1…").arg(entry->name), false);
  return true;
}

bool ModelsController::removeModel(int row, bool keepFiles) {
  const ModelEntry* entry = list_.entryAt(row);
  if (!entry) return report(QStringLiteral("That model is no longer in the list."));
  if (!activePath_.isEmpty() && list_.rowOfPath(activePath_) == row) {
    return report(QStringLiteral("%1 is in use; switch to another model before removing it.").arg(entry->name));
  }
  const QString name = entry->name;
  const QString pack = entry->packPath;
  const bool ownsPack = entry->ownsPack;  // `entry` is gone after the removal
  const Result<Done> removed = list_.remove(row, !keepFiles);
  if (!removed) return report(removed.error());
  setMessage(ownsPack && !keepFiles ? QStringLiteral("Removed %1 and deleted its pack.").arg(name)
             : ownsPack ? QStringLiteral("Removed %1 from the list; %2 was kept.").arg(name, pack)
                                  : QStringLiteral("Removed %1 from the list.").arg(name),
             false);
  emit activeChanged();  // the active model's row may have moved
  return true;
}

bool ModelsController::removeDeletesPack(int row) const {
  const ModelEntry* entry = list_.entryAt(row);
  return entry && entry->ownsPack;
}

QString ModelsController::removalQuestion(int row) const {
  const ModelEntry* entry = list_.entryAt(row);
  if (!entry) return {};
  if (!entry->ownsPack) {
    return QStringLiteral("%1 leaves the list. Its file stays where it is:\n%2").arg(entry->name, entry->packPath);
  }
  const double megabytes = double(entry->packBytes) / 1e6;
  QString time;
  if (lastPackMBps_ > 0) {
    const double minutes = megabytes / lastPackMBps_ / 60.0;
    time = minutes < 1 ? QStringLiteral("under a minute")
                       : QStringLiteral("about %1 minutes").arg(qMax(1, qRound(minutes)));
    time += QStringLiteral(" (at the %1 MB/s measured when packing)").arg(lastPackMBps_, 0, 'f', 0);
  } else {
    time = QStringLiteral("a few minutes for %1").arg(formatBytes(entry->packBytes));
  }
  return QStringLiteral("This deletes the pack of %1 (%2, %3) from the disk. Using the model again means adding "
                        "it again, which re-packs it: %4.")
      .arg(entry->name, formatBytes(entry->packBytes), entry->packPath, time);
}

QString ModelsController::nameOfPath(const QString& path) const {
  const int row = list_.rowOfPath(path);
  const ModelEntry* entry = row >= 0 ? list_.entryAt(row) : nullptr;
  return entry ? entry->name : QString();
}

void ModelsController::refresh() { list_.refresh(); }

void ModelsController::onProgress(const ImportProgress& progress) {
  if (!import_) return;  // a late report of a finished import
  progress_ = progress;
  emit importProgressChanged();
}

void ModelsController::finishImport() {
  import_->deleteLater();
  import_ = nullptr;
  importName_.clear();
  progress_ = {};
  emit importChanged();
  emit importProgressChanged();
}

QCoro::Task<ImportResult> ModelsController::importAndAdd(QString path) {
  ImportResult result;
  if (import_) {
    result = refused(QStringLiteral("Another model is being added; wait for it or cancel it first."));
  } else if (path.trimmed().isEmpty()) {
    result = refused(QStringLiteral("Choose a model file (.gguf) to add."));
  } else if (const int row = list_.rowOfPath(path); row >= 0) {
    result = refused(QStringLiteral("%1 is already in your models.").arg(list_.entryAt(row)->name));
  }
  if (!result.error.isEmpty()) {
    report(result.error);
    emit importFinished(result);
    co_return result;
  }

  import_ = new ModelImport(path, options_, this);
  importName_ = QFileInfo(path).fileName();
  progress_ = {};
  connect(import_, &ModelImport::progressed, this, &ModelsController::onProgress);  // queued from the worker
  setMessage({}, false);
  emit importChanged();
  emit importProgressChanged();
  connect(import_, &ModelImport::finished, this, &ModelsController::resumeImport);
  QElapsedTimer importTime;
  importTime.start();
  import_->start();
  result = co_await ImportEnd{this};  // `finished` comes from the event loop, after this suspends
  // The whole import's rate (pack, verify, measure): what adding the model again would take.
  const double packedMBps = importTime.elapsed() > 0 ? double(result.entry.packBytes) / 1e3 / double(importTime.elapsed()) : 0;
  if (closing_) {
    // The app is closing: keep a pack that was finished just in time, nothing else.
    if (result.outcome == ImportResult::Outcome::Added && !list_.add(result.entry) && result.entry.ownsPack) {
      QFile::remove(result.entry.packPath);
    }
    co_return result;
  }
  finishImport();

  if (result.outcome == ImportResult::Outcome::Added) {
    const Result<Done> added = list_.add(result.entry);
    if (!added) {
      if (result.entry.ownsPack) QFile::remove(result.entry.packPath);
      result = refused(added.error());
    }
  }
  switch (result.outcome) {
    case ImportResult::Outcome::Added: {
      const ModelEntry& e = result.entry;
      if (packedMBps > 0 && e.ownsPack) lastPackMBps_ = packedMBps;  // a pack added as it is was not packed
      // The first model becomes the one the chat runs.
      const bool use = chat_ && !chat_->modelLoaded() && !chat_->loading() && useModel(list_.rowOfPath(e.packPath));
      // The minimum as the list shows it: planned for the engine settings in effect.
      const QModelIndex row = list_.index(list_.rowOfPath(e.packPath));
      setMessage(QStringLiteral("Added %1 (%2, minimum DRAM %3 %4).%5")
                     .arg(e.name, formatBytes(e.packBytes),
                          list_.data(row, ModelListModel::MinimumDramTextRole).toString(),
                          list_.data(row, ModelListModel::PlanTextRole).toString(),
                          use ? QStringLiteral(" Loading it…") : QString()),
                 false);
      break;
    }
    case ImportResult::Outcome::Cancelled:
      setMessage(QStringLiteral("Adding %1 was cancelled; nothing was kept.").arg(QFileInfo(path).fileName()), false);
      break;
    case ImportResult::Outcome::Failed:
      report(QStringLiteral("Could not add the model: %1").arg(result.error));
      break;
  }
  emit importFinished(result);
  co_return result;
}

}  // namespace sieve::app
