// The model library: entries persist across runs, missing files are detected
// (and can be removed), a damaged list file is set aside, and the list model
// passes QAbstractItemModelTester. Uses a real pack of stories260K.
#include <QAbstractItemModelTester>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "desktop/model_import.h"
#include "desktop/model_library.h"
#include "desktop/model_list_model.h"

using namespace sieve::app;

namespace {
const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");
const QString kOtherModel = QStringLiteral(SIEVE_SHARED_DIR "/models/synthA-q4_k_m.gguf");

// Packs `source` for real into `dir`; the entry as the import returns it.
ModelEntry importFor(const QString& source, const QString& dir) {
  std::atomic<bool> cancel{false};
  ImportOptions options;
  options.modelsDir = dir;
  ImportResult r = runImport(source, options, cancel, {});
  if (r.outcome != ImportResult::Outcome::Added) qFatal("import of %s failed: %s", qPrintable(source), qPrintable(r.error));
  return r.entry;
}
}  // namespace

class ModelLibraryTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    if (!QFile::exists(kModel) || !QFile::exists(kOtherModel)) QSKIP("../shared/models is missing");
  }

  void persistsEntriesAcrossRuns() {
    QTemporaryDir dir;
    const ModelEntry first = importFor(kModel, dir.filePath("models"));
    const ModelEntry second = importFor(kOtherModel, dir.filePath("models"));
    {
      ModelLibrary library(dir.filePath("models.json"));
      QVERIFY(library.load());
      QVERIFY(library.entries().isEmpty());  // no file yet: an empty library
      QVERIFY(library.add(first));
      QVERIFY(library.add(second));
    }
    ModelLibrary reopened(dir.filePath("models.json"));
    QVERIFY(reopened.load());
    QCOMPARE(reopened.entries().size(), 2);
    QVERIFY(reopened.entries()[0] == first);  // every field, the date to the millisecond
    QVERIFY(reopened.entries()[1] == second);
    QCOMPARE(reopened.entries()[0].architecture, QString("llama"));
    QVERIFY(reopened.entries()[0].minimumDramBytes > 0);
    QVERIFY(reopened.entries()[1].types.contains("Q4_K"));
    QCOMPARE(reopened.indexOfPath(first.packPath), 0);
    QCOMPARE(reopened.indexOfPath(kOtherModel), 1);  // found by its source too
  }

  void refusesTheSameModelTwice() {
    QTemporaryDir dir;
    const ModelEntry entry = importFor(kModel, dir.filePath("models"));
    ModelLibrary library(dir.filePath("models.json"));
    QVERIFY(library.add(entry));
    ModelEntry again = entry;
    again.id = "another-id";
    const auto refused = library.add(again);
    QVERIFY(!refused);
    QVERIFY2(refused.error().contains("already"), qPrintable(refused.error()));
    QCOMPARE(library.entries().size(), 1);
  }

  void detectsMissingFilesAndRemovesThem() {
    QTemporaryDir dir;
    const ModelEntry entry = importFor(kModel, dir.filePath("models"));
    ModelLibrary library(dir.filePath("models.json"));
    QVERIFY(library.add(entry));
    ModelListModel model(library);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.data(model.index(0), ModelListModel::StatusRole).toString(), QString("ready"));

    // The pack disappears (moved, deleted): shown as missing after a refresh...
    const QString moved = entry.packPath + ".moved";
    QVERIFY(QFile::rename(entry.packPath, moved));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.refresh();
    QCOMPARE(changed.size(), 1);
    QCOMPARE(model.data(model.index(0), ModelListModel::StatusRole).toString(), QString("missing"));
    QCOMPARE(model.data(model.index(0), ModelListModel::AvailableRole).toBool(), false);
    // ... and in the next run.
    ModelLibrary nextRun(dir.filePath("models.json"));
    ModelListModel nextModel(nextRun);
    QVERIFY(nextModel.reload());
    QCOMPARE(nextModel.data(nextModel.index(0), ModelListModel::StatusRole).toString(), QString("missing"));

    // Back in place: ready again.
    QVERIFY(QFile::rename(moved, entry.packPath));
    model.refresh();
    QCOMPARE(model.data(model.index(0), ModelListModel::StatusRole).toString(), QString("ready"));

    // A missing model can be removed; the removal is saved.
    QVERIFY(QFile::remove(entry.packPath));
    model.refresh();
    QVERIFY(model.remove(0));
    QCOMPARE(model.rowCount(), 0);
    ModelLibrary afterRemoval(dir.filePath("models.json"));
    QVERIFY(afterRemoval.load());
    QVERIFY(afterRemoval.entries().isEmpty());
  }

  void removingDeletesOnlyPacksTheImportMade() {
    QTemporaryDir dir;
    const ModelEntry ours = importFor(kModel, dir.filePath("models"));
    QVERIFY(ours.ownsPack);
    // A pack the user brought is added as it is, and never deleted.
    const QString userPack = dir.filePath("mine.sieve");
    QVERIFY(QFile::copy(ours.packPath, userPack));
    const ModelEntry theirs = importFor(userPack, dir.filePath("models"));
    QVERIFY(!theirs.ownsPack);
    QCOMPARE(theirs.packPath, userPack);

    ModelLibrary library(dir.filePath("models.json"));
    QVERIFY(library.add(ours));
    QVERIFY(library.add(theirs));
    QVERIFY(library.remove(theirs.id));
    QVERIFY(QFile::exists(userPack));
    QVERIFY(library.remove(ours.id));
    QVERIFY(!QFile::exists(ours.packPath));
    QVERIFY(QFile::exists(kModel));  // the source is never touched
  }

  // "Remove from list, keep files": the entry goes, the pack the import made stays.
  void removingCanKeepThePack() {
    QTemporaryDir dir;
    const ModelEntry ours = importFor(kModel, dir.filePath("models"));
    ModelLibrary library(dir.filePath("models.json"));
    QVERIFY(library.add(ours));
    QVERIFY(library.remove(ours.id, /*deletePack=*/false));
    QCOMPARE(library.entries().size(), 0);
    QVERIFY(QFile::exists(ours.packPath));
    // The name is the one modelDisplayName gives (stories260K's general.name is "llama").
    QCOMPARE(ours.name, modelDisplayName("llama", kModel, ours.architecture));
    QCOMPARE(ours.name, QString("stories260K"));
  }

  void setsADamagedFileAside() {
    QTemporaryDir dir;
    const QString path = dir.filePath("models.json");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("{\"version\": 1, \"models\": [ {\"id\": ");  // cut off
    file.close();
    ModelLibrary library(path);
    const auto loaded = library.load();
    QVERIFY(!loaded);
    QVERIFY2(loaded.error().contains("models.json") && loaded.error().contains("damaged"), qPrintable(loaded.error()));
    QVERIFY(library.entries().isEmpty());
    QVERIFY(QFile::exists(path + ".damaged"));  // kept for the user, not overwritten by the next save
    QVERIFY(!QFile::exists(path));
  }

  void listModelPassesTheTesterThroughChanges() {
    QTemporaryDir dir;
    const ModelEntry first = importFor(kModel, dir.filePath("models"));
    const ModelEntry second = importFor(kOtherModel, dir.filePath("models"));
    ModelLibrary library(dir.filePath("models.json"));
    ModelListModel model(library);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy count(&model, &ModelListModel::countChanged);
    QVERIFY(model.add(first));
    QVERIFY(model.add(second));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(count.size(), 2);
    QVERIFY(!model.add(first));  // refused: no row added
    QCOMPARE(model.rowCount(), 2);

    model.setActivePath(second.packPath);
    QCOMPARE(model.data(model.index(1), ModelListModel::ActiveRole).toBool(), true);
    QCOMPARE(model.data(model.index(0), ModelListModel::ActiveRole).toBool(), false);
    model.setActivePath(first.packPath);
    QCOMPARE(model.data(model.index(0), ModelListModel::ActiveRole).toBool(), true);
    QCOMPARE(model.data(model.index(1), ModelListModel::ActiveRole).toBool(), false);

    // Every role answers for every row; the view's texts are filled in.
    const QHash<int, QByteArray> roles = model.roleNames();
    for (int row = 0; row < model.rowCount(); ++row) {
      for (auto it = roles.begin(); it != roles.end(); ++it) QVERIFY(model.data(model.index(row), it.key()).isValid());
      QVERIFY(!model.data(model.index(row), ModelListModel::TypeTextRole).toString().isEmpty());
      QVERIFY(model.data(model.index(row), ModelListModel::MinimumDramTextRole).toString().contains("iB"));
    }
    QVERIFY(model.reload());
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.data(model.index(0), ModelListModel::ActiveRole).toBool(), true);  // kept across a reload
    QVERIFY(model.remove(1));
    QVERIFY(!model.remove(5));
    QCOMPARE(model.rowCount(), 1);
  }

  void formatsSizesAndCounts() {
    QCOMPARE(formatBytes(512), QString("512 B"));
    QCOMPARE(formatBytes(3000), QString("3 KiB"));
    QCOMPARE(formatBytes(qint64(3) << 20), QString("3.0 MiB"));
    QCOMPARE(formatBytes(qint64(3) << 30), QString("3.00 GiB"));
    QCOMPARE(formatParameters(260'000), QString("260K parameters"));
    QCOMPARE(formatParameters(1'100'000'000), QString("1.1B parameters"));
    QCOMPARE(formatParameters(0), QString());
  }
};

QTEST_GUILESS_MAIN(ModelLibraryTest)
#include "model_library_test.moc"
