// Measure disk (the settings page's button): core's disk probe in the
// background on a real temporary folder with a small test file, the profile
// saved where the planner reads it and the expected speed there at once;
// Cancel stops it mid-way, keeps the previous profile and removes the test file.
#include <QDir>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "desktop/disk_measure.h"
#include "desktop/memory_planner.h"
#include "flash/io/disk_probe.h"
#include "flash/io/disk_profile.h"

using namespace sieve::app;

class DiskMeasureTest : public QObject {
  Q_OBJECT

 private slots:
  void measuresInTheBackgroundAndThePlannerSeesItAtOnce() {
    QTemporaryDir dir;
    const QString profilePath = dir.filePath("profile/disk-profile.json");
    MemoryPlanner planner;
    planner.setDiskProfilePath(profilePath);
    QCOMPARE(planner.diskMBps(), 0.0);
    DiskMeasure measure;
    measure.setProfilePath(profilePath);
    measure.setProbeSize(8u << 20, 0.05);
    connect(&measure, &DiskMeasure::measured, &planner, &MemoryPlanner::setDiskProfilePath);
    QSignalSpy finished(&measure, &DiskMeasure::finished);
    QSignalSpy progress(&measure, &DiskMeasure::progressChanged);
    measure.start();
    QVERIFY(measure.running());  // start() returns at once: the probe runs on the thread pool
    measure.start();             // ignored while running
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.size(), 1);
    const auto result = finished.first().first().value<DiskMeasureResult>();
    QVERIFY2(result.ok, qPrintable(result.error));
    QVERIFY(!measure.running());
    QCOMPARE(measure.progress(), 1.0);
    QVERIFY(progress.size() >= 3);  // one report per point
    QVERIFY(QFile::exists(profilePath));
    QVERIFY(planner.diskMBps() > 0);  // the planner reloaded it: the predicted speed shows without a restart
    const sieve::flash::DiskProfile profile = sieve::flash::DiskProfile::load(profilePath.toStdString());
    QCOMPARE(profile.points.size(), size_t(15));  // 5 read sizes at depths 4, 32 and 64
    QVERIFY(!QFile::exists(QString::fromStdString(sieve::flash::probe_file_path(dir.filePath("profile").toStdString()))));
  }

  void cancelStopsItAndKeepsThePreviousProfile() {
    QTemporaryDir dir;
    const QString profilePath = dir.filePath("disk-profile.json");
    sieve::flash::DiskProfile old;
    old.points.push_back({1u << 20, 32, 123.0, 123.0, 1000, 10, 0.1});
    old.save(profilePath.toStdString());
    DiskMeasure measure;
    measure.setProfilePath(profilePath);
    measure.setProbeSize(8u << 20, 0.3);
    QSignalSpy finished(&measure, &DiskMeasure::finished);
    QSignalSpy measured(&measure, &DiskMeasure::measured);
    // Cancel as soon as the first point is measured.
    const auto cancelling = connect(&measure, &DiskMeasure::progressChanged, &measure, [&measure] {
      if (measure.running() && measure.progress() > 0) measure.cancel();
    });
    measure.start();
    QVERIFY(finished.wait(60000));
    const auto result = finished.first().first().value<DiskMeasureResult>();
    QVERIFY(!result.ok);
    QVERIFY(result.cancelled);
    QVERIFY(measured.isEmpty());
    QVERIFY(measure.statusText().startsWith("Cancelled"));
    QCOMPARE(sieve::flash::DiskProfile::load(profilePath.toStdString()).points.front().mb_per_s, 123.0);
    QVERIFY(!QFile::exists(QString::fromStdString(sieve::flash::probe_file_path(dir.path().toStdString()))));
    // Measured again on request.
    disconnect(cancelling);
    measure.setProbeSize(8u << 20, 0.05);
    measure.start();
    QVERIFY(finished.wait(60000));
    const auto again = finished.last().first().value<DiskMeasureResult>();
    QVERIFY2(again.ok, qPrintable(measure.statusText()));
    QVERIFY(sieve::flash::DiskProfile::load(profilePath.toStdString()).points.size() == 15);
  }

  // Destroyed mid-measurement: it cancels and waits, never leaving a thread behind.
  void destroyedWhileRunning() {
    QTemporaryDir dir;
    {
      DiskMeasure measure;
      measure.setProfilePath(dir.filePath("p.json"));
      measure.setProbeSize(8u << 20, 0.3);
      measure.start();
      QTest::qWait(50);
    }
    QVERIFY(!QFile::exists(dir.filePath("p.json")));
  }

  void anUnwritableFolderIsReported() {
    DiskMeasure measure;
    measure.setProfilePath("/proc/no-such-folder/disk-profile.json");
    QSignalSpy finished(&measure, &DiskMeasure::finished);
    measure.start();
    QTRY_VERIFY(!finished.isEmpty());
    const auto result = finished.first().first().value<DiskMeasureResult>();
    QVERIFY(!result.ok && !result.cancelled);
    QVERIFY(!measure.statusText().isEmpty());
  }
};

QTEST_GUILESS_MAIN(DiskMeasureTest)
#include "disk_measure_test.moc"
