// WCAG AA contrast of the real palette: instantiates qrc:/Sieve/Ui/Theme.qml in
// light and dark, reads every colour property, and checks each pair the theme
// declares (textPairs: 4.5:1, controlPairs: 3:1) with WCAG 2's relative
// luminance. A colour in no pair (and not declared decorative) fails too, so
// a new colour has to say what it is drawn on. The colours are read the way
// QML code reads them (`theme.name` evaluated in QML), which is how a colour
// once named `onAccent` turned out always black: QML took the name for a
// signal handler.
#include <QColor>
#include <QGuiApplication>
#include <QJSValue>
#include <QMetaProperty>
#include <QQmlComponent>
#include <QQmlContext>
#include <QQmlEngine>
#include <QQmlExpression>
#include <QSet>
#include <QTest>
#include <cmath>
#include <memory>

namespace {

// WCAG 2.x relative luminance of an sRGB colour.
double relativeLuminance(const QColor& color) {
  const auto linear = [](double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); };
  return 0.2126 * linear(color.redF()) + 0.7152 * linear(color.greenF()) + 0.0722 * linear(color.blueF());
}

double contrastRatio(const QColor& a, const QColor& b) {
  const double la = relativeLuminance(a);
  const double lb = relativeLuminance(b);
  return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

QVariant plain(QVariant value) {
  if (value.metaType() == QMetaType::fromType<QJSValue>()) return value.value<QJSValue>().toVariant();
  return value;
}

}  // namespace

class ThemeContrastTest : public QObject {
  Q_OBJECT

 private slots:
  // The formula against figures WCAG's own tools give.
  void formulaMatchesKnownRatios() {
    QCOMPARE(qRound(contrastRatio(Qt::black, Qt::white) * 100), 2100);
    QCOMPARE(qRound(contrastRatio(QColor("#777777"), Qt::white) * 100), 448);  // the classic just-fails grey
    QCOMPARE(qRound(contrastRatio(QColor("#767676"), Qt::white) * 100), 454);  // ... and the just-passes one
  }

  void everyDeclaredPairMeetsAa_data() {
    QTest::addColumn<bool>("dark");
    QTest::newRow("light") << false;
    QTest::newRow("dark") << true;
  }

  // QML takes a name "on" + capital letter for a signal handler: such a colour is unreadable.
  void noColourNamedLikeAHandler() {
    QQmlEngine engine;
    QQmlComponent component(&engine, QUrl("qrc:/Sieve/Ui/Theme.qml"));
    std::unique_ptr<QObject> theme(component.create());
    QVERIFY2(theme, qPrintable(component.errorString()));
    const QMetaObject* meta = theme->metaObject();
    for (int i = meta->propertyOffset(); i < meta->propertyCount(); ++i) {
      const QString name = meta->property(i).name();
      QVERIFY2(!(name.startsWith("on") && name.size() > 2 && name[2].isUpper()), qPrintable(name));
    }
  }

  void everyDeclaredPairMeetsAa() {
    QFETCH(bool, dark);
    QQmlEngine engine;
    QQmlComponent component(&engine, QUrl("qrc:/Sieve/Ui/Theme.qml"));
    std::unique_ptr<QObject> theme(component.createWithInitialProperties({{"dark", dark}}));
    QVERIFY2(theme, qPrintable(component.errorString()));

    const QHash<QString, QColor> colours = coloursOf(engine, *theme);
    QVERIFY2(colours.size() >= 10, "Theme.qml's colour properties were not found");
    QSet<QString> used;
    QStringList failures;
    int checked = 0;
    const auto checkPairs = [&](const char* list, double minimum) {
      const QVariantList pairs = plain(theme->property(list)).toList();
      QVERIFY2(!pairs.isEmpty(), list);
      for (const QVariant& pairValue : pairs) {
        const QVariantMap pair = plain(pairValue).toMap();
        const QString fg = pair.value("fg").toString();
        QVERIFY2(colours.contains(fg), qPrintable(QString("%1 names no colour: %2").arg(list, fg)));
        used << fg;
        for (const QVariant& bgValue : plain(pair.value("on")).toList()) {
          const QString bg = bgValue.toString();
          QVERIFY2(colours.contains(bg), qPrintable(QString("%1 names no colour: %2").arg(list, bg)));
          used << bg;
          ++checked;
          if (!colours[fg].isValid() || !colours[bg].isValid()) {
            failures << QString("%1 %2 on %3: a colour QML cannot read").arg(list, fg, bg);
            continue;
          }
          const double ratio = contrastRatio(colours[fg], colours[bg]);
          if (ratio < minimum) {
            failures << QString("%1 %2 (%3) on %4 (%5): %6:1, needs %7:1")
                            .arg(list, fg, colours[fg].name(), bg, colours[bg].name())
                            .arg(ratio, 0, 'f', 2)
                            .arg(minimum);
          }
        }
      }
    };
    checkPairs("textPairs", 4.5);
    checkPairs("controlPairs", 3.0);
    for (const QVariant& name : plain(theme->property("decorative")).toList()) used << name.toString();
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join('\n')));
    QVERIFY(checked >= 40);
    QStringList unused;
    for (auto it = colours.begin(); it != colours.end(); ++it) {
      if (!used.contains(it.key())) unused << it.key();
    }
    QVERIFY2(unused.isEmpty(), qPrintable("colours in no pair (say what they are drawn on): " + unused.join(", ")));
  }

  // The two themes differ where they should: dark backgrounds are dark.
  void darkIsDark() {
    QQmlEngine engine;
    QQmlComponent component(&engine, QUrl("qrc:/Sieve/Ui/Theme.qml"));
    std::unique_ptr<QObject> light(component.createWithInitialProperties({{"dark", false}}));
    std::unique_ptr<QObject> dark(component.createWithInitialProperties({{"dark", true}}));
    QVERIFY(light && dark);
    QVERIFY(relativeLuminance(coloursOf(engine, *light)["window"]) > 0.8);
    QVERIFY(relativeLuminance(coloursOf(engine, *dark)["window"]) < 0.05);
  }

 private:
  // Every colour property, as QML code sees it (`theme.<name>`), checked against the C++ read.
  static QHash<QString, QColor> coloursOf(QQmlEngine& engine, QObject& theme) {
    QHash<QString, QColor> colours;
    QQmlContext context(engine.rootContext());
    context.setContextProperty("theme", &theme);
    const QMetaObject* meta = theme.metaObject();
    for (int i = meta->propertyOffset(); i < meta->propertyCount(); ++i) {
      const QMetaProperty property = meta->property(i);
      if (property.metaType() != QMetaType::fromType<QColor>()) continue;
      QQmlExpression expression(&context, nullptr, QString("theme.") + property.name());
      const QVariant seen = expression.evaluate();
      if (expression.hasError() || seen.metaType() != QMetaType::fromType<QColor>() ||
          seen.value<QColor>() != property.read(&theme).value<QColor>()) {
        qWarning("Theme.%s reads as %s in QML, %s in C++", property.name(), qPrintable(seen.toString()),
                 qPrintable(property.read(&theme).value<QColor>().name()));
        colours[property.name()] = QColor();  // fails every pair it is in
        continue;
      }
      colours[property.name()] = seen.value<QColor>();
    }
    return colours;
  }
};

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QGuiApplication app(argc, argv);
  ThemeContrastTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "theme_contrast_test.moc"
