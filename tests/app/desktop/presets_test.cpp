// Presets (issue 19), on real SQLite files in a temporary folder: create,
// read, update and delete; names unique per scope; values checked; the
// Default kept; deleting a preset in use (its conversations fall back to the
// Default, no dangling id); which presets are offered with which model; the
// editor (PresetsController) writing the selected preset and refusing bad
// values; the presets an older install's settings give; and the request a
// preset makes (ChatController's requestFor). The migration of a version 4
// file is test_history_store's; a preset reaching the worker, test_chat_controller's.
#include <QFileInfo>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <cmath>
#include <functional>

#include "raw_sqlite.h"

#include "desktop/app_settings.h"
#include "desktop/chat_controller.h"
#include "desktop/history_store.h"
#include "desktop/preset_store.h"
#include "desktop/presets_controller.h"

using namespace sieve::app;

namespace {

Preset named(const QString& name, const QString& model = {}) {
  Preset p = Preset::builtInDefaults();
  p.builtIn = false;
  p.name = name;
  p.model = model;
  p.modelName = model.isEmpty() ? QString() : QFileInfo(model).completeBaseName();
  return p;
}

QStringList namesOf(const QList<Preset>& presets) {
  QStringList names;
  for (const Preset& p : presets) names << p.name;
  return names;
}

QStringList namesOf(const QVariantList& presets) {
  QStringList names;
  for (const QVariant& p : presets) names << p.toMap().value("name").toString();
  return names;
}

}  // namespace

class PresetsTest : public QObject {
  Q_OBJECT

 private slots:
  void init() { QVERIFY(dir_.isValid()); }

  void createsReadsUpdatesAndKeepsNamesUniquePerScope() {
    HistoryStore history(dir_.filePath("crud.sqlite"));
    PresetStore presets(history);
    const auto terse = presets.create(named("Terse"));
    QVERIFY2(terse.ok(), qPrintable(terse.error()));
    QCOMPARE(namesOf(presets.list().value()), (QStringList{"Default", "Terse"}));

    // The same name in the same scope, whatever its case: refused, saying where.
    const auto again = presets.create(named("terse"));
    QVERIFY(!again.ok());
    QCOMPARE(again.error(), QString("There is already a preset named \u201cterse\u201d for all models."));
    // In another scope it is free; twice in that scope it is not.
    QVERIFY(presets.create(named("Terse", "/m/a.gguf")).ok());
    const auto twice = presets.create(named("TERSE", "/m/a.gguf"));
    QCOMPARE(twice.error(), QString("There is already a preset named \u201cTERSE\u201d for a."));

    Preset edited = presets.preset(terse.value()).value();
    edited.name = "Brief";
    edited.systemPrompt = "One sentence.";
    edited.temperature = 0.2;
    edited.topK = 5;
    edited.maxTokens = 64;
    QVERIFY(presets.update(edited).ok());
    QCOMPARE(presets.preset(terse.value()).value(), edited);
    // Renamed onto another's name: refused, the stored one unchanged.
    edited.name = "Default";
    QVERIFY(!presets.update(edited).ok());
    QCOMPARE(presets.preset(terse.value()).value().name, QString("Brief"));

    // The Default: renamed and edited, not scoped to a model, not deleted, not made twice.
    Preset base = presets.defaultPreset().value();
    base.name = "Everyday";
    base.systemPrompt = "Be kind.";
    QVERIFY(presets.update(base).ok());
    QCOMPARE(presets.defaultPreset().value().name, QString("Everyday"));
    base.model = "/m/a.gguf";
    QCOMPARE(presets.update(base).error(), QString("The Default preset is for every model."));
    QCOMPARE(presets.remove(base.id).error(), QString("The Default preset cannot be deleted."));
    QVERIFY(!presets.create(Preset::builtInDefaults()).ok());
    QCOMPARE(presets.list().value().first().id, base.id);
    QCOMPARE(presets.preset(12345).error(), QString("No preset 12345."));
    QCOMPARE(presets.freeName("Brief", {}).value(), QString("Brief 2"));
    QCOMPARE(presets.freeName("Brief", "/m/a.gguf").value(), QString("Brief"));
  }

