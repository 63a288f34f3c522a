#include "iam/iam_service.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/encoding.h"
#include "crypto/random.h"
#include "iam/policy_source.h"
#include "iam/validate.h"
#include "policy/policy.h"

namespace coffer::iam {
namespace {

constexpr std::string_view kIdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::string_view kSecretAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Sorts `keyed` by key and cuts the page that starts at the marker (the base64 of the first key
// of the page). Items removed between two calls simply do not appear; nothing is skipped twice.
template <typename T>
Result<Page<T>> Paginate(std::vector<std::pair<std::string, T>> keyed, const PageRequest& req) {
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::size_t start = 0;
  if (req.marker.has_value()) {
    std::optional<std::string> from = Base64Decode(*req.marker);
    if (!from.has_value() || from->empty()) return Status::InvalidArgument("Invalid Marker.");
    start = std::lower_bound(
                keyed.begin(), keyed.end(), *from,
                [](const auto& item, const std::string& key) { return item.first < key; }) -
            keyed.begin();
  }
  const std::size_t max = static_cast<std::size_t>(std::max(1, req.max_items));
  Page<T> page;
  std::size_t end = std::min(keyed.size(), start + max);
  for (std::size_t i = start; i < end; ++i) page.items.push_back(std::move(keyed[i].second));
  if (end < keyed.size()) {
    page.truncated = true;
    page.marker = Base64Encode(keyed[end].first);
  }
  return page;
}

// Zero-padded so that "v10" sorts after "v9".
std::string VersionSortKey(std::string_view version_id) {
  std::string digits(version_id.substr(1));
  return std::string(20 - std::min<std::size_t>(20, digits.size()), '0') + digits;
}

Status CheckDocument(const std::string& document) {
  COFFER_RETURN_IF_ERROR(ValidatePolicyDocumentText(document));
  Result<policy::Document> parsed =
      policy::Document::Parse(document, policy::DocumentKind::kIdentity);
  if (!parsed.ok()) {
    if (parsed.status().code() == StatusCode::kMalformedPolicy) return parsed.status();
    return Status(StatusCode::kMalformedPolicy, parsed.status().message());
  }
  return Status::Ok();
}

Status CheckManagedDocument(const std::string& document) {
  COFFER_RETURN_IF_ERROR(CheckDocument(document));
  if (PolicyChars(document) > kMaxManagedPolicyChars) {
    return Status::ResourceExhausted("Cannot exceed quota for PolicySize: " +
                                     std::to_string(kMaxManagedPolicyChars));
  }
  return Status::Ok();
}

Status NoSuchUser(const std::string& name) {
  return Status::NotFound("The user with name " + name + " cannot be found.");
}

Status NoSuchPolicy(const std::string& arn) {
  return Status::NotFound("Policy " + arn + " was not found.");
}

Status StoreConflict(Status status) {
  if (status.code() == StatusCode::kAborted) {
    return Status::Aborted(
        "The request was rejected because multiple requests to change this "
        "object were submitted simultaneously. Wait a few minutes and "
        "submit your request again.");
  }
  return status;
}

bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string AccessKeyAad(std::string_view access_key_id) {
  std::string aad = "access-key\n";
  aad += access_key_id;
  return aad;
}

std::string NewAccessKeyId() { return "AKIA" + crypto::RandomString(16, kIdAlphabet); }

std::string NewSecretAccessKey() { return crypto::RandomString(40, kSecretAlphabet); }

IamService::IamService(storage::SecretStore* store, const crypto::Envelope* envelope,
                       const Clock* clock, IamServiceOptions options)
    : store_(store), envelope_(envelope), clock_(clock), options_(std::move(options)) {}

// --- helpers ---

Result<std::optional<User>> IamService::FindUser(const std::string& name) {
  COFFER_ASSIGN_OR_RETURN(std::optional<storage::IamEntityRecord> row,
                          store_->GetIamEntity(std::string(kUserKind), UserKey(name)));
  if (!row.has_value()) return std::optional<User>();
  COFFER_ASSIGN_OR_RETURN(User user, DecodeUser(row->json));
  user.revision = row->revision;
  return std::optional<User>(std::move(user));
}

Result<User> IamService::LoadUser(const std::string& name) {
  COFFER_ASSIGN_OR_RETURN(std::optional<User> user, FindUser(name));
  if (!user.has_value()) return NoSuchUser(name);
  return std::move(*user);
}

Result<std::vector<User>> IamService::AllUsers() {
  COFFER_ASSIGN_OR_RETURN(std::vector<storage::IamEntityRecord> rows,
                          store_->ListIamEntities(std::string(kUserKind)));
  std::vector<User> users;
  users.reserve(rows.size());
  for (const storage::IamEntityRecord& row : rows) {
    COFFER_ASSIGN_OR_RETURN(User user, DecodeUser(row.json));
    user.revision = row.revision;
    users.push_back(std::move(user));
  }
  return users;
}

Result<ManagedPolicy> IamService::LoadPolicy(const std::string& arn) {
  COFFER_RETURN_IF_ERROR(ValidatePolicyArn(arn));
  COFFER_ASSIGN_OR_RETURN(std::optional<storage::IamEntityRecord> row,
                          store_->GetIamEntity(std::string(kPolicyKind), arn));
  if (!row.has_value()) return NoSuchPolicy(arn);
  COFFER_ASSIGN_OR_RETURN(ManagedPolicy policy, DecodePolicy(row->json));
  policy.revision = row->revision;
  COFFER_ASSIGN_OR_RETURN(std::vector<User> users, AllUsers());
  for (const User& u : users) {
    policy.attachment_count +=
        std::count(u.attached_policy_arns.begin(), u.attached_policy_arns.end(), arn);
  }
  return policy;
}

Result<std::vector<storage::AccessKeyRecord>> IamService::KeysOf(const User& user) {
  const std::string arn = UserArn(account_id(), user.path, user.name);
  COFFER_ASSIGN_OR_RETURN(std::vector<storage::AccessKeyRecord> all, store_->ListAccessKeys());
  std::vector<storage::AccessKeyRecord> mine;
  for (storage::AccessKeyRecord& k : all) {
    if (k.principal_arn == arn) mine.push_back(std::move(k));
  }
  return mine;
}

Status IamService::SaveUser(const User& user) {
  storage::IamEntityRecord row{std::string(kUserKind), UserKey(user.name), EncodeUser(user), 0};
  return StoreConflict(store_->PutIamEntity(row, user.revision));
}

Status IamService::SavePolicy(const ManagedPolicy& policy) {
  storage::IamEntityRecord row{std::string(kPolicyKind), policy.arn, EncodePolicy(policy), 0};
  return StoreConflict(store_->PutIamEntity(row, policy.revision));
}

void IamService::Changed() {
  if (options_.policy_source != nullptr) options_.policy_source->Invalidate();
}

void IamService::KeyChanged(const std::string& access_key_id) {
  if (options_.on_access_key_changed) options_.on_access_key_changed(access_key_id);
}

// --- users ---

Result<User> IamService::CreateUser(const std::string& name, const std::string& path,
                                    const std::vector<Tag>& tags) {
  COFFER_RETURN_IF_ERROR(ValidateUserName(name));
  COFFER_RETURN_IF_ERROR(ValidatePath(path));
  COFFER_RETURN_IF_ERROR(ValidateTags(tags));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(std::optional<User> existing, FindUser(name));
  if (existing.has_value()) {
    return Status::AlreadyExists("User with name " + name + " already exists.");
  }
  User user;
  user.name = name;
  user.id = "AIDA" + crypto::RandomString(17, kIdAlphabet);
  user.path = path;
  user.create_ms = clock_->NowMillis();
  user.tags = tags;
  COFFER_RETURN_IF_ERROR(SaveUser(user));
  user.revision = 1;
  Changed();
  return user;
}

Result<User> IamService::GetUser(const std::string& name) {
  COFFER_RETURN_IF_ERROR(ValidateName(name));
  return LoadUser(name);
}

Status IamService::ValidateName(const std::string& name) { return ValidateExistingUserName(name); }

Result<Page<User>> IamService::ListUsers(const std::string& path_prefix, const PageRequest& page) {
  COFFER_RETURN_IF_ERROR(ValidatePathPrefix(path_prefix));
  COFFER_ASSIGN_OR_RETURN(std::vector<User> users, AllUsers());
  std::vector<std::pair<std::string, User>> keyed;
  for (User& u : users) {
    if (!HasPrefix(u.path, path_prefix)) continue;
    std::string key = UserKey(u.name);
    keyed.emplace_back(std::move(key), std::move(u));
  }
  return Paginate(std::move(keyed), page);
}

Status IamService::DeleteUser(const std::string& name) {
  COFFER_RETURN_IF_ERROR(ValidateName(name));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(name));
  COFFER_ASSIGN_OR_RETURN(std::vector<storage::AccessKeyRecord> keys, KeysOf(user));
  if (!keys.empty()) {
    return Status::FailedPrecondition("Cannot delete entity, must delete access keys first.");
  }
  if (!user.attached_policy_arns.empty()) {
    return Status::FailedPrecondition("Cannot delete entity, must detach all policies first.");
  }
  if (!user.inline_policies.empty()) {
    return Status::FailedPrecondition("Cannot delete entity, must delete policies first.");
  }
  COFFER_RETURN_IF_ERROR(StoreConflict(
      store_->DeleteIamEntity(std::string(kUserKind), UserKey(user.name), user.revision)));
  Changed();
  return Status::Ok();
}

Status IamService::TagUser(const std::string& name, const std::vector<Tag>& tags) {
  COFFER_RETURN_IF_ERROR(ValidateName(name));
  COFFER_RETURN_IF_ERROR(ValidateTags(tags));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(name));
  for (const Tag& t : tags) {
    auto it = std::find_if(user.tags.begin(), user.tags.end(),
                           [&](const Tag& have) { return SameName(have.key, t.key); });
    if (it != user.tags.end()) {
      *it = t;
    } else {
      user.tags.push_back(t);
    }
  }
  if (user.tags.size() > kMaxTags) {
    return Status::ResourceExhausted("Cannot exceed quota for TagsPerUser: " +
                                     std::to_string(kMaxTags));
  }
  COFFER_RETURN_IF_ERROR(SaveUser(user));
  Changed();
  return Status::Ok();
}

Status IamService::UntagUser(const std::string& name, const std::vector<std::string>& keys) {
  COFFER_RETURN_IF_ERROR(ValidateName(name));
  COFFER_RETURN_IF_ERROR(ValidateTagKeys(keys));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(name));
  std::erase_if(user.tags, [&](const Tag& t) {
    return std::any_of(keys.begin(), keys.end(),
                       [&](const std::string& k) { return SameName(k, t.key); });
  });
  COFFER_RETURN_IF_ERROR(SaveUser(user));
  Changed();
  return Status::Ok();
}

