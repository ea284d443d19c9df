#include "desktop/chat_controller.h"

#include <QFile>
#include <QFileInfo>

#include <qcoro/qcorosignal.h>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace sieve::app {
namespace {

QString titleFrom(const QString& text) {
  const QString line = text.simplified();
  return line.size() <= 40 ? line : line.left(39) + QChar(0x2026);
}

QString describeEnd(const GenerationResult& r) {
  using End = GenerationResult::End;
  switch (r.end) {
    case End::EndOfText: return QStringLiteral("Done");
    case End::Cancelled: return QStringLiteral("Stopped");
    case End::TokenLimit: return QStringLiteral("Reached the reply length limit");
    case End::ContextFull: return QStringLiteral("The context is full");
    case End::Error: return QStringLiteral("Error: ") + r.error;
  }
  return {};
}

}  // namespace

ChatController::ChatController(HistoryStore& store, QObject* parent)
    : QObject(parent),
      store_(store),
      conversations_(store),
      inference_(std::make_unique<InferenceThread>()),
      worker_(inference_->worker()) {
  connect(&conversations_, &ConversationListModel::errorOccurred, this, &ChatController::errorOccurred);
  // Queued to this (UI) thread, in emission order: every token of a reply before its end.
  connect(worker_, &InferenceWorker::tokenGenerated, this, &ChatController::onToken);
  connect(worker_, &InferenceWorker::loadFinished, this, &ChatController::workerLoadFinished);
  connect(worker_, &InferenceWorker::generationFinished, this, &ChatController::workerGenerationFinished);
  conversations_.reload();
  setStatus(QStringLiteral("No model loaded"));
}

ChatController::~ChatController() {
  // Save what a streaming reply has so far; the worker thread is then stopped and joined.
  if (streamingRequest_ != 0 && streamingMessage_ >= 0) store_.updateMessage(streamingMessage_, streamedText_);
  inference_.reset();
}

double ChatController::machineMemoryGiB() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long pageSize = sysconf(_SC_PAGESIZE);
  if (pages > 0 && pageSize > 0) return double(pages) * double(pageSize) / (1024.0 * 1024.0 * 1024.0);
#endif
  return 8.0;  // unknown: a common size
}

void ChatController::setStatus(const QString& text) {
  status_ = text;
  emit statusChanged();
}

void ChatController::setBusy(bool loading, bool generating) {
  if (loading == loading_ && generating == generating_) return;
  loading_ = loading;
  generating_ = generating;
  emit busyChanged();
}

bool ChatController::report(const QString& error) {
  setStatus(error);
  emit errorOccurred(error);
  return false;
}

void ChatController::setThreads(int threads) {
  if (threads == wanted_.threads) return;
  wanted_.threads = std::max(0, threads);
  emit engineSettingsChanged();
  restartEngineIfNeeded();
}

void ChatController::setContextLength(int context) {
  if (context == wanted_.context) return;
  wanted_.context = std::max(0, context);
  emit engineSettingsChanged();
  restartEngineIfNeeded();
}

void ChatController::restartEngineIfNeeded() {
  if ((modelLoaded() || loading_) && !wanted_.modelPath.isEmpty() && !(wanted_ == loaded_)) loadEngine(wanted_);
}

void ChatController::loadModel(const QString& pathOrUrl) {
  const QUrl url(pathOrUrl);
  EngineSettings settings = wanted_;
  settings.modelPath = url.isLocalFile() ? url.toLocalFile() : pathOrUrl;
  loadEngine(settings);
}

QCoro::Task<bool> ChatController::loadEngine(EngineSettings settings) {
  wanted_ = settings;
  if (loading_) co_return false;  // the load in progress picks up wanted_ when it ends
  setBusy(true, generating_);
  LoadResult result;
  do {
    const EngineSettings target = wanted_;
    setStatus(QStringLiteral("Loading %1…").arg(QFileInfo(target.modelPath).fileName()));
    // A reply in progress stops within a token; the load is queued behind it.
    if (streamingRequest_ != 0) worker_->cancel(streamingRequest_);
    auto finished = qCoro(this, &ChatController::workerLoadFinished);  // listening before asking
    QMetaObject::invokeMethod(worker_, [worker = worker_, target] { worker->load(target); }, Qt::QueuedConnection);
    result = co_await finished;
  } while (!(result.settings == wanted_));
  loaded_ = result.ok ? result.settings : EngineSettings{};
  modelName_ = result.ok ? result.modelName : QString();
  contextSize_ = result.ok ? result.context : 0;
  emit modelChanged();
  emit engineSettingsChanged();
  setBusy(false, generating_);
  if (!result.ok) co_return report(QStringLiteral("Could not load the model: ") + result.error);
  setStatus(QStringLiteral("%1 ready, context %2 tokens").arg(modelName_).arg(contextSize_));
  co_return true;
}

void ChatController::newConversation() {
  const qint64 id = conversations_.create(QStringLiteral("New chat"), modelName_);
  if (id >= 0) openConversation(id);
}

void ChatController::openConversation(qint64 id) {
  auto list = store_.messages(id);
  if (!list) {
    report(list.error());
    return;
  }
  current_ = id;
  messages_.setMessages(std::move(list).value());
  emit currentConversationChanged();
}

void ChatController::deleteConversation(qint64 id) {
  if (!conversations_.remove(conversations_.rowOf(id))) return;
  if (id == streamingConversation_) {
    stop();
    streamingMessage_ = -1;  // its row is gone: nothing left to save
  }
  if (id == current_) {
    current_ = -1;
    messages_.setMessages({});
    emit currentConversationChanged();
  }
}

void ChatController::renameConversation(qint64 id, const QString& title) {
  conversations_.rename(conversations_.rowOf(id), title);
}

