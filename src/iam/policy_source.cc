#include "iam/policy_source.h"

#include <mutex>
#include <optional>
#include <utility>

#include "iam/entities.h"

namespace coffer::iam {
namespace {

std::shared_ptr<const policy::PrincipalPolicies> Unknown() {
  static const auto kUnknown = [] {
    auto p = std::make_shared<policy::PrincipalPolicies>();
    p->exists = false;
    return std::shared_ptr<const policy::PrincipalPolicies>(std::move(p));
  }();
  return kUnknown;
}

std::shared_ptr<const policy::PrincipalPolicies> Root() {
  static const auto kRoot = [] {
    auto p = std::make_shared<policy::PrincipalPolicies>();
    p->is_root = true;
    return std::shared_ptr<const policy::PrincipalPolicies>(std::move(p));
  }();
  return kRoot;
}

Result<std::shared_ptr<const policy::Document>> Compile(const std::string& document,
                                                        const std::string& what) {
  Result<policy::Document> parsed =
      policy::Document::Parse(document, policy::DocumentKind::kIdentity);
  if (!parsed.ok()) {
    return Status::Internal("stored identity policy " + what +
                            " no longer parses: " + parsed.status().message());
  }
  return std::make_shared<const policy::Document>(std::move(parsed).value());
}

}  // namespace

StorePolicySource::StorePolicySource(storage::SecretStore* store, std::string account_id,
                                     std::size_t max_entries)
    : store_(store), account_id_(std::move(account_id)), max_entries_(max_entries) {}

Result<std::shared_ptr<const policy::PrincipalPolicies>> StorePolicySource::PoliciesFor(
    const std::string& principal_arn) {
  std::uint64_t generation = 0;
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(principal_arn);
    if (it != cache_.end()) return it->second;
    generation = generation_;
  }
  COFFER_ASSIGN_OR_RETURN(std::shared_ptr<const policy::PrincipalPolicies> loaded,
                          Load(principal_arn));
  std::unique_lock lock(mu_);
  if (generation_ == generation) {  // no IAM write since the reads began
    if (cache_.size() >= max_entries_) cache_.clear();
    cache_.emplace(principal_arn, loaded);
  }
  return loaded;
}

Result<std::shared_ptr<const policy::PrincipalPolicies>> StorePolicySource::Load(
    const std::string& principal_arn) {
  loads_.fetch_add(1, std::memory_order_relaxed);
  std::optional<PrincipalName> principal = ParsePrincipalArn(principal_arn, account_id_);
  if (!principal.has_value()) return Unknown();
  if (principal->kind == "root") return Root();
  if (principal->kind != "user") return Unknown();  // roles: not yet

  COFFER_ASSIGN_OR_RETURN(std::optional<storage::IamEntityRecord> row,
                          store_->GetIamEntity(std::string(kUserKind), UserKey(principal->name)));
  if (!row.has_value()) return Unknown();
  COFFER_ASSIGN_OR_RETURN(User user, DecodeUser(row->json));
  // A user deleted and re-created under another path is another principal.
  if (UserArn(account_id_, user.path, user.name) != principal_arn) return Unknown();

  auto out = std::make_shared<policy::PrincipalPolicies>();
  for (const std::string& arn : user.attached_policy_arns) {
    COFFER_ASSIGN_OR_RETURN(std::optional<storage::IamEntityRecord> policy_row,
                            store_->GetIamEntity(std::string(kPolicyKind), arn));
    if (!policy_row.has_value()) continue;  // deleted meanwhile (DeletePolicy needs detaching)
    COFFER_ASSIGN_OR_RETURN(ManagedPolicy policy, DecodePolicy(policy_row->json));
    const PolicyVersion* version = policy.DefaultVersion();
    if (version == nullptr) {
      return Status::Internal("stored policy " + arn + " has no default version");
    }
    COFFER_ASSIGN_OR_RETURN(auto doc, Compile(version->document, arn + " " + version->version_id));
    out->documents.push_back(std::move(doc));
  }
  for (const InlinePolicy& inline_policy : user.inline_policies) {
    COFFER_ASSIGN_OR_RETURN(
        auto doc,
        Compile(inline_policy.document, "user/" + user.name + " inline " + inline_policy.name));
    out->documents.push_back(std::move(doc));
  }
  return std::shared_ptr<const policy::PrincipalPolicies>(std::move(out));
}

void StorePolicySource::Invalidate() {
  std::unique_lock lock(mu_);
  ++generation_;
  cache_.clear();
  invalidations_.fetch_add(1, std::memory_order_relaxed);
}

StorePolicySource::Stats StorePolicySource::stats() const {
  std::shared_lock lock(mu_);
  return Stats{loads_.load(), invalidations_.load(), cache_.size()};
}

}  // namespace coffer::iam
