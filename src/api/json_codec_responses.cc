// Response encoders. Member names follow the botocore model exactly; absent optional members are
// omitted; each operation's main list (SecretList, Versions, SecretValues, Errors,
// ValidationErrors) is always present, as AWS sends it.

#include "api/error_table.h"
#include "api/internal/json_io.h"
#include "api/json_codec.h"

namespace coffer::api {

using internal::Json;
using internal::Put;
using internal::PutTimestamp;
using internal::Serialize;

namespace {

Json ArnName(const std::string& arn, const std::string& name) {
  return Json{{"ARN", arn}, {"Name", name}};
}

// GetSecretValueResponse and BatchGetSecretValue's SecretValueEntry share one shape.
Json SecretValueEntry(const secrets::GetSecretValueResponse& r) {
  Json o = ArnName(r.arn, r.name);
  o["VersionId"] = r.version_id;
  internal::PutSecretValue(o, r.value);
  internal::PutNonEmpty(o, "VersionStages", r.version_stages);
  o["CreatedDate"] = internal::Timestamp(r.created_date_ms);
  return o;
}

// DescribeSecret and a ListSecrets entry differ only in the name of the version map.
Json Description(const secrets::SecretDescription& d, const char* versions_member) {
  Json o = ArnName(d.arn, d.name);
  Put(o, "Type", d.type);
  Put(o, "Description", d.description);
  Put(o, "KmsKeyId", d.kms_key_id);
  Put(o, "RotationEnabled", d.rotation_enabled);
  Put(o, "RotationLambdaARN", d.rotation_lambda_arn);
  if (d.rotation_rules.has_value()) {
    o["RotationRules"] = internal::RotationRulesJson(*d.rotation_rules);
  }
  internal::PutRawJson(o, "ExternalSecretRotationMetadata",
                       d.external_secret_rotation_metadata_json);
  Put(o, "ExternalSecretRotationRoleArn", d.external_secret_rotation_role_arn);
  PutTimestamp(o, "LastRotatedDate", d.last_rotated_date_ms);
  PutTimestamp(o, "LastChangedDate", d.last_changed_date_ms);
  PutTimestamp(o, "LastAccessedDate", d.last_accessed_date_ms);
  PutTimestamp(o, "DeletedDate", d.deleted_date_ms);
  PutTimestamp(o, "NextRotationDate", d.next_rotation_date_ms);
  Put(o, "Tags", d.tags);
  if (d.version_ids_to_stages.has_value()) {
    Json map = Json::object();
    for (const auto& entry : *d.version_ids_to_stages) map[entry.version_id] = entry.stages;
    o[versions_member] = std::move(map);
  }
  Put(o, "OwningService", d.owning_service);
  PutTimestamp(o, "CreatedDate", d.created_date_ms);
  Put(o, "PrimaryRegion", d.primary_region);
  return o;
}

}  // namespace

Result<std::string> EncodeCreateSecretResponse(const secrets::CreateSecretResponse& r) {
  Json o = ArnName(r.arn, r.name);
  Put(o, "VersionId", r.version_id);
  return Serialize(o);
}

Result<std::string> EncodeGetSecretValueResponse(const secrets::GetSecretValueResponse& r) {
  return Serialize(SecretValueEntry(r));
}

Result<std::string> EncodeBatchGetSecretValueResponse(
    const secrets::BatchGetSecretValueResponse& r) {
  Json values = Json::array();
  for (const auto& v : r.secret_values) values.push_back(SecretValueEntry(v));
  Json errors = Json::array();
  for (const auto& e : r.errors) {
    errors.push_back({{"SecretId", e.secret_id},
                      {"ErrorCode", std::string(AwsErrorFor(e.status.code()).type)},
                      {"Message", ClientMessage(e.status)}});
  }
  Json o = {{"SecretValues", std::move(values)}, {"Errors", std::move(errors)}};
  Put(o, "NextToken", r.next_token);
  return Serialize(o);
}

Result<std::string> EncodePutSecretValueResponse(const secrets::PutSecretValueResponse& r) {
  Json o = ArnName(r.arn, r.name);
  o["VersionId"] = r.version_id;
  internal::PutNonEmpty(o, "VersionStages", r.version_stages);
  return Serialize(o);
}

Result<std::string> EncodeUpdateSecretResponse(const secrets::UpdateSecretResponse& r) {
  Json o = ArnName(r.arn, r.name);
  Put(o, "VersionId", r.version_id);
  return Serialize(o);
}

Result<std::string> EncodeDescribeSecretResponse(const secrets::SecretDescription& r) {
  return Serialize(Description(r, "VersionIdsToStages"));
}

Result<std::string> EncodeListSecretsResponse(const secrets::ListSecretsResponse& r) {
  Json list = Json::array();
  for (const auto& d : r.secret_list) list.push_back(Description(d, "SecretVersionsToStages"));
  Json o = {{"SecretList", std::move(list)}};
  Put(o, "NextToken", r.next_token);
  return Serialize(o);
}

Result<std::string> EncodeListSecretVersionIdsResponse(
    const secrets::ListSecretVersionIdsResponse& r) {
  Json versions = Json::array();
  for (const auto& v : r.versions) {
    Json item = {{"VersionId", v.version_id}};
    Put(item, "VersionStages", v.version_stages);  // absent for deprecated versions
    PutTimestamp(item, "LastAccessedDate", v.last_accessed_date_ms);
    item["CreatedDate"] = internal::Timestamp(v.created_date_ms);
    internal::PutNonEmpty(item, "KmsKeyIds", v.kms_key_ids);
    versions.push_back(std::move(item));
  }
  Json o = ArnName(r.arn, r.name);
  o["Versions"] = std::move(versions);
  Put(o, "NextToken", r.next_token);
  return Serialize(o);
}

Result<std::string> EncodeArnNameResponse(const secrets::ArnNameResponse& r) {
  return Serialize(ArnName(r.arn, r.name));
}

Result<std::string> EncodeDeleteSecretResponse(const secrets::DeleteSecretResponse& r) {
  Json o = ArnName(r.arn, r.name);
  o["DeletionDate"] = internal::Timestamp(r.deletion_date_ms);
  return Serialize(o);
}

std::string EncodeEmptyResponse() { return "{}"; }

Result<std::string> EncodeGetRandomPasswordResponse(const secrets::GetRandomPasswordResponse& r) {
  return Serialize(Json{{"RandomPassword", r.random_password}});
}

Result<std::string> EncodeGetResourcePolicyResponse(const secrets::GetResourcePolicyResponse& r) {
  Json o = ArnName(r.arn, r.name);
  Put(o, "ResourcePolicy", r.resource_policy);
  return Serialize(o);
}

Result<std::string> EncodeValidateResourcePolicyResponse(
    const secrets::ValidateResourcePolicyResponse& r) {
  Json errors = Json::array();
  for (const auto& e : r.validation_errors) {
    errors.push_back({{"CheckName", e.check_name}, {"ErrorMessage", e.error_message}});
  }
  return Serialize(Json{{"PolicyValidationPassed", r.policy_validation_passed},
                        {"ValidationErrors", std::move(errors)}});
}

Result<std::string> EncodeRotateSecretResponse(const secrets::RotateSecretResponse& r) {
  Json o = ArnName(r.arn, r.name);
  Put(o, "VersionId", r.version_id);
  return Serialize(o);
}

Result<std::string> EncodeCancelRotateSecretResponse(
    const secrets::CancelRotateSecretResponse& r) {
  Json o = ArnName(r.arn, r.name);
  Put(o, "VersionId", r.version_id);
  return Serialize(o);
}

}  // namespace coffer::api
