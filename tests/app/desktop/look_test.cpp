// The window's look and chrome (issue 14, item 9), on the real Main.qml
// offscreen: About (F1 and the header's "⋯") shows CMake's project version,
// the Qt version, the log file and the license; the window icon; Ctrl+Q
// quits; the link colour follows the theme's accent; "system" (the default
// theme) follows a dark platform palette; FocusRing shows on keyboard focus
// only, on the controls whose Basic look shows none; and the live chart's
// colour key survives the status bar being squeezed and widened again.
// Screenshots: about-light.png, about-dark.png, focus-rings.png,
// status-bar-narrow.png in <build>/screenshots/.
#include <QDir>
#include <QGuiApplication>
#include <QIcon>
#include <QPalette>
#include <QQmlApplicationEngine>
#include <QQmlComponent>
#include <QQmlContext>
#include <QQuickItem>
#include <QQuickWindow>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "desktop/app_objects.h"
#include "desktop/app_settings.h"
#include "desktop/app_window.h"
#include "desktop/chat_controller.h"
#include "desktop/history_store.h"

using namespace sieve::app;

namespace {

QString screenshotDir() { return qEnvironmentVariable("SIEVE_SCREENSHOT_DIR", SIEVE_SCREENSHOT_DIR); }

// Each control the Basic style of Qt 6.4 leaves without a visible keyboard focus, with a FocusRing.
const char* kFocusScene = R"(
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
Window {
    width: 420; height: 420; visible: true
    color: theme.window
    Theme { id: theme; objectName: "theme" }
    palette.window: theme.window
    palette.windowText: theme.text
    palette.button: theme.panel
    palette.buttonText: theme.text
    palette.highlight: theme.accent
    palette.dark: theme.accent
    palette.brightText: theme.textOnAccent
    palette.base: theme.assistantBubble
    palette.text: theme.text
    palette.mid: theme.controlBorder
    Item { objectName: "elsewhere"; activeFocusOnTab: true }
    ColumnLayout {
        x: 20; y: 20; spacing: 14
        Button { objectName: "flatButton"; text: "Flat button"; flat: true; FocusRing { theme: theme } }
        Button { objectName: "highlightedButton"; text: "Highlighted button"; highlighted: true; FocusRing { theme: theme } }
        ToolButton { objectName: "toolButton"; text: "⋯"; FocusRing { theme: theme } }
        TabButton { objectName: "tabButton"; text: "Tab button"; FocusRing { theme: theme } }
        ItemDelegate { objectName: "itemDelegate"; text: "Item delegate"; Layout.preferredWidth: 200; FocusRing { theme: theme; gap: -3 } }
        TextArea { objectName: "textArea"; text: "Text area"; Layout.preferredWidth: 200; FocusRing { theme: theme } }
    }
}
)";

}  // namespace

class LookTest : public QObject {
  Q_OBJECT

 public:
  explicit LookTest(const QString& home) : home_(home) {}

 private slots:
  void initTestCase() {
    QVERIFY(QDir().mkpath(screenshotDir()));
    store_ = std::make_unique<HistoryStore>(home_ + "/history.sqlite");
    chat_ = std::make_unique<ChatController>(*store_);
    engine_ = std::make_unique<QQmlApplicationEngine>();
    QString error;
    logFile_ = home_ + "/logs/sieve.log";
    window_ = loadMainWindow(*engine_, *chat_, &error, logFile_);
    QVERIFY2(window_, qPrintable(error));
    window_->resize(1100, 720);
    QVERIFY(QTest::qWaitForWindowExposed(window_));
    settings_ = AppObjects::of(*engine_)->settings();
    QVERIFY(settings_);
  }

  void init() { QTest::failOnWarning(QRegularExpression(".*")); }

  void versionIsCMakesProjectVersion() {
    QCOMPARE(QCoreApplication::applicationVersion(), QString(SIEVE_EXPECTED_VERSION));
    QVERIFY(!QCoreApplication::applicationVersion().isEmpty());
  }

