#pragma once
// The messages of the open conversation, for the chat view. The reply being
// generated is the last row; appendToLast() grows it as tokens stream in.

#include <QAbstractListModel>
#include <QList>
#include <QtQml/qqmlregistration.h>

#include "desktop/history_store.h"

namespace sieve::app {

class MessageListModel : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  Q_PROPERTY(int count READ count NOTIFY countChanged)

 public:
  enum Role { IdRole = Qt::UserRole + 1, RoleRole, ContentRole, CompleteRole, StopReasonRole, VersionRole, VersionCountRole };

  explicit MessageListModel(QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;
  int count() const { return int(messages_.size()); }

  void setMessages(QList<Message> messages);
  void append(const Message& message);
  void appendToLast(const QString& text);
  void completeLast(const QString& stopReason = {});
  // Replaces row `row` with `message` (another version of a reply).
  void replace(int row, const Message& message);
  // Removes row `row` and every later one (edit-and-resend, regenerate).
  void removeFrom(int row);
  void setContent(int row, const QString& content);
  int rowOfId(qint64 id) const;  // -1 when absent
  const QList<Message>& messages() const { return messages_; }

 signals:
  void countChanged();

 private:
  QList<Message> messages_;
};

}  // namespace sieve::app
