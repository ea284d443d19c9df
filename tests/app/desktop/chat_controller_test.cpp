// The controller QML drives: load a model, send, stream into the message
// model and the history, stop, and restart the engine mid-reply.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "desktop/chat_controller.h"

using namespace sieve::app;

namespace {
const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");
}

class ChatControllerTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
  }

  void sendsAndStoresAStreamedReply() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    chat.setProperty("temperature", 0.0);
    chat.setProperty("maxTokens", 40);
    QSignalSpy model(&chat, &ChatController::modelChanged);
    chat.loadModel(QUrl::fromLocalFile(kModel).toString());
    QVERIFY(chat.loading());
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QVERIFY(!chat.loading());
    QVERIFY(chat.contextSize() > 0);

    QSignalSpy finished(&chat, &ChatController::replyFinished);
    bool finishedOnUiThread = false;
    connect(&chat, &ChatController::replyFinished, this, [&] { finishedOnUiThread = QThread::currentThread() == thread(); },
            Qt::DirectConnection);
    chat.send("Once upon a time");
    QVERIFY(chat.generating());
    QVERIFY(finished.wait(30000));
    QVERIFY(!chat.generating());
    QVERIFY(finishedOnUiThread);  // the coroutine resumed on the UI thread
    QCOMPARE(chat.conversations()->rowCount(), 1);
    QCOMPARE(chat.conversations()->data(chat.conversations()->index(0), ConversationListModel::TitleRole).toString(),
             QString("Once upon a time"));
    const auto stored = store.messages(chat.currentConversation()).value();
    QCOMPARE(stored.size(), 2);
    QVERIFY(stored[1].complete);
    QVERIFY(!stored[1].content.isEmpty());
    // The view's model saw the same text the history kept.
    QCOMPARE(chat.messages()->data(chat.messages()->index(1), MessageListModel::ContentRole).toString(),
             stored[1].content);
    QVERIFY(!chat.search("once").isEmpty());
  }

  void restartsTheEngineWhenTheContextChangesMidReply() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    chat.setProperty("maxTokens", 100000);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    chat.send("Tell me a story");
    chat.setContextLength(256);  // queued behind the reply, which it cancels
    QVERIFY(finished.wait(30000));
    QTRY_VERIFY_WITH_TIMEOUT(!chat.loading(), 30000);
    QCOMPARE(chat.contextSize(), qint64(256));
    QVERIFY(chat.modelLoaded());
    const auto stored = store.messages(chat.currentConversation()).value();
    QVERIFY(stored[1].complete);  // the partial reply was saved
    // And the new engine answers.
    chat.setProperty("maxTokens", 10);
    chat.send("Again");
    QVERIFY(finished.wait(30000));
    const auto second = finished.last().first().value<GenerationResult>();
    QVERIFY2(second.end != GenerationResult::End::Error, qPrintable(second.error));
  }

  void deletingTheConversationMidReplyStopsItQuietly() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    chat.setProperty("maxTokens", 100000);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    QSignalSpy errors(&chat, &ChatController::errorOccurred);
    chat.send("Tell me a story");
    chat.deleteConversation(chat.currentConversation());
    QVERIFY(finished.wait(30000));
    QCOMPARE(errors.size(), 0);
    QCOMPARE(chat.currentConversation(), qint64(-1));
    QCOMPARE(chat.messages()->rowCount(), 0);
    QCOMPARE(store.listConversations().value().size(), 0);
  }

  void refusesToSendWithoutAModel() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    QSignalSpy errors(&chat, &ChatController::errorOccurred);
    chat.send("hello");
    QCOMPARE(errors.size(), 1);
    QVERIFY(!chat.generating());
  }

  void reportsABadModel() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    QSignalSpy errors(&chat, &ChatController::errorOccurred);
    chat.loadModel("/nonexistent.gguf");
    QVERIFY(errors.wait(30000));
    QVERIFY(!chat.modelLoaded());
    QVERIFY(chat.statusText().contains("nonexistent.gguf"));
  }
};

QTEST_GUILESS_MAIN(ChatControllerTest)
#include "chat_controller_test.moc"
