// Put/Get/Delete/ValidateResourcePolicy (reference §1.11).

#include "secrets/messages.h"
#include "secrets/meta.h"
#include "secrets/op_util.h"
#include "secrets/policy_check.h"
#include "secrets/secret_id.h"
#include "secrets/service.h"
#include "secrets/validate.h"

namespace coffer::secrets {
namespace {

constexpr std::size_t kMaxPolicyLength = 20480;

// kMalformedPolicy for a syntax error; kPublicPolicy for a public grant when blocked.
Status CheckPolicyForPut(std::string_view document, bool block_public) {
  for (const auto& finding : CheckPolicy(document)) {
    if (finding.check_name == kSyntaxCheck) {
      return Status(StatusCode::kMalformedPolicy,
                    std::string(msg::kPolicySyntax) + " " + finding.error_message);
    }
    if (finding.check_name == kPublicPolicyCheck && block_public) {
      return Status(StatusCode::kPublicPolicy, std::string(msg::kPublicPolicy));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ArnNameResponse> Service::PutResourcePolicy(const CallContext& ctx,
                                                   const PutResourcePolicyRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(CheckLength("resourcePolicy", r.resource_policy, 1, kMaxPolicyLength));
  COFFER_RETURN_IF_ERROR(
      CheckPolicyForPut(r.resource_policy, r.block_public_policy.value_or(false)));
  COFFER_ASSIGN_OR_RETURN(auto record, EditMeta(ctx, r.secret_id, [&](SecretMeta& meta) {
                            meta.resource_policy = r.resource_policy;
                            return Status::Ok();
                          }));
  return ArnNameResponse{record.arn, record.name};
}

Result<GetResourcePolicyResponse> Service::GetResourcePolicy(const CallContext& ctx,
                                                             const SecretIdRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_ASSIGN_OR_RETURN(internal::Loaded secret, internal::LoadSecret(*store_, ctx, r.secret_id));
  return GetResourcePolicyResponse{secret.record.arn, secret.record.name,
                                   secret.meta.resource_policy};
}

Result<ArnNameResponse> Service::DeleteResourcePolicy(const CallContext& ctx,
                                                      const SecretIdRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_ASSIGN_OR_RETURN(auto record, EditMeta(ctx, r.secret_id, [](SecretMeta& meta) {
                            meta.resource_policy.reset();
                            return Status::Ok();
                          }));
  return ArnNameResponse{record.arn, record.name};
}

Result<ValidateResourcePolicyResponse> Service::ValidateResourcePolicy(
    const CallContext& ctx, const ValidateResourcePolicyRequest& r) {
  if (r.secret_id) {
    COFFER_RETURN_IF_ERROR(ValidateSecretId(*r.secret_id));
    COFFER_RETURN_IF_ERROR(ResolveSecret(*store_, ctx, *r.secret_id).status());
  }
  COFFER_RETURN_IF_ERROR(CheckLength("resourcePolicy", r.resource_policy, 1, kMaxPolicyLength));
  ValidateResourcePolicyResponse out;
  out.validation_errors = CheckPolicy(r.resource_policy);
  out.policy_validation_passed = out.validation_errors.empty();
  return out;
}

}  // namespace coffer::secrets
