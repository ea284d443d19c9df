#pragma once
// Driving the real app from a script (SIEVE_AUTOMATION=1 sieve-desktop ...):
// commands arrive on standard input, one per line, and every answer and
// watched signal leaves on standard output, one line each. The crash-safety
// loop (tests/crash/kill-loop.sh) uses it to stream replies, import models
// and change settings in the app a user runs, then kill -9 it.
//
//   set OBJECT PROPERTY VALUE   write a property (the value is converted to its type)
//   get OBJECT PROPERTY         answers "value TEXT"
//   call OBJECT METHOD [TEXT]   an invokable taking nothing or one string
//   watch OBJECT SIGNAL         from now on prints "signal OBJECT SIGNAL" each time it fires
//   locate NAME [TEXT]          where a visible item is on the screen: answers "at X Y W H"
//                               (its centre in screen pixels, its size); NAME is its objectName,
//                               or * for any; TEXT, when given, must equal its `text`
//   quit                        leaves the event loop (as does the end of the input)
//
// OBJECT is one of the objects QML reaches through `App` (app_objects.h):
// chat, settings, models, planner, diskMeasure, server or presets. Every command but quit is answered "ok", "value ...", "at ..." or
// "error: why". Commands run on the UI thread, between events, as the user's
// clicks do. `locate` only reads: the click-through test
// (tests/installer/click-through.sh) finds a control with it and then clicks
// it with real input (xdotool), as a person would.

#include <QHash>
#include <QObject>
#include <QString>
#include <memory>

class QQuickItem;
class QQuickWindow;

namespace sieve::app {

class Automation : public QObject {
  Q_OBJECT

 public:
  // `objects`: what OBJECT names (AppObjects::byName()); they must outlive this.
  explicit Automation(QHash<QString, QObject*> objects, QObject* parent = nullptr);
  ~Automation() override;

  // Starts reading standard input (a detached reader thread).
  void start();
  // The window `locate` searches.
  void setWindow(QQuickWindow* window) { window_ = window; }

 private slots:
  void onWatchedSignal();

 private:
  struct Inbox;
  void run(const QString& line);
  QString execute(const QString& line);
  QObject* object(const QString& name) const;
  QString locate(const QString& name, const QString& text) const;
  void answer(const QString& text);

  QHash<QString, QObject*> objects_;
  QQuickWindow* window_ = nullptr;
  std::shared_ptr<Inbox> inbox_;  // shared with the reader thread, which may outlive this
  QHash<QObject*, QString> names_;
};

}  // namespace sieve::app
