#include "desktop/app_window.h"

#include <QColor>
#include <QCoreApplication>
#include <QFileInfo>
#include <QGuiApplication>
#include <QIcon>
#include <QMetaProperty>
#include <QPalette>
#include <QQmlApplicationEngine>
#include <QQuickStyle>
#include <QQuickWindow>
#include <QUrl>

#include "desktop/app_objects.h"
#include "desktop/app_settings.h"
#include "desktop/chat_controller.h"
#include "desktop/disk_measure.h"
#include "desktop/download_manager.h"
#include "desktop/local_server.h"
#include "desktop/log_categories.h"
#include "desktop/memory_planner.h"
#include "desktop/models_controller.h"
#include "desktop/presets_controller.h"

namespace sieve::app {

void configureApplication() {
  QCoreApplication::setOrganizationName("Sieve");
  QCoreApplication::setOrganizationDomain("sieve.app");
  QCoreApplication::setApplicationName("Sieve");
  QCoreApplication::setApplicationVersion(QStringLiteral(SIEVE_VERSION));
  // Basic: the same look everywhere, coloured by Main.qml's palette (light / dark).
  QQuickStyle::setStyle("Basic");
}

namespace {

// Qt 6.4's Text.MarkdownText draws links in the application palette's Link
// colour and ignores Text.linkColor: keep it the theme's accent (Main.qml's
// Theme, objectName "appTheme"), now and whenever the theme changes.
class LinkColourFollower : public QObject {
  Q_OBJECT

 public:
  explicit LinkColourFollower(QObject* theme) : QObject(theme), theme_(theme) {
    const QMetaProperty accent = theme->metaObject()->property(theme->metaObject()->indexOfProperty("accent"));
    connect(theme, accent.notifySignal(), this, metaObject()->method(metaObject()->indexOfSlot("update()")));
    update();
  }

 public slots:
  void update() {
    const QColor accent = theme_->property("accent").value<QColor>();
    QPalette palette = QGuiApplication::palette();
    if (!accent.isValid() || palette.color(QPalette::Link) == accent) return;
    palette.setColor(QPalette::Link, accent);
    QGuiApplication::setPalette(palette);
  }

 private:
  QObject* theme_;
};

// The icon of every window (and the taskbar's), from the PNGs compiled into sieve_ui (qrc:/icons).
void setWindowIcon() {
  QIcon icon;
  for (int size : {16, 22, 24, 32, 48, 64, 128, 256}) {
    icon.addFile(QStringLiteral(":/icons/hicolor/%1x%1/apps/sieve.png").arg(size), QSize(size, size));
  }
  QGuiApplication::setWindowIcon(icon);
}

// What the log records of the controller: models loading and loaded, and every error the user sees.
void logControllerEvents(ChatController& chat) {
  QObject::connect(&chat, &ChatController::modelAboutToLoad, &chat,
                   [](const QString& path) { qCInfo(lcEngine).noquote() << "loading" << path; });
  QObject::connect(&chat, &ChatController::modelChanged, &chat, [&chat] {
    if (chat.modelLoaded()) {
      qCInfo(lcEngine, "loaded %s: %s mode, %lld-token context", qPrintable(chat.modelPath()),
             qPrintable(chat.loadedMode()), static_cast<long long>(chat.contextSize()));
    }
  });
  QObject::connect(&chat, &ChatController::errorOccurred, &chat,
                   [](const QString& message) { qCWarning(lcApp).noquote() << message; });
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

void bindPresets(PresetsController& presets, ChatController& chat) {
  const auto followModel = [&presets, &chat] {
    presets.setLoadedModel(chat.modelLoaded() ? chat.modelPath() : QString(), chat.modelName());
  };
  followModel();
  QObject::connect(&chat, &ChatController::modelChanged, &presets, followModel);
  QObject::connect(&presets, &PresetsController::presetsEdited, &chat, &ChatController::presetsEdited);
}

QVariantMap aboutInfo(const QString& logFile) {
  return {
      {"version", QCoreApplication::applicationVersion()},
      {"qtVersion", QString::fromLatin1(qVersion())},
      {"logFile", logFile},
      {"logFolderUrl", logFile.isEmpty() ? QUrl() : QUrl::fromLocalFile(QFileInfo(logFile).absolutePath())},
      {"license", QCoreApplication::translate("About", "MIT License. Copyright (c) 2026 The Sieve authors. "
                                                       "Sieve uses Qt (LGPL v3) and QCoro (MIT).")},
  };
}

QQuickWindow* loadMainWindow(QQmlApplicationEngine& engine, ChatController& chat, QString* error,
                             const QString& logFile) {
  QStringList warnings;
  const QMetaObject::Connection collecting = QObject::connect(&engine, &QQmlApplicationEngine::warnings, &engine, [&warnings](const QList<QQmlError>& list) {
    for (const QQmlError& e : list) warnings << e.toString();
  });
  logControllerEvents(chat);
  // Owned by the QML engine (its children), so they live as long as the UI.
  auto* settings = new AppSettings({}, &engine);
  auto* planner = new MemoryPlanner(&engine);
  bindSettings(*settings, chat, *planner);
  // Measure disk (settings page): the profile lands where the planner reads it; the speed updates at once.
  auto* diskMeasure = new DiskMeasure(&engine);
  diskMeasure->setProfilePath(planner->diskProfilePath());
  QObject::connect(diskMeasure, &DiskMeasure::measured, planner, &MemoryPlanner::setDiskProfilePath);
  // The models page: the library in the per-user data folder, loading through `chat`.
  auto* models = new ModelsController(&chat, {}, {}, &engine);
  // The models list plans every model for the engine settings in effect, as the settings page does.
  const auto replan = [models, planner] { models->list()->setPlanSettings(planner->effective()); };
  replan();
  QObject::connect(planner, &MemoryPlanner::effectiveChanged, models, replan);
  // QML reaches them all through the singleton App of the module Sieve.App (app_objects.h).
  // The "Local server" switch: follows the settings, serves the model `chat` loads.
  auto* server = new LocalServer(*settings, chat, &engine);
  // Downloads (the models page's "Download…"): records in the app's SQLite file, files into the models folder.
  auto* downloads = new DownloadManager(models, {}, {}, userCataloguePath(), &engine);
  // Presets (settings page's editor, the chat header's picker): in the history's file.
  auto* presets = new PresetsController(chat.history(), &engine);
  bindPresets(*presets, chat);
  AppObjects::install(engine, {&chat, settings, planner, models, diskMeasure, aboutInfo(logFile), server, downloads,
                               presets});
  engine.load(QUrl(QStringLiteral("qrc:/Sieve/Ui/Main.qml")));
  QObject::disconnect(collecting);  // `warnings` lives only in this call
  QQuickWindow* window = engine.rootObjects().isEmpty() ? nullptr
                                                        : qobject_cast<QQuickWindow*>(engine.rootObjects().first());
  if (!window && error) {
    *error = "The user interface (qrc:/Sieve/Ui/Main.qml) failed to load: " + warnings.join("; ");
  }
  if (window && qobject_cast<QGuiApplication*>(QCoreApplication::instance())) {
    setWindowIcon();
    if (QObject* theme = window->findChild<QObject*>("appTheme")) new LinkColourFollower(theme);
  }
  return window;
}

}  // namespace sieve::app

#include "app_window.moc"