void ChatController::send(const QString& text) {
  if (text.trimmed().isEmpty()) return;
  if (current_ < 0) newConversation();
  if (current_ < 0) return;
  generateReply(current_, text.trimmed());
}

void ChatController::stop() {
  if (streamingRequest_ != 0) worker_->cancel(streamingRequest_);
}

GenerationRequest ChatController::makeRequest(const QList<Message>& history) {
  GenerationRequest request;
  request.id = nextRequestId_++;
  if (!systemPrompt_.trimmed().isEmpty()) request.messages.append({"system", systemPrompt_});
  for (const Message& m : history) {
    if (m.complete && !m.content.isEmpty()) request.messages.append({m.role, m.content});
  }
  request.sampling.temperature = float(temperature_);
  request.sampling.top_p = float(topP_);
  request.sampling.top_k = topK_;
  request.sampling.min_p = float(minP_);
  request.sampling.seed = quint64(QDateTime::currentMSecsSinceEpoch());
  request.maxTokens = std::max(1, maxTokens_);
  return request;
}

QCoro::Task<GenerationResult> ChatController::generateReply(qint64 conversationId, QString userText) {
  GenerationResult refused;
  refused.end = GenerationResult::End::Error;
  if (!modelLoaded() && !loading_) refused.error = QStringLiteral("Add a model first.");
  if (generating_) refused.error = QStringLiteral("A reply is still being written; stop it first.");
  if (!refused.error.isEmpty()) {
    report(refused.error);
    co_return refused;
  }
  auto history = store_.messages(conversationId);
  const bool firstMessage = history && history.value().isEmpty();
  auto question = store_.appendMessage(conversationId, "user", userText);
  auto reply = question ? store_.appendMessage(conversationId, "assistant", "", false) : question;
  if (!reply) {
    refused.error = reply.error();
    report(refused.error);
    co_return refused;
  }
  if (firstMessage) conversations_.rename(conversations_.rowOf(conversationId), titleFrom(userText));
  conversations_.touch(conversationId);
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  if (conversationId == current_) {
    messages_.append({question.value(), conversationId, "user", userText, QDateTime::fromMSecsSinceEpoch(now), true});
    messages_.append({reply.value(), conversationId, "assistant", "", QDateTime::fromMSecsSinceEpoch(now), false});
  }
  QList<Message> turns = history ? history.value() : QList<Message>{};
  turns.append({question.value(), conversationId, "user", userText, {}, true});
  const GenerationRequest request = makeRequest(turns);

  streamingRequest_ = request.id;
  streamingMessage_ = reply.value();
  streamingConversation_ = conversationId;
  streamedText_.clear();
  piecesSinceCheckpoint_ = 0;
  setBusy(loading_, true);
  setStatus(QStringLiteral("Writing…"));

  auto finished = qCoro(this, &ChatController::workerGenerationFinished);
  QMetaObject::invokeMethod(worker_, [worker = worker_, request] { worker->generate(request); },
                            Qt::QueuedConnection);
  GenerationResult result = co_await finished;  // one reply at a time: it is ours

  if (streamingMessage_ >= 0) {
    const auto saved = store_.completeMessage(streamingMessage_, streamedText_);
    if (!saved) report(saved.error());
  }
  if (streamingConversation_ == current_) messages_.completeLast();
  streamingRequest_ = 0;
  streamingConversation_ = -1;
  tokensPerSecond_ = result.tokensPerSecond;
  setBusy(loading_, false);
  QString status = describeEnd(result);
  if (result.tokens > 0) status += QStringLiteral(" · %1 tokens, %2 tokens/s").arg(result.tokens).arg(result.tokensPerSecond, 0, 'f', 1);
  if (result.droppedMessages > 0) status += QStringLiteral(" · the %1 oldest messages did not fit").arg(result.droppedMessages);
  setStatus(status);
  if (result.end == GenerationResult::End::Error) emit errorOccurred(result.error);
  emit replyFinished(result);
  co_return result;
}

void ChatController::onToken(quint64 requestId, const QString& text) {
  if (requestId != streamingRequest_) return;  // a cancelled reply's last pieces
  streamedText_ += text;
  if (streamingConversation_ == current_) messages_.appendToLast(text);
  if (++piecesSinceCheckpoint_ >= kCheckpointTokens && streamingMessage_ >= 0) {
    piecesSinceCheckpoint_ = 0;
    const auto saved = store_.updateMessage(streamingMessage_, streamedText_);
    if (!saved) report(saved.error());
  }
}

QVariantList ChatController::search(const QString& query) {
  QVariantList out;
  if (query.trimmed().isEmpty()) return out;
  auto hits = store_.search(query);
  if (!hits) {
    // Half-typed FTS syntax ("foo AND") is common while typing: try it as a phrase.
    QString phrase = query;
    hits = store_.search('"' + phrase.replace('"', "\"\"") + '"');
    if (!hits) return out;
  }
  for (const SearchHit& h : hits.value()) {
    out.append(QVariantMap{{"conversationId", h.conversation_id},
                           {"title", h.conversation_title},
                           {"snippet", h.snippet}});
  }
  return out;
}

bool ChatController::exportConversation(qint64 id, const QString& format, const QUrl& file) {
  auto text = format == "json" ? store_.exportJson(id) : store_.exportMarkdown(id);
  if (!text) return report(text.error());
  const QString path = file.isLocalFile() ? file.toLocalFile() : file.toString();
  QFile out(path);
  if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) || out.write(text.value().toUtf8()) < 0) {
    return report(QStringLiteral("Could not write %1: %2").arg(path, out.errorString()));
  }
  return true;
}

}  // namespace sieve::app
