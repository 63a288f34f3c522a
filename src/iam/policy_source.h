#pragma once

// StorePolicySource: the IdentityPolicySource (policy/policy.h) over the IAM entities in the
// store. It is asked on every authorized request, so answers are cached per principal ARN:
//
//  - arn:aws:iam::<account>:root  -> is_root, no documents;
//  - a user ARN                   -> the default version of every attached managed policy, then
//                                    every inline policy, each compiled once with
//                                    policy::Document::Parse(kIdentity);
//  - an unknown user (or one whose ARN's path no longer matches), any other ARN -> exists=false.
//
// A cache hit is a shared lock and one hash lookup. Invalidate() (called by IamService after
// every IAM write) bumps a generation and drops everything; a fill computed from reads that
// started before an invalidation is discarded, so a stale answer is never cached.
//
// A stored document that no longer parses is an error (kInternal), not a skipped policy: skipping
// a Deny would grant access.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/status.h"
#include "policy/policy.h"
#include "storage/store.h"

namespace coffer::iam {

class StorePolicySource final : public policy::IdentityPolicySource {
 public:
  // Most principals cached; past it the cache is cleared and refills. Default: 10,000.
  static constexpr std::size_t kDefaultMaxEntries = 10000;

  StorePolicySource(storage::SecretStore* store, std::string account_id,
                    std::size_t max_entries = kDefaultMaxEntries);

  Result<std::shared_ptr<const policy::PrincipalPolicies>> PoliciesFor(
      const std::string& principal_arn) override;

  // Drops every cached answer. Thread-safe; cheap.
  void Invalidate();

  struct Stats {
    std::uint64_t loads = 0;  // cache misses that read the store
    std::uint64_t invalidations = 0;
    std::size_t entries = 0;
  };
  Stats stats() const;

 private:
  Result<std::shared_ptr<const policy::PrincipalPolicies>> Load(const std::string& principal_arn);

  storage::SecretStore* store_;
  const std::string account_id_;
  const std::size_t max_entries_;

  mutable std::shared_mutex mu_;
  std::uint64_t generation_ = 0;  // guarded by mu_
  std::unordered_map<std::string, std::shared_ptr<const policy::PrincipalPolicies>> cache_;

  std::atomic<std::uint64_t> loads_{0};
  std::atomic<std::uint64_t> invalidations_{0};
};

}  // namespace coffer::iam
