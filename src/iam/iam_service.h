#pragma once

// IamService: users, access keys, managed policies, attachments and inline user policies, with
// AWS IAM's rules and limits. Protocol-free: QueryApi (iam/query_api.h) parses requests, checks
// authorization and renders XML around it.
//
// Errors are Status codes that QueryApi maps to IAM's (iam/query_protocol.h ErrorFor):
//   kNotFound NoSuchEntity, kAlreadyExists EntityAlreadyExists, kFailedPrecondition
//   DeleteConflict, kResourceExhausted LimitExceeded, kMalformedPolicy MalformedPolicyDocument,
//   kValidation ValidationError, kInvalidArgument InvalidInput, kAborted ConcurrentModification.
// Messages follow AWS's wording and never carry a secret access key.
//
// Concurrency: one mutex serialises this process's IAM writes (each is a read-modify-write of one
// or two store rows); each row write is also a compare-and-swap on the row's revision, so a
// writer in another process makes ours fail with kAborted rather than lose an update. Reads take
// no lock. After every successful write the StorePolicySource (if given) is invalidated, and
// after an access key is deactivated or deleted `on_access_key_changed(id)` runs, so the SigV4
// credential cache can drop it.
//
// Limits (AWS's defaults): 2 access keys per user, 10 managed policies attached per user, 5
// versions per managed policy, 6,144 characters per managed policy document and 2,048 for a
// user's inline policies together (whitespace not counted), 50 tags per user or policy.

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/envelope.h"
#include "iam/entities.h"
#include "storage/store.h"

namespace coffer::iam {

class StorePolicySource;

// "access-key\n" + id: the associated data a secret access key is sealed with (by IamService,
// by the root-key bootstrap in api/credentials.cc, and by `coffer keys rotate` when it rewraps).
std::string AccessKeyAad(std::string_view access_key_id);

// A fresh access key id as AWS issues them: "AKIA" + 16 characters of A-Z and 0-9 (CSPRNG).
std::string NewAccessKeyId();
// A fresh 40-character secret access key of the base64 alphabet (CSPRNG).
std::string NewSecretAccessKey();

inline constexpr int kMaxAccessKeysPerUser = 2;
inline constexpr int kMaxAttachedPoliciesPerUser = 10;
inline constexpr int kMaxPolicyVersions = 5;
inline constexpr std::size_t kMaxManagedPolicyChars = 6144;
inline constexpr std::size_t kMaxInlinePolicyCharsPerUser = 2048;
inline constexpr std::size_t kMaxTags = 50;

struct PageRequest {
  std::optional<std::string> marker;  // from the previous page's `marker`
  int max_items = 100;                // 1..1000 (QueryApi validates)
};

template <typename T>
struct Page {
  std::vector<T> items;
  bool truncated = false;
  std::string marker;  // set when truncated
};

struct AccessKeyInfo {
  std::string user_name;
  std::string access_key_id;
  std::string status;  // Active | Inactive
  std::int64_t create_ms = 0;
};

struct NewAccessKey {
  AccessKeyInfo info;
  std::string secret_access_key;  // returned once; never logged
};

struct PolicyVersionView {
  PolicyVersion version;
  bool is_default = false;
};

struct AttachedPolicy {
  std::string name;
  std::string arn;
};

struct ListPoliciesRequest {
  std::string scope = "All";  // All | AWS | Local
  bool only_attached = false;
  std::string path_prefix = "/";
  std::optional<std::string> usage_filter;  // PermissionsPolicy | PermissionsBoundary
  PageRequest page;
};

struct IamServiceOptions {
  std::string account_id = "000000000000";
  // Invalidated after every successful write. May be null.
  StorePolicySource* policy_source = nullptr;
  // Called with the id of an access key that was deactivated or deleted. May be empty.
  std::function<void(const std::string&)> on_access_key_changed;
};

class IamService {
 public:
  IamService(storage::SecretStore* store, const crypto::Envelope* envelope, const Clock* clock,
             IamServiceOptions options);

  const std::string& account_id() const { return options_.account_id; }

