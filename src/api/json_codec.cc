// Request decoders. See json_codec.h for the rules; the member readers are in internal/json_io.

#include "api/json_codec.h"

#include <utility>

#include "api/internal/json_io.h"

namespace coffer::api {

using internal::Json;
using internal::ParseRequestBody;
using internal::Reader;

namespace {

// Parses `body` and runs `read(reader, request)`; the request, or the first error.
template <typename T, typename ReadFn>
Result<T> Decode(std::string_view body, ReadFn read) {
  COFFER_ASSIGN_OR_RETURN(Json doc, ParseRequestBody(body));
  Reader in(doc);
  T request{};
  read(in, request);
  if (!in.status().ok()) return in.status();
  return request;
}

}  // namespace

Result<secrets::CreateSecretRequest> DecodeCreateSecretRequest(std::string_view body) {
  return Decode<secrets::CreateSecretRequest>(body, [](Reader& in, auto& r) {
    in.Get("Name", r.name);
    in.Get("ClientRequestToken", r.client_request_token);
    in.Get("Description", r.description);
    in.Get("KmsKeyId", r.kms_key_id);
    in.GetSecretValue(r.value);
    in.Get("Tags", r.tags);
    in.Get("AddReplicaRegions", r.add_replica_regions);
    in.Get("ForceOverwriteReplicaSecret", r.force_overwrite_replica_secret);
    in.Get("Type", r.type);
  });
}

Result<secrets::GetSecretValueRequest> DecodeGetSecretValueRequest(std::string_view body) {
  return Decode<secrets::GetSecretValueRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretId", r.secret_id);
    in.Get("VersionId", r.version_id);
    in.Get("VersionStage", r.version_stage);
  });
}

Result<secrets::BatchGetSecretValueRequest> DecodeBatchGetSecretValueRequest(
    std::string_view body) {
  return Decode<secrets::BatchGetSecretValueRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretIdList", r.secret_id_list);
    in.Get("Filters", r.filters);
    in.Get("MaxResults", r.max_results);
    in.Get("NextToken", r.next_token);
  });
}

Result<secrets::PutSecretValueRequest> DecodePutSecretValueRequest(std::string_view body) {
  return Decode<secrets::PutSecretValueRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretId", r.secret_id);
    in.Get("ClientRequestToken", r.client_request_token);
    in.GetSecretValue(r.value);
    in.Get("VersionStages", r.version_stages);
    in.Get("RotationToken", r.rotation_token);
  });
}

Result<secrets::UpdateSecretRequest> DecodeUpdateSecretRequest(std::string_view body) {
  return Decode<secrets::UpdateSecretRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretId", r.secret_id);
    in.Get("ClientRequestToken", r.client_request_token);
    in.Get("Description", r.description);
    in.Get("KmsKeyId", r.kms_key_id);
    in.GetSecretValue(r.value);
    in.Get("Type", r.type);
  });
}

Result<secrets::DescribeSecretRequest> DecodeDescribeSecretRequest(std::string_view body) {
  return Decode<secrets::DescribeSecretRequest>(
      body, [](Reader& in, auto& r) { in.Get("SecretId", r.secret_id); });
}

Result<secrets::ListSecretsRequest> DecodeListSecretsRequest(std::string_view body) {
  return Decode<secrets::ListSecretsRequest>(body, [](Reader& in, auto& r) {
    in.Get("IncludePlannedDeletion", r.include_planned_deletion);
    in.Get("MaxResults", r.max_results);
    in.Get("NextToken", r.next_token);
    in.Get("Filters", r.filters);
    in.Get("SortOrder", r.sort_order);
    in.Get("SortBy", r.sort_by);
  });
}

Result<secrets::ListSecretVersionIdsRequest> DecodeListSecretVersionIdsRequest(
    std::string_view body) {
  return Decode<secrets::ListSecretVersionIdsRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretId", r.secret_id);
    in.Get("MaxResults", r.max_results);
    in.Get("NextToken", r.next_token);
    in.Get("IncludeDeprecated", r.include_deprecated);
  });
}

