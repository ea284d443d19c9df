// LocalServer in a build without cpp-httplib (app/CMakeLists.txt): turning
// the switch on says so and turns it back off.
#include "desktop/local_server.h"

#include "desktop/app_settings.h"
#include "desktop/log_categories.h"

namespace sieve::app {

struct LocalServer::Serving {};

LocalServer::LocalServer(AppSettings& settings, ChatController& chat, QObject* parent)
    : QObject(parent), settings_(settings), chat_(chat) {
  connect(&settings_, &AppSettings::changed, this, &LocalServer::follow);
  follow();
}

LocalServer::~LocalServer() = default;

QString LocalServer::url() const { return QStringLiteral("http://127.0.0.1:%1/v1").arg(settings_.serverPort()); }

void LocalServer::follow() {
  if (settings_.serverEnabled()) start(wanted());
}

LocalServer::Config LocalServer::wanted() const { return {}; }

void LocalServer::failedToStart(const QString& why) {
  error_ = why;
  qCWarning(lcApp).noquote() << error_;
  emit stateChanged();
  settings_.setServerEnabled(false);
}

void LocalServer::start(const Config&) {
  failedToStart(tr("This build of Sieve has no local server (it was built without cpp-httplib)."));
}

void LocalServer::stop() {}
void LocalServer::updateModel() {}
void LocalServer::pollActivity() {}

}  // namespace sieve::app
