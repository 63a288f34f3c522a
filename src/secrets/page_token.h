#pragma once

// Opaque NextToken values for the paginated operations: base64 of "<offset>:<fingerprint>",
// where the fingerprint is a short hash of the query (operation, region, secret, filters, sort).
// A token is accepted only by the query that produced it; anything else is kInvalidNextToken.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/status.h"

namespace coffer::secrets {

// A short stable hash of a query description.
std::string QueryFingerprint(std::string_view query);
std::string EncodePageToken(std::size_t offset, std::string_view fingerprint);
// The offset a token encodes, or kInvalidNextToken "The NextToken value is invalid.".
Result<std::size_t> DecodePageToken(std::string_view token, std::string_view fingerprint);

}  // namespace coffer::secrets
