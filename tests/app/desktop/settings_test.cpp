// Settings: AppSettings persistence with per-model overrides, the binding
// that pushes settings into the controller, and MemoryPlanner on a real pack
// (stories260K packed in a temporary folder): slider bounds, the split, and
// the expected speed with and without a disk profile; sparse mode's own
// split; one minimum for every page (the planner's, for the settings in
// effect) and a budget never kept below it. Auto mode: the default mode and
// budget (60% of the memory available), what it chooses for a plain GGUF and
// a pack (the engine's decision) and the line the controller shows after a
// load; the budget typed as text; the slider's scale; sparse mode's speed
// estimated from a synthetic ReLU pack's active fraction.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "desktop/app_settings.h"
#include "desktop/app_window.h"
#include "desktop/chat_controller.h"
#include "desktop/memory_planner.h"
#include "desktop/model_library.h"
#include "desktop/model_list_model.h"
#include "flash/io/disk_profile.h"
#include "engine/auto_mode.h"
#include "flash/pack_format.h"
#include "flash/pack_writer.h"
#include "synth/synth_model.h"

using namespace sieve::app;

namespace {
const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");
}

class SettingsTest : public QObject {
  Q_OBJECT

 private slots:
  void defaultsWithoutAFile() {
    QTemporaryDir dir;
    AppSettings settings(dir.filePath("s.ini"));
    QCOMPARE(settings.mode(), QString("auto"));
    QCOMPARE(settings.dramBudget(), 0.0);  // the default budget: 60% of the memory available at load
    QCOMPARE(settings.sparseWindow(), 4);
    QCOMPARE(settings.contextLength(), 0);
    QCOMPARE(settings.theme(), QString("system"));  // follows the platform (test_look checks a dark one)
    QVERIFY(!settings.perModel());
    QVERIFY(!settings.dark());  // no GUI application here: no platform palette, light
  }

  void perModelOverridesPersist() {
    QTemporaryDir dir;
    const QString file = dir.filePath("s.ini");
    const QString modelA = "/models/a.sieve";
    const QString modelB = "/models/b b.gguf";
    {
      AppSettings settings(file);
      settings.setContextLength(1024);
      settings.setThreads(3);
      settings.setModelPath(modelA);
      QVERIFY(!settings.perModel());
      QCOMPARE(settings.contextLength(), 1024);  // the global value
      QSignalSpy changed(&settings, &AppSettings::changed);
      settings.setPerModel(true);
      QVERIFY(settings.perModel());
      QCOMPARE(changed.size(), 1);
      QCOMPARE(settings.contextLength(), 1024);  // turning it on starts from what was in effect
      settings.setContextLength(256);
      settings.setMode("flash");
      settings.setDramBudget(3e9);
      settings.setSparsePredictor("lowrank");
      settings.setTheme("dark");  // always global
      settings.setModelPath(modelB);
      QCOMPARE(settings.contextLength(), 1024);
      QCOMPARE(settings.mode(), QString("auto"));  // a model without settings: the default
      QCOMPARE(settings.threads(), 3);
      QCOMPARE(settings.sparsePredictor(), QString("gate"));
      QCOMPARE(settings.theme(), QString("dark"));
    }
    AppSettings reopened(file);
    QCOMPARE(reopened.contextLength(), 1024);
    reopened.setModelPath(modelA);
    QVERIFY(reopened.perModel());
    QCOMPARE(reopened.contextLength(), 256);
    QCOMPARE(reopened.mode(), QString("flash"));
    QCOMPARE(reopened.dramBudget(), 3e9);
    QCOMPARE(reopened.threads(), 3);
    QCOMPARE(reopened.sparsePredictor(), QString("lowrank"));
    QVERIFY(reopened.dark());
    // Off again: the model's values are forgotten, the global ones apply.
    reopened.setPerModel(false);
    QCOMPARE(reopened.contextLength(), 1024);
    QCOMPARE(reopened.mode(), QString("auto"));
    reopened.setModelPath(modelB);
    reopened.setModelPath(modelA);
    QVERIFY(!reopened.perModel());
  }

