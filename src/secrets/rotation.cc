// RotateSecret and CancelRotateSecret: they store and report the rotation configuration. The
// rotation engine (invoking a hook through the four steps) is a later issue, so RotateSecret
// creates no version here.

#include "secrets/authorize.h"
#include "secrets/labels.h"
#include "secrets/messages.h"
#include "secrets/op_util.h"
#include "secrets/rotation_rules.h"
#include "secrets/service.h"
#include "secrets/validate.h"

namespace coffer::secrets {
namespace {

Status ValidateRotate(const RotateSecretRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(ValidateVersionId("clientRequestToken", r.client_request_token));
  COFFER_RETURN_IF_ERROR(CheckLength("rotationLambdaARN", r.rotation_lambda_arn, 0, 2048));
  COFFER_RETURN_IF_ERROR(
      CheckLength("externalSecretRotationRoleArn", r.external_secret_rotation_role_arn, 20, 2048));
  if (r.rotation_rules) COFFER_RETURN_IF_ERROR(ValidateRotationRules(*r.rotation_rules));
  if (r.external_secret_rotation_metadata_json) {
    COFFER_RETURN_IF_ERROR(
        ValidateExternalRotationMetadata(*r.external_secret_rotation_metadata_json));
  }
  // AWS answers a raw request without a token with InvalidParameterException here.
  if (!r.client_request_token) return Status::InvalidArgument(std::string(msg::kTokenRequired));
  return Status::Ok();
}

// The version holding AWSPENDING when it is not also AWSCURRENT: an unfinished rotation.
std::optional<std::string> UnfinishedPending(const std::vector<storage::VersionRecord>& versions) {
  StageMap map(versions);
  auto pending = map.Holder(kAwsPending);
  if (pending && pending != map.Holder(kAwsCurrent)) return pending;
  return std::nullopt;
}

void ApplyRotationConfig(const RotateSecretRequest& r, std::int64_t now_ms, SecretMeta& meta) {
  if (r.rotation_lambda_arn && !r.rotation_lambda_arn->empty()) {
    meta.rotation_lambda_arn = r.rotation_lambda_arn;
  }
  if (r.rotation_rules) meta.rotation_rules = r.rotation_rules;
  if (r.external_secret_rotation_metadata_json) {
    meta.external_rotation_metadata_json = r.external_secret_rotation_metadata_json;
  }
  if (r.external_secret_rotation_role_arn) {
    meta.external_rotation_role_arn = r.external_secret_rotation_role_arn;
  }
  meta.rotation_enabled = true;
  meta.next_rotation_ms =
      meta.rotation_rules ? NextRotationMs(*meta.rotation_rules, now_ms) : std::nullopt;
  meta.last_changed_ms = now_ms;
}

}  // namespace

Result<RotateSecretResponse> Service::RotateSecret(const CallContext& ctx,
                                                   const RotateSecretRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateRotate(r));
  internal::AuthExtras extras;
  if (r.rotation_lambda_arn && !r.rotation_lambda_arn->empty()) {
    extras.keys.emplace_back("secretsmanager:rotationlambdaarn", *r.rotation_lambda_arn);
  }
  auto lock = LockSecret(ctx, r.secret_id);
  return internal::RetryOnConflict(options_.commit_retries, [&]() -> Result<RotateSecretResponse> {
    COFFER_ASSIGN_OR_RETURN(internal::Loaded secret,
                            LoadAuthorized(ctx, r.secret_id, "RotateSecret", &extras));
    COFFER_RETURN_IF_ERROR(internal::CheckNotDeleted(secret.record));
    const bool has_lambda = (r.rotation_lambda_arn && !r.rotation_lambda_arn->empty()) ||
                            secret.meta.rotation_lambda_arn.has_value();
    const bool external = r.external_secret_rotation_role_arn.has_value() ||
                          secret.meta.external_rotation_role_arn.has_value();
    if (!has_lambda && !external) return Status::FailedPrecondition(std::string(msg::kNoLambda));
    COFFER_ASSIGN_OR_RETURN(auto versions, store_->ListVersions(secret.record.arn));
    if (UnfinishedPending(versions)) {
      return Status::FailedPrecondition(std::string(msg::kRotationInProgress));
    }
    ApplyRotationConfig(r, clock_->NowMillis(), secret.meta);
    COFFER_RETURN_IF_ERROR(store_->Commit(internal::UpdateOf(secret)));
    return RotateSecretResponse{secret.record.arn, secret.record.name, std::nullopt};
  });
}

Result<CancelRotateSecretResponse> Service::CancelRotateSecret(const CallContext& ctx,
                                                               const SecretIdRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  auto lock = LockSecret(ctx, r.secret_id);
  return internal::RetryOnConflict(
      options_.commit_retries, [&]() -> Result<CancelRotateSecretResponse> {
        COFFER_ASSIGN_OR_RETURN(internal::Loaded secret,
                                LoadAuthorized(ctx, r.secret_id, "CancelRotateSecret"));
        COFFER_RETURN_IF_ERROR(internal::CheckNotDeleted(secret.record));
        COFFER_ASSIGN_OR_RETURN(auto versions, store_->ListVersions(secret.record.arn));
        secret.meta.rotation_enabled = false;
        secret.meta.next_rotation_ms.reset();
        secret.meta.last_changed_ms = clock_->NowMillis();
        COFFER_RETURN_IF_ERROR(store_->Commit(internal::UpdateOf(secret)));
        return CancelRotateSecretResponse{secret.record.arn, secret.record.name,
                                          StageMap(versions).Holder(kAwsPending)};
      });
}

}  // namespace coffer::secrets
