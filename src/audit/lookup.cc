#include "audit/lookup.h"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "audit/files.h"
#include "core/encoding.h"
#include "crypto/hash.h"

namespace coffer::audit {
namespace {

// Records are appended in arrival order, and their times come from the request, so a record may
// be a little older than one before it. Scanning backwards stops this far below StartTime.
constexpr std::int64_t kTimeSlackMs = 5 * 60 * 1000;
constexpr std::size_t kMaxAttributeValue = 2000;

constexpr std::string_view kKeys[] = {"EventId",      "EventName",    "ReadOnly",
                                      "Username",     "ResourceType", "ResourceName",
                                      "EventSource",  "AccessKeyId"};

Status InvalidToken() { return {StatusCode::kInvalidNextToken, "Invalid NextToken."}; }

// Binds a token to the query: the attribute and the time range (MaxResults may change).
std::string QueryHash(const LookupQuery& q) {
  std::string canonical;
  for (const LookupAttribute& a : q.attributes) {
    canonical += a.key + '\0' + a.value + '\0';
  }
  canonical += "start=" + (q.start_ms ? std::to_string(*q.start_ms) : std::string("-"));
  canonical += "end=" + (q.end_ms ? std::to_string(*q.end_ms) : std::string("-"));
  return HexEncode(crypto::Sha256(canonical)).substr(0, 32);
}

struct Token {
  std::uint64_t below = 0;    // continue with records whose seq is below this
  std::uint64_t segment = 0;  // first seq of the segment holding record `below`
  std::uint64_t offset = 0;   // start offset of record `below` in that segment
};

std::string EncodeToken(const Token& t, const std::string& query_hash) {
  nlohmann::json j = {{"v", 1}, {"b", t.below}, {"s", t.segment}, {"o", t.offset},
                      {"q", query_hash}};
  return Base64Encode(j.dump());
}

Result<Token> DecodeToken(const std::string& text, const std::string& query_hash) {
  auto raw = Base64Decode(text);
  if (!raw) return InvalidToken();
  nlohmann::json j = nlohmann::json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidToken();
  try {
    if (j.at("v").get<int>() != 1) return InvalidToken();
    if (j.at("q").get<std::string>() != query_hash) return InvalidToken();
    Token t;
    t.below = j.at("b").get<std::uint64_t>();
    t.segment = j.at("s").get<std::uint64_t>();
    t.offset = j.at("o").get<std::uint64_t>();
    if (t.below == 0) return InvalidToken();
    return t;
  } catch (const std::exception&) {
    return InvalidToken();
  }
}

// The "time" member that follows the chain fields; nullopt when the line is not laid out so.
std::optional<std::int64_t> PeekTime(std::string_view line) {
  constexpr std::string_view kTime = "\",\"time\":";
  std::size_t pos = line.find(kTime);
  if (pos == std::string_view::npos || pos > 120) return std::nullopt;
  const char* begin = line.data() + pos + kTime.size();
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(begin, line.data() + line.size(), value);
  if (ec != std::errc() || ptr == begin) return std::nullopt;
  return value;
}

bool Matches(const Record& r, const LookupAttribute& a) {
  const std::string& v = a.value;
  if (a.key == "EventId") return r.event_id == v;
  if (a.key == "EventName") return r.event_name == v;
  if (a.key == "ReadOnly") return r.read_only == (v == "true");
  if (a.key == "Username") return DisplayUserName(r) == v;
  if (a.key == "EventSource") return r.event_source == v;
  if (a.key == "AccessKeyId") return r.access_key_id == v;
  if (a.key == "ResourceType") {
    return std::any_of(r.resources.begin(), r.resources.end(),
                       [&](const Resource& res) { return res.type == v; });
  }
  if (a.key == "ResourceName") {
    return std::any_of(r.resources.begin(), r.resources.end(),
                       [&](const Resource& res) { return res.name == v || res.arn == v; });
  }
  return false;
}

Status Validate(const LookupQuery& q) {
  if (q.attributes.size() > 1) {
    return {StatusCode::kInvalidLookupAttributes,
            "You can specify only one lookup attribute; " + std::to_string(q.attributes.size()) +
                " were given."};
  }
  for (const LookupAttribute& a : q.attributes) {
    if (std::find(std::begin(kKeys), std::end(kKeys), a.key) == std::end(kKeys)) {
      return {StatusCode::kInvalidLookupAttributes,
              "The lookup attribute key \"" + a.key.substr(0, 64) + "\" is not valid."};
    }
    if (a.value.empty() || a.value.size() > kMaxAttributeValue) {
      return {StatusCode::kInvalidLookupAttributes,
              "The lookup attribute value must be 1 to 2000 characters long."};
    }
    if (a.key == "ReadOnly" && a.value != "true" && a.value != "false") {
      return {StatusCode::kInvalidLookupAttributes,
              "The ReadOnly lookup attribute value must be true or false."};
    }
  }
  if (q.max_results && (*q.max_results < 1 || *q.max_results > kMaxLookupResults)) {
    return {StatusCode::kInvalidMaxResults, "MaxResults must be between 1 and 50."};
  }
  if (q.start_ms && q.end_ms && *q.start_ms > *q.end_ms) {
    return {StatusCode::kInvalidTimeRange, "Start time must be before end time."};
  }
  return Status::Ok();
}

}  // namespace

Result<LookupPage> LookupEvents(const std::string& dir, const LookupQuery& query) {
  COFFER_RETURN_IF_ERROR(Validate(query));
  const std::string query_hash = QueryHash(query);
  std::optional<Token> token;
  if (!query.next_token.empty()) {
    COFFER_ASSIGN_OR_RETURN(Token t, DecodeToken(query.next_token, query_hash));
    token = t;
  }
  const std::size_t max_results = static_cast<std::size_t>(query.max_results.value_or(50));
  const LookupAttribute* attribute = query.attributes.empty() ? nullptr : &query.attributes[0];
  // A cheap necessary condition before a full parse: the value, as a JSON string, is in the line.
  std::string needle;
  if (attribute != nullptr && attribute->key != "ReadOnly" &&
      !(attribute->key == "Username" && attribute->value == "root")) {
    AppendJsonString(needle, attribute->value);
  }

  LookupPage page;
  auto segments = ListSegments(dir);
  if (!segments.ok()) {
    if (segments.status().code() == StatusCode::kNotFound) return page;
    return segments.status();
  }

  // The record read just before (the next newer one), to check the chain link to this one.
  bool have_newer = false;
  std::uint64_t newer_seq = 0;
  std::string newer_prev;

  for (std::size_t i = segments->size(); i-- > 0;) {
    const SegmentFile& seg = (*segments)[i];
    std::int64_t end_offset = -1;
    if (token) {
      if (seg.first_seq >= token->below) continue;
      if (seg.first_seq == token->segment) end_offset = static_cast<std::int64_t>(token->offset);
    }
    ReverseLineReader reader;
    Status opened = reader.Open(seg.path, end_offset);
    if (opened.code() == StatusCode::kNotFound) continue;  // removed by retention meanwhile
    COFFER_RETURN_IF_ERROR(opened);
    std::string line;
    std::uint64_t offset = 0;
    while (true) {
      COFFER_ASSIGN_OR_RETURN(bool has_line, reader.Next(&line, &offset));
      if (!has_line) break;
      std::uint64_t seq = 0;
      std::string_view prev;
      if (!PeekChainFields(line, &seq, &prev)) {
        return Status::DataLoss("audit trail: " + seg.name + " holds a line that is not a " +
                                "record (byte " + std::to_string(offset) +
                                "); run `coffer audit verify`");
      }
      if (token && seq >= token->below) continue;  // the token's offset hint did not hold
      if (have_newer) {
        if (newer_seq != seq + 1 || newer_prev != LineHash(line)) {
          return Status::DataLoss("audit trail: the hash chain is broken between records " +
                                  std::to_string(seq) + " and " + std::to_string(newer_seq) +
                                  "; run `coffer audit verify`");
        }
      }
      have_newer = true;
      newer_seq = seq;
      newer_prev.assign(prev);

      std::optional<std::int64_t> time = PeekTime(line);
      if (!time) {
        return Status::DataLoss("audit trail: record " + std::to_string(seq) +
                                " has no readable time; run `coffer audit verify`");
      }
      if (query.start_ms && *time < *query.start_ms - kTimeSlackMs) {
        page.next_token.clear();  // nothing older can match
        return page;
      }
      const std::int64_t second = *time - ((*time % 1000) + 1000) % 1000;
      if (query.start_ms && second < *query.start_ms) continue;
      if (query.end_ms && second > *query.end_ms) continue;
      if (!needle.empty() && line.find(needle) == std::string::npos) continue;
      COFFER_ASSIGN_OR_RETURN(ParsedLine parsed, ParseLine(line));
      if (attribute != nullptr && !Matches(parsed.record, *attribute)) continue;
      if (page.events.size() == max_results) {
        // There is at least one more: continue below the last one returned.
        return page;
      }
      page.events.push_back(std::move(parsed.record));
      if (page.events.size() == max_results) {
        page.next_token = EncodeToken({seq, seg.first_seq, offset}, query_hash);
      }
    }
  }
  // The scan ran out: whatever token was set for a full last page leads to nothing more.
  page.next_token.clear();
  return page;
}

}  // namespace coffer::audit
