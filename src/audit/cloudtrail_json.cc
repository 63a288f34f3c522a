#include "audit/cloudtrail_json.h"

#include <cmath>
#include <ctime>
#include <limits>

#include <nlohmann/json.hpp>

namespace coffer::audit {
namespace {

using nlohmann::json;

Status Serialization(std::string m) { return {StatusCode::kSerialization, std::move(m)}; }

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

Result<std::int64_t> TimestampMillis(const json& value, const char* member) {
  if (value.is_number()) {
    double seconds = value.get<double>();
    if (!std::isfinite(seconds) || std::fabs(seconds) > 1e13) {
      return Serialization(std::string(member) + " is out of range");
    }
    return static_cast<std::int64_t>(std::llround(seconds * 1000.0));
  }
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (auto ms = ParseIso8601Millis(text)) return *ms;
    // Epoch seconds as a string.
    char* end = nullptr;
    double seconds = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(seconds) &&
        std::fabs(seconds) <= 1e13) {
      return static_cast<std::int64_t>(std::llround(seconds * 1000.0));
    }
  }
  return Serialization(std::string(member) + " is not a timestamp");
}

}  // namespace

std::optional<std::int64_t> ParseIso8601Millis(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' ||
      !Digits(s, 17, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    std::int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
  }
  std::int64_t offset_seconds = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      int sign = s[pos] == '+' ? 1 : -1;
      if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
          !Digits(s, pos + 4, 2, &om)) {
        return std::nullopt;
      }
      offset_seconds = sign * (oh * 3600 + om * 60);
      pos += 6;
    }
  }
  if (pos != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::int64_t epoch = static_cast<std::int64_t>(timegm(&tm));
  return (epoch - offset_seconds) * 1000 + millis;
}

Result<DecodedLookupRequest> DecodeLookupEventsRequest(std::string_view body) {
  json j = body.empty() ? json::object() : json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Serialization("The request body is not a JSON object.");
  }
  DecodedLookupRequest out;
  LookupQuery& q = out.query;
  if (auto it = j.find("LookupAttributes"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Serialization("LookupAttributes must be a list");
    for (const json& item : *it) {
      if (!item.is_object()) return Serialization("a lookup attribute must be an object");
      auto key = item.find("AttributeKey");
      auto value = item.find("AttributeValue");
      if (key == item.end() || value == item.end()) {
        return Status(StatusCode::kInvalidLookupAttributes,
                      "A lookup attribute needs AttributeKey and AttributeValue.");
      }
      if (!key->is_string() || !value->is_string()) {
        return Serialization("AttributeKey and AttributeValue must be strings");
      }
      q.attributes.push_back({key->get<std::string>(), value->get<std::string>()});
    }
  }
  if (auto it = j.find("StartTime"); it != j.end() && !it->is_null()) {
    COFFER_ASSIGN_OR_RETURN(std::int64_t ms, TimestampMillis(*it, "StartTime"));
    q.start_ms = ms;
  }
  if (auto it = j.find("EndTime"); it != j.end() && !it->is_null()) {
    COFFER_ASSIGN_OR_RETURN(std::int64_t ms, TimestampMillis(*it, "EndTime"));
    q.end_ms = ms;
  }
  if (auto it = j.find("MaxResults"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) return Serialization("MaxResults must be an integer");
    std::int64_t n = it->get<std::int64_t>();
    // Out-of-range values stay out of range (LookupEvents rejects them) without overflowing.
    if (n > std::numeric_limits<int>::max()) n = std::numeric_limits<int>::max();
    if (n < std::numeric_limits<int>::min()) n = std::numeric_limits<int>::min();
    q.max_results = static_cast<int>(n);
  }
  if (auto it = j.find("NextToken"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return Serialization("NextToken must be a string");
    q.next_token = it->get<std::string>();
  }
  if (auto it = j.find("EventCategory"); it != j.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>() != "insight") {
      return Serialization("EventCategory must be \"insight\"");
    }
    out.insight = true;
  }
  return out;
}

std::string EncodeLookupEventsResponse(const LookupPage& page) {
  json events = json::array();
  for (const Record& r : page.events) {
    json e = json::object();
    e["EventId"] = r.event_id;
    e["EventName"] = r.event_name;
    e["ReadOnly"] = r.read_only ? "true" : "false";
    if (!r.access_key_id.empty()) e["AccessKeyId"] = r.access_key_id;
    std::int64_t seconds = r.time_ms / 1000 - (r.time_ms % 1000 < 0 ? 1 : 0);
    e["EventTime"] = seconds;
    e["EventSource"] = r.event_source;
    std::string user = DisplayUserName(r);
    if (!user.empty()) e["Username"] = user;
    json resources = json::array();
    for (const Resource& res : r.resources) {
      resources.push_back({{"ResourceType", res.type}, {"ResourceName", res.name}});
    }
    e["Resources"] = std::move(resources);
    e["CloudTrailEvent"] = CloudTrailEventJson(r);
    events.push_back(std::move(e));
  }
  json out = json::object();
  out["Events"] = std::move(events);
  if (!page.next_token.empty()) out["NextToken"] = page.next_token;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> HandleLookupEvents(Trail& trail, std::string_view request_json) {
  COFFER_ASSIGN_OR_RETURN(DecodedLookupRequest request, DecodeLookupEventsRequest(request_json));
  // coffer records management events only: there are no Insights events to return.
  if (request.insight) return EncodeLookupEventsResponse(LookupPage{});
  COFFER_ASSIGN_OR_RETURN(LookupPage page, trail.Lookup(request.query));
  return EncodeLookupEventsResponse(page);
}

}  // namespace coffer::audit