  // The local server's settings: off, port 8080, loopback, no key by default;
  // global (a model's overrides leave them alone); kept across restarts; a
  // port outside 1..65535 is ignored.
  void localServerSettingsPersistAndAreGlobal() {
    QTemporaryDir dir;
    const QString file = dir.filePath("s.ini");
    {
      AppSettings settings(file);
      QCOMPARE(settings.serverEnabled(), false);
      QCOMPARE(settings.serverPort(), 8080);
      QCOMPARE(settings.serverAllowRemote(), false);
      QCOMPARE(settings.serverApiKey(), QString());
      settings.setModelPath("/m/a.gguf");
      settings.setPerModel(true);
      settings.setServerEnabled(true);
      settings.setServerPort(9123);
      settings.setServerPort(0);       // ignored
      settings.setServerPort(70000);   // ignored
      settings.setServerAllowRemote(true);
      settings.setServerApiKey("sk-local");
      settings.setModelPath("/m/b.gguf");  // another model: the same server settings
      QCOMPARE(settings.serverPort(), 9123);
      QVERIFY(settings.serverEnabled());
    }
    AppSettings reopened(file);
    QVERIFY(reopened.serverEnabled());
    QCOMPARE(reopened.serverPort(), 9123);
    QVERIFY(reopened.serverAllowRemote());
    QCOMPARE(reopened.serverApiKey(), QString("sk-local"));
    reopened.resetToDefaults();  // the per-model keys only
    QCOMPARE(reopened.serverPort(), 9123);
  }

  void resetToDefaultsOnlyTouchesTheActiveScope() {
    QTemporaryDir dir;
    AppSettings settings(dir.filePath("s.ini"));
    settings.setSparseWindow(7);
    settings.setModelPath("/m.gguf");
    settings.setPerModel(true);
    settings.setSparseWindow(9);
    settings.resetToDefaults();
    QCOMPARE(settings.sparseWindow(), 4);
    settings.setPerModel(false);
    QCOMPARE(settings.sparseWindow(), 7);
  }

