#pragma once
// What the settings page shows next to the DRAM budget slider (the QML
// `App.planner`): the slider's bounds (the model's minimum and
// this machine's RAM), how a budget would be split (Engine::plan on the
// model's pack: flash mode's split, or sparse mode's; without loading it)
// and the speed the disk allows.
//
// The one source of the minimum DRAM: every page (settings, models list,
// status) asks this code, for the effective engine settings (threads,
// context, mode, sparse window and predictor), which bindSettings() keeps
// current (setEffective).
//
// The expected speed is only an I/O bound, and only when a disk profile
// (`sieve probe-disk --json FILE`, or the settings page's Measure disk)
// exists: tokens/s <= disk MB/s / MB streamed per token. Without a profile
// it says so instead of guessing. Sparse mode's bytes per token are an
// estimate from the pack's active fraction (calibration) and the window.
//
// Also: what `--mode auto` would choose (engine/auto_mode.h, the engine's own
// decision), the default budget (60% of the memory available now) and the
// budget a person types ("1.5G", "900M", "50%"). Sizes are binary: GiB, MiB.

#include <QObject>
#include <QString>
#include <QStringList>
#include <QVariantMap>
#include <QtQml/qqmlregistration.h>
#include <optional>

#include "engine.h"

namespace sieve::app {

// The engine settings a plan depends on.
struct PlanSettings {
  QString mode = QStringLiteral("flash");  // "sparse" plans its own way; every other mode as flash
  int threads = 0;                         // 0: all cores (resolvedThreads)
  qint64 context = 0;                      // 0: min(training context, 4096)
  int sparseWindow = 4;
  QString sparsePredictor = QStringLiteral("gate");
  bool operator==(const PlanSettings&) const = default;
};

// The thread count the engine runs with for a `threads` setting (0: all cores).
int resolvedThreads(int threads);

// A pack's DRAM needs under some settings: the least budget it loads with
// and what it plans with no budget (everything resident).
struct PackNeeds {
  bool ok = false;
  QString error;        // !ok: one sentence
  quint64 minimum = 0;
  quint64 full = 0;
  qint64 context = 0;   // resolved
  int threads = 0;      // resolved
  QString mode;         // "flash" or "sparse": how it was planned
};
PackNeeds packNeeds(const QString& packPath, const PlanSettings& settings);
// "for 2 threads, a 512-token context, flash mode"
QString describePlanSettings(int threads, qint64 context, const QString& mode);

class MemoryPlanner : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  Q_PROPERTY(QString modelPath READ modelPath WRITE setModelPath NOTIFY modelChanged)
  // Whether the DRAM budget splits for this model (Engine::plan): a pack, or
  // a Mixture-of-Experts GGUF (flash mode streams its experts).
  Q_PROPERTY(bool budgetable READ budgetable NOTIFY modelChanged)
  Q_PROPERTY(double modelBytes READ modelBytes NOTIFY modelChanged)
  Q_PROPERTY(double machineBytes READ machineBytes CONSTANT)
  Q_PROPERTY(QString diskProfilePath READ diskProfilePath WRITE setDiskProfilePath NOTIFY diskProfileChanged)
  Q_PROPERTY(double diskMBps READ diskMBps NOTIFY diskProfileChanged)
  // What this build's engine offers: modes parse_engine_mode accepts, and
  // whether EngineOptions has the sparse window yet.
  Q_PROPERTY(QStringList supportedModes READ supportedModes CONSTANT)
  Q_PROPERTY(bool sparseWindowSupported READ sparseWindowSupported CONSTANT)
  // The effective engine settings (setEffective) and, for the current model,
  // the minimum budget under them (0 without a pack) and how they read.
  Q_PROPERTY(double minimumBudget READ minimumBudget NOTIFY effectiveChanged)
  Q_PROPERTY(int effectiveThreads READ effectiveThreads NOTIFY effectiveChanged)
  Q_PROPERTY(qint64 effectiveContext READ effectiveContext NOTIFY effectiveChanged)
  Q_PROPERTY(QString planSettingsText READ planSettingsText NOTIFY effectiveChanged)
  // The memory available now (refreshAvailable re-reads it) and the budget
  // used when none is set: 60% of it, and how that reads.
  Q_PROPERTY(double availableBytes READ availableBytes NOTIFY availableChanged)
  Q_PROPERTY(double defaultBudget READ defaultBudget NOTIFY availableChanged)
  Q_PROPERTY(QString defaultBudgetText READ defaultBudgetText NOTIFY availableChanged)

 public:
  explicit MemoryPlanner(QObject* parent = nullptr);
  ~MemoryPlanner() override;

