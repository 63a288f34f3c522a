#include "iam/entities.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace coffer::iam {
namespace {

using nlohmann::json;

json TagsToJson(const std::vector<Tag>& tags) {
  json out = json::array();
  for (const Tag& t : tags) out.push_back({{"Key", t.key}, {"Value", t.value}});
  return out;
}

std::vector<Tag> TagsFromJson(const json& j) {
  std::vector<Tag> tags;
  if (!j.is_array()) return tags;
  for (const json& t : j)
    tags.push_back(Tag{t.at("Key").get<std::string>(), t.at("Value").get<std::string>()});
  return tags;
}

}  // namespace

const PolicyVersion* ManagedPolicy::FindVersion(std::string_view version_id) const {
  for (const PolicyVersion& v : versions) {
    if (v.version_id == version_id) return &v;
  }
  return nullptr;
}

std::string UserKey(std::string_view user_name) {
  std::string key(user_name);
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

std::string UserArn(std::string_view account_id, std::string_view path, std::string_view name) {
  std::string arn = "arn:aws:iam::";
  arn += account_id;
  arn += ":user";
  arn += path;
  arn += name;
  return arn;
}

std::string PolicyArn(std::string_view account_id, std::string_view path, std::string_view name) {
  std::string arn = "arn:aws:iam::";
  arn += account_id;
  arn += ":policy";
  arn += path;
  arn += name;
  return arn;
}

std::string RootArn(std::string_view account_id) {
  return "arn:aws:iam::" + std::string(account_id) + ":root";
}

std::optional<PrincipalName> ParsePrincipalArn(std::string_view arn, std::string_view account_id) {
  const std::string prefix = "arn:aws:iam::" + std::string(account_id) + ":";
  if (arn.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view resource = arn.substr(prefix.size());
  if (resource == "root") return PrincipalName{"root", "", ""};
  for (std::string_view kind : {"user", "role"}) {
    if (resource.substr(0, kind.size()) != kind) continue;
    std::string_view rest = resource.substr(kind.size());  // "<path><name>"
    if (rest.empty() || rest[0] != '/') return std::nullopt;
    std::size_t last = rest.rfind('/');
    std::string_view name = rest.substr(last + 1);
    if (name.empty()) return std::nullopt;
    return PrincipalName{std::string(kind), std::string(rest.substr(0, last + 1)),
                         std::string(name)};
  }
  return std::nullopt;
}

std::string EncodeUser(const User& user) {
  json inline_policies = json::array();
  for (const InlinePolicy& p : user.inline_policies) {
    inline_policies.push_back({{"PolicyName", p.name}, {"PolicyDocument", p.document}});
  }
  json j = {{"UserName", user.name},
            {"UserId", user.id},
            {"Path", user.path},
            {"CreateDate", user.create_ms},
            {"Tags", TagsToJson(user.tags)},
            {"AttachedPolicies", user.attached_policy_arns},
            {"InlinePolicies", std::move(inline_policies)}};
  return j.dump();
}

Result<User> DecodeUser(std::string_view text) {
  try {
    json j = json::parse(text);
    User u;
    u.name = j.at("UserName").get<std::string>();
    u.id = j.at("UserId").get<std::string>();
    u.path = j.at("Path").get<std::string>();
    u.create_ms = j.at("CreateDate").get<std::int64_t>();
    u.tags = TagsFromJson(j.value("Tags", json::array()));
    u.attached_policy_arns =
        j.value("AttachedPolicies", json::array()).get<std::vector<std::string>>();
    for (const json& p : j.value("InlinePolicies", json::array())) {
      u.inline_policies.push_back(InlinePolicy{p.at("PolicyName").get<std::string>(),
                                               p.at("PolicyDocument").get<std::string>()});
    }
    return u;
  } catch (const json::exception& e) {
    return Status::DataLoss(std::string("stored IAM user is not valid: ") + e.what());
  }
}

std::string EncodePolicy(const ManagedPolicy& policy) {
  json versions = json::array();
  for (const PolicyVersion& v : policy.versions) {
    versions.push_back(
        {{"VersionId", v.version_id}, {"Document", v.document}, {"CreateDate", v.create_ms}});
  }
  json j = {{"PolicyName", policy.name},
            {"PolicyId", policy.id},
            {"Path", policy.path},
            {"Arn", policy.arn},
            {"Description", policy.description},
            {"CreateDate", policy.create_ms},
            {"UpdateDate", policy.update_ms},
            {"DefaultVersionId", policy.default_version_id},
            {"NextVersion", policy.next_version},
            {"Versions", std::move(versions)},
            {"Tags", TagsToJson(policy.tags)}};
  return j.dump();
}

Result<ManagedPolicy> DecodePolicy(std::string_view text) {
  try {
    json j = json::parse(text);
    ManagedPolicy p;
    p.name = j.at("PolicyName").get<std::string>();
    p.id = j.at("PolicyId").get<std::string>();
    p.path = j.at("Path").get<std::string>();
    p.arn = j.at("Arn").get<std::string>();
    p.description = j.value("Description", "");
    p.create_ms = j.at("CreateDate").get<std::int64_t>();
    p.update_ms = j.at("UpdateDate").get<std::int64_t>();
    p.default_version_id = j.at("DefaultVersionId").get<std::string>();
    p.next_version = j.at("NextVersion").get<std::int64_t>();
    for (const json& v : j.at("Versions")) {
      p.versions.push_back(PolicyVersion{v.at("VersionId").get<std::string>(),
                                         v.at("Document").get<std::string>(),
                                         v.at("CreateDate").get<std::int64_t>()});
    }
    p.tags = TagsFromJson(j.value("Tags", json::array()));
    return p;
  } catch (const json::exception& e) {
    return Status::DataLoss(std::string("stored IAM policy is not valid: ") + e.what());
  }
}

}  // namespace coffer::iam