Result<Page<Tag>> IamService::ListUserTags(const std::string& name, const PageRequest& page) {
  COFFER_RETURN_IF_ERROR(ValidateName(name));
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(name));
  std::vector<std::pair<std::string, Tag>> keyed;
  for (Tag& t : user.tags) keyed.emplace_back(UserKey(t.key), std::move(t));
  return Paginate(std::move(keyed), page);
}

Result<std::string> IamService::UserArnFor(const std::string& name) {
  COFFER_ASSIGN_OR_RETURN(std::optional<User> user, FindUser(name));
  if (!user.has_value()) return UserArn(account_id(), "/", name);
  return UserArn(account_id(), user->path, user->name);
}

// --- access keys ---

Result<NewAccessKey> IamService::CreateAccessKey(const std::string& user_name) {
  COFFER_RETURN_IF_ERROR(ValidateName(user_name));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(user_name));
  COFFER_ASSIGN_OR_RETURN(std::vector<storage::AccessKeyRecord> keys, KeysOf(user));
  if (static_cast<int>(keys.size()) >= kMaxAccessKeysPerUser) {
    return Status::ResourceExhausted("Cannot exceed quota for AccessKeysPerUser: " +
                                     std::to_string(kMaxAccessKeysPerUser));
  }
  NewAccessKey out;
  out.info.user_name = user.name;
  out.info.status = "Active";
  out.info.create_ms = clock_->NowMillis();
  out.secret_access_key = NewSecretAccessKey();
  // A collision of 16 random characters from 36 is not going to happen, but a key must never
  // replace another one (PutAccessKey upserts), so check.
  for (int attempt = 0;; ++attempt) {
    out.info.access_key_id = NewAccessKeyId();
    COFFER_ASSIGN_OR_RETURN(std::optional<storage::AccessKeyRecord> clash,
                            store_->GetAccessKey(out.info.access_key_id));
    if (!clash.has_value()) break;
    if (attempt == 3) return Status::Internal("could not generate a unique access key id");
  }
  COFFER_ASSIGN_OR_RETURN(
      std::string sealed,
      envelope_->Seal(out.secret_access_key, AccessKeyAad(out.info.access_key_id)));
  COFFER_ASSIGN_OR_RETURN(std::uint32_t key_version, crypto::Envelope::KeyVersionOf(sealed));
  storage::AccessKeyRecord record;
  record.access_key_id = out.info.access_key_id;
  record.principal_arn = UserArn(account_id(), user.path, user.name);
  record.user_name = user.name;
  record.status = "Active";
  record.created_ms = out.info.create_ms;
  record.secret_ciphertext = std::move(sealed);
  record.key_version = key_version;
  COFFER_RETURN_IF_ERROR(store_->PutAccessKey(record));
  Changed();
  return out;
}