  void refusesValuesOutOfRangeWithOneSentence() {
    HistoryStore history(dir_.filePath("values.sqlite"));
    PresetStore presets(history);
    const struct {
      std::function<void(Preset&)> change;
      QString error;
    } cases[] = {
        {[](Preset& p) { p.name = "  "; }, "A preset needs a name."},
        {[](Preset& p) { p.name = QString(61, 'x'); }, "A preset's name can be at most 60 characters long."},
        {[](Preset& p) { p.temperature = 2.5; }, "Temperature must be between 0 and 2; 2.5 is not."},
        {[](Preset& p) { p.temperature = -0.1; }, "Temperature must be between 0 and 2; -0.1 is not."},
        {[](Preset& p) { p.topP = 1.5; }, "Top-p must be between 0 and 1; 1.5 is not."},
        {[](Preset& p) { p.topK = -1; }, "Top-k must be between 0 and 1000; -1 is not."},
        {[](Preset& p) { p.minP = 2; }, "Min-p must be between 0 and 1; 2 is not."},
        {[](Preset& p) { p.repeatPenalty = 0.5; }, "The repeat penalty must be between 1 and 2; 0.5 is not."},
        {[](Preset& p) { p.maxTokens = 0; }, "The reply length must be between 1 and 32768; 0 is not."},
        {[](Preset& p) { p.temperature = std::nan(""); }, "Temperature must be between 0 and 2; nan is not."},
    };
    for (const auto& c : cases) {
      Preset p = named("Checked");
      c.change(p);
      const auto created = presets.create(p);
      QVERIFY(!created.ok());
      QCOMPARE(created.error(), c.error);
    }
    QCOMPARE(presets.list().value().size(), 1);  // nothing stored
    Preset limits = named("At the limits");
    limits.temperature = 2;
    limits.topP = 0;
    limits.topK = 1000;
    limits.minP = 1;
    limits.repeatPenalty = 2;
    limits.maxTokens = PresetLimits::kMaxReplyTokens;
    QVERIFY(presets.create(limits).ok());
  }

  // Deleting a preset in use: its conversations fall back to the Default (and
  // say so in the file: no id left pointing at nothing), a model that last used
  // it starts new chats with the Default, the conversations themselves stay.
  void deletingAPresetInUseFallsBackToTheDefault() {
    HistoryStore history(dir_.filePath("delete.sqlite"));
    PresetStore presets(history);
    const qint64 doomed = presets.create(named("Doomed")).value();
    const qint64 kept = presets.create(named("Kept")).value();
    const qint64 a = history.createConversation("a").value();
    const qint64 b = history.createConversation("b").value();
    const qint64 c = history.createConversation("c").value();
    QVERIFY(presets.setConversationPreset(a, doomed).ok());
    QVERIFY(presets.setConversationPreset(b, doomed).ok());
    QVERIFY(presets.setConversationPreset(c, kept).ok());
    QVERIFY(presets.setLastUsedWith("/m/a.gguf", doomed).ok());
    QCOMPARE(presets.conversationsUsing(doomed).value(), 2);

    QCOMPARE(presets.remove(doomed).value(), 2);
    const qint64 base = presets.defaultPreset().value().id;
    QCOMPARE(presets.conversationPreset(a).value(), base);
    QCOMPARE(presets.conversationPreset(b).value(), base);
    QCOMPARE(presets.conversationPreset(c).value(), kept);
    QCOMPARE(presets.effective(a, "/m/a.gguf").value().id, base);
    QCOMPARE(presets.forNewConversation("/m/a.gguf").value().id, base);
    QCOMPARE(history.listConversations().value().size(), 3);
    QCOMPARE(rawQuery(history.path(), {"SELECT COUNT(*) FROM conversations WHERE preset_id IS NOT NULL"
                                       " AND preset_id NOT IN (SELECT id FROM presets)",
                                       "SELECT COUNT(*) FROM model_presets", "PRAGMA foreign_key_check"}),
             (QStringList{"0", "0"}));
    QCOMPARE(presets.remove(doomed).error(), QString("No preset %1.").arg(doomed));
    // The Default is stored as "none": a conversation given it shows no id either.
    QVERIFY(presets.setConversationPreset(c, base).ok());
    QCOMPARE(rawQuery(history.path(), {QString("SELECT preset_id IS NULL FROM conversations WHERE id = %1").arg(c)}),
             QStringList{"1"});
    QVERIFY(!presets.setConversationPreset(c, 999).ok());
    QVERIFY(!presets.setConversationPreset(999, kept).ok());
  }

