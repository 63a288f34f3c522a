#pragma once

// The AWS JSON 1.1 codec of the Secrets Manager operations: request bodies <-> the typed structs
// of secrets/types.h, with the member names of the botocore model
// (../shared/reference/aws-secrets-manager-api-model.md).
//
// Decoding (Decode*Request):
//  - the body must be a JSON object (an empty body counts as {}); else kSerialization;
//  - a member of the wrong JSON type is kSerialization, naming the member ("Tags[0].Key");
//  - absent and null members stay unset; unknown members are ignored;
//  - SecretBinary is base64 (bad base64: kSerialization);
//  - nothing else is validated here: lengths, ranges, patterns and required members belong to the
//    service, so every client sees the same messages.
// Messages never quote member values (they may be secrets).
//
// Encoding (Encode*Response, and Encode*Request for coffer's own clients and round-trip tests):
//  - absent optional members are omitted; timestamps are epoch seconds with a millisecond
//    fraction (1523477145.713); SecretBinary is base64;
//  - DescribeSecret says VersionIdsToStages, a ListSecrets entry SecretVersionsToStages;
//  - a deprecated version in ListSecretVersionIds has no VersionStages member.
// Encoders fail only with kInternal for a string that is not valid UTF-8.
//
// Dependencies are deliberately small (core, nlohmann, secrets/types.h) so that the fuzz target
// fuzz/api_decode_fuzz.cc can build the codec alone.

#include <string>
#include <string_view>

#include "core/status.h"
#include "secrets/types.h"

namespace coffer::api {

// The replication actions are not supported; their bodies are still decoded so that malformed
// JSON gets the same SerializationException as everywhere else.
struct ReplicationRequest {
  std::string secret_id;
};

// ---- requests: decode
Result<secrets::CreateSecretRequest> DecodeCreateSecretRequest(std::string_view body);
Result<secrets::GetSecretValueRequest> DecodeGetSecretValueRequest(std::string_view body);
Result<secrets::BatchGetSecretValueRequest> DecodeBatchGetSecretValueRequest(
    std::string_view body);
Result<secrets::PutSecretValueRequest> DecodePutSecretValueRequest(std::string_view body);
Result<secrets::UpdateSecretRequest> DecodeUpdateSecretRequest(std::string_view body);
Result<secrets::DescribeSecretRequest> DecodeDescribeSecretRequest(std::string_view body);
Result<secrets::ListSecretsRequest> DecodeListSecretsRequest(std::string_view body);
Result<secrets::ListSecretVersionIdsRequest> DecodeListSecretVersionIdsRequest(
    std::string_view body);
Result<secrets::UpdateSecretVersionStageRequest> DecodeUpdateSecretVersionStageRequest(
    std::string_view body);
Result<secrets::DeleteSecretRequest> DecodeDeleteSecretRequest(std::string_view body);
// RestoreSecret, GetResourcePolicy, DeleteResourcePolicy, CancelRotateSecret: {SecretId}.
Result<secrets::SecretIdRequest> DecodeSecretIdRequest(std::string_view body);
Result<secrets::TagResourceRequest> DecodeTagResourceRequest(std::string_view body);
Result<secrets::UntagResourceRequest> DecodeUntagResourceRequest(std::string_view body);
Result<secrets::GetRandomPasswordRequest> DecodeGetRandomPasswordRequest(std::string_view body);
Result<secrets::PutResourcePolicyRequest> DecodePutResourcePolicyRequest(std::string_view body);
Result<secrets::ValidateResourcePolicyRequest> DecodeValidateResourcePolicyRequest(
    std::string_view body);
Result<secrets::RotateSecretRequest> DecodeRotateSecretRequest(std::string_view body);
Result<ReplicationRequest> DecodeReplicationRequest(std::string_view body);

// ---- requests: encode (the inverse of the decoders)
Result<std::string> EncodeCreateSecretRequest(const secrets::CreateSecretRequest& r);
Result<std::string> EncodeGetSecretValueRequest(const secrets::GetSecretValueRequest& r);
Result<std::string> EncodeBatchGetSecretValueRequest(
    const secrets::BatchGetSecretValueRequest& r);
Result<std::string> EncodePutSecretValueRequest(const secrets::PutSecretValueRequest& r);
Result<std::string> EncodeUpdateSecretRequest(const secrets::UpdateSecretRequest& r);
Result<std::string> EncodeDescribeSecretRequest(const secrets::DescribeSecretRequest& r);
Result<std::string> EncodeListSecretsRequest(const secrets::ListSecretsRequest& r);
Result<std::string> EncodeListSecretVersionIdsRequest(
    const secrets::ListSecretVersionIdsRequest& r);
Result<std::string> EncodeUpdateSecretVersionStageRequest(
    const secrets::UpdateSecretVersionStageRequest& r);
Result<std::string> EncodeDeleteSecretRequest(const secrets::DeleteSecretRequest& r);
Result<std::string> EncodeSecretIdRequest(const secrets::SecretIdRequest& r);
Result<std::string> EncodeTagResourceRequest(const secrets::TagResourceRequest& r);
Result<std::string> EncodeUntagResourceRequest(const secrets::UntagResourceRequest& r);
Result<std::string> EncodeGetRandomPasswordRequest(const secrets::GetRandomPasswordRequest& r);
Result<std::string> EncodePutResourcePolicyRequest(const secrets::PutResourcePolicyRequest& r);
Result<std::string> EncodeValidateResourcePolicyRequest(
    const secrets::ValidateResourcePolicyRequest& r);
Result<std::string> EncodeRotateSecretRequest(const secrets::RotateSecretRequest& r);

// ---- responses: encode
Result<std::string> EncodeCreateSecretResponse(const secrets::CreateSecretResponse& r);
Result<std::string> EncodeGetSecretValueResponse(const secrets::GetSecretValueResponse& r);
Result<std::string> EncodeBatchGetSecretValueResponse(
    const secrets::BatchGetSecretValueResponse& r);
Result<std::string> EncodePutSecretValueResponse(const secrets::PutSecretValueResponse& r);
Result<std::string> EncodeUpdateSecretResponse(const secrets::UpdateSecretResponse& r);
Result<std::string> EncodeDescribeSecretResponse(const secrets::SecretDescription& r);
Result<std::string> EncodeListSecretsResponse(const secrets::ListSecretsResponse& r);
Result<std::string> EncodeListSecretVersionIdsResponse(
    const secrets::ListSecretVersionIdsResponse& r);
// UpdateSecretVersionStage, RestoreSecret, PutResourcePolicy, DeleteResourcePolicy.
Result<std::string> EncodeArnNameResponse(const secrets::ArnNameResponse& r);
Result<std::string> EncodeDeleteSecretResponse(const secrets::DeleteSecretResponse& r);
// TagResource, UntagResource: "{}".
std::string EncodeEmptyResponse();
Result<std::string> EncodeGetRandomPasswordResponse(const secrets::GetRandomPasswordResponse& r);
Result<std::string> EncodeGetResourcePolicyResponse(const secrets::GetResourcePolicyResponse& r);
Result<std::string> EncodeValidateResourcePolicyResponse(
    const secrets::ValidateResourcePolicyResponse& r);
Result<std::string> EncodeRotateSecretResponse(const secrets::RotateSecretResponse& r);
Result<std::string> EncodeCancelRotateSecretResponse(const secrets::CancelRotateSecretResponse& r);

}  // namespace coffer::api
