#pragma once
// What the QML sees (as `App.chat`, app_objects.h): the conversation list,
// the open conversation's messages, the model and its state, live statistics,
// and the actions (load a model, send, stop, regenerate, edit-and-resend,
// new/open/rename/delete/search/export a chat, resolve a context overflow).
//
// Lives on the UI thread and never blocks: the engine is on the
// InferenceWorker's thread, and the asynchronous flows (load, reply) are
// QCoro coroutines that await the worker's signals. A streaming reply is
// shown token by token, checkpointed to the history every kCheckpointTokens
// pieces and saved complete when it ends.
//
// Context overflow: when the conversation no longer fits the model's context
// the reply does not start; contextOverflow() asks the user, who answers with
// resolveOverflow("drop" | "newChat" | "cancel").

#include <QObject>
#include <QTimer>
#include <QUrl>
#include <functional>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>
#include <memory>

#include <qcoro/qcorotask.h>

#include "desktop/conversation_list_model.h"
#include "desktop/history_store.h"
#include "desktop/inference_worker.h"
#include "desktop/live_status.h"
#include "desktop/message_list_model.h"
#include "desktop/preset_store.h"

namespace sieve::app {

// The request for a reply to `history` with `preset`: its system prompt first
// (when it has one), the finished messages, its sampling and reply length.
GenerationRequest requestFor(quint64 id, const Preset& preset, const QList<Message>& history, quint64 seed);

class ChatController : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  Q_PROPERTY(sieve::app::ConversationListModel* conversations READ conversations CONSTANT)
  Q_PROPERTY(sieve::app::MessageListModel* messages READ messages CONSTANT)
  Q_PROPERTY(sieve::app::LiveStatus* live READ live CONSTANT)
  Q_PROPERTY(double currentConversation READ currentConversation NOTIFY currentConversationChanged)  // double: qmllint 6.4 knows no qint64
  Q_PROPERTY(QString modelPath READ modelPath NOTIFY modelChanged)
  Q_PROPERTY(QString modelName READ modelName NOTIFY modelChanged)
  Q_PROPERTY(bool modelLoaded READ modelLoaded NOTIFY modelChanged)
  Q_PROPERTY(double contextSize READ contextSize NOTIFY modelChanged)
  Q_PROPERTY(QString loadedMode READ loadedMode NOTIFY modelChanged)
  Q_PROPERTY(QString memoryPlan READ memoryPlan NOTIFY modelChanged)
  // Mode "auto": the mode the engine chose and why, in one line ("flash: 41%
  // of the weights stay in memory, ..."); sparse mode offered for a
  // calibrated pack. Otherwise "<mode> mode (chosen in Settings)" and "".
  Q_PROPERTY(QString modeChoice READ modeChoice NOTIFY modelChanged)
  Q_PROPERTY(QString modeOffer READ modeOffer NOTIFY modelChanged)
  Q_PROPERTY(bool loading READ loading NOTIFY busyChanged)
  Q_PROPERTY(bool generating READ generating NOTIFY busyChanged)
  Q_PROPERTY(QString statusText READ statusText NOTIFY statusChanged)
  Q_PROPERTY(double tokensPerSecond READ tokensPerSecond NOTIFY statusChanged)
  Q_PROPERTY(double machineMemoryGiB READ machineMemoryGiB CONSTANT)
  Q_PROPERTY(bool overflowPending READ overflowPending NOTIFY overflowChanged)
  // A deleted conversation can be brought back for this long (the toast's Undo).
  Q_PROPERTY(int undoMilliseconds READ undoMilliseconds CONSTANT)
  Q_PROPERTY(bool undoAvailable READ undoAvailable NOTIFY undoChanged)
  // The preset (preset.h) the open conversation's next reply runs with — with
  // none open, the one a new chat would start with. Its system prompt and
  // sampling are read from the history at each reply, so edits apply to the next one.
  Q_PROPERTY(double currentPreset READ currentPreset NOTIFY presetChanged)  // a preset id
  // Engine settings: changing one restarts the engine (safely, even mid-reply).
  Q_PROPERTY(int threads READ threads WRITE setThreads NOTIFY engineSettingsChanged)
  Q_PROPERTY(int contextLength READ contextLength WRITE setContextLength NOTIFY engineSettingsChanged)
  Q_PROPERTY(QString mode READ mode WRITE setMode NOTIFY engineSettingsChanged)
  Q_PROPERTY(double dramBudget READ dramBudget WRITE setDramBudget NOTIFY engineSettingsChanged)
  Q_PROPERTY(int sparseWindow READ sparseWindow WRITE setSparseWindow NOTIFY engineSettingsChanged)
  Q_PROPERTY(QString sparsePredictor READ sparsePredictor WRITE setSparsePredictor NOTIFY engineSettingsChanged)

 public:
  static constexpr int kCheckpointTokens = 16;
  static constexpr int kUndoMilliseconds = 6000;
  // The key of the last open conversation in the history's remembered values.
  static constexpr const char* kLastConversationKey = "lastConversation";