  void aboutShowsVersionQtLogAndLicense() {
    QObject* dialog = window_->findChild<QObject*>("aboutDialog");
    QVERIFY(dialog);
    QVERIFY(!dialog->property("visible").toBool());
    window_->requestActivate();
    QVERIFY(QTest::qWaitForWindowActive(window_));
    QTest::keyClick(window_, Qt::Key_F1);
    QTRY_VERIFY(dialog->property("opened").toBool());
    QCOMPARE(text("aboutVersion"), "Sieve " + QString(SIEVE_EXPECTED_VERSION));
    QCOMPARE(text("aboutQtVersion"), "Qt " + QString(qVersion()));
    QCOMPARE(text("aboutLogFile"), logFile_);
    QVERIFY(text("aboutLicense").contains("MIT License"));
    QVERIFY(text("aboutLicense").contains("Copyright (c) 2026 The Sieve authors"));
    save("about-light");
    // The focus starts on Close, with its ring (it was reached without the mouse).
    QQuickItem* close = window_->findChild<QQuickItem*>("aboutClose");
    QVERIFY(close);
    QTRY_VERIFY(close->hasActiveFocus());
    QVERIFY(ringOf(close) && ringOf(close)->isVisible());
    QTest::keyClick(window_, Qt::Key_Escape);
    QTRY_VERIFY(!dialog->property("visible").toBool());

    // The header's "⋯" opens it too, in the dark theme here.
    settings_->setTheme("dark");
    QQuickItem* button = window_->findChild<QQuickItem*>("aboutButton");
    QVERIFY(button && button->isVisible());
    click(button);
    QTRY_VERIFY(dialog->property("opened").toBool());
    save("about-dark");
    QTest::keyClick(window_, Qt::Key_Escape);
    QTRY_VERIFY(!dialog->property("visible").toBool());
    settings_->setTheme("light");
  }

  void windowIconFromTheResources() {
    const QIcon icon = QGuiApplication::windowIcon();
    QVERIFY(!icon.isNull());
    const QList<QSize> sizes = icon.availableSizes();
    for (int size : {16, 32, 48, 256}) QVERIFY2(sizes.contains(QSize(size, size)), qPrintable(QString::number(size)));
    QVERIFY(!icon.pixmap(48, 48).isNull());
  }

  void linkColourFollowsTheAccent() {
    QObject* theme = window_->findChild<QObject*>("appTheme");
    QVERIFY(theme);
    settings_->setTheme("light");
    QTRY_COMPARE(QGuiApplication::palette().color(QPalette::Link), theme->property("accent").value<QColor>());
    const QColor light = QGuiApplication::palette().color(QPalette::Link);
    settings_->setTheme("dark");
    QTRY_COMPARE(QGuiApplication::palette().color(QPalette::Link), theme->property("accent").value<QColor>());
    QVERIFY(QGuiApplication::palette().color(QPalette::Link) != light);
    settings_->setTheme("light");
  }

  // "system" (the default) follows the platform palette's window lightness.
  void systemThemeFollowsThePlatformPalette() {
    QTemporaryDir dir;
    AppSettings settings(dir.filePath("s.ini"));
    QCOMPARE(settings.theme(), QString("system"));
    const QPalette before = QGuiApplication::palette();
    QPalette dark = before;
    dark.setColor(QPalette::Window, QColor("#202020"));
    QGuiApplication::setPalette(dark);
    QVERIFY(settings.dark());
    QPalette light = before;
    light.setColor(QPalette::Window, QColor("#f0f0f0"));
    QGuiApplication::setPalette(light);
    QVERIFY(!settings.dark());
    QGuiApplication::setPalette(before);
  }

  void ctrlQQuits() {
    // Qt.quit() asks QCoreApplication::quit(), which does nothing outside exec() (as in this test).
    QObject* shortcut = nullptr;
    for (QObject* child : window_->findChildren<QObject*>()) {
      if (child->metaObject()->className() == QByteArray("QQuickShortcut") &&
          child->property("sequence").toString() == "Ctrl+Q") {
        shortcut = child;
      }
    }
    QVERIFY2(shortcut, "no Ctrl+Q shortcut in Main.qml");
    QVERIFY(shortcut->property("enabled").toBool());
    QSignalSpy activated(shortcut, SIGNAL(activated()));
    window_->requestActivate();
    QVERIFY(QTest::qWaitForWindowActive(window_));
    QTest::keyClick(window_, Qt::Key_Q, Qt::ControlModifier);
    QCOMPARE(activated.count(), 1);
  }

