#pragma once

// IAM policy documents and their evaluation, as AWS does it for one account.
//
//  - Document::Parse checks a JSON policy for real (Version, Statement, Effect, Action/NotAction,
//    Resource/NotResource, Principal/NotPrincipal, Condition) and returns kMalformedPolicy with a
//    message naming the problem.
//  - Evaluate() combines identity policies with one resource policy: an explicit Deny anywhere
//    wins, then an Allow in an identity policy or in a resource policy that names the caller,
//    else the default (implicit) deny.
//  - Authorizer is what services call; PolicyAuthorizer is the IAM-backed implementation, fed by an
//    IdentityPolicySource (src/iam).
//
// Matching follows IAM: actions are case-insensitive with * and ? wildcards ("secretsmanager:Get*");
// resources are case-sensitive ARN patterns with * and ?; condition keys are case-insensitive.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace coffer::policy {

// Identity policies (attached to users/roles) must not have Principal; resource policies
// (PutResourcePolicy) must.
enum class DocumentKind { kIdentity, kResource };

enum class Effect { kAllow, kDeny };

// One Condition entry: operator (with an optional "ForAnyValue:"/"ForAllValues:" set prefix and an
// "IfExists" suffix), key, and the values to compare with. Numbers and booleans in the JSON are
// kept as their JSON text ("5", "true").
struct Condition {
  std::string op;        // as written, e.g. "StringLike", "ForAnyValue:StringEquals"
  std::string key;       // as written, e.g. "aws:SourceIp"; compared case-insensitively
  std::vector<std::string> values;
  // Set by Document::Parse from `op` and `key` so evaluation does no string work on them; a
  // Condition built by hand (compiled == false) is compiled on each use (see condition.h).
  bool compiled = false;
  int op_code = 0;  // internal: see condition.h
  std::string key_lower;
};

struct Statement {
  std::string sid;
  Effect effect = Effect::kAllow;
  bool not_action = false;  // true: `actions` came from NotAction
  std::vector<std::string> actions;
  bool not_resource = false;  // true: `resources` came from NotResource
  std::vector<std::string> resources;
  // Resource policies: principals as ARNs/account ids, or "*"; empty = no Principal element.
  bool not_principal = false;
  std::vector<std::string> principals;
  std::vector<Condition> conditions;
};

class Document {
 public:
  // kMalformedPolicy on any syntax or grammar error (message says which). Accepts "Version"
  // "2012-10-17" or "2008-10-17" (or none), one Statement object or an array of them.
  static Result<Document> Parse(std::string_view json, DocumentKind kind);

  const std::vector<Statement>& statements() const { return statements_; }
  DocumentKind kind() const { return kind_; }
  // Whether some Allow statement grants to "*" (Principal "*", {"AWS":"*"} or any NotPrincipal)
  // without a condition that narrows it: what BlockPublicPolicy and the PUBLIC_POLICY_CHECK
  // reject. A condition narrows when it is a positive operator (StringEquals/Like, ArnEquals/Like,
  // IpAddress, no IfExists, no ForAllValues) on one of aws:PrincipalArn, aws:PrincipalAccount,
  // aws:PrincipalOrgID, aws:PrincipalOrgPaths, aws:SourceIp, aws:SourceVpc, aws:SourceVpce,
  // aws:SourceArn, aws:SourceAccount, aws:SourceOwner, aws:SourceOrgID, aws:SourceOrgPaths,
  // aws:userid or aws:username, and none of its values is all wildcards, an ARN with a wildcard
  // account, or the whole address space (0.0.0.0/0, ::/0).
  bool AllowsPublicAccess() const;

 private:
  DocumentKind kind_ = DocumentKind::kIdentity;
  std::vector<Statement> statements_;
};

