#pragma once
// Adding a model: a chosen GGUF is checked, packed for flash mode into
// <models folder>/<name>.sieve (core/flash/pack_writer.h) and measured (its
// minimum DRAM from the flash planner). A file that already is a Sieve pack
// is measured and added as it is.
//
// runImport() is the whole job, blocking, for a worker thread; ModelImport
// runs it on Qt's thread pool (never the UI or the inference thread),
// reports progress as a queued signal and its end as a signal on the thread
// that owns it, for a QCoro coroutine to await. Cancelling is an atomic flag
// the packer's progress callback checks after every chunk (16 MiB): it throws,
// the packer removes its ".partial" files, and so does the import for a pack
// that was already finished. A failed or cancelled import leaves no file.

#include <QFuture>
#include <QFutureWatcher>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <atomic>
#include <chrono>
#include <functional>

#include "desktop/model_library.h"

namespace sieve::flash {
class PackFile;
}

namespace sieve::app {

struct ImportProgress {
  QString phase;        // "Checking", "Packing for flash mode", "Verifying", "Measuring"
  qint64 bytesDone = 0;
  qint64 bytesTotal = 0;  // 0: unknown
  double seconds = 0;     // since the phase began

  double fraction() const { return bytesTotal > 0 ? double(bytesDone) / double(bytesTotal) : 0.0; }
  double megabytesPerSecond() const { return seconds > 0 ? double(bytesDone) / 1e6 / seconds : 0.0; }
};

struct ImportResult {
  enum class Outcome { Added, Cancelled, Failed };
  Outcome outcome = Outcome::Failed;
  QString error;     // Failed: one sentence naming the file and the problem
  ModelEntry entry;  // Added: ready for ModelLibrary::add (id and date set)
};

struct ImportOptions {
  QString modelsDir;        // where packs are written; empty: ModelLibrary::defaultModelsDir()
  int threads = 0;          // bundle building; 0: all cores
  bool verify = false;      // re-read the finished pack and check every checksum (doubles the time)
  qint64 chunkBytes = 0;    // bytes per packing step (and progress report); 0: the packer's default
  int progressIntervalMs = 100;  // reports at most this often (tests: 0, every step)
};

// What a model file is: name, types, architecture, parameters, size and,
// for a pack, its DRAM needs at `planContext` (0: the engine's default
// context). Throws sieve::Error (one sentence naming the file) when it is
// not a GGUF model Sieve can run. Leaves id, added and the paths' roles to the caller.
ModelEntry describeModel(const QString& path, qint64 planContext = 0);

// The import, blocking. Never throws; `progress` is called on this thread
// (at most every options.progressIntervalMs, and at every phase's start and end).
ImportResult runImport(const QString& sourcePath, const ImportOptions& options, const std::atomic<bool>& cancel,
                       const std::function<void(const ImportProgress&)>& progress);

// A file name for the pack of `sourcePath` in `dir` that is not taken:
// "<base>.sieve", else "<base>-2.sieve", ...
QString uniquePackPath(const QString& dir, const QString& sourcePath);

// Removes the "*.partial" files in `dir` not written for `idleFor`: what an
// import left when the app was killed or the machine went down mid-pack (a
// running import writes its file continuously). Returns how many it removed.
inline constexpr std::chrono::minutes kAbandonedPartialAge{60};
int removeAbandonedPartials(const QString& dir, std::chrono::seconds idleFor = kAbandonedPartialAge);

// One import on the thread pool. Destroying it cancels the import and waits
// for the worker (at most one packing step), so `finished` never outlives it.
class ModelImport : public QObject {
  Q_OBJECT

 public:
  ModelImport(QString sourcePath, ImportOptions options, QObject* parent = nullptr);
  ~ModelImport() override;

  const QString& sourcePath() const { return sourcePath_; }
  void start();
  // Any thread; takes effect at the packer's next step.
  void cancel() { cancel_.store(true); }
  bool cancelling() const { return cancel_.load(); }
  bool running() const { return future_.isRunning(); }
  // Blocks until the worker is done and returns what it gave (Cancelled when
  // never started). For closing mid-import; `finished` still comes later.
  ImportResult waitForResult();

 signals:
  // Emitted on the worker thread: receivers on other threads get it queued.
  void progressed(const sieve::app::ImportProgress& progress);
  // Emitted on this object's thread, from its event loop (never before start() returns).
  void finished(const sieve::app::ImportResult& result);

 private:
  QString sourcePath_;
  ImportOptions options_;
  std::atomic<bool> cancel_{false};
  QFuture<ImportResult> future_;
  QFutureWatcher<ImportResult> watcher_;
};

}  // namespace sieve::app

Q_DECLARE_METATYPE(sieve::app::ImportProgress)
Q_DECLARE_METATYPE(sieve::app::ImportResult)
