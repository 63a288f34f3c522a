#pragma once

// One audit record: who called which action on which resources, when, from where, and how it
// ended. A record deliberately has no field for request payload values, secret values or error
// messages (they may echo input): what is not in the struct cannot leak into the trail.
//
// On disk a record is one JSON line with a stable key order, led by the chain fields:
//
//   {"seq":7,"prev":"<64 hex>","time":1700000000123,"event_id":"...","request_id":"...",
//    "account_id":"...","region":"...","principal_arn":"...","principal_type":"IAMUser",
//    "user_name":"...","access_key_id":"...","source_ip":"...","user_agent":"...",
//    "event_source":"secretsmanager.amazonaws.com","event_name":"GetSecretValue",
//    "read_only":true,"resources":[{"type":"...","arn":"...","name":"..."}],"error_code":""}
//
// "seq" is 1-based and consecutive over the whole trail; "prev" is the lowercase hex SHA-256 of
// the previous record's line bytes (without its '\n'), or kGenesisHash for record 1. The layout is
// in docs/design/audit-trail.md.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace coffer::audit {

// "prev" of the first record ever.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Event sources.
inline constexpr std::string_view kSecretsManagerSource = "secretsmanager.amazonaws.com";
inline constexpr std::string_view kIamSource = "iam.amazonaws.com";
inline constexpr std::string_view kCloudTrailSource = "cloudtrail.amazonaws.com";
inline constexpr std::string_view kStsSource = "sts.amazonaws.com";

// Resource types.
inline constexpr std::string_view kSecretType = "AWS::SecretsManager::Secret";
inline constexpr std::string_view kIamUserType = "AWS::IAM::User";
inline constexpr std::string_view kIamPolicyType = "AWS::IAM::Policy";
inline constexpr std::string_view kIamAccessKeyType = "AWS::IAM::AccessKey";

struct Resource {
  std::string type;  // one of the k*Type constants
  std::string arn;   // may be empty when the resource does not exist (then name is what was asked)
  std::string name;

  bool operator==(const Resource&) const = default;
};

struct Record {
  std::int64_t time_ms = 0;  // when the request arrived; Trail::Append fills 0 from its clock
  std::string event_id;      // a random UUID; Trail::Append fills an empty one
  std::string request_id;    // the x-amzn-RequestId the client saw
  std::string account_id;
  std::string region;
  std::string principal_arn;   // empty for unauthenticated requests
  std::string principal_type;  // "Root" | "IAMUser" | "AssumedRole" | "" (unauthenticated)
  std::string user_name;       // IAM user or role-session name; empty for root
  std::string access_key_id;
  std::string source_ip;
  std::string user_agent;
  std::string event_source;  // kSecretsManagerSource | kIamSource | kCloudTrailSource
  std::string event_name;    // the action, e.g. "GetSecretValue"
  bool read_only = false;
  std::vector<Resource> resources;
  std::string error_code;  // the AWS error type ("AccessDeniedException"), empty on success

  bool operator==(const Record&) const = default;
};

// The record's JSON line after the chain fields: `"time":...,...,"error_code":"..."}` (ends with
// the closing brace, no newline). Formatting needs no lock; Trail prepends the chain fields.
std::string SerializeBody(const Record& record);

// The full line (without '\n'): `{"seq":<seq>,"prev":"<prev>",` + body.
std::string ComposeLine(std::uint64_t seq, std::string_view prev_hex, std::string_view body);

// Lowercase hex SHA-256 of a line's bytes (without its '\n').
std::string LineHash(std::string_view line);

struct ParsedLine {
  std::uint64_t seq = 0;
  std::string prev;
  Record record;
};

// Parses one line (without '\n'). kDataLoss with a short reason when it is not a record line.
Result<ParsedLine> ParseLine(std::string_view line);

// Cheap extraction of the chain fields from the fixed line prefix, without a JSON parse.
// False when the line does not start the way ComposeLine writes it.
bool PeekChainFields(std::string_view line, std::uint64_t* seq, std::string_view* prev);

// The CloudTrail event JSON of a record ("eventVersion" 1.08), one line, as LookupEvents returns
// it in CloudTrailEvent and as the JSON-lines sink writes it.
std::string CloudTrailEventJson(const Record& record);

// The user name CloudTrail shows: user_name, or "root" for the root user.
std::string DisplayUserName(const Record& record);

// Appends `text` to `out` as a JSON string literal (quotes included). Invalid UTF-8 bytes become
// U+FFFD so the line always parses.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace coffer::audit
