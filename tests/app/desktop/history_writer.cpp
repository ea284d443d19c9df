// history_writer DB CHECKPOINT_EVERY: streams replies into a history file
// forever, the way the app does, so a test can kill -9 it at random moments.
// Each reply is kTokens words "w0 w1 ..."; the text is checkpointed every
// CHECKPOINT_EVERY words, then the message is completed. After each commit it
// prints "P <message id> <words>" (checkpoint) or "C <message id> <words>"
// (completed) on stdout, so the test knows what must have survived.
#include <QCoreApplication>
#include <QThread>
#include <cstdio>

#include "desktop/history_store.h"

namespace {
constexpr int kTokens = 60;

QString words(int n) {
  QString text;
  for (int i = 0; i < n; ++i) text += QStringLiteral("w%1 ").arg(i);
  return text;
}

void report(char kind, qint64 id, int n) {
  std::printf("%c %lld %d\n", kind, static_cast<long long>(id), n);
  std::fflush(stdout);
}

int fail(const QString& message) {
  std::fprintf(stderr, "history_writer: %s\n", qPrintable(message));
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  if (argc != 3) return fail("usage: history_writer DB CHECKPOINT_EVERY");
  const int every = std::max(1, atoi(argv[2]));
  sieve::app::HistoryStore store(QString::fromLocal8Bit(argv[1]));
  for (int round = 0;; ++round) {
    auto conversation = store.createConversation(QStringLiteral("round %1").arg(round));
    if (!conversation) return fail(conversation.error());
    auto question = store.appendMessage(conversation.value(), "user", "tell me a story");
    if (!question) return fail(question.error());
    report('C', question.value(), 0);
    auto reply = store.appendMessage(conversation.value(), "assistant", "", false);
    if (!reply) return fail(reply.error());
    for (int n = 1; n <= kTokens; ++n) {
      QThread::usleep(300);  // "generating" a token
      if (n % every == 0 && n < kTokens) {
        auto saved = store.updateMessage(reply.value(), words(n));
        if (!saved) return fail(saved.error());
        report('P', reply.value(), n);
      }
    }
    auto done = store.completeMessage(reply.value(), words(kTokens));
    if (!done) return fail(done.error());
    report('C', reply.value(), kTokens);
  }
}
