#include "desktop/conversation_list_model.h"

namespace sieve::app {

ConversationListModel::ConversationListModel(HistoryStore& store, QObject* parent)
    : QAbstractListModel(parent), store_(store) {}

int ConversationListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(conversations_.size());
}

QVariant ConversationListModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Conversation& c = conversations_[index.row()];
  switch (role) {
    case Qt::DisplayRole:
    case TitleRole: return c.title;
    case IdRole: return c.id;
    case UpdatedRole: return c.updated;
    case ModelRole: return c.model;
    default: return {};
  }
}

QHash<int, QByteArray> ConversationListModel::roleNames() const {
  return {{IdRole, "conversationId"}, {TitleRole, "title"}, {UpdatedRole, "updated"}, {ModelRole, "model"}};
}

bool ConversationListModel::report(const QString& error) {
  emit errorOccurred(error);
  return false;
}

bool ConversationListModel::reload() {
  auto list = store_.listConversations();
  if (!list) return report(list.error());
  beginResetModel();
  conversations_ = std::move(list).value();
  endResetModel();
  emit countChanged();
  return true;
}

qint64 ConversationListModel::create(const QString& title, const QString& model) {
  auto id = store_.createConversation(title, model);
  if (!id) return report(id.error()), -1;
  auto created = store_.conversation(id.value());
  if (!created) return report(created.error()), -1;
  beginInsertRows({}, 0, 0);
  conversations_.prepend(created.value());
  endInsertRows();
  emit countChanged();
  return id.value();
}

bool ConversationListModel::rename(int row, const QString& title) {
  if (row < 0 || row >= count()) return report(QStringLiteral("No conversation at row %1.").arg(row));
  auto done = store_.renameConversation(conversations_[row].id, title);
  if (!done) return report(done.error());
  conversations_[row].title = title;
  emit dataChanged(index(row), index(row), {TitleRole, Qt::DisplayRole});
  return true;
}

bool ConversationListModel::remove(int row) {
  if (row < 0 || row >= count()) return report(QStringLiteral("No conversation at row %1.").arg(row));
  auto done = store_.deleteConversation(conversations_[row].id);
  if (!done) return report(done.error());
  beginRemoveRows({}, row, row);
  conversations_.removeAt(row);
  endRemoveRows();
  emit countChanged();
  return true;
}

int ConversationListModel::rowOf(qint64 id) const {
  for (int row = 0; row < count(); ++row) {
    if (conversations_[row].id == id) return row;
  }
  return -1;
}

qint64 ConversationListModel::idAt(int row) const {
  return row >= 0 && row < count() ? conversations_[row].id : -1;
}

void ConversationListModel::touch(qint64 id) {
  const int row = rowOf(id);
  if (row <= 0) return;
  beginMoveRows({}, row, row, {}, 0);
  conversations_.move(row, 0);
  endMoveRows();
}

}  // namespace sieve::app
