#include "desktop/automation.h"

#include <QCoreApplication>
#include <QMetaMethod>
#include <QMetaProperty>
#include <QQuickItem>
#include <QQuickWindow>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace sieve::app {
namespace {

// Visible all the way up, with some area: an item a person could click.
bool shown(const QQuickItem* item) {
  return item->isVisible() && item->width() > 0 && item->height() > 0 && item->opacity() > 0;
}

// Depth first over the visual tree (which holds the popups and dialogs too).
const QQuickItem* findItem(const QQuickItem* from, const QString& name, const QString& text) {
  if (shown(from) && (name == QLatin1String("*") || from->objectName() == name) &&
      (text.isEmpty() || from->property("text").toString() == text)) {
    return from;
  }
  if (!from->isVisible()) return nullptr;
  for (const QQuickItem* child : from->childItems()) {
    if (const QQuickItem* found = findItem(child, name, text)) return found;
  }
  return nullptr;
}

}  // namespace

// The reader thread blocks in getline and cannot be joined at exit, so it
// never touches the Automation directly: it posts each line while holding the
// inbox's mutex, and the destructor clears the target under the same mutex.
struct Automation::Inbox {
  std::mutex mutex;
  Automation* target = nullptr;
};

Automation::Automation(QHash<QString, QObject*> objects, QObject* parent)
    : QObject(parent), objects_(std::move(objects)), inbox_(std::make_shared<Inbox>()) {
  inbox_->target = this;
}

Automation::~Automation() {
  std::lock_guard lock(inbox_->mutex);
  inbox_->target = nullptr;
}

void Automation::start() {
  std::thread([inbox = inbox_] {
    std::string line;
    bool more = true;
    while (more) {
      more = static_cast<bool>(std::getline(std::cin, line));
      const QString text = more ? QString::fromStdString(line) : QStringLiteral("quit");
      std::lock_guard lock(inbox->mutex);
      if (!inbox->target) return;
      QMetaObject::invokeMethod(inbox->target, [target = inbox->target, text] { target->run(text); },
                                Qt::QueuedConnection);
    }
  }).detach();
}

void Automation::answer(const QString& text) {
  std::fputs(qPrintable(text + QLatin1Char('\n')), stdout);
  std::fflush(stdout);
}

QObject* Automation::object(const QString& name) const {
  return objects_.value(name);
}

void Automation::run(const QString& line) {
  if (line.trimmed() == QLatin1String("quit")) {
    QCoreApplication::quit();
    return;
  }
  if (line.trimmed().isEmpty()) return;
  answer(execute(line));
}

QString Automation::locate(const QString& name, const QString& text) const {
  if (!window_) return QStringLiteral("error: no window to search");
  const QQuickItem* root = window_->contentItem();
  while (root->parentItem()) root = root->parentItem();  // above the content: the overlay of popups
  const QQuickItem* item = findItem(root, name, text);
  if (!item) return QStringLiteral("error: no visible item named '%1'%2").arg(name, text.isEmpty() ? "" : " with text '" + text + "'");
  const QPointF centre = item->mapToGlobal(QPointF(item->width() / 2, item->height() / 2));
  return QStringLiteral("at %1 %2 %3 %4").arg(qRound(centre.x())).arg(qRound(centre.y()))
      .arg(qRound(item->width())).arg(qRound(item->height()));
}

QString Automation::execute(const QString& line) {
  const QString verb = line.section(QLatin1Char(' '), 0, 0);
  if (verb == QLatin1String("locate")) {
    return locate(line.section(QLatin1Char(' '), 1, 1), line.section(QLatin1Char(' '), 2));
  }
  const QString target = line.section(QLatin1Char(' '), 1, 1);
  const QString member = line.section(QLatin1Char(' '), 2, 2);
  const QString rest = line.section(QLatin1Char(' '), 3);  // the value or argument, spaces and all
  QObject* o = object(target);
  if (!o) {
    QStringList known = objects_.keys();
    known.sort();
    return QStringLiteral("error: no object named '%1' (%2)").arg(target, known.join(", "));
  }
  const QByteArray name = member.toUtf8();
  const QMetaObject* meta = o->metaObject();
  if (verb == QLatin1String("set") || verb == QLatin1String("get")) {
    const int index = meta->indexOfProperty(name.constData());
    if (index < 0) return QStringLiteral("error: %1 has no property '%2'").arg(target, member);
    if (verb == QLatin1String("get")) return QStringLiteral("value ") + meta->property(index).read(o).toString();
    if (!meta->property(index).write(o, rest)) {
      return QStringLiteral("error: %1.%2 did not take '%3'").arg(target, member, rest);
    }
    return QStringLiteral("ok");
  }
  if (verb == QLatin1String("call")) {
    const bool withText = !rest.isEmpty();
    const bool called = withText ? QMetaObject::invokeMethod(o, name.constData(), Qt::DirectConnection, Q_ARG(QString, rest))
                                 : QMetaObject::invokeMethod(o, name.constData(), Qt::DirectConnection);
    if (!called) {
      return QStringLiteral("error: %1 has no invokable %2(%3)").arg(target, member, withText ? "QString" : "");
    }
    return QStringLiteral("ok");
  }
  if (verb == QLatin1String("watch")) {
    for (int i = 0; i < meta->methodCount(); ++i) {
      const QMetaMethod m = meta->method(i);
      if (m.methodType() != QMetaMethod::Signal || m.name() != name) continue;
      names_.insert(o, target);
      const int slot = metaObject()->indexOfSlot("onWatchedSignal()");
      QMetaObject::connect(o, i, this, slot);  // the slot takes no arguments: nothing is copied
      return QStringLiteral("ok");
    }
    return QStringLiteral("error: %1 has no signal '%2'").arg(target, member);
  }
  return QStringLiteral("error: unknown command '%1' (set, get, call, watch, locate, quit)").arg(verb);
}

void Automation::onWatchedSignal() {
  QObject* from = sender();
  const QMetaMethod signal = from->metaObject()->method(senderSignalIndex());
  answer(QStringLiteral("signal %1 %2").arg(names_.value(from), QString::fromLatin1(signal.name())));
}

}  // namespace sieve::app
