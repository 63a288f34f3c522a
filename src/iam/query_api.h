#pragma once

// QueryApi: the IAM Query API (Version 2010-05-08) in front of IamService. The HTTP server hands
// it an authenticated request's form body; it returns the status and XML document to send, plus
// what the audit trail and the metrics need.
//
// Steps: parse the form (iam/query_protocol.h); check Version and Action (InvalidAction,
// MissingAction); validate the parameters the authorization needs; authorize; run the action;
// render `<XResponse><XResult>...</XResult><ResponseMetadata>...` or `<ErrorResponse>`.
//
// Authorization: the account's root user may do everything. Any other principal needs an
// identity policy that allows "iam:<Action>" on the target resource (the user's ARN, the policy's
// ARN, or "*" for ListUsers and ListPolicies), as decided by the policy::Authorizer given; a
// denial is 403 AccessDenied with AWS's message ("User: arn:... is not authorized to perform:
// iam:CreateUser on resource: arn:... because no identity-based policy allows the iam:CreateUser
// action"). AttachUserPolicy and DetachUserPolicy also carry the condition key iam:PolicyARN.
//
// Actions: CreateUser GetUser ListUsers DeleteUser TagUser UntagUser ListUserTags
// CreateAccessKey ListAccessKeys UpdateAccessKey DeleteAccessKey CreatePolicy GetPolicy
// GetPolicyVersion ListPolicies CreatePolicyVersion ListPolicyVersions SetDefaultPolicyVersion
// DeletePolicyVersion DeletePolicy AttachUserPolicy DetachUserPolicy ListAttachedUserPolicies
// PutUserPolicy GetUserPolicy ListUserPolicies DeleteUserPolicy.
//
// Without a UserName, GetUser and the access-key actions act on the calling user; the root user
// must name a user (ListAccessKeys by root without one lists the root user's keys).
//
// SECURITY: the body of a CreateAccessKey response holds the new secret access key. Never log
// response bodies.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "iam/iam_service.h"
#include "iam/query_protocol.h"
#include "policy/policy.h"

namespace coffer::iam {

// Who is calling, as the HTTP layer authenticated it.
struct QueryCall {
  std::string principal_arn;  // from the access key's record
  std::string access_key_id;
  std::string request_id;
  std::string source_ip;  // without port; aws:SourceIp
  bool secure_transport = false;
  std::int64_t now_ms = 0;  // aws:CurrentTime
};

struct QueryResponse {
  int http_status = 200;
  std::string body;    // XML (text/xml)
  std::string action;  // the Action parameter as sent ("" if none)
  // ARNs the call named or touched (user, policy), allowed or denied: for the audit record.
  std::vector<std::string> resources;
  std::string error_code;  // "" on success, else IAM's code ("NoSuchEntity", "AccessDenied", ...)
  std::string error_message;
  bool read_only = false;  // Get* and List* actions
};

class QueryApi {
 public:
  // `authorizer` decides for every principal but the account's root user; not owned.
  QueryApi(IamService* service, const policy::Authorizer* authorizer, FormLimits limits = {});

  QueryResponse Handle(const QueryCall& call, std::string_view form_body);

  // The service behind this API (STS's GetCallerIdentity reads users through it).
  IamService& service() { return *service_; }

  // Whether `action` is a known IAM action of this API and read-only (for audit/metrics callers
  // that have only the name).
  static bool IsKnownAction(std::string_view action);
  static bool IsReadOnlyAction(std::string_view action);

  struct Request;  // one request being handled (query_api.cc)

 private:
  Status Authorize(const QueryCall& call, const std::string& action, const std::string& resource,
                   const std::string& policy_arn_condition) const;

  IamService* service_;
  const policy::Authorizer* authorizer_;
  const FormLimits limits_;
};

}  // namespace coffer::iam