namespace {

Page<AccessKeyInfo> ToInfoPage(Page<storage::AccessKeyRecord> records) {
  Page<AccessKeyInfo> page;
  page.truncated = records.truncated;
  page.marker = std::move(records.marker);
  for (storage::AccessKeyRecord& r : records.items) {
    page.items.push_back(AccessKeyInfo{r.user_name, r.access_key_id, r.status, r.created_ms});
  }
  return page;
}

}  // namespace

Result<Page<AccessKeyInfo>> IamService::ListAccessKeys(const std::string& user_name,
                                                       const PageRequest& page) {
  COFFER_RETURN_IF_ERROR(ValidateName(user_name));
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(user_name));
  COFFER_ASSIGN_OR_RETURN(std::vector<storage::AccessKeyRecord> keys, KeysOf(user));
  std::vector<std::pair<std::string, storage::AccessKeyRecord>> keyed;
  for (storage::AccessKeyRecord& k : keys) {
    k.secret_ciphertext.clear();
    std::string id = k.access_key_id;
    keyed.emplace_back(std::move(id), std::move(k));
  }
  COFFER_ASSIGN_OR_RETURN(Page<storage::AccessKeyRecord> records, Paginate(std::move(keyed), page));
  return ToInfoPage(std::move(records));
}

Result<Page<AccessKeyInfo>> IamService::ListRootAccessKeys(const PageRequest& page) {
  const std::string root = RootArn(account_id());
  COFFER_ASSIGN_OR_RETURN(std::vector<storage::AccessKeyRecord> all, store_->ListAccessKeys());
  std::vector<std::pair<std::string, storage::AccessKeyRecord>> keyed;
  for (storage::AccessKeyRecord& k : all) {
    if (k.principal_arn != root) continue;
    k.secret_ciphertext.clear();
    std::string id = k.access_key_id;
    keyed.emplace_back(std::move(id), std::move(k));
  }
  COFFER_ASSIGN_OR_RETURN(Page<storage::AccessKeyRecord> records, Paginate(std::move(keyed), page));
  return ToInfoPage(std::move(records));
}

