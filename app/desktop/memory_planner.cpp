#include "desktop/memory_planner.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QLocale>
#include <QStandardPaths>
#include <QThread>
#include <QVariantList>
#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

#include "engine.h"
#include "engine/auto_mode.h"
#include "engine/model_file.h"
#include "flash/io/disk_profile.h"
#include "util/byte_size.h"
#include "util/system_memory.h"

namespace sieve::app {
namespace {

QVariantMap item(const QString& what, quint64 bytes, const QString& note = {}) {
  QString text = QString::fromStdString(format_size(bytes));
  if (!note.isEmpty()) text += QStringLiteral("  (%1)").arg(note);
  return {{"what", what}, {"bytes", double(bytes)}, {"text", text}};
}

template <typename Options>
constexpr bool hasSparseWindow() {
  return requires(Options options) { options.sparse.window; };
}

bool isSparse(const QString& mode) { return mode == QLatin1String("sparse"); }

// What the engine would load the pack with for these settings (engine.h's
// defaults otherwise): the options Engine::plan plans by.
EngineOptions planOptions(const QString& packPath, double budgetBytes, const PlanSettings& settings) {
  EngineOptions options;
  options.model_path = QFile::encodeName(packPath).toStdString();
  options.mode = isSparse(settings.mode) ? EngineMode::sparse : EngineMode::flash;
  options.dram_budget.bytes = budgetBytes > 0 ? quint64(budgetBytes) : 0;
  options.threads = resolvedThreads(settings.threads);
  options.context = settings.context;
  options.sparse.window = settings.sparseWindow;
  if (const auto kind = sparse::parse_predictor_kind(settings.sparsePredictor.toStdString())) {
    options.sparse.predictor = *kind;
  }
  return options;
}

}  // namespace

int resolvedThreads(int threads) {
  return threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
}

PackNeeds packNeeds(const QString& packPath, const PlanSettings& settings) {
  PackNeeds needs;
  needs.threads = resolvedThreads(settings.threads);
  needs.mode = isSparse(settings.mode) ? QStringLiteral("sparse") : QStringLiteral("flash");
  try {
    const MemoryPlan plan = Engine::plan(planOptions(packPath, 0, settings));
    needs.minimum = plan.minimum;
    needs.full = plan.total;
    needs.context = plan.context;
    needs.ok = true;
  } catch (const std::exception& e) {
    needs.error = QString::fromStdString(e.what());
  }
  return needs;
}

QString describePlanSettings(int threads, qint64 context, const QString& mode) {
  const QString text = threads == 1 ? QCoreApplication::translate("MemoryPlanner", "for 1 thread, a %2-token context, %3 mode")
                                     : QCoreApplication::translate("MemoryPlanner", "for %1 threads, a %2-token context, %3 mode");
  return (threads == 1 ? text.arg(context) : text.arg(threads).arg(context)).arg(mode);
}

QStringList MemoryPlanner::supportedModes() {
  QStringList modes;
  for (const char* name : {"auto", "dense", "mmap", "flash", "sparse"}) {
    if (parse_engine_mode(name)) modes << QString::fromLatin1(name);
  }
  return modes;
}

bool MemoryPlanner::sparseWindowSupported() { return hasSparseWindow<EngineOptions>(); }

MemoryPlanner::MemoryPlanner(QObject* parent) : QObject(parent), availableBytes_(available_memory_bytes()) {
  setDiskProfilePath(defaultDiskProfilePath());
}

double MemoryPlanner::defaultBudget() const { return flash::kDefaultBudgetShare * double(availableBytes_); }

QString MemoryPlanner::defaultBudgetText() const {
  return tr("%1, %2% of the %3 available now")
      .arg(formatSize(defaultBudget()))
      .arg(qRound(flash::kDefaultBudgetShare * 100))
      .arg(formatSize(double(availableBytes_)));
}

void MemoryPlanner::refreshAvailable() {
  const quint64 now = available_memory_bytes();
  if (now == availableBytes_) return;
  availableBytes_ = now;
  emit availableChanged();
}

QVariantMap MemoryPlanner::parseBudget(const QString& text) const {
  const flash::BudgetText parsed = flash::parse_budget_text(text.toStdString(), availableBytes_);
  return {{"ok", parsed.ok()}, {"bytes", double(parsed.bytes)}, {"error", QString::fromStdString(parsed.error)}};
}

QVariantMap MemoryPlanner::autoChoice(double budgetBytes, int threads, qint64 context) const {
  QVariantMap out{{"ok", false}};
  if (modelPath_.isEmpty() || !readable_) {
    out["error"] = modelPath_.isEmpty() ? tr("No model is loaded.") : tr("%1 is not a model Sieve can read.").arg(modelPath_);
    return out;
  }
  try {
    EngineOptions options;
    options.model_path = QFile::encodeName(modelPath_).toStdString();
    options.threads = resolvedThreads(threads);
    options.context = context;
    const quint64 budget = budgetBytes > 0 ? quint64(budgetBytes) : quint64(defaultBudget());
    const flash::ModeFacts facts = flash::gather_mode_facts(options, budget);
    const flash::ModeChoice choice = flash::choose_engine_mode(facts);
    out["ok"] = true;
    out["mode"] = QString::fromLatin1(to_string(choice.mode));
    out["line"] = QString::fromStdString(choice.line);
    out["offer"] = QString::fromStdString(choice.offer);
    out["everythingBytes"] = double(facts.everything_bytes);
    out["flashMinimum"] = double(facts.flash_minimum);
  } catch (const std::exception& e) {
    out["error"] = QString::fromStdString(e.what());
  }
  return out;
}

MemoryPlanner::~MemoryPlanner() = default;

QString MemoryPlanner::defaultDiskProfilePath() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/disk-profile.json";
}

