// The inference worker on its own thread, with stories260K: tokens stream to
// this (UI) thread, cancel stops within one token, and the engine restarts
// with new settings in the middle of a reply.
#include <QSemaphore>
#include <QTemporaryDir>
#include <QTest>
#include <atomic>

#include "desktop/inference_worker.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

using namespace sieve::app;

namespace {

const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");

GenerationRequest storyRequest(quint64 id, int maxTokens) {
  GenerationRequest r;
  r.id = id;
  r.messages = {{"user", "Once upon a time, there was a little girl"}};
  r.sampling = sieve::sampling::SamplerOptions::greedy();
  r.maxTokens = maxTokens;
  return r;
}

// Queues a slot call on the worker's thread, as the UI does.
template <typename F>
void onWorker(InferenceWorker* worker, F&& f) {
  QMetaObject::invokeMethod(worker, std::forward<F>(f), Qt::QueuedConnection);
}

// Collects a worker signal's values on the test's thread, queued as the UI
// gets them (a QSignalSpy would record on the worker's thread, racing wait()).
template <typename T>
class Received : public QObject {
 public:
  template <typename Signal>
  Received(InferenceWorker* worker, Signal signal) {
    connect(worker, signal, this, [this](const T& value) { values.append(value); });
  }
  bool waitFor(qsizetype n) {
    return QTest::qWaitFor([&] { return values.size() >= n; }, 30000);
  }
  QList<T> values;
};

LoadResult loadAndWait(InferenceWorker* worker, EngineSettings settings) {
  Received<LoadResult> loaded(worker, &InferenceWorker::loadFinished);
  onWorker(worker, [=] { worker->load(settings); });
  if (!loaded.waitFor(1)) return {};
  return loaded.values.first();
}

// A copy of stories260K whose chat template opens "<think>" for the reply,
// as reasoning models' templates do.
QString storiesThatReason(const QTemporaryDir& dir) {
  using namespace sieve::gguf;
  const GgufFile source = GgufFile::open(kModel.toStdString());
  const std::string path = dir.filePath(QStringLiteral("reasoning.gguf")).toStdString();
  GgufWriter out(path);
  for (const KeyValue& kv : source.metadata()) out.set(kv.key, kv.value);
  out.set("tokenizer.chat_template",
          Value::string("{%- for m in messages -%}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                        "{%- endfor -%}{%- if add_generation_prompt -%}<|im_start|>assistant\n<think>\n{%- endif -%}"));
  for (const TensorInfo& t : source.tensors()) out.add_tensor(t.name, t.type, t.dims);
  out.begin_data();
  for (size_t i = 0; i < source.tensors().size(); ++i) out.write_tensor_data(i, source.tensor_data(source.tensors()[i]));
  out.finish();
  return QString::fromStdString(path);
}

}  // namespace

class InferenceWorkerTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
  }

  void reportsABadModelPathAsALoadError() {
    InferenceThread thread;
    const LoadResult r = loadAndWait(thread.worker(), {"/no/such/model.gguf", 1, 0});
    QVERIFY(!r.ok);
    QVERIFY2(r.error.contains("model.gguf"), qPrintable(r.error));
  }

  void streamsTokensToTheUiThread() {
    InferenceThread thread;
    InferenceWorker* worker = thread.worker();
    QVERIFY(worker->thread() != QThread::currentThread());
    const LoadResult loaded = loadAndWait(worker, {kModel, 1, 0});
    QVERIFY2(loaded.ok, qPrintable(loaded.error));
    QString text;
    int pieces = 0;
    bool allOnUiThread = true;
    connect(worker, &InferenceWorker::tokenGenerated, this, [&](quint64 id, const QString& piece) {
      allOnUiThread &= QThread::currentThread() == thread_ && id == 1;
      text += piece;
      ++pieces;
    });
    Received<GenerationResult> finished(worker, &InferenceWorker::generationFinished);
    onWorker(worker, [=] { worker->generate(storyRequest(1, 40)); });
    QVERIFY(finished.waitFor(1));
    const auto result = finished.values.first();
    QVERIFY2(result.end != GenerationResult::End::Error, qPrintable(result.error));
    QVERIFY(result.tokens > 0);
    QVERIFY(pieces > 0);
    QVERIFY(allOnUiThread);
    QVERIFY(!text.trimmed().isEmpty());
    qInfo("reply (%d tokens, %.0f tok/s): %s", result.tokens, result.tokensPerSecond, qPrintable(text));
  }

