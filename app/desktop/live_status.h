#pragma once
// The live status line and chart (QML: `chat.live`): the last statistics the
// inference worker reported while a reply streamed, and the recent history of
// memory and flash reads for the chart. Values not applicable to the engine's
// mode are negative, which the QML shows as "—".

#include <QObject>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

#include "desktop/inference_types.h"

namespace sieve::app {

class LiveStatus : public QObject {
  Q_OBJECT
  QML_ELEMENT
  QML_UNCREATABLE("created by the app (app_window.cpp); QML reaches it through App")
  Q_PROPERTY(double tokensPerSecond READ tokensPerSecond NOTIFY updated)
  Q_PROPERTY(double rssBytes READ rssBytes NOTIFY updated)
  Q_PROPERTY(double peakRssBytes READ peakRssBytes NOTIFY updated)
  Q_PROPERTY(double budgetBytes READ budgetBytes NOTIFY updated)
  Q_PROPERTY(double engineBytes READ engineBytes NOTIFY updated)  // the engine's own memory (LiveStats)
  Q_PROPERTY(double flashBytesPerToken READ flashBytesPerToken NOTIFY updated)
  Q_PROPERTY(double dramHitRate READ dramHitRate NOTIFY updated)
  Q_PROPERTY(qint64 tokens READ tokens NOTIFY updated)
  Q_PROPERTY(bool hasData READ hasData NOTIFY updated)
  // Oldest first, at most kHistory samples (one per report, every few tokens).
  Q_PROPERTY(QVariantList memoryHistory READ memoryHistory NOTIFY updated)  // resident bytes
  Q_PROPERTY(QVariantList ioHistory READ ioHistory NOTIFY updated)          // flash bytes per token (0 when n/a)

 public:
  static constexpr int kHistory = 30;  // with a report every 2 tokens: the last ~60 tokens

  explicit LiveStatus(QObject* parent = nullptr) : QObject(parent) {}

  double tokensPerSecond() const { return last_.tokensPerSecond; }
  double rssBytes() const { return double(last_.rssBytes); }
  double peakRssBytes() const { return double(last_.peakRssBytes); }
  double budgetBytes() const { return double(last_.budgetBytes); }
  double engineBytes() const { return double(last_.engineBytes); }
  double flashBytesPerToken() const { return last_.flashBytesPerToken; }
  double dramHitRate() const { return last_.dramHitRate; }
  qint64 tokens() const { return last_.tokens; }
  bool hasData() const { return hasData_; }
  QVariantList memoryHistory() const { return memory_; }
  QVariantList ioHistory() const { return io_; }
  const LiveStats& last() const { return last_; }

  void update(const LiveStats& stats);
  void clear();  // a new engine: its numbers start over

 signals:
  void updated();

 private:
  LiveStats last_;
  bool hasData_ = false;
  QVariantList memory_;
  QVariantList io_;
};

}  // namespace sieve::app
