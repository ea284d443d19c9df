// Loads the models page and the first-run screen offscreen with real
// controllers (fails on any QML warning) and saves screenshots for a person to
// look at: models.png (two models, one in use, a third being imported),
// models-dark.png, models-missing.png, first-run.png, first-run-importing.png,
// in <build>/screenshots/ (or $SIEVE_SCREENSHOT_DIR).
//
// An import is held at a known point for its screenshot: a direct connection
// to the import's progress blocks the worker thread until the picture is taken.
#include <QDir>
#include <QGuiApplication>
#include <QQmlEngine>
#include <QQuickItem>
#include <QQuickView>
#include <QRegularExpression>
#include <QSemaphore>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "desktop/app_objects.h"
#include "desktop/app_window.h"
#include "desktop/chat_controller.h"
#include "desktop/models_controller.h"

using namespace sieve::app;

namespace {
const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");
const QString kOtherModel = QStringLiteral(SIEVE_SHARED_DIR "/models/synthA-q4_k_m.gguf");
const QString kImported = QStringLiteral(SIEVE_SHARED_DIR "/models/synthA-f16.gguf");

QString screenshotDir() { return qEnvironmentVariable("SIEVE_SCREENSHOT_DIR", SIEVE_SCREENSHOT_DIR); }

// Holds an import's worker once packing passes `fraction`, until release().
class ImportHold {
 public:
  ImportHold(ModelImport* import, double fraction) {
    QObject::connect(import, &ModelImport::progressed, import, [this, fraction](const ImportProgress& p) {
      if (held_.load() || !p.phase.startsWith("Packing") || p.fraction() < fraction) return;
      held_ = true;
      gate_.acquire();  // on the worker thread: the UI thread already has this report queued
    }, Qt::DirectConnection);
  }
  ~ImportHold() { release(); }
  void release() {
    if (held_.load() && !released_) {
      released_ = true;
      gate_.release();
    }
  }

 private:
  QSemaphore gate_;
  std::atomic<bool> held_{false};
  bool released_ = false;
};
}  // namespace

class ModelsViewTest : public QObject {
  Q_OBJECT

 public:
  explicit ModelsViewTest(const QString& home) : home_(home) {}

 private slots:
  void initTestCase() {
    if (!QFile::exists(kModel) || !QFile::exists(kOtherModel) || !QFile::exists(kImported)) {
      QSKIP("../shared/models is missing");
    }
    QVERIFY(QDir().mkpath(screenshotDir()));
    store_ = std::make_unique<HistoryStore>(home_ + "/history.sqlite");
    chat_ = std::make_unique<ChatController>(*store_);
  }

  void init() { QTest::failOnWarning(QRegularExpression(".*")); }

