#pragma once
// The app's logging categories. Messages reach the rotating log file
// (desktop/file_log.h) and stderr; `QT_LOGGING_RULES="sieve.*.debug=true"`
// turns on the debug messages, which are off by default.

#include <QLoggingCategory>

namespace sieve::app {

Q_DECLARE_LOGGING_CATEGORY(lcApp)      // "sieve.app": start-up, settings, windows
Q_DECLARE_LOGGING_CATEGORY(lcEngine)   // "sieve.engine": loading models, generation, the worker thread
Q_DECLARE_LOGGING_CATEGORY(lcHistory)  // "sieve.history": the SQLite history

}  // namespace sieve::app