double MemoryPlanner::machineBytes() const { return double(physical_memory_bytes()); }

double MemoryPlanner::budgetAt(double position, double low, double full, double high) {
  const double p = std::clamp(position, 0.0, 1.0);
  high = std::max(high, low);
  if (full >= high || full <= low) return low + (high - low) * p;
  if (p <= kUsefulShare) return low + (full - low) * p / kUsefulShare;
  return full * std::pow(high / full, (p - kUsefulShare) / (1 - kUsefulShare));
}

double MemoryPlanner::positionOf(double bytes, double low, double full, double high) {
  high = std::max(high, low);
  if (high <= low) return 0;
  const double b = std::clamp(bytes, low, high);
  if (full >= high || full <= low) return (b - low) / (high - low);
  if (b <= full) return kUsefulShare * (b - low) / (full - low);
  return kUsefulShare + (1 - kUsefulShare) * std::log(b / full) / std::log(high / full);
}

QString MemoryPlanner::formatSize(double bytes) {
  return QString::fromStdString(format_size(quint64(std::max(0.0, bytes))));
}

void MemoryPlanner::setModelPath(const QString& path) {
  if (path == modelPath_) return;
  modelPath_ = path;
  readable_ = budgetable_ = false;
  defaultContext_ = 0;
  modelBytes_ = quint64(QFileInfo(path).size());
  if (!path.isEmpty()) {
    try {
      const ModelFileInfo info = inspect_model_file(QFile::encodeName(path).toStdString());
      readable_ = true;
      budgetable_ = info.is_pack || info.n_experts > 0;
      defaultContext_ = info.default_context;
    } catch (const std::exception&) {
      // Not a model we can plan for (the engine reports why when it loads it).
    }
  }
  emit modelChanged();
  emit effectiveChanged();
}

void MemoryPlanner::setEffective(const PlanSettings& settings) {
  if (settings == effective_) return;
  effective_ = settings;
  emit effectiveChanged();
}

double MemoryPlanner::minimumBudget() const {
  const PlanSettings& s = effective_;
  return minimumBytes(s.threads, s.context, s.mode, s.sparseWindow, s.sparsePredictor);
}

double MemoryPlanner::clampBudget(double budgetBytes) const {
  if (budgetBytes <= 0) return budgetBytes;
  return std::max(budgetBytes, minimumBudget());
}

QString MemoryPlanner::planSettingsText() const {
  return describePlanSettings(effectiveThreads(), effectiveContext(), isSparse(effective_.mode) ? "sparse" : "flash");
}

void MemoryPlanner::setDiskProfilePath(const QString& path) {
  diskProfilePath_ = path;
  diskMBps_ = 0;
  if (QFileInfo::exists(path)) {
    try {
      const flash::DiskProfile profile = flash::DiskProfile::load(path.toStdString());
      const flash::FlashTuning tuning;  // the engine's read size; flash mode's depth
      diskMBps_ = profile.mb_per_s_at(tuning.read_bytes, flash::kFlashQueueDepth);
    } catch (const std::exception&) {
      diskMBps_ = 0;  // unreadable: the speed stays "unknown"
    }
  }
  emit diskProfileChanged();
}

