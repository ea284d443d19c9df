#pragma once
// The sidebar's list of conversations (most recent first), backed by the
// HistoryStore. Edits go to the store first; the model changes only when the
// store accepted them, and a refusal comes out as errorOccurred(message).

#include <QAbstractListModel>
#include <QList>
#include <QtQml/qqmlregistration.h>
#include <optional>

#include "desktop/history_store.h"

namespace sieve::app {

// A conversation's title from its first message: one line of at most 40
// characters, without Markdown marks (**, #, `, > , list bullets, link targets).
QString titleFromMessage(const QString& text);

class ConversationListModel : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  Q_PROPERTY(int count READ count NOTIFY countChanged)

 public:
  enum Role { IdRole = Qt::UserRole + 1, TitleRole, UpdatedRole, ModelRole, ModeRole };

  // `store` must outlive the model.
  explicit ConversationListModel(HistoryStore& store, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;
  int count() const { return int(conversations_.size()); }

  Q_INVOKABLE bool reload();
  // The new conversation's id (it becomes row 0), or -1 on error.
  Q_INVOKABLE qint64 create(const QString& title, const QString& model = {});
  Q_INVOKABLE bool rename(int row, const QString& title);
  Q_INVOKABLE bool remove(int row);
  // Undoable delete: the row leaves the list (not the store); restore() puts it back.
  std::optional<Conversation> take(qint64 id);
  void restore(const Conversation& conversation);
  // The model (display name) and mode a conversation is held with.
  const Conversation* find(qint64 id) const;
  bool setModel(qint64 id, const QString& model, const QString& mode);
  Q_INVOKABLE int rowOf(qint64 id) const;
  Q_INVOKABLE qint64 idAt(int row) const;
  // Moves the conversation to the top after new activity.
  Q_INVOKABLE void touch(qint64 id);

 signals:
  void countChanged();
  void errorOccurred(const QString& message);

 private:
  bool report(const QString& error);

  HistoryStore& store_;
  QList<Conversation> conversations_;
};

}  // namespace sieve::app