Status IamService::UpdateAccessKey(const std::string& user_name, const std::string& access_key_id,
                                   const std::string& status) {
  COFFER_RETURN_IF_ERROR(ValidateName(user_name));
  COFFER_RETURN_IF_ERROR(ValidateAccessKeyId(access_key_id));
  if (status != "Active" && status != "Inactive") {
    return Status::Validation("1 validation error detected: Value '" + status +
                              "' at 'status' failed to satisfy constraint: Member must satisfy "
                              "enum value set: [Active, Inactive]");
  }
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(user_name));
  COFFER_ASSIGN_OR_RETURN(std::optional<storage::AccessKeyRecord> key,
                          store_->GetAccessKey(access_key_id));
  if (!key.has_value() || key->principal_arn != UserArn(account_id(), user.path, user.name)) {
    return Status::NotFound("The Access Key with id " + access_key_id + " cannot be found.");
  }
  if (key->status == status) return Status::Ok();
  key->status = status;
  COFFER_RETURN_IF_ERROR(store_->PutAccessKey(*key));
  Changed();
  KeyChanged(access_key_id);
  return Status::Ok();
}

Status IamService::DeleteAccessKey(const std::string& user_name, const std::string& access_key_id) {
  COFFER_RETURN_IF_ERROR(ValidateName(user_name));
  COFFER_RETURN_IF_ERROR(ValidateAccessKeyId(access_key_id));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(user_name));
  COFFER_ASSIGN_OR_RETURN(std::optional<storage::AccessKeyRecord> key,
                          store_->GetAccessKey(access_key_id));
  const Status missing =
      Status::NotFound("The Access Key with id " + access_key_id + " cannot be found.");
  if (!key.has_value() || key->principal_arn != UserArn(account_id(), user.path, user.name)) {
    return missing;
  }
  Status deleted = store_->DeleteAccessKey(access_key_id);
  if (deleted.code() == StatusCode::kNotFound) return missing;
  COFFER_RETURN_IF_ERROR(deleted);
  Changed();
  KeyChanged(access_key_id);
  return Status::Ok();
}

