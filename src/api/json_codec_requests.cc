// Request encoders: the inverse of the decoders in json_codec.cc, used by coffer's own clients
// and by round-trip tests. Absent optional members are omitted; required strings are always sent.

#include "api/internal/json_io.h"
#include "api/json_codec.h"

namespace coffer::api {

using internal::Json;
using internal::Put;
using internal::Serialize;

Result<std::string> EncodeCreateSecretRequest(const secrets::CreateSecretRequest& r) {
  Json o = Json::object();
  Put(o, "Name", r.name);
  Put(o, "ClientRequestToken", r.client_request_token);
  Put(o, "Description", r.description);
  Put(o, "KmsKeyId", r.kms_key_id);
  internal::PutSecretValue(o, r.value);
  Put(o, "Tags", r.tags);
  if (r.add_replica_regions.has_value()) {
    Json list = Json::array();
    for (const auto& rr : *r.add_replica_regions) {
      Json item = {{"Region", rr.region}};
      Put(item, "KmsKeyId", rr.kms_key_id);
      list.push_back(std::move(item));
    }
    o["AddReplicaRegions"] = std::move(list);
  }
  Put(o, "ForceOverwriteReplicaSecret", r.force_overwrite_replica_secret);
  Put(o, "Type", r.type);
  return Serialize(o);
}

Result<std::string> EncodeGetSecretValueRequest(const secrets::GetSecretValueRequest& r) {
  Json o = {{"SecretId", r.secret_id}};
  Put(o, "VersionId", r.version_id);
  Put(o, "VersionStage", r.version_stage);
  return Serialize(o);
}

Result<std::string> EncodeBatchGetSecretValueRequest(
    const secrets::BatchGetSecretValueRequest& r) {
  Json o = Json::object();
  Put(o, "SecretIdList", r.secret_id_list);
  if (r.filters.has_value()) o["Filters"] = internal::FilterList(*r.filters);
  Put(o, "MaxResults", r.max_results);
  Put(o, "NextToken", r.next_token);
  return Serialize(o);
}

Result<std::string> EncodePutSecretValueRequest(const secrets::PutSecretValueRequest& r) {
  Json o = {{"SecretId", r.secret_id}};
  Put(o, "ClientRequestToken", r.client_request_token);
  internal::PutSecretValue(o, r.value);
  Put(o, "VersionStages", r.version_stages);
  Put(o, "RotationToken", r.rotation_token);
  return Serialize(o);
}

Result<std::string> EncodeUpdateSecretRequest(const secrets::UpdateSecretRequest& r) {
  Json o = {{"SecretId", r.secret_id}};
  Put(o, "ClientRequestToken", r.client_request_token);
  Put(o, "Description", r.description);
  Put(o, "KmsKeyId", r.kms_key_id);
  internal::PutSecretValue(o, r.value);
  Put(o, "Type", r.type);
  return Serialize(o);
}

Result<std::string> EncodeDescribeSecretRequest(const secrets::DescribeSecretRequest& r) {
  return Serialize(Json{{"SecretId", r.secret_id}});
}

Result<std::string> EncodeListSecretsRequest(const secrets::ListSecretsRequest& r) {
  Json o = Json::object();
  Put(o, "IncludePlannedDeletion", r.include_planned_deletion);
  Put(o, "MaxResults", r.max_results);
  Put(o, "NextToken", r.next_token);
  if (r.filters.has_value()) o["Filters"] = internal::FilterList(*r.filters);
  Put(o, "SortOrder", r.sort_order);
  Put(o, "SortBy", r.sort_by);
  return Serialize(o);
}

Result<std::string> EncodeListSecretVersionIdsRequest(
    const secrets::ListSecretVersionIdsRequest& r) {
  Json o = {{"SecretId", r.secret_id}};
  Put(o, "MaxResults", r.max_results);
  Put(o, "NextToken", r.next_token);
  Put(o, "IncludeDeprecated", r.include_deprecated);
  return Serialize(o);
}

Result<std::string> EncodeUpdateSecretVersionStageRequest(
    const secrets::UpdateSecretVersionStageRequest& r) {
  Json o = {{"SecretId", r.secret_id}, {"VersionStage", r.version_stage}};
  Put(o, "RemoveFromVersionId", r.remove_from_version_id);
  Put(o, "MoveToVersionId", r.move_to_version_id);
  return Serialize(o);
}

Result<std::string> EncodeDeleteSecretRequest(const secrets::DeleteSecretRequest& r) {
  Json o = {{"SecretId", r.secret_id}};
  Put(o, "RecoveryWindowInDays", r.recovery_window_in_days);
  Put(o, "ForceDeleteWithoutRecovery", r.force_delete_without_recovery);
  return Serialize(o);
}

Result<std::string> EncodeSecretIdRequest(const secrets::SecretIdRequest& r) {
  return Serialize(Json{{"SecretId", r.secret_id}});
}

Result<std::string> EncodeTagResourceRequest(const secrets::TagResourceRequest& r) {
  return Serialize(Json{{"SecretId", r.secret_id}, {"Tags", internal::TagList(r.tags)}});
}

Result<std::string> EncodeUntagResourceRequest(const secrets::UntagResourceRequest& r) {
  return Serialize(Json{{"SecretId", r.secret_id}, {"TagKeys", r.tag_keys}});
}

Result<std::string> EncodeGetRandomPasswordRequest(const secrets::GetRandomPasswordRequest& r) {
  Json o = Json::object();
  Put(o, "PasswordLength", r.password_length);
  Put(o, "ExcludeCharacters", r.exclude_characters);
  Put(o, "ExcludeNumbers", r.exclude_numbers);
  Put(o, "ExcludePunctuation", r.exclude_punctuation);
  Put(o, "ExcludeUppercase", r.exclude_uppercase);
  Put(o, "ExcludeLowercase", r.exclude_lowercase);
  Put(o, "IncludeSpace", r.include_space);
  Put(o, "RequireEachIncludedType", r.require_each_included_type);
  return Serialize(o);
}

Result<std::string> EncodePutResourcePolicyRequest(const secrets::PutResourcePolicyRequest& r) {
  Json o = {{"SecretId", r.secret_id}, {"ResourcePolicy", r.resource_policy}};
  Put(o, "BlockPublicPolicy", r.block_public_policy);
  return Serialize(o);
}

Result<std::string> EncodeValidateResourcePolicyRequest(
    const secrets::ValidateResourcePolicyRequest& r) {
  Json o = {{"ResourcePolicy", r.resource_policy}};
  Put(o, "SecretId", r.secret_id);
  return Serialize(o);
}

Result<std::string> EncodeRotateSecretRequest(const secrets::RotateSecretRequest& r) {
  Json o = {{"SecretId", r.secret_id}};
  Put(o, "ClientRequestToken", r.client_request_token);
  Put(o, "RotationLambdaARN", r.rotation_lambda_arn);
  if (r.rotation_rules.has_value()) {
    o["RotationRules"] = internal::RotationRulesJson(*r.rotation_rules);
  }
  Put(o, "RotateImmediately", r.rotate_immediately);
  internal::PutRawJson(o, "ExternalSecretRotationMetadata",
                       r.external_secret_rotation_metadata_json);
  Put(o, "ExternalSecretRotationRoleArn", r.external_secret_rotation_role_arn);
  return Serialize(o);
}

}  // namespace coffer::api
