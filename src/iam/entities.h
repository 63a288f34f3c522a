#pragma once

// The IAM entities as the service keeps them, and their JSON form in the store's iam_entities
// table (storage/store.h): kind "user" keyed by the lower-cased user name, kind "policy" keyed by
// the policy ARN. Access keys live in the store's access_keys table (their secret sealed with
// AccessKeyAad), owned by the user through principal_arn.
//
// Roles will be kind "role", keyed by the lower-cased role name, principal
// arn:aws:iam::<account>:role<path><name>; the fields below that are not user-specific (path,
// attached policies, inline policies, tags) are shared by design.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace coffer::iam {

inline constexpr std::string_view kUserKind = "user";
inline constexpr std::string_view kPolicyKind = "policy";

struct Tag {
  std::string key;
  std::string value;
};

struct InlinePolicy {
  std::string name;
  std::string document;  // as the caller sent it (validated)
};

struct User {
  std::string name;  // as created; lookups ignore case
  std::string id;    // AIDA...
  std::string path = "/";
  std::int64_t create_ms = 0;
  std::vector<Tag> tags;
  std::vector<std::string> attached_policy_arns;  // in attach order
  std::vector<InlinePolicy> inline_policies;      // in creation order
  std::int64_t revision = 0;                      // the store row's; not serialised
};

struct PolicyVersion {
  std::string version_id;  // "v1", "v2", ...
  std::string document;
  std::int64_t create_ms = 0;
};

struct ManagedPolicy {
  std::string name;
  std::string id;  // ANPA...
  std::string path = "/";
  std::string arn;
  std::string description;
  std::int64_t create_ms = 0;
  std::int64_t update_ms = 0;
  std::string default_version_id;
  std::int64_t next_version = 1;        // number of the next CreatePolicyVersion
  std::vector<PolicyVersion> versions;  // oldest first
  std::vector<Tag> tags;
  std::int64_t revision = 0;          // the store row's; not serialised
  std::int64_t attachment_count = 0;  // derived on read; not serialised

  const PolicyVersion* FindVersion(std::string_view version_id) const;
  const PolicyVersion* DefaultVersion() const { return FindVersion(default_version_id); }
};

// The store key of a user: its name, lower-cased (IAM names are unique regardless of case).
std::string UserKey(std::string_view user_name);

// arn:aws:iam::<account>:user<path><name>
std::string UserArn(std::string_view account_id, std::string_view path, std::string_view name);
// arn:aws:iam::<account>:policy<path><name>
std::string PolicyArn(std::string_view account_id, std::string_view path, std::string_view name);
// arn:aws:iam::<account>:root
std::string RootArn(std::string_view account_id);

// What a principal ARN names. kind "root" (name empty), "user" or "role"; nullopt if `arn` is not
// an IAM principal ARN of `account_id`.
struct PrincipalName {
  std::string kind;
  std::string path;  // "/" or "/a/b/"
  std::string name;
};
std::optional<PrincipalName> ParsePrincipalArn(std::string_view arn, std::string_view account_id);

std::string EncodeUser(const User& user);
Result<User> DecodeUser(std::string_view json);
std::string EncodePolicy(const ManagedPolicy& policy);
Result<ManagedPolicy> DecodePolicy(std::string_view json);

}  // namespace coffer::iam