// --- managed policies ---

Result<ManagedPolicy> IamService::CreatePolicy(const std::string& name, const std::string& path,
                                               const std::string& document,
                                               const std::string& description,
                                               const std::vector<Tag>& tags) {
  COFFER_RETURN_IF_ERROR(ValidatePolicyName(name));
  COFFER_RETURN_IF_ERROR(ValidatePolicyPath(path));
  COFFER_RETURN_IF_ERROR(ValidateDescription(description));
  COFFER_RETURN_IF_ERROR(ValidateTags(tags));
  COFFER_RETURN_IF_ERROR(CheckManagedDocument(document));
  std::lock_guard lock(write_mu_);
  // Policy names are unique in the account whatever their path, ignoring case.
  COFFER_ASSIGN_OR_RETURN(std::vector<storage::IamEntityRecord> rows,
                          store_->ListIamEntities(std::string(kPolicyKind)));
  for (const storage::IamEntityRecord& row : rows) {
    COFFER_ASSIGN_OR_RETURN(ManagedPolicy other, DecodePolicy(row.json));
    if (SameName(other.name, name)) {
      return Status::AlreadyExists("A policy called " + name +
                                   " already exists. Duplicate names are not allowed.");
    }
  }
  ManagedPolicy policy;
  policy.name = name;
  policy.id = "ANPA" + crypto::RandomString(17, kIdAlphabet);
  policy.path = path;
  policy.arn = PolicyArn(account_id(), path, name);
  policy.description = description;
  policy.create_ms = clock_->NowMillis();
  policy.update_ms = policy.create_ms;
  policy.default_version_id = "v1";
  policy.next_version = 2;
  policy.versions.push_back(PolicyVersion{"v1", document, policy.create_ms});
  policy.tags = tags;
  COFFER_RETURN_IF_ERROR(SavePolicy(policy));
  policy.revision = 1;
  Changed();
  return policy;
}

Result<ManagedPolicy> IamService::GetPolicy(const std::string& arn) { return LoadPolicy(arn); }

Result<PolicyVersionView> IamService::GetPolicyVersion(const std::string& arn,
                                                       const std::string& version_id) {
  COFFER_RETURN_IF_ERROR(ValidateVersionId(version_id));
  COFFER_ASSIGN_OR_RETURN(ManagedPolicy policy, LoadPolicy(arn));
  const PolicyVersion* v = policy.FindVersion(version_id);
  if (v == nullptr) {
    return Status::NotFound("Policy " + arn + " version " + version_id +
                            " does not exist or is not attachable.");
  }
  return PolicyVersionView{*v, v->version_id == policy.default_version_id};
}

