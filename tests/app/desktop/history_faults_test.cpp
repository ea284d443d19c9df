// The history store when the disk misbehaves (docs/hardening.md): the disk
// fills up, another program holds the database locked, the folder is (or
// becomes) read-only. Each must come back as a Result error naming the
// history database and the reason, never a crash, and leave the store usable:
// everything committed before is still readable, and writing works again once
// the cause is gone, with the same HistoryStore object.
//
// A full disk and a read-only folder are real: a small tmpfs mounted for the
// test (needs root or CAP_SYS_ADMIN; without it those tests are skipped and
// say why).
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <sys/mount.h>
#include <unistd.h>

#include "desktop/history_store.h"
#include "raw_sqlite.h"

using sieve::app::HistoryStore;

namespace {


// A tmpfs of `kib` KiB mounted on a fresh folder, unmounted at the end.
class SmallDisk {
 public:
  explicit SmallDisk(int kib) {
    if (!dir_.isValid()) return;
    const QByteArray options = QByteArray("size=") + QByteArray::number(kib) + "k";
    mounted_ = ::mount("tmpfs", dir_.path().toLocal8Bit().constData(), "tmpfs", 0, options.constData()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.path().toLocal8Bit().constData(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  QString file(const QString& name) const { return dir_.filePath(name); }
  bool remount(bool read_only) {
    const unsigned long flags = MS_REMOUNT | (read_only ? MS_RDONLY : 0);
    return ::mount("tmpfs", dir_.path().toLocal8Bit().constData(), "tmpfs", flags, nullptr) == 0;
  }

 private:
  QTemporaryDir dir_;
  bool mounted_ = false;
};

// Writes zeros to `path` until the disk is full.
void fillDisk(const QString& path) {
  QFile filler(path);
  filler.open(QIODevice::WriteOnly);
  const QByteArray block(4096, '\0');
  while (filler.write(block) == block.size() && filler.flush()) {
  }
  filler.close();
}

QString words(int n) {
  QString text;
  for (int i = 0; i < n; ++i) text += QStringLiteral("w%1 ").arg(i);
  return text;
}

// A history with `n` complete exchanges; returns the ids of their messages.
QList<qint64> someHistory(HistoryStore& store, int n) {
  QList<qint64> ids;
  for (int i = 0; i < n; ++i) {
    const auto conversation = store.createConversation(QStringLiteral("chat %1").arg(i));
    if (!conversation) return ids;
    for (const char* role : {"user", "assistant"}) {
      const auto id = store.appendMessage(conversation.value(), role, words(50));
      if (id) ids << id.value();
    }
  }
  return ids;
}

int countCompleteMessages(const QString& path) {
  return rawQuery(path, {"SELECT count(*) FROM messages WHERE complete = 1"}).value(0).toInt();
}

}  // namespace

class HistoryFaultsTest : public QObject {
  Q_OBJECT

 private slots:
  void diskFullIsAnErrorAndWritingResumesWhenThereIsRoom() {
    SmallDisk disk(512);
    if (!disk.mounted()) QSKIP("cannot mount a tmpfs (needs root or CAP_SYS_ADMIN)");
    HistoryStore store(disk.file("history.sqlite"));
    const QList<qint64> before = someHistory(store, 3);
    QCOMPARE(before.size(), 6);

    fillDisk(disk.file("filler"));
    // Stream a long reply into the full disk: some write must fail, with a clear message.
    const auto conversation = store.createConversation("on a full disk");
    QString error = conversation ? QString() : conversation.error();
    qint64 reply = 0;
    if (conversation) {
      const auto appended = store.appendMessage(conversation.value(), "assistant", "", false);
      if (appended) reply = appended.value(); else error = appended.error();
    }
    for (int n = 1; error.isEmpty() && n <= 200; ++n) {
      const auto saved = store.updateMessage(reply, words(n * 40));
      if (!saved) error = saved.error();
    }
    QVERIFY2(!error.isEmpty(), "no write failed on a full disk");
    QVERIFY2(error.startsWith("History database"), qPrintable(error));
    QVERIFY2(error.contains("full", Qt::CaseInsensitive), qPrintable(error));
    qInfo("disk full: \"%s\"", qPrintable(error));

    // Reading still works, and nothing committed before is lost.
    const auto listed = store.listConversations();
    QVERIFY2(listed.ok(), qPrintable(listed.error()));
    QVERIFY(listed.value().size() >= 3);

    // Room again: the same store writes, and the file is sound.
    QVERIFY(QFile::remove(disk.file("filler")));
    const auto again = store.createConversation("after the disk was freed");
    QVERIFY2(again.ok(), qPrintable(again.error()));
    QVERIFY(store.appendMessage(again.value(), "user", "still here").ok());
    QCOMPARE(rawQuery(store.path(), {"PRAGMA integrity_check"}), QStringList{"ok"});
    QVERIFY(countCompleteMessages(store.path()) >= before.size() + 1);
  }

  void lockedByAnotherConnectionIsAnErrorAndWritingResumesAfterIt() {
    QTemporaryDir dir;
    HistoryStore store(dir.filePath("history.sqlite"));
    const QList<qint64> before = someHistory(store, 2);
    QCOMPARE(before.size(), 4);
    {
      // Another program (a second app instance, a sync tool) holds a write transaction.
      QSqlDatabase other = QSqlDatabase::addDatabase("QSQLITE", "locker");
      other.setDatabaseName(store.path());
      QVERIFY(other.open());
      QSqlQuery q(other);
      QVERIFY(q.exec("BEGIN IMMEDIATE"));
      QVERIFY(q.exec("INSERT INTO conversations (title, created, updated, model) VALUES ('other', 0, 0, '')"));

      QElapsedTimer waited;
      waited.start();
      const auto blocked = store.createConversation("while locked");
      QVERIFY(!blocked.ok());
      QVERIFY2(blocked.error().startsWith("History database"), qPrintable(blocked.error()));
      QVERIFY2(blocked.error().contains("locked"), qPrintable(blocked.error()));
      qInfo("locked: \"%s\" after %lld ms", qPrintable(blocked.error()), static_cast<long long>(waited.elapsed()));
      // WAL: reading is not blocked by the other writer.
      const auto listed = store.listConversations();
      QVERIFY2(listed.ok(), qPrintable(listed.error()));
      QCOMPARE(listed.value().size(), 2);

      QVERIFY(q.exec("COMMIT"));
      q.finish();
      other.close();
    }
    QSqlDatabase::removeDatabase("locker");
    const auto after = store.createConversation("after the lock");
    QVERIFY2(after.ok(), qPrintable(after.error()));
    QCOMPARE(store.listConversations().value().size(), 4);  // 2 + the other's + this one
    QCOMPARE(rawQuery(store.path(), {"PRAGMA integrity_check"}), QStringList{"ok"});
  }

  void readOnlyFolderForANewHistoryIsAnError() {
    SmallDisk disk(256);
    if (!disk.mounted()) QSKIP("cannot mount a tmpfs (needs root or CAP_SYS_ADMIN)");
    QVERIFY(disk.remount(true));
    HistoryStore store(disk.file("history.sqlite"));
    const auto opened = store.open();
    QVERIFY(!opened.ok());
    QVERIFY2(opened.error().startsWith("History database"), qPrintable(opened.error()));
    qInfo("read-only, new file: \"%s\"", qPrintable(opened.error()));
    // Writable again: the same store opens and works.
    QVERIFY(disk.remount(false));
    const auto reopened = store.open();
    QVERIFY2(reopened.ok(), qPrintable(reopened.error()));
    QVERIFY(store.createConversation("works").ok());
  }

  // A folder turning read-only under an open history (a filesystem remounted read-only after a
  // disk error) cannot be staged here: the kernel refuses to remount a filesystem read-only while
  // files on it are open for writing (EBUSY). It needs a failing device (dm-flakey); see
  // docs/hardening.md.

  void existingHistoryInAReadOnlyFolderOpensOrSaysWhy() {
    // A history copied from a backup onto read-only media, opened by a new app start.
    SmallDisk disk(1024);
    if (!disk.mounted()) QSKIP("cannot mount a tmpfs (needs root or CAP_SYS_ADMIN)");
    {
      HistoryStore first(disk.file("history.sqlite"));
      QCOMPARE(someHistory(first, 2).size(), 4);
    }
    QVERIFY(disk.remount(true));
    HistoryStore store(disk.file("history.sqlite"));
    const auto listed = store.listConversations();
    if (listed.ok()) {
      QCOMPARE(listed.value().size(), 2);
    } else {
      QVERIFY2(listed.error().startsWith("History database"), qPrintable(listed.error()));
    }
    qInfo("read-only, existing file: %s", listed.ok() ? "readable" : qPrintable("\"" + listed.error() + "\""));
    const auto write = store.createConversation("cannot");
    QVERIFY(!write.ok());
    QVERIFY2(write.error().startsWith("History database"), qPrintable(write.error()));
    QVERIFY(disk.remount(false));
  }
};

QTEST_GUILESS_MAIN(HistoryFaultsTest)
#include "history_faults_test.moc"
