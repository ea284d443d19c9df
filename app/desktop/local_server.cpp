#include "desktop/local_server.h"

#include <QFileInfo>
#include <stdexcept>
#include <thread>

#include "desktop/app_settings.h"
#include "desktop/chat_controller.h"
#include "desktop/log_categories.h"
#include "desktop/worker_backend.h"
#include "server/openai_server.h"

namespace sieve::app {

struct LocalServer::Serving {
  Serving(InferenceWorker& worker, server::ServerOptions options) : backend(worker), server(backend, std::move(options)) {}
  WorkerBackend backend;
  server::OpenAiServer server;  // on backend: stopped and destroyed first
  std::thread thread;
};

LocalServer::LocalServer(AppSettings& settings, ChatController& chat, QObject* parent)
    : QObject(parent), settings_(settings), chat_(chat) {
  activityTimer_.setInterval(kActivityPollMs);
  connect(&activityTimer_, &QTimer::timeout, this, &LocalServer::pollActivity);
  connect(&settings_, &AppSettings::changed, this, &LocalServer::follow);
  connect(&chat_, &ChatController::modelChanged, this, &LocalServer::updateModel);
  follow();
}

LocalServer::~LocalServer() { stop(); }

QString LocalServer::url() const {
  return QStringLiteral("http://127.0.0.1:%1/v1").arg(running() ? port_ : settings_.serverPort());
}

LocalServer::Config LocalServer::wanted() const {
  return {settings_.serverAllowRemote() ? QStringLiteral("0.0.0.0") : QStringLiteral("127.0.0.1"),
          settings_.serverPort(), settings_.serverApiKey().trimmed()};
}

void LocalServer::follow() {
  if (!settings_.serverEnabled()) {
    stop();
    return;
  }
  const Config config = wanted();
  if (running() && config == running_) return;
  stop();
  start(config);
}

void LocalServer::failedToStart(const QString& why) {
  port_ = 0;
  error_ = why;
  qCWarning(lcApp).noquote() << error_;
  emit stateChanged();
  settings_.setServerEnabled(false);  // the switch goes back off (follow() then has nothing to stop)
}

void LocalServer::start(const Config& config) {
  server::ServerOptions options;
  options.host = config.host.toStdString();
  options.port = config.port;
  if (!config.apiKey.isEmpty()) options.api_key = config.apiKey.toStdString();
  options.log = [](const std::string& line) { qCInfo(lcApp).noquote() << "server:" << QString::fromStdString(line); };
  auto serving = std::make_unique<Serving>(*chat_.worker(), std::move(options));
  try {
    port_ = serving->server.bind();
  } catch (const std::exception& e) {
    failedToStart(tr("The local server could not start: %1. Choose another port, or stop the program using it.")
                      .arg(QString::fromStdString(e.what())));
    return;
  }
  serving_ = std::move(serving);
  updateModel();
  serving_->thread = std::thread([server = &serving_->server] { server->run(); });
  running_ = config;
  error_.clear();
  activityTimer_.start();
  qCInfo(lcApp, "local server on http://%s:%d/v1%s", qPrintable(config.host), port_,
         config.apiKey.isEmpty() ? "" : " (API key required)");
  emit stateChanged();
}

void LocalServer::stop() {
  if (!serving_) return;
  activityTimer_.stop();
  serving_->backend.stop();  // a request waiting for the worker ends now
  serving_->server.stop();   // no more connections; the open ones end
  if (serving_->thread.joinable()) serving_->thread.join();
  serving_.reset();
  port_ = 0;
  qCInfo(lcApp, "local server stopped");
  emit stateChanged();
  pollActivity();
}

// The model GET /v1/models names: its file name without ".gguf", as `sieve serve` does.
void LocalServer::updateModel() {
  if (!serving_) return;
  serving_->backend.setModel(
      chat_.modelLoaded() ? QFileInfo(chat_.modelPath()).completeBaseName().toStdString() : std::string(),
      chat_.contextSize());
}

void LocalServer::pollActivity() {
  int inFlight = 0;
  if (serving_) {
    const server::ServerActivity now = serving_->server.activity();
    inFlight = int(now.waiting) + (now.generating ? 1 : 0);
  }
  if (inFlight == requestsInFlight_) return;
  requestsInFlight_ = inFlight;
  emit activityChanged();
}

}  // namespace sieve::app