  // --- users ---
  Result<User> CreateUser(const std::string& name, const std::string& path,
                          const std::vector<Tag>& tags);
  Result<User> GetUser(const std::string& name);
  Result<Page<User>> ListUsers(const std::string& path_prefix, const PageRequest& page);
  Status DeleteUser(const std::string& name);
  Status TagUser(const std::string& name, const std::vector<Tag>& tags);
  Status UntagUser(const std::string& name, const std::vector<std::string>& keys);
  Result<Page<Tag>> ListUserTags(const std::string& name, const PageRequest& page);
  // The user's ARN, for authorization; a user that does not exist gets the ARN it would have
  // with path "/".
  Result<std::string> UserArnFor(const std::string& name);

  // --- access keys (the user must exist) ---
  Result<NewAccessKey> CreateAccessKey(const std::string& user_name);
  Result<Page<AccessKeyInfo>> ListAccessKeys(const std::string& user_name, const PageRequest& page);
  // The keys of the account's root user (ListAccessKeys called by root without a UserName).
  Result<Page<AccessKeyInfo>> ListRootAccessKeys(const PageRequest& page);
  Status UpdateAccessKey(const std::string& user_name, const std::string& access_key_id,
                         const std::string& status);
  Status DeleteAccessKey(const std::string& user_name, const std::string& access_key_id);

  // --- managed policies ---
  Result<ManagedPolicy> CreatePolicy(const std::string& name, const std::string& path,
                                     const std::string& document, const std::string& description,
                                     const std::vector<Tag>& tags);
  Result<ManagedPolicy> GetPolicy(const std::string& arn);
  Result<PolicyVersionView> GetPolicyVersion(const std::string& arn, const std::string& version_id);
  Result<Page<ManagedPolicy>> ListPolicies(const ListPoliciesRequest& request);
  Result<PolicyVersionView> CreatePolicyVersion(const std::string& arn, const std::string& document,
                                                bool set_as_default);
  Result<Page<PolicyVersionView>> ListPolicyVersions(const std::string& arn,
                                                     const PageRequest& page);
  Status SetDefaultPolicyVersion(const std::string& arn, const std::string& version_id);
  Status DeletePolicyVersion(const std::string& arn, const std::string& version_id);
  Status DeletePolicy(const std::string& arn);

  // --- attachments ---
  Status AttachUserPolicy(const std::string& user_name, const std::string& policy_arn);
  Status DetachUserPolicy(const std::string& user_name, const std::string& policy_arn);
  Result<Page<AttachedPolicy>> ListAttachedUserPolicies(const std::string& user_name,
                                                        const std::string& path_prefix,
                                                        const PageRequest& page);

  // --- inline user policies ---
  Status PutUserPolicy(const std::string& user_name, const std::string& policy_name,
                       const std::string& document);
  Result<InlinePolicy> GetUserPolicy(const std::string& user_name, const std::string& policy_name);
  Result<Page<std::string>> ListUserPolicies(const std::string& user_name, const PageRequest& page);
  Status DeleteUserPolicy(const std::string& user_name, const std::string& policy_name);

 private:
  // A name that may name an existing user: existingUserNameType (1..128).
  static Status ValidateName(const std::string& name);
  Result<User> LoadUser(const std::string& name);  // kNotFound with AWS's message
  Result<std::optional<User>> FindUser(const std::string& name);
  Result<ManagedPolicy> LoadPolicy(const std::string& arn);  // with attachment_count
  Result<std::vector<User>> AllUsers();
  Result<std::vector<storage::AccessKeyRecord>> KeysOf(const User& user);
  Status SaveUser(const User& user);               // CAS on user.revision
  Status SavePolicy(const ManagedPolicy& policy);  // CAS on policy.revision
  // After a successful write.
  void Changed();
  void KeyChanged(const std::string& access_key_id);

  storage::SecretStore* store_;
  const crypto::Envelope* envelope_;
  const Clock* clock_;
  const IamServiceOptions options_;
  std::mutex write_mu_;
};

}  // namespace coffer::iam
