#pragma once
// The app's "Local server" switch (`App.server` in QML, app_objects.h): the
// OpenAI-compatible server of `sieve serve` (server/openai_server.h), run
// inside the app on the model the app has loaded (worker_backend.h), so
// programs written for OpenAI's API use it. Off by default.
//
// It follows the settings (AppSettings: serverEnabled, serverPort,
// serverAllowRemote, serverApiKey): on, it binds 127.0.0.1:PORT — 0.0.0.0
// only when other devices are allowed — and serves on its own thread; a change
// of port, address or key restarts it; off, it stops (requests in progress end,
// a generation stops at its next token) and the port is closed. A port that
// cannot be bound (in use) sets `error` and turns the setting back off.
//
// `requestsInFlight` (the one generating plus those waiting) is sampled a few
// times a second, for the status bar.

#include <QObject>
#include <QString>
#include <QTimer>
#include <QtQml/qqmlregistration.h>
#include <memory>

namespace sieve::app {

class AppSettings;
class ChatController;

class LocalServer : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  Q_PROPERTY(bool running READ running NOTIFY stateChanged)
  Q_PROPERTY(int port READ port NOTIFY stateChanged)  // the port bound (0: not running)
  // What clients on this machine use: "http://127.0.0.1:PORT/v1" (the setting's port while off).
  Q_PROPERTY(QString url READ url NOTIFY stateChanged)
  // Why the server could not start (the switch went back off); empty otherwise.
  Q_PROPERTY(QString error READ error NOTIFY stateChanged)
  Q_PROPERTY(int requestsInFlight READ requestsInFlight NOTIFY activityChanged)

 public:
  static constexpr int kActivityPollMs = 250;

  // `settings` and `chat` must outlive this.
  LocalServer(AppSettings& settings, ChatController& chat, QObject* parent = nullptr);
  ~LocalServer() override;

  bool running() const { return serving_ != nullptr; }
  int port() const { return port_; }
  QString url() const;
  QString error() const { return error_; }
  int requestsInFlight() const { return requestsInFlight_; }

 signals:
  void stateChanged();
  void activityChanged();

 private:
  struct Config {
    QString host;
    int port = 0;
    QString apiKey;
    bool operator==(const Config&) const = default;
  };
  Config wanted() const;
  void follow();  // the settings changed: start, restart or stop
  void start(const Config& config);
  void failedToStart(const QString& why);
  void stop();
  void updateModel();
  void pollActivity();

  AppSettings& settings_;
  ChatController& chat_;
  // The backend, the server on it and its thread, while it runs (local_server.cpp;
  // local_server_unavailable.cpp in a build without cpp-httplib).
  struct Serving;
  std::unique_ptr<Serving> serving_;
  Config running_;
  int port_ = 0;
  QString error_;
  int requestsInFlight_ = 0;
  QTimer activityTimer_;
};

}  // namespace sieve::app
