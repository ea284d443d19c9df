#include "desktop/model_import.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStorageInfo>
#include <QThread>
#include <QUuid>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>

#include "desktop/memory_planner.h"
#include "engine.h"
#include "engine/model_file.h"
#include "flash/pack_writer.h"

namespace sieve::app {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kMinorTypeShare = 0.02;          // types below this share of the bytes are not listed
const char* const kCancelledMessage = "The import was cancelled.";

std::filesystem::path toFsPath(const QString& path) { return std::filesystem::path(QFile::encodeName(path).toStdString()); }

QString fromStd(const std::string& text) { return QString::fromStdString(text); }

// Tensor types by their share of the weights (largest first, as listed);
// minor ones (norms in F32) left out.
QStringList mainTypes(const std::vector<WeightTypeBytes>& types) {
  uint64_t total = 0;
  for (const WeightTypeBytes& t : types) total += t.bytes;
  QStringList names;
  for (const WeightTypeBytes& t : types) {
    if (names.isEmpty() || double(t.bytes) >= kMinorTypeShare * double(total)) names << fromStd(t.type);
  }
  return names;
}

void requireComputable(const std::vector<WeightTypeBytes>& types, const QString& file) {
  for (const WeightTypeBytes& t : types) {
    if (!t.computable) {
      throw Error(QStringLiteral("%1: its weights use the tensor type %2, which Sieve cannot run yet.")
                      .arg(file, fromStd(t.type))
                      .toStdString());
    }
  }
}

// The pack's minimum DRAM and its all-resident total, for the engine's
// default thread count and the given context (0: the engine's default), by
// the planner every page uses (memory_planner.h).
void planDram(const QString& packPath, qint64 context, ModelEntry& entry) {
  PlanSettings settings;
  settings.context = context;
  const PackNeeds needs = packNeeds(packPath, settings);
  if (!needs.ok) throw Error(needs.error.toStdString());
  entry.minimumDramBytes = qint64(needs.minimum);
  entry.fullDramBytes = qint64(needs.full);
  entry.planContext = needs.context;
}

// Calls `sink` at most every `interval`, and always for a phase's first and last report.
class ProgressThrottle {
 public:
  ProgressThrottle(const std::function<void(const ImportProgress&)>& sink, std::chrono::milliseconds interval)
      : sink_(sink), interval_(interval) {}
  void report(const ImportProgress& p) {
    if (!sink_) return;
    std::lock_guard lock(mutex_);  // the packer reports from its writer thread too (never at once)
    const Clock::time_point now = Clock::now();
    const bool edge = p.phase != lastPhase_ || (p.bytesTotal > 0 && p.bytesDone >= p.bytesTotal);
    if (!edge && now - last_ < interval_) return;
    last_ = now;
    lastPhase_ = p.phase;
    sink_(p);
  }

 private:
  const std::function<void(const ImportProgress&)>& sink_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  Clock::time_point last_{};
  QString lastPhase_;
};

QString phaseName(const char* packerPhase) {
  return std::string_view(packerPhase) == "verifying" ? QStringLiteral("Verifying")
                                                      : QStringLiteral("Packing for flash mode");
}

// The engine's messages are sentences, a few without the final full stop.
ImportResult failed(const QString& error) {
  ImportResult r;
  r.outcome = ImportResult::Outcome::Failed;
  r.error = error.trimmed();
  if (!r.error.endsWith('.')) r.error += '.';
  return r;
}

ImportResult cancelled() {
  ImportResult r;
  r.outcome = ImportResult::Outcome::Cancelled;
  r.error = QString::fromUtf8(kCancelledMessage);
  return r;
}

// Refuses a pack that cannot fit: it is about as large as its source.
void requireFreeSpace(const QString& dir, const QString& source, qint64 sourceBytes) {
  const QStorageInfo storage(dir);
  const qint64 needed = sourceBytes + sourceBytes / 50 + (qint64(64) << 20);
  if (storage.isValid() && storage.bytesAvailable() >= 0 && storage.bytesAvailable() < needed) {
    throw Error(QStringLiteral("%1: not enough free disk space in %2 to pack it (needs about %3, %4 free).")
                    .arg(QFileInfo(source).fileName(), dir, formatBytes(needed), formatBytes(storage.bytesAvailable()))
                    .toStdString());
  }
}

// describeModel(), also telling whether importing it means packing it: a
// plain dense GGUF is packed for flash mode; a pack, or a Mixture-of-Experts
// model (which cannot be packed yet; it runs from its GGUF), is added as it is.
ModelEntry describe(const QString& path, qint64 planContext, bool& needsPacking) {
  if (!QFileInfo(path).isFile()) {
    throw Error(QStringLiteral("%1: no such file.").arg(path.isEmpty() ? QStringLiteral("(no file chosen)") : path).toStdString());
  }
  const ModelFileInfo info = inspect_model_file(toFsPath(path));
  ModelEntry entry;
  entry.sourcePath = path;
  entry.packPath = path;
  entry.sourceBytes = qint64(info.file_bytes);
  entry.packBytes = qint64(info.file_bytes);
  entry.architecture = fromStd(info.architecture);
  // Some converters write the architecture or a placeholder as the name: the file's name says more.
  entry.name = modelDisplayName(fromStd(info.name), path, entry.architecture);
  requireComputable(info.weight_types, QFileInfo(path).fileName());
  entry.types = mainTypes(info.weight_types);
  entry.parameters = qint64(info.parameters);
  needsPacking = !info.is_pack && info.n_experts == 0;
  if (info.is_pack) planDram(path, planContext, entry);
  return entry;
}

}  // namespace

