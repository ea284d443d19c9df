#include "desktop/memory_planner.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QStandardPaths>
#include <QThread>
#include <QVariantList>
#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

#include "engine.h"
#include "engine/auto_mode.h"
#include "flash/io/disk_profile.h"
#include "engine/pack_backend.h"
#include "flash/pack_file.h"
#include "flash/planner.h"
#include "gguf/gguf_file.h"
#include "sparse/predictor.h"
#include "sparse/sparse_plan.h"

namespace sieve::app {
namespace {

constexpr qint64 kDefaultContextCap = 4096;  // EngineOptions::context = 0 means min(training, 4096)

QVariantMap item(const QString& what, quint64 bytes, const QString& note = {}) {
  QString text = QString::fromStdString(flash::format_size(bytes));
  if (!note.isEmpty()) text += QStringLiteral("  (%1)").arg(note);
  return {{"what", what}, {"bytes", double(bytes)}, {"text", text}};
}

template <typename Options>
constexpr bool hasSparseWindow() {
  return requires(Options options) { options.sparse.window; };
}

bool isSparse(const QString& mode) { return mode == QLatin1String("sparse"); }

qint64 resolveContextOf(const flash::PackFile& pack, qint64 context) {
  if (context > 0) return context;
  const int64_t trained = pack.hparams().train_context;
  return trained > 0 ? std::min<qint64>(trained, kDefaultContextCap) : kDefaultContextCap;
}

// What the engine's pack backend gets for these settings (engine.h's defaults otherwise).
flash::BackendOptions backendOptions(const flash::PackFile& pack, double budgetBytes, const PlanSettings& settings) {
  flash::BackendOptions options;
  options.mode = isSparse(settings.mode) ? EngineMode::sparse : EngineMode::flash;
  options.budget.bytes = budgetBytes > 0 ? quint64(budgetBytes) : 0;
  options.context = resolveContextOf(pack, settings.context);
  options.batch = EngineOptions{}.batch;
  options.sparse.window = settings.sparseWindow;
  if (const auto kind = sparse::parse_predictor_kind(settings.sparsePredictor.toStdString())) {
    options.sparse.predictor = *kind;
  }
  return options;
}

// FFN bytes one token is expected to read in sparse mode: per layer, the
// units it needs (n a_u) that the last k tokens did not bring in
// ((1 - a_u)^k), k being the window, or less when the budget shrank the
// store. 0 when the active fraction is only a default guess.
double sparseBytesPerToken(const sparse::SparsePlan& plan) {
  const std::string& source = plan.inputs.active_source;
  if (source.find("default") != std::string::npos || source.find("every neuron") != std::string::npos) return 0;
  double bytes = 0;
  for (size_t l = 0; l < plan.layers.size() && l < plan.inputs.layers.size(); ++l) {
    const sparse::SparseLayerNeeds& needs = plan.inputs.layers[l];
    const double n = double(needs.n_units);
    const double a = 1.0 - std::pow(1.0 - std::clamp(needs.active_fraction, 0.0, 1.0), double(needs.cluster));
    if (n <= 0 || a <= 0) continue;
    double k = plan.inputs.window;
    const double held = std::min(1.0, double(plan.layers[l].capacity) / n);
    if (a < 1 && held < 1) k = std::min(k, std::max(0.0, std::log(1.0 - held) / std::log(1.0 - a) - 1.0));
    bytes += n * a * std::pow(1.0 - a, k) * double(needs.unit_bytes);
  }
  return bytes;
}

}  // namespace

int resolvedThreads(int threads) {
  return threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
}

PackNeeds packNeeds(const flash::PackFile& pack, const PlanSettings& settings) {
  PackNeeds needs;
  needs.threads = resolvedThreads(settings.threads);
  needs.mode = isSparse(settings.mode) ? QStringLiteral("sparse") : QStringLiteral("flash");
  const flash::BackendOptions options = backendOptions(pack, 0, settings);
  needs.context = options.context;
  try {
    if (isSparse(settings.mode)) {
      const sparse::SparsePlan plan = flash::plan_sparse_pack_memory(pack, options, needs.threads);
      needs.minimum = plan.minimum;
      needs.full = plan.total();
    } else {
      const flash::MemoryPlan plan = flash::plan_pack_memory(pack, options, needs.threads);
      needs.minimum = plan.minimum;
      needs.full = plan.total();
    }
    needs.ok = true;
  } catch (const std::exception& e) {
    needs.error = QString::fromStdString(e.what());
  }
  return needs;
}

PackNeeds packNeeds(const QString& packPath, const PlanSettings& settings) {
  try {
    const flash::PackFile pack = flash::PackFile::open(packPath.toStdString());
    return packNeeds(pack, settings);
  } catch (const std::exception& e) {
    PackNeeds needs;
    needs.error = QString::fromStdString(e.what());
    return needs;
  }
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

MemoryPlanner::MemoryPlanner(QObject* parent) : QObject(parent), availableBytes_(flash::available_memory_bytes()) {
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
  const quint64 now = flash::available_memory_bytes();
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
  if (modelPath_.isEmpty() || !file_) {
    out["error"] = modelPath_.isEmpty() ? tr("No model is loaded.") : tr("%1 is not a model Sieve can read.").arg(modelPath_);
    return out;
  }
  try {
    EngineOptions options;
    options.model_path = modelPath_.toStdString();
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

double MemoryPlanner::machineBytes() const { return double(flash::physical_memory_bytes()); }

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
  return QString::fromStdString(flash::format_size(quint64(std::max(0.0, bytes))));
}

void MemoryPlanner::setModelPath(const QString& path) {
  if (path == modelPath_) return;
  modelPath_ = path;
  pack_.reset();
  file_.reset();
  modelBytes_ = quint64(QFileInfo(path).size());
  if (!path.isEmpty()) {
    try {
      file_ = std::make_unique<gguf::GgufFile>(gguf::GgufFile::open(path.toStdString()));
      if (flash::PackFile::is_pack(*file_)) pack_ = std::make_unique<flash::PackFile>(flash::PackFile::over(*file_));
    } catch (const std::exception&) {
      // Not a model we can plan for (the engine reports why when it loads it).
      pack_.reset();
      file_.reset();
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
      const flash::FlashTuning tuning;  // the engine's read size and depth
      diskMBps_ = profile.mb_per_s_at(tuning.read_bytes, tuning.queue_depth);
    } catch (const std::exception&) {
      diskMBps_ = 0;  // unreadable: the speed stays "unknown"
    }
  }
  emit diskProfileChanged();
}

qint64 MemoryPlanner::resolveContext(qint64 context) const {
  return pack_ ? resolveContextOf(*pack_, context) : context;
}

double MemoryPlanner::minimumBytes(int threads, qint64 context, const QString& mode, int sparseWindow,
                                   const QString& sparsePredictor) const {
  const QVariantMap unlimited = plan(0, threads, context, mode, sparseWindow, sparsePredictor);
  return unlimited.value("ok").toBool() ? unlimited.value("minimumBytes").toDouble() : 0;
}

QVariantMap MemoryPlanner::plan(double budgetBytes, int threads, qint64 context, const QString& mode,
                                int sparseWindow, const QString& sparsePredictor) const {
  if (!pack_) {
    QVariantMap out{{"ok", false}, {"expectedTokensPerSecond", -1.0}};
    out["error"] = modelPath_.isEmpty() ? tr("No model is loaded.")
                                        : tr("%1 is not packed for flash mode; the DRAM budget applies to packed models.")
                                              .arg(QFileInfo(modelPath_).fileName());
    return out;
  }
  const PlanSettings settings{mode, threads, context, sparseWindow, sparsePredictor};
  QVariantMap out = isSparse(mode) ? sparsePlan(budgetBytes, settings) : flashPlan(budgetBytes, settings);
  out["mode"] = isSparse(mode) ? QStringLiteral("sparse") : QStringLiteral("flash");
  out["threads"] = resolvedThreads(threads);
  out["context"] = resolveContext(context);
  return out;
}

QVariantMap MemoryPlanner::flashPlan(double budgetBytes, const PlanSettings& settings) const {
  QVariantMap out{{"ok", false}, {"expectedTokensPerSecond", -1.0}};
  flash::MemoryPlan plan;
  try {
    plan = flash::plan_pack_memory(*pack_, backendOptions(*pack_, budgetBytes, settings), resolvedThreads(settings.threads));
  } catch (const std::exception& e) {
    out["error"] = QString::fromStdString(e.what());  // below the minimum: the planner names it and its parts
    return out;
  }
  QVariantList items;
  for (const flash::MemoryItem& fixed : plan.fixed) items.append(item(QString::fromStdString(fixed.what), fixed.bytes));
  const qsizetype layers = qsizetype(plan.pinned.size() + plan.streamed.size());
  items.append(item(tr("FFN pinned in DRAM"), plan.pinned_bytes,
                    tr("%1 of %2 layers").arg(plan.pinned.size()).arg(layers)));
  items.append(item(tr("FFN streaming buffers"), plan.stream_buffer_bytes,
                    tr("%1 layers streamed").arg(plan.streamed.size())));
  out["ok"] = true;
  out["items"] = items;
  out["minimumBytes"] = double(plan.minimum);
  out["totalBytes"] = double(plan.total());
  out["pinnedLayers"] = int(plan.pinned.size());
  out["streamedLayers"] = int(plan.streamed.size());
  out["layers"] = int(layers);
  out["streamedBytesPerToken"] = double(plan.streamed_bytes_per_token);
  const QString perToken = QString::fromStdString(flash::format_size(plan.streamed_bytes_per_token));
  if (plan.streamed_bytes_per_token == 0) {
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

// Sparse mode's split (sparse/sparse_plan.h): the fixed parts as in flash
// mode, the predictor, and the neuron stores the window and hot units fill.
// What it reads per token depends on which neurons each token activates, so
// no speed is promised.
QVariantMap MemoryPlanner::sparsePlan(double budgetBytes, const PlanSettings& settings) const {
  QVariantMap out{{"ok", false}, {"expectedTokensPerSecond", -1.0}};
  sparse::SparsePlan plan;
  try {
    plan = flash::plan_sparse_pack_memory(*pack_, backendOptions(*pack_, budgetBytes, settings),
                                          resolvedThreads(settings.threads));
  } catch (const std::exception& e) {
    out["error"] = QString::fromStdString(e.what());  // below the minimum, or the pack lacks the predictor
    return out;
  }
  QVariantList items;
  for (const flash::MemoryItem& fixed : plan.fixed) items.append(item(QString::fromStdString(fixed.what), fixed.bytes));
  items.append(item(tr("predictor"), plan.predictor_bytes, QString::fromStdString(plan.inputs.predictor_text)));
  items.append(item(tr("neuron stores"), plan.store_bytes,
                    plan.shrunk ? tr("%1 layers; smaller than the window wants").arg(plan.layers.size())
                                : tr("%1 layers, window of %2 tokens").arg(plan.layers.size()).arg(plan.inputs.window)));
  out["ok"] = true;
  out["items"] = items;
  out["minimumBytes"] = double(plan.minimum);
  out["totalBytes"] = double(plan.total());
  out["layers"] = int(plan.layers.size());
  const double perToken = sparseBytesPerToken(plan);
  out["streamedBytesPerToken"] = perToken > 0 ? perToken : -1.0;
  const QString shrunk = plan.shrunk ? tr("The budget holds less than the window wants, so more neurons are re-read. ")
                                     : QString();
  const QString source = QString::fromStdString(plan.inputs.active_source);
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
