#pragma once
// The short list of well-known GGUF models the Downloads panel offers: data,
// not code. Built in as :/catalogue/models.json (resources/catalogue/), and
// replaced by the user's own copy when <AppConfigLocation>/catalogue.json
// exists (on Linux ~/.config/Sieve/Sieve/catalogue.json) — a file in the same
// format, so anyone can add or fix entries without a new build. A user file
// that cannot be read is reported and the built-in list is used.
//
// Format: {"version": 1, "models": [{"name", "url", "description",
// "approximateBytes", "bytes", "sha256"}]}. `name` and an http(s) `url` are
// required. `bytes` (exact) and `sha256` are checked after the download when
// given; `approximateBytes` is only shown. Nothing here is fetched until the
// user asks.

#include <QList>
#include <QString>

namespace sieve::app {

struct CatalogueEntry {
  QString name;
  QString url;
  QString description;
  qint64 approximateBytes = 0;  // for display; 0: unknown
  qint64 bytes = 0;             // exact, checked; 0: the server's Content-Length is used
  QString sha256;               // lower-case hex, checked; empty: not known
};

struct Catalogue {
  QList<CatalogueEntry> entries;
  QString source;  // the file it was read from
  QString error;   // a user file that could not be read (the built-in list is used)
};

inline constexpr char kBuiltInCatalogue[] = ":/catalogue/models.json";

// <AppConfigLocation>/catalogue.json.
QString userCataloguePath();

// The user's file when it exists and reads, else the built-in one.
Catalogue loadCatalogue(const QString& userPath = userCataloguePath());

// One file; an error (one sentence) when it is missing or malformed.
Catalogue readCatalogueFile(const QString& path);

}  // namespace sieve::app
