// Loads the whole UI offscreen, fails on any QML warning, checks the views
// (each QML file also on its own), and saves a screenshot of each main view
// to screenshotDir() for a person to look at: main-first-run, main-chat (a
// reply streamed from stories260K in flash mode, live status filled in),
// main-chat-markdown (prose, lists and a code block), main-settings (the DRAM
// budget split), main-settings-auto (auto mode's choice, the budget typed with
// an error), main-auto-applied (auto applied: the status bar's chosen-mode
// line), main-settings-measuring (Measure disk running), main-settings-measured
// (the expected speed right after), main-settings-server (the Local server
// section, on, other devices allowed), main-settings-server-error (a port in
// use), main-preset-picker (the chat header's presets), main-settings-presets
// (the presets' editor, a refused name), main-settings-preset-delete (Delete
// asking first), main-models, main-overflow, and dark variants. Runs
// offscreen by default; test_ui_screenshots_xvfb runs it under Xvfb (xcb).
#include <QDir>
#include <QGuiApplication>
#include <QJSValue>
#include <QQmlApplicationEngine>
#include <QQmlComponent>
#include <QQuickItem>
#include <QQuickWindow>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <functional>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback_port.h"

#include "desktop/app_objects.h"
#include "desktop/app_window.h"
#include "desktop/chat_controller.h"
#include "desktop/disk_measure.h"
#include "desktop/memory_planner.h"
#include "flash/pack_writer.h"

using namespace sieve::app;

