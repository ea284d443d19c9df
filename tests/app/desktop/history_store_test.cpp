// The history store: migrations, CRUD, FTS search, export, checkpointing,
// and surviving kill -9 mid-reply (with the history_writer helper).
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <map>

#include "desktop/history_store.h"
#include "desktop/preset_store.h"
#include "raw_sqlite.h"

using sieve::app::HistoryStore;
using sieve::app::Preset;
using sieve::app::PresetStore;

namespace {


QString words(int n) {
  QString text;
  for (int i = 0; i < n; ++i) text += QStringLiteral("w%1 ").arg(i);
  return text;
}

}  // namespace

class HistoryStoreTest : public QObject {
  Q_OBJECT

 private slots:
  void init() { QVERIFY(dir_.isValid()); }

  void migratesAnEmptyFileToTheLatestVersion() {
    HistoryStore store(dir_.filePath("empty.sqlite"));
    const auto opened = store.open();
    QVERIFY2(opened.ok(), qPrintable(opened.error()));
    QCOMPARE(store.schemaVersion().value(), HistoryStore::kSchemaVersion);
    QCOMPARE(rawQuery(store.path(), {"PRAGMA journal_mode"}), QStringList{"wal"});
  }

  void migratesAVersion1FileKeepingItsMessages() {
    const QString path = dir_.filePath("v1.sqlite");
    rawQuery(path, {
        "CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL, created INTEGER NOT NULL,"
        " updated INTEGER NOT NULL, model TEXT NOT NULL DEFAULT '')",
        "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL REFERENCES "
        "conversations(id) ON DELETE CASCADE, role TEXT NOT NULL, content TEXT NOT NULL, created INTEGER NOT NULL,"
        " complete INTEGER NOT NULL DEFAULT 1)",
        "INSERT INTO conversations VALUES (1, 'old chat', 0, 0, '')",
        "INSERT INTO messages VALUES (1, 1, 'user', 'the lighthouse keeper', 0, 1)",
        "PRAGMA user_version=1",
    });
    HistoryStore store(path);
    QCOMPARE(store.schemaVersion().value(), HistoryStore::kSchemaVersion);
    const auto hits = store.search("lighthouse");
    QVERIFY2(hits.ok(), qPrintable(hits.error()));
    QCOMPARE(hits.value().size(), 1);
    QCOMPARE(hits.value()[0].conversation_title, QString("old chat"));
  }

