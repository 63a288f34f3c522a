#pragma once

// The CloudTrail JSON 1.1 codec for LookupEvents (X-Amz-Target
// com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents), see
// ../shared/reference/cloudtrail-lookupevents.md.
//
// Request: {"LookupAttributes":[{"AttributeKey":K,"AttributeValue":V}],"StartTime":T,
//           "EndTime":T,"MaxResults":N,"NextToken":S,"EventCategory":"insight"}
//   Timestamps are epoch seconds as a JSON number (what the aws CLI and boto3 send; fractions
//   allowed) or an ISO 8601 string ("2024-05-01T12:00:00Z", optional fraction and offset).
// Response: {"Events":[{"EventId","EventName","ReadOnly":"true"|"false","AccessKeyId",
//            "EventTime":<epoch seconds>,"EventSource","Username",
//            "Resources":[{"ResourceType","ResourceName"}],"CloudTrailEvent":"<event JSON>"}],
//            "NextToken":S}  (NextToken only when there are more results)

#include <optional>
#include <string>
#include <string_view>

#include "audit/lookup.h"
#include "audit/trail.h"
#include "core/status.h"

namespace coffer::audit {

struct DecodedLookupRequest {
  LookupQuery query;
  // EventCategory "insight": coffer records no Insights events, so the answer is empty.
  bool insight = false;
};

// kSerialization for a body that is not the JSON the operation expects (wrong member types,
// unparseable timestamps); the query's own rules are checked by LookupEvents().
Result<DecodedLookupRequest> DecodeLookupEventsRequest(std::string_view body);

std::string EncodeLookupEventsResponse(const LookupPage& page);

// Decode -> Trail::Lookup -> encode: the body of a 200 response, or a Status whose code maps to
// the CloudTrail error type through api/error_table (kInvalidLookupAttributes,
// kInvalidTimeRange, kInvalidMaxResults, kInvalidNextToken, kSerialization; kDataLoss or
// kUnavailable as InternalServiceError).
Result<std::string> HandleLookupEvents(Trail& trail, std::string_view request_json);

// ISO 8601 "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]" (no zone = UTC) -> epoch millis.
std::optional<std::int64_t> ParseIso8601Millis(std::string_view text);

}  // namespace coffer::audit