  // A model's own preset is offered only with that model; elsewhere its
  // conversations run with the Default; new chats take the model's last used.
  void offersAModelsPresetsOnlyWithThatModel() {
    HistoryStore history(dir_.filePath("scope.sqlite"));
    PresetStore presets(history);
    const qint64 everywhere = presets.create(named("Everywhere")).value();
    const qint64 onlyA = presets.create(named("Only A", "/m/a.gguf")).value();
    QVERIFY(presets.create(named("Only B", "/m/b.gguf")).ok());
    QCOMPARE(namesOf(presets.offeredWith("/m/a.gguf").value()), (QStringList{"Default", "Everywhere", "Only A"}));
    QCOMPARE(namesOf(presets.offeredWith("/m/b.gguf").value()), (QStringList{"Default", "Everywhere", "Only B"}));
    QCOMPARE(namesOf(presets.offeredWith({}).value()), (QStringList{"Default", "Everywhere"}));
    QCOMPARE(namesOf(presets.list().value()), (QStringList{"Default", "Everywhere", "Only A", "Only B"}));

    const qint64 chat = history.createConversation("chat").value();
    QVERIFY(presets.setConversationPreset(chat, onlyA).ok());
    const qint64 base = presets.defaultPreset().value().id;
    QCOMPARE(presets.effective(chat, "/m/a.gguf").value().id, onlyA);
    QCOMPARE(presets.effective(chat, "/m/b.gguf").value().id, base);  // another model loaded
    QCOMPARE(presets.conversationPreset(chat).value(), onlyA);       // ... but the choice is kept

    QCOMPARE(presets.forNewConversation("/m/a.gguf").value().id, base);
    QVERIFY(presets.setLastUsedWith("/m/a.gguf", onlyA).ok());
    QVERIFY(presets.setLastUsedWith("/m/b.gguf", everywhere).ok());
    QCOMPARE(presets.forNewConversation("/m/a.gguf").value().id, onlyA);
    QCOMPARE(presets.forNewConversation("/m/b.gguf").value().id, everywhere);
    // "Everywhere" narrowed to model A: model B's new chats no longer start with it.
    Preset narrowed = presets.preset(everywhere).value();
    narrowed.model = "/m/a.gguf";
    narrowed.modelName = "a";
    QVERIFY(presets.update(narrowed).ok());
    QCOMPARE(presets.forNewConversation("/m/b.gguf").value().id, base);
  }

