#pragma once

// Building blocks of the JSON codec (api/json_codec.h): reading typed members out of a request
// object with AWS-style type errors, and writing response members with AWS's conventions
// (timestamps as epoch seconds with a fraction, base64 blobs, absent members omitted).
//
// Only JSON types and base64 are checked here. Lengths, ranges, patterns and required members are
// the service's business (src/secrets), so that every client sees one set of messages.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "secrets/types.h"

namespace coffer::api::internal {

using Json = nlohmann::json;

// Parses a request body. It must be one JSON object; an empty (or all-whitespace) body counts as
// {}. kSerialization otherwise. The message never quotes the body (it may hold a secret value).
Result<Json> ParseRequestBody(std::string_view body);

// Reads members of one JSON object. A member that is absent or JSON null leaves `out` untouched;
// unknown members are ignored (newer SDKs send members older servers do not know). The first type
// error is kept in status() and later reads do nothing.
class Reader {
 public:
  // `object` must outlive the Reader. `path` prefixes member names in messages ("Tags[0].").
  explicit Reader(const Json& object, std::string path = "");

  void Get(std::string_view name, std::string& out);
  void Get(std::string_view name, std::optional<std::string>& out);
  void Get(std::string_view name, std::optional<std::int64_t>& out);
  void Get(std::string_view name, std::optional<bool>& out);
  void Get(std::string_view name, std::vector<std::string>& out);
  void Get(std::string_view name, std::optional<std::vector<std::string>>& out);
  void Get(std::string_view name, std::vector<secrets::Tag>& out);
  void Get(std::string_view name, std::optional<std::vector<secrets::Tag>>& out);
  void Get(std::string_view name, std::optional<std::vector<secrets::Filter>>& out);
  void Get(std::string_view name, std::optional<secrets::RotationRules>& out);
  void Get(std::string_view name, std::optional<std::vector<secrets::ReplicaRegion>>& out);
  // SecretString and SecretBinary (base64, decoded into raw bytes).
  void GetSecretValue(secrets::SecretValue& out);
  // A list<{Key, Value}> kept as compact JSON text (ExternalSecretRotationMetadata): the shape is
  // checked and re-serialised, so only Key and Value survive.
  void GetKeyValueListJson(std::string_view name, std::optional<std::string>& out);

  const Status& status() const { return status_; }

 private:
  // The member, or nullptr when absent, null, or an error is already recorded.
  const Json* Find(std::string_view name) const;
  std::string PathOf(std::string_view name) const;
  template <typename T>
  void GetOptional(std::string_view name, std::optional<T>& out);

  const Json& object_;
  std::string path_;
  Status status_;
};

// ---- writing

// Epoch seconds with a millisecond fraction, as a JSON number: 1523477145713 -> 1523477145.713,
// 1700000000000 -> 1700000000.0.
Json Timestamp(std::int64_t millis);

void Put(Json& out, const char* name, const std::string& value);
void Put(Json& out, const char* name, const std::optional<std::string>& value);
void Put(Json& out, const char* name, const std::optional<std::int64_t>& value);
void Put(Json& out, const char* name, const std::optional<bool>& value);
// Omitted when empty.
void PutNonEmpty(Json& out, const char* name, const std::vector<std::string>& value);
void Put(Json& out, const char* name, const std::optional<std::vector<std::string>>& value);
void PutTimestamp(Json& out, const char* name, const std::optional<std::int64_t>& millis);
void Put(Json& out, const char* name, const std::optional<std::vector<secrets::Tag>>& value);
Json TagList(const std::vector<secrets::Tag>& tags);
Json FilterList(const std::vector<secrets::Filter>& filters);
Json RotationRulesJson(const secrets::RotationRules& rules);
// SecretString / SecretBinary (base64-encoded).
void PutSecretValue(Json& out, const secrets::SecretValue& value);
// Embeds stored JSON text (ExternalSecretRotationMetadata); omitted when absent or unparsable.
void PutRawJson(Json& out, const char* name, const std::optional<std::string>& json_text);

// Compact JSON text. kInternal if a string is not valid UTF-8 (cannot happen for values that came
// in as JSON; the message names no value).
Result<std::string> Serialize(const Json& value);

}  // namespace coffer::api::internal
