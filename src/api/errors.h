#pragma once

// The one table that maps coffer::StatusCode to AWS's error shape: the `__type` the client sees
// and the HTTP status. Handlers and the pipeline never build error JSON themselves; they return a
// Status and ErrorResponse() turns it into AWS's {"__type": ..., "Message": ...} body.
//
// When a StatusCode is added (core/status.h), add its row in errors.cc; errors_test.cc fails
// until every enumerator has one.

#include <string>
#include <string_view>

#include "core/status.h"
#include "http/server.h"

namespace coffer::api {

inline constexpr std::string_view kJsonContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kRequestIdHeader = "x-amzn-RequestId";
// The only message a 5xx ever carries: internal details go to the log, not to the client.
inline constexpr std::string_view kInternalErrorMessage = "An error occurred on the server side.";

struct AwsError {
  std::string_view type;             // the `__type`, e.g. "ResourceNotFoundException"
  int http_status = 400;
  std::string_view default_message;  // used when the Status carries no message
};

// A fresh request id for x-amzn-RequestId: a version-4 UUID in canonical lowercase form. Ids are
// unique (122 random bits from a per-thread generator seeded once from the CSPRNG) but NOT
// unpredictable: they are correlation ids, never secrets, tokens or nonces. Thread-safe; no lock.
std::string NewRequestId();

// The row for `code`. kOk has no row of its own: it maps to InternalServiceError (a caller bug
// if it ever reaches the client). `found` (when non-null) tells whether the table has a row.
AwsError AwsErrorFor(StatusCode code, bool* found = nullptr);

// The message the client sees: the Status message for client errors (or the row's default when
// empty), and always kInternalErrorMessage for 5xx.
std::string ClientMessage(const Status& status);

// The error response for `status`: the row's HTTP status (or `http_status_override` when
// non-zero), `Content-Type: application/x-amz-json-1.1`, `x-amzn-RequestId: <request_id>`, body
// {"__type": T, "Message": M}.
http::Response ErrorResponse(const Status& status, std::string_view request_id,
                             int http_status_override = 0);

}  // namespace coffer::api