  // The settings page's editor: the selected preset's fields write through, a
  // refused value is reported and not kept, New / Duplicate / Rename / scope /
  // Delete, and the picker's list follows the loaded model.
  void theEditorWritesTheSelectedPreset() {
    HistoryStore history(dir_.filePath("editor.sqlite"));
    PresetStore presets(history);
    PresetsController editor(history);
    QSignalSpy edited(&editor, &PresetsController::presetsEdited);
    QVERIFY(editor.builtIn());
    QCOMPARE(editor.name(), QString("Default"));

    editor.setTemperature(0.4);
    editor.setSystemPrompt("Be kind.");
    QCOMPARE(presets.defaultPreset().value().temperature, 0.4);
    QCOMPARE(presets.defaultPreset().value().systemPrompt, QString("Be kind."));
    QCOMPARE(edited.size(), 2);
    QVERIFY(editor.error().isEmpty());

    QSignalSpy selected(&editor, &PresetsController::selectedChanged);
    editor.setTemperature(5);  // refused: the stored value stays, the controls are told to show it
    QCOMPARE(editor.error(), QString("Temperature must be between 0 and 2; 5 is not."));
    QCOMPARE(editor.temperature(), 0.4);
    QCOMPARE(presets.defaultPreset().value().temperature, 0.4);
    QVERIFY(selected.size() >= 1);
    QCOMPARE(edited.size(), 2);
    editor.setTopK(10);  // the next change that works clears the error
    QVERIFY(editor.error().isEmpty());
    QVERIFY(!editor.deletePreset());
    QCOMPARE(editor.error(), QString("The Default preset cannot be deleted."));
    QVERIFY(!editor.setForLoadedModel(true));

    QVERIFY(editor.newPreset());
    QCOMPARE(editor.name(), QString("New preset"));
    QVERIFY(!editor.builtIn());
    QCOMPARE(editor.temperature(), Preset::builtInDefaults().temperature);  // the built-in values, not the Default's
    QVERIFY(editor.newPreset());
    QCOMPARE(editor.name(), QString("New preset 2"));
    editor.setMaxTokens(77);
    QVERIFY(editor.duplicatePreset());
    QCOMPARE(editor.name(), QString("New preset 2 copy"));
    QCOMPARE(editor.maxTokens(), 77);
    QVERIFY(!editor.renamePreset("new PRESET"));
    QCOMPARE(editor.error(), QString("There is already a preset named \u201cnew PRESET\u201d for all models."));
    QVERIFY(editor.renamePreset("  Long answers "));
    QCOMPARE(editor.name(), QString("Long answers"));
    QCOMPARE(namesOf(editor.presets()), (QStringList{"Default", "Long answers", "New preset", "New preset 2"}));

    // Scoped to the loaded model: offered with it, not with another.
    QVERIFY(!editor.setForLoadedModel(true));
    QCOMPARE(editor.error(), QString("Load a model first to keep a preset for it."));
    editor.setLoadedModel("/m/a.gguf", "Model A");
    QVERIFY(editor.setForLoadedModel(true));
    QVERIFY(!editor.forAllModels());
    QCOMPARE(editor.scopeModelName(), QString("Model A"));
    QVERIFY(namesOf(editor.offered()).contains("Long answers"));
    const QVariantMap row = editor.offered().last().toMap();
    QCOMPARE(row.value("label").toString(), QString("Long answers (Model A)"));
    QCOMPARE(row.value("scope").toString(), QString("Model A only"));
    editor.setLoadedModel("/m/b.gguf", "Model B");
    QVERIFY(!namesOf(editor.offered()).contains("Long answers"));
    QVERIFY(namesOf(editor.presets()).contains("Long answers"));

    // Delete: the Default is selected after; the conversations using it fall back.
    const qint64 chat = history.createConversation("chat").value();
    QVERIFY(presets.setConversationPreset(chat, qint64(editor.selectedId())).ok());
    QCOMPARE(editor.conversationsUsingSelected(), 1);
    QVERIFY(editor.deletePreset());
    QVERIFY(editor.builtIn());
    QCOMPARE(presets.conversationPreset(chat).value(), qint64(editor.selectedId()));
    QCOMPARE(namesOf(editor.presets()), (QStringList{"Default", "New preset", "New preset 2"}));
    editor.select(424242);  // gone: the Default
    QVERIFY(editor.builtIn());
    QVERIFY(editor.resetValues());
    QCOMPARE(editor.temperature(), Preset::builtInDefaults().temperature);
    QCOMPARE(editor.systemPrompt(), QString("Be kind."));  // kept: only the values go back
  }

