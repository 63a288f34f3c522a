#pragma once

// Request validation shared by the operations: lengths, ranges and patterns from the botocore
// model, with AWS's wording. Member names are the wire names in lowerCamelCase ("secretId"), as
// AWS's "1 validation error detected" messages spell them. Messages never echo secret values.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "secrets/types.h"

namespace coffer::secrets {

// kValidation, "Member must have length ..." when `value` is outside [min, max] bytes.
Status CheckLength(std::string_view member, std::string_view value, std::size_t min,
                   std::size_t max);
Status CheckLength(std::string_view member, const std::string& value, std::size_t min,
                   std::size_t max);
Status CheckLength(std::string_view member, const std::optional<std::string>& value,
                   std::size_t min, std::size_t max);
// kValidation, "Member must have value ..." when `value` is outside [min, max].
Status CheckRange(std::string_view member, std::int64_t value, std::int64_t min, std::int64_t max);
Status CheckRange(std::string_view member, const std::optional<std::int64_t>& value,
                  std::int64_t min, std::int64_t max);

// The name charset: ASCII letters, digits and /_+=.@-
bool IsValidNameChars(std::string_view name);
// CreateSecret's Name: 1..512 characters of the name charset.
Status ValidateName(std::string_view name);
// A SecretId: 1..2048 characters; a name (charset checked) or an ARN (starts with "arn:").
Status ValidateSecretId(std::string_view id);
// ClientRequestToken / VersionId: 32..64 characters when present.
Status ValidateVersionId(std::string_view member, const std::optional<std::string>& id);

bool HasValue(const SecretValue& value);
// SecretString xor SecretBinary, each 1..max_bytes bytes. Absent is fine.
Status ValidateValue(const SecretValue& value, std::int64_t max_bytes);
// With a value, a ClientRequestToken is required (the SDKs always send one).
Status RequireTokenWithValue(const SecretValue& value, const std::optional<std::string>& token);

// Each Key 1..128, Value 0..256; at most `max_tags` distinct keys.
Status ValidateTags(const std::vector<Tag>& tags, int max_tags);
// VersionStages: 1..max_labels labels of 1..256 characters.
Status ValidateStages(const std::vector<std::string>& stages, int max_labels);
// Filters: at most 10, keys from the enum, 1..10 values of <= 512 matching the model pattern.
Status ValidateFilters(const std::vector<Filter>& filters);

}  // namespace coffer::secrets