ModelEntry describeModel(const QString& path, qint64 planContext) {
  bool needsPacking = false;
  return describe(path, planContext, needsPacking);
}

QString uniquePackPath(const QString& dir, const QString& sourcePath) {
  QString base = QFileInfo(sourcePath).completeBaseName();
  if (base.isEmpty()) base = QStringLiteral("model");
  QString candidate = QDir(dir).filePath(base + QStringLiteral(".sieve"));
  for (int n = 2; QFileInfo::exists(candidate) || QFileInfo::exists(candidate + QStringLiteral(".partial")); ++n) {
    candidate = QDir(dir).filePath(QStringLiteral("%1-%2.sieve").arg(base).arg(n));
  }
  return candidate;
}

int removeAbandonedPartials(const QString& dir, std::chrono::seconds idleFor) {
  const QDateTime writtenBefore = QDateTime::currentDateTimeUtc().addSecs(-idleFor.count());
  int removed = 0;
  const QFileInfoList partials = QDir(dir).entryInfoList({QStringLiteral("*.partial")}, QDir::Files);
  for (const QFileInfo& f : partials) {
    if (f.lastModified().toUTC() < writtenBefore && QFile::remove(f.filePath())) ++removed;
  }
  return removed;
}

ImportResult runImport(const QString& sourcePath, const ImportOptions& options, const std::atomic<bool>& cancel,
                       const std::function<void(const ImportProgress&)>& progress) {
  ProgressThrottle throttle(progress, std::chrono::milliseconds(std::max(0, options.progressIntervalMs)));
  QString packPath;  // set once this import owns a file it must remove on failure
  try {
    throttle.report({QStringLiteral("Checking"), 0, 0, 0});
    bool needsPacking = false;
    ModelEntry entry = describe(sourcePath, 0, needsPacking);
    if (cancel.load()) return cancelled();
    if (needsPacking) {  // a plain dense GGUF: pack it for flash mode
      const QString dir = options.modelsDir.isEmpty() ? ModelLibrary::defaultModelsDir() : options.modelsDir;
      if (!QDir().mkpath(dir)) throw Error(QStringLiteral("%1: cannot create the models folder.").arg(dir).toStdString());
      requireFreeSpace(dir, sourcePath, entry.sourceBytes);
      packPath = uniquePackPath(dir, sourcePath);
      flash::PackOptions pack;
      pack.threads = options.threads;
      pack.verify = options.verify;
      if (options.chunkBytes > 0) pack.chunk_bytes = uint64_t(options.chunkBytes);
      pack.progress = [&](const flash::PackProgress& p) {
        throttle.report({phaseName(p.phase), qint64(p.bytes_done), qint64(p.bytes_total), p.seconds});
        // Thrown from the packer's callback: it stops and removes its partial files.
        if (cancel.load()) throw Error(kCancelledMessage);
      };
      flash::pack_model(toFsPath(sourcePath), toFsPath(packPath), pack);
      if (cancel.load()) throw Error(kCancelledMessage);
      throttle.report({QStringLiteral("Measuring"), 0, 0, 0});
      const ModelEntry packed = describeModel(packPath);
      entry.packPath = packPath;
      entry.ownsPack = true;
      entry.packBytes = packed.packBytes;
      entry.minimumDramBytes = packed.minimumDramBytes;
      entry.fullDramBytes = packed.fullDramBytes;
      entry.planContext = packed.planContext;
      if (cancel.load()) throw Error(kCancelledMessage);  // cancelled while measuring: keep nothing
    }
    entry.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    entry.added = QDateTime::currentDateTimeUtc();
    ImportResult result;
    result.outcome = ImportResult::Outcome::Added;
    result.entry = std::move(entry);
    return result;
  } catch (const std::exception& e) {
    // The packer cleans up its own partial files; a finished pack (cancel
    // during verification or measuring) is this import's to remove.
    if (!packPath.isEmpty()) QFile::remove(packPath);
    if (cancel.load()) return cancelled();
    return failed(fromStd(e.what()));
  }
}

ModelImport::ModelImport(QString sourcePath, ImportOptions options, QObject* parent)
    : QObject(parent), sourcePath_(std::move(sourcePath)), options_(std::move(options)) {
  qRegisterMetaType<sieve::app::ImportProgress>();
  qRegisterMetaType<sieve::app::ImportResult>();
  // The watcher lives on this object's thread: `finished` is emitted there,
  // from the event loop, even when the worker is done before anyone awaits.
  connect(&watcher_, &QFutureWatcherBase::finished, this, [this] { emit finished(future_.result()); });
}

ModelImport::~ModelImport() {
  cancel();
  watcher_.disconnect();
  future_.waitForFinished();
}

ImportResult ModelImport::waitForResult() {
  if (!future_.isValid()) return ImportResult{ImportResult::Outcome::Cancelled, {}, {}};
  future_.waitForFinished();
  return future_.result();
}

void ModelImport::start() {
  future_ = QtConcurrent::run([this] {
    return runImport(sourcePath_, options_, cancel_, [this](const ImportProgress& p) { emit progressed(p); });
  });
  watcher_.setFuture(future_);
}

}  // namespace sieve::app
