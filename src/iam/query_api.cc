#include "iam/query_api.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "core/encoding.h"
#include "iam/validate.h"

namespace coffer::iam {

struct QueryApi::Request {
  const QueryCall& call;
  const FormParams& params;
  IamService& service;
  // The user the action is about (resolved from UserName or the caller); empty when the root
  // user acts on its own keys.
  std::string user_name;
};

namespace {

using Request = QueryApi::Request;
using Run = Status (*)(Request&, XmlWriter&);

// What an action's authorization resource is.
enum class Target {
  kAll,           // "*"
  kUser,          // UserName (required)
  kUserOrCaller,  // UserName, else the calling user
  kPolicy,        // PolicyArn (required)
  kNewPolicy,     // PolicyName + Path
  kNewUser,       // UserName + Path
};

struct ActionSpec {
  std::string_view name;
  bool read_only;
  bool has_result;  // whether the response has an <XResult> element
  Target target;
  Run run;
};

std::string Iso(std::int64_t ms) { return FormatIso8601(ms); }

// --- parameter helpers ---

Result<PageRequest> PageFrom(const FormParams& p) {
  PageRequest page;
  if (std::optional<std::string> marker = p.Get("Marker")) {
    if (marker->empty() || marker->size() > 320) {
      return Status::Validation(
          "1 validation error detected: Value at 'marker' failed to "
          "satisfy constraint: Member must have length between 1 and 320");
    }
    page.marker = std::move(*marker);
  }
  COFFER_ASSIGN_OR_RETURN(std::optional<std::int64_t> max, p.Int("MaxItems", "maxItems", 1, 1000));
  if (max.has_value()) page.max_items = static_cast<int>(*max);
  return page;
}

Result<std::vector<Tag>> TagsFrom(const FormParams& p) {
  COFFER_ASSIGN_OR_RETURN(auto items, p.StructList("Tags", {"Key", "Value"}));
  std::vector<Tag> tags;
  for (auto& item : items) {
    if (item.count("Key") == 0) {
      return Status::Validation(
          "1 validation error detected: Value null at 'tags.member.key' "
          "failed to satisfy constraint: Member must not be null");
    }
    if (item.count("Value") == 0) {
      return Status::Validation(
          "1 validation error detected: Value null at 'tags.member.value' "
          "failed to satisfy constraint: Member must not be null");
    }
    tags.push_back(Tag{item["Key"], item["Value"]});
  }
  return tags;
}

template <typename T>
void PageTail(XmlWriter& xml, const Page<T>& page) {
  xml.Bool("IsTruncated", page.truncated);
  if (page.truncated) xml.Element("Marker", page.marker);
}

void WriteTags(XmlWriter& xml, const std::vector<Tag>& tags) {
  xml.Open("Tags");
  for (const Tag& t : tags) {
    xml.Open("member").Element("Key", t.key).Element("Value", t.value).Close();
  }
  xml.Close();
}

void WriteUser(XmlWriter& xml, const IamService& service, const User& u, bool with_tags) {
  xml.Element("Path", u.path)
      .Element("UserName", u.name)
      .Element("UserId", u.id)
      .Element("Arn", UserArn(service.account_id(), u.path, u.name))
      .Element("CreateDate", Iso(u.create_ms));
  if (with_tags && !u.tags.empty()) WriteTags(xml, u.tags);
}

void WritePolicy(XmlWriter& xml, const ManagedPolicy& p) {
  xml.Element("PolicyName", p.name)
      .Element("PolicyId", p.id)
      .Element("Arn", p.arn)
      .Element("Path", p.path)
      .Element("DefaultVersionId", p.default_version_id)
      .Element("AttachmentCount", p.attachment_count)
      .Element("PermissionsBoundaryUsageCount", 0)
      .Bool("IsAttachable", true);
  if (!p.description.empty()) xml.Element("Description", p.description);
  xml.Element("CreateDate", Iso(p.create_ms)).Element("UpdateDate", Iso(p.update_ms));
  if (!p.tags.empty()) WriteTags(xml, p.tags);
}

void WriteVersion(XmlWriter& xml, const PolicyVersionView& v, bool with_document) {
  if (with_document) xml.Element("Document", UrlEncodePolicy(v.version.document));
  xml.Element("VersionId", v.version.version_id)
      .Bool("IsDefaultVersion", v.is_default)
      .Element("CreateDate", Iso(v.version.create_ms));
}

void WriteKeyMetadata(XmlWriter& xml, const AccessKeyInfo& k) {
  if (!k.user_name.empty()) xml.Element("UserName", k.user_name);
  xml.Element("AccessKeyId", k.access_key_id)
      .Element("Status", k.status)
      .Element("CreateDate", Iso(k.create_ms));
}

// --- actions ---

Status RunCreateUser(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(std::vector<Tag> tags, TagsFrom(r.params));
  COFFER_ASSIGN_OR_RETURN(
      User u, r.service.CreateUser(r.user_name, r.params.Get("Path").value_or("/"), tags));
  xml.Open("User");
  WriteUser(xml, r.service, u, /*with_tags=*/true);
  xml.Close();
  return Status::Ok();
}

Status RunGetUser(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(User u, r.service.GetUser(r.user_name));
  xml.Open("User");
  WriteUser(xml, r.service, u, /*with_tags=*/true);
  xml.Close();
  return Status::Ok();
}

Status RunListUsers(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(PageRequest page, PageFrom(r.params));
  COFFER_ASSIGN_OR_RETURN(Page<User> users,
                          r.service.ListUsers(r.params.Get("PathPrefix").value_or("/"), page));
  xml.Open("Users");
  for (const User& u : users.items) {
    xml.Open("member");
    WriteUser(xml, r.service, u, /*with_tags=*/false);
    xml.Close();
  }
  xml.Close();
  PageTail(xml, users);
  return Status::Ok();
}

Status RunDeleteUser(Request& r, XmlWriter&) { return r.service.DeleteUser(r.user_name); }

Status RunTagUser(Request& r, XmlWriter&) {
  if (!r.params.Has("Tags.member.1.Key") && !r.params.Has("Tags.member.1.Value")) {
    return Status::Validation(
        "1 validation error detected: Value null at 'tags' failed to "
        "satisfy constraint: Member must not be null");
  }
  COFFER_ASSIGN_OR_RETURN(std::vector<Tag> tags, TagsFrom(r.params));
  return r.service.TagUser(r.user_name, tags);
}

Status RunUntagUser(Request& r, XmlWriter&) {
  COFFER_ASSIGN_OR_RETURN(std::vector<std::string> keys, r.params.StringList("TagKeys"));
  if (keys.empty()) {
    return Status::Validation(
        "1 validation error detected: Value null at 'tagKeys' failed to "
        "satisfy constraint: Member must not be null");
  }
  return r.service.UntagUser(r.user_name, keys);
}

Status RunListUserTags(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(PageRequest page, PageFrom(r.params));
  COFFER_ASSIGN_OR_RETURN(Page<Tag> tags, r.service.ListUserTags(r.user_name, page));
  WriteTags(xml, tags.items);
  PageTail(xml, tags);
  return Status::Ok();
}

Status RunCreateAccessKey(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(NewAccessKey key, r.service.CreateAccessKey(r.user_name));
  xml.Open("AccessKey")
      .Element("UserName", key.info.user_name)
      .Element("AccessKeyId", key.info.access_key_id)
      .Element("Status", key.info.status)
      .Element("SecretAccessKey", key.secret_access_key)
      .Element("CreateDate", Iso(key.info.create_ms))
      .Close();
  return Status::Ok();
}

Status RunListAccessKeys(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(PageRequest page, PageFrom(r.params));
  Result<Page<AccessKeyInfo>> keys = r.user_name.empty()
                                         ? r.service.ListRootAccessKeys(page)
                                         : r.service.ListAccessKeys(r.user_name, page);
  COFFER_RETURN_IF_ERROR(keys.status());
  xml.Open("AccessKeyMetadata");
  for (AccessKeyInfo k : keys->items) {
    if (r.user_name.empty()) k.user_name.clear();  // AWS leaves it out for the root user
    xml.Open("member");
    WriteKeyMetadata(xml, k);
    xml.Close();
  }
  xml.Close();
  PageTail(xml, *keys);
  return Status::Ok();
}

Status RunUpdateAccessKey(Request& r, XmlWriter&) {
  COFFER_ASSIGN_OR_RETURN(std::string id, r.params.Required("AccessKeyId", "accessKeyId"));
  COFFER_ASSIGN_OR_RETURN(std::string status, r.params.Required("Status", "status"));
  return r.service.UpdateAccessKey(r.user_name, id, status);
}

Status RunDeleteAccessKey(Request& r, XmlWriter&) {
  COFFER_ASSIGN_OR_RETURN(std::string id, r.params.Required("AccessKeyId", "accessKeyId"));
  return r.service.DeleteAccessKey(r.user_name, id);
}

Status RunCreatePolicy(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(std::string name, r.params.Required("PolicyName", "policyName"));
  COFFER_ASSIGN_OR_RETURN(std::string document,
                          r.params.Required("PolicyDocument", "policyDocument"));
  COFFER_ASSIGN_OR_RETURN(std::vector<Tag> tags, TagsFrom(r.params));
  COFFER_ASSIGN_OR_RETURN(ManagedPolicy p,
                          r.service.CreatePolicy(name, r.params.Get("Path").value_or("/"), document,
                                                 r.params.Get("Description").value_or(""), tags));
  xml.Open("Policy");
  WritePolicy(xml, p);
  xml.Close();
  return Status::Ok();
}

Status RunGetPolicy(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(ManagedPolicy p, r.service.GetPolicy(*r.params.Get("PolicyArn")));
  xml.Open("Policy");
  WritePolicy(xml, p);
  xml.Close();
  return Status::Ok();
}

Status RunGetPolicyVersion(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(std::string version, r.params.Required("VersionId", "versionId"));
  COFFER_ASSIGN_OR_RETURN(PolicyVersionView v,
                          r.service.GetPolicyVersion(*r.params.Get("PolicyArn"), version));
  xml.Open("PolicyVersion");
  WriteVersion(xml, v, /*with_document=*/true);
  xml.Close();
  return Status::Ok();
}

Status RunListPolicies(Request& r, XmlWriter& xml) {
  ListPoliciesRequest req;
  req.scope = r.params.Get("Scope").value_or("All");
  COFFER_ASSIGN_OR_RETURN(req.only_attached, r.params.Bool("OnlyAttached", false));
  req.path_prefix = r.params.Get("PathPrefix").value_or("/");
  req.usage_filter = r.params.Get("PolicyUsageFilter");
  COFFER_ASSIGN_OR_RETURN(req.page, PageFrom(r.params));
  COFFER_ASSIGN_OR_RETURN(Page<ManagedPolicy> policies, r.service.ListPolicies(req));
  xml.Open("Policies");
  for (const ManagedPolicy& p : policies.items) {
    xml.Open("member");
    WritePolicy(xml, p);
    xml.Close();
  }
  xml.Close();
  PageTail(xml, policies);
  return Status::Ok();
}

Status RunCreatePolicyVersion(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(std::string document,
                          r.params.Required("PolicyDocument", "policyDocument"));
  COFFER_ASSIGN_OR_RETURN(bool set_default, r.params.Bool("SetAsDefault", false));
  COFFER_ASSIGN_OR_RETURN(
      PolicyVersionView v,
      r.service.CreatePolicyVersion(*r.params.Get("PolicyArn"), document, set_default));
  xml.Open("PolicyVersion");
  WriteVersion(xml, v, /*with_document=*/false);
  xml.Close();
  return Status::Ok();
}

Status RunListPolicyVersions(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(PageRequest page, PageFrom(r.params));
  COFFER_ASSIGN_OR_RETURN(Page<PolicyVersionView> versions,
                          r.service.ListPolicyVersions(*r.params.Get("PolicyArn"), page));
  xml.Open("Versions");
  for (const PolicyVersionView& v : versions.items) {
    xml.Open("member");
    WriteVersion(xml, v, /*with_document=*/false);
    xml.Close();
  }
  xml.Close();
  PageTail(xml, versions);
  return Status::Ok();
}

Status RunSetDefaultPolicyVersion(Request& r, XmlWriter&) {
  COFFER_ASSIGN_OR_RETURN(std::string version, r.params.Required("VersionId", "versionId"));
  return r.service.SetDefaultPolicyVersion(*r.params.Get("PolicyArn"), version);
}

Status RunDeletePolicyVersion(Request& r, XmlWriter&) {
  COFFER_ASSIGN_OR_RETURN(std::string version, r.params.Required("VersionId", "versionId"));
  return r.service.DeletePolicyVersion(*r.params.Get("PolicyArn"), version);
}

Status RunDeletePolicy(Request& r, XmlWriter&) {
  return r.service.DeletePolicy(*r.params.Get("PolicyArn"));
}

Status RunAttachUserPolicy(Request& r, XmlWriter&) {
  return r.service.AttachUserPolicy(r.user_name, *r.params.Get("PolicyArn"));
}

Status RunDetachUserPolicy(Request& r, XmlWriter&) {
  return r.service.DetachUserPolicy(r.user_name, *r.params.Get("PolicyArn"));
}

Status RunListAttachedUserPolicies(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(PageRequest page, PageFrom(r.params));
  COFFER_ASSIGN_OR_RETURN(Page<AttachedPolicy> attached,
                          r.service.ListAttachedUserPolicies(
                              r.user_name, r.params.Get("PathPrefix").value_or("/"), page));
  xml.Open("AttachedPolicies");
  for (const AttachedPolicy& a : attached.items) {
    xml.Open("member").Element("PolicyName", a.name).Element("PolicyArn", a.arn).Close();
  }
  xml.Close();
  PageTail(xml, attached);
  return Status::Ok();
}

Status RunPutUserPolicy(Request& r, XmlWriter&) {
  COFFER_ASSIGN_OR_RETURN(std::string name, r.params.Required("PolicyName", "policyName"));
  COFFER_ASSIGN_OR_RETURN(std::string document,
                          r.params.Required("PolicyDocument", "policyDocument"));
  return r.service.PutUserPolicy(r.user_name, name, document);
}

Status RunGetUserPolicy(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(std::string name, r.params.Required("PolicyName", "policyName"));
  COFFER_ASSIGN_OR_RETURN(User user, r.service.GetUser(r.user_name));
  COFFER_ASSIGN_OR_RETURN(InlinePolicy p, r.service.GetUserPolicy(r.user_name, name));
  xml.Element("UserName", user.name)
      .Element("PolicyName", p.name)
      .Element("PolicyDocument", UrlEncodePolicy(p.document));
  return Status::Ok();
}

Status RunListUserPolicies(Request& r, XmlWriter& xml) {
  COFFER_ASSIGN_OR_RETURN(PageRequest page, PageFrom(r.params));
  COFFER_ASSIGN_OR_RETURN(Page<std::string> names, r.service.ListUserPolicies(r.user_name, page));
  xml.Open("PolicyNames");
  for (const std::string& n : names.items) xml.Element("member", n);
  xml.Close();
  PageTail(xml, names);
  return Status::Ok();
}

Status RunDeleteUserPolicy(Request& r, XmlWriter&) {
  COFFER_ASSIGN_OR_RETURN(std::string name, r.params.Required("PolicyName", "policyName"));
  return r.service.DeleteUserPolicy(r.user_name, name);
}

constexpr ActionSpec kActions[] = {
    {"CreateUser", false, true, Target::kNewUser, &RunCreateUser},
    {"GetUser", true, true, Target::kUserOrCaller, &RunGetUser},
    {"ListUsers", true, true, Target::kAll, &RunListUsers},
    {"DeleteUser", false, false, Target::kUser, &RunDeleteUser},
    {"TagUser", false, false, Target::kUser, &RunTagUser},
    {"UntagUser", false, false, Target::kUser, &RunUntagUser},
    {"ListUserTags", true, true, Target::kUser, &RunListUserTags},
    {"CreateAccessKey", false, true, Target::kUserOrCaller, &RunCreateAccessKey},
    {"ListAccessKeys", true, true, Target::kUserOrCaller, &RunListAccessKeys},
    {"UpdateAccessKey", false, false, Target::kUserOrCaller, &RunUpdateAccessKey},
    {"DeleteAccessKey", false, false, Target::kUserOrCaller, &RunDeleteAccessKey},
    {"CreatePolicy", false, true, Target::kNewPolicy, &RunCreatePolicy},
    {"GetPolicy", true, true, Target::kPolicy, &RunGetPolicy},
    {"GetPolicyVersion", true, true, Target::kPolicy, &RunGetPolicyVersion},
    {"ListPolicies", true, true, Target::kAll, &RunListPolicies},
    {"CreatePolicyVersion", false, true, Target::kPolicy, &RunCreatePolicyVersion},
    {"ListPolicyVersions", true, true, Target::kPolicy, &RunListPolicyVersions},
    {"SetDefaultPolicyVersion", false, false, Target::kPolicy, &RunSetDefaultPolicyVersion},
    {"DeletePolicyVersion", false, false, Target::kPolicy, &RunDeletePolicyVersion},
    {"DeletePolicy", false, false, Target::kPolicy, &RunDeletePolicy},
    {"AttachUserPolicy", false, false, Target::kUser, &RunAttachUserPolicy},
    {"DetachUserPolicy", false, false, Target::kUser, &RunDetachUserPolicy},
    {"ListAttachedUserPolicies", true, true, Target::kUser, &RunListAttachedUserPolicies},
    {"PutUserPolicy", false, false, Target::kUser, &RunPutUserPolicy},
    {"GetUserPolicy", true, true, Target::kUser, &RunGetUserPolicy},
    {"ListUserPolicies", true, true, Target::kUser, &RunListUserPolicies},
    {"DeleteUserPolicy", false, false, Target::kUser, &RunDeleteUserPolicy},
};

const ActionSpec* FindAction(std::string_view name) {
  for (const ActionSpec& a : kActions) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

bool UsesPolicyArn(std::string_view action) {
  return action == "AttachUserPolicy" || action == "DetachUserPolicy";
}

}  // namespace

QueryApi::QueryApi(IamService* service, const policy::Authorizer* authorizer, FormLimits limits)
    : service_(service), authorizer_(authorizer), limits_(limits) {}

bool QueryApi::IsKnownAction(std::string_view action) { return FindAction(action) != nullptr; }

bool QueryApi::IsReadOnlyAction(std::string_view action) {
  const ActionSpec* spec = FindAction(action);
  return spec != nullptr && spec->read_only;
}

Status QueryApi::Authorize(const QueryCall& call, const std::string& action,
                           const std::string& resource,
                           const std::string& policy_arn_condition) const {
  if (call.principal_arn == RootArn(service_->account_id())) return Status::Ok();
  policy::RequestContext request;
  request.action = "iam:" + action;
  request.resource = resource;
  request.principal_arn = call.principal_arn;
  request.account_id = service_->account_id();
  request.source_ip = call.source_ip;
  request.now_ms = call.now_ms;
  request.secure_transport = call.secure_transport;
  if (!policy_arn_condition.empty()) request.keys["iam:policyarn"] = {policy_arn_condition};
  if (authorizer_ == nullptr) {
    return Status::PermissionDenied(policy::DenialMessage(request, policy::Evaluation{}));
  }
  return authorizer_->Authorize(request, /*resource_policy_json=*/"");
}

QueryResponse QueryApi::Handle(const QueryCall& call, std::string_view form_body) {
  QueryResponse response;
  auto fail = [&](const QueryError& error, const std::string& message) {
    response.http_status = error.http_status;
    response.error_code = error.code;
    response.error_message = message;
    response.body = ErrorXml(error, message, call.request_id);
    return response;
  };
  auto fail_status = [&](const Status& status) {
    QueryError error = ErrorFor(status);
    // Server-side failures keep their detail for the logs (error_message), not for the client.
    std::string message =
        error.sender_fault ? status.message() : "An internal error occurred. Try again later.";
    QueryResponse r = fail(error, message);
    r.error_message = status.message();
    return r;
  };

  Result<FormParams> parsed = ParseForm(form_body, limits_);
  if (!parsed.ok()) return fail_status(parsed.status());
  const FormParams& params = *parsed;

  std::optional<std::string> action_name = params.Get("Action");
  if (!action_name.has_value() || action_name->empty()) {
    return fail(QueryError{400, "MissingAction", true}, "Missing Action");
  }
  response.action = *action_name;
  const std::string version = params.Get("Version").value_or("");
  const ActionSpec* spec = FindAction(*action_name);
  if (spec == nullptr || version != kApiVersion) {
    // Echoed (escaped by ErrorXml), cut short.
    std::string shown = action_name->size() <= 64 ? *action_name : action_name->substr(0, 64);
    return fail(ErrorFor(Status(StatusCode::kUnknownOperation, "")),
                "Could not find operation " + shown + " for version " +
                    (version.empty() ? "NO_VERSION_SPECIFIED" : version));
  }
  response.read_only = spec->read_only;

  // The target, for authorization and the audit record.
  Request request{call, params, *service_, ""};
  std::string resource = "*";
  std::string policy_condition;
  std::optional<PrincipalName> caller =
      ParsePrincipalArn(call.principal_arn, service_->account_id());
  Status target_status = [&]() -> Status {
    switch (spec->target) {
      case Target::kAll:
        return Status::Ok();
      case Target::kUser:
      case Target::kNewUser: {
        COFFER_ASSIGN_OR_RETURN(request.user_name, params.Required("UserName", "userName"));
        if (spec->target == Target::kNewUser) {
          COFFER_RETURN_IF_ERROR(ValidateUserName(request.user_name));
          std::string path = params.Get("Path").value_or("/");
          COFFER_RETURN_IF_ERROR(ValidatePath(path));
          resource = UserArn(service_->account_id(), path, request.user_name);
          return Status::Ok();
        }
        COFFER_RETURN_IF_ERROR(ValidateExistingUserName(request.user_name));
        COFFER_ASSIGN_OR_RETURN(resource, service_->UserArnFor(request.user_name));
        return Status::Ok();
      }
      case Target::kUserOrCaller: {
        if (std::optional<std::string> name = params.Get("UserName")) {
          request.user_name = *name;
          COFFER_RETURN_IF_ERROR(ValidateExistingUserName(request.user_name));
          COFFER_ASSIGN_OR_RETURN(resource, service_->UserArnFor(request.user_name));
          return Status::Ok();
        }
        if (caller.has_value() && caller->kind == "user") {
          request.user_name = caller->name;
          resource = call.principal_arn;
          return Status::Ok();
        }
        if (caller.has_value() && caller->kind == "root" && spec->name == "ListAccessKeys") {
          resource = call.principal_arn;
          return Status::Ok();
        }
        return Status::Validation("Must specify userName when calling with non-User credentials");
      }
      case Target::kPolicy: {
        COFFER_ASSIGN_OR_RETURN(resource, params.Required("PolicyArn", "policyArn"));
        return ValidatePolicyArn(resource);
      }
      case Target::kNewPolicy: {
        COFFER_ASSIGN_OR_RETURN(std::string name, params.Required("PolicyName", "policyName"));
        COFFER_RETURN_IF_ERROR(ValidatePolicyName(name));
        std::string path = params.Get("Path").value_or("/");
        COFFER_RETURN_IF_ERROR(ValidatePolicyPath(path));
        resource = PolicyArn(service_->account_id(), path, name);
        return Status::Ok();
      }
    }
    return Status::Internal("unhandled target");
  }();
  if (target_status.ok() && UsesPolicyArn(spec->name)) {
    Result<std::string> arn = params.Required("PolicyArn", "policyArn");
    target_status = arn.status();
    if (arn.ok()) {
      policy_condition = *arn;
      target_status = ValidatePolicyArn(policy_condition);
    }
  }
  if (resource != "*") response.resources.push_back(resource);
  if (!policy_condition.empty()) response.resources.push_back(policy_condition);
  if (!target_status.ok()) return fail_status(target_status);

  Status allowed = Authorize(call, std::string(spec->name), resource, policy_condition);
  if (!allowed.ok()) return fail_status(allowed);

  const std::string root_name = std::string(spec->name) + "Response";
  XmlWriter xml(root_name, kXmlNamespace);
  if (spec->has_result) xml.Open(std::string(spec->name) + "Result");
  Status ran = spec->run(request, xml);
  if (!ran.ok()) return fail_status(ran);
  if (spec->has_result) xml.Close();
  xml.Open("ResponseMetadata").Element("RequestId", call.request_id).Close();
  response.body = xml.Finish();
  return response;
}

}  // namespace coffer::iam
