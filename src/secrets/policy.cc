// Put/Get/Delete/ValidateResourcePolicy (reference §1.11). Documents are checked by the IAM policy
// parser (policy::Document::Parse, kind kResource): a syntax or grammar error is
// MalformedPolicyDocumentException for Put and a SYNTAX_CHECK finding for Validate; a document
// that grants to every principal (Document::AllowsPublicAccess) is PublicPolicyException for Put
// with BlockPublicPolicy and a PUBLIC_POLICY_CHECK finding for Validate.

#include "policy/policy.h"

#include "secrets/authorize.h"
#include "secrets/messages.h"
#include "secrets/meta.h"
#include "secrets/op_util.h"
#include "secrets/secret_id.h"
#include "secrets/service.h"
#include "secrets/validate.h"

namespace coffer::secrets {
namespace {

constexpr std::size_t kMaxPolicyLength = 20480;
constexpr std::string_view kSyntaxCheck = "SYNTAX_CHECK";
constexpr std::string_view kPublicPolicyCheck = "PUBLIC_POLICY_CHECK";
constexpr std::string_view kPublicFinding =
    "The resource policy grants access to every principal (\"Principal\": \"*\") without a "
    "condition that narrows it.";

// The parser's findings as ValidateResourcePolicy reports them; empty when the policy passes.
std::vector<ValidationErrorsEntry> CheckPolicy(std::string_view document) {
  auto parsed = policy::Document::Parse(document, policy::DocumentKind::kResource);
  if (!parsed.ok()) return {{std::string(kSyntaxCheck), parsed.status().message()}};
  if (parsed->AllowsPublicAccess()) {
    return {{std::string(kPublicPolicyCheck), std::string(kPublicFinding)}};
  }
  return {};
}

// kMalformedPolicy with the parser's message; kPublicPolicy for a public grant when blocked.
Status CheckPolicyForPut(std::string_view document, bool block_public) {
  auto parsed = policy::Document::Parse(document, policy::DocumentKind::kResource);
  if (!parsed.ok()) {
    if (parsed.status().code() != StatusCode::kMalformedPolicy) return parsed.status();
    return Status(StatusCode::kMalformedPolicy,
                  std::string(msg::kPolicySyntax) + " " + parsed.status().message());
  }
  if (block_public && parsed->AllowsPublicAccess()) {
    return Status(StatusCode::kPublicPolicy, std::string(msg::kPublicPolicy));
  }
  return Status::Ok();
}

}  // namespace

Result<ArnNameResponse> Service::PutResourcePolicy(const CallContext& ctx,
                                                   const PutResourcePolicyRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_RETURN_IF_ERROR(CheckLength("resourcePolicy", r.resource_policy, 1, kMaxPolicyLength));
  // The document is input: checked before the secret is resolved, so a malformed one reveals
  // nothing about the secret.
  COFFER_RETURN_IF_ERROR(
      CheckPolicyForPut(r.resource_policy, r.block_public_policy.value_or(false)));
  internal::AuthExtras extras;
  if (r.block_public_policy) {
    extras.keys.emplace_back("secretsmanager:blockpublicpolicy",
                             *r.block_public_policy ? "true" : "false");
  }
  COFFER_ASSIGN_OR_RETURN(
      auto record, EditMeta(ctx, "PutResourcePolicy", r.secret_id, &extras, [&](SecretMeta& meta) {
        meta.resource_policy = r.resource_policy;
        return Status::Ok();
      }));
  return ArnNameResponse{record.arn, record.name};
}

Result<GetResourcePolicyResponse> Service::GetResourcePolicy(const CallContext& ctx,
                                                             const SecretIdRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_ASSIGN_OR_RETURN(internal::Loaded secret,
                          LoadAuthorized(ctx, r.secret_id, "GetResourcePolicy"));
  return GetResourcePolicyResponse{secret.record.arn, secret.record.name,
                                   secret.meta.resource_policy};
}

Result<ArnNameResponse> Service::DeleteResourcePolicy(const CallContext& ctx,
                                                      const SecretIdRequest& r) {
  COFFER_RETURN_IF_ERROR(ValidateSecretId(r.secret_id));
  COFFER_ASSIGN_OR_RETURN(auto record, EditMeta(ctx, "DeleteResourcePolicy", r.secret_id, nullptr,
                                                [](SecretMeta& meta) {
                                                  meta.resource_policy.reset();
                                                  return Status::Ok();
                                                }));
  return ArnNameResponse{record.arn, record.name};
}

Result<ValidateResourcePolicyResponse> Service::ValidateResourcePolicy(
    const CallContext& ctx, const ValidateResourcePolicyRequest& r) {
  if (r.secret_id) COFFER_RETURN_IF_ERROR(ValidateSecretId(*r.secret_id));
  COFFER_RETURN_IF_ERROR(CheckLength("resourcePolicy", r.resource_policy, 1, kMaxPolicyLength));
  if (r.secret_id) {
    COFFER_RETURN_IF_ERROR(LoadAuthorized(ctx, *r.secret_id, "ValidateResourcePolicy").status());
  } else {
    internal::AuthTarget account;
    account.resource_arn = "*";
    account.record = false;
    COFFER_RETURN_IF_ERROR(Authorize(ctx, "ValidateResourcePolicy", account));
  }
  ValidateResourcePolicyResponse out;
  out.validation_errors = CheckPolicy(r.resource_policy);
  out.policy_validation_passed = out.validation_errors.empty();
  return out;
}

}  // namespace coffer::secrets
