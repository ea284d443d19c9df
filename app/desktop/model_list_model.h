#pragma once
// The models page's list: one row per model in the ModelLibrary, with what
// the view shows (size, types, minimum DRAM, status) as roles. Changes go to
// the library first; the rows change only when it accepted them (and saved).
// Whether each file is still there is checked on reload() and refresh().
// The DRAM figures are the planner's (memory_planner.h) for the effective
// engine settings once setPlanSettings() was called (the app keeps them
// current), else the ones measured at import; PlanTextRole says which
// threads, context and mode they are for.

#include <QAbstractListModel>
#include <QList>
#include <QtQml/qqmlregistration.h>
#include <optional>

#include "desktop/memory_planner.h"
#include "desktop/model_library.h"

namespace sieve::app {

class ModelListModel : public QAbstractListModel {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  Q_PROPERTY(int count READ count NOTIFY countChanged)

 public:
  enum Role {
    IdRole = Qt::UserRole + 1,
    NameRole,
    PathRole,          // the pack the app loads
    SourcePathRole,
    SizeBytesRole,     // of the pack
    SizeTextRole,
    TypeTextRole,      // "Q4_K, Q6_K"
    ArchitectureRole,
    ParametersRole,
    ParametersTextRole,
    MinimumDramRole,   // bytes
    MinimumDramTextRole,
    FullDramTextRole,
    StatusRole,        // "ready" or "missing"
    AvailableRole,
    ActiveRole,        // the model the chat runs
    OwnsPackRole,
    PlanContextRole,   // the context (tokens) the DRAM figures were planned for
    PlanTextRole,      // "for 2 threads, a 512-token context, flash mode"
  };

  // `library` must outlive the model.
  explicit ModelListModel(ModelLibrary& library, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QHash<int, QByteArray> roleNames() const override;
  int count() const { return int(rows_.size()); }

  // Re-reads the library file.
  Result<Done> reload();
  // Re-checks which files exist; rows whose status changed are updated.
  void refresh();
  Result<Done> add(const ModelEntry& entry);
  Result<Done> remove(int row, bool deletePack = true);
  // Marks the row whose pack (or source) is `path` as active; "" for none.
  void setActivePath(const QString& path);
  // Re-plans every row's DRAM figures for these engine settings.
  void setPlanSettings(const PlanSettings& settings);

  const ModelEntry* entryAt(int row) const;
  int rowOfPath(const QString& path) const { return library_.indexOfPath(path); }

 signals:
  void countChanged();

 private:
  struct Row {
    ModelEntry entry;
    bool available = false;
    PackNeeds needs;  // for settings_ (ok = false: use the entry's figures)
  };
  bool isActive(const ModelEntry& entry) const;
  Row makeRow(const ModelEntry& entry) const;
  QVariant dramData(const Row& row, int role) const;

  ModelLibrary& library_;
  QList<Row> rows_;  // in library order
  QString activePath_;
  QString activeId_;
  std::optional<PlanSettings> settings_;
};

}  // namespace sieve::app