  // `store` must outlive the controller.
  explicit ChatController(HistoryStore& store, QObject* parent = nullptr);
  ~ChatController() override;

  ConversationListModel* conversations() { return &conversations_; }
  MessageListModel* messages() { return &messages_; }
  LiveStatus* live() { return &live_; }
  qint64 currentConversation() const { return current_; }
  QString modelPath() const { return loaded_.modelPath; }
  QString modelName() const { return modelName_; }
  bool modelLoaded() const { return !modelName_.isEmpty(); }
  qint64 contextSize() const { return contextSize_; }
  QString loadedMode() const { return modelLoaded() ? runMode_ : QString(); }  // auto resolved
  QString memoryPlan() const { return memoryPlan_; }
  QString modeChoice() const { return modelLoaded() ? modeChoice_ : QString(); }
  QString modeOffer() const { return modelLoaded() ? modeOffer_ : QString(); }
  bool loading() const { return loading_; }
  bool generating() const { return generating_; }
  QString statusText() const { return status_; }
  double tokensPerSecond() const { return tokensPerSecond_; }
  bool overflowPending() const { return overflow_.conversation >= 0; }
  static double machineMemoryGiB();  // physical RAM (the DRAM budget's upper bound)
  const EngineSettings& wantedSettings() const { return wanted_; }
  int undoMilliseconds() const { return undoTimer_.interval(); }
  bool undoAvailable() const { return !pendingDeletes_.isEmpty(); }
  // The inference worker (on its own thread): the local server queues its
  // requests there too (worker_backend.h), with ids from newRequestId().
  InferenceWorker* worker() const { return worker_; }
  // The history it keeps conversations in (the presets' editor uses the same file).
  HistoryStore& history() const { return store_; }
  qint64 currentPreset() const { return currentPreset_; }
  // Tests: a shorter undo window.
  void setUndoMilliseconds(int ms) { undoTimer_.setInterval(ms); }
  // Names a model by its path when the models page knows it (the page's name);
  // otherwise modelDisplayName() names it from the GGUF.
  void setModelNameLookup(std::function<QString(const QString& path)> lookup) { nameLookup_ = std::move(lookup); }

  int threads() const { return wanted_.threads; }
  int contextLength() const { return int(wanted_.context); }
  QString mode() const { return wanted_.mode; }
  double dramBudget() const { return double(wanted_.dramBudget); }
  int sparseWindow() const { return wanted_.sparseWindow; }
  QString sparsePredictor() const { return wanted_.sparsePredictor; }
  void setThreads(int threads);
  void setContextLength(int context);
  void setMode(const QString& mode);
  void setDramBudget(double bytes);
  void setSparseWindow(int window);
  void setSparsePredictor(const QString& predictor);

  // Accepts a path or a file:// URL (from a file dialog).
  Q_INVOKABLE void loadModel(const QString& pathOrUrl);
  Q_INVOKABLE void newConversation();
  Q_INVOKABLE void openConversation(qint64 id);
  // The row leaves the list at once; the history keeps it for undoMilliseconds
  // (undoDelete() brings it back), then it is deleted — or when the app quits
  // (the destructor). A crash within the window loses nothing: it reappears.
  Q_INVOKABLE void deleteConversation(qint64 id);
  Q_INVOKABLE void undoDelete();
  // Deletes what waits for its undo window to end (the timer, the destructor).
  Q_INVOKABLE void commitPendingDeletes();
  Q_INVOKABLE void renameConversation(qint64 id, const QString& title);
  // The open conversation's preset from now on (its next reply), and the one
  // new chats with the loaded model start with. Must be one the chat offers:
  // for every model, or for the loaded one.
  Q_INVOKABLE void choosePreset(qint64 presetId);
  // Presets were edited, added or deleted (PresetsController): the current
  // one is looked up again (a deleted one falls back to the Default).
  void presetsEdited();
  Q_INVOKABLE void send(const QString& text);
  Q_INVOKABLE void stop();
  // Replaces the last reply of the open conversation with a new one.
  // The reply before is kept as a version (showVersion flips between them).
  Q_INVOKABLE void regenerate();
  // Shows version `number` (1-based) of the last reply of the open conversation.
  Q_INVOKABLE void showVersion(qint64 messageId, int number);
  // The last reply, which stopped at the length limit (or was stopped): the
  // model goes on from where it stopped, into the same message.
  Q_INVOKABLE void continueReply();
  // Edit-and-resend: the user message `messageId` of the open conversation
  // gets `text`, every later message is deleted (view and history), and the
  // model replies again (the engine rewinds to the prefix it still shares).
  Q_INVOKABLE void editMessage(qint64 messageId, const QString& text);
  // After contextOverflow(): "drop" the oldest messages and reply, "newChat"
  // (the last message alone in a new conversation) or "cancel" (the message
  // goes back to the input box).
  Q_INVOKABLE void resolveOverflow(const QString& choice);
  // [{conversationId, title, snippet}] for the search box.
  Q_INVOKABLE QVariantList search(const QString& query);
  // The file an export suggests: <Documents (else home)>/<title>.<md|json> (a file:// URL).
  Q_INVOKABLE QUrl exportSuggestion(qint64 id, const QString& format) const;
  // format: "md" or "json"; writes the file, reports success (conversationExported(path)).
  Q_INVOKABLE bool exportConversation(qint64 id, const QString& format, const QUrl& file);