  // Where the app looks for a disk profile by default: <AppDataLocation>/disk-profile.json.
  static QString defaultDiskProfilePath();

  QString modelPath() const { return modelPath_; }
  void setModelPath(const QString& path);
  bool budgetable() const { return budgetable_; }
  double modelBytes() const { return double(modelBytes_); }
  double machineBytes() const;
  QString diskProfilePath() const { return diskProfilePath_; }
  void setDiskProfilePath(const QString& path);
  double diskMBps() const { return diskMBps_; }
  static QStringList supportedModes();
  static bool sparseWindowSupported();

  const PlanSettings& effective() const { return effective_; }
  void setEffective(const PlanSettings& settings);
  double minimumBudget() const;
  int effectiveThreads() const { return resolvedThreads(effective_.threads); }
  qint64 effectiveContext() const { return resolveContext(effective_.context); }
  QString planSettingsText() const;
  double availableBytes() const { return double(availableBytes_); }
  double defaultBudget() const;
  QString defaultBudgetText() const;
  // Re-reads the available memory (the settings page does when it opens).
  Q_INVOKABLE void refreshAvailable();
  // A budget the way a person types it: {ok, bytes, error}; "50%" is of the
  // memory available now.
  Q_INVOKABLE QVariantMap parseBudget(const QString& text) const;
  // What `--mode auto` would run for the current model at `budgetBytes`
  // (0: the default budget): {ok, mode, line, offer, error, everythingBytes
  // (the whole model in memory), flashMinimum (a pack: flash mode's least)}.
  Q_INVOKABLE QVariantMap autoChoice(double budgetBytes, int threads, qint64 context) const;
  // Re-reads the disk profile (after Measure disk saved it).
  Q_INVOKABLE void reloadDiskProfile() { setDiskProfilePath(diskProfilePath_); }

  // The split of `budgetBytes` (0: everything resident) for the current pack:
  //   {ok, error, minimumBytes, totalBytes, items: [{what, bytes, text}],
  //    pinnedLayers, streamedLayers, layers, streamedBytesPerToken (sparse:
  //    estimated, < 0 when nothing to estimate from), expectedTokensPerSecond
  //    (< 0: unknown), speedText, mode, threads, context}
  // `context` 0: the model's default (min(training context, 4096)). `mode`
  // "sparse" gives sparse mode's split (neuron stores and the predictor).
  Q_INVOKABLE QVariantMap plan(double budgetBytes, int threads, qint64 context, const QString& mode = "flash",
                               int sparseWindow = 4, const QString& sparsePredictor = "gate") const;
  // The budget below which a pack cannot load (0 without a pack).
  Q_INVOKABLE double minimumBytes(int threads, qint64 context, const QString& mode = "flash", int sparseWindow = 4,
                                  const QString& sparsePredictor = "gate") const;
  // `budgetBytes` raised to the minimum for the effective settings when it is
  // set (> 0) and below it; otherwise unchanged.
  Q_INVOKABLE double clampBudget(double budgetBytes) const;
  // "for 2 threads, a 512-token context, flash mode"
  Q_INVOKABLE static QString describeSettings(int threads, qint64 context, const QString& mode) {
    return describePlanSettings(threads, context, mode);
  }
  // The budget slider: positions 0..kUsefulShare cover the useful range
  // linearly (`low`, the model's minimum, to `full`, everything in memory),
  // the rest a logarithmic tail up to `high` (the machine's memory). When
  // `full` >= `high` the whole slider is linear from `low` to `high`.
  static constexpr double kUsefulShare = 0.8;
  Q_INVOKABLE static double budgetAt(double position, double low, double full, double high);
  Q_INVOKABLE static double positionOf(double bytes, double low, double full, double high);
  // "1.50 GiB" (binary units, as the engine's messages)
  Q_INVOKABLE static QString formatSize(double bytes);

 signals:
  void modelChanged();
  void diskProfileChanged();
  void effectiveChanged();
  void availableChanged();

 private:
  qint64 resolveContext(qint64 context) const;
  QVariantMap flashPlan(const MemoryPlan& plan) const;
  QString expertSpeedText(const MemoryPlan& plan) const;
  QVariantMap sparsePlan(const MemoryPlan& plan) const;

  QString modelPath_;
  quint64 modelBytes_ = 0;
  bool readable_ = false;  // a model Sieve can read (inspect_model_file)
  bool budgetable_ = false;
  qint64 defaultContext_ = 0;  // what context 0 resolves to for this model
  QString diskProfilePath_;
  double diskMBps_ = 0;  // at the engine's read size and depth; 0: no profile
  PlanSettings effective_;
  quint64 availableBytes_ = 0;
};

}  // namespace sieve::app
