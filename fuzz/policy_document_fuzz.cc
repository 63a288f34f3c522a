// libFuzzer target: Document::Parse over the input as an identity and as a resource policy, and
// every document that parses evaluated against fixed requests (with the request's principal,
// source IP, time and tag keys all present, and again with them absent). Any crash, sanitizer
// report or broken invariant is a finding: a parse failure whose code is not kMalformedPolicy, a
// message with non-printable bytes or without bound, an empty statement list, a Condition left
// uncompiled, an identity statement with a principal, a resource statement without one, or a
// denial message that lacks the principal and action.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "policy/condition.h"
#include "policy/policy.h"

namespace {

using coffer::Result;
using coffer::Status;
using coffer::StatusCode;
using coffer::policy::Decision;
using coffer::policy::Document;
using coffer::policy::DocumentKind;
using coffer::policy::Evaluation;
using coffer::policy::RequestContext;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckMessage(const Status& status) {
  Check(status.code() == StatusCode::kMalformedPolicy);
  Check(!status.message().empty() && status.message().size() < 1024);
  for (char c : status.message()) Check(c >= 0x20 && c < 0x7f);
}

RequestContext FullRequest() {
  RequestContext r;
  r.action = "secretsmanager:GetSecretValue";
  r.resource =
      "arn:aws:secretsmanager:us-east-1:000000000000:secret:ml-platform/mlflow/database-AbCdEf";
  r.principal_arn = "arn:aws:iam::000000000000:user/fuzz";
  r.account_id = "000000000000";
  r.source_ip = "10.1.2.3";
  r.now_ms = 1717200000000;
  r.secure_transport = true;
  r.keys["secretsmanager:resourcetag/team"] = {"ml"};
  r.keys["secretsmanager:name"] = {"ml-platform/mlflow/database"};
  r.keys["aws:tagkeys"] = {"env", "team"};
  r.keys["aws:requesttag/env"] = {"prod"};
  return r;
}

RequestContext BareRequest() {
  RequestContext r;
  r.action = "secretsmanager:ListSecrets";
  r.resource = "*";
  r.principal_arn = "arn:aws:iam::000000000000:root";
  r.account_id = "000000000000";
  return r;
}

void CheckEvaluation(const RequestContext& request, const Evaluation& evaluation) {
  if (evaluation.decision != Decision::kExplicitDeny) Check(!evaluation.denied_by_resource_policy);
  const std::string message = coffer::policy::DenialMessage(request, evaluation);
  Check(message.starts_with("User: " + request.principal_arn + " is not authorized to perform: " +
                            request.action));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const RequestContext full = FullRequest();
  static const RequestContext bare = BareRequest();

  Result<Document> identity = Document::Parse(input, DocumentKind::kIdentity);
  Result<Document> resource = Document::Parse(input, DocumentKind::kResource);
  if (!identity.ok()) CheckMessage(identity.status());
  if (!resource.ok()) CheckMessage(resource.status());

  const Document* identity_doc = nullptr;
  const Document* resource_doc = nullptr;
  if (identity.ok()) {
    identity_doc = &*identity;
    Check(!identity->statements().empty());
    for (const auto& statement : identity->statements()) {
      Check(statement.principals.empty() && !statement.not_principal);
      Check(!statement.actions.empty() && !statement.resources.empty());
      for (const auto& condition : statement.conditions) Check(condition.compiled);
    }
  }
  if (resource.ok()) {
    resource_doc = &*resource;
    Check(!resource->statements().empty());
    for (const auto& statement : resource->statements()) {
      Check(!statement.principals.empty());
      for (const auto& condition : statement.conditions) Check(condition.compiled);
    }
    (void)resource->AllowsPublicAccess();
  }
  // A document is never both: identity forbids Principal, resource requires it.
  Check(!(identity.ok() && resource.ok()));

  const std::vector<const Document*> identities =
      identity_doc ? std::vector<const Document*>{identity_doc} : std::vector<const Document*>{};
  for (const RequestContext* request : {&full, &bare}) {
    for (bool is_root : {false, true}) {
      const Evaluation e = coffer::policy::Evaluate(*request, identities, resource_doc, is_root);
      CheckEvaluation(*request, e);
      if (is_root) Check(e.decision != Decision::kImplicitDeny);
    }
  }
  return 0;
}
