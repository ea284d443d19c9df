#pragma once
// Where an exported conversation goes and how it is written: the file-system
// side of "Export…" (the text itself comes from HistoryStore::exportJson /
// exportMarkdown).

#include <QString>
#include <QUrl>

#include "desktop/result.h"

namespace sieve::app {

// The file the save dialog proposes: the title made safe for every file
// system, in Documents (or home without one), ending in .json or .md.
QUrl suggestedExportFile(const QString& title, const QString& format);

// Writes `text` to `file` (a typed name without extension gets the format's);
// returns the path written, or an error naming it.
Result<QString> writeExport(const QString& text, const QString& format, const QUrl& file);

}  // namespace sieve::app
