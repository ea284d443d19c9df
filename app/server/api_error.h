#pragma once
// An error answered in OpenAI's shape, with its HTTP status:
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "temperature", "code": null}}

#include <optional>
#include <stdexcept>
#include <string>

namespace sieve::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message, std::string type = "invalid_request_error",
           std::optional<std::string> param = std::nullopt, std::optional<std::string> code = std::nullopt)
      : std::runtime_error(message),
        status_(status),
        type_(std::move(type)),
        param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::optional<std::string>& param() const { return param_; }
  const std::optional<std::string>& code() const { return code_; }

  // A 400 naming the offending parameter.
  static ApiError bad_param(const std::string& param, const std::string& message) {
    return ApiError(400, message, "invalid_request_error", param);
  }

 private:
  int status_;
  std::string type_;
  std::optional<std::string> param_;
  std::optional<std::string> code_;
};

}  // namespace sieve::server
