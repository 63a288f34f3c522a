#include "policy/authorizer.h"

#include <mutex>
#include <utility>

#include <spdlog/spdlog.h>

namespace coffer::policy {

PolicyAuthorizer::PolicyAuthorizer(IdentityPolicySource* source, std::size_t cache_capacity)
    : source_(source), capacity_(cache_capacity == 0 ? 1 : cache_capacity) {}

std::shared_ptr<const Document> PolicyAuthorizer::ResourcePolicy(std::string_view json) const {
  if (json.empty()) return nullptr;
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(json);
    if (it != cache_.end()) return it->second;
  }
  // Parse outside the lock; a racing thread may parse the same text too, and the first insert
  // wins.
  std::shared_ptr<const Document> parsed;
  Result<Document> document = Document::Parse(json, DocumentKind::kResource);
  if (document.ok()) {
    parsed = std::make_shared<const Document>(*std::move(document));
  }
  std::unique_lock lock(mu_);
  auto it = cache_.find(json);
  if (it != cache_.end()) return it->second;
  if (!document.ok()) {
    spdlog::warn("policy: a stored resource policy does not parse and is ignored: {}",
                 document.status().message());
  }
  if (cache_.size() >= capacity_) cache_.erase(cache_.begin());
  cache_.emplace(std::string(json), parsed);
  return parsed;
}

std::size_t PolicyAuthorizer::CachedPolicies() const {
  std::shared_lock lock(mu_);
  return cache_.size();
}

Status PolicyAuthorizer::Authorize(const RequestContext& request,
                                   std::string_view resource_policy_json) const {
  Result<std::shared_ptr<const PrincipalPolicies>> policies =
      source_->PoliciesFor(request.principal_arn);
  if (!policies.ok()) return policies.status();
  const PrincipalPolicies* principal = policies->get();
  if (principal == nullptr || !principal->exists) {
    return Status::PermissionDenied(DenialMessage(request, Evaluation{}));
  }
  const std::shared_ptr<const Document> resource_policy = ResourcePolicy(resource_policy_json);
  const Evaluation evaluation = EvaluatePrincipal(request, *principal, resource_policy.get());
  if (evaluation.decision == Decision::kAllow) return Status::Ok();
  return Status::PermissionDenied(DenialMessage(request, evaluation));
}

}  // namespace coffer::policy
