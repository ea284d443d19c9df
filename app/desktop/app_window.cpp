#include "desktop/app_window.h"

#include <QCoreApplication>
#include <QGuiApplication>
#include <QPalette>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQuickStyle>
#include <QQuickWindow>

#include "desktop/app_settings.h"
#include "desktop/chat_controller.h"
#include "desktop/disk_measure.h"
#include "desktop/memory_planner.h"
#include "desktop/models_controller.h"

namespace sieve::app {

void configureApplication() {
  QCoreApplication::setOrganizationName("Sieve");
  QCoreApplication::setOrganizationDomain("sieve.app");
  QCoreApplication::setApplicationName("Sieve");
  // Basic: the same look everywhere, coloured by Main.qml's palette (light / dark).
  QQuickStyle::setStyle("Basic");
}

namespace {

// Qt 6.4's Text.MarkdownText draws links in the application palette's Link
// colour and ignores Text.linkColor: keep it the theme's accent (Theme.qml).
void followThemeInLinks(const AppSettings& settings) {
  if (!qobject_cast<QGuiApplication*>(QCoreApplication::instance())) return;
  QPalette palette = QGuiApplication::palette();
  const QColor accent = settings.dark() ? QColor("#7aa2f7") : QColor("#2f5bd3");
  if (palette.color(QPalette::Link) == accent) return;
  palette.setColor(QPalette::Link, accent);
  QGuiApplication::setPalette(palette);
}

PlanSettings planSettingsOf(const AppSettings& settings) {
  return {settings.mode(), settings.threads(), settings.contextLength(), settings.sparseWindow(),
          settings.sparsePredictor()};
}

// A budget below the model's minimum under the settings in effect could not
// load: raise it to the minimum (saved), so it is never kept below it.
// Returns whether it changed (AppSettings::changed then runs `push` again).
bool raiseBudgetToMinimum(AppSettings& settings, const MemoryPlanner& planner) {
  const double clamped = planner.clampBudget(settings.dramBudget());
  if (clamped == settings.dramBudget()) return false;
  settings.setDramBudget(clamped);
  return true;
}

}  // namespace

void bindSettings(AppSettings& settings, ChatController& chat, MemoryPlanner& planner) {
  const auto push = [&settings, &chat, &planner] {
    planner.setEffective(planSettingsOf(settings));
    if (raiseBudgetToMinimum(settings, planner)) return;  // the change pushes again
    chat.setProperty("temperature", settings.temperature());
    chat.setProperty("topP", settings.topP());
    chat.setProperty("topK", settings.topK());
    chat.setProperty("minP", settings.minP());
    chat.setProperty("repeatPenalty", settings.repeatPenalty());
    chat.setProperty("maxTokens", settings.maxTokens());
    chat.setProperty("systemPrompt", settings.systemPrompt());
    // These restart the engine (once, however many change together).
    chat.setMode(settings.mode());
    chat.setDramBudget(settings.dramBudget());
    chat.setSparseWindow(settings.sparseWindow());
    chat.setSparsePredictor(settings.sparsePredictor());
    chat.setThreads(settings.threads());
    chat.setContextLength(settings.contextLength());
  };
  push();
  QObject::connect(&settings, &AppSettings::changed, &chat, push);
  followThemeInLinks(settings);
  QObject::connect(&settings, &AppSettings::changed, &chat, [&settings] { followThemeInLinks(settings); });
  // A model's overrides apply from its load on; the planner plans for it
  // (first, so the budget is checked against this model's minimum).
  QObject::connect(&chat, &ChatController::modelAboutToLoad, &settings,
                   [&settings, &planner, push](const QString& path) {
                     planner.setModelPath(path);
                     settings.setModelPath(path);
                     push();
                   });
  QObject::connect(&chat, &ChatController::modelChanged, &settings, [&settings, &chat] {
    if (chat.modelLoaded()) settings.setLastModel(chat.modelPath());
  });
}

QQuickWindow* loadMainWindow(QQmlApplicationEngine& engine, ChatController& chat, QString* error) {
  QStringList warnings;
  const QMetaObject::Connection collecting = QObject::connect(&engine, &QQmlApplicationEngine::warnings, &engine, [&warnings](const QList<QQmlError>& list) {
    for (const QQmlError& e : list) warnings << e.toString();
  });
  engine.rootContext()->setContextProperty("chat", &chat);
  // Owned by the QML engine (its children), so they live as long as the UI.
  auto* settings = new AppSettings({}, &engine);
  auto* planner = new MemoryPlanner(&engine);
  bindSettings(*settings, chat, *planner);
  engine.rootContext()->setContextProperty("settings", settings);
  engine.rootContext()->setContextProperty("planner", planner);
  // Measure disk (settings page): the profile lands where the planner reads it; the speed updates at once.
  auto* diskMeasure = new DiskMeasure(&engine);
  diskMeasure->setProfilePath(planner->diskProfilePath());
  QObject::connect(diskMeasure, &DiskMeasure::measured, planner, &MemoryPlanner::setDiskProfilePath);
  engine.rootContext()->setContextProperty("diskMeasure", diskMeasure);
  // The models page (`models`): the library in the per-user data folder, loading through `chat`.
  auto* models = new ModelsController(&chat, {}, {}, &engine);
  engine.rootContext()->setContextProperty("models", models);
  // The models list plans every model for the engine settings in effect, as the settings page does.
  const auto replan = [models, planner] { models->list()->setPlanSettings(planner->effective()); };
  replan();
  QObject::connect(planner, &MemoryPlanner::effectiveChanged, models, replan);
  engine.load(QUrl(QStringLiteral("qrc:/Sieve/Ui/Main.qml")));
  QObject::disconnect(collecting);  // `warnings` lives only in this call
  QQuickWindow* window = engine.rootObjects().isEmpty() ? nullptr
                                                        : qobject_cast<QQuickWindow*>(engine.rootObjects().first());
  if (!window && error) {
    *error = "The user interface (qrc:/Sieve/Ui/Main.qml) failed to load: " + warnings.join("; ");
  }
  return window;
}

}  // namespace sieve::app
