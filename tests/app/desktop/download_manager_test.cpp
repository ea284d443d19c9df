// Downloading models (issue 19) against a real HTTP server on loopback
// (range_server.py serving stories260K.gguf): a full download verified and
// imported into the models list, an interrupted download resumed with a Range
// request (the server's log shows no byte sent twice), a download resumed by a
// new DownloadManager on the same SQLite file (an app restart), a server that
// ignores ranges (200: the part starts again), a corrupted file caught by its
// SHA-256, too little disk space refused with the size needed, a disk that
// fills midway (real small tmpfs mounts; skipped when mounting is not
// allowed), 404, a refused connection, bad input, cancel, and the catalogue.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QStorageInfo>
#include <QTemporaryDir>
#include <QTest>

#include "desktop/download_catalogue.h"
#include "desktop/download_manager.h"
#include "desktop/history_store.h"
#include "desktop/models_controller.h"
#include "range_server.h"

using namespace sieve::app;

namespace {
const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QString sha256Of(const QString& path) {
  return QString::fromLatin1(QCryptographicHash::hash(readAll(path), QCryptographicHash::Sha256).toHex());
}

QStringList filesIn(const QString& dir) {
  return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot);
}

// A real filesystem of `size` (tmpfs): mounting needs root; unmounted at the end.
class SmallDisk {
 public:
  explicit SmallDisk(const QString& size) {
    mounted_ = QProcess::execute("mount", {"-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir_.path()}) == 0;
  }
  ~SmallDisk() {
    if (mounted_) QProcess::execute("umount", {dir_.path()});
  }
  bool mounted() const { return mounted_; }
  QString path() const { return dir_.path(); }

 private:
  QTemporaryDir dir_;
  bool mounted_ = false;
};
}  // namespace

class DownloadManagerTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models is missing");
    server_ = std::make_unique<RangeServer>(kModel);
    QVERIFY2(server_->running(), "range_server.py did not start");
    modelBytes_ = readAll(kModel);
    modelSha_ = sha256Of(kModel);
  }

  void init() { QVERIFY(home_.emplace().isValid()); }
  void cleanup() { home_.reset(); }

  void fullDownloadIsVerifiedAndImported() {
    const QString target = "/model.gguf?t=full";
    ModelsController models(nullptr, path("models.json"), path("packs"));
    DownloadManager downloads(&models, path("app.sqlite"), path("models"), path("no-catalogue.json"));
    QSignalSpy imported(&downloads, &DownloadManager::imported);
    Download* d = downloads.download(server_->url(target), 0, modelSha_);
    QVERIFY2(d, qPrintable(downloads.message()));
    QVERIFY(imported.wait(60000));
    QVERIFY2(imported.first().at(1).toBool(), qPrintable(imported.first().at(2).toString()));
    QCOMPARE(d->stateName(), QStringLiteral("done"));
    QVERIFY2(d->detail().startsWith("Added to your models as"), qPrintable(d->detail()));
    QCOMPARE(models.count(), 1);
    QCOMPARE(models.library().entries().first().sourcePath, path("models/model.gguf"));
    QCOMPARE(readAll(path("models/model.gguf")), modelBytes_);
    QCOMPARE(filesIn(path("models")), QStringList{"model.gguf"});  // no .part left
    QCOMPARE(d->bytesTotal(), qint64(modelBytes_.size()));
    const QList<QJsonObject> requests = server_->requests(target);
    QCOMPARE(requests.size(), 1);
    QCOMPARE(requests.first().value("status").toInt(), 200);
    // Finished downloads are forgotten: a restart lists nothing.
    DownloadManager again(nullptr, path("app.sqlite"), path("models2"), path("no-catalogue.json"));
    QCOMPARE(again.count(), 0);
  }

  void interruptedDownloadResumesWithARange() {
    const QString target = "/model.gguf?drop_at=500000&t=interrupted";
    DownloadManager downloads(nullptr, path("app.sqlite"), path("models"), path("no-catalogue.json"));
    Download* d = downloads.download(server_->url(target), 0, modelSha_);
    QVERIFY(d);
    QTRY_VERIFY_WITH_TIMEOUT(d->state() == Download::State::Paused, 30000);
    QVERIFY2(d->error().contains("stopped at") && d->error().contains("Resume"), qPrintable(d->error()));
    QCOMPARE(d->bytesDone(), qint64(500000));
    QCOMPARE(QFileInfo(path("models/model.gguf.part")).size(), qint64(500000));
    QVERIFY(d->canResume());
    d->resume();
    QTRY_VERIFY_WITH_TIMEOUT(d->state() == Download::State::Done, 30000);
    QCOMPARE(readAll(path("models/model.gguf")), modelBytes_);
    const QList<QJsonObject> requests = server_->requests(target);
    QCOMPARE(requests.size(), 2);
    QCOMPARE(requests[1].value("range").toString(), QStringLiteral("bytes=500000-"));
    QCOMPARE(requests[1].value("status").toInt(), 206);
    qint64 sent = 0;
    for (const QJsonObject& r : requests) sent += qint64(r.value("sent").toDouble());
    QCOMPARE(sent, qint64(modelBytes_.size()));  // not one byte twice
  }

  void downloadResumesAfterARestart() {
    const QString target = "/model.gguf?rate=400000&t=restart";
    qint64 partBytes = 0;
    {
      DownloadManager downloads(nullptr, path("app.sqlite"), path("models"), path("no-catalogue.json"));
      Download* d = downloads.download(server_->url(target), 0, modelSha_, "Stories");
      QVERIFY(d);
      QTRY_VERIFY_WITH_TIMEOUT(d->bytesDone() > 200000 && d->speed() > 0, 30000);  // a speed sample takes 0.5 s
      QVERIFY(d->bytesDone() < modelBytes_.size());
      QVERIFY2(d->detail().contains("MB/s") && d->detail().contains("left"), qPrintable(d->detail()));
    }  // the app closes mid-download
    partBytes = QFileInfo(path("models/model.gguf.part")).size();
    QVERIFY(partBytes > 200000);

    DownloadManager downloads(nullptr, path("app.sqlite"), path("models"), path("no-catalogue.json"));
    QCOMPARE(downloads.count(), 1);
    Download* d = downloads.downloads().first();
    QCOMPARE(d->name(), QStringLiteral("Stories"));
    QCOMPARE(d->state(), Download::State::Paused);  // nothing is fetched before the user says so
    QCOMPARE(d->bytesDone(), partBytes);
    QCOMPARE(d->bytesTotal(), qint64(modelBytes_.size()));
    QTest::qWait(200);
    for (const QJsonObject& r : server_->requests(target)) QVERIFY(r.value("range").isNull());  // no request yet
    d->resume();
    QTRY_VERIFY_WITH_TIMEOUT(d->state() == Download::State::Done, 30000);
    QCOMPARE(readAll(path("models/model.gguf")), modelBytes_);  // the SHA-256 over part + rest matched too
    QTRY_COMPARE(server_->requests(target).size(), 2);  // the first is logged when the server notices the close
    const QList<QJsonObject> requests = server_->requests(target);
    QCOMPARE(requests[1].value("range").toString(), QStringLiteral("bytes=%1-").arg(partBytes));
    QCOMPARE(qint64(requests[1].value("sent").toDouble()), modelBytes_.size() - partBytes);
  }

  void aCompletePartIsOnlyCheckedAndRenamed() {
    // The app closed between the last byte and the rename: Resume asks the server nothing.
    QVERIFY(QDir().mkpath(path("models")));
    QVERIFY(QFile::copy(kModel, path("models/whole.gguf.part")));
    {
      DownloadStore store(path("app.sqlite"));
      DownloadRecord record;
      record.url = server_->url("/model.gguf?t=complete");
      record.name = "whole";
      record.targetPath = path("models/whole.gguf");
      record.expectedBytes = modelBytes_.size();
      record.sha256 = modelSha_;
      record.bytesDone = modelBytes_.size();
      QVERIFY(store.add(record));
    }
    DownloadManager downloads(nullptr, path("app.sqlite"), path("models"), path("no-catalogue.json"));
    QCOMPARE(downloads.count(), 1);
    Download* d = downloads.downloads().first();
    QCOMPARE(d->progress(), 1.0);
    d->resume();
    QTRY_VERIFY_WITH_TIMEOUT(d->isFinished(), 30000);
    QVERIFY2(d->stateName() == "done", qPrintable(d->error()));
    QCOMPARE(filesIn(path("models")), QStringList{"whole.gguf"});
    QTest::qWait(100);
    QCOMPARE(server_->requests("/model.gguf?t=complete").size(), 0);
  }

  void aServerIgnoringRangesRestartsTheFile() {
    const QString target = "/ignore-range/model.gguf?drop_at=400000&t=ignore";
    DownloadManager downloads(nullptr, path("app.sqlite"), path("models"), path("no-catalogue.json"));
    Download* d = downloads.download(server_->url(target), 0, modelSha_);
    QVERIFY(d);
    QTRY_VERIFY_WITH_TIMEOUT(d->state() == Download::State::Paused, 30000);
    QCOMPARE(d->bytesDone(), qint64(400000));
    d->resume();
    QTRY_VERIFY_WITH_TIMEOUT(d->isFinished(), 30000);
    QCOMPARE(d->stateName(), QStringLiteral("done"));
    QVERIFY(d->restartedFromZero());
    QCOMPARE(readAll(path("models/model.gguf")), modelBytes_);  // not the first 400000 bytes twice
    const QList<QJsonObject> requests = server_->requests(target);
    QCOMPARE(requests.size(), 2);
    QCOMPARE(requests[1].value("range").toString(), QStringLiteral("bytes=400000-"));
    QCOMPARE(requests[1].value("status").toInt(), 200);
  }

  void aCorruptedFileIsCaughtByItsChecksum() {
    DownloadManager downloads(nullptr, path("app.sqlite"), path("models"), path("no-catalogue.json"));
    Download* d = downloads.download(server_->url("/corrupt/model.gguf"), modelBytes_.size(), modelSha_);
    QVERIFY(d);
    QTRY_VERIFY_WITH_TIMEOUT(d->isFinished(), 30000);
    QCOMPARE(d->stateName(), QStringLiteral("failed"));
    QVERIFY2(d->error().contains("SHA-256") && d->error().contains(modelSha_) && d->error().contains("deleted"),
             qPrintable(d->error()));
    QCOMPARE(filesIn(path("models")), QStringList{});  // neither the part nor a file
    DownloadManager again(nullptr, path("app.sqlite"), path("models"), path("no-catalogue.json"));
    QCOMPARE(again.count(), 0);
  }

  void tooLittleSpaceIsRefusedWithTheSizeNeeded() {
    SmallDisk disk("512k");
    if (!disk.mounted()) QSKIP("cannot mount a tmpfs (needs root)");
    DownloadManager downloads(nullptr, path("app.sqlite"), disk.path(), path("no-catalogue.json"));
    // Size known beforehand (a catalogue entry with `bytes`): refused before connecting.
    Download* known = downloads.download(server_->url("/model.gguf?t=space-known"), modelBytes_.size());
    QVERIFY(known);
    QCOMPARE(known->state(), Download::State::Paused);
    QVERIFY2(known->error().contains("Not enough disk space") && known->error().contains("needs 1.1 MiB more") &&
                 known->error().contains("free in " + disk.path()),
             qPrintable(known->error()));
    QTest::qWait(100);
    QCOMPARE(server_->requests("/model.gguf?t=space-known").size(), 0);
    known->cancel();
    // Size from the server's answer: refused at the headers, nothing written.
    Download* unknown = downloads.download(server_->url("/model.gguf?rate=200000"));
    QVERIFY(unknown);
    QTRY_VERIFY_WITH_TIMEOUT(unknown->state() == Download::State::Paused, 30000);
    QVERIFY2(unknown->error().contains("needs 1.1 MiB more"), qPrintable(unknown->error()));
    QCOMPARE(unknown->bytesDone(), qint64(0));
  }

  void aDiskFillingMidwayStopsAndResumesOnceFreed() {
    SmallDisk disk("2m");
    if (!disk.mounted()) QSKIP("cannot mount a tmpfs (needs root)");
    DownloadManager downloads(nullptr, path("app.sqlite"), disk.path(), path("no-catalogue.json"));
    Download* d = downloads.download(server_->url("/model.gguf?rate=300000"), 0, modelSha_);
    QVERIFY(d);
    QTRY_VERIFY_WITH_TIMEOUT(d->bytesDone() > 100000, 30000);
    {
      // Something else fills the disk.
      QFile filler(disk.path() + "/filler");
      QVERIFY(filler.open(QIODevice::WriteOnly | QIODevice::Unbuffered));
      const QByteArray block(64 * 1024, 'x');
      while (filler.write(block) == block.size()) {
      }
    }
    QTRY_VERIFY_WITH_TIMEOUT(d->state() == Download::State::Paused, 30000);
    QVERIFY2(d->error().contains("The disk is full") && d->error().contains("more"), qPrintable(d->error()));
    QCOMPARE(QFileInfo(disk.path() + "/model.gguf.part").size(), d->bytesDone());  // no torn chunk
    QVERIFY(QFile::remove(disk.path() + "/filler"));
    d->resume();
    QTRY_VERIFY_WITH_TIMEOUT(d->isFinished(), 30000);
    QVERIFY2(d->stateName() == "done", qPrintable(d->error()));
    QCOMPARE(readAll(disk.path() + "/model.gguf"), modelBytes_);
  }

  void serverAndNetworkErrorsAreReported() {
    DownloadManager downloads(nullptr, path("app.sqlite"), path("models"), path("no-catalogue.json"));
    Download* missing = downloads.download(server_->url("/no-such-model.gguf"));
    QVERIFY(missing);
    QTRY_VERIFY_WITH_TIMEOUT(missing->isFinished(), 30000);
    QVERIFY2(missing->error().contains("404"), qPrintable(missing->error()));
    // Nothing listens on port 1: refused at once; the row waits for Resume.
    Download* refused = downloads.download("http://127.0.0.1:1/model.gguf");
    QVERIFY(refused);
    QTRY_VERIFY_WITH_TIMEOUT(refused->state() == Download::State::Paused && !refused->error().isEmpty(), 30000);
    QVERIFY2(refused->error().contains("Could not download"), qPrintable(refused->error()));
    QVERIFY(filesIn(path("models")).filter(".part").size() <= 1);

    QVERIFY(!downloads.download("ftp://example.org/model.gguf"));
    QVERIFY(downloads.messageIsError() && downloads.message().contains("http"));
    QVERIFY(!downloads.download(""));
    QVERIFY(!downloads.download(server_->url("/model.gguf"), 0, "not-a-hash"));
    QVERIFY(downloads.message().contains("64 hexadecimal"));
    QVERIFY(!downloads.download("http://127.0.0.1:1/model.gguf"));  // already listed
    QVERIFY(downloads.message().contains("already"));
    Download* bare = downloads.download("127.0.0.1:1/other.gguf");  // no scheme: HTTPS
    QVERIFY(bare);
    QCOMPARE(bare->url(), QStringLiteral("https://127.0.0.1:1/other.gguf"));
    bare->cancel();
    QVERIFY(!downloads.download("http://127.0.0.1:1/model.gguf"));
    QVERIFY(downloads.message().contains("already"));
  }

  void cancelDeletesThePartAndTheRecord() {
    DownloadManager downloads(nullptr, path("app.sqlite"), path("models"), path("no-catalogue.json"));
    Download* d = downloads.download(server_->url("/model.gguf?rate=300000"));
    QVERIFY(d);
    QTRY_VERIFY_WITH_TIMEOUT(d->bytesDone() > 50000, 30000);
    QSignalSpy changed(&downloads, &DownloadManager::downloadsChanged);
    d->cancel();
    QTRY_COMPARE(downloads.count(), 0);
    QCOMPARE(filesIn(path("models")), QStringList{});
    DownloadManager again(nullptr, path("app.sqlite"), path("models"), path("no-catalogue.json"));
    QCOMPARE(again.count(), 0);
  }

  void theRecordsLiveBesideTheHistory() {
    // The app's SQLite file: the history's own schema is untouched and both work on it.
    HistoryStore history(path("history.sqlite"));
    QVERIFY(history.open());
    const Result<qint64> conversation = history.createConversation("Before");
    QVERIFY(conversation);
    {
      DownloadManager downloads(nullptr, path("history.sqlite"), path("models"), path("no-catalogue.json"));
      Download* d = downloads.download(server_->url("/model.gguf?drop_at=300000"));
      QVERIFY(d);
      QTRY_VERIFY_WITH_TIMEOUT(d->state() == Download::State::Paused, 30000);
      QVERIFY(history.createConversation("During"));
    }
    QCOMPARE(history.schemaVersion().value(), HistoryStore::kSchemaVersion);
    QCOMPARE(history.listConversations().value().size(), 2);
    DownloadManager downloads(nullptr, path("history.sqlite"), path("models"), path("no-catalogue.json"));
    QCOMPARE(downloads.count(), 1);
    QCOMPARE(downloads.downloads().first()->bytesDone(), qint64(300000));
  }

  void theCatalogueIsBuiltInAndOverridable() {
    const Catalogue builtIn = loadCatalogue(path("none.json"));
    QVERIFY2(builtIn.error.isEmpty(), qPrintable(builtIn.error));
    QCOMPARE(builtIn.source, QString::fromLatin1(kBuiltInCatalogue));
    QVERIFY(builtIn.entries.size() >= 3);
    for (const CatalogueEntry& e : builtIn.entries) {
      QVERIFY2(e.url.startsWith("https://huggingface.co/") && e.url.endsWith(".gguf"), qPrintable(e.url));
      QVERIFY(e.approximateBytes > 0);
    }
    // A user copy replaces it.
    QFile user(path("catalogue.json"));
    QVERIFY(user.open(QIODevice::WriteOnly));
    user.write(QStringLiteral(R"({"version": 1, "models": [{"name": "Local stories", "url": "%1", "bytes": %2, "sha256": "%3"}]})")
                   .arg(server_->url("/model.gguf")).arg(modelBytes_.size()).arg(modelSha_.toUpper()).toUtf8());
    user.close();
    DownloadManager downloads(nullptr, path("app.sqlite"), path("models"), path("catalogue.json"));
    QCOMPARE(downloads.catalogueSource(), path("catalogue.json"));
    QCOMPARE(downloads.catalogue().size(), 1);
    QCOMPARE(downloads.catalogue().first().toMap().value("checks").toString(), QStringLiteral("SHA-256 and size checked"));
    Download* d = downloads.downloadFromCatalogue(0);
    QVERIFY(d);
    QCOMPARE(d->name(), QStringLiteral("Local stories"));
    QTRY_VERIFY_WITH_TIMEOUT(d->isFinished(), 30000);
    QVERIFY2(d->stateName() == "done", qPrintable(d->error()));
    // A damaged user copy: said so, and the built-in list is used.
    QVERIFY(user.open(QIODevice::WriteOnly | QIODevice::Truncate));
    user.write("{ not json");
    user.close();
    const Catalogue fallback = loadCatalogue(path("catalogue.json"));
    QVERIFY2(fallback.error.contains("catalogue.json") && fallback.error.contains("built-in"), qPrintable(fallback.error));
    QCOMPARE(fallback.entries.size(), builtIn.entries.size());
  }

 private:
  QString path(const QString& name) const { return home_->filePath(name); }

  std::unique_ptr<RangeServer> server_;
  std::optional<QTemporaryDir> home_;
  QByteArray modelBytes_;
  QString modelSha_;
};

QTEST_GUILESS_MAIN(DownloadManagerTest)
#include "download_manager_test.moc"