Result<Page<ManagedPolicy>> IamService::ListPolicies(const ListPoliciesRequest& request) {
  if (request.scope != "All" && request.scope != "AWS" && request.scope != "Local") {
    return Status::Validation("1 validation error detected: Value '" + request.scope +
                              "' at 'scope' failed to satisfy constraint: Member must satisfy "
                              "enum value set: [All, AWS, Local]");
  }
  if (request.usage_filter.has_value() && *request.usage_filter != "PermissionsPolicy" &&
      *request.usage_filter != "PermissionsBoundary") {
    return Status::Validation("1 validation error detected: Value '" + *request.usage_filter +
                              "' at 'policyUsageFilter' failed to satisfy constraint: Member "
                              "must satisfy enum value set: [PermissionsPolicy, "
                              "PermissionsBoundary]");
  }
  COFFER_RETURN_IF_ERROR(ValidatePathPrefix(request.path_prefix));
  std::vector<std::pair<std::string, ManagedPolicy>> keyed;
  // No AWS managed policies exist here, and none is used as a permissions boundary.
  const bool none = request.scope == "AWS" || (request.usage_filter.has_value() &&
                                               *request.usage_filter == "PermissionsBoundary");
  if (!none) {
    COFFER_ASSIGN_OR_RETURN(std::vector<storage::IamEntityRecord> rows,
                            store_->ListIamEntities(std::string(kPolicyKind)));
    COFFER_ASSIGN_OR_RETURN(std::vector<User> users, AllUsers());
    std::map<std::string, std::int64_t> attachments;
    for (const User& u : users) {
      for (const std::string& arn : u.attached_policy_arns) ++attachments[arn];
    }
    for (const storage::IamEntityRecord& row : rows) {
      COFFER_ASSIGN_OR_RETURN(ManagedPolicy p, DecodePolicy(row.json));
      p.revision = row.revision;
      auto it = attachments.find(p.arn);
      p.attachment_count = it == attachments.end() ? 0 : it->second;
      if (!HasPrefix(p.path, request.path_prefix)) continue;
      if (request.only_attached && p.attachment_count == 0) continue;
      std::string key = UserKey(p.name);  // names are unique ignoring case
      keyed.emplace_back(std::move(key), std::move(p));
    }
  }
  return Paginate(std::move(keyed), request.page);
}

Result<PolicyVersionView> IamService::CreatePolicyVersion(const std::string& arn,
                                                          const std::string& document,
                                                          bool set_as_default) {
  COFFER_RETURN_IF_ERROR(ValidatePolicyArn(arn));
  COFFER_RETURN_IF_ERROR(CheckManagedDocument(document));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(ManagedPolicy policy, LoadPolicy(arn));
  if (static_cast<int>(policy.versions.size()) >= kMaxPolicyVersions) {
    return Status::ResourceExhausted(
        "A managed policy can have up to " + std::to_string(kMaxPolicyVersions) +
        " versions. Before you create a new version, you must delete an existing version.");
  }
  PolicyVersion v{"v" + std::to_string(policy.next_version), document, clock_->NowMillis()};
  ++policy.next_version;
  policy.versions.push_back(v);
  if (set_as_default) policy.default_version_id = v.version_id;
  policy.update_ms = v.create_ms;
  COFFER_RETURN_IF_ERROR(SavePolicy(policy));
  Changed();
  return PolicyVersionView{std::move(v), set_as_default};
}

Result<Page<PolicyVersionView>> IamService::ListPolicyVersions(const std::string& arn,
                                                               const PageRequest& page) {
  COFFER_ASSIGN_OR_RETURN(ManagedPolicy policy, LoadPolicy(arn));
  std::vector<std::pair<std::string, PolicyVersionView>> keyed;
  for (PolicyVersion& v : policy.versions) {
    bool is_default = v.version_id == policy.default_version_id;
    std::string key = VersionSortKey(v.version_id);
    keyed.emplace_back(std::move(key), PolicyVersionView{std::move(v), is_default});
  }
  return Paginate(std::move(keyed), page);
}

