#pragma once

// Status and Result<T>: expected failures are values, not exceptions.
//
// The codes are coffer's own, but they are chosen so that each maps to exactly one AWS error type
// and HTTP status; that mapping lives in one table (src/api/errors.cc). When adding a code, add it
// there too, and to StatusCodeName() in status.cc.

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace coffer {

enum class StatusCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument,     // a parameter is malformed or out of range
  kValidation,          // a name or id has characters the API does not allow
  kFailedPrecondition,  // the request is valid but not for the resource's current state
  kNotFound,
  kAlreadyExists,
  kResourceExhausted,   // a quota would be exceeded
  kInvalidNextToken,
  kMalformedPolicy,
  kPublicPolicy,
  kPreconditionNotMet,
  kEncryptionFailure,
  kDecryptionFailure,
  kUnauthenticated,     // unknown access key or security token
  kInvalidSignature,    // signature mismatch, or outside the clock window
  kIncompleteSignature, // Authorization header malformed or missing parts
  kMissingAuthToken,    // no Authorization header at all
  kPermissionDenied,
  kUnknownOperation,
  kSerialization,       // the request body is not the JSON the operation expects
  kThrottled,
  kPayloadTooLarge,     // HTTP-level: body over the limit
  kInvalidLookupAttributes,  // CloudTrail LookupEvents: bad or more than one lookup attribute
  kInvalidTimeRange,         // CloudTrail LookupEvents: StartTime after EndTime
  kInvalidMaxResults,        // CloudTrail LookupEvents: MaxResults outside 1..50
  kAborted,             // optimistic-concurrency conflict; callers retry
  kUnavailable,
  kDataLoss,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status Validation(std::string m) { return {StatusCode::kValidation, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with context: "opening db: <message>". Keeps the code.
  Status WithContext(std::string_view what) const;

  // "NotFound: message", for logs. Messages never carry secret values.
  std::string ToString() const;

  bool operator==(const Status& other) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    assert(!std::get<1>(v_).ok() && "Result constructed from an OK status");
  }

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<1>(v_);
  }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace coffer

#define COFFER_STATUS_CONCAT_INNER(a, b) a##b
#define COFFER_STATUS_CONCAT(a, b) COFFER_STATUS_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define COFFER_RETURN_IF_ERROR(expr)                          \
  do {                                                        \
    ::coffer::Status coffer_status_tmp_ = (expr);             \
    if (!coffer_status_tmp_.ok()) return coffer_status_tmp_;  \
  } while (false)

// `lhs = value of expr`, or returns its Status from the enclosing function.
#define COFFER_ASSIGN_OR_RETURN(lhs, expr) \
  COFFER_ASSIGN_OR_RETURN_IMPL(COFFER_STATUS_CONCAT(coffer_result_, __LINE__), lhs, expr)
#define COFFER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
