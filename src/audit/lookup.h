#pragma once

// CloudTrail LookupEvents over the on-disk trail.
//
// Semantics (as CloudTrail's): at most one lookup attribute (EventId, EventName, ReadOnly
// ("true"/"false"), Username, ResourceType, ResourceName (a resource's name or ARN),
// EventSource, AccessKeyId); StartTime/EndTime inclusive, compared at second precision like
// CloudTrail's eventTime; MaxResults 1..50 (default 50); results newest first (append order).
//
// The scan reads segment files backwards (newest segment first, lines in reverse), so a small
// page costs only the newest bytes of the trail. Records are always read from the files, never
// from a copy in memory, and consecutive records read in one scan are checked against the hash
// chain: a broken link fails the lookup (kDataLoss) rather than serving an altered record.
//
// NextToken is opaque: it holds the seq to continue below, a hint of the byte position, and a
// hash of the query's attribute and time range; a token used with other parameters (or not
// made by this code) is kInvalidNextToken.
//
// Errors: kInvalidLookupAttributes (more than one attribute, an unknown key, an empty value, a
// ReadOnly value other than true/false), kInvalidTimeRange (start after end), kInvalidMaxResults,
// kInvalidNextToken, kDataLoss (a broken chain or an unreadable line), kUnavailable (I/O).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/record.h"
#include "core/status.h"

namespace coffer::audit {

inline constexpr int kMaxLookupResults = 50;

struct LookupAttribute {
  std::string key;
  std::string value;
};

struct LookupQuery {
  std::vector<LookupAttribute> attributes;  // CloudTrail allows at most one
  std::optional<std::int64_t> start_ms;
  std::optional<std::int64_t> end_ms;
  std::optional<int> max_results;
  std::string next_token;
};

struct LookupPage {
  std::vector<Record> events;  // newest first
  std::string next_token;      // empty when there are no more results
};

// Looks up events in the trail directory `dir` (TrailOptions::dir).
Result<LookupPage> LookupEvents(const std::string& dir, const LookupQuery& query);

}  // namespace coffer::audit
