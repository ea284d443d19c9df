#include "desktop/model_list_model.h"

namespace sieve::app {

ModelListModel::ModelListModel(ModelLibrary& library, QObject* parent) : QAbstractListModel(parent), library_(library) {
  for (const ModelEntry& entry : library_.entries()) rows_.append(makeRow(entry));
}

ModelListModel::Row ModelListModel::makeRow(const ModelEntry& entry) const {
  Row row{entry, ModelLibrary::isAvailable(entry), {}};
  if (settings_ && row.available) row.needs = packNeeds(entry.packPath, *settings_);
  return row;
}

void ModelListModel::setPlanSettings(const PlanSettings& settings) {
  if (settings_ == settings) return;
  settings_ = settings;
  for (Row& row : rows_) row = makeRow(row.entry);
  if (!rows_.isEmpty()) {
    emit dataChanged(index(0), index(int(rows_.size()) - 1),
                     {MinimumDramRole, MinimumDramTextRole, FullDramTextRole, PlanContextRole, PlanTextRole});
  }
}

// The planner's figures for the current settings when it could plan the
// pack, else the ones recorded at import (flash mode, all cores).
QVariant ModelListModel::dramData(const Row& row, int role) const {
  const ModelEntry& e = row.entry;
  const bool planned = row.needs.ok;
  const qint64 minimum = planned ? qint64(row.needs.minimum) : e.minimumDramBytes;
  const qint64 full = planned ? qint64(row.needs.full) : e.fullDramBytes;
  switch (role) {
    case MinimumDramRole: return minimum;
    case MinimumDramTextRole: return minimum > 0 ? formatBytes(minimum) : QStringLiteral("unknown");
    case FullDramTextRole: return full > 0 ? formatBytes(full) : QStringLiteral("unknown");
    case PlanContextRole: return planned ? row.needs.context : e.planContext;
    case PlanTextRole:
      return planned ? describePlanSettings(row.needs.threads, row.needs.context, row.needs.mode)
                     : describePlanSettings(resolvedThreads(0), e.planContext, QStringLiteral("flash"));
    default: return {};
  }
}

int ModelListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }

QVariant ModelListModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.parent().isValid() || index.row() >= rows_.size()) return {};
  const Row& row = rows_[index.row()];
  const ModelEntry& e = row.entry;
  switch (role) {
    case Qt::DisplayRole:
    case NameRole: return e.name;
    case IdRole: return e.id;
    case PathRole: return e.packPath;
    case SourcePathRole: return e.sourcePath;
    case SizeBytesRole: return e.packBytes;
    case SizeTextRole: return formatBytes(e.packBytes);
    case TypeTextRole: return e.types.join(QStringLiteral(", "));
    case ArchitectureRole: return e.architecture;
    case ParametersRole: return e.parameters;
    case ParametersTextRole: return formatParameters(e.parameters);
    case MinimumDramRole:
    case MinimumDramTextRole:
    case FullDramTextRole:
    case PlanContextRole:
    case PlanTextRole: return dramData(row, role);
    case StatusRole: return row.available ? QStringLiteral("ready") : QStringLiteral("missing");
    case AvailableRole: return row.available;
    case ActiveRole: return isActive(e);
    case OwnsPackRole: return e.ownsPack;
    default: return {};
  }
}

QHash<int, QByteArray> ModelListModel::roleNames() const {
  return {
      {IdRole, "modelId"},
      {NameRole, "name"},
      {PathRole, "path"},
      {SourcePathRole, "sourcePath"},
      {SizeBytesRole, "sizeBytes"},
      {SizeTextRole, "sizeText"},
      {TypeTextRole, "typeText"},
      {ArchitectureRole, "architecture"},
      {ParametersRole, "parameters"},
      {ParametersTextRole, "parametersText"},
      {MinimumDramRole, "minimumDram"},
      {MinimumDramTextRole, "minimumDramText"},
      {FullDramTextRole, "fullDramText"},
      {StatusRole, "status"},
      {AvailableRole, "available"},
      {ActiveRole, "active"},
      {OwnsPackRole, "ownsPack"},
      {PlanContextRole, "planContext"},
      {PlanTextRole, "planText"},
  };
}

Result<Done> ModelListModel::reload() {
  Result<Done> loaded = library_.load();
  beginResetModel();
  rows_.clear();
  for (const ModelEntry& entry : library_.entries()) rows_.append(makeRow(entry));
  const int active = activePath_.isEmpty() ? -1 : library_.indexOfPath(activePath_);
  activeId_ = active >= 0 ? library_.entries()[active].id : QString();
  endResetModel();
  emit countChanged();
  return loaded;
}

void ModelListModel::refresh() {
  for (int i = 0; i < rows_.size(); ++i) {
    const bool available = ModelLibrary::isAvailable(rows_[i].entry);
    if (available == rows_[i].available) continue;
    rows_[i] = makeRow(rows_[i].entry);
    emit dataChanged(index(i), index(i));
  }
}

Result<Done> ModelListModel::add(const ModelEntry& entry) {
  Result<Done> added = library_.add(entry);
  if (!added) return added;
  const int row = int(rows_.size());
  beginInsertRows({}, row, row);
  rows_.append(makeRow(entry));
  endInsertRows();
  emit countChanged();
  setActivePath(activePath_);  // the model running may be the one just added
  return added;
}

Result<Done> ModelListModel::remove(int row, bool deletePack) {
  if (row < 0 || row >= rows_.size()) return Result<Done>::failure(QStringLiteral("That model is no longer in the list."));
  Result<Done> removed = library_.remove(rows_[row].entry.id, deletePack);
  // Also when only the pack's deletion failed: the library no longer lists it.
  if (library_.indexOfId(rows_[row].entry.id) < 0) {
    beginRemoveRows({}, row, row);
    rows_.removeAt(row);
    endRemoveRows();
    emit countChanged();
  }
  return removed;
}

void ModelListModel::setActivePath(const QString& path) {
  const int row = path.isEmpty() ? -1 : library_.indexOfPath(path);
  const QString id = row >= 0 ? library_.entries()[row].id : QString();
  activePath_ = path;
  if (id == activeId_) return;
  const QString previous = activeId_;
  activeId_ = id;
  for (int i = 0; i < rows_.size(); ++i) {
    if (rows_[i].entry.id == previous || rows_[i].entry.id == id) emit dataChanged(index(i), index(i), {ActiveRole});
  }
}

const ModelEntry* ModelListModel::entryAt(int row) const {
  return row >= 0 && row < rows_.size() ? &rows_[row].entry : nullptr;
}

bool ModelListModel::isActive(const ModelEntry& entry) const { return !activeId_.isEmpty() && entry.id == activeId_; }

}  // namespace sieve::app
