#include "desktop/chat_controller.h"

#include <QDir>
#include <QFileInfo>
#include <QTimer>
#include <algorithm>

#include <qcoro/qcorosignal.h>

#include "desktop/conversation_export.h"
#include "desktop/model_library.h"

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace sieve::app {
namespace {

// How a reply stopped, as the history keeps it ('' = it ended by itself or was stopped).
QString stopReasonOf(const GenerationResult& r) {
  using End = GenerationResult::End;
  if (r.end == End::TokenLimit) return QStringLiteral("length");
  if (r.end == End::ContextFull) return QStringLiteral("context");
  return {};
}

Message newMessage(qint64 id, qint64 conversationId, const QString& role, const QString& content, bool complete) {
  Message m;
  m.id = id;
  m.conversation_id = conversationId;
  m.role = role;
  m.content = content;
  m.created = QDateTime::currentDateTime();
  m.complete = complete;
  return m;
}

QString describeEnd(const GenerationResult& r) {
  using End = GenerationResult::End;
  switch (r.end) {
    case End::EndOfText: return QStringLiteral("Done");
    case End::Cancelled: return QStringLiteral("Stopped");
    case End::TokenLimit: return QStringLiteral("Reached the reply length limit");
    case End::ContextFull: return QStringLiteral("The context is full");
    case End::Overflow: return QStringLiteral("The conversation no longer fits the context");
    case End::Error: return QStringLiteral("Error: ") + r.error;
  }
  return {};
}

}  // namespace

GenerationRequest requestFor(quint64 id, const Preset& preset, const QList<Message>& history, quint64 seed) {
  GenerationRequest request;
  request.id = id;
  if (!preset.systemPrompt.trimmed().isEmpty()) request.messages.append({"system", preset.systemPrompt});
  for (const Message& m : history) {
    if (m.complete && !m.content.isEmpty()) request.messages.append({m.role, m.content});
  }
  request.sampling = samplerOptionsOf(preset, seed);
  request.maxTokens = std::max(1, preset.maxTokens);
  return request;
}

ChatController::ChatController(HistoryStore& store, QObject* parent)
    : QObject(parent),
      store_(store),
      conversations_(store),
      inference_(std::make_unique<InferenceThread>()),
      worker_(inference_->worker()),
      presets_(store) {
  connect(&conversations_, &ConversationListModel::errorOccurred, this, &ChatController::errorOccurred);
  // Queued to this (UI) thread, in emission order: every token of a reply before its end.
  connect(worker_, &InferenceWorker::tokenGenerated, this, &ChatController::onToken);
  connect(worker_, &InferenceWorker::reasoningGenerated, this, &ChatController::onReasoning);
  connect(worker_, &InferenceWorker::statsUpdated, this, &ChatController::onStats);
  connect(worker_, &InferenceWorker::loadFinished, this, &ChatController::workerLoadFinished);
  // Only the chat's own replies: the local server's requests end on the same
  // signal (worker_backend.h). Besides being someone else's, a second end
  // relayed while a reply is awaited would reach QCoro's queued signal
  // awaiter after it resumed (and was destroyed).
  connect(worker_, &InferenceWorker::generationFinished, this, [this](const GenerationResult& result) {
    if (result.id == streamingRequest_) emit workerGenerationFinished(result);
  });
  undoTimer_.setSingleShot(true);
  undoTimer_.setInterval(kUndoMilliseconds);
  connect(&undoTimer_, &QTimer::timeout, this, &ChatController::commitPendingDeletes);
  conversations_.reload();
  setStatus(QStringLiteral("No model loaded"));
  // The conversation open when the app last closed opens again.
  const auto last = store_.stateValue(kLastConversationKey);
  bool isId = false;
  const qint64 lastId = last ? last.value().toLongLong(&isId) : -1;
  if (isId && conversations_.rowOf(lastId) >= 0) openConversation(lastId);
  refreshPreset();
}

ChatController::~ChatController() {
  // Save what a streaming reply has so far; the worker thread is then stopped and joined.
  if (streamingRequest_ != 0 && streamingMessage_ >= 0) store_.updateMessage(streamingMessage_, streamedText_);
  inference_.reset();
  commitPendingDeletes();  // quitting ends the undo window
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

// True (and the user told why) when a reply cannot start now.
bool ChatController::refuseWhileBusy() {
  QString why;
  if (!modelLoaded() && !loading_) why = QStringLiteral("Add a model first.");
  if (generating_) why = QStringLiteral("A reply is still being written; stop it first.");
  if (why.isEmpty()) return false;
  report(why);
  return true;
}

// --- engine settings -------------------------------------------------------

void ChatController::setEngineSetting(EngineSettings changed) {
  if (changed == wanted_) return;
  wanted_ = std::move(changed);
  emit engineSettingsChanged();
  scheduleRestart();
}

void ChatController::setThreads(int threads) {
  EngineSettings s = wanted_;
  s.threads = std::max(0, threads);
  setEngineSetting(s);
}

void ChatController::setContextLength(int context) {
  EngineSettings s = wanted_;
  s.context = std::max(0, context);
  setEngineSetting(s);
}

void ChatController::setMode(const QString& mode) {
  EngineSettings s = wanted_;
  s.mode = mode.isEmpty() ? QStringLiteral("dense") : mode;
  setEngineSetting(s);
}

void ChatController::setDramBudget(double bytes) {
  EngineSettings s = wanted_;
  s.dramBudget = bytes > 0 ? quint64(bytes) : 0;
  setEngineSetting(s);
}

void ChatController::setSparseWindow(int window) {
  EngineSettings s = wanted_;
  s.sparseWindow = std::max(0, window);
  setEngineSetting(s);
}

void ChatController::setSparsePredictor(const QString& predictor) {
  EngineSettings s = wanted_;
  s.sparsePredictor = predictor;
  setEngineSetting(s);
}

// Deferred to the event loop, so several settings changed together (a model's
// overrides applied at once) restart the engine once.
void ChatController::scheduleRestart() {
  if (restartScheduled_) return;
  restartScheduled_ = true;
  QTimer::singleShot(0, this, [this] {
    restartScheduled_ = false;
    restartEngineIfNeeded();
  });
}

void ChatController::restartEngineIfNeeded() {
  if ((modelLoaded() || loading_) && !wanted_.modelPath.isEmpty() && !(wanted_ == loaded_)) loadEngine(wanted_);
}

void ChatController::loadModel(const QString& pathOrUrl) {
  const QUrl url(pathOrUrl);
  const QString path = url.isLocalFile() ? url.toLocalFile() : pathOrUrl;
  emit modelAboutToLoad(path);  // the settings switch to this model's (may change wanted_)
  EngineSettings settings = wanted_;
  settings.modelPath = path;
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
    if (streamingRequest_ != 0) worker_->cancelOne(streamingRequest_);
    auto finished = qCoro(this, &ChatController::workerLoadFinished);  // listening before asking
    QMetaObject::invokeMethod(worker_, [worker = worker_, target] { worker->load(target); }, Qt::QueuedConnection);
    result = co_await finished;
  } while (!(result.settings == wanted_));
  loaded_ = result.ok ? result.settings : EngineSettings{};
  if (result.ok) {
    const QString known = nameLookup_ ? nameLookup_(result.settings.modelPath) : QString();
    modelName_ = known.isEmpty() ? modelDisplayName(result.modelName, result.settings.modelPath) : known;
  } else {
    modelName_.clear();
  }
  contextSize_ = result.ok ? result.context : 0;
  memoryPlan_ = result.ok ? result.memoryPlan : QString();
  runMode_ = result.ok ? result.runMode : QString();
  modeOffer_ = result.ok ? result.modeOffer : QString();
  modeChoice_ = !result.ok ? QString()
                : !result.modeChoice.isEmpty() ? result.modeChoice
                                              : QStringLiteral("%1 mode (chosen in Settings)").arg(runMode_);
  live_.clear();
  emit modelChanged();
  emit engineSettingsChanged();
  setBusy(false, generating_);
  if (!result.ok) co_return report(QStringLiteral("Could not load the model: ") + result.error);
  setStatus(QStringLiteral("%1 ready (%2 mode), context %3 tokens").arg(modelName_, runMode_).arg(contextSize_));
  followModelChange();
  refreshPreset();  // the presets on offer depend on the model
  co_return true;
}

// --- conversations ---------------------------------------------------------

void ChatController::newConversation() {
  // An empty conversation is already a new chat: no second "New chat" row.
  if (current_ >= 0 && messages_.count() == 0 && !generating_) {
    conversations_.setModel(current_, modelName_, loadedMode());
    startConversationWithPreset(current_);
    refreshPreset();
    return;
  }
  const qint64 id = conversations_.create(QStringLiteral("New chat"), modelName_);
  if (id >= 0) {
    conversations_.setModel(id, modelName_, loadedMode());
    startConversationWithPreset(id);
    openConversation(id);
  }
}

// A new conversation starts with the preset last used with the loaded model (else the Default).
void ChatController::startConversationWithPreset(qint64 conversationId) {
  auto preset = presets_.forNewConversation(loaded_.modelPath);
  auto chosen = preset ? presets_.setConversationPreset(conversationId, preset.value().id)
                       : Result<Done>::failure(preset.error());
  if (!chosen) report(chosen.error());
}

void ChatController::refreshPreset() {
  const auto preset = current_ >= 0 ? presets_.effective(current_, loaded_.modelPath)
                                    : presets_.forNewConversation(loaded_.modelPath);
  if (!preset) report(preset.error());
  const qint64 id = preset ? preset.value().id : 0;
  if (id == currentPreset_) return;
  currentPreset_ = id;
  emit presetChanged();
}

void ChatController::presetsEdited() { refreshPreset(); }

void ChatController::choosePreset(qint64 presetId) {
  const auto chosen = presets_.preset(presetId);
  if (!chosen) {
    report(chosen.error());
    return;
  }
  if (!chosen.value().offeredWith(loaded_.modelPath)) {
    report(tr("\u201c%1\u201d is a preset for %2 only: load that model to use it.")
               .arg(chosen.value().name, chosen.value().modelName));
    return;
  }
  auto saved = current_ >= 0 ? presets_.setConversationPreset(current_, presetId) : Result<Done>(Done{});
  if (saved) saved = presets_.setLastUsedWith(loaded_.modelPath, presetId);
  if (!saved) report(saved.error());
  refreshPreset();
}

void ChatController::openConversation(qint64 id) {
  auto list = store_.messages(id);
  if (!list) {
    report(list.error());
    return;
  }
  current_ = id;
  messages_.setMessages(std::move(list).value());
  rememberCurrent();
  emit currentConversationChanged();
  refreshPreset();
}

void ChatController::rememberCurrent() {
  const auto saved = store_.setStateValue(kLastConversationKey, current_ >= 0 ? QString::number(current_) : QString());
  if (!saved) report(saved.error());
}

// The open conversation closes (it stays in the list); the view shows a new, empty chat.
void ChatController::leaveConversation() {
  current_ = -1;
  messages_.setMessages({});
  rememberCurrent();
  emit currentConversationChanged();
  refreshPreset();
}

// A conversation belongs to the model it was held with: when another model is
// loaded while such a conversation is open, the next message starts a new chat
// (the old one stays in the list, with its model's name). A mode change of
// the same model keeps the conversation.
void ChatController::followModelChange() {
  if (current_ < 0) return;
  const Conversation* open = conversations_.find(current_);
  if (!open) return;
  if (messages_.count() == 0) {
    conversations_.setModel(current_, modelName_, loaded_.mode);
    startConversationWithPreset(current_);  // still a new chat: the new model's preset
  } else if (!open->model.isEmpty() && open->model != modelName_) {
    const QString title = open->title;
    leaveConversation();
    setStatus(QStringLiteral("%1 ready: a new chat (\u201c%2\u201d stays in the list, with %3)")
                  .arg(modelName_, title, open->model));
  }
}

void ChatController::deleteConversation(qint64 id) {
  commitPendingDeletes();  // one undo at a time: the previous deletion is final now
  std::optional<Conversation> taken = conversations_.take(id);
  if (!taken) {
    report(QStringLiteral("No conversation %1.").arg(id));
    return;
  }
  if (id == overflow_.conversation) clearOverflow();
  if (id == streamingConversation_) stop();  // the stopped reply is saved; the conversation can come back
  if (id == current_) leaveConversation();
  pendingDeletes_.append(*taken);
  undoTimer_.start();
  emit undoChanged();
  emit conversationDeleted(taken->title);
}

void ChatController::undoDelete() {
  if (pendingDeletes_.isEmpty()) return;
  undoTimer_.stop();
  const Conversation back = pendingDeletes_.takeLast();
  conversations_.restore(back);
  if (current_ < 0 || messages_.count() == 0) openConversation(back.id);
  emit undoChanged();
  setStatus(QStringLiteral("\u201c%1\u201d is back").arg(back.title));
}

void ChatController::commitPendingDeletes() {
  if (pendingDeletes_.isEmpty()) return;
  undoTimer_.stop();
  const QList<Conversation> due = std::exchange(pendingDeletes_, {});
  for (const Conversation& c : due) {
    if (c.id == streamingConversation_) streamingMessage_ = -1;  // its row goes now: nothing left to save
    const auto deleted = store_.deleteConversation(c.id);
    if (!deleted) {
      conversations_.restore(c);  // still stored: shown again rather than half-gone
      report(deleted.error());
    }
  }
  emit undoChanged();
}

void ChatController::renameConversation(qint64 id, const QString& title) {
  conversations_.rename(conversations_.rowOf(id), title);
}

// --- replies ---------------------------------------------------------------

void ChatController::send(const QString& text) {
  if (text.trimmed().isEmpty()) return;
  if (current_ < 0) newConversation();
  if (current_ < 0) return;
  generateReply(current_, text.trimmed());
}

void ChatController::stop() {
  if (streamingRequest_ != 0) worker_->cancelOne(streamingRequest_);
}

bool ChatController::removeMessagesFrom(qint64 conversationId, qint64 messageId) {
  const auto removed = store_.deleteMessagesFrom(conversationId, messageId);
  if (!removed) return report(removed.error());
  if (conversationId == current_) messages_.removeFrom(messages_.rowOfId(messageId));
  return true;
}

void ChatController::regenerate() {
  if (current_ < 0 || refuseWhileBusy()) return;
  const QList<Message>& shown = messages_.messages();
  if (shown.isEmpty()) return;
  clearOverflow();
  const Message last = shown.last();
  if (last.role != QLatin1String("assistant")) {
    replyTo(current_, false);
    return;
  }
  if (shown.size() < 2) return;  // nothing to reply to
  // The reply shown is kept as a version; the new one streams into the same row.
  const auto number = store_.startNewVersion(last.id);
  if (!number) {
    report(number.error());
    return;
  }
  Message fresh = last;
  fresh.content.clear();
  fresh.complete = false;
  fresh.stopReason.clear();
  fresh.version = number.value();
  fresh.versionCount = number.value();
  messages_.replace(int(shown.size()) - 1, fresh);
  conversations_.touch(current_);
  QList<Message> history = shown;
  history.removeLast();
  regeneratedFrom_ = last.version;
  runReply(current_, last.id, history, false);
}

void ChatController::showVersion(qint64 messageId, int number) {
  if (current_ < 0 || generating_) return;
  const int row = messages_.rowOfId(messageId);
  if (row < 0 || row != messages_.count() - 1) {
    report(QStringLiteral("Only the last reply's versions can be shown."));
    return;
  }
  const auto shown = store_.selectVersion(messageId, number);
  if (!shown) {
    report(shown.error());
    return;
  }
  messages_.replace(row, shown.value());
}

void ChatController::continueReply() {
  if (current_ < 0 || refuseWhileBusy()) return;
  const QList<Message> shown = messages_.messages();
  if (shown.isEmpty()) return;
  const Message last = shown.last();
  if (last.role != QLatin1String("assistant") || last.stopReason.isEmpty() || last.content.isEmpty()) return;
  clearOverflow();
  // The text streams on into the same bubble; its note goes until the reply stops again.
  Message open = last;
  open.complete = false;
  open.stopReason.clear();
  messages_.replace(int(shown.size()) - 1, open);
  conversations_.touch(current_);
  regeneratedFrom_ = 0;
  runReply(current_, last.id, shown, false, last.content);
}

void ChatController::editMessage(qint64 messageId, const QString& text) {
  if (current_ < 0 || text.trimmed().isEmpty() || refuseWhileBusy()) return;
  const int row = messages_.rowOfId(messageId);
  if (row < 0 || messages_.messages()[row].role != QLatin1String("user")) {
    report(QStringLiteral("Only your own messages can be edited."));
    return;
  }
  const auto edited = store_.editMessage(current_, messageId, text.trimmed());
  if (!edited) {
    report(edited.error());
    return;
  }
  messages_.setContent(row, text.trimmed());
  messages_.removeFrom(row + 1);
  conversations_.touch(current_);
  clearOverflow();
  replyTo(current_, false);
}

void ChatController::resolveOverflow(const QString& choice) {
  const Overflow pending = overflow_;
  if (pending.conversation < 0) return;
  clearOverflow();
  auto stored = store_.messages(pending.conversation);
  if (!stored || stored.value().isEmpty() || stored.value().last().role != QLatin1String("user")) return;
  const Message question = stored.value().last();
  if (choice == QLatin1String("drop")) {
    replyTo(pending.conversation, true);
  } else if (choice == QLatin1String("newChat")) {
    if (!removeMessagesFrom(pending.conversation, question.id)) return;
    newConversation();
    if (current_ >= 0 && current_ != pending.conversation) generateReply(current_, question.content);
  } else {  // cancel: as if it had not been sent
    if (!removeMessagesFrom(pending.conversation, question.id)) return;
    setStatus(QStringLiteral("Not sent"));
    emit inputRestored(question.content);
  }
}

void ChatController::clearOverflow() {
  if (overflow_.conversation < 0) return;
  overflow_ = {};
  emit overflowChanged();
}

QCoro::Task<GenerationResult> ChatController::generateReply(qint64 conversationId, QString userText) {
  GenerationResult refused;
  refused.end = GenerationResult::End::Error;
  if (refuseWhileBusy()) {
    refused.error = status_;
    co_return refused;
  }
  auto history = store_.messages(conversationId);
  const bool firstMessage = history && history.value().isEmpty();
  auto question = store_.appendMessage(conversationId, "user", userText);
  if (!question) {
    refused.error = question.error();
    report(refused.error);
    co_return refused;
  }
  if (firstMessage) conversations_.rename(conversations_.rowOf(conversationId), titleFromMessage(userText));
  if (conversationId == current_) {
    messages_.append(newMessage(question.value(), conversationId, "user", userText, true));
  }
  co_return co_await replyTo(conversationId, false);
}

QCoro::Task<GenerationResult> ChatController::replyTo(qint64 conversationId, bool allowDropping) {
  GenerationResult refused;
  refused.end = GenerationResult::End::Error;
  auto history = store_.messages(conversationId);
  auto reply = history ? store_.appendMessage(conversationId, "assistant", "", false)
                       : Result<qint64>::failure(history.error());
  if (!reply) {
    refused.error = reply.error();
    report(refused.error);
    co_return refused;
  }
  conversations_.touch(conversationId);
  if (conversationId == current_) {
    messages_.append(newMessage(reply.value(), conversationId, "assistant", "", false));
  }
  regeneratedFrom_ = 0;
  co_return co_await runReply(conversationId, reply.value(), std::move(history).value(), allowDropping);
}

// Streams the reply to `history` into message `replyId` (already in the history and the view).
QCoro::Task<GenerationResult> ChatController::runReply(qint64 conversationId, qint64 replyId, QList<Message> history,
                                                       bool allowDropping, QString soFar) {
  conversations_.setModel(conversationId, modelName_, loaded_.mode);  // the model this conversation is held with
  // The conversation's preset as it is now: edits and a new choice apply from this reply on.
  auto preset = presets_.effective(conversationId, loaded_.modelPath);
  if (!preset) report(preset.error());
  const Preset used = preset ? preset.value() : Preset::builtInDefaults();
  if (preset) {
    const auto remembered = presets_.setLastUsedWith(loaded_.modelPath, used.id);
    if (!remembered) report(remembered.error());
  }
  GenerationRequest request =
      requestFor(worker_->newRequestId(), used, history, quint64(QDateTime::currentMSecsSinceEpoch()));
  request.allowDropping = allowDropping;
  request.continueLast = !soFar.isEmpty();

  streamingRequest_ = request.id;
  streamingMessage_ = replyId;
  streamingConversation_ = conversationId;
  streamedText_ = soFar;  // what is saved is the whole reply
  reasoningChars_ = 0;
  piecesSinceCheckpoint_ = 0;
  setBusy(loading_, true);
  setStatus(QStringLiteral("Writing…"));

  auto finished = qCoro(this, &ChatController::workerGenerationFinished);
  QMetaObject::invokeMethod(worker_, [worker = worker_, request] { worker->generate(request); },
                            Qt::QueuedConnection);
  GenerationResult result = co_await finished;  // one reply at a time: it is ours (only ours are relayed)
  finishReply(result);
  co_return result;
}

void ChatController::finishReply(const GenerationResult& result) {
  const qint64 conversation = streamingConversation_;
  bool overflow = result.end == GenerationResult::End::Overflow;
  const int regeneratedFrom = std::exchange(regeneratedFrom_, 0);
  if (overflow && regeneratedFrom > 0 && streamingMessage_ >= 0) {
    // A regenerate that no longer fits: the reply it would replace comes back as it was.
    const auto back = store_.selectVersion(streamingMessage_, regeneratedFrom);
    if (!back) report(back.error());
    if (back && conversation == current_) messages_.replace(messages_.rowOfId(streamingMessage_), back.value());
    streamingMessage_ = -1;
    overflow = false;
    report(QStringLiteral("This conversation no longer fits the model's %1-token context; the reply was kept.")
               .arg(result.context));
  }
  if (streamingMessage_ >= 0) {
    // Overflow: nothing was written, the empty reply goes until the user chooses.
    const auto saved = overflow ? Result<Done>(Done{})
                                : store_.completeMessage(streamingMessage_, streamedText_, stopReasonOf(result));
    if (overflow) removeMessagesFrom(conversation, streamingMessage_);
    if (!saved) report(saved.error());
    if (!overflow && conversation == current_) messages_.completeLast(stopReasonOf(result));
  }
  streamingRequest_ = 0;
  streamingMessage_ = -1;
  streamingConversation_ = -1;
  tokensPerSecond_ = result.tokensPerSecond;
  setBusy(loading_, false);
  if (overflow) {
    askAboutOverflow(conversation, result);
  } else {
    QString status = describeEnd(result);
    if (result.tokens > 0) {
      status += QStringLiteral(" · %1 tokens, %2 tokens/s").arg(result.tokens).arg(result.tokensPerSecond, 0, 'f', 1);
    }
    if (result.droppedMessages > 0) {
      status += QStringLiteral(" · the %1 oldest messages were left out").arg(result.droppedMessages);
    }
    setStatus(status);
    if (result.end == GenerationResult::End::Error) emit errorOccurred(result.error);
  }
  emit replyFinished(result);
}

void ChatController::askAboutOverflow(qint64 conversationId, const GenerationResult& result) {
  if (conversationId < 0) return;  // deleted meanwhile
  overflow_ = {conversationId, result.droppedMessages, result.context};
  setStatus(QStringLiteral("This conversation no longer fits the model's %1-token context").arg(result.context));
  emit overflowChanged();
  emit contextOverflow(result.droppedMessages, result.context);
}

void ChatController::onToken(quint64 requestId, const QString& text) {
  if (requestId != streamingRequest_) return;  // a cancelled reply's last pieces
  if (reasoningChars_ > 0) {
    reasoningChars_ = 0;
    setStatus(QStringLiteral("Writing…"));
  }
  streamedText_ += text;
  if (streamingConversation_ == current_) messages_.appendToLast(text);
  if (++piecesSinceCheckpoint_ >= kCheckpointTokens && streamingMessage_ >= 0) {
    piecesSinceCheckpoint_ = 0;
    const auto saved = store_.updateMessage(streamingMessage_, streamedText_);
    if (!saved) report(saved.error());
  }
}

// A reasoning model thinks before it answers: the status says so (the
// reasoning itself is not shown or kept), so a long silence is not a stall.
void ChatController::onReasoning(quint64 requestId, const QString& text) {
  if (requestId != streamingRequest_) return;
  reasoningChars_ += text.size();
  setStatus(QStringLiteral("Thinking before answering… (%1 characters so far)").arg(reasoningChars_));
}

void ChatController::onStats(const LiveStats& stats) {
  if (stats.requestId == streamingRequest_) live_.update(stats);
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
    const bool deleted = std::any_of(pendingDeletes_.begin(), pendingDeletes_.end(),
                                     [&](const Conversation& c) { return c.id == h.conversation_id; });
    if (deleted) continue;  // waiting for its undo window: already gone for the user
    out.append(QVariantMap{{"conversationId", h.conversation_id},
                           {"title", h.conversation_title},
                           {"snippet", h.snippet}});
  }
  return out;
}

QUrl ChatController::exportSuggestion(qint64 id, const QString& format) const {
  const Conversation* c = conversations_.find(id);
  return suggestedExportFile(c ? c->title : QString(), format);
}

bool ChatController::exportConversation(qint64 id, const QString& format, const QUrl& file) {
  auto text = format == "json" ? store_.exportJson(id) : store_.exportMarkdown(id);
  if (!text) return report(text.error());
  const Result<QString> written = writeExport(text.value(), format, file);
  if (!written) return report(written.error());
  emit conversationExported(QDir::toNativeSeparators(written.value()));
  return true;
}

}  // namespace sieve::app
