#pragma once
// The presets (preset.h) in the history's SQLite file, beside the
// conversations that use them. Schema version 5 of the history
// (history_store.h) adds them, in its own transaction like every version:
//
//   presets(id, name, model, model_name, built_in, system_prompt, temperature,
//           top_p, top_k, min_p, repeat_penalty, max_tokens, created)
//       one row built_in = 1: the Default; names unique per scope (model),
//       case-insensitively;
//   conversations.preset_id → presets ON DELETE SET NULL (NULL: the Default);
//   model_presets(model, preset_id → presets ON DELETE CASCADE): the preset
//       last used with each model, which a new conversation with it takes.
//
// So a deleted preset leaves no dangling id: its conversations fall back to
// the Default, and a model that last used it starts new chats with the Default.
//
//   PresetStore presets(history);
//   Preset terse = Preset::builtInDefaults();
//   terse.builtIn = false;
//   terse.name = "Terse";
//   const auto id = presets.create(terse);            // or an error sentence
//   presets.setConversationPreset(conversation, id.value());
//   presets.effective(conversation, loadedModelPath);  // what its next reply runs with
//
// Uses the history's connection of the calling thread (HistoryStore::database());
// every call returns a Result with one sentence on failure.

#include <QList>
#include <QString>

#include "desktop/preset.h"
#include "desktop/result.h"

class QSqlDatabase;

namespace sieve::app {

class HistoryStore;

class PresetStore {
 public:
  // `history` must outlive the store.
  explicit PresetStore(HistoryStore& history) : history_(history) {}

  // Schema version 5's step (run by HistoryStore's migration, inside its
  // transaction): the tables, and `seed` stored — its built-in preset becomes
  // the Default (Preset::builtInDefaults() when it has none), each preset for
  // one model becomes that model's last used. Values out of range are brought
  // into it (withinLimits), never refused.
  static Result<Done> createTables(QSqlDatabase& db, const QList<Preset>& seed);

  // The Default first, then the presets for every model by name, then those of one model.
  Result<QList<Preset>> list();
  // The presets the chat offers while `model` (a path; empty: none) is loaded:
  // those for every model and that model's, in list() order.
  Result<QList<Preset>> offeredWith(const QString& model);
  Result<Preset> preset(qint64 id);
  Result<Preset> defaultPreset();

  // Checked (validatePreset, and a unique name in its scope); returns the new id.
  Result<qint64> create(const Preset& preset);
  // Saves every field of preset.id, checked as create(); the Default stays the Default.
  Result<Done> update(const Preset& preset);
  // Deletes a preset (never the Default); its conversations fall back to the
  // Default. Returns how many did.
  Result<int> remove(qint64 id);
  // How many conversations use preset `id`.
  Result<int> conversationsUsing(qint64 id);
  // A name not taken in `model`'s scope: `base`, else "base 2", "base 3", ...
  Result<QString> freeName(const QString& base, const QString& model);

  // The preset a conversation was given (the Default's id when none).
  Result<qint64> conversationPreset(qint64 conversation);
  // Gives a conversation a preset (the Default is stored as none).
  Result<Done> setConversationPreset(qint64 conversation, qint64 presetId);
  // What the next reply of `conversation` runs with while `model` is loaded:
  // its preset, or the Default when it has none or its preset is another model's.
  Result<Preset> effective(qint64 conversation, const QString& model);

  // The preset a new conversation with `model` starts with: the one last used
  // with it, else the Default.
  Result<Preset> forNewConversation(const QString& model);
  Result<Done> setLastUsedWith(const QString& model, qint64 presetId);

 private:
  Result<Done> checkNameIsFree(QSqlDatabase& db, const Preset& preset);

  HistoryStore& history_;
};

}  // namespace sieve::app
