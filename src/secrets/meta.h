#pragma once

// SecretMeta: everything about a secret the store keeps as opaque JSON (SecretRecord.meta_json):
// description, KMS key id, tags, rotation configuration, resource policy, LastChangedDate.
//
// The JSON carries a format version ("v"); ParseMeta accepts versions up to kMetaFormatVersion
// and ignores unknown members, so a later version can add fields without a migration.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "secrets/types.h"

namespace coffer::secrets {

inline constexpr int kMetaFormatVersion = 1;

struct SecretMeta {
  std::optional<std::string> description;
  std::optional<std::string> kms_key_id;  // absent: the default key
  std::optional<std::string> type;
  std::vector<Tag> tags;  // insertion order, unique keys
  std::int64_t last_changed_ms = 0;

  std::optional<bool> rotation_enabled;  // absent until RotateSecret is first called
  std::optional<std::string> rotation_lambda_arn;
  std::optional<RotationRules> rotation_rules;
  std::optional<std::int64_t> last_rotated_ms;
  std::optional<std::int64_t> next_rotation_ms;
  std::optional<std::string> external_rotation_metadata_json;  // a JSON array, as received
  std::optional<std::string> external_rotation_role_arn;

  std::optional<std::string> resource_policy;  // the document text, as received
};

std::string SerializeMeta(const SecretMeta& meta);
// kDataLoss when the text is not metadata this version understands.
Result<SecretMeta> ParseMeta(std::string_view json);

// Sets tag `key` to `value`, overwriting an existing one in place.
void UpsertTag(std::vector<Tag>& tags, const std::string& key, const std::string& value);

}  // namespace coffer::secrets
