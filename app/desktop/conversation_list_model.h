#pragma once
// The sidebar's list of conversations (most recent first), backed by the
// HistoryStore. Edits go to the store first; the model changes only when the
// store accepted them, and a refusal comes out as errorOccurred(message).

#include <QAbstractListModel>
#include <QList>

#include "desktop/history_store.h"

namespace sieve::app {

class ConversationListModel : public QAbstractListModel {
  Q_OBJECT
  Q_PROPERTY(int count READ count NOTIFY countChanged)

 public:
  enum Role { IdRole = Qt::UserRole + 1, TitleRole, UpdatedRole, ModelRole };

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