  void focusRingOnKeyboardFocusOnly() {
    QQmlComponent component(engine_.get());
    component.setData(kFocusScene, QUrl("qrc:/Sieve/Ui/focus_test_scene.qml"));
    std::unique_ptr<QObject> scene(component.create());
    QVERIFY2(scene, qPrintable(component.errorString()));
    auto* window = qobject_cast<QQuickWindow*>(scene.get());
    QVERIFY(window);
    QVERIFY(QTest::qWaitForWindowExposed(window));
    window->requestActivate();
    QVERIFY(QTest::qWaitForWindowActive(window));
    for (const char* name : {"flatButton", "highlightedButton", "toolButton", "tabButton", "itemDelegate", "textArea"}) {
      QQuickItem* control = window->findChild<QQuickItem*>(name);
      QVERIFY2(control, name);
      QQuickItem* ring = ringOf(control);
      QVERIFY2(ring, name);
      QVERIFY2(!ring->isVisible(), name);
      control->forceActiveFocus(Qt::TabFocusReason);
      QTRY_VERIFY2(ring->isVisible(), name);
      // Outside the control's edge (inside for the delegate: gap -3), 2 px, in the theme's focus colour.
      QCOMPARE(ring->property("border").value<QObject*>()->property("width").toInt(), 2);
      const QColor focusRing = window->findChild<QObject*>("theme")->property("focusRing").value<QColor>();
      QCOMPARE(ring->property("border").value<QObject*>()->property("color").value<QColor>(), focusRing);
      if (QByteArray(name) == "flatButton") save(window, "focus-rings");
      window->findChild<QQuickItem*>("elsewhere")->forceActiveFocus(Qt::TabFocusReason);  // focus leaves: no ring
      QTRY_VERIFY2(!ring->isVisible(), name);
      if (QByteArray(name) != "textArea") {
        // A click gives focus without the ring (visualFocus is keyboard focus).
        control->forceActiveFocus(Qt::MouseFocusReason);
        QVERIFY2(control->hasActiveFocus(), name);
        QTRY_VERIFY2(!ring->isVisible(), name);
      }
    }
  }

  // Tab reaches the header's buttons (pages, About), each with its ring while focused.
  void tabReachesTheHeaderWithARing() {
    window_->requestActivate();
    QVERIFY(QTest::qWaitForWindowActive(window_));
    QSet<QString> reached;
    for (int i = 0; i < 60 && !(reached.contains("nav-settings") && reached.contains("aboutButton")); ++i) {
      QTest::keyClick(window_, Qt::Key_Tab);
      QQuickItem* item = window_->activeFocusItem();
      if (!item) continue;
      const QString name = item->objectName();
      if (!name.startsWith("nav-") && name != "aboutButton") continue;
      reached << name;
      QQuickItem* ring = ringOf(item);
      QVERIFY2(ring, qPrintable(name));
      QTRY_VERIFY2(ring->isVisible(), qPrintable(name));
    }
    for (const char* name : {"nav-chat", "nav-models", "nav-settings", "aboutButton"}) {
      QVERIFY2(reached.contains(name), qPrintable(QString("Tab never reached %1; reached: %2").arg(name, reached.values().join(", "))));
    }
  }

