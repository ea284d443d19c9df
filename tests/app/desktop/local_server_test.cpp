// LocalServer (the app's "Local server" switch) over a real ChatController,
// AppSettings file and stories260K, with plain sockets as clients: the
// requests in flight the status bar shows (one generating, one waiting while
// the worker is held), and switching off while requests wait for the worker:
// they are answered 503 at once and the port closes.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <future>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "desktop/app_settings.h"
#include "desktop/chat_controller.h"
#include "desktop/history_store.h"
#include "desktop/local_server.h"
#include "loopback_port.h"

using namespace sieve::app;

namespace {

const QString kModel = QStringLiteral(SIEVE_SHARED_DIR "/models/stories260K.gguf");

int connectTo(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(uint16_t(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One non-streamed chat completion; the whole answer (status line, headers, body).
std::string chatCompletion(int port) {
  const int fd = connectTo(port);
  if (fd < 0) return "no connection";
  const std::string body =
      R"({"messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 8, "temperature": 0})";
  const std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                              "Content-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    return "send failed";
  }
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, size_t(n));
  ::close(fd);
  return answer;
}

}  // namespace

class LocalServerTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    if (!QFile::exists(kModel)) QSKIP("../shared/models/stories260K.gguf is missing");
  }

  void requestsInFlightAndSwitchingOffWhileTheyWait() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    ChatController chat(store);
    AppSettings settings(dir.filePath("s.ini"));
    LocalServer server(settings, chat);
    QVERIFY(!server.running());  // off by default
    chat.loadModel(kModel);
    QTRY_VERIFY_WITH_TIMEOUT(chat.modelLoaded(), 30000);
    const int port = freeLoopbackPort();
    settings.setServerPort(port);
    settings.setServerEnabled(true);
    QVERIFY(server.running());
    QCOMPARE(server.port(), port);
    QCOMPARE(server.url(), QStringLiteral("http://127.0.0.1:%1/v1").arg(port));

    // A whole request while the worker is free.
    QVERIFY(QString::fromStdString(chatCompletion(port)).startsWith("HTTP/1.1 200"));

    // The worker held (a long job of the chat's, say): one request generating (waiting
    // for the worker), one waiting in the server's queue.
    std::promise<void> release;
    QMetaObject::invokeMethod(chat.worker(), [f = release.get_future().share()] { f.wait(); }, Qt::QueuedConnection);
    auto first = std::async(std::launch::async, [port] { return chatCompletion(port); });
    auto second = std::async(std::launch::async, [port] { return chatCompletion(port); });
    QTRY_COMPARE_WITH_TIMEOUT(server.requestsInFlight(), 2, 5000);
    release.set_value();
    QVERIFY(first.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    QVERIFY(second.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    QVERIFY(QString::fromStdString(first.get()).startsWith("HTTP/1.1 200"));
    QVERIFY(QString::fromStdString(second.get()).startsWith("HTTP/1.1 200"));
    QTRY_COMPARE_WITH_TIMEOUT(server.requestsInFlight(), 0, 5000);

    // Switched off while two wait for the held worker: both answered 503 now, the port closed.
    std::promise<void> release2;
    QMetaObject::invokeMethod(chat.worker(), [f = release2.get_future().share()] { f.wait(); }, Qt::QueuedConnection);
    auto waiting1 = std::async(std::launch::async, [port] { return chatCompletion(port); });
    auto waiting2 = std::async(std::launch::async, [port] { return chatCompletion(port); });
    QTRY_COMPARE_WITH_TIMEOUT(server.requestsInFlight(), 2, 5000);
    QSignalSpy state(&server, &LocalServer::stateChanged);
    settings.setServerEnabled(false);
    QVERIFY(!server.running());
    QCOMPARE(state.count(), 1);
    QVERIFY(waiting1.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    QVERIFY(waiting2.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    const QString answer1 = QString::fromStdString(waiting1.get());
    const QString answer2 = QString::fromStdString(waiting2.get());
    QVERIFY2(answer1.startsWith("HTTP/1.1 503"), qPrintable(answer1));
    QVERIFY2(answer2.startsWith("HTTP/1.1 503"), qPrintable(answer2));
    QCOMPARE(server.requestsInFlight(), 0);
    QCOMPARE(connectTo(port), -1);  // closed
    release2.set_value();
    QVERIFY(server.error().isEmpty());
  }
};

QTEST_GUILESS_MAIN(LocalServerTest)
#include "local_server_test.moc"
