#pragma once

// PolicyAuthorizer: the IAM-backed Authorizer. For each request it takes the caller's compiled
// identity policies from an IdentityPolicySource, the resource's policy from a cache of parsed
// documents (keyed by the exact JSON text, so a policy seen before costs one hash lookup and no
// JSON parsing), and runs Evaluate().
//
//  - An unknown principal (PrincipalPolicies::exists == false, or no policies at all) is denied
//    with the "no identity-based policy allows" message.
//  - An error from the source is returned as is.
//  - A stored resource policy that does not parse is treated as absent (it cannot grant or deny)
//    and logged once per cache entry. PutResourcePolicy validates documents, so this only happens
//    to documents stored by an older, laxer version.

#include <cstddef>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "policy/policy.h"

namespace coffer::policy {

class PolicyAuthorizer : public Authorizer {
 public:
  static constexpr std::size_t kDefaultCacheCapacity = 1024;

  // `source` must outlive the authorizer.
  explicit PolicyAuthorizer(IdentityPolicySource* source,
                            std::size_t cache_capacity = kDefaultCacheCapacity);

  Status Authorize(const RequestContext& request,
                   std::string_view resource_policy_json) const override;

  // The parsed resource policy for `json`, from the cache or parsed now; null for "" and for a
  // document that does not parse.
  std::shared_ptr<const Document> ResourcePolicy(std::string_view json) const;

  // Entries in the resource-policy cache (parsed and unparseable alike); at most the capacity.
  std::size_t CachedPolicies() const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  IdentityPolicySource* source_;
  std::size_t capacity_;
  mutable std::shared_mutex mu_;
  // Value null: the document did not parse (already logged).
  mutable std::unordered_map<std::string, std::shared_ptr<const Document>, Hash, std::equal_to<>>
      cache_;
};

}  // namespace coffer::policy
