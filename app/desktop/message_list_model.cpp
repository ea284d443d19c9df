#include "desktop/message_list_model.h"

namespace sieve::app {

MessageListModel::MessageListModel(QObject* parent) : QAbstractListModel(parent) {}

int MessageListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(messages_.size());
}

QVariant MessageListModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Message& m = messages_[index.row()];
  switch (role) {
    case Qt::DisplayRole:
    case ContentRole: return m.content;
    case IdRole: return m.id;
    case RoleRole: return m.role;
    case CompleteRole: return m.complete;
    case StopReasonRole: return m.stopReason;
    case VersionRole: return m.version;
    case VersionCountRole: return m.versionCount;
    default: return {};
  }
}

QHash<int, QByteArray> MessageListModel::roleNames() const {
  return {{IdRole, "messageId"}, {RoleRole, "role"}, {ContentRole, "content"}, {CompleteRole, "complete"},
          {StopReasonRole, "stopReason"}, {VersionRole, "version"}, {VersionCountRole, "versionCount"}};
}

void MessageListModel::setMessages(QList<Message> messages) {
  beginResetModel();
  messages_ = std::move(messages);
  endResetModel();
  emit countChanged();
}

void MessageListModel::append(const Message& message) {
  beginInsertRows({}, count(), count());
  messages_.append(message);
  endInsertRows();
  emit countChanged();
}

void MessageListModel::appendToLast(const QString& text) {
  if (messages_.isEmpty() || text.isEmpty()) return;
  messages_.last().content += text;
  const QModelIndex last = index(count() - 1);
  emit dataChanged(last, last, {ContentRole, Qt::DisplayRole});
}

void MessageListModel::completeLast(const QString& stopReason) {
  if (messages_.isEmpty()) return;
  messages_.last().complete = true;
  messages_.last().stopReason = stopReason;
  const QModelIndex last = index(count() - 1);
  emit dataChanged(last, last, {CompleteRole, StopReasonRole});
}

void MessageListModel::replace(int row, const Message& message) {
  if (row < 0 || row >= count()) return;
  messages_[row] = message;
  const QModelIndex changed = index(row);
  emit dataChanged(changed, changed);
}

void MessageListModel::removeFrom(int row) {
  if (row < 0 || row >= count()) return;
  beginRemoveRows({}, row, count() - 1);
  messages_.resize(row);
  endRemoveRows();
  emit countChanged();
}

void MessageListModel::setContent(int row, const QString& content) {
  if (row < 0 || row >= count()) return;
  messages_[row].content = content;
  const QModelIndex changed = index(row);
  emit dataChanged(changed, changed, {ContentRole, Qt::DisplayRole});
}

int MessageListModel::rowOfId(qint64 id) const {
  for (int row = 0; row < count(); ++row) {
    if (messages_[row].id == id) return row;
  }
  return -1;
}

}  // namespace sieve::app
