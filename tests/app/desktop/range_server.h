#pragma once
// The download tests' HTTP server (range_server.py) as a child process on a
// free loopback port: url("/model.gguf?rate=…") to reach it, requests() for
// what it served (its JSON log: range asked, status, bytes sent).
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

class RangeServer {
 public:
  explicit RangeServer(const QString& file) {
    logPath_ = dir_.filePath("requests.jsonl");
    process_.setProgram(QStringLiteral(PYTHON3_PATH));
    process_.setArguments({QStringLiteral(RANGE_SERVER_PATH), file, "--log", logPath_});
    process_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    process_.start();
    if (!process_.waitForStarted(10000)) return;
    while (!process_.canReadLine() && process_.waitForReadyRead(10000)) {
    }
    port_ = process_.readLine().trimmed().toInt();
  }
  ~RangeServer() {
    process_.kill();
    process_.waitForFinished(5000);
  }
  bool running() const { return port_ > 0 && process_.state() == QProcess::Running; }
  QString url(const QString& pathAndQuery) const {
    return QStringLiteral("http://127.0.0.1:%1%2").arg(port_).arg(pathAndQuery);
  }
  // Every request to `target` (path and query, as in url()) ended so far, in order; all of them for an empty one.
  QList<QJsonObject> requests(const QString& target = {}) const {
    QList<QJsonObject> list;
    QFile log(logPath_);
    if (!log.open(QIODevice::ReadOnly)) return list;
    for (const QByteArray& line : log.readAll().split('\n')) {
      if (line.trimmed().isEmpty()) continue;
      const QJsonObject request = QJsonDocument::fromJson(line).object();
      if (target.isEmpty() || request.value("target").toString() == target) list.append(request);
    }
    return list;
  }

 private:
  QTemporaryDir dir_;
  QString logPath_;
  QProcess process_;
  int port_ = 0;
};