Result<secrets::UpdateSecretVersionStageRequest> DecodeUpdateSecretVersionStageRequest(
    std::string_view body) {
  return Decode<secrets::UpdateSecretVersionStageRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretId", r.secret_id);
    in.Get("VersionStage", r.version_stage);
    in.Get("RemoveFromVersionId", r.remove_from_version_id);
    in.Get("MoveToVersionId", r.move_to_version_id);
  });
}

Result<secrets::DeleteSecretRequest> DecodeDeleteSecretRequest(std::string_view body) {
  return Decode<secrets::DeleteSecretRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretId", r.secret_id);
    in.Get("RecoveryWindowInDays", r.recovery_window_in_days);
    in.Get("ForceDeleteWithoutRecovery", r.force_delete_without_recovery);
  });
}

Result<secrets::SecretIdRequest> DecodeSecretIdRequest(std::string_view body) {
  return Decode<secrets::SecretIdRequest>(
      body, [](Reader& in, auto& r) { in.Get("SecretId", r.secret_id); });
}

Result<secrets::TagResourceRequest> DecodeTagResourceRequest(std::string_view body) {
  return Decode<secrets::TagResourceRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretId", r.secret_id);
    in.Get("Tags", r.tags);
  });
}

Result<secrets::UntagResourceRequest> DecodeUntagResourceRequest(std::string_view body) {
  return Decode<secrets::UntagResourceRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretId", r.secret_id);
    in.Get("TagKeys", r.tag_keys);
  });
}

Result<secrets::GetRandomPasswordRequest> DecodeGetRandomPasswordRequest(std::string_view body) {
  return Decode<secrets::GetRandomPasswordRequest>(body, [](Reader& in, auto& r) {
    in.Get("PasswordLength", r.password_length);
    in.Get("ExcludeCharacters", r.exclude_characters);
    in.Get("ExcludeNumbers", r.exclude_numbers);
    in.Get("ExcludePunctuation", r.exclude_punctuation);
    in.Get("ExcludeUppercase", r.exclude_uppercase);
    in.Get("ExcludeLowercase", r.exclude_lowercase);
    in.Get("IncludeSpace", r.include_space);
    in.Get("RequireEachIncludedType", r.require_each_included_type);
  });
}

Result<secrets::PutResourcePolicyRequest> DecodePutResourcePolicyRequest(std::string_view body) {
  return Decode<secrets::PutResourcePolicyRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretId", r.secret_id);
    in.Get("ResourcePolicy", r.resource_policy);
    in.Get("BlockPublicPolicy", r.block_public_policy);
  });
}

Result<secrets::ValidateResourcePolicyRequest> DecodeValidateResourcePolicyRequest(
    std::string_view body) {
  return Decode<secrets::ValidateResourcePolicyRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretId", r.secret_id);
    in.Get("ResourcePolicy", r.resource_policy);
  });
}

Result<secrets::RotateSecretRequest> DecodeRotateSecretRequest(std::string_view body) {
  return Decode<secrets::RotateSecretRequest>(body, [](Reader& in, auto& r) {
    in.Get("SecretId", r.secret_id);
    in.Get("ClientRequestToken", r.client_request_token);
    in.Get("RotationLambdaARN", r.rotation_lambda_arn);
    in.Get("RotationRules", r.rotation_rules);
    in.Get("RotateImmediately", r.rotate_immediately);
    in.GetKeyValueListJson("ExternalSecretRotationMetadata",
                           r.external_secret_rotation_metadata_json);
    in.Get("ExternalSecretRotationRoleArn", r.external_secret_rotation_role_arn);
  });
}

Result<ReplicationRequest> DecodeReplicationRequest(std::string_view body) {
  return Decode<ReplicationRequest>(body,
                                    [](Reader& in, auto& r) { in.Get("SecretId", r.secret_id); });
}

}  // namespace coffer::api