  // A reply that opens as reasoning streams it apart from the answer:
  // reasoningGenerated, never tokenGenerated (stories260K never closes it).
  void reasoningStreamsApartFromTheAnswer() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    InferenceThread thread;
    InferenceWorker* worker = thread.worker();
    const LoadResult loaded = loadAndWait(worker, {storiesThatReason(dir), 1, 0});
    QVERIFY2(loaded.ok, qPrintable(loaded.error));
    QString reasoning, answer;
    connect(worker, &InferenceWorker::reasoningGenerated, this, [&](quint64, const QString& p) { reasoning += p; });
    connect(worker, &InferenceWorker::tokenGenerated, this, [&](quint64, const QString& p) { answer += p; });
    Received<GenerationResult> finished(worker, &InferenceWorker::generationFinished);
    onWorker(worker, [=] { worker->generate(storyRequest(7, 12)); });
    QVERIFY(finished.waitFor(1));
    const auto result = finished.values.first();
    QVERIFY2(result.end != GenerationResult::End::Error, qPrintable(result.error));
    QVERIFY(!reasoning.isEmpty());
    QCOMPARE(answer, QString());
  }

  void stopsWithinOneTokenOfCancel() {
    InferenceThread thread;
    InferenceWorker* worker = thread.worker();
    QVERIFY(loadAndWait(worker, {kModel, 1, 0}).ok);
    // Counted on the worker's thread, so nothing in flight hides late tokens.
    std::atomic<int> emitted{0};
    constexpr int kCancelAt = 3;
    connect(worker, &InferenceWorker::tokenGenerated, worker, [&](quint64, const QString&) {
      if (++emitted == kCancelAt) worker->cancel(2);
    }, Qt::DirectConnection);
    Received<GenerationResult> finished(worker, &InferenceWorker::generationFinished);
    onWorker(worker, [=] { worker->generate(storyRequest(2, 400)); });
    QVERIFY(finished.waitFor(1));
    const auto result = finished.values.first();
    QCOMPARE(result.end, GenerationResult::End::Cancelled);
    QVERIFY2(emitted.load() <= kCancelAt + 1, qPrintable(QString::number(emitted.load())));
  }

  void aCancelledQueuedRequestNeverRuns() {
    InferenceThread thread;
    InferenceWorker* worker = thread.worker();
    QVERIFY(loadAndWait(worker, {kModel, 1, 0}).ok);
    worker->cancel(5);
    Received<GenerationResult> finished(worker, &InferenceWorker::generationFinished);
    onWorker(worker, [=] { worker->generate(storyRequest(5, 50)); });
    QVERIFY(finished.waitFor(1));
    const auto result = finished.values.first();
    QCOMPARE(result.end, GenerationResult::End::Cancelled);
    QCOMPARE(result.tokens, 0);
  }

  void restartsWithNewSettingsMidGeneration() {
    InferenceThread thread;
    InferenceWorker* worker = thread.worker();
    QVERIFY(loadAndWait(worker, {kModel, 2, 0}).ok);
    Received<GenerationResult> finished(worker, &InferenceWorker::generationFinished);
    Received<LoadResult> loaded(worker, &InferenceWorker::loadFinished);
    bool restarted = false;
    QSemaphore uiActed;
    // On the first streamed token (UI thread): cancel and reload with other settings, as the settings page does.
    connect(worker, &InferenceWorker::tokenGenerated, this, [&](quint64 id, const QString&) {
      if (id != 3 || restarted) return;
      restarted = true;
      worker->cancel(3);
      onWorker(worker, [=] { worker->load({kModel, 1, 128}); });
      uiActed.release();
    });
    // Connected after the UI's slot, so the token is queued to it first. The worker waits
    // after its first token until the UI thread has acted, so the change lands mid-reply.
    std::atomic<bool> waited{false};
    connect(worker, &InferenceWorker::tokenGenerated, worker, [&](quint64 id, const QString&) {
      static_cast<void>(id == 3 && !waited.exchange(true) && uiActed.tryAcquire(1, 10000));
    }, Qt::DirectConnection);
    onWorker(worker, [=] { worker->generate(storyRequest(3, 400)); });
    QVERIFY(loaded.waitFor(1));
    QVERIFY(restarted);
    QCOMPARE(finished.values.size(), 1);  // the reply ended before the engine was replaced
    QCOMPARE(finished.values.first().end, GenerationResult::End::Cancelled);
    const auto reloaded = loaded.values.first();
    QVERIFY2(reloaded.ok, qPrintable(reloaded.error));
    QCOMPARE(reloaded.context, qint64(128));
    // The new engine answers.
    onWorker(worker, [=] { worker->generate(storyRequest(4, 20)); });
    QVERIFY(finished.waitFor(2));
    const auto second = finished.values.at(1);
    QVERIFY2(second.end != GenerationResult::End::Error, qPrintable(second.error));
    QVERIFY(second.tokens > 0);
  }

 private:
  QThread* thread_ = QThread::currentThread();
};

QTEST_GUILESS_MAIN(InferenceWorkerTest)
#include "inference_worker_test.moc"
