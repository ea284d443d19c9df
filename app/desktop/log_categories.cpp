#include "desktop/log_categories.h"

namespace sieve::app {

// Info and above by default; debug only when QT_LOGGING_RULES asks for it.
Q_LOGGING_CATEGORY(lcApp, "sieve.app", QtInfoMsg)
Q_LOGGING_CATEGORY(lcEngine, "sieve.engine", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHistory, "sieve.history", QtInfoMsg)

}  // namespace sieve::app