namespace {
const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");

// Where the PNGs go: $SIEVE_SCREENSHOT_DIR, else <build>/screenshots.
QString screenshotDir() { return qEnvironmentVariable("SIEVE_SCREENSHOT_DIR", SIEVE_SCREENSHOT_DIR); }

const char* kMarkdownReply =
    "Here is how to **reverse** a list in Python:\n\n"
    "1. Use slicing, which makes a copy.\n"
    "2. Or call `reverse()` to do it *in place*.\n\n"
    "```python\n"
    "numbers = [1, 2, 3]\n"
    "backwards = numbers[::-1]\n"
    "numbers.reverse()\n"
    "print(backwards, numbers)\n"
    "```\n\n"
    "Both give `[3, 2, 1]`. See [the docs](https://docs.python.org/3/tutorial/datastructures.html).";
}  // namespace

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
    settings_ = appObject("settings");
    QVERIFY(settings_);
    window_->resize(1100, 720);
    QVERIFY(QTest::qWaitForWindowExposed(window_));
  }

  // Any warning (QML errors, binding loops, layout conflicts) fails the test.
  void init() { QTest::failOnWarning(QRegularExpression(".*")); }

  void firstRunScreen() {
    QVERIFY(!chat_->modelLoaded());
    QCOMPARE(window_->property("page").toString(), QString("chat"));
    save("main-first-run");
  }

  void chatWithAStreamedReplyInFlashMode() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
    pack_ = home_ + "/stories260K.sieve";
    sieve::flash::pack_model(kModel.toStdString(), pack_.toStdString());
    QObject* planner = appObject("planner");
    planner->setProperty("modelPath", pack_);
    double minimum = 0;
    QVERIFY(QMetaObject::invokeMethod(planner, "minimumBytes", Q_RETURN_ARG(double, minimum), Q_ARG(int, 1),
                                      Q_ARG(qint64, 0)));
    QVERIFY(minimum > 0);
    settings_->setProperty("mode", "flash");
    settings_->setProperty("threads", 1);
    settings_->setProperty("dramBudget", minimum * 1.02);  // a little over the minimum: most layers stream
    QObject* presets = appObject("presets");  // the Default preset, which this chat uses
    presets->setProperty("temperature", 0.0);
    presets->setProperty("maxTokens", 80);
    chat_->loadModel(pack_);
    QTRY_VERIFY_WITH_TIMEOUT(chat_->modelLoaded() && !chat_->loading(), 30000);
    QCOMPARE(chat_->loadedMode(), QString("flash"));
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
    // The view shows the whole streamed reply, and the live status its figures.
    QQuickItem* list = window_->findChild<QQuickItem*>("messageList");
    QVERIFY(list);
    QTRY_VERIFY(findText(list, stored[1].content));
    QVERIFY(chat_->live()->hasData());
    QVERIFY(chat_->live()->flashBytesPerToken() > 0);
    QTRY_VERIFY(itemText("figureFlash") != "—");
    // The budget covers the engine's own memory (planned within it); the app's RAM is shown apart.
    QVERIFY(chat_->live()->engineBytes() > 0);
    QVERIFY(chat_->live()->engineBytes() <= chat_->live()->budgetBytes());
    QTRY_VERIFY(itemText("figureEngine").contains(" / "));
    QVERIFY(itemText("figureAppRam").endsWith("MiB"));
    QCOMPARE(itemText("modeChoiceText"), QString("flash mode (chosen in Settings)"));
    save("main-chat");
  }

  void markdownAndCode() {
    const qint64 id = store_->createConversation("Reversing a list").value();
    store_->appendMessage(id, "user", "How do I reverse a list in Python?");
    store_->appendMessage(id, "assistant", kMarkdownReply);
    chat_->conversations()->reload();
    chat_->openConversation(id);
    QQuickItem* list = window_->findChild<QQuickItem*>("messageList");
    // The prose before the code block is one Markdown text, the code another (monospace) item.
    QTRY_VERIFY(findText(list, "numbers = [1, 2, 3]\nbackwards = numbers[::-1]\nnumbers.reverse()\n"
                               "print(backwards, numbers)"));
    save("main-chat-markdown");
  }

  // Issue 14 items 6-8: versions < 2/2 >, the length-limit note with Continue,
  // a readable bubble width on a wide window, the sidebar's model line and
  // "⋯" menu, Ctrl+N keeping what is typed, rename with Enter, delete with
  // Undo, the export toast, search highlights cleared by Esc.
  void chatPolish() {
    const qint64 id = store_->createConversation("Colours").value();
    store_->setConversationModel(id, "stories260K", "flash");
    store_->appendMessage(id, "user", "Name a colour, and tell me about the **lighthouse** keeper's favourite.");
    const qint64 reply = store_->appendMessage(id, "assistant", "", false).value();
    store_->completeMessage(reply, "Red. The lighthouse keeper loved red because it was the colour of the lamp.");
    store_->startNewVersion(reply);
    store_->completeMessage(reply, "Blue, like the sea around the lighthouse, which the keeper watched every night "
                                   "from the lamp room at the very top of the tower, until", "length");
    chat_->conversations()->reload();
    chat_->openConversation(id);
    window_->resize(1600, 800);
    QQuickItem* list = window_->findChild<QQuickItem*>("messageList");
    QTRY_VERIFY(firstVisible("versionText") && firstVisible("versionText")->property("text").toString() == "2/2");
    QVERIFY(firstVisible("stopNote"));
    QVERIFY(firstVisible("continueButton"));
    // No bubble is wider than the readable maximum (760 px) on a 1600 px window.
    QTRY_VERIFY(maxBubbleWidth(list) > 0);
    QVERIFY2(maxBubbleWidth(list) <= 760, qPrintable(QString::number(maxBubbleWidth(list))));
    save("main-chat-versions");
    // Copy says "Copied" for a moment.
    QQuickItem* copy = firstVisible("copyButton");
    QVERIFY(QMetaObject::invokeMethod(copy, "clicked"));
    QCOMPARE(copy->property("text").toString(), QString("Copied"));
    QTRY_COMPARE(copy->property("text").toString(), QString("Copy"));
    window_->resize(1100, 720);

    // The "⋯" button of a conversation opens its menu.
    QQuickItem* more = firstVisible("conversationMenuButton");
    QVERIFY(more);
    QVERIFY(QMetaObject::invokeMethod(more, "clicked"));
    QObject* menu = window_->findChild<QObject*>("conversationMenu");
    QTRY_VERIFY(menu->property("opened").toBool());
    save("main-conversation-menu");
    // Rename…: the field has the focus, typing replaces the title, Enter confirms.
    QQuickItem* renameItem = nullptr;
    QVERIFY(QMetaObject::invokeMethod(menu, "itemAt", Q_RETURN_ARG(QQuickItem*, renameItem), Q_ARG(int, 0)));
    QVERIFY(QMetaObject::invokeMethod(renameItem, "triggered"));
    QVERIFY(QMetaObject::invokeMethod(menu, "close"));
    QQuickItem* field = window_->findChild<QQuickItem*>("renameField");
    QTRY_VERIFY(field->hasActiveFocus());
    typeText("Colours of the sea");
    save("main-rename");
    QTest::keyClick(window_, Qt::Key_Return);
    QTRY_COMPARE(store_->conversation(id).value().title, QString("Colours of the sea"));

    // Search: the words are marked in the results; Esc clears the search.
    QQuickItem* search = window_->findChild<QQuickItem*>("searchField");
    search->forceActiveFocus();
    typeText("lighthouse");
    QTRY_VERIFY(itemVisible("searchResults"));
    QTRY_VERIFY(firstVisible("searchSnippet") && firstVisible("searchSnippet")->property("text").toString().contains("<b>"));
    save("main-search");
    QTest::keyClick(window_, Qt::Key_Escape);
    QTRY_COMPARE(search->property("text").toString(), QString());

    // Ctrl+N: a new chat with the cursor in the message box; what is typed next is kept.
    // (Shortcuts go to the active window; under Xvfb with no window manager, make it so.)
    window_->requestActivate();
    QVERIFY(QTest::qWaitForWindowActive(window_));
    QTest::keySequence(window_, QKeySequence::New);
    typeText("typed at once");
    QQuickItem* input = window_->findChild<QQuickItem*>("messageInput");
    QTRY_COMPARE(input->property("text").toString(), QString("typed at once"));
    input->setProperty("text", QString());

    // Export: Qt Quick's save dialog opens at <title>.md, Enter saves, the toast says where.
    const QUrl suggested = chat_->exportSuggestion(id, "md");
    QVERIFY2(suggested.fileName() == "Colours of the sea.md", qPrintable(suggested.toString()));
    QVERIFY2(suggested.toLocalFile().startsWith(home_ + "/Documents/"), qPrintable(suggested.toString()));
    chat_->openConversation(id);
    QQuickItem* exportMore = firstVisible("conversationMenuButton");  // the open conversation's row
    QVERIFY(QMetaObject::invokeMethod(exportMore, "clicked"));
    QTRY_VERIFY(menu->property("opened").toBool());
    QQuickItem* exportItem = nullptr;
    QVERIFY(QMetaObject::invokeMethod(menu, "itemAt", Q_RETURN_ARG(QQuickItem*, exportItem), Q_ARG(int, 1)));
    QVERIFY(QMetaObject::invokeMethod(exportItem, "triggered"));
    QVERIFY(QMetaObject::invokeMethod(menu, "close"));
    QObject* dialog = window_->findChild<QObject*>("exportDialog");
    QVERIFY(dialog);
    QTRY_VERIFY(dialog->property("visible").toBool());
    QCOMPARE(dialog->property("selectedFile").toUrl().fileName(), QString("Colours of the sea.md"));
    QQuickItem* nameField = nullptr;
    QTRY_VERIFY((nameField = firstVisible("fileNameTextField")) != nullptr);
    QTRY_COMPARE(nameField->property("text").toString(), QString("Colours of the sea.md"));
    save("main-export-dialog");
    // A name typed over the suggestion (without its extension) is the one saved, as .md.
    nameField->forceActiveFocus();
    nameField->setProperty("text", QString());
    typeText("Sea notes");
    QTest::keyClick(window_, Qt::Key_Return);
    const QString exported = home_ + "/Documents/Sea notes.md";
    QTRY_VERIFY(QFile::exists(exported));
    QTRY_VERIFY(itemText("toastText").contains(QDir::toNativeSeparators(exported)));
    save("main-export-toast");
    // The note belongs to the chat page: leaving it closes the note.
    window_->setProperty("page", "settings");
    QTRY_VERIFY(!window_->findChild<QObject*>("toast")->property("visible").toBool());
    window_->setProperty("page", "chat");

    // Delete: gone from the list at once, Undo brings it back.
    const int before = chat_->conversations()->rowCount();
    chat_->deleteConversation(id);
    QCOMPARE(chat_->conversations()->rowCount(), before - 1);
    QTRY_VERIFY(itemText("toastText").contains("Colours of the sea"));
    QVERIFY(firstVisible("toastAction"));
    save("main-undo-toast");
    QVERIFY(QMetaObject::invokeMethod(window_->findChild<QObject*>("toastAction"), "clicked"));
    QCOMPARE(chat_->conversations()->rowCount(), before);
    QCOMPARE(store_->messages(id).value().size(), 2);
  }

  void overflowDialog() {
    QObject* dialog = window_->findChild<QObject*>("overflowDialog");
    QVERIFY(dialog);
    dialog->setProperty("droppedMessages", 4);
    dialog->setProperty("context", 2048);
    QVERIFY(QMetaObject::invokeMethod(dialog, "open"));
    save("main-overflow");
    QVERIFY(QMetaObject::invokeMethod(dialog, "close"));  // close(), not reject(): nothing is pending
  }

  // Presets (issue 19): the chat header's picker (the presets for every model
  // and the loaded model's, then "Edit presets…", which opens the settings
  // page's editor on the conversation's preset), the editor with a refused
  // name said under the list, and Delete asking first.
  void presetsPickerAndEditor() {
    QObject* presets = appObject("presets");
    QVERIFY(presets);
    window_->setProperty("page", "chat");
    chat_->newConversation();
    QVERIFY(QMetaObject::invokeMethod(presets, "newPreset"));
    bool ok = false;
    QVERIFY(QMetaObject::invokeMethod(presets, "renamePreset", Q_RETURN_ARG(bool, ok), Q_ARG(QString, "Short answers")));
    QVERIFY(ok);
    const qint64 shortId = qint64(presets->property("selectedId").toDouble());
    presets->setProperty("systemPrompt", "Answer in one or two sentences, plainly.");
    presets->setProperty("temperature", 0.3);
    presets->setProperty("maxTokens", 120);
    int offered = 3;  // the Default, Short answers, "Edit presets…"
    if (chat_->modelLoaded()) {  // one for the loaded model too
      QVERIFY(QMetaObject::invokeMethod(presets, "newPreset"));
      QVERIFY(QMetaObject::invokeMethod(presets, "renamePreset", Q_RETURN_ARG(bool, ok), Q_ARG(QString, "Bedtime")));
      QVERIFY(QMetaObject::invokeMethod(presets, "setForLoadedModel", Q_RETURN_ARG(bool, ok), Q_ARG(bool, true)));
      QVERIFY(ok);
      presets->setProperty("systemPrompt", "You tell gentle bedtime stories about animals.");
      offered = 4;
    }
    auto* picker = window_->findChild<QQuickItem*>("presetPicker");
    QVERIFY(picker);
    QTRY_COMPARE(picker->property("count").toInt(), offered);
    chat_->choosePreset(shortId);
    QTRY_COMPARE(picker->property("currentText").toString(), QString("Short answers"));
    QVERIFY(itemText("presetSummary").contains("one or two sentences"));
    auto* popup = picker->property("popup").value<QObject*>();
    QVERIFY(QMetaObject::invokeMethod(popup, "open"));
    QTRY_VERIFY(popup->property("opened").toBool());
    save("main-preset-picker");
    QVERIFY(QMetaObject::invokeMethod(popup, "close"));
    QTRY_VERIFY(!popup->property("visible").toBool());

    // "Edit presets…": the editor, on the conversation's preset; the picker keeps showing it.
    presets->setProperty("selectedId", 0.0);  // (the Default)
    QVERIFY(QMetaObject::invokeMethod(picker, "activated", Q_ARG(int, offered - 1)));
    QTRY_COMPARE(window_->property("page").toString(), QString("settings"));
    QCOMPARE(presets->property("name").toString(), QString("Short answers"));
    QCOMPARE(picker->property("currentText").toString(), QString("Short answers"));
    QTRY_VERIFY(itemVisible("presetsSettings"));
    QCOMPARE(itemText("presetPrompt"), QString("Answer in one or two sentences, plainly."));
    QVERIFY(QMetaObject::invokeMethod(presets, "renamePreset", Q_RETURN_ARG(bool, ok), Q_ARG(QString, "default")));
    QVERIFY(!ok);
    QTRY_VERIFY(itemVisible("presetError"));
    QVERIFY(itemText("presetError").contains("already a preset named"));
    save("main-settings-presets");

    // Delete asks first, saying how many conversations go back to the Default.
    QVERIFY(QMetaObject::invokeMethod(window_->findChild<QObject*>("presetDeleteButton"), "clicked"));
    QObject* dialog = window_->findChild<QObject*>("presetDeleteDialog");
    QVERIFY(dialog);
    QTRY_VERIFY(dialog->property("opened").toBool());
    save("main-settings-preset-delete");
    QQuickItem* confirm = firstVisible("presetDeleteConfirm");
    QVERIFY(confirm);
    QVERIFY(QMetaObject::invokeMethod(confirm, "clicked"));
    QTRY_VERIFY(!dialog->property("visible").toBool());
    QVERIFY(presets->property("builtIn").toBool());  // the Default, selected again
    QCOMPARE(chat_->currentPreset(), qint64(presets->property("selectedId").toDouble()));  // its chat fell back
    scrollSettingsTo("scrollToTop");
    window_->setProperty("page", "chat");
    QTRY_COMPARE(picker->property("count").toInt(), offered - 1);
  }

  void settingsPageShowsTheBudgetSplit() {
    window_->setProperty("page", "settings");
    if (chat_->modelLoaded()) {
      QTRY_VERIFY(itemVisible("budgetSplit"));
      QVERIFY(itemText("speedText").contains("per token"));
      QVERIFY(!itemVisible("predictorBox"));  // sparse mode's settings only in sparse mode
      QVERIFY(!itemVisible("sparseWindowBox"));
      QVERIFY(!itemVisible("applyBar"));  // nothing staged
    }
    save("main-settings");
    scrollSettingsTo("scrollToEnd");
    save("main-settings-end");
    scrollSettingsTo("scrollToTop");
  }

  // The Local server section (LocalServerSettings.qml): on, with its URL and
  // the status bar's figure; "allow other devices" with its warning; a port in
  // use, with the error and the switch back off.
  void localServerSection() {
    QObject* server = appObject("server");
    QVERIFY(server);
    window_->setProperty("page", "settings");
    const int port = freeLoopbackPort();
    QVERIFY(port > 0);
    settings_->setProperty("serverPort", port);
    settings_->setProperty("serverEnabled", true);
    QTRY_VERIFY(server->property("running").toBool());
    scrollSettingsTo("scrollToServer");
    QVERIFY(itemVisible("serverSwitch"));
    QCOMPARE(itemText("serverUrlField"), QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
    QVERIFY(!itemVisible("serverRemoteWarning"));
    QVERIFY(!itemVisible("serverError"));
    if (chat_->modelLoaded()) {  // the status bar shows while a model is loaded (or the server on)
      QTRY_VERIFY(itemVisible("figureServer"));
      QCOMPARE(itemText("figureServer"), QStringLiteral("on :%1").arg(port));
    }
    settings_->setProperty("serverAllowRemote", true);
    QTRY_VERIFY(itemVisible("serverRemoteWarning"));
    QTRY_VERIFY(server->property("running").toBool());
    save("main-settings-server");
    settings_->setProperty("serverAllowRemote", false);

    // A port in use: the pane says why and the switch goes back off.
    const int busy = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    QVERIFY(::bind(busy, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 && ::listen(busy, 1) == 0 &&
            getsockname(busy, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression("^The local server could not start: cannot listen on"));
    settings_->setProperty("serverPort", int(ntohs(address.sin_port)));
    QTRY_VERIFY(!server->property("running").toBool());
    QVERIFY(!settings_->property("serverEnabled").toBool());
    QTRY_VERIFY(itemVisible("serverError"));
    QVERIFY(itemText("serverError").contains("could not start"));
    save("main-settings-server-error");
    ::close(busy);
    settings_->setProperty("serverPort", 8080);
    scrollSettingsTo("scrollToTop");
  }

  // Auto mode staged: the engine's choice in one line, the budget as text
  // (a bad entry gets an inline error), the slider's keys, the controls the
  // click-through test finds by objectName.
  void autoModeAndTheBudgetControls() {
    if (!chat_->modelLoaded()) QSKIP("needs the flash-mode chat above");
    window_->setProperty("page", "settings");
    QObject* page = window_->findChild<QObject*>("settingsPage");
    for (const char* name : {"modeSelector", "budgetSlider", "budgetField", "applyButton", "measureDiskButton"}) {
      QVERIFY2(window_->findChild<QObject*>(name), name);
    }
    page->setProperty("stagedMode", "auto");
    QTRY_VERIFY(itemVisible("autoChoiceText"));
    QVERIFY2(itemText("autoChoiceText").startsWith("Auto would run flash: "), qPrintable(itemText("autoChoiceText")));
    // Home / End on the slider: the minimum and this machine's memory.
    auto* slider = window_->findChild<QQuickItem*>("budgetSlider");
    slider->forceActiveFocus();
    QTest::keyClick(window_, Qt::Key_End);
    QTRY_VERIFY(qAbs(page->property("stagedBudget").toDouble() - page->property("maximumBudget").toDouble()) < 1 << 20);
    QVERIFY(itemText("autoChoiceText").startsWith("Auto would run dense: "));
    QTest::keyClick(window_, Qt::Key_Home);
    QTRY_COMPARE(page->property("stagedBudget").toDouble(), page->property("minimumBudget").toDouble());
    QTest::keyClick(window_, Qt::Key_PageUp);
    QTRY_VERIFY(page->property("stagedBudget").toDouble() > page->property("minimumBudget").toDouble());
    // Typed: a size is taken, nonsense gets an inline error and changes nothing.
    // An untyped QML function (typed, it crashes qmllint 6.4's type propagation): QVariant in and out.
    QVariant ok;
    const QString full = sieve::app::MemoryPlanner::formatSize(page->property("fullBudget").toDouble());
    QVERIFY(QMetaObject::invokeMethod(page, "setBudgetFromText", Q_RETURN_ARG(QVariant, ok), Q_ARG(QVariant, full)));
    QVERIFY(ok.toBool());
    QVERIFY(!itemVisible("budgetError"));
    const double before = page->property("stagedBudget").toDouble();
    // Typed into the field, as a person would: select all, type, Enter.
    auto* field = window_->findChild<QQuickItem*>("budgetField");
    field->forceActiveFocus();
    QVERIFY(QMetaObject::invokeMethod(field, "selectAll"));
    for (char c : std::string("lots")) QTest::keyClick(window_, c);  // (keyClicks takes widgets only)
    QTest::keyClick(window_, Qt::Key_Return);
    QTRY_VERIFY(itemVisible("budgetError"));
    QVERIFY(itemText("budgetError").contains("is not a size"));
    QCOMPARE(page->property("stagedBudget").toDouble(), before);
    QVERIFY(itemVisible("applyBar"));
    save("main-settings-auto");
    // Apply: the engine restarts in auto mode at a budget between the minimum and
    // everything, picks flash, and the status bar says so and why.
    slider->forceActiveFocus();
    QTest::keyClick(window_, Qt::Key_Home);
    QTest::keyClick(window_, Qt::Key_PageUp);
    QTRY_VERIFY(itemText("autoChoiceText").startsWith("Auto would run flash: "));
    auto* apply = window_->findChild<QQuickItem*>("applyButton");
    QVERIFY(apply && apply->isVisible() && apply->isEnabled());
    QVERIFY(QMetaObject::invokeMethod(apply, "clicked"));
    QTRY_VERIFY_WITH_TIMEOUT(!chat_->loading() && chat_->modeChoice().startsWith("flash: "), 30000);
    QCOMPARE(settings_->property("mode").toString(), QString("auto"));
    QCOMPARE(chat_->loadedMode(), QString("flash"));
    QTRY_COMPARE(itemText("modeChoiceText"), chat_->modeChoice());
    QVERIFY(!itemVisible("applyBar"));
    // A long mode line elides; it does not squeeze the figures (at the window's default width).
    for (const char* name : {"figureSpeed", "figureEngine", "figureAppRam", "figureFlash", "figureHitRate"}) {
      const auto* figure = window_->findChild<QQuickItem*>(name);
      QVERIFY(figure);
      QTRY_VERIFY2(figure->width() >= figure->implicitWidth() - 0.5,
                   qPrintable(QString("%1: %2 of %3 px").arg(name).arg(figure->width()).arg(figure->implicitWidth())));
    }
    save("main-auto-applied");
  }

  // Measure disk from the page: progress while it runs (the UI stays live),
  // then the expected tokens/s at once, without a restart.
  void measureDiskFromTheSettingsPage() {
    if (!chat_->modelLoaded()) QSKIP("needs the flash-mode chat above");
    window_->setProperty("page", "settings");
    auto* measure = qobject_cast<DiskMeasure*>(appObject("diskMeasure"));
    QVERIFY(measure);
    measure->setProbeSize(8u << 20, 0.4);  // small and quick; the app measures 256 MiB
    QVERIFY(itemText("speedText").contains("unknown"));
    scrollSettingsTo("scrollToDisk");
    auto* button = window_->findChild<QQuickItem*>("measureDiskButton");
    QVERIFY(button && button->isVisible() && button->isEnabled());
    QVERIFY(QMetaObject::invokeMethod(button, "clicked"));
    QTRY_VERIFY(measure->running() && measure->progress() > 0);
    QVERIFY(itemVisible("measureProgress"));
    QVERIFY(itemVisible("cancelMeasureButton"));
    QVERIFY(!button->isEnabled());
    save("main-settings-measuring");
    QTRY_VERIFY_WITH_TIMEOUT(!measure->running(), 60000);
    QVERIFY2(appObject("planner")->property("diskMBps").toDouble() > 0, qPrintable(measure->statusText()));
    QTRY_VERIFY(itemText("speedText").contains("tokens/s"));
    QCOMPARE(itemText("measureDiskButton"), QString("Measure again"));
    save("main-settings-measured");
    scrollSettingsTo("scrollToTop");
  }

  // Sparse mode staged: its own split, the predictor and the window.
  void sparseSettings() {
    if (!chat_->modelLoaded()) QSKIP("needs the flash-mode chat above");
    window_->setProperty("page", "settings");
    QObject* page = window_->findChild<QObject*>("settingsPage");
    page->setProperty("stagedMode", "sparse");
    QTRY_VERIFY(itemVisible("predictorBox"));
    QVERIFY(itemVisible("sparseWindowBox"));
    QVERIFY(itemVisible("applyBar"));  // Apply stays in sight while something is staged
    QVariant planValue = page->property("plan");
    if (planValue.metaType() == QMetaType::fromType<QJSValue>()) planValue = planValue.value<QJSValue>().toVariant();
    const QVariantMap plan = planValue.toMap();
    QVERIFY2(plan.value("ok").toBool(), qPrintable(plan.value("error").toString()));
    QCOMPARE(plan.value("mode").toString(), QString("sparse"));
    // The staged budget is raised to sparse mode's minimum if it was below it.
    QVERIFY(page->property("stagedBudget").toDouble() >= page->property("minimumBudget").toDouble());
    save("main-settings-sparse");
    QVERIFY(QMetaObject::invokeMethod(page, "loadStaged"));
    QTRY_VERIFY(!itemVisible("predictorBox"));
    QVERIFY(!itemVisible("applyBar"));
  }

  void modelsPage() {
    QObject* models = appObject("models");
    if (!models) QSKIP("no `models` context property in this build (the models page is D-A's)");
    if (!pack_.isEmpty()) {
      QVERIFY(QMetaObject::invokeMethod(models, "addModel", Q_ARG(QString, pack_)));
      QTRY_VERIFY_WITH_TIMEOUT(models->property("count").toInt() == 1 && !models->property("importing").toBool(),
                               30000);
    }
    window_->setProperty("page", "models");
    if (!pack_.isEmpty()) {
      // The models list states the minimum for the engine settings in effect, as the settings page does.
      const QString planned = appObject("planner")->property("planSettingsText").toString();
      const double minimum = appObject("planner")->property("minimumBudget").toDouble();
      const QString wanted = "Minimum DRAM " + sieve::app::MemoryPlanner::formatSize(minimum);
      QTRY_VERIFY2(findTextContaining(window_->contentItem(), {wanted, planned}),
                   qPrintable(wanted + " ... " + planned));
    }
    save("main-models");
  }

  void darkTheme() {
    settings_->setProperty("theme", "dark");
    window_->setProperty("page", "settings");
    save("main-settings-dark");
    window_->setProperty("page", "chat");
    save("main-chat-dark");
  }

  // Each view also loads on its own (a component on the engine with its App objects, no window).
  void everyViewLoadsOnItsOwn() {
    QQmlComponent themeComponent(engine_.get(), QUrl("qrc:/Sieve/Ui/Theme.qml"));
    std::unique_ptr<QObject> theme(themeComponent.create());
    QVERIFY2(theme, qPrintable(themeComponent.errorString()));
    const QStringList views = {"FirstRunView", "ChatView", "ConversationSidebar", "SettingsPage", "PresetsSettings",
                               "StatusBar", "LiveChart", "ModelsView", "ImportProgressPanel"};
    for (const QString& view : views) {
      if (view.startsWith("Models") || view.startsWith("Import")) {
        if (!appObject("models")) continue;
      }
      QQmlComponent component(engine_.get(), QUrl("qrc:/Sieve/Ui/" + view + ".qml"));
      std::unique_ptr<QObject> object(component.createWithInitialProperties({{"theme", QVariant::fromValue(theme.get())}}));
      QVERIFY2(object, qPrintable(view + ": " + component.errorString()));
    }
  }

  void noQmlWarnings() { QVERIFY2(warnings_.isEmpty(), qPrintable(warnings_.join('\n'))); }

  void cleanupTestCase() {
    engine_.reset();
    chat_.reset();
    store_.reset();
  }

 private:
  // What QML reaches as App.<name> (app_objects.h).
  QObject* appObject(const char* name) const {
    return AppObjects::of(*engine_)->byName().value(QString::fromLatin1(name));
  }

  void save(const QString& name) {
    QTest::qWait(400);  // let bindings, layouts and popups' transitions settle
    const QImage image = window_->grabWindow();
    QVERIFY(!image.isNull());
    const QString path = QStringLiteral("%1/%2.png").arg(screenshotDir(), name);
    QVERIFY2(image.save(path), qPrintable(path));
    qInfo("saved %s", qPrintable(path));
  }

  QString itemText(const char* objectName) const {
    const QObject* item = window_->findChild<QObject*>(objectName);
    if (!item) return {};
    const QVariant value = item->property("value");
    return value.isValid() ? value.toString() : item->property("text").toString();
  }

  bool itemVisible(const char* objectName) const {
    const QQuickItem* item = window_->findChild<QQuickItem*>(objectName);
    return item && item->isVisible();
  }

  void scrollSettingsTo(const char* function) {
    QObject* page = window_->findChild<QObject*>("settingsPage");
    QVERIFY(page);
    QVERIFY(QMetaObject::invokeMethod(page, function));
  }

  // Whether a visible text item under `root` shows exactly `wanted` (a prose
  // TextEdit by its Markdown source: its `text` is re-serialised).
  static bool findText(QQuickItem* root, const QString& wanted) {
    for (QQuickItem* child : root->childItems()) {
      const QVariant markdown = child->property("markdown");
      const QVariant text = markdown.isValid() ? markdown : child->property("text");
      if (child->isVisible() && child->property("textFormat").isValid() && text.toString() == wanted) return true;
      if (findText(child, wanted)) return true;
    }
    return false;
  }

  // The widest message bubble (the Rectangle under each MessageBubble) shown in `list`.
  static double maxBubbleWidth(QQuickItem* list) {
    double widest = 0;
    const std::function<void(QQuickItem*)> visit = [&](QQuickItem* item) {
      for (QQuickItem* child : item->childItems()) {
        if (!child->isVisible()) continue;
        if (child->property("maxBubbleWidth").isValid()) {
          for (QQuickItem* bubble : child->childItems()) {
            if (bubble->property("widest").isValid()) widest = std::max(widest, bubble->width());
          }
        } else {
          visit(child);
        }
      }
    };
    visit(list);
    return widest;
  }

  // Types `text` into whatever has the focus (QTest::keyClicks is for widgets only).
  void typeText(const QString& text) {
    for (const QChar c : text) QTest::keyClick(window_, c.toLatin1());
  }

  // The first visible item named `objectName` (delegates repeat names).
  // The visual tree from the window's root (delegates and popups have no QObject parent to find them by).
  QQuickItem* firstVisible(const char* objectName) const {
    const std::function<QQuickItem*(QQuickItem*)> visit = [&](QQuickItem* item) -> QQuickItem* {
      for (QQuickItem* child : item->childItems()) {
        if (!child->isVisible()) continue;
        if (child->objectName() == QLatin1String(objectName)) return child;
        if (QQuickItem* found = visit(child)) return found;
      }
      return nullptr;
    };
    QQuickItem* root = window_->contentItem();
    while (root->parentItem()) root = root->parentItem();
    return visit(root);
  }

  // Whether a visible text item under `root` contains every one of `parts`.
  static bool findTextContaining(QQuickItem* root, const QStringList& parts) {
    for (QQuickItem* child : root->childItems()) {
      if (!child->isVisible()) continue;
      const QString text = child->property("text").toString();
      if (std::all_of(parts.begin(), parts.end(), [&text](const QString& p) { return text.contains(p); })) return true;
      if (findTextContaining(child, parts)) return true;
    }
    return false;
  }

  QString home_;
  QString pack_;
  std::unique_ptr<HistoryStore> store_;
  std::unique_ptr<ChatController> chat_;
  std::unique_ptr<QQmlApplicationEngine> engine_;
  QQuickWindow* window_ = nullptr;
  QObject* settings_ = nullptr;
  QStringList warnings_;
};

int main(int argc, char** argv) {
  // A fresh home: no saved settings, window size or model from earlier runs.
  QTemporaryDir home;
  qputenv("XDG_CONFIG_HOME", home.path().toUtf8());
  qputenv("XDG_DATA_HOME", home.path().toUtf8());
  // Exports go to a Documents folder inside it, not the user's.
  QDir(home.path()).mkpath("Documents");
  QFile dirs(home.filePath("user-dirs.dirs"));
  if (dirs.open(QIODevice::WriteOnly)) dirs.write("XDG_DOCUMENTS_DIR=\"" + home.filePath("Documents").toUtf8() + "\"\n");
  dirs.close();
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  if (qEnvironmentVariableIsEmpty("QT_QUICK_BACKEND")) qputenv("QT_QUICK_BACKEND", "software");
  configureApplication();
  QGuiApplication app(argc, argv);
  UiScreenshotsTest test(home.path());
  return QTest::qExec(&test, argc, argv);
}

#include "ui_screenshots_test.moc"