Status IamService::SetDefaultPolicyVersion(const std::string& arn, const std::string& version_id) {
  COFFER_RETURN_IF_ERROR(ValidatePolicyArn(arn));
  COFFER_RETURN_IF_ERROR(ValidateVersionId(version_id));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(ManagedPolicy policy, LoadPolicy(arn));
  if (policy.FindVersion(version_id) == nullptr) {
    return Status::NotFound("Policy " + arn + " version " + version_id + " does not exist.");
  }
  if (policy.default_version_id == version_id) return Status::Ok();
  policy.default_version_id = version_id;
  policy.update_ms = clock_->NowMillis();
  COFFER_RETURN_IF_ERROR(SavePolicy(policy));
  Changed();
  return Status::Ok();
}

Status IamService::DeletePolicyVersion(const std::string& arn, const std::string& version_id) {
  COFFER_RETURN_IF_ERROR(ValidatePolicyArn(arn));
  COFFER_RETURN_IF_ERROR(ValidateVersionId(version_id));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(ManagedPolicy policy, LoadPolicy(arn));
  auto it = std::find_if(policy.versions.begin(), policy.versions.end(),
                         [&](const PolicyVersion& v) { return v.version_id == version_id; });
  if (it == policy.versions.end()) {
    return Status::NotFound("Policy " + arn + " version " + version_id + " does not exist.");
  }
  if (policy.default_version_id == version_id) {
    return Status::FailedPrecondition("Cannot delete the default version of a policy.");
  }
  policy.versions.erase(it);
  COFFER_RETURN_IF_ERROR(SavePolicy(policy));
  Changed();
  return Status::Ok();
}

Status IamService::DeletePolicy(const std::string& arn) {
  COFFER_RETURN_IF_ERROR(ValidatePolicyArn(arn));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(ManagedPolicy policy, LoadPolicy(arn));
  if (policy.attachment_count > 0) {
    return Status::FailedPrecondition("Cannot delete a policy attached to entities.");
  }
  if (policy.versions.size() > 1) {
    return Status::FailedPrecondition(
        "This policy has more than one version. Before you delete a policy, you must delete the "
        "policy's versions. The default version is deleted with the policy.");
  }
  COFFER_RETURN_IF_ERROR(StoreConflict(
      store_->DeleteIamEntity(std::string(kPolicyKind), policy.arn, policy.revision)));
  Changed();
  return Status::Ok();
}

// --- attachments ---

Status IamService::AttachUserPolicy(const std::string& user_name, const std::string& policy_arn) {
  COFFER_RETURN_IF_ERROR(ValidateUserName(user_name));
  COFFER_RETURN_IF_ERROR(ValidatePolicyArn(policy_arn));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(user_name));
  COFFER_ASSIGN_OR_RETURN(std::optional<storage::IamEntityRecord> policy_row,
                          store_->GetIamEntity(std::string(kPolicyKind), policy_arn));
  if (!policy_row.has_value()) {
    return Status::NotFound("Policy " + policy_arn + " does not exist or is not attachable.");
  }
  auto& attached = user.attached_policy_arns;
  if (std::find(attached.begin(), attached.end(), policy_arn) != attached.end()) {
    return Status::Ok();  // attaching twice is a no-op, as in AWS
  }
  if (static_cast<int>(attached.size()) >= kMaxAttachedPoliciesPerUser) {
    return Status::ResourceExhausted("Cannot exceed quota for PoliciesPerUser: " +
                                     std::to_string(kMaxAttachedPoliciesPerUser));
  }
  attached.push_back(policy_arn);
  COFFER_RETURN_IF_ERROR(SaveUser(user));
  Changed();
  return Status::Ok();
}

Status IamService::DetachUserPolicy(const std::string& user_name, const std::string& policy_arn) {
  COFFER_RETURN_IF_ERROR(ValidateUserName(user_name));
  COFFER_RETURN_IF_ERROR(ValidatePolicyArn(policy_arn));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(user_name));
  auto& attached = user.attached_policy_arns;
  auto it = std::find(attached.begin(), attached.end(), policy_arn);
  if (it == attached.end()) return NoSuchPolicy(policy_arn);
  attached.erase(it);
  COFFER_RETURN_IF_ERROR(SaveUser(user));
  Changed();
  return Status::Ok();
}

