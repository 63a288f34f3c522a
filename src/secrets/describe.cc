// DescribeSecret, and the description builder ListSecrets shares.

#include "secrets/describe.h"

#include <algorithm>

#include "secrets/op_util.h"
#include "secrets/secret_id.h"
#include "secrets/service.h"
#include "secrets/validate.h"

namespace coffer::secrets {

SecretDescription BuildDescription(const storage::SecretRecord& record, const SecretMeta& meta,
                                   const std::vector<storage::VersionRecord>& versions) {
  SecretDescription d;
  d.arn = record.arn;
  d.name = record.name;
  d.type = meta.type;
  d.description = meta.description;
  d.kms_key_id = meta.kms_key_id;
  d.rotation_enabled = meta.rotation_enabled;
  d.rotation_lambda_arn = meta.rotation_lambda_arn;
  d.rotation_rules = meta.rotation_rules;
  d.last_rotated_date_ms = meta.last_rotated_ms;
  d.last_changed_date_ms = meta.last_changed_ms;
  d.deleted_date_ms = record.deletion_date_ms;
  if (meta.rotation_enabled.value_or(false)) d.next_rotation_date_ms = meta.next_rotation_ms;
  if (!meta.tags.empty()) d.tags = meta.tags;
  d.created_date_ms = record.created_ms;
  d.external_secret_rotation_metadata_json = meta.external_rotation_metadata_json;
  d.external_secret_rotation_role_arn = meta.external_rotation_role_arn;

  std::vector<VersionStagesEntry> stages;
  for (const auto& v : versions) {
    if (v.last_accessed_ms) {
      d.last_accessed_date_ms = std::max(d.last_accessed_date_ms.value_or(0), *v.last_accessed_ms);
    }
    if (!v.stages.empty()) stages.push_back({v.version_id, v.stages});
  }
  if (!stages.empty()) d.version_ids_to_stages = std::move(stages);
  return d;
}

Result<SecretDescription> Service::DescribeSecret(const CallContext& ctx,
                                                  const DescribeSecretRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_ASSIGN_OR_RETURN(internal::Loaded secret,
                          LoadAuthorized(ctx, r.secret_id, "DescribeSecret"));
  COFFER_ASSIGN_OR_RETURN(auto versions, ListVersionsSeen(secret.record.arn));
  return BuildDescription(secret.record, secret.meta, versions);
}

}  // namespace coffer::secrets