qint64 MemoryPlanner::resolveContext(qint64 context) const {
  return context > 0 || !budgetable_ ? context : defaultContext_;
}

double MemoryPlanner::minimumBytes(int threads, qint64 context, const QString& mode, int sparseWindow,
                                   const QString& sparsePredictor) const {
  const QVariantMap unlimited = plan(0, threads, context, mode, sparseWindow, sparsePredictor);
  return unlimited.value("ok").toBool() ? unlimited.value("minimumBytes").toDouble() : 0;
}

QVariantMap MemoryPlanner::plan(double budgetBytes, int threads, qint64 context, const QString& mode,
                                int sparseWindow, const QString& sparsePredictor) const {
  QVariantMap out{{"ok", false}, {"expectedTokensPerSecond", -1.0}};
  if (!budgetable_) {
    out["error"] = modelPath_.isEmpty() ? tr("No model is loaded.")
                                        : tr("%1 is not packed for flash mode; the DRAM budget applies to packed models.")
                                              .arg(QFileInfo(modelPath_).fileName());
    return out;
  }
  const PlanSettings settings{mode, threads, context, sparseWindow, sparsePredictor};
  try {
    const MemoryPlan plan = Engine::plan(planOptions(modelPath_, budgetBytes, settings));
    out = plan.mode == EngineMode::sparse ? sparsePlan(plan) : flashPlan(plan);
  } catch (const std::exception& e) {
    out["error"] = QString::fromStdString(e.what());  // below the minimum: the planner names it and its parts
    return out;
  }
  out["mode"] = isSparse(mode) ? QStringLiteral("sparse") : QStringLiteral("flash");
  out["threads"] = resolvedThreads(threads);
  out["context"] = resolveContext(context);
  return out;
}

QVariantMap MemoryPlanner::flashPlan(const MemoryPlan& plan) const {
  QVariantMap out{{"ok", true}, {"expectedTokensPerSecond", -1.0}};
  QVariantList items;
  for (const MemoryPlanItem& fixed : plan.fixed) items.append(item(QString::fromStdString(fixed.what), fixed.bytes));
  if (plan.experts > 0) {
    items.append(item(tr("expert cache"), quint64(plan.expert_slots) * plan.expert_slot_bytes,
                      tr("%1 of %2 experts").arg(plan.expert_slots).arg(plan.experts)));
  } else {
    items.append(item(tr("FFN pinned in DRAM"), plan.pinned_bytes,
                      tr("%1 of %2 layers").arg(plan.pinned_layers).arg(plan.layers)));
    items.append(item(tr("FFN streaming buffers"), plan.stream_buffer_bytes,
                      tr("%1 layers streamed").arg(plan.streamed_layers)));
  }
  out["items"] = items;
  out["minimumBytes"] = double(plan.minimum);
  out["totalBytes"] = double(plan.total);
  out["pinnedLayers"] = int(plan.pinned_layers);
  out["streamedLayers"] = int(plan.streamed_layers);
  out["layers"] = int(plan.layers);
  out["streamedBytesPerToken"] = double(plan.streamed_bytes_per_token);
  const QString perToken = QString::fromStdString(format_size(plan.streamed_bytes_per_token));
  if (plan.experts > 0) {
    out["streamedBytesPerToken"] = plan.expected_read_bytes_per_token;
    out["speedText"] = expertSpeedText(plan);
  } else if (plan.streamed_bytes_per_token == 0) {
    out["speedText"] = tr("Everything fits in DRAM: nothing is read from the disk per token.");
  } else if (diskMBps_ <= 0) {
    out["speedText"] = tr("Reads %1 from the disk per token; expected speed unknown (no disk profile — Measure "
                          "disk, or `sieve probe-disk --json %2`).").arg(perToken, diskProfilePath_);
  } else {
    const double tps = diskMBps_ * 1e6 / double(plan.streamed_bytes_per_token);
    out["expectedTokensPerSecond"] = tps;
    out["speedText"] = tr("Reads %1 from the disk per token: at most %2 tokens/s at the disk's %3 MB/s "
                          "(the I/O bound; compute may be slower).")
                           .arg(perToken)
                           .arg(tps, 0, 'f', tps < 10 ? 2 : 1)
                           .arg(diskMBps_, 0, 'f', 0);
  }
  return out;
}

