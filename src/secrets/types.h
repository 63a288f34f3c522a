#pragma once

// Typed requests and responses of the Secrets Manager operations, as the service sees them. The
// api layer (src/api) decodes JSON into these and encodes them back; the service never touches
// JSON or HTTP. Optional members mirror "may be absent" on the wire: an absent member is omitted
// from the response. Times are milliseconds since the epoch (UTC).
//
// Members follow the botocore model (../shared/reference/aws-secrets-manager-api-model.md).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace coffer::secrets {

// A secret a call referred to: its ARN when known (else the id as given), and its name.
struct AuditResource {
  std::string arn;
  std::string name;
};

// Who is calling, in which region, for which request. Filled by the api pipeline.
struct CallContext {
  std::string region;
  std::string account_id;
  std::string principal_arn;
  std::string access_key_id;
  std::string request_id;
  std::string source_ip;
  std::string user_agent;
  bool secure_transport = false;  // the request came over TLS (aws:SecureTransport)
  // When set, the service appends every secret the call named or touched, allowed or denied, for
  // the audit record. Owned by the caller (the api pipeline).
  std::vector<AuditResource>* resources = nullptr;
};


struct Tag {
  std::string key;
  std::string value;
};

struct Filter {
  // description | name | tag-key | tag-value | primary-region | owning-service | all
  std::string key;
  std::vector<std::string> values;
};

struct RotationRules {
  std::optional<std::int64_t> automatically_after_days;
  std::optional<std::string> duration;
  std::optional<std::string> schedule_expression;
};

struct ReplicaRegion {
  std::string region;
  std::optional<std::string> kms_key_id;
};

// SecretString xor SecretBinary (raw bytes, already base64-decoded).
struct SecretValue {
  std::optional<std::string> string;
  std::optional<std::string> binary;
};

// ---- CreateSecret
struct CreateSecretRequest {
  std::string name;
  std::optional<std::string> client_request_token;
  std::optional<std::string> description;
  std::optional<std::string> kms_key_id;
  SecretValue value;
  std::optional<std::vector<Tag>> tags;
  std::optional<std::vector<ReplicaRegion>> add_replica_regions;
  std::optional<bool> force_overwrite_replica_secret;
  std::optional<std::string> type;
};
struct CreateSecretResponse {
  std::string arn;
  std::string name;
  std::optional<std::string> version_id;
};

// ---- GetSecretValue
struct GetSecretValueRequest {
  std::string secret_id;
  std::optional<std::string> version_id;
  std::optional<std::string> version_stage;
};
struct GetSecretValueResponse {
  std::string arn;
  std::string name;
  std::string version_id;
  SecretValue value;
  std::vector<std::string> version_stages;
  std::int64_t created_date_ms = 0;
};

// ---- BatchGetSecretValue
struct BatchGetSecretValueRequest {
  std::optional<std::vector<std::string>> secret_id_list;
  std::optional<std::vector<Filter>> filters;
  std::optional<std::int64_t> max_results;
  std::optional<std::string> next_token;
};
// One secret's failure inside BatchGetSecretValue. The api layer turns `status` into AWS's
// ErrorCode and Message through its one error table.
struct ApiError {
  std::string secret_id;
  Status status;
};
struct BatchGetSecretValueResponse {
  std::vector<GetSecretValueResponse> secret_values;
  std::optional<std::string> next_token;
  std::vector<ApiError> errors;
};

// ---- PutSecretValue
struct PutSecretValueRequest {
  std::string secret_id;
  std::optional<std::string> client_request_token;
  SecretValue value;
  std::optional<std::vector<std::string>> version_stages;
  std::optional<std::string> rotation_token;
};
struct PutSecretValueResponse {
  std::string arn;
  std::string name;
  std::string version_id;
  std::vector<std::string> version_stages;
};

// ---- UpdateSecret
struct UpdateSecretRequest {
  std::string secret_id;
  std::optional<std::string> client_request_token;
  std::optional<std::string> description;
  std::optional<std::string> kms_key_id;
  SecretValue value;
  std::optional<std::string> type;
};
struct UpdateSecretResponse {
  std::string arn;
  std::string name;
  std::optional<std::string> version_id;  // only when a new version was created
};

// ---- DescribeSecret / ListSecrets entry
struct VersionStagesEntry {
  std::string version_id;
  std::vector<std::string> stages;
};
struct SecretDescription {
  std::string arn;
  std::string name;
  std::optional<std::string> type;
  std::optional<std::string> description;
  std::optional<std::string> kms_key_id;
  std::optional<bool> rotation_enabled;
  std::optional<std::string> rotation_lambda_arn;
  std::optional<RotationRules> rotation_rules;
  std::optional<std::int64_t> last_rotated_date_ms;
  std::optional<std::int64_t> last_changed_date_ms;
  std::optional<std::int64_t> last_accessed_date_ms;
  std::optional<std::int64_t> deleted_date_ms;
  std::optional<std::int64_t> next_rotation_date_ms;
  std::optional<std::vector<Tag>> tags;
  // DescribeSecret calls it VersionIdsToStages, ListSecrets SecretVersionsToStages.
  std::optional<std::vector<VersionStagesEntry>> version_ids_to_stages;
  std::optional<std::string> owning_service;
  std::optional<std::int64_t> created_date_ms;
  std::optional<std::string> primary_region;
  // As given to RotateSecret: the raw JSON array of {Key, Value}, and the role ARN.
  std::optional<std::string> external_secret_rotation_metadata_json;
  std::optional<std::string> external_secret_rotation_role_arn;
};
struct DescribeSecretRequest {
  std::string secret_id;
};

