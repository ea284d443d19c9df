#include "desktop/disk_measure.h"

#include <QDir>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

#include "desktop/memory_planner.h"
#include "flash/io/disk_probe.h"

namespace sieve::app {

DiskMeasure::DiskMeasure(QObject* parent)
    : QObject(parent), profilePath_(MemoryPlanner::defaultDiskProfilePath()) {
  qRegisterMetaType<DiskMeasureResult>();
  connect(&watcher_, &QFutureWatcherBase::finished, this, [this] { onFinished(watcher_.result()); });
}

DiskMeasure::~DiskMeasure() {
  if (cancel_) cancel_->store(true);
  watcher_.waitForFinished();
}

void DiskMeasure::setProfilePath(const QString& path) {
  if (path == profilePath_) return;
  profilePath_ = path;
  emit profilePathChanged();
}

void DiskMeasure::setProgress(double progress, const QString& status) {
  progress_ = progress;
  status_ = status;
  emit progressChanged();
}

void DiskMeasure::start() {
  if (running_) return;
  const QString folder = QFileInfo(profilePath_).absolutePath();
  if (!QDir().mkpath(folder)) {
    setProgress(0, tr("Could not create the folder %1.").arg(folder));
    emit finished({false, false, status_});
    return;
  }
  flash::ProbeOptions options;
  options.folder = folder.toStdString();
  options.file_bytes = fileBytes_;
  // Large reads for flash mode's speed, small ones and depth 64 for sparse
  // mode's reads of a few KiB (the holes worth reading through, at its depth).
  options.chunk_sizes = {4u << 10, 32u << 10, 256u << 10, 1u << 20, 4u << 20};
  options.queue_depths = {4, 32, 64};
  options.seconds_per_point = secondsPerPoint_;
  const std::string profilePath = profilePath_.toStdString();
  const double steps = double(options.chunk_sizes.size() * options.queue_depths.size() + 1);  // + writing the file

  cancel_ = std::make_shared<std::atomic<bool>>(false);
  running_ = true;
  emit runningChanged();
  setProgress(0, tr("Writing a %1 test file…").arg(MemoryPlanner::formatSize(double(fileBytes_))));

  // Queued to this object: the destructor waits for the probe, and a report
  // still queued when it is destroyed is dropped with it.
  DiskMeasure* self = this;
  const auto report = [self](double progress, QString status) {
    QMetaObject::invokeMethod(self, [self, progress, status] {
      if (self->running_) self->setProgress(progress, status);
    }, Qt::QueuedConnection);
  };
  auto cancel = cancel_;
  watcher_.setFuture(QtConcurrent::run([options, profilePath, steps, report, cancel]() {
    DiskMeasureResult result;
    int done = 1;  // the file is written once the first point runs
    flash::ProbeEvents events;
    events.cancelled = [cancel] { return cancel->load(); };
    events.on_point = [&done, steps, report](const flash::DiskPoint& p) {
      ++done;
      report(done / steps, QObject::tr("Measured %1 KiB reads at depth %2: %3 MB/s")
                               .arg(p.chunk_bytes >> 10).arg(p.queue_depth).arg(p.mb_per_s, 0, 'f', 0));
    };
    try {
      const flash::DiskProfile profile = flash::probe_disk(options, events);
      profile.save(profilePath);
      result.ok = true;
    } catch (const flash::ProbeCancelled&) {
      result.cancelled = true;
    } catch (const std::exception& e) {
      result.error = QString::fromStdString(e.what());
    }
    return result;
  }));
}

void DiskMeasure::cancel() {
  if (cancel_) cancel_->store(true);
}

void DiskMeasure::onFinished(const DiskMeasureResult& result) {
  running_ = false;
  if (result.ok) {
    setProgress(1, tr("Disk measured; profile saved to %1.").arg(profilePath_));
    emit measured(profilePath_);
  } else {
    setProgress(0, result.cancelled ? tr("Cancelled; the previous profile (if any) is kept.")
                                    : tr("The measurement failed: %1").arg(result.error));
  }
  emit runningChanged();
  emit finished(result);
}

}  // namespace sieve::app
