#pragma once
// A value or a one-sentence error, for calls that may fail at run time
// (a locked or corrupt database, a missing row) and must never throw across
// the Qt event loop.

#include <QString>
#include <optional>
#include <utility>

namespace sieve::app {

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  static Result failure(QString message) { return Result(std::move(message), 0); }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  // By value from a temporary, so `for (x : store.list().value())` is safe.
  T value() && { return std::move(*value_); }
  const QString& error() const { return error_; }

 private:
  Result(QString message, int) : error_(std::move(message)) {}
  std::optional<T> value_;
  QString error_;
};

struct Done {};  // the value of a Result that only says "it worked"

}  // namespace sieve::app
