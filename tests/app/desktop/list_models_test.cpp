// The list models stay consistent (QAbstractItemModelTester) through every edit.
#include <QAbstractItemModelTester>
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
  }

  void messageListPassesTheModelTester() {
    MessageListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setMessages({Message{1, 1, "user", "hi", {}, true}});
    model.append(Message{2, 1, "assistant", "", {}, false});
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