// ---- ListSecrets
struct ListSecretsRequest {
  std::optional<bool> include_planned_deletion;
  std::optional<std::int64_t> max_results;
  std::optional<std::string> next_token;
  std::optional<std::vector<Filter>> filters;
  std::optional<std::string> sort_order;  // asc | desc
  // created-date | last-accessed-date | last-changed-date | name
  std::optional<std::string> sort_by;
};
struct ListSecretsResponse {
  std::vector<SecretDescription> secret_list;
  std::optional<std::string> next_token;
};

// ---- ListSecretVersionIds
struct ListSecretVersionIdsRequest {
  std::string secret_id;
  std::optional<std::int64_t> max_results;
  std::optional<std::string> next_token;
  std::optional<bool> include_deprecated;
};
struct SecretVersionsListEntry {
  std::string version_id;
  std::optional<std::vector<std::string>> version_stages;  // absent for deprecated versions
  std::optional<std::int64_t> last_accessed_date_ms;
  std::int64_t created_date_ms = 0;
  std::vector<std::string> kms_key_ids;
};
struct ListSecretVersionIdsResponse {
  std::vector<SecretVersionsListEntry> versions;
  std::optional<std::string> next_token;
  std::string arn;
  std::string name;
};

// ---- UpdateSecretVersionStage
struct UpdateSecretVersionStageRequest {
  std::string secret_id;
  std::string version_stage;
  std::optional<std::string> remove_from_version_id;
  std::optional<std::string> move_to_version_id;
};

// Operations that answer only {ARN, Name}: UpdateSecretVersionStage, RestoreSecret,
// PutResourcePolicy, DeleteResourcePolicy.
struct ArnNameResponse {
  std::string arn;
  std::string name;
};

// ---- DeleteSecret / RestoreSecret
struct DeleteSecretRequest {
  std::string secret_id;
  std::optional<std::int64_t> recovery_window_in_days;
  std::optional<bool> force_delete_without_recovery;
};
struct DeleteSecretResponse {
  std::string arn;
  std::string name;
  std::int64_t deletion_date_ms = 0;
};
struct SecretIdRequest {  // RestoreSecret, DescribeSecret-like single-id calls
  std::string secret_id;
};

// ---- TagResource / UntagResource (empty responses)
struct TagResourceRequest {
  std::string secret_id;
  std::vector<Tag> tags;
};
struct UntagResourceRequest {
  std::string secret_id;
  std::vector<std::string> tag_keys;
};

// ---- GetRandomPassword
struct GetRandomPasswordRequest {
  std::optional<std::int64_t> password_length;
  std::optional<std::string> exclude_characters;
  std::optional<bool> exclude_numbers;
  std::optional<bool> exclude_punctuation;
  std::optional<bool> exclude_uppercase;
  std::optional<bool> exclude_lowercase;
  std::optional<bool> include_space;
  std::optional<bool> require_each_included_type;
};
struct GetRandomPasswordResponse {
  std::string random_password;
};

// ---- Resource policies
struct PutResourcePolicyRequest {
  std::string secret_id;
  std::string resource_policy;
  std::optional<bool> block_public_policy;
};
struct GetResourcePolicyResponse {
  std::string arn;
  std::string name;
  std::optional<std::string> resource_policy;
};
struct ValidateResourcePolicyRequest {
  std::optional<std::string> secret_id;
  std::string resource_policy;
};
struct ValidationErrorsEntry {
  std::string check_name;
  std::string error_message;
};
struct ValidateResourcePolicyResponse {
  bool policy_validation_passed = false;
  std::vector<ValidationErrorsEntry> validation_errors;
};

// ---- Rotation
struct RotateSecretRequest {
  std::string secret_id;
  std::optional<std::string> client_request_token;
  std::optional<std::string> rotation_lambda_arn;
  std::optional<RotationRules> rotation_rules;
  std::optional<bool> rotate_immediately;
  std::optional<std::string> external_secret_rotation_metadata_json;  // raw JSON array, stored
  std::optional<std::string> external_secret_rotation_role_arn;
};
struct RotateSecretResponse {
  std::string arn;
  std::string name;
  std::optional<std::string> version_id;
};
struct CancelRotateSecretResponse {
  std::string arn;
  std::string name;
  std::optional<std::string> version_id;
};

}  // namespace coffer::secrets