// Everything evaluation may look at for one request.
struct RequestContext {
  std::string action;         // "secretsmanager:GetSecretValue"
  std::string resource;       // an ARN, or "*" for account-level actions
  std::string principal_arn;  // "arn:aws:iam::123456789012:user/alice" or ":root"
  std::string account_id;     // the account the resource belongs to
  std::string source_ip;      // aws:SourceIp (without port); empty if unknown
  std::int64_t now_ms = 0;    // aws:CurrentTime / aws:EpochTime
  bool secure_transport = false;  // aws:SecureTransport
  // Further condition keys, lower-cased: "secretsmanager:name", "secretsmanager:resourcetag/team",
  // "aws:requesttag/env", "aws:tagkeys", ... A key that is absent is "not present" (only
  // ...IfExists and Null match). Multi-valued keys (aws:TagKeys) hold several values.
  std::map<std::string, std::vector<std::string>> keys;
};

enum class Decision { kAllow, kExplicitDeny, kImplicitDeny };

struct Evaluation {
  Decision decision = Decision::kImplicitDeny;
  // For kExplicitDeny: whether the deny came from the resource policy (else identity).
  bool denied_by_resource_policy = false;
};

// AWS's same-account logic. `resource_policy` may be null. `is_root` principals are allowed by
// their identity (no identity policy needed) but still lose to an explicit Deny in the resource
// policy.
//
// A statement matches when its action list matches (NotAction: none of the listed patterns
// matches), its resource list matches likewise, and every condition holds. In a resource policy
// the principal must match too:
//  - "*" (or {"AWS":"*"}) and the caller's exact ARN match, for Allow and Deny alike;
//  - an account ("123456789012" or "arn:aws:iam::123456789012:root") matches every caller of that
//    account for Deny, but for Allow it only delegates to the account's own IAM policies, as AWS
//    does: it grants nothing by itself (it does grant the root user of that account);
//  - NotPrincipal applies to every caller not listed (listed: exact ARN, or the account when the
//    caller is that account's root); an Allow with NotPrincipal grants.
// Denies are looked for in identity policies first, then in the resource policy.
Evaluation Evaluate(const RequestContext& request, const std::vector<const Document*>& identity,
                    const Document* resource_policy, bool is_root);

// Whether `statement` (from a document of `kind`) applies to `request`: what Evaluate() uses.
// For resource statements the principal is read as above, by the statement's Effect.
bool StatementMatches(const Statement& statement, DocumentKind kind, const RequestContext& request);

// AWS's AccessDeniedException message for `request` and `evaluation` (" on resource: <arn>" is
// left out when the resource is "*" or empty, as AWS does for account-level actions), e.g.
// "User: arn:aws:iam::1:user/a is not authorized to perform: secretsmanager:GetSecretValue on
// resource: arn:... because no identity-based policy allows the secretsmanager:GetSecretValue
// action".
std::string DenialMessage(const RequestContext& request, const Evaluation& evaluation);

// The policies attached to a principal, compiled once and shared until they change.
struct PrincipalPolicies {
  bool is_root = false;
  bool exists = true;  // false: the principal is unknown (e.g. a user deleted after signing)
  std::vector<std::shared_ptr<const Document>> documents;
};

// Evaluate() for policies as an IdentityPolicySource hands them out (no pointer vector to build;
// null documents are skipped). `principal.exists` is not looked at: callers deny unknown
// principals before evaluating.
Evaluation EvaluatePrincipal(const RequestContext& request, const PrincipalPolicies& principal,
                             const Document* resource_policy);

// Where identity policies come from (src/iam implements it). Thread-safe.
class IdentityPolicySource {
 public:
  virtual ~IdentityPolicySource() = default;
  virtual Result<std::shared_ptr<const PrincipalPolicies>> PoliciesFor(
      const std::string& principal_arn) = 0;
};

// What services call before acting. Thread-safe.
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // OK, or kPermissionDenied (AccessDeniedException) with DenialMessage(). `resource_policy_json`
  // is the resource's policy document as stored (empty: none).
  virtual Status Authorize(const RequestContext& request,
                           std::string_view resource_policy_json) const = 0;
};

// Allows everything: for unit tests of services and for tools that run with full rights.
class AllowAllAuthorizer : public Authorizer {
 public:
  Status Authorize(const RequestContext&, std::string_view) const override { return Status::Ok(); }
};

}  // namespace coffer::policy
