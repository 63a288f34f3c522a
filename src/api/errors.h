#pragma once

// AWS error responses and request ids. Handlers and the pipeline never build error JSON
// themselves; they return a Status and ErrorResponse() turns it into AWS's
// {"__type": ..., "Message": ...} body, using the one table in api/error_table.h.

#include <string>
#include <string_view>

#include "api/error_table.h"
#include "core/status.h"
#include "http/server.h"

namespace coffer::api {

inline constexpr std::string_view kJsonContentType = "application/x-amz-json-1.1";
inline constexpr std::string_view kRequestIdHeader = "x-amzn-RequestId";
// A fresh request id for x-amzn-RequestId: a version-4 UUID in canonical lowercase form. Ids are
// unique (122 random bits from a per-thread generator seeded once from the CSPRNG) but NOT
// unpredictable: they are correlation ids, never secrets, tokens or nonces. Thread-safe; no lock.
std::string NewRequestId();

// The error response for `status`: the row's HTTP status (or `http_status_override` when
// non-zero), `Content-Type: application/x-amz-json-1.1`, `x-amzn-RequestId: <request_id>`, body
// {"__type": T, "Message": M}.
http::Response ErrorResponse(const Status& status, std::string_view request_id,
                             int http_status_override = 0);

}  // namespace coffer::api
