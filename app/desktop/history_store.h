#pragma once
// The chat history: conversations and their messages in one SQLite file
// (by default in the per-user data folder), with full-text search and export.
//
// Schema versions are kept in `PRAGMA user_version`; each migration runs in
// its own transaction, so a file is always at one complete version. The file
// is in WAL mode: a reply that is still streaming is checkpointed (its row
// updated) every few tokens, and a process killed at any moment leaves every
// committed message intact.
//
// One QSqlDatabase connection per thread (Qt's rule): every call uses the
// connection named after this store and the calling thread, opened on first
// use. Failures come back as Result errors with one clear sentence.

#include <QDateTime>
#include <atomic>
#include <QList>
#include <QString>

#include "desktop/preset.h"
#include "desktop/result.h"

class QSqlDatabase;
class QSqlQuery;

namespace sieve::app {

struct Conversation {
  qint64 id = 0;
  QString title;
  QDateTime created;
  QDateTime updated;
  QString model;  // the display name of the model it was last held with ('' before its first reply)
  QString mode;   // that model's engine mode ("flash", "dense", ...)
};

struct Message {
  qint64 id = 0;
  qint64 conversation_id = 0;
  QString role;  // "system", "user", "assistant"
  QString content;
  QDateTime created;
  bool complete = false;  // false while a reply streams (or after a crash mid-reply)
  // Why a reply stopped early: "length" (the reply limit), "context" (the context is full); '' otherwise.
  QString stopReason;
  int version = 1;       // which version of a regenerated reply is shown (1-based)
  int versionCount = 1;  // how many versions it has
};

struct SearchHit {
  qint64 message_id = 0;
  qint64 conversation_id = 0;
  QString conversation_title;
  QString snippet;  // the matching text with [brackets] around the matches
};

class HistoryStore {
 public:
  static constexpr int kSchemaVersion = 5;

  // `path` empty: <AppDataLocation>/history.sqlite.
  explicit HistoryStore(QString path = {});
  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  static QString defaultPath();
  const QString& path() const { return path_; }

  // What the migration to version 5 stores as presets (preset_store.h): the
  // Default from the sampling settings the app had before presets, and any
  // model's own. Unset: the built-in defaults. Call before the first use.
  void setPresetSeed(QList<Preset> seed) { presetSeed_ = std::move(seed); }

  // Opens (creating the file and folder) and migrates to kSchemaVersion.
  // Other calls open on demand too; this one reports problems early.
  Result<Done> open();
  Result<int> schemaVersion();
  // The calling thread's connection, opened and migrated: for the stores of
  // the other tables in this file (PresetStore).
  Result<QSqlDatabase> database();

  Result<qint64> createConversation(const QString& title, const QString& model = {});
  Result<Done> renameConversation(qint64 id, const QString& title);
  Result<Done> deleteConversation(qint64 id);  // and its messages
  Result<QList<Conversation>> listConversations();  // most recently updated first
  Result<Conversation> conversation(qint64 id);
  // Records the model (display name) and engine mode a conversation is held with.
  Result<Done> setConversationModel(qint64 id, const QString& model, const QString& mode);

  // Small remembered values (the last open conversation): '' when unset.
  Result<QString> stateValue(const QString& key);
  Result<Done> setStateValue(const QString& key, const QString& value);

  Result<qint64> appendMessage(qint64 conversation_id, const QString& role, const QString& content,
                               bool complete = true);
  // Saves the text a streaming reply has so far (a checkpoint).
  Result<Done> updateMessage(qint64 message_id, const QString& content);
  // Saves a finished reply (`stop_reason` as in Message). A reply with versions
  // also records its text as the version it is.
  Result<Done> completeMessage(qint64 message_id, const QString& content, const QString& stop_reason = {});
  Result<Message> message(qint64 message_id);
  // Regenerate: keeps the reply's text as a version and empties the row for a
  // new one (the next version, streamed and completed as usual). Returns the
  // new version's number.
  Result<int> startNewVersion(qint64 message_id);
  // Shows version `number` (1-based) of a reply: its text becomes the message's.
  Result<Message> selectVersion(qint64 message_id, int number);
  Result<QList<Message>> messages(qint64 conversation_id);
  // Deletes message `first_message_id` and every later one of the conversation
  // (regenerate, an overflow cancelled); returns how many went.
  Result<int> deleteMessagesFrom(qint64 conversation_id, qint64 first_message_id);
  // Edit-and-resend: sets the message's text and deletes every later message
  // of its conversation, in one transaction. Returns how many were deleted.
  Result<int> editMessage(qint64 conversation_id, qint64 message_id, const QString& content);

  // FTS5 query syntax (words, "phrases", prefix*); at most `limit` hits, best first.
  Result<QList<SearchHit>> search(const QString& query, int limit = 50);

  Result<QString> exportMarkdown(qint64 conversation_id);
  Result<QString> exportJson(qint64 conversation_id);

 private:
  Result<QSqlDatabase> connection();
  Result<Done> migrate(QSqlDatabase& db);
  Result<Done> touchConversation(QSqlDatabase& db, qint64 id);
  QString connectionName() const;

  QString path_;
  QList<Preset> presetSeed_;
  std::atomic<bool> migrated_{false};
};

}  // namespace sieve::app
