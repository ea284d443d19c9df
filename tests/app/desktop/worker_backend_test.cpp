// The local server's backend in the app (desktop/worker_backend.h) with
// stories260K on the real inference worker thread: a chat completion streams
// its pieces to the calling (connection) thread and equals `sieve serve`'s
// (EngineBackend on the same model: the same chat template and sampling), a
// client that leaves cancels within one token, a stop string ends it, no
// model is a 503; a text completion (/v1/completions) streams the same text
// as `sieve serve`'s, cancels within one token, refuses a prompt too long for
// the context, and leaves the chat replying as before; and the app's own chat
// interleaves with server requests on the one worker without either seeing
// the other's tokens or result.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <future>
#include <thread>

#include "default_preset.h"
#include "desktop/chat_controller.h"
#include "desktop/history_store.h"
#include "desktop/inference_worker.h"
#include "desktop/worker_backend.h"
#include "engine.h"
#include "server/api_error.h"
#include "server/engine_backend.h"

using namespace sieve::app;
using sieve::server::CompletionRequest;
using sieve::server::CompletionResult;

namespace {

const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");

CompletionRequest storyRequest(int64_t maxTokens) {
  CompletionRequest r;
  r.messages = {{"user", "Tell me a story about a cat"}};
  r.sampling.temperature = 0;  // greedy
  r.sampling.max_tokens = maxTokens;
  return r;
}

// A /v1/completions request: the prompt continued as it is.
CompletionRequest textRequest(int64_t maxTokens) {
  CompletionRequest r;
  r.kind = CompletionRequest::Kind::text;
  r.prompt = "Once upon a time";
  r.sampling.temperature = 0;  // greedy
  r.sampling.max_tokens = maxTokens;
  return r;
}

bool loadModel(InferenceWorker* worker) {
  bool ok = false;
  bool done = false;
  QObject receiver;
  QObject::connect(worker, &InferenceWorker::loadFinished, &receiver, [&](const LoadResult& r) {
    ok = r.ok;
    done = true;
  });
  EngineSettings settings;
  settings.modelPath = kModel;
  settings.threads = 1;
  QMetaObject::invokeMethod(worker, [worker, settings] { worker->load(settings); }, Qt::QueuedConnection);
  return QTest::qWaitFor([&] { return done; }, 30000) && ok;
}

struct Streamed {
  CompletionResult result;
  QStringList pieces;
  bool onCallingThread = true;
};

// Runs complete() on a thread of its own, as the server's connection threads
// do, while this thread keeps its event loop going. `keep` says whether the
// client is still there after each piece.
Streamed completeOnAThread(WorkerBackend& backend, const CompletionRequest& request,
                           std::function<bool(int pieces)> keep = {}) {
  auto future = std::async(std::launch::async, [&] {
    Streamed s;
    const std::thread::id me = std::this_thread::get_id();
    s.result = backend.complete(request, [&](std::string_view piece) {
      s.onCallingThread &= std::this_thread::get_id() == me;
      s.pieces << QString::fromUtf8(piece.data(), qsizetype(piece.size()));
      return keep ? keep(int(s.pieces.size())) : true;
    });
    return s;
  });
  while (future.wait_for(std::chrono::milliseconds(5)) != std::future_status::ready) QTest::qWait(5);
  return future.get();
}

// The client's third write fails: the reply stops there, and the worker is
// free again — the next request runs in full.
void clientLeavesAtTheThirdPiece(CompletionRequest (*request)(int64_t)) {
  InferenceThread thread;
  QVERIFY(loadModel(thread.worker()));
  WorkerBackend backend(*thread.worker());
  backend.setModel("stories260K", 512);
  const Streamed s = completeOnAThread(backend, request(200), [](int pieces) { return pieces < 3; });
  QVERIFY(s.result.cancelled);
  QCOMPARE(s.pieces.size(), 3);  // nothing after the write that failed
  // The third piece's write failed: no token after it (the worker waits for each write).
  QVERIFY2(s.result.completion_tokens <= 4, qPrintable(QString::number(s.result.completion_tokens)));
  const Streamed next = completeOnAThread(backend, request(10));
  QVERIFY(!next.result.cancelled);
  QCOMPARE(next.result.completion_tokens, 10);
}

// What `sieve serve` answers to the same request (its backend, on the calling thread).
CompletionResult servedByTheCli(const CompletionRequest& request) {
  sieve::EngineOptions options;
  options.model_path = kModel.toStdString();
  options.threads = 1;
  auto engine = sieve::Engine::load(options);
  sieve::server::EngineBackend backend(*engine, engine->model().chat_template, "stories260K");
  return backend.complete(request, [](std::string_view) { return true; });
}

}  // namespace

class WorkerBackendTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
  }

  void noModelIsA503() {
    InferenceThread thread;
    WorkerBackend backend(*thread.worker());
    QVERIFY(backend.unavailable());
    QVERIFY(QString::fromStdString(*backend.unavailable()).contains("no model loaded in Sieve"));
    try {
      backend.complete(storyRequest(8), [](std::string_view) { return true; });
      QFAIL("no exception");
    } catch (const sieve::server::ApiError& e) {
      QCOMPARE(e.status(), 503);
      QCOMPARE(QString::fromStdString(e.code().value_or("")), QString("model_not_loaded"));
    }
  }

  void streamsAChatCompletionLikeSieveServe() {
    InferenceThread thread;
    QVERIFY(loadModel(thread.worker()));
    WorkerBackend backend(*thread.worker());
    backend.setModel("stories260K", 512);
    QVERIFY(!backend.unavailable());
    QCOMPARE(QString::fromStdString(backend.model_id()), QString("stories260K"));
    const Streamed s = completeOnAThread(backend, storyRequest(24));
    QVERIFY(!s.result.cancelled);
    QVERIFY2(s.pieces.size() > 5, qPrintable(s.pieces.join('|')));
    QVERIFY(s.onCallingThread);  // the client is written from its own thread, never the worker's
    QCOMPARE(s.pieces.join(QString()), QString::fromStdString(s.result.text));
    QCOMPARE(s.result.completion_tokens, 24);
    QVERIFY(s.result.finish == sieve::server::FinishReason::length);
    QVERIFY(s.result.prompt_tokens > 5);
    // The same text, token counts and end as `sieve serve` on the same model.
    const CompletionResult cli = servedByTheCli(storyRequest(24));
    QCOMPARE(QString::fromStdString(s.result.text), QString::fromStdString(cli.text));
    QCOMPARE(s.result.prompt_tokens, cli.prompt_tokens);
    QCOMPARE(s.result.completion_tokens, cli.completion_tokens);
  }

  void aClientThatLeavesCancelsWithinOneToken() { clientLeavesAtTheThirdPiece(storyRequest); }

  void aStopStringEndsTheReply() {
    InferenceThread thread;
    QVERIFY(loadModel(thread.worker()));
    WorkerBackend backend(*thread.worker());
    backend.setModel("stories260K", 512);
    const std::string whole = completeOnAThread(backend, storyRequest(40)).result.text;
    QVERIFY(whole.size() > 20);
    CompletionRequest stopped = storyRequest(40);
    stopped.sampling.stop = {whole.substr(10, 6)};
    const Streamed s = completeOnAThread(backend, stopped);
    QVERIFY(!s.result.cancelled);
    QVERIFY(s.result.finish == sieve::server::FinishReason::stop);
    QCOMPARE(QString::fromStdString(s.result.text), QString::fromStdString(whole.substr(0, whole.find(whole.substr(10, 6)))));
    QVERIFY(s.result.completion_tokens < 40);
  }

  // /v1/completions: the prompt continued as it is, through the worker, with
  // the same text, token counts and end as `sieve serve`.
  void streamsATextCompletionLikeSieveServe() {
    InferenceThread thread;
    QVERIFY(loadModel(thread.worker()));
    WorkerBackend backend(*thread.worker());
    backend.setModel("stories260K", 512);
    const Streamed s = completeOnAThread(backend, textRequest(24));
    QVERIFY(!s.result.cancelled);
    QVERIFY2(s.pieces.size() > 5, qPrintable(s.pieces.join('|')));
    QVERIFY(s.onCallingThread);
    QCOMPARE(s.pieces.join(QString()), QString::fromStdString(s.result.text));
    QCOMPARE(s.result.completion_tokens, 24);
    QVERIFY(s.result.finish == sieve::server::FinishReason::length);
    const CompletionResult cli = servedByTheCli(textRequest(24));
    QCOMPARE(QString::fromStdString(s.result.text), QString::fromStdString(cli.text));
    QCOMPARE(s.result.prompt_tokens, cli.prompt_tokens);
    QCOMPARE(s.result.completion_tokens, cli.completion_tokens);
    QVERIFY(s.result.prompt_tokens >= 4);  // "Once upon a time" and the BOS
    // A stop string ends it there, as a normal end.
    CompletionRequest stopped = textRequest(24);
    stopped.sampling.stop = {s.result.text.substr(8, 5)};
    const Streamed cut = completeOnAThread(backend, stopped);
    QVERIFY(cut.result.finish == sieve::server::FinishReason::stop);
    QVERIFY(!cut.result.cancelled);
    QCOMPARE(QString::fromStdString(cut.result.text),
             QString::fromStdString(s.result.text.substr(0, s.result.text.find(s.result.text.substr(8, 5)))));
  }

  // A text completion whose client leaves stops before the next token, and
  // the worker takes the next request at once.
  void aTextClientThatLeavesCancelsWithinOneToken() { clientLeavesAtTheThirdPiece(textRequest); }

  // A prompt that leaves no room in the context: a 400 saying how long it is; nothing ran.
  void aPromptTooLongForTheContextIsRefused() {
    InferenceThread thread;
    QVERIFY(loadModel(thread.worker()));
    WorkerBackend backend(*thread.worker());
    backend.setModel("stories260K", 512);
    CompletionRequest tooLong = textRequest(4);
    for (int i = 0; i < 3000; ++i) tooLong.prompt += " and then";  // past the largest context the app gives (4096)
    try {
      completeOnAThread(backend, tooLong);
      QFAIL("no exception");
    } catch (const sieve::server::RejectedRequest& e) {
      QCOMPARE(QString::fromStdString(e.code()), QString("context_length_exceeded"));
      QVERIFY2(QString::fromStdString(e.what()).contains("tokens, which leaves no room in the model's context of"),
               e.what());
    }
    QCOMPARE(completeOnAThread(backend, textRequest(6)).result.completion_tokens, 6);  // and the worker goes on
  }

  // A text completion runs the engine behind the chat session's back: the
  // chat's next reply must not trust the KV cache it had (the same greedy
  // reply to the same question before and after).
  void theChatRepliesTheSameAfterATextCompletion() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setTemperature(store, 0.0);
    setMaxTokens(store, 30);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    chat.send("Once upon a time");
    QVERIFY(finished.wait(30000));
    const QString before = store.messages(chat.currentConversation()).value().last().content;
    QVERIFY(!before.isEmpty());
    WorkerBackend backend(*chat.worker());
    backend.setModel("stories260K", chat.contextSize());
    QCOMPARE(completeOnAThread(backend, textRequest(40)).result.completion_tokens, 40);
    chat.regenerate();
    QVERIFY(finished.wait(30000));
    const GenerationResult again = finished.last().first().value<GenerationResult>();
    QCOMPARE(again.reusedTokens, qint64(0));  // the whole prompt ran again
    QCOMPARE(store.messages(chat.currentConversation()).value().last().content, before);
  }

  void aBadLastRoleIsRefused() {
    InferenceThread thread;
    WorkerBackend backend(*thread.worker());
    backend.setModel("stories260K", 512);
    CompletionRequest assistantLast = storyRequest(4);
    assistantLast.messages.push_back({"assistant", "Once"});
    QVERIFY_THROWS_EXCEPTION(sieve::server::RejectedRequest,
                             backend.complete(assistantLast, [](std::string_view) { return true; }));
  }

  void stopEndsARequestStillWaitingForTheWorker() {
    InferenceThread thread;
    WorkerBackend backend(*thread.worker());
    backend.setModel("stories260K", 512);  // said loaded, but the worker has none: it would answer an error
    // Hold the worker's thread, so the request waits in its queue.
    std::promise<void> release;
    QMetaObject::invokeMethod(thread.worker(), [f = release.get_future().share()] { f.wait(); }, Qt::QueuedConnection);
    auto future = std::async(std::launch::async, [&] {
      return backend.complete(storyRequest(8), [](std::string_view) { return true; });
    });
    QVERIFY(future.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout);
    backend.stop();
    QVERIFY(future.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    QVERIFY(future.get().cancelled);
    release.set_value();
  }

  // The app's chat and the server share the worker: each gets its own tokens
  // and result (ChatController waits for its own request's end).
  void theChatAndTheServerInterleave() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setTemperature(store, 0.0);
    setMaxTokens(store, 30);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    WorkerBackend backend(*chat.worker());
    backend.setModel("stories260K", chat.contextSize());
    const std::string alone = completeOnAThread(backend, storyRequest(60)).result.text;

    QSignalSpy finished(&chat, &ChatController::replyFinished);
    // The server's request first in the worker's queue, the chat's behind it:
    // the server's ends first, and the chat must not take that end for its own.
    std::promise<void> release;
    QMetaObject::invokeMethod(chat.worker(), [f = release.get_future().share()] { f.wait(); }, Qt::QueuedConnection);
    auto server = std::async(std::launch::async, [&] {
      return backend.complete(storyRequest(60), [](std::string_view) { return true; });
    });
    QTest::qWait(100);  // the server's request is queued
    chat.send("Once upon a time");
    release.set_value();
    QVERIFY(finished.wait(30000));
    while (server.wait_for(std::chrono::milliseconds(5)) != std::future_status::ready) QTest::qWait(5);
    const CompletionResult served = server.get();
    QCOMPARE(QString::fromStdString(served.text), QString::fromStdString(alone));  // none of the chat's tokens
    const GenerationResult reply = finished.last().first().value<GenerationResult>();
    QCOMPARE(reply.tokens, 30);  // the chat's own result, not the server's 60
    const auto stored = store.messages(chat.currentConversation()).value();
    QCOMPARE(stored.size(), 2);
    QVERIFY(stored[1].complete);
    QVERIFY(!stored[1].content.isEmpty());
  }

  // The server giving up its request (stopping) while the chat's runs stops
  // only its own: the chat's reply goes on to its end.
  void theServerStoppingLeavesTheChatsReply() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    setTemperature(store, 0.0);
    setMaxTokens(store, 400);
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    WorkerBackend backend(*chat.worker());
    backend.setModel("stories260K", chat.contextSize());
    QSignalSpy finished(&chat, &ChatController::replyFinished);
    std::promise<void> release;
    QMetaObject::invokeMethod(chat.worker(), [f = release.get_future().share()] { f.wait(); }, Qt::QueuedConnection);
    chat.send("Once upon a time");  // the chat's request first (a smaller id) ...
    auto server = std::async(std::launch::async, [&] {
      return backend.complete(storyRequest(60), [](std::string_view) { return true; });
    });
    QTest::qWait(100);  // ... the server's behind it
    backend.stop();
    QVERIFY(server.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    QVERIFY(server.get().cancelled);
    release.set_value();
    QVERIFY(finished.wait(30000));
    const GenerationResult reply = finished.last().first().value<GenerationResult>();
    QVERIFY2(reply.end != GenerationResult::End::Cancelled, "the server's cancel stopped the chat's reply");
    QVERIFY(reply.tokens > 0);
  }
};

QTEST_GUILESS_MAIN(WorkerBackendTest)
#include "worker_backend_test.moc"
