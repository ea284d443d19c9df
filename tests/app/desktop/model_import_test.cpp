// Adding a model: packing stories260K for real (progress to 100 %, the pack
// loads in flash mode at exactly the minimum DRAM it reports), cancelling
// (at the first report, and midway through a 270 MB synthetic model) leaves
// no file, bad files are refused with a clear message and add nothing, a pack
// is added as it is, and the controller's flow (import, add, use, switch,
// remove) through a real ChatController.
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include "desktop/chat_controller.h"
#include "desktop/model_import.h"
#include "desktop/models_controller.h"
#include "engine.h"
#include "gguf/gguf_writer.h"
#include "synth/synth_model.h"

using namespace sieve::app;

namespace {
const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");
const QString kOtherModel = QStringLiteral(SIEVE_SHARED_DIR "/models/synthA-q4_k_m.gguf");

// Every file in `dir`, hidden ones (and .partial leftovers) included.
QStringList filesIn(const QString& dir) {
  return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
}

ImportOptions optionsFor(const QString& dir) {
  ImportOptions options;
  options.modelsDir = dir;
  options.chunkBytes = 1 << 20;  // many progress reports, so cancelling lands midway
  options.progressIntervalMs = 0;
  return options;
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}
}  // namespace

class ModelImportTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    if (!QFile::exists(kModel) || !QFile::exists(kOtherModel)) QSKIP("../shared/models is missing");
    QVERIFY(scratch_.isValid());
    // A model large enough that a cancel lands midway: 3 layers of the TinyLlama shape, F16 (270 MB).
    sieve::synth::SynthSpec spec;
    spec.shape = *sieve::synth::shape_preset("tinyllama-1.1b");
    spec.shape.n_layers = 3;
    spec.type = "f16";
    spec.name = "large-synthetic";
    largeModel_ = scratch_.filePath("large.gguf");
    sieve::synth::write_synthetic_model(spec, largeModel_.toStdString());
    QVERIFY(QFileInfo(largeModel_).size() > (200 << 20));
  }

  void packsStoriesWithProgressToTheEnd() {
    QTemporaryDir dir;
    std::atomic<bool> cancel{false};
    QList<ImportProgress> reports;
    const ImportResult r = runImport(kModel, optionsFor(dir.path()), cancel,
                                     [&](const ImportProgress& p) { reports.append(p); });
    QCOMPARE(int(r.outcome), int(ImportResult::Outcome::Added));
    QVERIFY(r.error.isEmpty());

    // Phases in order; packing reaches exactly 100 % and never goes back.
    QStringList phases;
    for (const ImportProgress& p : reports) {
      if (phases.isEmpty() || phases.last() != p.phase) phases << p.phase;
    }
    QCOMPARE(phases, QStringList({"Checking", "Packing for flash mode", "Measuring"}));
    double last = 0;
    ImportProgress lastPacking;
    for (const ImportProgress& p : reports) {
      if (p.phase != "Packing for flash mode") continue;
      QVERIFY(p.fraction() >= last);
      last = p.fraction();
      lastPacking = p;
    }
    QVERIFY(lastPacking.bytesTotal > 0);
    QCOMPARE(lastPacking.bytesDone, lastPacking.bytesTotal);
    QCOMPARE(lastPacking.fraction(), 1.0);

    // The entry describes the pack in our models folder; the source is untouched.
    const ModelEntry& e = r.entry;
    QVERIFY(!e.id.isEmpty());
    QCOMPARE(e.sourcePath, kModel);
    QCOMPARE(QFileInfo(e.packPath).absolutePath(), QFileInfo(dir.path()).absoluteFilePath());
    QCOMPARE(QFileInfo(e.packPath).fileName(), QString("stories260K.sieve"));
    QVERIFY(e.ownsPack);
    QCOMPARE(e.packBytes, QFileInfo(e.packPath).size());
    QCOMPARE(e.sourceBytes, QFileInfo(kModel).size());
    QCOMPARE(filesIn(dir.path()), QStringList({"stories260K.sieve"}));  // no .partial left
    QCOMPARE(e.architecture, QString("llama"));
    QVERIFY(!e.types.isEmpty());
    QVERIFY2(e.parameters > 200'000 && e.parameters < 400'000, qPrintable(QString::number(e.parameters)));
    QVERIFY(e.minimumDramBytes > 0);
    QVERIFY(e.fullDramBytes >= e.minimumDramBytes);
    QVERIFY(e.planContext > 0);

    // The pack runs in flash mode at exactly the reported minimum, and not below it.
    sieve::EngineOptions options;
    options.model_path = e.packPath.toStdString();
    options.mode = sieve::EngineMode::flash;
    options.threads = QThread::idealThreadCount();
    options.dram_budget.bytes = uint64_t(e.minimumDramBytes);
    auto engine = sieve::Engine::load(options);
    QVERIFY(engine->model().is_pack);
    QCOMPARE(engine->model().context, e.planContext);
    const std::vector<int32_t> ids = engine->tokenize("Once upon a time", engine->model().add_bos);
    QCOMPARE(engine->prefill(ids).size(), size_t(engine->model().n_vocab));
    QCOMPARE(engine->decode(ids.back()).size(), size_t(engine->model().n_vocab));
    engine.reset();
    options.dram_budget.bytes = uint64_t(e.minimumDramBytes) - 1;
    try {
      sieve::Engine::load(options);
      QFAIL("a budget below the minimum loaded");
    } catch (const sieve::Error& error) {
      QVERIFY2(QString(error.what()).contains("minimum"), error.what());
    }
  }

  void cancellingAtTheFirstReportLeavesNoFile() {
    QTemporaryDir dir;
    std::atomic<bool> cancel{false};
    int packingReports = 0;
    const ImportResult r = runImport(kModel, optionsFor(dir.path()), cancel, [&](const ImportProgress& p) {
      if (p.phase == "Packing for flash mode" && ++packingReports == 1) cancel = true;
    });
    QCOMPARE(int(r.outcome), int(ImportResult::Outcome::Cancelled));
    QCOMPARE(packingReports, 1);  // it stopped at once
    QVERIFY(filesIn(dir.path()).isEmpty());
  }

  // While verifying, the packer has already renamed the finished pack into place: the import removes it.
  void cancellingWhileVerifyingLeavesNoFile() {
    QTemporaryDir dir;
    ImportOptions options = optionsFor(dir.path());
    options.verify = true;
    std::atomic<bool> cancel{false};
    bool verified = false;
    const ImportResult r = runImport(kModel, options, cancel, [&](const ImportProgress& p) {
      if (p.phase == "Verifying") {
        verified = true;
        cancel = true;
      }
    });
    QVERIFY(verified);
    QCOMPARE(int(r.outcome), int(ImportResult::Outcome::Cancelled));
    QVERIFY2(filesIn(dir.path()).isEmpty(), qPrintable(filesIn(dir.path()).join(", ")));
  }

  void cancellingMidwayThroughALargeModelLeavesNoFile() {
    QTemporaryDir dir;
    ModelImport import(largeModel_, optionsFor(dir.path()));
    QThread* reportThread = nullptr;
    double cancelledAt = -1;
    // Direct: runs on the worker, so the cancel is seen right after this report.
    connect(&import, &ModelImport::progressed, this, [&](const ImportProgress& p) {
      reportThread = QThread::currentThread();
      if (cancelledAt < 0 && p.phase == "Packing for flash mode" && p.fraction() >= 0.25) {
        cancelledAt = p.fraction();
        import.cancel();
      }
    }, Qt::DirectConnection);
    QSignalSpy finished(&import, &ModelImport::finished);
    import.start();
    QVERIFY(finished.wait(120000));
    const auto r = finished.first().first().value<ImportResult>();
    QCOMPARE(int(r.outcome), int(ImportResult::Outcome::Cancelled));
    QVERIFY2(cancelledAt >= 0.25 && cancelledAt < 0.9, qPrintable(QString::number(cancelledAt)));
    QVERIFY(reportThread && reportThread != QThread::currentThread());  // packed off the UI thread
    QVERIFY2(filesIn(dir.path()).isEmpty(), qPrintable(filesIn(dir.path()).join(", ")));
  }

  void badFilesAreRefusedClearly() {
    QTemporaryDir dir;
    const QString models = dir.filePath("models");
    const auto write = [&](const QString& name, const QByteArray& bytes) {
      QFile f(dir.filePath(name));
      if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size()) qFatal("cannot write %s", qPrintable(name));
      return f.fileName();
    };
    const QByteArray stories = readAll(kModel);
    const QString text = write("notes.gguf", "These are not the weights you are looking for.\n");
    const QString empty = write("empty.gguf", {});
    const QString truncated = write("truncated.gguf", stories.left(stories.size() * 6 / 10));
    // A well-formed GGUF of an architecture Sieve does not run.
    const QString unsupported = dir.filePath("mamba.gguf");
    {
      sieve::gguf::GgufWriter w(unsupported.toStdString());
      w.set("general.architecture", sieve::gguf::Value::string("mamba"));
      w.add_tensor("token_embd.weight", sieve::tensor::TensorType::F32, {8, 4});
      w.begin_data();
      std::vector<std::byte> zeros(8 * 4 * sizeof(float));
      w.write_tensor_data(0, zeros);
      w.finish();
    }
    for (const QString& bad : {text, empty, truncated, unsupported, dir.filePath("absent.gguf")}) {
      std::atomic<bool> cancel{false};
      const ImportResult r = runImport(bad, optionsFor(models), cancel, {});
      QCOMPARE(int(r.outcome), int(ImportResult::Outcome::Failed));
      const QString name = QFileInfo(bad).fileName();
      QVERIFY2(r.error.contains(name), qPrintable(r.error));
      QVERIFY2(r.error.endsWith('.') && !r.error.contains('\n'), qPrintable(r.error));  // one sentence
      QVERIFY(filesIn(models).isEmpty());
      qInfo("%s -> %s", qPrintable(name), qPrintable(r.error));
    }

    // Through the controller: an error, and the library (and its file) unchanged.
    ModelsController controller(nullptr, dir.filePath("models.json"), models);
    QSignalSpy finished(&controller, &ModelsController::importFinished);
    controller.addModel(kModel);
    QVERIFY(finished.wait(60000));
    QCOMPARE(controller.count(), 1);
    const QByteArray before = readAll(dir.filePath("models.json"));
    QSignalSpy errors(&controller, &ModelsController::errorOccurred);
    controller.addModel(QUrl::fromLocalFile(truncated).toString());
    QVERIFY(finished.wait(60000));
    QCOMPARE(int(finished.last().first().value<ImportResult>().outcome), int(ImportResult::Outcome::Failed));
    QCOMPARE(errors.size(), 1);
    QVERIFY(errors.first().first().toString().contains("truncated.gguf"));
    QVERIFY(controller.messageIsError());
    QCOMPARE(controller.count(), 1);
    QCOMPARE(readAll(dir.filePath("models.json")), before);
    QCOMPARE(filesIn(models), QStringList({"stories260K.sieve"}));
    // The same model again: refused at once (importFinished before addModel returns), nothing packed.
    const int finishedBefore = int(finished.size());
    controller.addModel(kModel);
    QCOMPARE(int(finished.size()), finishedBefore + 1);
    QVERIFY(!controller.importing());
    QVERIFY(controller.message().contains("already"));
    QCOMPARE(filesIn(models), QStringList({"stories260K.sieve"}));
  }

  void aPackIsAddedAsItIs() {
    QTemporaryDir dir;
    std::atomic<bool> cancel{false};
    const ImportResult packed = runImport(kModel, optionsFor(dir.filePath("packs")), cancel, {});
    QCOMPARE(int(packed.outcome), int(ImportResult::Outcome::Added));
    const ImportResult added = runImport(packed.entry.packPath, optionsFor(dir.filePath("models")), cancel, {});
    QCOMPARE(int(added.outcome), int(ImportResult::Outcome::Added));
    QCOMPARE(added.entry.packPath, packed.entry.packPath);
    QCOMPARE(added.entry.sourcePath, packed.entry.packPath);
    QVERIFY(!added.entry.ownsPack);
    QCOMPARE(added.entry.minimumDramBytes, packed.entry.minimumDramBytes);
    QCOMPARE(added.entry.parameters, packed.entry.parameters);  // counted from the bundles' shapes
    QCOMPARE(added.entry.types, packed.entry.types);
    QVERIFY(filesIn(dir.filePath("models")).isEmpty());  // nothing copied
  }

  // A Mixture-of-Experts GGUF cannot be packed yet: it is added as it is and
  // runs from its own file (dense or mmap mode).
  void anExpertModelIsAddedWithoutPacking() {
    const QString moe = QStringLiteral(SIEVE_SHARED_DIR "/models/arch/qwen3moe.gguf");
    if (!QFile::exists(moe)) QSKIP("../shared/models/arch is missing");
    QTemporaryDir dir;
    std::atomic<bool> cancel{false};
    QStringList phases;
    const ImportResult added = runImport(moe, optionsFor(dir.filePath("models")), cancel,
                                         [&](const ImportProgress& p) { phases << p.phase; });
    QCOMPARE(int(added.outcome), int(ImportResult::Outcome::Added));
    QCOMPARE(added.entry.packPath, moe);
    QVERIFY(!added.entry.ownsPack);
    QCOMPARE(added.entry.architecture, QStringLiteral("qwen3moe"));
    QVERIFY(!phases.contains("Packing for flash mode"));
    QVERIFY(filesIn(dir.filePath("models")).isEmpty());
  }

  void controllerImportsUsesSwitchesAndRemoves() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("history.sqlite"));
    ChatController chat(store);
    ModelsController models(&chat, dir.filePath("models.json"), dir.filePath("models"));
    QSignalSpy finished(&models, &ModelsController::importFinished);
    QSignalSpy progress(&models, &ModelsController::importProgressChanged);

    // The first model is packed, added and loaded.
    models.addModel(QUrl::fromLocalFile(kModel).toString());
    QVERIFY(models.importing());
    QCOMPARE(models.importName(), QString("stories260K.gguf"));
    QVERIFY(finished.wait(60000));
    QVERIFY(!models.importing());
    QVERIFY(progress.size() >= 2);
    const auto first = finished.last().first().value<ImportResult>();
    QCOMPARE(int(first.outcome), int(ImportResult::Outcome::Added));
    QCOMPARE(models.count(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QCOMPARE(chat.modelPath(), first.entry.packPath);
    QCOMPARE(models.activePath(), first.entry.packPath);
    QCOMPARE(models.activeMinimumDramBytes(), first.entry.minimumDramBytes);
    QVERIFY(models.list()->data(models.list()->index(0), ModelListModel::ActiveRole).toBool());

    // A second one is added but not loaded: the chat keeps its model.
    models.addModel(kOtherModel);
    QVERIFY(finished.wait(60000));
    QCOMPARE(models.count(), 2);
    QVERIFY(!chat.loading());
    QCOMPARE(chat.modelPath(), first.entry.packPath);

    // Switching goes through the chat's load path.
    QVERIFY(models.useModel(1));
    QTRY_VERIFY_WITH_TIMEOUT(!chat.loading() && chat.modelPath() == models.list()->entryAt(1)->packPath, 30000);
    QVERIFY(chat.modelLoaded());
    QVERIFY(models.list()->data(models.list()->index(1), ModelListModel::ActiveRole).toBool());
    QVERIFY(!models.list()->data(models.list()->index(0), ModelListModel::ActiveRole).toBool());

    // The model in use cannot be removed; the other can, with its pack.
    QSignalSpy errors(&models, &ModelsController::errorOccurred);
    QVERIFY(!models.removeModel(1));
    QCOMPARE(errors.size(), 1);
    const QString firstPack = first.entry.packPath;
    QVERIFY(models.removeModel(0));
    QCOMPARE(models.count(), 1);
    QVERIFY(!QFile::exists(firstPack));
    QCOMPARE(models.activePath(), chat.modelPath());

    // A missing model cannot be used: an error, no load.
    models.addModel(kModel);
    QVERIFY(finished.wait(60000));
    const int row = models.list()->rowOfPath(kModel);
    QVERIFY(row >= 0);
    QVERIFY(QFile::remove(models.list()->entryAt(row)->packPath));
    QVERIFY(!models.useModel(row));
    QCOMPARE(errors.size(), 2);
    QVERIFY(!chat.loading());
    QCOMPARE(models.list()->data(models.list()->index(row), ModelListModel::StatusRole).toString(), QString("missing"));
  }

  void controllerCancelsMidwayAndKeepsNothing() {
    QTemporaryDir dir;
    ModelsController models(nullptr, dir.filePath("models.json"), dir.filePath("models"));
    models.setImportOptions(optionsFor({}));
    QSignalSpy finished(&models, &ModelsController::importFinished);
    // Cancel from the UI thread, as the Cancel button does, once packing is underway.
    connect(&models, &ModelsController::importProgressChanged, this, [&] {
      if (models.importing() && models.importProgress() > 0.1) models.cancelImport();
    });
    models.addModel(largeModel_);
    QVERIFY(finished.wait(120000));
    const auto r = finished.first().first().value<ImportResult>();
    QCOMPARE(int(r.outcome), int(ImportResult::Outcome::Cancelled));
    QVERIFY(!models.importing());
    QCOMPARE(models.count(), 0);
    QVERIFY(!models.messageIsError());
    QVERIFY(models.message().contains("cancelled"));
    QVERIFY(filesIn(dir.filePath("models")).isEmpty());
    QVERIFY(!QFile::exists(dir.filePath("models.json")));  // nothing was ever saved
  }

  // Closing the app mid-import: the controller cancels, joins the worker and leaves no file.
  void destroyingTheControllerMidImportCleansUp() {
    QTemporaryDir dir;
    auto models = std::make_unique<ModelsController>(nullptr, dir.filePath("models.json"), dir.filePath("models"));
    models->setImportOptions(optionsFor({}));
    models->addModel(largeModel_);
    QTRY_VERIFY_WITH_TIMEOUT(models->importProgress() > 0.05, 60000);
    QElapsedTimer timer;
    timer.start();
    models.reset();
    QVERIFY2(timer.elapsed() < 5000, qPrintable(QString::number(timer.elapsed())));
    QTest::qWait(100);  // the finished signal of a destroyed import must not resume anything
    QVERIFY(filesIn(dir.filePath("models")).isEmpty());
  }

  // A crash mid-import leaves "<name>.sieve.partial": the next start removes it
  // once nothing has written it for an hour, and leaves a fresh one (an import
  // of another instance) and finished packs alone.
  void abandonedPartialFilesAreRemovedAtStart() {
    QTemporaryDir dir;
    const QString models = dir.filePath("models");
    QVERIFY(QDir().mkpath(models));
    const auto write = [&](const QString& name, qint64 ageSeconds) {
      QFile f(QDir(models).filePath(name));
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("x");
      f.flush();  // or closing would stamp the time of the write
      f.setFileTime(QDateTime::currentDateTimeUtc().addSecs(-ageSeconds), QFileDevice::FileModificationTime);
    };
    write("old.sieve.partial", 2 * 3600);
    write("fresh.sieve.partial", 60);
    write("kept.sieve", 2 * 3600);
    ModelsController controller(nullptr, dir.filePath("models.json"), models);
    QCOMPARE(filesIn(models), QStringList({"fresh.sieve.partial", "kept.sieve"}));
  }

 private:
  QTemporaryDir scratch_;
  QString largeModel_;
};

QTEST_GUILESS_MAIN(ModelImportTest)
#include "model_import_test.moc"
