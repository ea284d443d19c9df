// The downloads panel, reached from the models page's "Download…", offscreen
// with a real DownloadManager downloading from range_server.py on loopback
// (fails on any QML warning): one download throttled midway (progress bar,
// MB/s, time left, Pause, Cancel) and one stopped by a dropped connection
// (its error, Retry), over the built-in catalogue. Saves downloads.png and
// downloads-dark.png in <build>/screenshots/ (or $SIEVE_SCREENSHOT_DIR).
#include <QDir>
#include <QGuiApplication>
#include <QQmlEngine>
#include <QQuickItem>
#include <QQuickView>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include "desktop/app_objects.h"
#include "desktop/app_window.h"
#include "desktop/download_manager.h"
#include "desktop/models_controller.h"
#include "range_server.h"

using namespace sieve::app;

namespace {
const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");

QString screenshotDir() { return qEnvironmentVariable("SIEVE_SCREENSHOT_DIR", SIEVE_SCREENSHOT_DIR); }

QQuickItem* visibleItemWithText(QQuickItem* root, const QString& text) {
  for (QQuickItem* child : root->childItems()) {
    if (!child->isVisible()) continue;
    if (child->property("text").toString() == text) return child;
    if (QQuickItem* found = visibleItemWithText(child, text)) return found;
  }
  return nullptr;
}
}  // namespace

class DownloadsViewTest : public QObject {
  Q_OBJECT

 public:
  explicit DownloadsViewTest(const QString& home) : home_(home) {}

 private slots:
  void initTestCase() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models is missing");
    QVERIFY(QDir().mkpath(screenshotDir()));
  }

  // Any warning fails, but the log line of the download that stops on purpose.
  void init() { QTest::failOnWarning(QRegularExpression("^(?!download http://127\\.0\\.0\\.1:\\d+/model\\.gguf\\?drop_at=).*")); }

  void panelMidDownload() {
    RangeServer server(kModel);
    QVERIFY(server.running());
    ModelsController models(nullptr, home_ + "/models.json", home_ + "/packs");
    DownloadManager downloads(&models, home_ + "/app.sqlite", home_ + "/models", home_ + "/none.json");

    QQuickView view;
    AppObjects::Objects objects;
    objects.models = &models;
    objects.downloads = &downloads;
    AppObjects::install(*view.engine(), objects);
    view.setResizeMode(QQuickView::SizeRootObjectToView);
    view.setSource(QUrl("qrc:/Sieve/Ui/ModelsView.qml"));
    QCOMPARE(view.status(), QQuickView::Ready);
    view.resize(960, 720);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));

    QObject* button = view.rootObject()->findChild<QObject*>("downloadModelButton");
    QVERIFY(button);
    QCOMPARE(button->property("text").toString(), QStringLiteral("Download…"));
    QVERIFY(QMetaObject::invokeMethod(button, "clicked"));
    QObject* dialog = view.rootObject()->findChild<QObject*>("downloadsDialog");
    QTRY_VERIFY(dialog->property("opened").toBool());

    // One stopped by the server closing the connection (shown with its error and Retry)…
    Download* stopped = downloads.download(server.url("/model.gguf?drop_at=420000"), 0, {}, "stories260K (interrupted)");
    QVERIFY(stopped);
    QTRY_VERIFY_WITH_TIMEOUT(stopped->state() == Download::State::Paused, 30000);
    // … and one running, throttled so it is midway for the picture — typed into the panel as a user would.
    QQuickItem* urlField = view.rootObject()->window()->contentItem()->findChild<QQuickItem*>("downloadUrlField");
    QVERIFY(urlField);
    urlField->setProperty("text", server.url("/model.gguf?rate=90000"));
    QVERIFY(QMetaObject::invokeMethod(view.rootObject()->window()->contentItem()->findChild<QObject*>("downloadUrlButton"),
                                      "clicked"));
    QTRY_COMPARE(downloads.count(), 2);
    QCOMPARE(urlField->property("text").toString(), QString());  // accepted: the field is cleared
    Download* running = downloads.downloads().at(1);
    QTRY_VERIFY_WITH_TIMEOUT(running->progress() > 0.25 && running->secondsLeft() > 0, 30000);
    QVERIFY2(running->detail().contains("MB/s") && running->detail().contains("left"), qPrintable(running->detail()));
    QTRY_VERIFY(button->property("text").toString().startsWith("Downloads ("));

    QQuickItem* overlay = view.rootObject()->window()->contentItem();
    QTRY_VERIFY(visibleItemWithText(overlay, running->detail().section("  ·  ", 0, 0)) != nullptr ||
                visibleItemWithText(overlay, running->detail()) != nullptr);
    QVERIFY(visibleItemWithText(overlay, stopped->error()));
    QVERIFY(visibleItemWithText(overlay, "Pause"));
    QVERIFY(visibleItemWithText(overlay, "Retry"));
    QVERIFY(visibleItemWithText(overlay, downloads.catalogueEntries().entries.first().name));
    save(view, "downloads");
    QObject* theme = view.rootObject()->property("theme").value<QObject*>();
    theme->setProperty("dark", true);
    save(view, "downloads-dark");
    theme->setProperty("dark", false);
    running->pause();
    QCOMPARE(running->state(), Download::State::Paused);
  }

 private:
  void save(QQuickView& view, const QString& name) {
    QTest::qWait(300);  // bindings and layouts settle
    const QImage image = view.grabWindow();
    QVERIFY(!image.isNull());
    const QString path = QStringLiteral("%1/%2.png").arg(screenshotDir(), name);
    QVERIFY2(image.save(path), qPrintable(path));
    qInfo("saved %s", qPrintable(path));
  }

  QString home_;
};

int main(int argc, char** argv) {
  QTemporaryDir home;
  qputenv("XDG_CONFIG_HOME", home.path().toUtf8());
  qputenv("XDG_DATA_HOME", home.path().toUtf8());
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  if (qEnvironmentVariableIsEmpty("QT_QUICK_BACKEND")) qputenv("QT_QUICK_BACKEND", "software");
  configureApplication();
  QGuiApplication app(argc, argv);
  DownloadsViewTest test(home.path());
  return QTest::qExec(&test, argc, argv);
}

#include "downloads_view_test.moc"
