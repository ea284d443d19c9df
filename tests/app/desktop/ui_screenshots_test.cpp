// Loads the whole UI offscreen (every view: first run, chat, settings),
// fails on any QML warning, and saves a screenshot of each view to
// screenshotDir() for a person to look at. Runs offscreen by default; the
// test_ui_screenshots_xvfb variant runs it on a real X server (Xvfb, xcb).
#include <QDir>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQuickItem>
#include <QQuickWindow>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "desktop/app_window.h"
#include "desktop/chat_controller.h"

using namespace sieve::app;

namespace {
const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");

// Where the PNGs go: $SIEVE_SCREENSHOT_DIR, else <build>/screenshots.
QString screenshotDir() { return qEnvironmentVariable("SIEVE_SCREENSHOT_DIR", SIEVE_SCREENSHOT_DIR); }
}

class UiScreenshotsTest : public QObject {
  Q_OBJECT

 public:
  explicit UiScreenshotsTest(const QString& home) : home_(home) {}

 private slots:
  void initTestCase() {
    QTest::failOnWarning(QRegularExpression(".*"));
    QVERIFY(QDir().mkpath(screenshotDir()));
    store_ = std::make_unique<HistoryStore>(home_ + "/history.sqlite");
    chat_ = std::make_unique<ChatController>(*store_);
    engine_ = std::make_unique<QQmlApplicationEngine>();
    connect(engine_.get(), &QQmlApplicationEngine::warnings, this, [this](const QList<QQmlError>& list) {
      for (const QQmlError& e : list) warnings_ << e.toString();
    });
    QString error;
    window_ = loadMainWindow(*engine_, *chat_, &error);
    QVERIFY2(window_, qPrintable(error));
    window_->resize(1100, 720);
    QVERIFY(QTest::qWaitForWindowExposed(window_));
  }

  // Any warning (QML errors, binding loops, layout conflicts) fails the test.
  void init() { QTest::failOnWarning(QRegularExpression(".*")); }

  void firstRunScreen() {
    QVERIFY(!chat_->modelLoaded());
    save("first-run");
  }

  void chatWithAStreamedReply() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
    chat_->setProperty("temperature", 0.0);
    chat_->setProperty("maxTokens", 80);
    chat_->loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat_->modelLoaded(), 30000);
    QSignalSpy finished(chat_.get(), &ChatController::replyFinished);
    chat_->send("Tell me a story about a cat");
    QVERIFY(finished.wait(30000));
    chat_->newConversation();
    chat_->send("Once upon a time");
    QVERIFY(finished.wait(30000));
    const auto stored = store_->messages(chat_->currentConversation()).value();
    QCOMPARE(stored.size(), 2);
    QCOMPARE(chat_->messages()->data(chat_->messages()->index(1), MessageListModel::ContentRole).toString(),
             stored[1].content);
    // The view shows the whole streamed reply.
    QQuickItem* list = window_->findChild<QQuickItem*>("messageList");
    QVERIFY(list);
    QTRY_VERIFY(findText(list, stored[1].content));
    save("chat");
  }

  void settingsPage() {
    QVERIFY(QMetaObject::invokeMethod(window_, "openSettings"));
    save("settings");
  }

  void darkTheme() {
    QObject* prefs = window_->findChild<QObject*>("prefs");
    QVERIFY(prefs);
    prefs->setProperty("theme", "dark");
    save("settings-dark");
    QMetaObject::invokeMethod(window_, "closeSettings");
    save("chat-dark");
  }

  void noQmlWarnings() { QVERIFY2(warnings_.isEmpty(), qPrintable(warnings_.join('\n'))); }

  void cleanupTestCase() {
    engine_.reset();
    chat_.reset();
    store_.reset();
  }

 private:
  void save(const QString& name) {
    QTest::qWait(400);  // let bindings, layouts and popups' transitions settle
    const QImage image = window_->grabWindow();
    QVERIFY(!image.isNull());
    const QString path = QStringLiteral("%1/%2.png").arg(screenshotDir(), name);
    QVERIFY2(image.save(path), qPrintable(path));
    qInfo("saved %s", qPrintable(path));
  }

  // Whether a visible text item under `root` shows exactly `wanted`.
  static bool findText(QQuickItem* root, const QString& wanted) {
    for (QQuickItem* child : root->childItems()) {
      const QVariant text = child->property("text");
      if (child->isVisible() && child->property("textFormat").isValid() && text.toString() == wanted) return true;
      if (findText(child, wanted)) return true;
    }
    return false;
  }

  QString home_;
  std::unique_ptr<HistoryStore> store_;
  std::unique_ptr<ChatController> chat_;
  std::unique_ptr<QQmlApplicationEngine> engine_;
  QQuickWindow* window_ = nullptr;
  QStringList warnings_;
};

int main(int argc, char** argv) {
  // A fresh home: no saved settings, window size or model from earlier runs.
  QTemporaryDir home;
  qputenv("XDG_CONFIG_HOME", home.path().toUtf8());
  qputenv("XDG_DATA_HOME", home.path().toUtf8());
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  if (qEnvironmentVariableIsEmpty("QT_QUICK_BACKEND")) qputenv("QT_QUICK_BACKEND", "software");
  configureApplication();
  QGuiApplication app(argc, argv);
  UiScreenshotsTest test(home.path());
  return QTest::qExec(&test, argc, argv);
}

#include "ui_screenshots_test.moc"
