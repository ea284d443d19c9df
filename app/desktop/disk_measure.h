#pragma once
// The settings page's "Measure disk" (`App.diskMeasure` in QML):
// runs core's disk probe (the one `sieve probe-disk` uses) on Qt's thread
// pool, never the UI thread, with progress and Cancel, and saves the profile
// where the planner reads it (MemoryPlanner::defaultDiskProfilePath), so the
// predicted tokens/s appears at once. A shorter probe than the CLI's default:
// a 256 MiB test file in the profile's folder (the disk the models are
// imported to) and the read sizes and depths around the engine's (1 MiB, 32).

#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QtQml/qqmlregistration.h>
#include <atomic>
#include <cstdint>
#include <memory>

namespace sieve::app {

struct DiskMeasureResult {
  bool ok = false;
  bool cancelled = false;
  QString error;  // !ok and !cancelled: one sentence
};

class DiskMeasure : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  Q_PROPERTY(bool running READ running NOTIFY runningChanged)
  Q_PROPERTY(double progress READ progress NOTIFY progressChanged)  // 0..1
  Q_PROPERTY(QString statusText READ statusText NOTIFY progressChanged)
  Q_PROPERTY(QString profilePath READ profilePath WRITE setProfilePath NOTIFY profilePathChanged)

 public:
  explicit DiskMeasure(QObject* parent = nullptr);
  ~DiskMeasure() override;  // cancels and waits (at most one measurement point)

  bool running() const { return running_; }
  double progress() const { return progress_; }
  QString statusText() const { return status_; }
  QString profilePath() const { return profilePath_; }
  void setProfilePath(const QString& path);
  // Tests: a smaller file and shorter points.
  void setProbeSize(quint64 fileBytes, double secondsPerPoint) {
    fileBytes_ = fileBytes;
    secondsPerPoint_ = secondsPerPoint;
  }

  // Starts measuring (ignored while running). The test file goes in the
  // profile's folder and is removed afterwards.
  Q_INVOKABLE void start();
  Q_INVOKABLE void cancel();

 signals:
  void runningChanged();
  void progressChanged();
  void profilePathChanged();
  // The profile was saved at `path` (the planner reloads it).
  void measured(const QString& path);
  void finished(const sieve::app::DiskMeasureResult& result);

 private:
  void setProgress(double progress, const QString& status);
  void onFinished(const DiskMeasureResult& result);

  QString profilePath_;
  quint64 fileBytes_ = quint64(256) << 20;
  double secondsPerPoint_ = 0.5;
  bool running_ = false;
  double progress_ = 0;
  QString status_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  QFutureWatcher<DiskMeasureResult> watcher_;
};

}  // namespace sieve::app

Q_DECLARE_METATYPE(sieve::app::DiskMeasureResult)
