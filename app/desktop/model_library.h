#pragma once
// The models the user added, remembered across runs in one JSON file in the
// per-user data folder (<AppDataLocation>/models.json; never the install
// folder). Each entry describes a model file as measured when it was added:
// its name, where it came from, the pack the app runs (flash mode), its size,
// types, architecture, parameter count and the DRAM it needs.
//
// The library only records; packing is model_import's. A model whose file
// has gone (moved, deleted, on an unplugged disk) stays listed as missing
// until the user removes it. Every change is saved at once (QSaveFile: the
// file is replaced whole, never half-written); failures come back as Result
// errors with one sentence.

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include "desktop/result.h"

class QJsonObject;

namespace sieve::app {

struct ModelEntry {
  QString id;          // stable, unique in the library
  QString name;        // display name: general.name, else the file's name
  QString sourcePath;  // the GGUF the user chose (may be the pack itself)
  QString packPath;    // the Sieve pack the app loads
  bool ownsPack = false;   // the pack was made by the import (in our models folder): removing deletes it
  qint64 sourceBytes = 0;
  qint64 packBytes = 0;
  QStringList types;       // tensor types by share of the weights, largest first ("Q4_K", "Q6_K")
  QString architecture;    // "llama", "qwen2"
  qint64 parameters = 0;   // weights counted from the tensor shapes; 0 when unknown
  qint64 minimumDramBytes = 0;  // flash mode's least budget (at planContext)
  qint64 fullDramBytes = 0;     // everything resident (no budget)
  qint64 planContext = 0;       // the context the two figures above were planned for
  QDateTime added;

  bool operator==(const ModelEntry&) const = default;
};

// Display helpers shared by the list model and the controller.
QString formatBytes(qint64 bytes);         // "1.50 GiB", "312 MiB", "640 KiB" (as the planner prints)
QString formatParameters(qint64 count);    // "1.1B parameters", "260K parameters"

// The one name a model goes by everywhere (sidebar, title bar, models page,
// status): the GGUF's general.name when it says something — not empty, not a
// placeholder such as "model" or "llama", not the architecture — else the
// file's name without its extension ("tinyllama-1.1b.Q4_K_M").
QString modelDisplayName(const QString& generalName, const QString& filePath, const QString& architecture = {});

class ModelLibrary {
 public:
  static constexpr int kFormatVersion = 1;

  // `path` empty: defaultPath().
  explicit ModelLibrary(QString path = {});

  static QString defaultPath();       // <AppDataLocation>/models.json
  static QString defaultModelsDir();  // <AppDataLocation>/models: where imports write packs
  const QString& path() const { return path_; }

  // Reads the file (a missing file is an empty library). A damaged file is
  // moved aside to "<file>.damaged" so the next save cannot destroy it, and
  // reported; the library is then empty.
  Result<Done> load();

  const QList<ModelEntry>& entries() const { return entries_; }
  int indexOfId(const QString& id) const;
  // The entry whose pack or source is `path` (compared canonically), or -1.
  int indexOfPath(const QString& path) const;

  // Appends and saves. Refuses an entry whose pack is already listed.
  Result<Done> add(ModelEntry entry);
  // Removes and saves; a pack the import made (ownsPack) is deleted too unless
  // `deletePack` is false. The user's own files never are.
  Result<Done> remove(const QString& id, bool deletePack = true);

  // Whether the file the app would load is there.
  static bool isAvailable(const ModelEntry& entry);

 private:
  Result<Done> save() const;
  static QJsonObject toJson(const ModelEntry& entry);
  static ModelEntry fromJson(const QJsonObject& object);

  QString path_;
  QList<ModelEntry> entries_;
};

}  // namespace sieve::app