  // What an install from before presets had in its settings becomes its presets:
  // the global prompt and sampling the Default, and a model whose own values
  // differ a preset for it (one with the same values as the global ones, or
  // with its overrides off, none).
  void anOlderInstallsSettingsBecomePresets() {
    const QString file = dir_.filePath("old.ini");
    const auto group = [](const QString& path) { return "models/" + QString::fromLatin1(QUrl::toPercentEncoding(path)); };
    {
      QSettings old(file, QSettings::IniFormat);
      old.setValue("settings/systemPrompt", "Be kind.");
      old.setValue("settings/temperature", 0.3);
      old.setValue("settings/maxTokens", 99);
      old.setValue("settings/mode", "flash");
      old.setValue(group("/models/own settings.gguf") + "/overrides", true);
      old.setValue(group("/models/own settings.gguf") + "/systemPrompt", "Answer in French.");
      old.setValue(group("/models/own settings.gguf") + "/temperature", 0.9);
      old.setValue(group("/models/same.gguf") + "/overrides", true);
      old.setValue(group("/models/same.gguf") + "/systemPrompt", "Be kind.");
      old.setValue(group("/models/same.gguf") + "/temperature", 0.3);
      old.setValue(group("/models/same.gguf") + "/maxTokens", 99);
      old.setValue(group("/models/off.gguf") + "/overrides", false);
      old.setValue(group("/models/off.gguf") + "/temperature", 1.5);
    }
    const QList<Preset> seed = AppSettings(file).presetSeed();
    QCOMPARE(seed.size(), 2);
    QVERIFY(seed[0].builtIn);
    QCOMPARE(seed[0].systemPrompt, QString("Be kind."));
    QCOMPARE(seed[0].temperature, 0.3);
    QCOMPARE(seed[0].maxTokens, 99);
    QCOMPARE(seed[0].topP, Preset::builtInDefaults().topP);  // never set: that version's default
    QVERIFY(!seed[1].builtIn);
    QCOMPARE(seed[1].model, QString("/models/own settings.gguf"));
    QCOMPARE(seed[1].name, QString("own settings"));
    QCOMPARE(seed[1].systemPrompt, QString("Answer in French."));
    QCOMPARE(seed[1].temperature, 0.9);
    QCOMPARE(seed[1].maxTokens, 99);  // not set for the model: the global value it ran with

    // A new install: the built-in values.
    QCOMPARE(AppSettings(dir_.filePath("new.ini")).presetSeed(), QList<Preset>{Preset::builtInDefaults()});
  }

  // The request a reply makes: the preset's system prompt first, the finished
  // messages, its sampling and reply length.
  void aPresetMakesTheRequest() {
    Preset p = named("Sample");
    p.systemPrompt = "You are terse.";
    p.temperature = 0.25;
    p.topP = 0.5;
    p.topK = 7;
    p.minP = 0.1;
    p.repeatPenalty = 1.2;
    p.maxTokens = 33;
    QList<Message> history(3);
    history[0].role = "user";
    history[0].content = "Hi";
    history[0].complete = true;
    history[1].role = "assistant";
    history[1].content = "half a repl";  // unfinished (a crash mid-reply): left out
    history[2].role = "user";
    history[2].content = "Again";
    history[2].complete = true;
    const GenerationRequest r = requestFor(9, p, history, 42);
    QCOMPARE(r.id, quint64(9));
    QCOMPARE(r.messages.size(), 3);
    QCOMPARE(r.messages[0].role, QString("system"));
    QCOMPARE(r.messages[0].content, QString("You are terse."));
    QCOMPARE(r.messages[2].content, QString("Again"));
    QCOMPARE(r.sampling.temperature, 0.25f);
    QCOMPARE(r.sampling.top_p, 0.5f);
    QCOMPARE(r.sampling.top_k, 7);
    QCOMPARE(r.sampling.min_p, 0.1f);
    QCOMPARE(r.sampling.repeat_penalty, 1.2f);
    QCOMPARE(r.sampling.seed, quint64(42));
    QCOMPARE(r.maxTokens, 33);
    p.systemPrompt = "  \n";
    QCOMPARE(requestFor(10, p, history, 42).messages.first().role, QString("user"));  // no system message
  }

 private:
  QTemporaryDir dir_;
};

QTEST_GUILESS_MAIN(PresetsTest)

#include "presets_test.moc"
