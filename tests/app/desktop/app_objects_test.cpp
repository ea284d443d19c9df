// How QML reaches the C++ objects (app_objects.h): the singleton App of the
// module Sieve.App gives each engine the objects installed on that engine —
// two engines side by side see their own, nothing is global — and automation
// finds the same objects by the names QML uses.
#include <QQmlComponent>
#include <QQmlEngine>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "desktop/app_objects.h"
#include "desktop/app_settings.h"
#include "desktop/disk_measure.h"
#include "desktop/memory_planner.h"

using namespace sieve::app;

namespace {

// What a QML file of the app sees through App, read back as properties.
std::unique_ptr<QObject> readApp(QQmlEngine& engine) {
  QQmlComponent component(&engine);
  component.setData(R"(
import QtQml
import Sieve.App
QtObject {
    property string profile: App.planner ? App.planner.diskProfilePath : "none"
    property bool noChat: App.chat === null
    property bool dark: App.settings ? App.settings.dark : false
    property string version: App.info.version ?? ""
}
)",
                    QUrl("qrc:/app_objects_test.qml"));
  std::unique_ptr<QObject> object(component.create());
  if (!object) qWarning("%s", qPrintable(component.errorString()));
  return object;
}

}  // namespace

class AppObjectsTest : public QObject {
  Q_OBJECT

 private slots:
  void eachEngineSeesItsOwnObjects() {
    MemoryPlanner first;
    first.setDiskProfilePath(dir_.filePath("first.json"));
    MemoryPlanner second;
    second.setDiskProfilePath(dir_.filePath("second.json"));
    QQmlEngine one;
    QQmlEngine two;
    AppObjects::Objects objects;
    objects.planner = &first;
    objects.info = {{"version", "1.2.3"}};
    AppObjects::install(one, objects);
    objects.planner = &second;
    AppObjects::install(two, objects);

    const auto seenByOne = readApp(one);
    const auto seenByTwo = readApp(two);
    QVERIFY(seenByOne && seenByTwo);
    QCOMPARE(seenByOne->property("profile").toString(), first.diskProfilePath());
    QCOMPARE(seenByTwo->property("profile").toString(), second.diskProfilePath());
    QVERIFY(seenByOne->property("noChat").toBool());  // not given: null, not an error
    QCOMPARE(seenByOne->property("version").toString(), QString("1.2.3"));
    QCOMPARE(AppObjects::of(one)->planner(), &first);
  }

  // QML may hold the first set already (its properties are constant): a second install keeps it.
  void aSecondInstallKeepsTheFirst() {
    AppSettings lightSettings(dir_.filePath("light.conf"));
    lightSettings.setTheme("light");
    AppSettings darkSettings(dir_.filePath("dark.conf"));
    darkSettings.setTheme("dark");
    QQmlEngine engine;
    AppObjects::Objects objects;
    objects.settings = &lightSettings;
    AppObjects* first = AppObjects::install(engine, objects);
    objects.settings = &darkSettings;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression("install called twice"));
    QCOMPARE(AppObjects::install(engine, objects), first);
    const auto seen = readApp(engine);
    QVERIFY(seen);
    QVERIFY(!seen->property("dark").toBool());
  }

  // An engine nobody installed objects on: QML sees an empty App (and the log says why), no crash.
  void noObjectsInstalled() {
    QQmlEngine engine;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression("before AppObjects::install"));
    const auto seen = readApp(engine);
    QVERIFY(seen);
    QCOMPARE(seen->property("profile").toString(), QString("none"));
    QVERIFY(AppObjects::of(engine));
  }

  // Automation's OBJECT names are QML's names after `App.`; objects not given are not listed.
  void namesForAutomation() {
    MemoryPlanner planner;
    DiskMeasure measure;
    QQmlEngine engine;
    AppObjects::Objects objects;
    objects.planner = &planner;
    objects.diskMeasure = &measure;
    const QHash<QString, QObject*> named = AppObjects::install(engine, objects)->byName();
    QCOMPARE(named.size(), 2);
    QCOMPARE(named.value("planner"), &planner);
    QCOMPARE(named.value("diskMeasure"), &measure);
    QVERIFY(!named.contains("chat"));
  }

 private:
  QTemporaryDir dir_;
};

QTEST_GUILESS_MAIN(AppObjectsTest)
#include "app_objects_test.moc"