// Flash mode on a Mixture-of-Experts model: how much of the expert cache
// holds, what a token reads if tokens spread evenly over the experts (the
// worst case; real text reuses experts), and what that means on this disk.
QString MemoryPlanner::expertSpeedText(const MemoryPlan& plan) const {
  if (plan.expert_slots >= plan.experts) {
    return tr("Every expert fits in DRAM: after the first use of each, nothing is read per token.");
  }
  const QLocale locale;
  const double share = 100.0 * double(plan.expert_slots) / double(plan.experts);
  const double perToken = plan.expected_read_bytes_per_token;
  QString text = tr("Experts cached: %1 of %2 (%3%); about %4 read per token if tokens spread evenly over the "
                    "experts (real text reuses experts, so usually less)")
                     .arg(locale.toString(qlonglong(plan.expert_slots)), locale.toString(qlonglong(plan.experts)))
                     .arg(share, 0, 'f', 0)
                     .arg(QString::fromStdString(format_size(uint64_t(perToken))));
  if (diskMBps_ > 0 && perToken > 0) {
    const double tps = diskMBps_ * 1e6 / perToken;
    text += tr("; about %1 tokens/s at the disk's %2 MB/s.").arg(tps, 0, 'f', tps < 10 ? 2 : 1).arg(diskMBps_, 0, 'f', 0);
  } else {
    text += tr("; expected speed unknown until the disk is measured.");
  }
  return text;
}

// Sparse mode's split (sparse/sparse_plan.h): the fixed parts as in flash
// mode, the predictor, and the neuron stores the window and hot units fill.
// What it reads per token depends on which neurons each token activates, so
// the speed is an estimate from the pack's calibration, or none.
QVariantMap MemoryPlanner::sparsePlan(const MemoryPlan& plan) const {
  QVariantMap out{{"ok", true}, {"expectedTokensPerSecond", -1.0}};
  QVariantList items;
  for (const MemoryPlanItem& fixed : plan.fixed) items.append(item(QString::fromStdString(fixed.what), fixed.bytes));
  items.append(item(tr("predictor"), plan.predictor_bytes, QString::fromStdString(plan.predictor_text)));
  items.append(item(tr("neuron stores"), plan.store_bytes,
                    plan.shrunk ? tr("%1 layers; smaller than the window wants").arg(plan.layers)
                                : tr("%1 layers, window of %2 tokens").arg(plan.layers).arg(plan.window)));
  out["items"] = items;
  out["minimumBytes"] = double(plan.minimum);
  out["totalBytes"] = double(plan.total);
  out["layers"] = int(plan.layers);
  const double perToken = plan.expected_read_bytes_per_token;
  out["streamedBytesPerToken"] = perToken > 0 ? perToken : -1.0;
  const QString shrunk = plan.shrunk ? tr("The budget holds less than the window wants, so more neurons are re-read. ")
                                     : QString();
  const QString source = QString::fromStdString(plan.estimate_source);
  if (perToken <= 0) {
    out["speedText"] = shrunk + tr("What a token reads depends on which neurons it activates, and this pack has no "
                                   "calibration to estimate it from (`sieve calibrate`; `sieve bench --modes sparse` "
                                   "measures it).");
  } else if (diskMBps_ <= 0) {
    out["speedText"] = shrunk + tr("Reads about %1 from the disk per token (estimated from %2); expected speed unknown "
                                   "(no disk profile — Measure disk).")
                                    .arg(formatSize(perToken), source);
  } else {
    const double tps = diskMBps_ * 1e6 / perToken;
    out["expectedTokensPerSecond"] = tps;
    out["speedText"] = shrunk + tr("Reads about %1 from the disk per token (estimated from %2): at most %3 tokens/s "
                                   "at the disk's %4 MB/s (the I/O bound; compute may be slower).")
                                    .arg(formatSize(perToken), source)
                                    .arg(tps, 0, 'f', tps < 10 ? 2 : 1)
                                    .arg(diskMBps_, 0, 'f', 0);
  }
  return out;
}

}  // namespace sieve::app
