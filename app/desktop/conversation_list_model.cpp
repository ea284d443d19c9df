#include "desktop/conversation_list_model.h"

#include <QRegularExpression>

namespace sieve::app {

QString titleFromMessage(const QString& text) {
  QString t = text;
  static const QRegularExpression fence(QStringLiteral("```[^\\n]*\\n?"));
  static const QRegularExpression image(QStringLiteral("!\\[([^\\]]*)\\]\\([^)]*\\)"));
  static const QRegularExpression link(QStringLiteral("\\[([^\\]]*)\\]\\([^)]*\\)"));
  static const QRegularExpression lineMarks(QStringLiteral("(^|\\n)[ \\t]*(#{1,6}[ \\t]+|>[ \\t]*|[-*+][ \\t]+|\\d+[.)][ \\t]+)"));
  static const QRegularExpression emphasis(QStringLiteral("(\\*\\*|__|~~|`|\\*|(?<![\\w])_|_(?![\\w]))"));
  t.replace(fence, QStringLiteral(" "));
  t.replace(image, QStringLiteral("\\1"));
  t.replace(link, QStringLiteral("\\1"));
  t.replace(lineMarks, QStringLiteral("\\1"));
  t.replace(emphasis, QString());
  const QString line = t.simplified();
  if (line.isEmpty()) return QStringLiteral("New chat");
  return line.size() <= 40 ? line : line.left(39).trimmed() + QChar(0x2026);
}

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
    case ModeRole: return c.mode;
    default: return {};
  }
}

QHash<int, QByteArray> ConversationListModel::roleNames() const {
  return {{IdRole, "conversationId"}, {TitleRole, "title"}, {UpdatedRole, "updated"}, {ModelRole, "modelName"}, {ModeRole, "modelMode"}};
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

std::optional<Conversation> ConversationListModel::take(qint64 id) {
  const int row = rowOf(id);
  if (row < 0) return std::nullopt;
  beginRemoveRows({}, row, row);
  Conversation taken = conversations_.takeAt(row);
  endRemoveRows();
  emit countChanged();
  return taken;
}

void ConversationListModel::restore(const Conversation& conversation) {
  if (rowOf(conversation.id) >= 0) return;
  // Back where listConversations() would put it: most recently updated first.
  int row = 0;
  while (row < count() && (conversations_[row].updated > conversation.updated ||
                           (conversations_[row].updated == conversation.updated && conversations_[row].id > conversation.id))) {
    ++row;
  }
  beginInsertRows({}, row, row);
  conversations_.insert(row, conversation);
  endInsertRows();
  emit countChanged();
}

const Conversation* ConversationListModel::find(qint64 id) const {
  const int row = rowOf(id);
  return row >= 0 ? &conversations_[row] : nullptr;
}

bool ConversationListModel::setModel(qint64 id, const QString& model, const QString& mode) {
  const int row = rowOf(id);
  if (row < 0) return report(QStringLiteral("No conversation %1.").arg(id));
  if (conversations_[row].model == model && conversations_[row].mode == mode) return true;
  auto done = store_.setConversationModel(id, model, mode);
  if (!done) return report(done.error());
  conversations_[row].model = model;
  conversations_[row].mode = mode;
  emit dataChanged(index(row), index(row), {ModelRole, ModeRole});
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
  if (row < 0) return;
  conversations_[row].updated = QDateTime::currentDateTime();
  if (row == 0) return;
  beginMoveRows({}, row, row, {}, 0);
  conversations_.move(row, 0);
  endMoveRows();
}

}  // namespace sieve::app