  // The flows, awaitable (tests co_await or spin on their signals).
  QCoro::Task<bool> loadEngine(EngineSettings settings);
  QCoro::Task<GenerationResult> generateReply(qint64 conversationId, QString userText);
  // Replies to the conversation as stored (it must end with a user message).
  QCoro::Task<GenerationResult> replyTo(qint64 conversationId, bool allowDropping);

 signals:
  void currentConversationChanged();
  // Before a model starts loading (settings follow it: its per-model overrides apply).
  void modelAboutToLoad(const QString& path);
  void modelChanged();
  void busyChanged();
  void statusChanged();
  void presetChanged();
  void engineSettingsChanged();
  void overflowChanged();
  // The conversation no longer fits in `context` tokens; replying would forget
  // the `droppedMessages` oldest messages. Answer with resolveOverflow().
  void contextOverflow(int droppedMessages, qint64 context);
  // Text for the input box (an overflow cancelled).
  void inputRestored(const QString& text);
  void errorOccurred(const QString& message);
  // For the toast: a conversation was deleted (Undo brings it back) / saved to a file.
  void conversationDeleted(const QString& title);
  void undoChanged();
  void conversationExported(const QString& path);
  void replyFinished(const sieve::app::GenerationResult& result);
  // The worker's results, re-emitted on the UI thread for the coroutines to
  // await: QCoro 0.8's qCoro(sender, signal) resumes the coroutine in the
  // sender's thread, so awaiting the worker directly would run UI code there.
  void workerLoadFinished(const sieve::app::LoadResult& result);
  // (The chat's own replies only: the local server's end on the worker's signal too.)
  void workerGenerationFinished(const sieve::app::GenerationResult& result);

 private:
  struct Overflow {
    qint64 conversation = -1;  // -1: none pending
    int droppedMessages = 0;
    qint64 context = 0;
  };

  void setEngineSetting(EngineSettings changed);
  void scheduleRestart();
  void restartEngineIfNeeded();
  void setStatus(const QString& text);
  void setBusy(bool loading, bool generating);
  bool report(const QString& error);
  bool refuseWhileBusy();
  void refreshPreset();
  void startConversationWithPreset(qint64 conversationId);
  void onToken(quint64 requestId, const QString& text);
  void onReasoning(quint64 requestId, const QString& text);
  void onStats(const LiveStats& stats);
  void finishReply(const GenerationResult& result);
  void askAboutOverflow(qint64 conversationId, const GenerationResult& result);
  void clearOverflow();
  bool removeMessagesFrom(qint64 conversationId, qint64 messageId);
  void leaveConversation();
  void followModelChange();
  void rememberCurrent();
  // `soFar` non-empty: continue that reply (the last of `history`) instead of answering.
  QCoro::Task<GenerationResult> runReply(qint64 conversationId, qint64 replyId, QList<Message> history,
                                         bool allowDropping, QString soFar = {});

  HistoryStore& store_;
  ConversationListModel conversations_;
  MessageListModel messages_;
  LiveStatus live_;
  std::unique_ptr<InferenceThread> inference_;
  InferenceWorker* worker_;

  qint64 current_ = -1;
  EngineSettings wanted_;  // the settings asked for
  EngineSettings loaded_;  // the settings of the running engine
  bool restartScheduled_ = false;
  QString modelName_;
  QString memoryPlan_;
  QString runMode_;     // the mode the engine runs (auto resolved)
  QString modeChoice_;
  QString modeOffer_;
  qint64 contextSize_ = 0;
  bool loading_ = false;
  bool generating_ = false;
  QString status_;
  double tokensPerSecond_ = 0;
  Overflow overflow_;
  QList<Conversation> pendingDeletes_;  // deleted, waiting for their undo window
  QTimer undoTimer_;
  std::function<QString(const QString&)> nameLookup_;
  int regeneratedFrom_ = 0;  // the version a streaming regenerate replaces (0: not a regenerate)

  PresetStore presets_;
  qint64 currentPreset_ = 0;

  quint64 streamingRequest_ = 0;  // the request whose tokens go to the last message; 0: none
  qint64 streamingMessage_ = -1;  // its row in the history
  qint64 streamingConversation_ = -1;
  QString streamedText_;
  qsizetype reasoningChars_ = 0;  // of the streaming reply's reasoning, before its answer
  int piecesSinceCheckpoint_ = 0;
};

}  // namespace sieve::app