Result<Page<AttachedPolicy>> IamService::ListAttachedUserPolicies(const std::string& user_name,
                                                                  const std::string& path_prefix,
                                                                  const PageRequest& page) {
  COFFER_RETURN_IF_ERROR(ValidateUserName(user_name));
  COFFER_RETURN_IF_ERROR(ValidatePathPrefix(path_prefix));
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(user_name));
  std::vector<std::pair<std::string, AttachedPolicy>> keyed;
  for (const std::string& arn : user.attached_policy_arns) {
    COFFER_ASSIGN_OR_RETURN(std::optional<storage::IamEntityRecord> row,
                            store_->GetIamEntity(std::string(kPolicyKind), arn));
    if (!row.has_value()) continue;
    COFFER_ASSIGN_OR_RETURN(ManagedPolicy p, DecodePolicy(row->json));
    if (!HasPrefix(p.path, path_prefix)) continue;
    keyed.emplace_back(arn, AttachedPolicy{p.name, arn});
  }
  return Paginate(std::move(keyed), page);
}

// --- inline user policies ---

Status IamService::PutUserPolicy(const std::string& user_name, const std::string& policy_name,
                                 const std::string& document) {
  COFFER_RETURN_IF_ERROR(ValidateName(user_name));
  COFFER_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  COFFER_RETURN_IF_ERROR(CheckDocument(document));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(user_name));
  auto it = std::find_if(user.inline_policies.begin(), user.inline_policies.end(),
                         [&](const InlinePolicy& p) { return SameName(p.name, policy_name); });
  if (it != user.inline_policies.end()) {
    *it = InlinePolicy{policy_name, document};
  } else {
    user.inline_policies.push_back(InlinePolicy{policy_name, document});
  }
  std::size_t total = 0;
  for (const InlinePolicy& p : user.inline_policies) total += PolicyChars(p.document);
  if (total > kMaxInlinePolicyCharsPerUser) {
    return Status::ResourceExhausted("Maximum policy size of " +
                                     std::to_string(kMaxInlinePolicyCharsPerUser) +
                                     " bytes exceeded for user " + user.name);
  }
  COFFER_RETURN_IF_ERROR(SaveUser(user));
  Changed();
  return Status::Ok();
}

Result<InlinePolicy> IamService::GetUserPolicy(const std::string& user_name,
                                               const std::string& policy_name) {
  COFFER_RETURN_IF_ERROR(ValidateName(user_name));
  COFFER_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(user_name));
  for (InlinePolicy& p : user.inline_policies) {
    if (SameName(p.name, policy_name)) return std::move(p);
  }
  return Status::NotFound("The user policy with name " + policy_name + " cannot be found.");
}

Result<Page<std::string>> IamService::ListUserPolicies(const std::string& user_name,
                                                       const PageRequest& page) {
  COFFER_RETURN_IF_ERROR(ValidateName(user_name));
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(user_name));
  std::vector<std::pair<std::string, std::string>> keyed;
  for (const InlinePolicy& p : user.inline_policies) keyed.emplace_back(p.name, p.name);
  return Paginate(std::move(keyed), page);
}

Status IamService::DeleteUserPolicy(const std::string& user_name, const std::string& policy_name) {
  COFFER_RETURN_IF_ERROR(ValidateName(user_name));
  COFFER_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  std::lock_guard lock(write_mu_);
  COFFER_ASSIGN_OR_RETURN(User user, LoadUser(user_name));
  auto it = std::find_if(user.inline_policies.begin(), user.inline_policies.end(),
                         [&](const InlinePolicy& p) { return SameName(p.name, policy_name); });
  if (it == user.inline_policies.end()) {
    return Status::NotFound("The user policy with name " + policy_name + " cannot be found.");
  }
  user.inline_policies.erase(it);
  COFFER_RETURN_IF_ERROR(SaveUser(user));
  Changed();
  return Status::Ok();
}

}  // namespace coffer::iam
