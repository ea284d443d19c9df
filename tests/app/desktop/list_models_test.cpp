// The list models stay consistent (QAbstractItemModelTester) through every edit.
#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "desktop/conversation_list_model.h"
#include "desktop/message_list_model.h"

using namespace sieve::app;

class ListModelsTest : public QObject {
  Q_OBJECT

 private slots:
  void conversationListPassesTheModelTester() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("h.sqlite"));
    store.createConversation("stored before start");
    ConversationListModel model(store);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(model.reload());
    QCOMPARE(model.rowCount(), 1);
    const qint64 a = model.create("a");
    const qint64 b = model.create("b");
    QVERIFY(a > 0 && b > 0);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.idAt(0), b);
    QVERIFY(model.rename(1, "renamed a"));
    QCOMPARE(model.data(model.index(1), ConversationListModel::TitleRole).toString(), QString("renamed a"));
    model.touch(a);
    QCOMPARE(model.idAt(0), a);
    QVERIFY(model.remove(2));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(store.listConversations().value().size(), 2);
    QSignalSpy errors(&model, &ConversationListModel::errorOccurred);
    QVERIFY(!model.remove(7));
    QCOMPARE(errors.size(), 1);
    QVERIFY(model.reload());
    QCOMPARE(model.rowCount(), 2);
    QVERIFY(!model.data(model.index(0), Qt::UserRole + 99).isValid());
    // Undoable delete: taken out of the list only, put back in its place.
    const qint64 second = model.idAt(1);
    const auto taken = model.take(second);
    QVERIFY(taken.has_value());
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(store.listConversations().value().size(), 2);
    QVERIFY(!model.take(second).has_value());
    model.restore(*taken);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.idAt(1), second);
    QVERIFY(model.setModel(second, "stories260K", "flash"));
    QCOMPARE(model.data(model.index(1), ConversationListModel::ModeRole).toString(), QString("flash"));
    QCOMPARE(store.conversation(second).value().model, QString("stories260K"));
  }

  // Issue 7: startup with 1,000 stored conversations stays under 2 s. Opening
  // the store and listing them is the part of startup that grows with history.
  void startsQuicklyWithAThousandConversations() {
    QTemporaryDir dir;
    const QString path = dir.filePath("big.sqlite");
    {
      HistoryStore store(path);
      for (int i = 0; i < 1000; ++i) {
        const qint64 id = store.createConversation(QStringLiteral("conversation %1").arg(i)).value();
        store.appendMessage(id, "user", "a question about item " + QString::number(i));
        store.appendMessage(id, "assistant", QString("a fairly long answer ").repeated(20));
      }
    }
    QElapsedTimer timer;
    timer.start();
    HistoryStore store(path);
    ConversationListModel model(store);
    QVERIFY(model.reload());
    const qint64 ms = timer.elapsed();
    QCOMPARE(model.rowCount(), 1000);
    qInfo("opened the history and listed 1000 conversations in %lld ms", static_cast<long long>(ms));
    QVERIFY2(ms < 2000, qPrintable(QString::number(ms)));
  }

  void messageListPassesTheModelTester() {
    MessageListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setMessages({Message{1, 1, "user", "hi", {}, true, {}, 1, 1}});
    model.append(Message{2, 1, "assistant", "", {}, false, {}, 1, 1});
    model.appendToLast("Once");
    model.appendToLast(" upon");
    QCOMPARE(model.data(model.index(1), MessageListModel::ContentRole).toString(), QString("Once upon"));
    model.completeLast();
    QCOMPARE(model.data(model.index(1), MessageListModel::CompleteRole).toBool(), true);
    model.setMessages({});
    QCOMPARE(model.rowCount(), 0);
    model.appendToLast("ignored");  // nothing to grow: no crash
  }
};

QTEST_GUILESS_MAIN(ListModelsTest)
#include "list_models_test.moc"
