#include "desktop/app_window.h"

#include <QCoreApplication>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQuickStyle>
#include <QQuickWindow>

#include "desktop/chat_controller.h"

namespace sieve::app {

void configureApplication() {
  QCoreApplication::setOrganizationName("Sieve");
  QCoreApplication::setOrganizationDomain("sieve.app");
  QCoreApplication::setApplicationName("Sieve");
  // Basic: the same look everywhere, coloured by Main.qml's palette (light / dark).
  QQuickStyle::setStyle("Basic");
}

QQuickWindow* loadMainWindow(QQmlApplicationEngine& engine, ChatController& chat, QString* error) {
  QStringList warnings;
  const QMetaObject::Connection collecting = QObject::connect(&engine, &QQmlApplicationEngine::warnings, &engine, [&warnings](const QList<QQmlError>& list) {
    for (const QQmlError& e : list) warnings << e.toString();
  });
  engine.rootContext()->setContextProperty("chat", &chat);
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
