// The controller QML drives: load a model, send, stream into the message
// model and the history, stop, restart the engine mid-reply (context, mode),
// regenerate, edit-and-resend (the engine rewinds), the context-overflow
// choices, and live statistics (dense, and flash on a pack of stories260K).
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "default_preset.h"
#include "desktop/chat_controller.h"
#include "desktop/memory_planner.h"
#include "desktop/model_library.h"
#include "desktop/preset_store.h"
#include "flash/pack_writer.h"

using namespace sieve::app;

namespace {
const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");

GenerationResult lastResult(const QSignalSpy& finished) { return finished.last().first().value<GenerationResult>(); }

QStringList contents(const QList<Message>& messages) {
  QStringList out;
  for (const Message& m : messages) out << m.role + ": " + m.content;
  return out;
}

QStringList contents(const MessageListModel& model) { return contents(model.messages()); }
}  // namespace

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
    setTemperature(store, 0.0);
    setMaxTokens(store, 40);
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
    setMaxTokens(store, sieve::app::PresetLimits::kMaxReplyTokens);
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
    setMaxTokens(store, 10);
    chat.send("Again");
    QVERIFY(finished.wait(30000));
    const auto second = finished.last().first().value<GenerationResult>();
    QVERIFY2(second.end != GenerationResult::End::Error, qPrintable(second.error));
  }

  void deletingTheConversationMidReplyStopsItQuietly() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setMaxTokens(store, sieve::app::PresetLimits::kMaxReplyTokens);
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
    QCOMPARE(chat.conversations()->rowCount(), 0);
    QVERIFY(chat.undoAvailable());
    chat.commitPendingDeletes();  // the undo window ends
    QCOMPARE(errors.size(), 0);
    QCOMPARE(store.listConversations().value().size(), 0);
  }

  // Delete leaves the list at once and the history only when the undo window
  // ends (or the app quits); Undo brings it back, messages and all.
  void deleteOffersUndoThenDeletes() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    const qint64 keep = store.createConversation("keep me").value();
    const qint64 drop = store.createConversation("drop me").value();
    store.appendMessage(drop, "user", "a lighthouse");
    {
      ChatController chat(store);
      chat.setUndoMilliseconds(200);
      QSignalSpy deleted(&chat, &ChatController::conversationDeleted);
      chat.openConversation(drop);
      chat.deleteConversation(drop);
      QCOMPARE(deleted.size(), 1);
      QCOMPARE(deleted.first().first().toString(), QString("drop me"));
      QCOMPARE(chat.conversations()->rowCount(), 1);
      QCOMPARE(chat.currentConversation(), qint64(-1));
      QVERIFY(chat.search("lighthouse").isEmpty());  // gone for the user...
      QCOMPARE(store.listConversations().value().size(), 2);  // ...not yet for the history
      chat.undoDelete();
      QCOMPARE(chat.conversations()->rowCount(), 2);
      QCOMPARE(chat.conversations()->idAt(0), drop);  // back in its place (the newest)
      QCOMPARE(chat.currentConversation(), drop);
      QCOMPARE(chat.messages()->rowCount(), 1);
      QVERIFY(!chat.undoAvailable());

      chat.deleteConversation(drop);
      QTRY_VERIFY(!chat.undoAvailable());  // the window ended
      QCOMPARE(store.listConversations().value().size(), 1);
      chat.deleteConversation(keep);
    }  // quitting within the window deletes it
    QCOMPARE(store.listConversations().value().size(), 0);
  }

  // The open conversation is remembered in the history and reopens at start.
  void reopensTheLastConversation() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    const qint64 first = store.createConversation("first").value();
    store.createConversation("second");
    {
      ChatController chat(store);
      QCOMPARE(chat.currentConversation(), qint64(-1));
      chat.openConversation(first);
    }
    {
      ChatController chat(store);
      QCOMPARE(chat.currentConversation(), first);
      chat.deleteConversation(first);
    }
    ChatController chat(store);
    QCOMPARE(chat.currentConversation(), qint64(-1));  // deleted: nothing to reopen
  }

  // Titles from the first message have no Markdown marks.
  void titlesLeaveOutMarkdown() {
    QCOMPARE(titleFromMessage("**Why** is the `sky` blue?"), QString("Why is the sky blue?"));
    QCOMPARE(titleFromMessage("# Plan\n- pack *light*\n- see [the sea](https://sea.example)"),
             QString("Plan pack light see the sea"));
    QCOMPARE(titleFromMessage("```python\nprint(1)\n```"), QString("print(1)"));
    QCOMPARE(titleFromMessage("keep snake_case and 2.5 as they are"), QString("keep snake_case and 2.5 as they are"));
    QCOMPARE(titleFromMessage("**  **"), QString("New chat"));
    QCOMPARE(titleFromMessage(QString(60, 'a')).size(), 40);
  }

  // One name per model: general.name when it means something, else the file's stem.
  void namesModelsOneWay() {
    QCOMPARE(modelDisplayName("TinyLlama 1.1B Chat", "/m/tinyllama.Q4_K_M.gguf"), QString("TinyLlama 1.1B Chat"));
    QCOMPARE(modelDisplayName("llama", "/m/stories260K.gguf"), QString("stories260K"));
    QCOMPARE(modelDisplayName("Model", "/m/qwen2-0.5b.sieve"), QString("qwen2-0.5b"));
    QCOMPARE(modelDisplayName("  ", "/m/phi.gguf"), QString("phi"));
    QCOMPARE(modelDisplayName("qwen2", "/m/q.gguf", "qwen2"), QString("q"));
    QCOMPARE(modelDisplayName("stories260K.gguf", "/m/stories260K.gguf"), QString("stories260K"));  // an engine's fallback
  }

  void regenerateReplacesTheLastReply() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setMaxTokens(store, 30);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    chat.send("Once upon a time");
    QVERIFY(finished.wait(30000));
    const auto before = store.messages(chat.currentConversation()).value();
    QCOMPARE(before.size(), 2);
    QSignalSpy removed(chat.messages(), &MessageListModel::rowsRemoved);
    QSignalSpy changed(chat.messages(), &MessageListModel::dataChanged);
    chat.regenerate();
    QVERIFY(chat.generating());
    QCOMPARE(removed.size(), 0);  // the reply's row stays, emptied: version 2 streams into it
    QVERIFY(changed.size() >= 1);
    QCOMPARE(chat.messages()->data(chat.messages()->index(1), MessageListModel::VersionRole).toInt(), 2);
    QVERIFY(finished.wait(30000));
    QVERIFY(lastResult(finished).tokens > 0);
    const auto after = store.messages(chat.currentConversation()).value();
    QCOMPARE(after.size(), 2);
    QCOMPARE(after[0].id, before[0].id);  // the question stays
    QCOMPARE(after[0].content, before[0].content);
    QVERIFY(after[1].complete);
    QVERIFY(!after[1].content.isEmpty());
    QCOMPARE(contents(*chat.messages()), contents(after));
    // The engine re-ran only the reply: the question's tokens were kept.
    QVERIFY(lastResult(finished).reusedTokens > 0);
    // The first reply is kept: < 1/2 > flips back to it, in the view and the history.
    QCOMPARE(after[1].id, before[1].id);
    QCOMPARE(after[1].version, 2);
    QCOMPARE(after[1].versionCount, 2);
    chat.showVersion(after[1].id, 1);
    QCOMPARE(chat.messages()->data(chat.messages()->index(1), MessageListModel::ContentRole).toString(),
             before[1].content);
    QCOMPARE(store.messages(chat.currentConversation()).value()[1].content, before[1].content);
    QCOMPARE(chat.messages()->data(chat.messages()->index(1), MessageListModel::VersionCountRole).toInt(), 2);
  }

  // A reply cut at the length limit says so (in the view and the history) and Continue goes on.
  void aReplyAtTheLengthLimitCanContinue() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setTemperature(store, 0.0);
    setMaxTokens(store, 5);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    chat.send("Once upon a time");
    QVERIFY(finished.wait(30000));
    QCOMPARE(int(lastResult(finished).end), int(GenerationResult::End::TokenLimit));
    QCOMPARE(chat.messages()->data(chat.messages()->index(1), MessageListModel::StopReasonRole).toString(),
             QString("length"));
    QCOMPARE(store.messages(chat.currentConversation()).value()[1].stopReason, QString("length"));
    const QString cut = store.messages(chat.currentConversation()).value()[1].content;
    chat.continueReply();
    QVERIFY(finished.wait(30000));
    // The same message goes on from where it stopped: no "Continue" message, no new bubble.
    const auto stored = store.messages(chat.currentConversation()).value();
    QCOMPARE(stored.size(), 2);
    QVERIFY2(stored[1].content.startsWith(cut) && stored[1].content.size() > cut.size(),
             qPrintable(stored[1].content));
    QCOMPARE(chat.messages()->rowCount(), 2);
    QCOMPARE(chat.messages()->data(chat.messages()->index(1), MessageListModel::ContentRole).toString(),
             stored[1].content);
    // Greedy: the two parts are what a 10-token limit writes at once.
    HistoryStore onceStore(dir.filePath("once.sqlite"));
    ChatController once(onceStore);
    setTemperature(onceStore, 0.0);
    setMaxTokens(onceStore, 10);
    once.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(once.modelLoaded(), 30000);
    QSignalSpy onceFinished(&once, &ChatController::replyFinished);
    once.newConversation();
    once.send("Once upon a time");
    QVERIFY(onceFinished.wait(30000));
    QCOMPARE(onceStore.messages(once.currentConversation()).value()[1].content, stored[1].content);
  }

  // A conversation remembers the model and mode it was held with; loading
  // another model while it is open starts a new chat and keeps the old one.
  void anotherModelStartsANewConversation() {
    QTemporaryDir dir;
    const QString other = dir.filePath("other-model.gguf");
    QVERIFY(QFile::copy(kModel, other));
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setMaxTokens(store, 4);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QCOMPARE(chat.modelName(), QString("stories260K"));  // general.name is "llama": the file's name says more
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    chat.send("Once upon a time");
    QVERIFY(finished.wait(30000));
    const qint64 first = chat.currentConversation();
    QCOMPARE(store.conversation(first).value().model, QString("stories260K"));
    QCOMPARE(store.conversation(first).value().mode, chat.loadedMode());

    chat.setMode("mmap");  // the same model in another mode: the conversation stays
    QTRY_VERIFY_WITH_TIMEOUT(!chat.loading() && chat.loadedMode() == "mmap", 30000);
    QCOMPARE(chat.currentConversation(), first);

    chat.loadModel(other);
    QTRY_VERIFY_WITH_TIMEOUT(!chat.loading() && chat.modelName() == "other-model", 30000);
    QCOMPARE(chat.currentConversation(), qint64(-1));  // a new chat...
    QCOMPARE(chat.messages()->rowCount(), 0);
    QCOMPARE(store.messages(first).value().size(), 2);  // ...the old one kept, with its model
    QCOMPARE(store.conversation(first).value().model, QString("stories260K"));
    chat.send("Hello");
    QVERIFY(finished.wait(30000));
    QCOMPARE(store.conversation(chat.currentConversation()).value().model, QString("other-model"));
    QCOMPARE(chat.conversations()->rowCount(), 2);
  }

  void editAndResendRewindsTheEngine() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setTemperature(store, 0.0);  // greedy: the same prompt gives the same reply
    setMaxTokens(store, 24);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    chat.send("Once upon a time");
    QVERIFY(finished.wait(30000));
    const GenerationResult first = lastResult(finished);
    const QString firstReply = store.messages(chat.currentConversation()).value()[1].content;
    chat.send("The cat ran to the park");
    QVERIFY(finished.wait(30000));
    const GenerationResult second = lastResult(finished);
    auto stored = store.messages(chat.currentConversation()).value();
    QCOMPARE(stored.size(), 4);
    const qint64 firstQuestion = stored[0].id;

    chat.editMessage(firstQuestion, "A dog found a ball");
    QVERIFY(chat.generating());
    QCOMPARE(chat.messages()->rowCount(), 2);  // the later messages left the view at once
    QVERIFY(finished.wait(30000));
    const GenerationResult edited = lastResult(finished);
    stored = store.messages(chat.currentConversation()).value();
    QCOMPARE(stored.size(), 2);
    QCOMPARE(stored[0].id, firstQuestion);
    QCOMPARE(stored[0].content, QString("A dog found a ball"));
    QVERIFY(stored[1].complete);
    QCOMPARE(contents(*chat.messages()), contents(stored));
    QVERIFY(store.search("park").value().isEmpty());  // the deleted messages left the index too
    // The engine rewound: it kept only the shared start, far before where the second reply ended.
    QVERIFY(edited.reusedTokens > 0);
    QVERIFY(edited.reusedTokens < first.position);
    QVERIFY(second.position > first.position);
    QVERIFY(edited.position > edited.reusedTokens + edited.prefilledTokens);

    // Edited back to the original words, greedy decoding gives the original reply:
    // nothing of the other branches is left in the KV cache.
    chat.editMessage(firstQuestion, "Once upon a time");
    QVERIFY(finished.wait(30000));
    QCOMPARE(store.messages(chat.currentConversation()).value()[1].content, firstReply);
  }

  void editRefusesTheModelsMessages() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setMaxTokens(store, 8);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    chat.send("Hello");
    QVERIFY(finished.wait(30000));
    QSignalSpy errors(&chat, &ChatController::errorOccurred);
    const auto stored = store.messages(chat.currentConversation()).value();
    chat.editMessage(stored[1].id, "not mine");
    QCOMPARE(errors.size(), 1);
    QVERIFY(!chat.generating());
    QCOMPARE(store.messages(chat.currentConversation()).value().size(), 2);
  }

  // Fills a small context until the next message would not fit; returns false if it never overflowed.
  static bool sendUntilOverflow(ChatController& chat, QSignalSpy& finished, QSignalSpy& overflow) {
    for (int i = 0; i < 20 && overflow.isEmpty(); ++i) {
      chat.send(QStringLiteral("Tell me story number %1 about a little cat").arg(i));
      if (!finished.wait(30000)) return false;
    }
    return !overflow.isEmpty();
  }

  void contextOverflowAsksAndEachChoiceWorks() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setTemperature(store, 0.0);
    setMaxTokens(store, 16);
    chat.setContextLength(160);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QCOMPARE(chat.contextSize(), qint64(160));
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    QSignalSpy overflow(&chat, &ChatController::contextOverflow);
    QSignalSpy restored(&chat, &ChatController::inputRestored);
    const qint64 conversation = [&] { chat.newConversation(); return chat.currentConversation(); }();
    QVERIFY(sendUntilOverflow(chat, finished, overflow));
    QCOMPARE(lastResult(finished).end, GenerationResult::End::Overflow);
    QVERIFY(chat.overflowPending());
    QVERIFY(overflow.last().at(0).toInt() > 0);           // messages that would be dropped
    QCOMPARE(overflow.last().at(1).toLongLong(), qint64(160));
    auto stored = store.messages(conversation).value();
    QCOMPARE(stored.last().role, QString("user"));        // no empty reply is left behind
    QCOMPARE(contents(*chat.messages()), contents(stored));

    // Cancel: the message goes back to the input box and out of the history.
    const QString unsent = stored.last().content;
    chat.resolveOverflow("cancel");
    QVERIFY(!chat.overflowPending());
    QCOMPARE(restored.size(), 1);
    QCOMPARE(restored.last().first().toString(), unsent);
    QCOMPARE(store.messages(conversation).value().size(), stored.size() - 1);
    QCOMPARE(contents(*chat.messages()), contents(store.messages(conversation).value()));

    // Drop: the reply is written without the oldest messages; the history keeps them all.
    chat.send(unsent);
    QVERIFY(finished.wait(30000));
    QCOMPARE(lastResult(finished).end, GenerationResult::End::Overflow);
    const int before = int(store.messages(conversation).value().size());
    chat.resolveOverflow("drop");
    QVERIFY(finished.wait(30000));
    const GenerationResult dropped = lastResult(finished);
    QVERIFY2(dropped.end != GenerationResult::End::Error, qPrintable(dropped.error));
    QVERIFY(dropped.end != GenerationResult::End::Overflow);
    QVERIFY(dropped.droppedMessages > 0);
    QCOMPARE(int(store.messages(conversation).value().size()), before + 1);
    QVERIFY(store.messages(conversation).value().last().complete);

    // New chat: the last message alone in a new conversation, answered there.
    chat.send("One more story about a big dog please");
    QVERIFY(finished.wait(30000));
    QCOMPARE(lastResult(finished).end, GenerationResult::End::Overflow);
    const int kept = int(store.messages(conversation).value().size()) - 1;
    chat.resolveOverflow("newChat");
    QVERIFY(chat.currentConversation() != conversation);
    QVERIFY(finished.wait(30000));
    QCOMPARE(int(store.messages(conversation).value().size()), kept);
    const auto fresh = store.messages(chat.currentConversation()).value();
    QCOMPARE(fresh.size(), 2);
    QCOMPARE(fresh[0].content, QString("One more story about a big dog please"));
    QVERIFY(fresh[1].complete);
  }

  void modeChangeMidReplyRestartsTheEngine() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setMaxTokens(store, sieve::app::PresetLimits::kMaxReplyTokens);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QCOMPARE(chat.loadedMode(), QString("dense"));
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    QSignalSpy tokens(chat.messages(), &MessageListModel::dataChanged);
    chat.send("Tell me a story");
    QVERIFY(tokens.wait(30000));  // the reply is streaming
    chat.setMode("mmap");
    chat.setThreads(1);          // two changes, one restart
    QVERIFY(finished.wait(30000));
    QCOMPARE(lastResult(finished).end, GenerationResult::End::Cancelled);
    QTRY_VERIFY_WITH_TIMEOUT(!chat.loading() && chat.modelLoaded(), 30000);
    QCOMPARE(chat.loadedMode(), QString("mmap"));
    const auto stored = store.messages(chat.currentConversation()).value();
    QVERIFY(stored[1].complete);           // the stopped reply was kept
    QVERIFY(!stored[1].content.isEmpty());
    setMaxTokens(store, 10);
    chat.send("Again");
    QVERIFY(finished.wait(30000));
    QVERIFY2(lastResult(finished).end != GenerationResult::End::Error, qPrintable(lastResult(finished).error));
  }

  void liveStatisticsArriveWhileAReplyStreams() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setMaxTokens(store, 40);
    setTemperature(store, 0.0);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QSignalSpy updates(chat.live(), &LiveStatus::updated);
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    chat.send("Once upon a time");
    QVERIFY(finished.wait(30000));
    const int tokens = lastResult(finished).tokens;
    QVERIFY(tokens > 8);
    // One report every kStatsEveryTokens pieces, and one at the end.
    QVERIFY(updates.size() >= tokens / InferenceWorker::kStatsEveryTokens / 2);
    LiveStatus* live = chat.live();
    QVERIFY(live->hasData());
    QVERIFY(live->tokens() > 0);
    QVERIFY(live->rssBytes() > 0);
    QVERIFY(live->peakRssBytes() >= live->rssBytes() * 0.5);
    QVERIFY(live->flashBytesPerToken() < 0);  // dense: not applicable
    QVERIFY(live->dramHitRate() < 0);
    QCOMPARE(live->budgetBytes(), 0.0);
    QVERIFY(!live->memoryHistory().isEmpty());
    QVERIFY(live->memoryHistory().size() <= LiveStatus::kHistory);
  }

  void flashModeReportsReadsAndHitRate() {
    QTemporaryDir dir;
    const QString pack = dir.filePath("stories260K.sieve");
    sieve::flash::pack_model(kModel.toStdString(), pack.toStdString());
    MemoryPlanner planner;
    planner.setModelPath(pack);
    const double minimum = planner.minimumBytes(1, 256);
    QVERIFY(minimum > 0);
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setMaxTokens(store, 30);
    setTemperature(store, 0.0);
    chat.setMode("flash");
    chat.setThreads(1);
    chat.setContextLength(256);
    chat.setDramBudget(minimum);
    chat.loadModel(pack);
    QTRY_VERIFY_WITH_TIMEOUT(!chat.loading(), 30000);
    QVERIFY2(chat.modelLoaded(), qPrintable(chat.statusText()));
    QCOMPARE(chat.loadedMode(), QString("flash"));
    QVERIFY(chat.memoryPlan().contains("streamed"));
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    chat.send("Once upon a time");
    QVERIFY(finished.wait(30000));
    LiveStatus* live = chat.live();
    QVERIFY(live->hasData());
    QVERIFY(live->flashBytesPerToken() > 0);
    QVERIFY(live->dramHitRate() >= 0 && live->dramHitRate() < 1);
    QCOMPARE(live->budgetBytes(), minimum);
    // The engine's own memory is the plan's total for the budget (within it), not the process's RSS.
    QCOMPARE(live->engineBytes(), planner.plan(minimum, 1, 256).value("totalBytes").toDouble());
    QVERIFY(live->engineBytes() <= live->budgetBytes());
    const double planned = planner.plan(minimum, 1, 256).value("streamedBytesPerToken").toDouble();
    // Exact mode reads every streamed layer once per token; the planner counts each layer's
    // streaming slot (rounded up for alignment), so it is a slight over-estimate.
    QVERIFY2(live->flashBytesPerToken() <= planned && live->flashBytesPerToken() > 0.95 * planned,
             qPrintable(QString("%1 read per token, %2 planned").arg(live->flashBytesPerToken()).arg(planned)));
  }

  // Flash mode on a Mixture-of-Experts GGUF (no pack): the status bar's
  // cache hits are the chosen experts the expert cache held.
  void expertStreamingReportsTheExpertCacheHits() {
    const QString moe = QStringLiteral(SIEVE_SHARED_DIR "/models/arch/qwen3moe.gguf");
    if (!QFile::exists(moe)) QSKIP("../shared/models/arch is missing");
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setMaxTokens(store, 30);
    setTemperature(store, 0.0);
    chat.setMode("flash");
    MemoryPlanner planner;
    planner.setModelPath(moe);
    const double minimum = planner.minimumBytes(0, 0);
    QVERIFY(minimum > 0);
    chat.setDramBudget(minimum);
    chat.loadModel(moe);
    QTRY_VERIFY_WITH_TIMEOUT(!chat.loading(), 30000);
    QVERIFY2(chat.modelLoaded(), qPrintable(chat.statusText()));
    QCOMPARE(chat.loadedMode(), QString("flash"));
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    chat.send("Once upon a time");
    QVERIFY(finished.wait(30000));
    QVERIFY2(lastResult(finished).end != GenerationResult::End::Error, qPrintable(lastResult(finished).error));
    LiveStatus* live = chat.live();
    QVERIFY(live->hasData());
    QVERIFY(live->flashBytesPerToken() > 0);  // at the minimum, experts are read every token
    QVERIFY2(live->dramHitRate() >= 0 && live->dramHitRate() < 1, qPrintable(QString::number(live->dramHitRate())));
  }

  void sparseModeReportsReadsAndHits() {
    QTemporaryDir dir;
    const QString pack = dir.filePath("stories260K.sieve");
    sieve::flash::pack_model(kModel.toStdString(), pack.toStdString());
    QVERIFY(MemoryPlanner::supportedModes().contains("sparse"));
    QVERIFY(MemoryPlanner::sparseWindowSupported());
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setMaxTokens(store, 30);
    setTemperature(store, 0.0);
    chat.setMode("sparse");
    chat.setSparseWindow(2);
    chat.loadModel(pack);
    QTRY_VERIFY_WITH_TIMEOUT(!chat.loading(), 30000);
    QVERIFY2(chat.modelLoaded(), qPrintable(chat.statusText()));
    QCOMPARE(chat.loadedMode(), QString("sparse"));
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    chat.send("Once upon a time");
    QVERIFY(finished.wait(30000));
    QVERIFY2(lastResult(finished).end != GenerationResult::End::Error, qPrintable(lastResult(finished).error));
    LiveStatus* live = chat.live();
    QVERIFY(live->hasData());
    QVERIFY(live->flashBytesPerToken() >= 0);
    QVERIFY(live->dramHitRate() >= 0 && live->dramHitRate() <= 1);
    // The engine's memory is sparse mode's own plan (no budget: everything it wants).
    MemoryPlanner planner;
    planner.setModelPath(pack);
    QCOMPARE(live->engineBytes(), planner.plan(0, 0, 0, "sparse", 2, "gate").value("totalBytes").toDouble());

    // The lowrank predictor needs predictor tensors a SwiGLU model's pack has not: the planner
    // says so (the settings page shows it and keeps Apply off) and a load reports it.
    const QVariantMap lowrank = planner.plan(0, 0, 0, "sparse", 2, "lowrank");
    qInfo("lowrank plan: %s", qPrintable(lowrank.value("ok").toBool() ? "ok" : lowrank.value("error").toString()));
    if (!lowrank.value("ok").toBool()) {
      QVERIFY(!lowrank.value("error").toString().isEmpty());
      chat.setSparsePredictor("lowrank");
      QTRY_VERIFY_WITH_TIMEOUT(!chat.loading() && !chat.modelLoaded(), 30000);
      QVERIFY2(chat.statusText().contains("predictor"), qPrintable(chat.statusText()));
    }
  }

  // Presets (issue 19): the open conversation's preset is what its next reply
  // runs with — its reply length and system prompt reach the worker (seen in
  // the result: the tokens written and the prompt's length) —; choosing
  // another applies from the next reply; a new chat starts with the preset last
  // used with the model; another model's preset is refused; a deleted preset's
  // conversation goes back to the Default.
  void aConversationsPresetIsWhatItsNextReplyRunsWith() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    PresetStore presets(store);
    setTemperature(store, 0.0);
    setMaxTokens(store, 6);
    Preset brief = presets.defaultPreset().value();
    brief.builtIn = false;
    brief.name = "Brief";
    brief.maxTokens = 3;
    brief.systemPrompt = "Once upon a time there was a little dog who liked to run in the park with his friends.";
    const qint64 briefId = presets.create(brief).value();
    const qint64 defaultId = presets.defaultPreset().value().id;
    ChatController chat(store);
    QCOMPARE(chat.currentPreset(), defaultId);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    QSignalSpy presetChanged(&chat, &ChatController::presetChanged);

    chat.send("Tom had a red ball");
    QVERIFY(finished.wait(30000));
    const GenerationResult plain = lastResult(finished);
    QCOMPARE(plain.end, GenerationResult::End::TokenLimit);
    QCOMPARE(plain.tokens, 6);  // the Default's reply length
    const qint64 conversation = chat.currentConversation();

    chat.choosePreset(briefId);
    QCOMPARE(chat.currentPreset(), briefId);
    QCOMPARE(presetChanged.size(), 1);
    QCOMPARE(presets.conversationPreset(conversation).value(), briefId);
    chat.regenerate();  // the same question again, now with Brief
    QVERIFY(finished.wait(30000));
    const GenerationResult withBrief = lastResult(finished);
    QCOMPARE(withBrief.tokens, 3);
    // The system prompt came first: the prompt the engine ran is longer by it.
    QVERIFY2(withBrief.reusedTokens + withBrief.prefilledTokens > plain.reusedTokens + plain.prefilledTokens + 10,
             qPrintable(QString("%1 + %2 vs %3 + %4").arg(withBrief.reusedTokens).arg(withBrief.prefilledTokens)
                            .arg(plain.reusedTokens).arg(plain.prefilledTokens)));
    // Edited in the meantime: the next reply has the new length.
    brief = presets.preset(briefId).value();
    brief.maxTokens = 2;
    QVERIFY(presets.update(brief).ok());
    chat.send("And then?");
    QVERIFY(finished.wait(30000));
    QCOMPARE(lastResult(finished).tokens, 2);

    // A new chat starts with the preset last used with this model.
    chat.newConversation();
    QVERIFY(chat.currentConversation() != conversation);
    QCOMPARE(chat.currentPreset(), briefId);
    QCOMPARE(presets.conversationPreset(chat.currentConversation()).value(), briefId);

    // Another model's preset is not offered, nor taken.
    Preset elsewhere = brief;
    elsewhere.name = "Elsewhere";
    elsewhere.model = "/models/another.gguf";
    elsewhere.modelName = "another";
    const qint64 elsewhereId = presets.create(elsewhere).value();
    QSignalSpy errors(&chat, &ChatController::errorOccurred);
    chat.choosePreset(elsewhereId);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(chat.currentPreset(), briefId);
    Preset mine = elsewhere;
    mine.name = "Mine";
    mine.model = chat.modelPath();
    const qint64 mineId = presets.create(mine).value();
    chat.choosePreset(mineId);
    QCOMPARE(chat.currentPreset(), mineId);

    // Deleted (from the editor): the conversation shows, and replies with, the Default.
    chat.openConversation(conversation);
    QCOMPARE(chat.currentPreset(), briefId);
    QCOMPARE(presets.remove(briefId).value(), 1);
    chat.presetsEdited();
    QCOMPARE(chat.currentPreset(), defaultId);
    chat.send("What next?");
    QVERIFY(finished.wait(30000));
    QCOMPARE(lastResult(finished).tokens, 6);
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