  // A file as version 2 wrote it (before modes, remembered values and reply
  // versions): every step runs, the rows keep their text, the new columns
  // have their defaults, and the new features work on the old rows.
  void migratesAVersion2FileToModesAndVersions() {
    const QString path = dir_.filePath("v2.sqlite");
    // Exactly the version 2 schema, as an old app left it, with its rows.
    QCOMPARE(rawQuery(path, version2Schema() + QStringList{
                                "INSERT INTO conversations VALUES (7, 'kept chat', 0, 0, 'tinyllama')",
                                "INSERT INTO messages VALUES (1, 7, 'user', 'hello there', 0, 1)",
                                "INSERT INTO messages VALUES (2, 7, 'assistant', 'general kenobi', 0, 1)",
                                "PRAGMA user_version"}),
             QStringList{"2"});
    HistoryStore store(path);
    QCOMPARE(store.schemaVersion().value(), HistoryStore::kSchemaVersion);
    const auto chat = store.conversation(7);
    QVERIFY2(chat.ok(), qPrintable(chat.error()));
    QCOMPARE(chat.value().model, QString("tinyllama"));
    QCOMPARE(chat.value().mode, QString());
    QVERIFY(store.setConversationModel(7, "TinyLlama 1.1B", "flash").ok());
    QCOMPARE(store.conversation(7).value().mode, QString("flash"));
    const auto messages = store.messages(7).value();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages[1].content, QString("general kenobi"));
    QCOMPARE(messages[1].version, 1);
    QCOMPARE(messages[1].versionCount, 1);
    QCOMPARE(messages[1].stopReason, QString());
    QCOMPARE(store.startNewVersion(2).value(), 2);  // an old reply can be regenerated
    QCOMPARE(store.search("kenobi").value().size(), 0);  // the version kept is not in the search index...
    QVERIFY(store.completeMessage(2, "hello again", "length").ok());
    QCOMPARE(store.search("again").value().size(), 1);  // ...the one shown is
    QVERIFY(store.setStateValue("lastConversation", "7").ok());
    QCOMPARE(store.stateValue("lastConversation").value(), QString("7"));
    QCOMPARE(store.stateValue("nothing").value(), QString());
  }

  // A file as version 4 left it (before presets), opened with the presets the
  // settings of that version give (AppSettings::presetSeed): the Default holds
  // the old global prompt and sampling, a model's own settings become that
  // model's preset (its new chats start with it), every conversation and
  // message is still there and uses the Default, and a value out of today's
  // range is brought into it rather than refusing the file.
  void migratesAVersion4FileToPresets() {
    const QString path = dir_.filePath("v4.sqlite");
    QCOMPARE(rawQuery(path, version4Schema() + QStringList{
                                "INSERT INTO conversations VALUES (3, 'a story', 0, 5, 'stories260K', 'flash')",
                                "INSERT INTO messages VALUES (1, 3, 'user', 'tell me about the lighthouse', 0, 1, '', 1)",
                                "INSERT INTO messages VALUES (2, 3, 'assistant', 'the keeper', 0, 1, 'length', 1)",
                                "INSERT INTO app_state VALUES ('lastConversation', '3')",
                                "PRAGMA user_version"}),
             QStringList{"4"});
    Preset global = Preset::builtInDefaults();
    global.systemPrompt = "Be kind.";
    global.temperature = 0.3;
    global.maxTokens = 99;
    Preset own = global;
    own.builtIn = false;
    own.name = own.modelName = "a";
    own.model = "/models/a.gguf";
    own.temperature = 7;  // an older version took anything
    own.systemPrompt = "Answer in French.";
    HistoryStore store(path);
    store.setPresetSeed({global, own});
    QCOMPARE(store.schemaVersion().value(), 5);

    QCOMPARE(store.conversation(3).value().mode, QString("flash"));
    const auto messages = store.messages(3).value();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages[1].content, QString("the keeper"));
    QCOMPARE(messages[1].stopReason, QString("length"));
    QCOMPARE(store.search("lighthouse").value().size(), 1);
    QCOMPARE(store.stateValue("lastConversation").value(), QString("3"));

    PresetStore presets(store);
    const auto list = presets.list();
    QVERIFY2(list.ok(), qPrintable(list.error()));
    QCOMPARE(list.value().size(), 2);
    const Preset& kept = list.value()[0];
    QVERIFY(kept.builtIn);
    QCOMPARE(kept.name, QString("Default"));
    QCOMPARE(kept.systemPrompt, QString("Be kind."));
    QCOMPARE(kept.temperature, 0.3);
    QCOMPARE(kept.maxTokens, 99);
    const Preset& model = list.value()[1];
    QCOMPARE(model.model, QString("/models/a.gguf"));
    QCOMPARE(model.systemPrompt, QString("Answer in French."));
    QCOMPARE(model.temperature, 2.0);  // brought into range
    QCOMPARE(presets.conversationPreset(3).value(), kept.id);  // the old conversation: the Default
    QCOMPARE(presets.effective(3, "/models/a.gguf").value().id, kept.id);
    QCOMPARE(presets.forNewConversation("/models/a.gguf").value().id, model.id);  // what that model ran with
    QCOMPARE(presets.forNewConversation("/models/b.gguf").value().id, kept.id);
    QCOMPARE(rawQuery(path, {"PRAGMA foreign_key_check"}), QStringList{});
  }

  // Without a seed (a new install, the tests): the Default has the built-in values.
  void aNewHistoryHasTheBuiltInDefault() {
    HistoryStore store(dir_.filePath("fresh.sqlite"));
    const auto preset = PresetStore(store).defaultPreset();
    QVERIFY2(preset.ok(), qPrintable(preset.error()));
    Preset expected = Preset::builtInDefaults();
    expected.id = preset.value().id;
    QCOMPARE(preset.value(), expected);
  }

  // A failed step leaves the file at the version before it, not half-migrated.
  void aFailedMigrationStepChangesNothing() {
    const QString path = dir_.filePath("v2-broken.sqlite");
    // app_state already there (as a table v3 cannot create): the v3 step must fail whole.
    rawQuery(path, version2Schema() + QStringList{"CREATE TABLE app_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)"});
    HistoryStore store(path);
    const auto opened = store.open();
    QVERIFY(!opened.ok());
    QVERIFY2(opened.error().contains("version 3"), qPrintable(opened.error()));
    QCOMPARE(rawQuery(path, {"PRAGMA user_version"}), QStringList{"2"});
    // The mode column of the failed step was rolled back with it.
    QCOMPARE(rawQuery(path, {"SELECT COUNT(*) FROM pragma_table_info('conversations') WHERE name = 'mode'"}),
             QStringList{"0"});
  }

  // Regenerate keeps every version; any finished one can be shown again, and
  // deleting the reply (edit-and-resend) takes its versions with it.
  void keepsTheVersionsOfARegeneratedReply() {
    HistoryStore store(dir_.filePath("versions.sqlite"));
    const qint64 chat = store.createConversation("versions").value();
    const qint64 question = store.appendMessage(chat, "user", "name a colour").value();
    const qint64 reply = store.appendMessage(chat, "assistant", "", false).value();
    QVERIFY(store.completeMessage(reply, "red").ok());
    QCOMPARE(store.message(reply).value().versionCount, 1);

    QCOMPARE(store.startNewVersion(reply).value(), 2);
    sieve::app::Message streaming = store.message(reply).value();
    QCOMPARE(streaming.content, QString());
    QVERIFY(!streaming.complete);
    QCOMPARE(streaming.version, 2);
    QCOMPARE(streaming.versionCount, 2);
    QVERIFY(!store.selectVersion(reply, 1).ok());  // not while the new one streams
    QVERIFY(store.completeMessage(reply, "green, and a long one", "length").ok());

    QCOMPARE(store.startNewVersion(reply).value(), 3);
    QVERIFY(store.completeMessage(reply, "blue").ok());
    auto shown = store.message(reply).value();
    QCOMPARE(shown.content, QString("blue"));
    QCOMPARE(shown.version, 3);
    QCOMPARE(shown.versionCount, 3);

    auto second = store.selectVersion(reply, 2);
    QVERIFY2(second.ok(), qPrintable(second.error()));
    QCOMPARE(second.value().content, QString("green, and a long one"));
    QCOMPARE(second.value().stopReason, QString("length"));
    QCOMPARE(second.value().version, 2);
    QCOMPARE(second.value().versionCount, 3);
    QCOMPARE(store.messages(chat).value().last().content, QString("green, and a long one"));  // what the next turn sends
    QCOMPARE(store.selectVersion(reply, 1).value().content, QString("red"));
    QCOMPARE(store.selectVersion(reply, 3).value().content, QString("blue"));
    QVERIFY(!store.selectVersion(reply, 4).ok());
    QVERIFY(!store.startNewVersion(question).ok());  // only replies have versions

    // A crash mid-regenerate: the partial text is the version it was, the others stay.
    QCOMPARE(store.startNewVersion(reply).value(), 4);
    QVERIFY(store.updateMessage(reply, "purp").ok());
    HistoryStore reopened(store.path());
    const auto afterCrash = reopened.message(reply).value();
    QCOMPARE(afterCrash.content, QString("purp"));
    QCOMPARE(afterCrash.versionCount, 4);
    QCOMPARE(reopened.startNewVersion(reply).value(), 5);  // and regenerating again keeps "purp" as 4

    QVERIFY(store.editMessage(chat, question, "name a fruit").ok());
    QCOMPARE(rawQuery(store.path(), {"SELECT COUNT(*) FROM message_versions"}), QStringList{"0"});
  }

  void refusesAFileFromANewerVersion() {
    const QString path = dir_.filePath("future.sqlite");
    rawQuery(path, {"PRAGMA user_version=99"});
    HistoryStore store(path);
    const auto opened = store.open();
    QVERIFY(!opened.ok());
    QVERIFY2(opened.error().contains("newer"), qPrintable(opened.error()));
  }

  void reportsAnUnopenableFileAsAnError() {
    HistoryStore store("/proc/no-such-dir/history.sqlite");
    const auto opened = store.open();
    QVERIFY(!opened.ok());
    QVERIFY(!opened.error().isEmpty());
  }

  void createsRenamesListsAndDeletesConversations() {
    HistoryStore store(dir_.filePath("crud.sqlite"));
    const qint64 a = store.createConversation("first", "stories260K").value();
    QTest::qWait(5);  // distinct update times
    const qint64 b = store.createConversation("second").value();
    QTest::qWait(5);
    QVERIFY(store.renameConversation(a, "renamed").ok());  // also makes it the most recent
    auto list = store.listConversations().value();
    QCOMPARE(list.size(), 2);
    QCOMPARE(list[0].id, a);
    QCOMPARE(list[0].title, QString("renamed"));
    QCOMPARE(list[0].model, QString("stories260K"));
    store.appendMessage(b, "user", "hello");
    QVERIFY(store.deleteConversation(b).ok());
    QCOMPARE(store.listConversations().value().size(), 1);
    QCOMPARE(rawQuery(store.path(), {"SELECT count(*) FROM messages"}), QStringList{"0"});
    QVERIFY(!store.deleteConversation(b).ok());
    QVERIFY(!store.renameConversation(12345, "x").ok());
  }

  void searchesMessagesWithFts() {
    HistoryStore store(dir_.filePath("search.sqlite"));
    const qint64 c = store.createConversation("animals").value();
    store.appendMessage(c, "user", "Tell me about the quick brown fox");
    const qint64 reply = store.appendMessage(c, "assistant", "", false).value();
    store.updateMessage(reply, "Foxes are clever");
    QCOMPARE(store.search("fox").value().size(), 1);
    QCOMPARE(store.search("clever").value().size(), 1);  // checkpointed text is indexed
    store.completeMessage(reply, "Foxes are small canids");
    QCOMPARE(store.search("clever").value().size(), 0);  // the old text left the index
    const auto hits = store.search("canid*").value();
    QCOMPARE(hits.size(), 1);
    QCOMPARE(hits[0].message_id, reply);
    QVERIFY(hits[0].snippet.contains("[canids]"));
    QVERIFY(!store.search("\"unbalanced").ok());  // a bad query is an error, not a crash
  }

  void exportsMarkdownAndJson() {
    HistoryStore store(dir_.filePath("export.sqlite"));
    const qint64 c = store.createConversation("Story time", "stories260K").value();
    store.appendMessage(c, "user", "Once upon a time?");
    store.appendMessage(c, "assistant", "there was a **cat**.");
    const QString md = store.exportMarkdown(c).value();
    QCOMPARE(md, QString("# Story time\n\n## User\n\nOnce upon a time?\n\n## Assistant\n\nthere was a **cat**.\n"));
    const QJsonObject json = QJsonDocument::fromJson(store.exportJson(c).value().toUtf8()).object();
    QCOMPARE(json["title"].toString(), QString("Story time"));
    QCOMPARE(json["model"].toString(), QString("stories260K"));
    const QJsonArray messages = json["messages"].toArray();
    QCOMPARE(messages.size(), 2);
    QCOMPARE(messages[1].toObject()["content"].toString(), QString("there was a **cat**."));
    QCOMPARE(messages[1].toObject()["complete"].toBool(), true);
    QVERIFY(!store.exportJson(999).ok());
  }

  void editsAMessageAndDeletesTheLaterOnes() {
    HistoryStore store(dir_.filePath("edit.sqlite"));
    const qint64 c = store.createConversation("c").value();
    const qint64 other = store.createConversation("other").value();
    const qint64 q1 = store.appendMessage(c, "user", "first question").value();
    store.appendMessage(c, "assistant", "first answer");
    store.appendMessage(c, "user", "second question about zebras");
    store.appendMessage(c, "assistant", "second answer");
    store.appendMessage(other, "user", "untouched");
    QCOMPARE(store.editMessage(c, q1, "edited question").value(), 3);
    auto left = store.messages(c).value();
    QCOMPARE(left.size(), 1);
    QCOMPARE(left[0].content, QString("edited question"));
    QVERIFY(store.search("zebras").value().isEmpty());      // the FTS index followed
    QCOMPARE(store.search("edited").value().size(), 1);
    QCOMPARE(store.messages(other).value().size(), 1);     // other conversations are not touched
    // A message of another conversation is refused, and nothing changes.
    const qint64 foreign = store.messages(other).value()[0].id;
    QVERIFY(!store.editMessage(c, foreign, "x"));
    QCOMPARE(store.messages(other).value()[0].content, QString("untouched"));
    // Regenerate / overflow cancel: from a message on.
    const qint64 answer = store.appendMessage(c, "assistant", "new answer").value();
    QCOMPARE(store.deleteMessagesFrom(c, answer).value(), 1);
    QCOMPARE(store.messages(c).value().size(), 1);
  }

  void checkpointsAStreamingReply() {
    HistoryStore store(dir_.filePath("checkpoint.sqlite"));
    const qint64 c = store.createConversation("c").value();
    const qint64 m = store.appendMessage(c, "assistant", "", false).value();
    QVERIFY(store.updateMessage(m, "Once").ok());
    QVERIFY(store.updateMessage(m, "Once upon").ok());
    auto list = store.messages(c).value();
    QCOMPARE(list[0].content, QString("Once upon"));
    QCOMPARE(list[0].complete, false);
    QVERIFY(store.completeMessage(m, "Once upon a time").ok());
    list = store.messages(c).value();
    QCOMPARE(list[0].complete, true);
    QVERIFY(!store.updateMessage(4242, "x").ok());
  }

  // kill -9 the writer at random moments: the file stays sound, every
  // completed message is there, a partial reply lost at most its last interval.
  void survivesKillNineMidReply() {
    const QString path = dir_.filePath("killed.sqlite");
    constexpr int kEvery = 8;
    for (int round = 0; round < 20; ++round) {
      QProcess writer;
      writer.start(HISTORY_WRITER_PATH, {path, QString::number(kEvery)});
      QVERIFY(writer.waitForStarted(5000));
      // Kill it while it writes: after its first report (a slow start, e.g.
      // under ThreadSanitizer on a loaded machine, would otherwise eat the
      // whole delay and every kill would land before the first reply).
      QVERIFY(writer.waitForReadyRead(30000));
      QTest::qWait(QRandomGenerator::global()->bounded(0, 150));
      QCOMPARE(writer.state(), QProcess::Running);  // it never stops on its own
      writer.kill();  // SIGKILL
      QVERIFY(writer.waitForFinished(5000));
      checkAfterKill(path, QString::fromUtf8(writer.readAllStandardOutput()), kEvery);
    }
    QVERIFY2(unfinishedSeen_ > 0, "no kill landed mid-reply: the test proved nothing");
  }

 private:
  void checkAfterKill(const QString& path, const QString& reported, int every) {
    QCOMPARE(rawQuery(path, {"PRAGMA integrity_check"}), QStringList{"ok"});
    std::map<qint64, std::pair<QString, bool>> rows;  // id -> (content, complete)
    {
      HistoryStore store(path);
      for (const auto& c : store.listConversations().value()) {
        for (const auto& m : store.messages(c.id).value()) rows[m.id] = {m.content, m.complete};
      }
    }
    // What the writer said it committed must be there.
    const QStringList lines = reported.split('\n');
    for (int i = 0; i + 1 < lines.size(); ++i) {  // the last piece may be cut: not a full report
      const QStringList f = lines[i].split(' ');
      QCOMPARE(f.size(), 3);
      const qint64 id = f[1].toLongLong();
      const int n = f[2].toInt();
      QVERIFY2(rows.count(id), qPrintable("message lost: " + lines[i]));
      const auto& [content, complete] = rows[id];
      if (f[0] == "C") {
        QVERIFY(complete);
        QCOMPARE(content, n == 0 ? QString("tell me a story") : words(n));
      } else {
        QVERIFY2(content.startsWith(words(n)), qPrintable("checkpoint lost: " + lines[i]));
      }
    }
    // An unfinished reply holds exactly its last checkpoint: whole intervals only.
    int unfinished = 0;
    for (const auto& [id, row] : rows) {
      if (row.second) continue;
      ++unfinished;
      const int n = row.first.isEmpty() ? 0 : int(row.first.split(' ', Qt::SkipEmptyParts).size());
      QCOMPARE(row.first, words(n));
      QCOMPARE(n % every, 0);
    }
    QVERIFY(unfinished <= rounds_ + 1);  // at most one per killed writer
    unfinishedSeen_ = unfinished;
    ++rounds_;
  }

  QTemporaryDir dir_;
  int rounds_ = 0;
  int unfinishedSeen_ = 0;
};

QTEST_GUILESS_MAIN(HistoryStoreTest)
#include "history_store_test.moc"