  // The chart's key used to vanish from a squeezed status bar: the figures could
  // not shrink below their text, so the row overflowed and pushed the chart (last
  // in the row) and its key out of the window. Now the status text gives way,
  // then the figures elide, and the key keeps its size inside the bar.
  void chartKeySurvivesResizing() {
    QQmlComponent component(engine_.get(), QUrl("qrc:/Sieve/Ui/StatusBar.qml"));
    QObject* theme = window_->findChild<QObject*>("appTheme");
    QQuickItem* bar = qobject_cast<QQuickItem*>(
        component.createWithInitialProperties({{"theme", QVariant::fromValue(theme)}}, engine_->rootContext()));
    QVERIFY2(bar, qPrintable(component.errorString()));
    std::unique_ptr<QQuickItem> owner(bar);
    bar->setParentItem(window_->contentItem());
    bar->setZ(1000);
    bar->setY(window_->height() - 60);
    bar->setHeight(50);
    for (int width : {1100, 760, 520, 1100, 600, 760, 1100}) {
      bar->setWidth(width);
      QVERIFY(QTest::qWaitForWindowExposed(window_));
      QTRY_VERIFY2(keyWhole(bar), qPrintable(QString("width %1").arg(width)));
      if (width == 520) save("status-bar-narrow");
    }
  }

  void cleanupTestCase() {
    engine_.reset();
    chat_.reset();
    store_.reset();
  }

 private:
  QString text(const char* objectName) const {
    const QObject* item = window_->findChild<QObject*>(objectName);
    return item ? item->property("text").toString() : QString();
  }

  static QQuickItem* ringOf(QQuickItem* control) {
    for (QQuickItem* child : control->childItems()) {
      if (QByteArray(child->metaObject()->className()).startsWith("FocusRing")) return child;
    }
    return nullptr;
  }

  // Both swatches are 8×8 and each label is at least as wide as its text, inside the chart's
  // column and inside the status bar.
  static bool keyWhole(QQuickItem* bar) {
    QQuickItem* chart = bar->findChild<QQuickItem*>("liveChart");
    if (!chart || chart->width() <= 0) return false;
    for (const char* name : {"chartKeyMemory", "chartKeyIo"}) {
      QQuickItem* entry = chart->findChild<QQuickItem*>(name);
      if (!entry) return false;
      const QList<QQuickItem*> parts = entry->childItems();
      if (parts.size() != 2) return false;
      if (parts[0]->width() != 8 || parts[0]->height() != 8) return false;
      if (parts[1]->width() < parts[1]->implicitWidth() || parts[1]->implicitWidth() <= 0) return false;
      const QRectF inChart = entry->mapRectToItem(chart, QRectF(0, 0, entry->width(), entry->height()));
      if (inChart.left() < -0.5 || inChart.right() > chart->width() + 0.5) return false;
      const QRectF inBar = entry->mapRectToItem(bar, QRectF(0, 0, entry->width(), entry->height()));
      if (inBar.left() < 0 || inBar.right() > bar->width()) return false;
    }
    return true;
  }

  void click(QQuickItem* item) {
    const QPointF centre = item->mapToScene(QPointF(item->width() / 2, item->height() / 2));
    QTest::mouseClick(window_, Qt::LeftButton, {}, centre.toPoint());
  }

  void save(const QString& name) { save(window_, name); }
  static void save(QQuickWindow* window, const QString& name) {
    QTest::qWait(300);  // let layouts and popups' transitions settle
    const QImage image = window->grabWindow();
    QVERIFY(!image.isNull());
    const QString path = QStringLiteral("%1/%2.png").arg(screenshotDir(), name);
    QVERIFY2(image.save(path), qPrintable(path));
    qInfo("saved %s", qPrintable(path));
  }

  QString home_;
  QString logFile_;
  std::unique_ptr<HistoryStore> store_;
  std::unique_ptr<ChatController> chat_;
  std::unique_ptr<QQmlApplicationEngine> engine_;
  QQuickWindow* window_ = nullptr;
  AppSettings* settings_ = nullptr;
};

int main(int argc, char** argv) {
  QTemporaryDir home;  // a fresh home: no saved settings or window size
  qputenv("XDG_CONFIG_HOME", home.path().toUtf8());
  qputenv("XDG_DATA_HOME", home.path().toUtf8());
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  if (qEnvironmentVariableIsEmpty("QT_QUICK_BACKEND")) qputenv("QT_QUICK_BACKEND", "software");
  configureApplication();
  QGuiApplication app(argc, argv);
  LookTest test(home.path());
  return QTest::qExec(&test, argc, argv);
}

#include "look_test.moc"