  void modelsPageWithTwoModelsAndAnImport() {
    ModelsController models(chat_.get(), home_ + "/models.json", home_ + "/models");
    ImportOptions options;
    options.chunkBytes = 1 << 20;  // progress every MiB, so the hold lands midway
    options.progressIntervalMs = 0;
    models.setImportOptions(options);
    QSignalSpy finished(&models, &ModelsController::importFinished);
    models.addModel(kModel);  // the first model is loaded: "In use"
    QVERIFY(finished.wait(60000));
    models.addModel(kOtherModel);
    QVERIFY(finished.wait(60000));
    QCOMPARE(models.count(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(chat_->modelLoaded(), 30000);

    QQuickView view;
    QVERIFY(load(view, "ModelsView.qml", &models));
    QQuickItem* list = view.rootObject()->findChild<QQuickItem*>("modelList");
    QVERIFY(list);
    QTRY_COMPARE(list->property("count").toInt(), 2);

    models.addModel(kImported);
    QVERIFY(models.currentImport());
    {
      ImportHold hold(models.currentImport(), 0.4);
      QTRY_VERIFY_WITH_TIMEOUT(models.importProgress() >= 0.4, 30000);
      QVERIFY(models.importDetail().contains("%"));
      save(view, "models");
      QObject* theme = view.rootObject()->property("theme").value<QObject*>();
      QVERIFY(theme);
      theme->setProperty("dark", true);
      save(view, "models-dark");
      theme->setProperty("dark", false);
      models.cancelImport();
    }
    QVERIFY(finished.wait(60000));
    QCOMPARE(int(finished.last().first().value<ImportResult>().outcome), int(ImportResult::Outcome::Cancelled));
    QCOMPARE(models.count(), 2);

    // The second model's pack disappears: shown as missing.
    // Remove asks first: what is deleted, how long adding it again takes, and "keep files".
    const QString keptPack = models.list()->entryAt(1)->packPath;
    QVERIFY(QMetaObject::invokeMethod(view.rootObject(), "askRemove", Q_ARG(QVariant, 1),
                                      Q_ARG(QVariant, models.list()->entryAt(1)->name)));
    QObject* dialog = view.rootObject()->findChild<QObject*>("removeDialog");
    QTRY_VERIFY(dialog->property("opened").toBool());
    const QString question = view.rootObject()->findChild<QObject*>("removeQuestion")->property("text").toString();
    QVERIFY2(question.contains("deletes the pack") && question.contains("re-packs it") &&
                 (question.contains("minute") || question.contains("a few minutes")),
             qPrintable(question));
    save(view, "models-remove");
    QVERIFY(QMetaObject::invokeMethod(view.rootObject()->findChild<QObject*>("removeKeepButton"), "clicked"));
    QTRY_COMPARE(models.count(), 1);
    QVERIFY(QFile::exists(keptPack));  // kept on the disk
    QVERIFY(!dialog->property("opened").toBool());
    models.addModel(keptPack);  // a pack added as it is: back in the list
    QVERIFY(finished.wait(60000));
    QCOMPARE(models.count(), 2);

    QVERIFY(QFile::remove(models.list()->entryAt(1)->packPath));
    models.refresh();
    save(view, "models-missing");
  }

  void firstRunScreen() {
    HistoryStore store(home_ + "/first-run-history.sqlite");
    ChatController chat(store);
    ModelsController models(&chat, home_ + "/first-run-models.json", home_ + "/first-run-models");
    ImportOptions options;
    options.chunkBytes = 1 << 20;
    options.progressIntervalMs = 0;
    models.setImportOptions(options);
    QQuickView view;
    QVERIFY(load(view, "FirstRunView.qml", &models, &chat));
    save(view, "first-run");

    QSignalSpy finished(&models, &ModelsController::importFinished);
    models.addModel(kImported);
    {
      ImportHold hold(models.currentImport(), 0.3);
      QTRY_VERIFY_WITH_TIMEOUT(models.importProgress() >= 0.3, 30000);
      save(view, "first-run-importing");
      models.cancelImport();
    }
    QVERIFY(finished.wait(60000));
    QVERIFY(!chat.modelLoaded());
  }

  void cleanupTestCase() {
    chat_.reset();
    store_.reset();
  }

 private:
  // Loads qrc:/Sieve/Ui/<file> into `view` with the objects it reaches through App (app_objects.h).
  bool load(QQuickView& view, const QString& file, ModelsController* models, ChatController* chat = nullptr) {
    AppObjects::Objects objects;
    objects.models = models;
    objects.chat = chat ? chat : chat_.get();
    AppObjects::install(*view.engine(), objects);
    view.setResizeMode(QQuickView::SizeRootObjectToView);
    view.setSource(QUrl("qrc:/Sieve/Ui/" + file));
    if (view.status() != QQuickView::Ready) {
      for (const QQmlError& e : view.errors()) qWarning("%s", qPrintable(e.toString()));
      return false;
    }
    view.resize(960, 640);
    view.show();
    return QTest::qWaitForWindowExposed(&view);
  }

  void save(QQuickView& view, const QString& name) {
    QTest::qWait(300);  // bindings and layouts settle
    const QImage image = view.grabWindow();
    QVERIFY(!image.isNull());
    const QString path = QStringLiteral("%1/%2.png").arg(screenshotDir(), name);
    QVERIFY2(image.save(path), qPrintable(path));
    qInfo("saved %s", qPrintable(path));
  }

  QString home_;
  std::unique_ptr<HistoryStore> store_;
  std::unique_ptr<ChatController> chat_;
};

int main(int argc, char** argv) {
  QTemporaryDir home;
  qputenv("XDG_CONFIG_HOME", home.path().toUtf8());
  qputenv("XDG_DATA_HOME", home.path().toUtf8());
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  if (qEnvironmentVariableIsEmpty("QT_QUICK_BACKEND")) qputenv("QT_QUICK_BACKEND", "software");
  configureApplication();
  QGuiApplication app(argc, argv);
  ModelsViewTest test(home.path());
  return QTest::qExec(&test, argc, argv);
}

#include "models_view_test.moc"