  void settingsReachTheController() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    AppSettings settings(dir.filePath("s.ini"));
    MemoryPlanner planner;
    bindSettings(settings, chat, planner);
    settings.setContextLength(512);
    settings.setMode("mmap");
    settings.setThreads(2);
    QCOMPARE(chat.threads(), 2);
    QCOMPARE(chat.contextLength(), 512);
    QCOMPARE(chat.mode(), QString("mmap"));
    // A model's overrides apply when it starts loading, before the engine is built.
    settings.setModelPath("/x/model.gguf");
    settings.setPerModel(true);
    settings.setContextLength(256);
    settings.setModelPath({});
    QCOMPARE(chat.contextLength(), 512);
    emit chat.modelAboutToLoad("/x/model.gguf");
    QCOMPARE(chat.contextLength(), 256);
    QCOMPARE(planner.modelPath(), QString("/x/model.gguf"));
  }

  void plansABudgetForAPack() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
    QTemporaryDir dir;
    const QString pack = dir.filePath("stories260K.sieve");
    sieve::flash::pack_model(kModel.toStdString(), pack.toStdString());
    MemoryPlanner planner;
    planner.setDiskProfilePath(dir.filePath("none.json"));
    planner.setModelPath(pack);
    QVERIFY(planner.budgetable());
    QVERIFY(planner.machineBytes() > 0);
    const double minimum = planner.minimumBytes(1, 256);
    QVERIFY(minimum > 0);

    const QVariantMap everything = planner.plan(0, 1, 256);
    QVERIFY2(everything.value("ok").toBool(), qPrintable(everything.value("error").toString()));
    QCOMPARE(everything.value("streamedLayers").toInt(), 0);
    QCOMPARE(everything.value("pinnedLayers").toInt(), 5);
    QVERIFY(everything.value("speedText").toString().contains("nothing is read"));

    const QVariantMap tight = planner.plan(minimum, 1, 256);
    QVERIFY2(tight.value("ok").toBool(), qPrintable(tight.value("error").toString()));
    QVERIFY(tight.value("streamedLayers").toInt() > 0);
    QVERIFY(tight.value("totalBytes").toDouble() <= minimum);
    const QVariantList items = tight.value("items").toList();
    QVERIFY(items.size() >= 6);
    QCOMPARE(items.first().toMap().value("what").toString(), QString("resident weights"));
    QVERIFY(tight.value("speedText").toString().contains("unknown"));
    QVERIFY(tight.value("expectedTokensPerSecond").toDouble() < 0);

    const QVariantMap below = planner.plan(minimum - 4096, 1, 256);
    QVERIFY(!below.value("ok").toBool());
    QVERIFY(below.value("error").toString().contains("minimum"));

    // With a disk profile: tokens/s <= MB/s / MB per token.
    sieve::flash::DiskProfile profile;
    profile.points.push_back({1u << 20, 32, 500.0, 500.0, 64000, 100, 0.2});
    profile.save(dir.filePath("disk.json").toStdString());
    planner.setDiskProfilePath(dir.filePath("disk.json"));
    QCOMPARE(planner.diskMBps(), 500.0);
    const QVariantMap timed = planner.plan(minimum, 1, 256);
    const double expected = 500e6 / timed.value("streamedBytesPerToken").toDouble();
    QCOMPARE(timed.value("expectedTokensPerSecond").toDouble(), expected);
  }

  void sparseModeHasItsOwnSplit() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
    QTemporaryDir dir;
    const QString pack = dir.filePath("stories260K.sieve");
    sieve::flash::pack_model(kModel.toStdString(), pack.toStdString());
    MemoryPlanner planner;
    planner.setModelPath(pack);
    const QVariantMap everything = planner.plan(0, 1, 256, "sparse", 2, "gate");
    QVERIFY2(everything.value("ok").toBool(), qPrintable(everything.value("error").toString()));
    QCOMPARE(everything.value("mode").toString(), QString("sparse"));
    QStringList parts;
    for (const QVariant& item : everything.value("items").toList()) parts << item.toMap().value("what").toString();
    QVERIFY2(parts.contains("predictor") && parts.contains("neuron stores"), qPrintable(parts.join(", ")));
    QVERIFY(!parts.contains("FFN pinned in DRAM"));
    const double minimum = planner.minimumBytes(1, 256, "sparse", 2, "gate");
    QVERIFY(minimum > 0);
    QVERIFY(minimum != planner.minimumBytes(1, 256));  // not flash mode's figure
    const QVariantMap tight = planner.plan(minimum, 1, 256, "sparse", 2, "gate");
    QVERIFY2(tight.value("ok").toBool(), qPrintable(tight.value("error").toString()));
    QVERIFY(tight.value("totalBytes").toDouble() <= minimum);
    QVERIFY(!planner.plan(minimum - 4096, 1, 256, "sparse", 2, "gate").value("ok").toBool());
    // A wider window wants more DRAM when nothing limits it.
    QVERIFY(planner.plan(0, 1, 256, "sparse", 16, "gate").value("totalBytes").toDouble() >=
            everything.value("totalBytes").toDouble());
  }

  // The settings page, the models list and the status bar's budget all come
  // from one minimum: the planner's, for the threads, context and mode in effect.
  void oneMinimumForEveryPage() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
    QTemporaryDir dir;
    const QString pack = dir.filePath("stories260K.sieve");
    sieve::flash::pack_model(kModel.toStdString(), pack.toStdString());
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    AppSettings settings(dir.filePath("s.ini"));
    MemoryPlanner planner;
    bindSettings(settings, chat, planner);
    settings.setMode("flash");
    settings.setThreads(1);
    settings.setContextLength(256);
    emit chat.modelAboutToLoad(pack);
    QCOMPARE(planner.effectiveThreads(), 1);
    QCOMPARE(planner.effectiveContext(), qint64(256));
    QCOMPARE(planner.planSettingsText(), QString("for 1 thread, a 256-token context, flash mode"));
    const double minimum = planner.minimumBudget();
    QCOMPARE(minimum, planner.minimumBytes(1, 256));

    ModelLibrary library(dir.filePath("models.json"));
    ModelEntry entry;
    entry.id = "a";
    entry.packPath = pack;
    entry.minimumDramBytes = 1;  // as if measured under other settings
    QVERIFY(library.add(entry));
    ModelListModel list(library);
    list.setPlanSettings(planner.effective());
    QCOMPARE(list.data(list.index(0), ModelListModel::MinimumDramRole).toLongLong(), qint64(minimum));
    QCOMPARE(list.data(list.index(0), ModelListModel::PlanTextRole).toString(), planner.planSettingsText());

    // More context needs more DRAM: a budget set at the old minimum is raised to the new one.
    settings.setDramBudget(minimum);
    settings.setContextLength(1024);
    const double larger = planner.minimumBudget();
    QVERIFY(larger > minimum);
    QCOMPARE(settings.dramBudget(), larger);
    QCOMPARE(chat.dramBudget(), larger);
    // A budget below the minimum is never kept; 0 (no budget) stays.
    settings.setDramBudget(larger / 2);
    QCOMPARE(settings.dramBudget(), larger);
    settings.setDramBudget(0);
    QCOMPARE(settings.dramBudget(), 0.0);
    // Sparse mode plans its own minimum.
    settings.setMode("sparse");
    QCOMPARE(planner.minimumBudget(), planner.minimumBytes(1, 1024, "sparse", settings.sparseWindow(), "gate"));
    QVERIFY(planner.planSettingsText().endsWith("sparse mode"));
  }

  void aPlainGgufHasNoBudget() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
    MemoryPlanner planner;
    planner.setModelPath(kModel);
    QVERIFY(!planner.budgetable());
    QCOMPARE(planner.minimumBytes(0, 0), 0.0);
    const QVariantMap plan = planner.plan(1e9, 0, 0);
    QVERIFY(!plan.value("ok").toBool());
    QVERIFY(plan.value("error").toString().contains("not packed"));
    QVERIFY(MemoryPlanner::supportedModes().contains("flash"));
    QCOMPARE(MemoryPlanner::supportedModes().first(), QString("auto"));
  }

  // A Mixture-of-Experts GGUF needs no pack: its budget splits into the
  // resident weights and an expert cache (Engine::plan).
  void anExpertGgufSplitsItsBudgetIntoAnExpertCache() {
    const QString moe = QStringLiteral(SIEVE_SHARED_DIR "/models/arch/qwen3moe.gguf");
    if (!QFile::exists(moe)) QSKIP("../shared/models/arch is missing");
    MemoryPlanner planner;
    planner.setModelPath(moe);
    QVERIFY(planner.budgetable());
    const double minimum = planner.minimumBytes(1, 256);
    QVERIFY(minimum > 0);
    const QVariantMap plan = planner.plan(minimum, 1, 256);
    QVERIFY2(plan.value("ok").toBool(), qPrintable(plan.value("error").toString()));
    bool cache = false;
    for (const QVariant& item : plan.value("items").toList()) {
      const QVariantMap m = item.toMap();
      if (m.value("what").toString() == "expert cache") cache = m.value("text").toString().contains("4 of 32 experts");
    }
    QVERIFY2(cache, qPrintable(QVariant(plan.value("items")).toString()));
    const QString speed = plan.value("speedText").toString();
    QVERIFY2(speed.startsWith("Experts cached: 4 of 32 (13%); about "), qPrintable(speed));
    QVERIFY2(speed.contains("read per token if tokens spread evenly over the experts"), qPrintable(speed));
    // 2 layers x 4 chosen experts, each missed with probability 28/32.
    const double perToken = plan.value("streamedBytesPerToken").toDouble();
    const double expertBytes = plan.value("totalBytes").toDouble() > 0 ? perToken / (2 * 4 * 28.0 / 32.0) : 0;
    QVERIFY2(expertBytes > 50e3 && expertBytes < 120e3, qPrintable(QString::number(expertBytes)));
    QVERIFY(!planner.plan(minimum - 1, 1, 256).value("ok").toBool());
  }

  void theDefaultBudgetIsSixtyPercentOfTheMemoryAvailable() {
    MemoryPlanner planner;
    QVERIFY(planner.availableBytes() > 0);
    QVERIFY(planner.availableBytes() <= planner.machineBytes());
    QCOMPARE(planner.defaultBudget(), 0.6 * planner.availableBytes());
    const QString text = planner.defaultBudgetText();
    QVERIFY2(text.startsWith(MemoryPlanner::formatSize(planner.defaultBudget()) + ", 60% of the " +
                             MemoryPlanner::formatSize(planner.availableBytes()) + " available now"),
             qPrintable(text));
    QVERIFY(text.contains("GiB") || text.contains("MiB"));  // binary units, as everywhere
  }

  void aBudgetTypedAsText() {
    MemoryPlanner planner;
    QVariantMap t = planner.parseBudget("1.5G");
    QVERIFY(t.value("ok").toBool());
    QCOMPARE(t.value("bytes").toDouble(), 1.5 * (1 << 30));
    QCOMPARE(planner.parseBudget("900M").value("bytes").toDouble(), 900.0 * (1 << 20));
    QCOMPARE(planner.parseBudget(MemoryPlanner::formatSize(3.0 * (1 << 30))).value("bytes").toDouble(), 3.0 * (1 << 30));
    t = planner.parseBudget("50%");  // of the memory available now
    QVERIFY(t.value("ok").toBool());
    QVERIFY(qAbs(t.value("bytes").toDouble() - planner.availableBytes() / 2) <= 1);
    for (const char* bad : {"", "lots", "1.5X", "0", "200%"}) {
      t = planner.parseBudget(bad);
      QVERIFY2(!t.value("ok").toBool(), bad);
      QVERIFY2(!t.value("error").toString().isEmpty(), bad);
    }
  }

  // The useful range fills 80% of the slider, then a logarithmic tail.
  void theBudgetSliderScale() {
    const double low = 100e6, full = 1e9, high = 16e9;
    QCOMPARE(MemoryPlanner::budgetAt(0, low, full, high), low);
    QCOMPARE(MemoryPlanner::budgetAt(0.4, low, full, high), (low + full) / 2);
    QCOMPARE(MemoryPlanner::budgetAt(0.8, low, full, high), full);
    QVERIFY(qAbs(MemoryPlanner::budgetAt(1, low, full, high) - high) < 1);
    QVERIFY(qAbs(MemoryPlanner::budgetAt(0.9, low, full, high) - 4e9) < 1e3);  // half the tail: the geometric mean
    for (double p : {0.0, 0.1, 0.5, 0.8, 0.85, 0.99, 1.0}) {
      QVERIFY(qAbs(MemoryPlanner::positionOf(MemoryPlanner::budgetAt(p, low, full, high), low, full, high) - p) < 1e-9);
    }
    // Everything in memory beyond the machine: linear from low to high.
    QCOMPARE(MemoryPlanner::budgetAt(0.5, low, 20e9, high), (low + high) / 2);
    QCOMPARE(MemoryPlanner::positionOf(50e9, low, full, high), 1.0);  // clamped
  }

  void autoModeChoosesFromTheModelAndTheBudget() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
    MemoryPlanner planner;
    planner.setModelPath(kModel);
    QVariantMap c = planner.autoChoice(0, 1, 256);  // the default budget: stories260K fits
    QVERIFY2(c.value("ok").toBool(), qPrintable(c.value("error").toString()));
    QCOMPARE(c.value("mode").toString(), QString("dense"));
    QVERIFY2(c.value("line").toString().startsWith("dense: the whole model ("), qPrintable(c.value("line").toString()));
    QVERIFY(c.value("line").toString().endsWith("fits in the " + MemoryPlanner::formatSize(planner.defaultBudget()) +
                                                " budget"));
    c = planner.autoChoice(64 * 1024, 1, 256);  // a plain GGUF that does not fit: paged, and what to do
    QCOMPARE(c.value("mode").toString(), QString("mmap"));
    QVERIFY2(c.value("line").toString().contains("sieve pack stories260K.gguf"), qPrintable(c.value("line").toString()));

    QTemporaryDir dir;
    const QString pack = dir.filePath("stories260K.sieve");
    sieve::flash::pack_model(kModel.toStdString(), pack.toStdString());
    planner.setModelPath(pack);
    const double minimum = planner.minimumBytes(1, 256);
    const double full = planner.autoChoice(0, 1, 256).value("everythingBytes").toDouble();
    QVERIFY(full > minimum);
    c = planner.autoChoice((minimum + full) / 2, 1, 256);
    QCOMPARE(c.value("mode").toString(), QString("flash"));
    QVERIFY2(c.value("line").toString().contains("of the weights stay in memory"), qPrintable(c.value("line").toString()));
    QVERIFY(c.value("offer").toString().isEmpty());  // not calibrated: nothing to offer
    QCOMPARE(planner.autoChoice(minimum - 4096, 1, 256).value("mode").toString(), QString("mmap"));

    // Calibrated for a fidelity target (`sieve calibrate --fidelity`, as its
    // keys would hold it): the Settings page's offer names the sparsity and
    // the measured figure.
    namespace keys = sieve::flash::pred_keys;
    sieve::flash::PackOptions calibrated;
    calibrated.extras.metadata = {{keys::kTokens, sieve::gguf::Value::u32(4096)},
                                  {keys::kGateSparsity, sieve::gguf::Value::f32(0.4f)},
                                  {keys::kGateFidelityTokens, sieve::gguf::Value::u32(255)},
                                  {keys::kGateFidelityTop1, sieve::gguf::Value::f32(0.992f)},
                                  {keys::kGateFidelityKl, sieve::gguf::Value::f32(0.0012f)}};
    const QString chosen = dir.filePath("stories260K-chosen.sieve");
    sieve::flash::rewrite_pack(pack.toStdString(), chosen.toStdString(), calibrated);
    planner.setModelPath(chosen);
    const QString offer = planner.autoChoice(0, 1, 256).value("offer").toString();
    QVERIFY2(offer.contains("would skip 40% of the neurons"), qPrintable(offer));
    QVERIFY2(offer.contains("on 255 held-out tokens it chose dense mode's next token 99.2% of the time"),
             qPrintable(offer));
  }

  // The default settings (auto, default budget) load a model, and the
  // controller shows the engine's chosen mode and why.
  void autoModeLoadsAndTheControllerSaysWhy() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
    QTemporaryDir dir;
    const QString pack = dir.filePath("stories260K.sieve");
    sieve::flash::pack_model(kModel.toStdString(), pack.toStdString());
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    AppSettings settings(dir.filePath("s.ini"));
    MemoryPlanner planner;
    bindSettings(settings, chat, planner);
    settings.setThreads(1);
    settings.setContextLength(256);
    QCOMPARE(chat.mode(), QString("auto"));
    chat.loadModel(pack);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded() && !chat.loading(), 30000);
    QCOMPARE(chat.loadedMode(), QString("dense"));  // 60% of the available memory holds stories260K
    QVERIFY2(chat.modeChoice().startsWith("dense: the whole model"), qPrintable(chat.modeChoice()));
    QVERIFY(chat.statusText().contains("dense mode"));
    // A budget between the minimum and everything: flash, restarted by the settings change.
    const double minimum = planner.minimumBudget();
    const double full = planner.autoChoice(0, 1, 256).value("everythingBytes").toDouble();
    settings.setDramBudget((minimum + full) / 2);
    QTRY_VERIFY_WITH_TIMEOUT(!chat.loading() && chat.loadedMode() == "flash", 30000);
    QVERIFY2(chat.modeChoice().startsWith("flash: "), qPrintable(chat.modeChoice()));
    QVERIFY(chat.modeChoice().contains("read per token"));
    // An explicit mode says so.
    settings.setMode("mmap");
    QTRY_VERIFY_WITH_TIMEOUT(!chat.loading() && chat.loadedMode() == "mmap", 30000);
    QCOMPARE(chat.modeChoice(), QString("mmap mode (chosen in Settings)"));
  }

  // Sparse mode's speed comes from the planner: bytes per token estimated from
  // the pack's active fraction (here a synthetic ReLU model's recorded target).
  void sparseModeEstimatesItsSpeed() {
    QTemporaryDir dir;
    sieve::synth::SynthSpec spec;
    spec.shape.dim = 64;
    spec.shape.n_layers = 2;
    spec.shape.n_ff = 256;
    spec.shape.n_heads = 4;
    spec.shape.n_kv_heads = 2;
    spec.shape.context_length = 256;
    spec.type = "f16";
    spec.activation = sieve::synth::Activation::ReluThreshold;
    spec.target_sparsity = 0.9;
    spec.threads = 1;
    const QString gguf = dir.filePath("relu.gguf");
    const QString pack = dir.filePath("relu.sieve");
    sieve::synth::write_synthetic_model(spec, gguf.toStdString());
    sieve::flash::pack_model(gguf.toStdString(), pack.toStdString());
    MemoryPlanner planner;
    planner.setDiskProfilePath(dir.filePath("none.json"));
    planner.setModelPath(pack);
    QVariantMap plan = planner.plan(0, 1, 256, "sparse", 4, "gate");
    QVERIFY2(plan.value("ok").toBool(), qPrintable(plan.value("error").toString()));
    const double perToken = plan.value("streamedBytesPerToken").toDouble();
    QVERIFY2(perToken > 0, qPrintable(plan.value("speedText").toString()));
    QVERIFY(plan.value("speedText").toString().contains("unknown"));
    sieve::flash::DiskProfile profile;
    profile.points.push_back({1u << 20, 32, 400.0, 400.0, 80000, 100, 0.2});
    profile.save(dir.filePath("disk.json").toStdString());
    planner.setDiskProfilePath(dir.filePath("disk.json"));
    plan = planner.plan(0, 1, 256, "sparse", 4, "gate");
    QCOMPARE(plan.value("expectedTokensPerSecond").toDouble(), 400e6 / perToken);
    QVERIFY(plan.value("speedText").toString().contains("tokens/s"));
    // A wider window keeps more in DRAM: fewer bytes per token.
    QVERIFY(planner.plan(0, 1, 256, "sparse", 16, "gate").value("streamedBytesPerToken").toDouble() < perToken);
  }
};

QTEST_GUILESS_MAIN(SettingsTest)
#include "settings_test.moc"
