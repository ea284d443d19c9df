#pragma once
// What the QML sees as `models`: the list of added models (ModelListModel),
// the import in progress (phase, fraction, speed, Cancel) and the actions
// (add, use, remove). Lives on the UI thread and never blocks: an import runs
// on the thread pool (ModelImport) and the flow "import, then add to the
// library, then use it if no model runs yet" is a QCoro coroutine awaiting
// the import's end (ImportEnd), which the import's `finished` signal resumes
// on this thread — or the destructor, when the app closes mid-import, so the
// flow always runs to its end and its coroutine frame is freed.
//
// Using a model goes through the chat controller's own load path
// (ChatController::loadModel), so the engine stays on its worker thread.

#include <QObject>
#include <QPointer>
#include <QtQml/qqmlregistration.h>
#include <coroutine>
#include <memory>

#include <qcoro/qcorotask.h>

#include "desktop/model_import.h"
#include "desktop/model_library.h"
#include "desktop/model_list_model.h"

namespace sieve::app {

class ChatController;

class ModelsController : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  Q_PROPERTY(sieve::app::ModelListModel* list READ list CONSTANT)
  Q_PROPERTY(int count READ count NOTIFY countChanged)
  Q_PROPERTY(bool importing READ importing NOTIFY importChanged)
  Q_PROPERTY(bool importCancelling READ importCancelling NOTIFY importChanged)
  Q_PROPERTY(QString importName READ importName NOTIFY importChanged)
  Q_PROPERTY(QString importPhase READ importPhase NOTIFY importProgressChanged)
  Q_PROPERTY(double importProgress READ importProgress NOTIFY importProgressChanged)  // 0..1; 0: not known yet
  Q_PROPERTY(double importSpeed READ importSpeed NOTIFY importProgressChanged)        // MB/s
  Q_PROPERTY(QString importDetail READ importDetail NOTIFY importProgressChanged)    // one line for the view
  // The outcome of the last action, for the views ("Added …", an error).
  Q_PROPERTY(QString message READ message NOTIFY messageChanged)
  Q_PROPERTY(bool messageIsError READ messageIsError NOTIFY messageChanged)
  // The model the chat runs (its pack), with its DRAM needs (0 when not in the list).
  Q_PROPERTY(QString activePath READ activePath NOTIFY activeChanged)
  Q_PROPERTY(qint64 activeMinimumDramBytes READ activeMinimumDramBytes NOTIFY activeChanged)
  Q_PROPERTY(qint64 activeFullDramBytes READ activeFullDramBytes NOTIFY activeChanged)

 public:
  // `chat` may be null (no model is then loaded by useModel) and must
  // outlive the controller. Empty paths: the per-user defaults
  // (ModelLibrary::defaultPath(), defaultModelsDir()).
  explicit ModelsController(ChatController* chat, const QString& libraryPath = {}, const QString& modelsDir = {},
                            QObject* parent = nullptr);
  ~ModelsController() override;

  ModelListModel* list() { return &list_; }
  const ModelLibrary& library() const { return library_; }
  int count() const { return list_.count(); }
  bool importing() const { return import_ != nullptr; }
  bool importCancelling() const { return import_ && import_->cancelling(); }
  QString importName() const { return importName_; }
  QString importPhase() const { return progress_.phase; }
  double importProgress() const { return progress_.fraction(); }
  double importSpeed() const { return progress_.megabytesPerSecond(); }
  QString importDetail() const;
  QString message() const { return message_; }
  bool messageIsError() const { return messageIsError_; }
  QString activePath() const { return activePath_; }
  qint64 activeMinimumDramBytes() const;
  qint64 activeFullDramBytes() const;
  // Tests: threads and packing step of later imports, and the import running (null when none).
  void setImportOptions(const ImportOptions& options);
  ModelImport* currentImport() const { return import_; }

  // Accepts a path or a file:// URL (from a file dialog). Starts the import flow.
  Q_INVOKABLE void addModel(const QString& pathOrUrl);
  Q_INVOKABLE void cancelImport();
  // Loads the row's model in the chat; false (and a message) when it is missing.
  Q_INVOKABLE bool useModel(int row);
  // Forgets the row's model, deleting the pack the import made unless
  // `keepFiles`; refused for the model in use.
  Q_INVOKABLE bool removeModel(int row, bool keepFiles = false);
  // Whether removing the row's model deletes a file (a pack the import made).
  Q_INVOKABLE bool removeDeletesPack(int row) const;
  // What removing the row's model does, for the confirmation: which file goes,
  // its size, and how long adding it again (re-packing) takes — from the
  // packing rate measured in this session, else "a few minutes".
  Q_INVOKABLE QString removalQuestion(int row) const;
  // The display name of the model at `path` when it is in the list ('' otherwise).
  QString nameOfPath(const QString& path) const;
  // Re-checks which files are missing.
  Q_INVOKABLE void refresh();

  // The flow: import (pack) on the thread pool, add to the library, use it
  // when no model is loaded yet. Awaitable; the result says what happened.
  QCoro::Task<ImportResult> importAndAdd(QString path);

 signals:
  void countChanged();
  void importChanged();
  void importProgressChanged();
  void messageChanged();
  void activeChanged();
  void errorOccurred(const QString& message);
  void importFinished(const sieve::app::ImportResult& result);

 private:
  void onProgress(const ImportProgress& progress);
  void updateActive();
  void setMessage(const QString& text, bool isError);
  bool report(const QString& error);
  void finishImport();
  // What importAndAdd awaits: the result resumeImport() hands over.
  struct ImportEnd {
    ModelsController* self;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> flow) noexcept { self->awaitingImport_ = flow; }
    ImportResult await_resume() { return std::move(self->importResult_); }
  };
  void resumeImport(ImportResult result);

  QPointer<ChatController> chat_;
  std::coroutine_handle<> awaitingImport_;  // the flow waiting for the import's end
  ImportResult importResult_;
  bool closing_ = false;  // in the destructor: the resumed flow only records what was made
  ModelLibrary library_;
  ModelListModel list_;
  ImportOptions options_;
  ModelImport* import_ = nullptr;  // a child while an import runs
  QString importName_;
  ImportProgress progress_;
  QString message_;
  bool messageIsError_ = false;
  QString activePath_;
  double lastPackMBps_ = 0;  // the last import's measured packing rate (0: none this session)
};

}  // namespace sieve::app
