// Evaluate(), StatementMatches() and DenialMessage().

#include <string>
#include <string_view>

#include "policy/condition.h"
#include "policy/internal/match.h"
#include "policy/policy.h"

namespace coffer::policy {
namespace {

using internal::WildcardMatch;

bool AnyActionMatches(const Statement& statement, std::string_view action) {
  for (const std::string& pattern : statement.actions) {
    if (WildcardMatch(pattern, action, /*ignore_case=*/true)) return true;
  }
  return false;
}

bool AnyResourceMatches(const Statement& statement, std::string_view resource) {
  for (const std::string& pattern : statement.resources) {
    if (WildcardMatch(pattern, resource, /*ignore_case=*/false)) return true;
  }
  return false;
}

bool IsAccountPrincipal(std::string_view principal, std::string_view account) {
  if (account.empty()) return false;
  if (principal == account) return true;
  // arn:aws:iam::<account>:root (any partition)
  return principal.starts_with("arn:") && principal.ends_with(":root") &&
         internal::ArnAccount(principal) == account &&
         principal.find(":iam::") != std::string_view::npos;
}

bool CallerIsRoot(std::string_view principal_arn) { return principal_arn.ends_with(":root"); }

// Whether a Principal entry names the caller. `grant`: reading it for an Allow, where an account
// only delegates to the account's IAM policies and so names only the account's root user.
bool PrincipalNames(std::string_view principal, const RequestContext& request, bool grant) {
  if (principal == "*") return true;
  if (principal == request.principal_arn) return true;
  const std::string_view account = internal::ArnAccount(request.principal_arn);
  if (!IsAccountPrincipal(principal, account)) return false;
  return !grant || CallerIsRoot(request.principal_arn);
}

bool PrincipalApplies(const Statement& statement, const RequestContext& request) {
  const bool grant = statement.effect == Effect::kAllow;
  if (statement.not_principal) {
    // Everyone except those listed; a listed account excludes only its root user.
    for (const std::string& p : statement.principals) {
      if (PrincipalNames(p, request, /*grant=*/true)) return false;
    }
    return true;
  }
  for (const std::string& p : statement.principals) {
    if (PrincipalNames(p, request, grant)) return true;
  }
  return false;
}

template <typename Documents, typename Get>
Evaluation EvaluateImpl(const RequestContext& request, const Documents& identity, Get get,
                        const Document* resource_policy, bool is_root) {
  bool allowed = is_root;
  for (const auto& entry : identity) {
    const Document* document = get(entry);
    if (document == nullptr) continue;
    for (const Statement& statement : document->statements()) {
      if (!StatementMatches(statement, DocumentKind::kIdentity, request)) continue;
      if (statement.effect == Effect::kDeny) return {Decision::kExplicitDeny, false};
      allowed = true;
    }
  }
  if (resource_policy != nullptr) {
    for (const Statement& statement : resource_policy->statements()) {
      if (!StatementMatches(statement, DocumentKind::kResource, request)) continue;
      if (statement.effect == Effect::kDeny) return {Decision::kExplicitDeny, true};
      allowed = true;
    }
  }
  return {allowed ? Decision::kAllow : Decision::kImplicitDeny, false};
}

}  // namespace

bool StatementMatches(const Statement& statement, DocumentKind kind,
                      const RequestContext& request) {
  if (AnyActionMatches(statement, request.action) == statement.not_action) return false;
  if (AnyResourceMatches(statement, request.resource) == statement.not_resource) return false;
  if (kind == DocumentKind::kResource && !PrincipalApplies(statement, request)) return false;
  return ConditionsHold(statement.conditions, request);
}

Evaluation Evaluate(const RequestContext& request, const std::vector<const Document*>& identity,
                    const Document* resource_policy, bool is_root) {
  return EvaluateImpl(
      request, identity, [](const Document* d) { return d; }, resource_policy, is_root);
}

Evaluation EvaluatePrincipal(const RequestContext& request, const PrincipalPolicies& principal,
                             const Document* resource_policy) {
  return EvaluateImpl(
      request, principal.documents,
      [](const std::shared_ptr<const Document>& d) { return d.get(); }, resource_policy,
      principal.is_root);
}

std::string DenialMessage(const RequestContext& request, const Evaluation& evaluation) {
  std::string message = "User: " + request.principal_arn +
                        " is not authorized to perform: " + request.action;
  if (!request.resource.empty() && request.resource != "*") {
    message += " on resource: " + request.resource;
  }
  switch (evaluation.decision) {
    case Decision::kExplicitDeny:
      message += evaluation.denied_by_resource_policy
                     ? " with an explicit deny in a resource-based policy"
                     : " with an explicit deny in an identity-based policy";
      break;
    case Decision::kImplicitDeny:
    case Decision::kAllow:
      message += " because no identity-based policy allows the " + request.action + " action";
      break;
  }
  return message;
}

}  // namespace coffer::policy
