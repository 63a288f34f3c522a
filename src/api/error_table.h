#pragma once

// The one table that maps coffer::StatusCode to AWS's error shape: the `__type` the client sees,
// the HTTP status, and a default message. It has no HTTP or JSON dependency, so the codec (for
// BatchGetSecretValue's per-secret Errors) and the error responses (api/errors.h) share it.
//
// When a StatusCode is added (core/status.h), add its row in error_table.cc; errors_test.cc fails
// until every enumerator has one.

#include <string>
#include <string_view>

#include "core/status.h"

namespace coffer::api {

// The only message a 5xx ever carries: internal details go to the log, not to the client.
inline constexpr std::string_view kInternalErrorMessage = "An error occurred on the server side.";

struct AwsError {
  std::string_view type;             // the `__type`, e.g. "ResourceNotFoundException"
  int http_status = 400;
  std::string_view default_message;  // used when the Status carries no message
};

// The row for `code`. kOk has no row of its own: it maps to InternalServiceError (a caller bug
// if it ever reaches the client). `found` (when non-null) tells whether the table has a row.
AwsError AwsErrorFor(StatusCode code, bool* found = nullptr);

// The message the client sees: the Status message for client errors (or the row's default when
// empty), and always kInternalErrorMessage for 5xx.
std::string ClientMessage(const Status& status);

}  // namespace coffer::api
