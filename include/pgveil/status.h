// Status and StatusOr<T>: errors on pgveil's data path are values, never exceptions.
//
// A Status is either ok() or carries a code and a message meant for a human (a DBA
// reading a log, or a client reading an ErrorResponse). Messages never contain values
// read from the wire, passwords or key material.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pgveil {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad input from a user: a rule, a config value, a parameter
  kProtocol,         // a malformed or out-of-place wire message
  kTooLarge,         // a length above a configured limit
  kNotFound,
  kUnsupported,
  kPermissionDenied,
  kUnavailable,  // a peer or resource that cannot be reached right now
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  std::string ToString() const {
    if (ok()) return "OK";
    return std::string(CodeName(code_)) + ": " + message_;
  }

  static std::string_view CodeName(StatusCode c) {
    switch (c) {
      case StatusCode::kOk:
        return "ok";
      case StatusCode::kInvalidArgument:
        return "invalid argument";
      case StatusCode::kProtocol:
        return "protocol violation";
      case StatusCode::kTooLarge:
        return "too large";
      case StatusCode::kNotFound:
        return "not found";
      case StatusCode::kUnsupported:
        return "unsupported";
      case StatusCode::kPermissionDenied:
        return "permission denied";
      case StatusCode::kUnavailable:
        return "unavailable";
      case StatusCode::kInternal:
        return "internal";
    }
    return "unknown";
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status ProtocolError(std::string m) { return {StatusCode::kProtocol, std::move(m)}; }
inline Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Holds either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pgveil
